package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/internal/frrproc"
	"github.com/ironlb/ironlb/internal/testenv"
)

func TestPidFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		want    map[string]string
		wantErr bool
	}{
		{name: "none", wantErr: true},
		{name: "only watchfrr", files: map[string]string{"watchfrr.pid": "9"}, wantErr: true},
		{
			name:  "daemons",
			files: map[string]string{"zebra.pid": "10\n", "bgpd.pid": "12\n", "bfdd.pid": "11", "bgpd.vty": "", "watchfrr.pid": "9"},
			want:  map[string]string{"zebra": "10", "bgpd": "12", "bfdd": "11"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, data := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := PidFiles{Dir: dir}.PIDs()
			if (err != nil) != tc.wantErr {
				t.Fatalf("PIDs() error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PIDs() (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeDaemons returns the pid sets it is given, one per call, then the
// last one again.
type fakeDaemons struct {
	mu   sync.Mutex
	seen []map[string]string
}

func (f *fakeDaemons) PIDs() (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.seen[0]
	if len(f.seen) > 1 {
		f.seen = f.seen[1:]
	}
	if next == nil {
		return nil, errors.New("no pid files")
	}
	return next, nil
}

// fakeLoader records the daemons it loaded.
// fakeLoader records the daemons it loaded into, and what bgpd got.
type fakeLoader struct {
	loaded []string
	bgpd   []string
}

func (f *fakeLoader) Load(_ context.Context, config []byte, daemon string) ([]byte, error) {
	f.loaded = append(f.loaded, daemon)
	if daemon == "bgpd" {
		f.bgpd = append(f.bgpd, string(config))
	}
	return nil, nil
}

func TestCheckRestart(t *testing.T) {
	a := map[string]string{"zebra": "1", "bgpd": "2", "bfdd": "3"}
	b := map[string]string{"zebra": "1", "bgpd": "7", "bfdd": "3"}
	c := map[string]string{"zebra": "8", "bgpd": "9", "bfdd": "3"}
	d := map[string]string{"zebra": "1", "bgpd": "2", "bfdd": "4"}
	e := map[string]string{"zebra": "1", "bgpd": "5", "bfdd": "6"}
	const withBFD = "router bgp 64512\n neighbor 192.0.2.1 remote-as 64500\n neighbor 192.0.2.1 bfd profile lab\nexit\n"
	for _, tc := range []struct {
		name       string
		seen       []map[string]string
		noDesired  bool
		desired    string
		wantLoads  []string
		wantBGPD   []string
		reconciles int
	}{
		// bgpd keeps its BFD lines but may not register them with the new
		// bfdd: they are taken away, and the reconcile adds them back.
		{
			name: "bfdd restarted alone", seen: []map[string]string{a, d}, desired: withBFD,
			wantLoads: []string{"bfdd", "bgpd"}, wantBGPD: []string{"router bgp 64512\n no neighbor 192.0.2.1 bfd\nexit\n"}, reconciles: 1,
		},
		// A new bgpd is loaded without BFD lines anyway.
		{
			name: "bfdd and bgpd restarted", seen: []map[string]string{a, e}, desired: withBFD,
			wantLoads: []string{"bfdd", "bgpd"}, wantBGPD: []string{"router bgp 64512\n neighbor 192.0.2.1 remote-as 64500\nexit\n!\n"}, reconciles: 1,
		},
		{name: "bfdd restarted, no BFD in the config", seen: []map[string]string{a, d}, wantLoads: []string{"bfdd"}, reconciles: 1},
		{name: "same daemons", seen: []map[string]string{a, a, a}},
		{name: "bgpd restarted", seen: []map[string]string{a, b, b}, wantLoads: []string{"bgpd"}, reconciles: 1},
		{name: "two restarts", seen: []map[string]string{a, b, c}, wantLoads: []string{"bgpd", "bgpd", "zebra"}, reconciles: 2},
		{name: "nothing applied yet", seen: []map[string]string{a, b}, noDesired: true},
		{name: "unreadable pid files", seen: []map[string]string{nil, nil}},
		{name: "unreadable, then a restart", seen: []map[string]string{a, nil, b}, wantLoads: []string{"bgpd"}, reconciles: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := &fakeApplier{}
			switch {
			case tc.desired != "":
				fa.applied = []string{tc.desired}
			case !tc.noDesired:
				fa.applied = []string{"router bgp 64512\n"}
			}
			fl := &fakeLoader{}
			s, err := New(Config{Socket: "unused", Loader: fl, RestoreWait: 10 * time.Millisecond}, fa, &fakeShower{})
			if err != nil {
				t.Fatal(err)
			}
			w := &restartWatch{daemons: &fakeDaemons{seen: tc.seen}}
			for range tc.seen {
				s.checkRestart(t.Context(), w)
			}
			if diff := cmp.Diff(tc.wantLoads, fl.loaded); diff != "" {
				t.Errorf("loaded daemons (-want +got):\n%s", diff)
			}
			if tc.wantBGPD != nil {
				if diff := cmp.Diff(tc.wantBGPD, fl.bgpd); diff != "" {
					t.Errorf("loaded into bgpd (-want +got):\n%s", diff)
				}
			}
			if fa.reconciles != tc.reconciles {
				t.Errorf("reconciles = %d, want %d", fa.reconciles, tc.reconciles)
			}
		})
	}
}

// restartConfig announces a network through a route-map: after a bgpd
// restart, frr-reload.py alone would not give bgpd the route-map back
// (zebra still shows it, and an entry without set clauses looks the
// same in both), and the network would stay out of the table.
const restartConfig = `frr defaults traditional
router bgp 64512
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.0.2.9 remote-as 64514
 address-family ipv4 unicast
  network 198.51.100.10/32 route-map adv
 exit-address-family
exit
!
route-map adv permit 1
exit
`

// TestAgentReappliesAfterBGPDRestart kills bgpd of a real FRR that
// respawns it (as watchfrr does) and expects the agent, unasked, to put
// the last config back so that the network is in bgpd's table again.
func TestAgentReappliesAfterBGPDRestart(t *testing.T) {
	f := frrproc.StartTest(t, frrproc.Config{Respawn: true})
	vty := apply.Vtysh{Pathspace: f.Name()}
	s, err := New(Config{
		Socket:               socketPath(t),
		Daemons:              PidFiles{Dir: RunDir(f.Name())},
		Loader:               vty,
		RestartCheckInterval: 100 * time.Millisecond,
		// The peer never answers: the restore waits this long for it.
		RestoreWait: time.Second,
	}, apply.New(vty, apply.Options{}), vty)
	if err != nil {
		t.Fatal(err)
	}
	c := runServer(t, s)
	ctx := t.Context()
	if _, err := c.Apply(ctx, []byte(restartConfig)); err != nil {
		t.Fatal(err)
	}
	announced := func() (bool, string) {
		ctx := t.Context()
		var table struct {
			Routes map[string]json.RawMessage `json:"routes"`
		}
		if err := f.VtyshJSON(ctx, "show bgp ipv4 unicast json", &table); err != nil {
			return false, err.Error()
		}
		_, ok := table.Routes["198.51.100.10/32"]
		return ok, fmt.Sprintf("routes %v", slices.Collect(maps.Keys(table.Routes)))
	}
	testenv.Eventually(t, "the network in bgpd's table", announced)
	old := f.Pid("bgpd")
	if err := f.Kill("bgpd"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a reapply after the restart", func() (bool, string) {
		ctx := t.Context()
		st, err := c.Status(ctx)
		if err != nil {
			return false, err.Error()
		}
		return f.Pid("bgpd") != old && st.LastResync != nil, fmt.Sprintf("bgpd %d, last resync %+v", f.Pid("bgpd"), st.LastResync)
	})
	testenv.Eventually(t, "the network back in the restarted bgpd's table", announced)
}
