// Package k8sconfig lists the configuration objects of ironlb's namespace
// from the API (or a cache) into config.Objects. It is the one place the
// controller, the webhook and the speaker read their configuration from.
package k8sconfig

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
)

// Load lists the metallb.io configuration objects and the Secrets of the
// namespace.
func Load(ctx context.Context, c client.Reader, ns string) (config.Objects, error) {
	o := config.Objects{Namespace: ns}
	var (
		pools   v1beta1.IPAddressPoolList
		peers   v1beta2.BGPPeerList
		bgpAdvs v1beta1.BGPAdvertisementList
		l2Advs  v1beta1.L2AdvertisementList
		bfds    v1beta1.BFDProfileList
		comms   v1beta1.CommunityList
		secrets corev1.SecretList
	)
	lists := []struct {
		kind string
		list client.ObjectList
	}{
		{"IPAddressPools", &pools}, {"BGPPeers", &peers}, {"BGPAdvertisements", &bgpAdvs}, {"L2Advertisements", &l2Advs},
		{"BFDProfiles", &bfds}, {"Communities", &comms}, {"Secrets", &secrets},
	}
	for _, l := range lists {
		if err := c.List(ctx, l.list, client.InNamespace(ns)); err != nil {
			return o, fmt.Errorf("listing %s in %s: %w", l.kind, ns, err)
		}
	}
	o.Pools, o.BGPPeers, o.BGPAdvertisements, o.L2Advertisements = pools.Items, peers.Items, bgpAdvs.Items, l2Advs.Items
	o.BFDProfiles, o.Communities, o.Secrets = bfds.Items, comms.Items, secrets.Items
	return o, nil
}
