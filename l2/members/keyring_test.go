package members

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestKeyOps(t *testing.T) {
	a, b, c := KeyFromSecret([]byte("a")), KeyFromSecret([]byte("b")), KeyFromSecret([]byte("c"))
	tests := []struct {
		name       string
		have, want Keys
		wantOps    []KeyOp
	}{
		{name: "same keys", have: Keys{Primary: a, Extra: [][]byte{b}}, want: Keys{Primary: a, Extra: [][]byte{b}}},
		{name: "same keys in another order of the extras", have: Keys{Primary: a, Extra: [][]byte{b, c}}, want: Keys{Primary: a, Extra: [][]byte{c, b}}},
		{
			name: "rotation step 1: install the new key", have: Keys{Primary: a}, want: Keys{Primary: a, Extra: [][]byte{b}},
			wantOps: []KeyOp{{KeyAdd, b}},
		},
		{
			name: "rotation step 2: use the new key", have: Keys{Primary: a, Extra: [][]byte{b}}, want: Keys{Primary: b, Extra: [][]byte{a}},
			wantOps: []KeyOp{{KeyUse, b}},
		},
		{
			name: "rotation step 3: remove the old key", have: Keys{Primary: b, Extra: [][]byte{a}}, want: Keys{Primary: b},
			wantOps: []KeyOp{{KeyRemove, a}},
		},
		{
			// A member that missed step 2 (or all of them): still in the
			// safe order, add before use before remove.
			name: "steps 1 and 2 at once", have: Keys{Primary: a}, want: Keys{Primary: b, Extra: [][]byte{a}},
			wantOps: []KeyOp{{KeyAdd, b}, {KeyUse, b}},
		},
		{
			name: "the whole rotation at once", have: Keys{Primary: a}, want: Keys{Primary: b},
			wantOps: []KeyOp{{KeyAdd, b}, {KeyUse, b}, {KeyRemove, a}},
		},
		{
			name: "an extra key replaced", have: Keys{Primary: a, Extra: [][]byte{b}}, want: Keys{Primary: a, Extra: [][]byte{c}},
			wantOps: []KeyOp{{KeyAdd, c}, {KeyRemove, b}},
		},
		{
			name: "a key listed twice is added once", have: Keys{Primary: a}, want: Keys{Primary: b, Extra: [][]byte{b, c, c}},
			wantOps: []KeyOp{{KeyAdd, b}, {KeyAdd, c}, {KeyUse, b}, {KeyRemove, a}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := KeyOps(tt.have, tt.want)
			if diff := cmp.Diff(tt.wantOps, got); diff != "" {
				t.Errorf("KeyOps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetKeysErrors(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	tests := []struct {
		name string
		cfg  Config
		keys Keys
		want string
	}{
		{name: "no primary", cfg: Config{SecretKey: key}, keys: Keys{Extra: [][]byte{key}}, want: "the primary key is required"},
		{name: "short extra key", cfg: Config{SecretKey: key}, keys: Keys{Primary: key, Extra: [][]byte{[]byte("short")}}, want: "key 1 has 5 bytes"},
		{name: "insecure member", cfg: Config{AllowInsecure: true}, keys: Keys{Primary: key}, want: "runs without encryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Node, cfg.BindAddr = "n1", "127.0.0.1"
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			defer func() {
				if err := m.Run(ctx); err != nil {
					t.Errorf("Run = %v", err)
				}
			}()
			before := m.Keys()
			if _, err := m.SetKeys(tt.keys); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SetKeys = %v, want an error containing %q", err, tt.want)
			}
			if diff := cmp.Diff(before, m.Keys()); diff != "" {
				t.Errorf("a refused SetKeys changed the keys (-before +after):\n%s", diff)
			}
		})
	}
	for _, cfg := range []Config{
		{Node: "n1", ExtraKeys: [][]byte{key}},
		{Node: "n1", SecretKey: key, ExtraKeys: [][]byte{[]byte("short")}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
}

// rollingMember is a running member that remembers every member any of
// its views reported failed.
type rollingMember struct {
	*Members
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	view   View
	failed []string
}

func startRolling(t *testing.T, name, addr string, keys Keys, join ...*rollingMember) *rollingMember {
	t.Helper()
	m := &rollingMember{done: make(chan error, 1)}
	cfg := Config{
		Node: name, BindAddr: addr, SecretKey: keys.Primary, ExtraKeys: keys.Extra,
		Logger: slog.New(slog.DiscardHandler),
		OnChange: func(v View) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.view = v
			m.failed = append(m.failed, v.Failed...)
		},
		RejoinInterval: 200 * time.Millisecond,
	}
	for _, j := range join {
		cfg.Join = append(cfg.Join, j.Addr().String())
	}
	ms, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	m.Members = ms
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() { m.done <- ms.Run(ctx) }()
	t.Cleanup(func() {
		m.cancel()
		if err := <-m.done; err != nil {
			t.Errorf("%s: Run = %v", name, err)
		}
	})
	return m
}

func (m *rollingMember) latest() (View, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.view, slices.Clone(m.failed)
}

// TestKeyRotation rolls a new key to three members, one member at a
// time, in the three steps of Keys. After each member's step, every
// member publishes new metadata and waits until every other one has it:
// the broadcasts, encrypted with each member's primary key of the
// moment, are decrypted by all. No member is ever seen failed; at the
// end the old key is refused and the new one admitted.
func TestKeyRotation(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	oldKey, newKey := KeyFromSecret([]byte("old")), KeyFromSecret([]byte("new"))
	m1 := startRolling(t, "n1", "127.0.0.1", Keys{Primary: oldKey})
	m2 := startRolling(t, "n2", "127.0.0.2", Keys{Primary: oldKey}, m1)
	m3 := startRolling(t, "n3", "127.0.0.3", Keys{Primary: oldKey}, m1)
	all := []*rollingMember{m1, m2, m3}
	round := 0
	exchange := func(what string) {
		t.Helper()
		round++
		for _, m := range all {
			if err := m.SetMeta(fmt.Appendf(nil, "%s %d", m.cfg.Node, round)); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range all {
			eventually(t, fmt.Sprintf("%s: %s sees everyone's metadata of round %d", what, m.cfg.Node, round), func() bool {
				v, _ := m.latest()
				for _, o := range all {
					if string(v.Meta[o.cfg.Node]) != fmt.Sprintf("%s %d", o.cfg.Node, round) {
						return false
					}
				}
				return true
			})
		}
	}
	exchange("before the rotation")

	steps := []struct {
		name string
		keys Keys
	}{
		{"install the new key", Keys{Primary: oldKey, Extra: [][]byte{newKey}}},
		{"use the new key", Keys{Primary: newKey, Extra: [][]byte{oldKey}}},
		{"remove the old key", Keys{Primary: newKey}},
	}
	for _, step := range steps {
		for _, m := range all {
			if _, err := m.SetKeys(step.keys); err != nil {
				t.Fatalf("%s on %s: %v", step.name, m.cfg.Node, err)
			}
			if diff := cmp.Diff(step.keys, m.Keys()); diff != "" {
				t.Errorf("%s on %s: keys (-want +got):\n%s", step.name, m.cfg.Node, diff)
			}
			exchange(step.name + " on " + m.cfg.Node)
		}
	}
	for _, m := range all {
		if v, failed := m.latest(); len(failed) > 0 || len(v.Live) != 3 {
			t.Errorf("%s: saw %v failed during the rotation; now %+v", m.cfg.Node, failed, v)
		}
	}

	old := startRolling(t, "old", "127.0.0.4", Keys{Primary: oldKey}, m1)
	fresh := startRolling(t, "fresh", "127.0.0.5", Keys{Primary: newKey}, m1)
	eventually(t, "n1 admitting the member with the new key", func() bool {
		v, _ := m1.latest()
		return slices.Contains(v.Live, "fresh")
	})
	eventually(t, "the member with the old key refused", func() bool {
		v, _ := old.latest()
		return v.Refused != ""
	})
	if v, _ := m1.latest(); slices.Contains(v.Live, "old") {
		t.Errorf("n1 admitted a member with the removed key: %+v", v)
	}
	_ = fresh
}
