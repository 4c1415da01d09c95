// Package lab builds ironlb's end-to-end lab on one machine, as root, out
// of network namespaces it creates and removes:
//
//	ilb-sw    a bridge: the LAN 192.0.2.0/24, 2001:db8:0:1::/64
//	ilb-rtr   the router (.1): FRR, AS 64500, a BGP neighbor of every
//	          node, and a second link to ilb-cli (198.51.100.0/25,
//	          2001:db8:0:2::/64); it sends every node a default route
//	          and its own prefixes 198.51.100.128/27, 198.51.100.160/27,
//	          2001:db8:0:200::/64 and 2001:db8:0:201::/64 (on a link of
//	          its own, nets0), which the nodes' ironlb-in route-map denies
//	          unless an FRRConfiguration lets them in (RouterPrefixes)
//	ilb-n1..3 the nodes (.11-.13): a kube-proxy stand-in and, with
//	          Config.Speakers, FRR, the FRR agent and the speaker
//	ilb-lcli  a client on the LAN (.100)
//	ilb-cli   a remote client behind the router
//	ilb-cp    the control-plane host (.254): etcd, kube-apiserver and
//	          ironlb's controller
//
// Nothing is made in the root namespace's network: the host's own LAN
// may be 192.0.2.0/24 as well. The root namespace reaches the API server
// through a forwarder on 127.0.0.1 (LocalKubeconfigPath).
//
// Every process is started detached, with its pid in the state folder
// and its log beside it, so the lab outlives `ironlb lab up`, and
// Teardown (`ironlb lab down`) removes it from another process. Up
// refuses to start when any part of a lab is there; Teardown removes
// whatever part of a lab it finds, and is safe to run twice.
//
// The per-node processes are declared in one place, nodeProcesses.
//
// With Config.RealNodes (`ironlb lab up --nodes real`, `make lab-up
// NODES=real`) the namespaces, router, clients and addresses stay the
// same, but each node runs containerd, a kubelet and kube-proxy (entered
// with nsenter, as `ip netns exec` hides the cgroup mounts), the
// control-plane host adds kube-scheduler and kube-controller-manager, and
// ironlb arrives only through `helm install` of the chart with images
// built from the working tree; pods get addresses from 192.0.2.128/26 and
// 2001:db8:0:10::/60 (PodCIDRs). See realnodes.go.
package lab
