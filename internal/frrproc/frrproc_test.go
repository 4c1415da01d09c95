package frrproc

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const initialConfig = `frr defaults traditional
!
router bgp 64512
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 address-family ipv4 unicast
  network 198.51.100.1/32
 exit-address-family
exit
!
`

func TestStartLoadsConfigAndStopCleansUp(t *testing.T) {
	SkipUnlessRoot(t)
	ns := NewTestNetns(t)
	name := UniqueName("ilbt")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	f, err := Start(ctx, Config{Name: name, Netns: ns, InitialConfig: []byte(initialConfig)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = f.Stop()
		}
	})

	out, err := f.Vtysh(ctx, "show running-config")
	if err != nil {
		t.Fatalf("show running-config: %v", err)
	}
	for _, want := range []string{"router bgp 64512", "network 198.51.100.1/32"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("running config lacks %q:\n%s", want, out)
		}
	}

	var table struct {
		RouterID string `json:"routerId"`
		LocalAS  int64  `json:"localAS"`
	}
	if err := f.VtyshJSON(ctx, "show bgp ipv4 unicast json", &table); err != nil {
		t.Fatalf("VtyshJSON: %v", err)
	}
	if table.RouterID != "192.0.2.1" || table.LocalAS != 64512 {
		t.Errorf("bgp table = %+v, want router id 192.0.2.1 and AS 64512", table)
	}

	// A failing command returns FRR's message.
	_, err = f.Vtysh(ctx, "configure terminal", "router bgp 64512", "neighbor foo remote-as 1")
	if err == nil || !strings.Contains(err.Error(), "peer-group") {
		t.Errorf("bad command error = %v, want FRR's message about the peer-group", err)
	}

	// The daemons run inside the namespace: bgpd listens on 179 there.
	if err := IP(ctx, "netns", "exec", ns, "true"); err != nil {
		t.Fatal(err)
	}

	dir := f.Dir()
	if err := f.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped = true
	for _, p := range []string{f.ConfDir(), filepath.Join("/var/run/frr", name), dir} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after Stop (stat err %v)", p, err)
		}
	}
	if err := f.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestTwoSideBySide(t *testing.T) {
	a := StartTest(t, Config{InitialConfig: []byte("router bgp 64512\n bgp router-id 192.0.2.1\nexit\n")})
	b := StartTest(t, Config{InitialConfig: []byte("router bgp 64513\n bgp router-id 192.0.2.2\nexit\n")})
	ctx := t.Context()
	for _, tc := range []struct {
		f    *FRR
		want string
	}{{a, "router bgp 64512"}, {b, "router bgp 64513"}} {
		out, err := tc.f.Vtysh(ctx, "show running-config bgpd")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: running config lacks %q:\n%s", tc.f.Name(), tc.want, out)
		}
	}
}

func TestStartFailsOnBadConfigAndCleansUp(t *testing.T) {
	SkipUnlessRoot(t)
	ns := NewTestNetns(t)
	name := UniqueName("ilbt")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := Start(ctx, Config{Name: name, Netns: ns, Daemons: []string{"bgpd"},
		InitialConfig: []byte("router bgp 64512\n neighbor 192.0.2.9 remote-as bogus\nexit\n")})
	if err == nil || !strings.Contains(err.Error(), "Unknown command") {
		t.Fatalf("Start error = %v, want one carrying FRR's message", err)
	}
	for _, p := range []string{filepath.Join("/etc/frr", name), filepath.Join("/var/run/frr", name)} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after failed Start (stat err %v)", p, err)
		}
	}
}

func TestStartRejectsLivePathspace(t *testing.T) {
	a := StartTest(t, Config{Daemons: []string{"zebra"}})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := Start(ctx, Config{Name: a.Name(), Netns: a.Netns(), Daemons: []string{"zebra"}})
	if err == nil || !strings.Contains(err.Error(), "already answer") {
		t.Fatalf("Start on a live pathspace: err = %v, want it refused", err)
	}
	// The refused Start must not have removed the live FRR's files.
	if _, err := a.Vtysh(ctx, "show version"); err != nil {
		t.Errorf("first FRR broken after refused Start: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty name", Config{Netns: "x"}, "pathspace name"},
		{"slash in name", Config{Name: "a/b", Netns: "x"}, "pathspace name"},
		{"dots", Config{Name: "..", Netns: "x"}, "pathspace name"},
		{"no netns", Config{Name: "a"}, "netns"},
		{"missing netns", Config{Name: "a", Netns: "ilbt-does-not-exist"}, "ilbt-does-not-exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.withDefaults().validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestVethLinksNamespaces(t *testing.T) {
	SkipUnlessRoot(t)
	a, b := NewTestNetns(t), NewTestNetns(t)
	ctx := t.Context()
	if err := Veth(ctx, a, "va", "192.0.2.1/24", b, "vb", "192.0.2.2/24"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, "ip", "-n", b, "-br", "addr", "show", "dev", "vb").CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr show: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "192.0.2.2/24") || !strings.Contains(string(out), "UP") {
		t.Errorf("vb in %s = %q, want it up with 192.0.2.2/24", b, out)
	}
}

// TestRespawnRestartsACrashedDaemon kills bgpd and expects a new bgpd,
// without config, answering in the same pathspace; Stop then ends it.
func TestRespawnRestartsACrashedDaemon(t *testing.T) {
	f := StartTest(t, Config{Respawn: true, InitialConfig: []byte(initialConfig)})
	ctx := t.Context()
	old := f.Pid("bgpd")
	if old == 0 {
		t.Fatal("no bgpd pid")
	}
	if err := f.Kill("bgpd"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		pid := f.Pid("bgpd")
		out, err := f.Vtysh(ctx, "show running-config bgpd")
		if pid != old && err == nil {
			if strings.Contains(string(out), "router bgp") {
				t.Errorf("respawned bgpd runs a config it was never given:\n%s", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bgpd not back after a kill: pid %d (was %d), vtysh: %v", pid, old, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid := f.Pid("bgpd")
	if err := f.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("respawned bgpd %d still alive after Stop (kill 0: %v)", pid, err)
	}
}
