package status

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

// now is the report time of the tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const ns = "metallb-system"

func pool(name string, addrs ...string) v1beta1.IPAddressPool {
	return v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs},
	}
}

func bgpAdv(name string, pools ...string) v1beta1.BGPAdvertisement {
	return v1beta1.BGPAdvertisement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.BGPAdvertisementSpec{IPAddressPools: pools},
	}
}

func l2Adv(name string, pools ...string) v1beta1.L2Advertisement {
	return v1beta1.L2Advertisement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.L2AdvertisementSpec{IPAddressPools: pools},
	}
}

func peer(name, addr string) v1beta2.BGPPeer {
	return v1beta2.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64501, Address: addr},
	}
}

// lbService is a LoadBalancer Service with these ingress IPs.
func lbService(namespace, name string, ips ...string) corev1.Service {
	s := corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
	}
	for _, ip := range ips {
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return s
}

// fromPool records the pool as the controller does.
func fromPool(s corev1.Service, pool string) corev1.Service {
	s.Annotations = map[string]string{"metallb.io/ip-allocated-from-pool": pool}
	return s
}

func bgpStatus(node, svcNS, svcName string, peers ...string) v1beta1.ServiceBGPStatus {
	return v1beta1.ServiceBGPStatus{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bgp-" + node + "-" + svcName},
		Status:     v1beta1.MetalLBServiceBGPStatus{Node: node, ServiceNamespace: svcNS, ServiceName: svcName, Peers: peers},
	}
}

func l2Status(node, svcNS, svcName string, ifaces ...string) v1beta1.ServiceL2Status {
	st := v1beta1.ServiceL2Status{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "l2-" + node + "-" + svcName},
		Status:     v1beta1.MetalLBServiceL2Status{Node: node, ServiceNamespace: svcNS, ServiceName: svcName},
	}
	for _, i := range ifaces {
		st.Status.Interfaces = append(st.Status.Interfaces, v1beta1.InterfaceInfo{Name: i})
	}
	return st
}

func configState(name, component, node string, result v1beta1.ConfigurationStateResult, errorSummary string) v1beta1.ConfigurationState {
	labels := map[string]string{"metallb.io/component-type": component}
	if node != "" {
		labels["metallb.io/node-name"] = node
	}
	return v1beta1.ConfigurationState{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Status:     v1beta1.ConfigurationStateStatus{Result: result, ErrorSummary: errorSummary},
	}
}

// failedEvent is an AllocationFailed event about a Service, last seen at.
func failedEvent(name, svcNS, svcName, note string, at time.Time) eventsv1.Event {
	return eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: svcNS, Name: name},
		EventTime:  metav1.NewMicroTime(at),
		Reason:     ReasonAllocationFailed,
		Regarding:  corev1.ObjectReference{Kind: "Service", Namespace: svcNS, Name: svcName},
		Note:       note,
		Type:       corev1.EventTypeWarning,
	}
}

func before(d time.Duration) *metav1.Time { return ptr.To(metav1.NewTime(now.Add(-d))) }
