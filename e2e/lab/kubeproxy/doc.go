// Package kubeproxy is the lab's stand-in for kube-proxy in IPVS mode on
// one node: it puts the IPs of every LoadBalancer Service's status on a
// dummy interface (kube-ipvs0), as kube-proxy does, and answers HTTP on
// every address of the node with the node's name, in place of the pods.
//
// Strict ARP (arp_ignore=1, arp_announce=2) is set by the lab when it
// makes the node's namespace, before anything runs there.
package kubeproxy
