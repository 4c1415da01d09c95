package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPolicyFirst(t *testing.T) {
	in := `frr defaults traditional
router bgp 64512
 address-family ipv4 unicast
  network 198.51.100.1/32 route-map adv
 exit-address-family
exit
!
route-map adv permit 1
 set local-preference 100
exit
!
ip prefix-list pl seq 1 permit 198.51.100.0/24
bfd
 profile p
 exit
exit
`
	want := `frr defaults traditional
route-map adv permit 1
 set local-preference 100
exit
!
ip prefix-list pl seq 1 permit 198.51.100.0/24
bfd
 profile p
 exit
exit
!
router bgp 64512
 address-family ipv4 unicast
  network 198.51.100.1/32 route-map adv
 exit-address-family
exit
!
`
	if diff := cmp.Diff(want, string(PolicyFirst([]byte(in)))); diff != "" {
		t.Errorf("PolicyFirst (-want +got):\n%s", diff)
	}
}

func TestWithoutNeighborBFD(t *testing.T) {
	in := `router bgp 64512
 neighbor 192.0.2.1 remote-as 64500
 neighbor 192.0.2.1 bfd
 neighbor 192.0.2.1 bfd profile lab
 neighbor 192.0.2.1 description bfd
exit
!
bfd
 profile lab
  detect-multiplier 3
 exit
exit
`
	want := `router bgp 64512
 neighbor 192.0.2.1 remote-as 64500
 neighbor 192.0.2.1 description bfd
exit
!
bfd
 profile lab
  detect-multiplier 3
 exit
exit
!
`
	if diff := cmp.Diff(want, string(WithoutNeighborBFD([]byte(in)))); diff != "" {
		t.Errorf("WithoutNeighborBFD (-want +got):\n%s", diff)
	}
}

func TestNeighborBFDOff(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{{
		name: "neighbors with bfd, in two routers",
		in: `router bgp 64512
 neighbor 192.0.2.1 remote-as 64500
 neighbor 192.0.2.1 bfd
 neighbor 192.0.2.1 bfd profile lab
 neighbor 2001:db8::1 remote-as 64500
 neighbor 2001:db8::1 bfd
 neighbor 192.0.2.9 remote-as 64501
 neighbor 192.0.2.9 description bfd
exit
!
router bgp 64512 vrf red
 neighbor 198.51.100.1 remote-as 64500
 neighbor 198.51.100.1 bfd profile lab
exit
!
bfd
 profile lab
 exit
exit
`,
		want: `router bgp 64512
 no neighbor 192.0.2.1 bfd
 no neighbor 2001:db8::1 bfd
exit
router bgp 64512 vrf red
 no neighbor 198.51.100.1 bfd
exit
`,
	}, {
		name: "no bfd",
		in:   "router bgp 64512\n neighbor 192.0.2.1 remote-as 64500\nexit\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, string(NeighborBFDOff([]byte(tc.in)))); diff != "" {
				t.Errorf("NeighborBFDOff (-want +got):\n%s", diff)
			}
		})
	}
}
