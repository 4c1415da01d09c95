package agent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/internal/frrproc"
)

const agentConfig = `frr defaults traditional
router bgp 64512
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.0.2.9 remote-as 64514
 neighbor 192.0.2.9 bfd
 address-family ipv4 unicast
  network 198.51.100.10/32
 exit-address-family
exit
`

func TestAgentRealFRR(t *testing.T) {
	f := frrproc.StartTest(t, frrproc.Config{})
	vty := apply.Vtysh{Pathspace: f.Name()}
	// The neighbor never answers: the first config's BFD line follows
	// after RestoreWait (bfdhold.go).
	s, err := New(Config{Socket: socketPath(t), RestoreWait: 200 * time.Millisecond}, apply.New(vty, apply.Options{}), vty)
	if err != nil {
		t.Fatal(err)
	}
	c := runServer(t, s)
	ctx := t.Context()

	res, err := c.Apply(ctx, []byte(agentConfig))
	if err != nil || res.Path != apply.PathFull {
		t.Fatalf("first Apply = %+v, %v; want a full apply", res, err)
	}
	more := strings.Replace(agentConfig, "  network 198.51.100.10/32\n", "  network 198.51.100.10/32\n  network 198.51.100.11/32\n", 1)
	res, err = c.Apply(ctx, []byte(more))
	if err != nil || res.Path != apply.PathFast {
		t.Fatalf("second Apply = %+v, %v; want the fast path", res, err)
	}
	out, err := f.Vtysh(ctx, "show running-config bgpd")
	if err != nil || !strings.Contains(string(out), "network 198.51.100.11/32") {
		t.Fatalf("running config lacks the new network (%v):\n%s", err, out)
	}
	// The running config as the agent serves it (FRRNodeState's).
	running, err := c.RunningConfig(ctx)
	if err != nil || !strings.Contains(running, "network 198.51.100.11/32") || !strings.Contains(running, "router bgp") {
		t.Fatalf("RunningConfig = %v:\n%s", err, running)
	}

	var st Status
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err = c.Status(ctx); err != nil {
			t.Fatal(err)
		}
		if len(st.BFDPeers) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(st.Errors) != 0 || len(st.Sessions) != 1 || st.Sessions[0].Address != "192.0.2.9" || st.Sessions[0].RemoteAS != 64514 || st.Sessions[0].VRF != "default" {
		t.Errorf("status sessions = %+v (errors %v), want neighbor 192.0.2.9 of AS 64514 in the default VRF", st.Sessions, st.Errors)
	}
	if len(st.BFDCounters) != 1 || st.BFDCounters[0].Peer != "192.0.2.9" {
		t.Errorf("status bfd counters = %+v, want 192.0.2.9's", st.BFDCounters)
	}
	if len(st.BFDPeers) != 1 || st.BFDPeers[0].Peer != "192.0.2.9" || st.BFDPeers[0].Up() {
		t.Errorf("status bfd peers = %+v, want 192.0.2.9 not up", st.BFDPeers)
	}
	if st.LastApply == nil || st.LastApply.Result.Path != apply.PathFast {
		t.Errorf("status last apply = %+v, want the fast one", st.LastApply)
	}

	// A config FRR refuses: a typed failure with FRR's message, and the
	// agent goes on serving.
	bad := strings.Replace(more, " neighbor 192.0.2.9 bfd\n", " neighbor 192.0.2.9 bfd\n neighbor 192.0.2.9 frobnicate\n", 1)
	res, err = c.Apply(ctx, []byte(bad))
	var ae *apply.Error
	if !errors.As(err, &ae) || ae.Stage != apply.StageReload || !strings.Contains(ae.Message, "frobnicate") {
		t.Fatalf("bad Apply err = %v, want an *apply.Error at stage reload naming the bad line", err)
	}
	if res.FastFailure == nil || !strings.Contains(res.FastFailure.Message, "Unknown command") {
		t.Errorf("bad Apply fast failure = %+v, want vtysh's 'Unknown command'", res.FastFailure)
	}
	if err := c.Healthz(ctx); err != nil {
		t.Fatalf("agent unhealthy after a bad config: %v", err)
	}
	if !res.RolledBack {
		t.Errorf("bad Apply result %+v: not rolled back to the last good config", res)
	}
	less := strings.Replace(more, "  network 198.51.100.11/32\n", "", 1)
	res, err = c.Apply(ctx, []byte(less))
	if err != nil || res.Path != apply.PathFast {
		t.Fatalf("Apply after the bad one = %+v, %v; want the fast path from the rolled back config", res, err)
	}
}
