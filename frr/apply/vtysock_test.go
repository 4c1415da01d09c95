package apply

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/internal/frrproc"
)

// routeMapSamples holds a command for each entry of routeMapLines, so
// that TestVtySockMatchesVtysh sends every one of them.
var routeMapSamples = map[string]string{
	"match tag":                      "match tag 2",
	"set tag":                        "set tag 1",
	"match ip address":               "match ip address prefix-list pl",
	"match ipv6 address prefix-list": "match ipv6 address prefix-list pl6",
	"match ip next-hop prefix-list":  "match ip next-hop prefix-list pl",
	"match interface":                "match interface eth0",
	"match metric":                   "match metric 5",
	"set metric":                     "set metric 10",
	"set ip next-hop":                "set ip next-hop 192.0.2.1",
	"description":                    "description one entry",
	"on-match":                       "on-match next",
	"call":                           "call other",
	"match community":                "match community cl",
	"match large-community":          "match large-community lcl",
	"match as-path":                  "match as-path al",
	"set community":                  "set community 64512:1 additive",
	"set large-community":            "set large-community 64512:1:1 additive",
	"set local-preference":           "set local-preference 200",
	"set weight":                     "set weight 10",
	"set origin":                     "set origin igp",
	"set as-path prepend":            "set as-path prepend 64512",
	"set ipv6 next-hop global":       "set ipv6 next-hop global 2001:db8::1",
	"set extcommunity rt":            "set extcommunity rt 64512:1",
	"match source-protocol":          "match source-protocol bgp",
	"set src":                        "set src 192.0.2.1",
}

// dispatchScripts use every kind of command plan knows, adding and then
// removing.
func dispatchScripts(t *testing.T) []string {
	t.Helper()
	var rm strings.Builder
	rm.WriteString("route-map rm permit 1\n")
	for _, c := range routeMapLines {
		sample, ok := routeMapSamples[c.words]
		if !ok {
			t.Fatalf("routeMapSamples lacks %q", c.words)
		}
		rm.WriteString(" " + sample + "\n")
	}
	rm.WriteString("exit\n")
	return []string{
		`ip prefix-list pl seq 5 permit 198.51.100.0/24
ipv6 prefix-list pl6 seq 5 permit 2001:db8::/32
bgp community-list standard cl seq 5 permit 64512:100
bgp large-community-list standard lcl seq 5 permit 64512:1:1
bgp extcommunity-list standard ecl seq 5 permit rt 64512:1
bgp as-path access-list al seq 5 permit ^$
route-map other deny 2
exit
` + rm.String() + `bfd
 profile p1
  detect-multiplier 5
  receive-interval 100
 exit
 peer 192.0.2.2
  profile p1
 exit
exit
router bgp 64512
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 neighbor 192.0.2.2 remote-as 64513
 neighbor 192.0.2.2 bfd
 neighbor 192.0.2.2 bfd profile p1
 address-family ipv4 unicast
  network 198.51.100.1/32 route-map rm
  neighbor 192.0.2.2 route-map rm out
 exit-address-family
exit
router bgp 64530 vrf blue
 bgp router-id 192.0.2.1
exit
`,
		`route-map rm permit 1
 no set tag 1
 no set community 64512:1 additive
 no match source-protocol bgp
exit
no route-map other deny 2
no ip prefix-list pl seq 5 permit 198.51.100.0/24
no bgp community-list standard cl seq 5 permit 64512:100
bfd
 peer 192.0.2.2
  no profile p1
 exit
 no profile p1
exit
no router bgp 64530 vrf blue
router bgp 64512
 address-family ipv4 unicast
  no network 198.51.100.1/32 route-map rm
 exit-address-family
exit
`,
	}
}

// daemonConfigs returns each daemon's own running config, read from its
// socket, without the comment lines that name the pathspace's files.
func daemonConfigs(t *testing.T, f *frrproc.FRR) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range daemonOrder {
		sock := filepath.Join("/var/run/frr", f.Name(), d.name+".vty")
		if _, err := os.Stat(sock); errors.Is(err, os.ErrNotExist) && d.set == mgmtd {
			continue // FRR before 9 has no mgmtd
		}
		nc, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c := &vtyConn{c: nc, r: bufio.NewReader(nc)}
		var text []byte
		for _, cmd := range []string{"enable", showRunning} {
			var status byte
			if text, status, err = c.do(t.Context(), cmd); err != nil || status != cmdSuccess {
				t.Fatalf("%s: %q: status %d, %v", d.name, cmd, status, err)
			}
		}
		nc.Close()
		for l := range strings.Lines(string(text)) {
			if !strings.HasPrefix(l, "! ") {
				out[d.name] = append(out[d.name], strings.TrimRight(l, "\n"))
			}
		}
	}
	return out
}

// TestVtySockMatchesVtysh sends the same scripts to two FRRs, through
// vtysh and through VtySock, and compares every daemon's own running
// config: a command that plan sends to too few daemons, or to too many,
// shows up here.
func TestVtySockMatchesVtysh(t *testing.T) {
	viaVtysh := frrproc.StartTest(t, frrproc.Config{})
	viaSock := frrproc.StartTest(t, frrproc.Config{})
	vtysh := Vtysh{Pathspace: viaVtysh.Name()}
	sock := newVTY(t, viaSock, "vtysock")
	for i, script := range dispatchScripts(t) {
		if out, err := vtysh.Exec(t.Context(), []byte(script), ""); err != nil {
			t.Fatalf("script %d through vtysh: %v\n%s", i, err, out)
		}
		if out, err := sock.Exec(t.Context(), []byte(script), ""); err != nil {
			t.Fatalf("script %d through VtySock: %v\n%s", i, err, out)
		}
		if diff := cmp.Diff(daemonConfigs(t, viaVtysh), daemonConfigs(t, viaSock)); diff != "" {
			t.Errorf("after script %d the daemons' configs differ (-vtysh +VtySock):\n%s", i, diff)
		}
	}
}

func TestVtySockRefusedCommand(t *testing.T) {
	f := frrproc.StartTest(t, frrproc.Config{InitialConfig: []byte("router bgp 64512\n no bgp network import-check\nexit\n")})
	s := newVTY(t, f, "vtysock")
	ctx := t.Context()
	script := "router bgp 64512\n address-family ipv4 unicast\n  network 198.51.100.1/32\n exit-address-family\n" +
		" neighbor 192.0.2.9 timers 3 9\n address-family ipv4 unicast\n  network 198.51.100.2/32\n exit-address-family\nexit\n"
	_, err := s.Exec(ctx, []byte(script), showRunning)
	if err == nil || !strings.Contains(err.Error(), "Specify remote-as or peer-group commands first") {
		t.Fatalf("Exec = %v, want bgpd's message for the neighbor of no remote-as", err)
	}
	// What came before the refused command is applied, what came after
	// is not, and the connection is usable: bgpd left config mode.
	out, err := s.Exec(ctx, []byte("router bgp 64512\n address-family ipv4 unicast\n  network 198.51.100.3/32\n exit-address-family\nexit\n"), showRunning)
	if err != nil {
		t.Fatalf("Exec after a refusal: %v", err)
	}
	var got []string
	for l := range strings.Lines(string(out)) {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "network ") {
			got = append(got, l)
		}
	}
	want := []string{"network 198.51.100.1/32", "network 198.51.100.3/32"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("networks (-want +got):\n%s", diff)
	}
}

func TestVtySockReconnectsAfterRestart(t *testing.T) {
	cfg := frrproc.Config{Name: frrproc.UniqueName("ilbt"), Netns: frrproc.NewTestNetns(t)}
	f := frrproc.StartTest(t, cfg)
	s := newVTY(t, f, "vtysock")
	ctx := t.Context()
	if _, err := s.Exec(ctx, []byte(addNetwork), ""); err != nil {
		t.Fatal(err)
	}
	// All daemons restart; the VtySock still holds connections to the old
	// ones.
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	f = frrproc.StartTest(t, cfg)
	out, err := s.Exec(ctx, []byte(addNetwork), showRunning)
	if err != nil {
		t.Fatalf("Exec after the restart: %v", err)
	}
	if !strings.Contains(string(out), "network 198.51.100.1/32") {
		t.Errorf("the restarted bgpd does not show the network:\n%s", out)
	}
}

// TestVtySockConcurrent runs Execs from several goroutines, with Close
// in between, against one FRR (go test -race checks the rest).
func TestVtySockConcurrent(t *testing.T) {
	f := frrproc.StartTest(t, frrproc.Config{InitialConfig: []byte("router bgp 64512\n no bgp network import-check\nexit\n")})
	s := newVTY(t, f, "vtysock").(*VtySock)
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				script := fmt.Sprintf("router bgp 64512\n address-family ipv4 unicast\n  network 198.51.100.%d/32\n exit-address-family\nexit\n", w*each+i)
				show := ""
				if i%3 == 0 {
					show = showRunning
				}
				if _, err := s.Exec(t.Context(), []byte(script), show); err != nil {
					errs <- err
				}
				if i == each/2 {
					if err := s.Close(); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var got []string
	for _, n := range running(t, f).Root.child("router bgp 64512").child("address-family ipv4 unicast").Children {
		got = append(got, n.Line)
	}
	var want []string
	for i := range workers * each {
		want = append(want, fmt.Sprintf("network 198.51.100.%d/32", i))
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("networks (-want +got):\n%s", diff)
	}
}
