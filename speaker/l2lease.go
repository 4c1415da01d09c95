package speaker

import (
	"fmt"
	"net/netip"
	"slices"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ironlb/ironlb/l2/announcer"
	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/lease"
	"github.com/ironlb/ironlb/state"
)

// newKeeper returns the lease keeper of --l2-ownership=lease: it holds
// the Leases, in the speaker's namespace, of the IPs the election gives
// the node, and feeds the announcer those it holds. poke asks for a
// reconcile.
func newKeeper(mgr ctrl.Manager, cfg Config, ann *announcer.Announcer, poke func()) (*lease.Keeper, error) {
	k, err := lease.NewKeeper(lease.KeeperConfig{
		Node: cfg.NodeName,
		Store: &lease.Client{
			Reader: mgr.GetAPIReader(), Writer: mgr.GetClient(),
			Namespace: cfg.Namespace, Node: cfg.NodeName, Duration: cfg.L2.Lease.Duration, Now: cfg.Now,
		},
		Timing: cfg.L2.Lease,
		Apply:  ann.Update,
		Announcing: func() []netip.Addr {
			var out []netip.Addr
			for _, s := range ann.Status() {
				out = append(out, s.IP)
			}
			return out
		},
		OnChange: poke,
		Log:      cfg.Log.With("mode", "layer2"),
		Now:      cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the layer2 lease keeper: %w", err)
	}
	return k, nil
}

// l2ServiceIPs returns the IPs of the Layer 2 Services, sorted: the
// Leases of other IPs are deleted. c.Services is sorted by key, as state
// builds it.
func l2ServiceIPs(c *state.Cluster, res election.Result) []netip.Addr {
	out := []netip.Addr{}
	for _, so := range res.Services {
		i, found := slices.BinarySearchFunc(c.Services, state.Service{Namespace: so.Namespace, Name: so.Name}, state.CompareKeys)
		if !found {
			continue
		}
		for _, ip := range c.Services[i].IPs {
			out = append(out, ip.Unmap())
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// answeredServices returns the owned Services of which the node answers
// for at least one IP: by lease, the election's word is not enough.
func answeredServices(c *state.Cluster, owned map[serviceRef]bool, answered []netip.Addr) map[serviceRef]bool {
	out := map[serviceRef]bool{}
	for ref := range owned {
		i, found := slices.BinarySearchFunc(c.Services, state.Service{Namespace: ref.Namespace, Name: ref.Name}, state.CompareKeys)
		if !found {
			continue
		}
		if slices.ContainsFunc(c.Services[i].IPs, func(ip netip.Addr) bool { return slices.Contains(answered, ip.Unmap()) }) {
			out[ref] = true
		}
	}
	return out
}
