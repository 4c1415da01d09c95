package frr

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ironlb/ironlb/config"
)

func TestRenderNil(t *testing.T) {
	if _, err := newTestRenderer(t).Render(nil); err == nil {
		t.Error("Render(nil) succeeded, want an error")
	}
}

// TestRenderConcurrently renders one config from several goroutines
// (run with -race).
func TestRenderConcurrently(t *testing.T) {
	r := newTestRenderer(t)
	cfg := goldenCases(t)[0].build(t)
	want, err := r.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := r.Render(cfg)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("concurrent Render differs (err %v)", err)
			}
		})
	}
	wg.Wait()
}

// TestPasswordOnlyInTheFile checks that the model prints the password
// redacted while the rendered file holds it.
func TestPasswordOnlyInTheFile(t *testing.T) {
	const secret = "hunter2secret"
	m := baseModel(t)
	m.Peers[0].Password = config.NewPassword(secret)
	cfg, err := Build(cluster(m), node1, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cfg.Routers); strings.Contains(s, secret) {
			t.Errorf("Sprintf(%q) of the routers shows the password", verb)
		}
	}
	out, err := newTestRenderer(t).Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), " neighbor 192.0.2.253 password "+secret+"\n") {
		t.Errorf("the rendered file lacks the password line:\n%s", out)
	}
}
