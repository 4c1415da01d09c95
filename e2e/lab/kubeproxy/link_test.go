package kubeproxy

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// testHandle returns a netlink handle into a new network namespace that
// is deleted when t ends.
func testHandle(t *testing.T) *netlink.Handle {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "ilbt-kp-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del: %v: %s", err, out)
		}
	})
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("opening netns: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

func TestLink(t *testing.T) {
	h := testHandle(t)
	l, err := OpenLink(h, "kube-ipvs0")
	if err != nil {
		t.Fatalf("OpenLink: %v", err)
	}
	want := addrs("203.0.113.5", "2001:db8:0:100::5")
	for _, a := range want {
		if err := l.Add(a); err != nil {
			t.Fatalf("Add(%s): %v", a, err)
		}
	}
	// Adding twice is fine.
	if err := l.Add(want[0]); err != nil {
		t.Errorf("Add(%s) again: %v", want[0], err)
	}
	got, err := l.Addrs()
	if err != nil {
		t.Fatalf("Addrs: %v", err)
	}
	slices.SortFunc(got, netip.Addr.Compare)
	if !slices.Equal(got, want) {
		t.Errorf("Addrs() = %v, want %v (link-local left out)", got, want)
	}

	// Opening again finds the same link and keeps its addresses.
	again, err := OpenLink(h, "kube-ipvs0")
	if err != nil {
		t.Fatalf("OpenLink again: %v", err)
	}
	if err := again.Del(want[1]); err != nil {
		t.Fatalf("Del: %v", err)
	}
	if err := again.Del(want[1]); err != nil {
		t.Errorf("Del of a missing address: %v", err)
	}
	got, err = again.Addrs()
	if err != nil {
		t.Fatalf("Addrs: %v", err)
	}
	if !slices.Equal(got, want[:1]) {
		t.Errorf("Addrs() after Del = %v, want %v", got, want[:1])
	}
}

func TestOpenLinkRefusesOtherKinds(t *testing.T) {
	h := testHandle(t)
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "kube-ipvs0"}, PeerName: "peer0"}); err != nil {
		t.Fatalf("adding veth: %v", err)
	}
	if _, err := OpenLink(h, "kube-ipvs0"); err == nil {
		t.Errorf("OpenLink on a veth: no error")
	}
}
