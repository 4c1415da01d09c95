package assign_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/ipam"
	"github.com/ironlb/ironlb/request"
)

type op int

const (
	opRestore op = iota
	opEnsure
	opRelease
)

func (o op) String() string {
	return [...]string{"Restore", "Ensure", "Release"}[o]
}

// step is one call on the Assigner and what it must give.
type step struct {
	op  op
	svc assign.Service
	// want and wantPool are what Ensure returns, or what the Service
	// holds after a Restore, a Release or a failed Ensure.
	want     []netip.Addr
	wantPool string
	// wantErr is a part of the error; empty for no error.
	wantErr string
	// wantReason is the Reason of the *ipam.AssignError in the error;
	// 0 does not check.
	wantReason ipam.Reason
}

func restore(s assign.Service, pool string, want ...string) step {
	return step{op: opRestore, svc: s, want: ips(want...), wantPool: pool}
}

func restoreErr(s assign.Service, reason ipam.Reason, wantErr string) step {
	return step{op: opRestore, svc: s, wantErr: wantErr, wantReason: reason}
}

// restoreHeld is a refused Restore whose IPs stay booked where they lie.
func restoreHeld(s assign.Service, reason ipam.Reason, wantErr, pool string, want ...string) step {
	return step{op: opRestore, svc: s, wantErr: wantErr, wantReason: reason, want: ips(want...), wantPool: pool}
}

func ensure(s assign.Service, pool string, want ...string) step {
	return step{op: opEnsure, svc: s, want: ips(want...), wantPool: pool}
}

func ensureErr(s assign.Service, reason ipam.Reason, wantErr string) step {
	return step{op: opEnsure, svc: s, wantErr: wantErr, wantReason: reason}
}

func release(s assign.Service) step { return step{op: opRelease, svc: s} }

var cmpAddr = cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmpopts.EquateEmpty()}

func TestAssigner(t *testing.T) {
	const (
		single  = corev1.IPFamilyPolicySingleStack
		prefer  = corev1.IPFamilyPolicyPreferDualStack
		require = corev1.IPFamilyPolicyRequireDualStack
		v4      = corev1.IPv4Protocol
		v6      = corev1.IPv6Protocol
	)
	three := []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")}
	tests := []struct {
		name  string
		pools []v1beta1.IPAddressPool
		steps []step
	}{
		{
			name:  "a valid existing IP is kept, ahead of first fit",
			pools: three,
			steps: []step{
				restore(svc("old", status("192.0.2.11")), "a", "192.0.2.11"),
				ensure(svc("new"), "a", "192.0.2.10"),
				ensure(svc("old", status("192.0.2.11")), "a", "192.0.2.11"),
				ensure(svc("newer"), "a", "192.0.2.12"),
			},
		},
		{
			name:  "a Service without status IPs restores nothing",
			pools: three,
			steps: []step{
				restore(svc("web"), ""),
				ensure(svc("web"), "a", "192.0.2.10"),
			},
		},
		{
			name:  "an existing IP outside every pool is refused, and the Service moves",
			pools: three,
			steps: []step{
				restoreErr(svc("web", status("203.0.113.9")), ipam.ReasonNotInAnyPool, "keeping ingress IPs: 203.0.113.9 is not in any pool"),
				ensure(svc("web", status("203.0.113.9")), "a", "192.0.2.10"),
			},
		},
		{
			name:  "an existing IP of a family the Service does not want is refused",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10/32", "2001:db8::10/128")},
			steps: []step{
				restoreHeld(svc("web", status("2001:db8::10")), 0, "ingress IP 2001:db8::10 is not of the service's families [IPv4]", "a", "2001:db8::10"),
				ensure(svc("web", status("2001:db8::10")), "a", "192.0.2.10"),
			},
		},
		{
			name:  "an existing IP another Service restored first is refused",
			pools: three,
			steps: []step{
				restore(svc("first", status("192.0.2.10")), "a", "192.0.2.10"),
				restoreErr(svc("second", status("192.0.2.10")), ipam.ReasonNotShareable, "192.0.2.10 is already in use by default/first (not shareable)"),
				ensure(svc("second", status("192.0.2.10")), "a", "192.0.2.11"),
			},
		},
		{
			name:  "an existing IP that is not the requested one is refused",
			pools: three,
			steps: []step{
				restoreHeld(svc("web", status("192.0.2.10"), requestIPs("192.0.2.12")), 0, "ingress IPs [192.0.2.10] are not the requested [192.0.2.12]", "a", "192.0.2.10"),
				ensure(svc("web", status("192.0.2.10"), requestIPs("192.0.2.12")), "a", "192.0.2.12"),
			},
		},
		{
			name:  "an existing IP in a pool the Service no longer names is refused",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10/32"), pool("b", "198.51.100.10/32")},
			steps: []step{
				restoreHeld(svc("web", status("192.0.2.10"), fromPool("b")), ipam.ReasonPoolNotAllowed, `192.0.2.10 is in pool "a", which this service may not use`, "a", "192.0.2.10"),
				ensure(svc("web", status("192.0.2.10"), fromPool("b")), "b", "198.51.100.10"),
			},
		},
		{
			name:  "an existing IP in a pool the Service names, when that pool is missing, is refused",
			pools: three,
			steps: []step{
				restoreHeld(svc("web", status("192.0.2.10"), fromPool("gone")), ipam.ReasonPoolNotAllowed, `192.0.2.10 is in pool "a", which this service may not use`, "a", "192.0.2.10"),
				{op: opEnsure, svc: svc("web", status("192.0.2.10"), fromPool("gone")), want: ips("192.0.2.10"), wantPool: "a",
					wantErr: `pool "gone" (from the address-pool annotation) does not exist`},
			},
		},
		{
			name:  "an existing IP in a pool whose serviceAllocation no longer matches is refused",
			pools: []v1beta1.IPAddressPool{forTeam(pool("blue", "198.51.100.10/32"), "blue", 0), pool("open", "192.0.2.10/32")},
			steps: []step{
				restoreHeld(svc("web", status("198.51.100.10"), inNamespace("red", "team", "red")), ipam.ReasonPoolNotAllowed, `198.51.100.10 is in pool "blue", which this service may not use`, "blue", "198.51.100.10"),
				ensure(svc("web", status("198.51.100.10"), inNamespace("red", "team", "red")), "open", "192.0.2.10"),
			},
		},
		{
			name:  "a requested IP is honoured, even in an autoAssign=false pool",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12"), manual(pool("manual", "198.51.100.10-198.51.100.11"))},
			steps: []step{
				ensure(svc("web", requestIPs("192.0.2.12")), "a", "192.0.2.12"),
				ensure(svc("db", requestIPs("198.51.100.11")), "manual", "198.51.100.11"),
				ensure(svc("plain"), "a", "192.0.2.10"),
			},
		},
		{
			name:  "a requested IP in use is refused, and the Service keeps what it held",
			pools: three,
			steps: []step{
				ensure(svc("web", requestIPs("192.0.2.11")), "a", "192.0.2.11"),
				ensure(svc("db"), "a", "192.0.2.10"),
				{
					op: opEnsure, svc: svc("db", requestIPs("192.0.2.11")),
					want: ips("192.0.2.10"), wantPool: "a",
					wantErr: "requested IPs: 192.0.2.11 is already in use by default/web (not shareable)", wantReason: ipam.ReasonNotShareable,
				},
			},
		},
		{
			name:  "a requested IP outside every pool is refused",
			pools: three,
			steps: []step{
				ensureErr(svc("web", requestIPs("203.0.113.1")), ipam.ReasonNotInAnyPool, "requested IPs: 203.0.113.1 is not in any pool"),
			},
		},
		{
			name:  "a requested IP outside the pool the Service names is refused",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10/32"), pool("b", "198.51.100.10/32")},
			steps: []step{
				ensureErr(svc("web", requestIPs("192.0.2.10"), fromPool("b")), ipam.ReasonPoolNotAllowed, `requested IPs: 192.0.2.10 is in pool "a", which this service may not use`),
			},
		},
		{
			name:  "a requested IP of a pool whose serviceAllocation excludes the Service is refused",
			pools: []v1beta1.IPAddressPool{forTeam(pool("blue", "198.51.100.10/32"), "blue", 0)},
			steps: []step{
				ensureErr(svc("web", requestIPs("198.51.100.10"), inNamespace("red", "team", "red")), ipam.ReasonPoolNotAllowed, `requested IPs: 198.51.100.10 is in pool "blue", which this service may not use`),
				ensure(svc("web", requestIPs("198.51.100.10"), inNamespace("blue-a", "team", "blue")), "blue", "198.51.100.10"),
			},
		},
		{
			name:  "a requested IP is checked again when the Service changes",
			pools: three,
			steps: []step{
				ensure(svc("http", requestIPs("192.0.2.10"), shared("k")), "a", "192.0.2.10"),
				ensure(svc("https", requestIPs("192.0.2.10"), shared("k"), ports(tcp(443))), "a", "192.0.2.10"),
				// https drops its sharing key: it may no longer share.
				{
					op: opEnsure, svc: svc("https", requestIPs("192.0.2.10"), ports(tcp(443))),
					want: ips("192.0.2.10"), wantPool: "a",
					wantErr: "requested IPs: 192.0.2.10 is already in use by default/http (not shareable)", wantReason: ipam.ReasonNotShareable,
				},
			},
		},
		{
			name:  "the address-pool annotation restricts the Service to that pool",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10/32"), pool("b", "198.51.100.10/32")},
			steps: []step{
				ensure(svc("web", fromPool("b")), "b", "198.51.100.10"),
				ensureErr(svc("db", fromPool("b")), 0, `no available IPs in pool "b"`),
				ensureErr(svc("api", fromPool("missing")), 0, `pool "missing" (from the address-pool annotation) does not exist`),
				ensure(svc("plain"), "a", "192.0.2.10"),
			},
		},
		{
			name:  "the address-pool annotation cannot reach a pool whose serviceAllocation excludes the Service",
			pools: []v1beta1.IPAddressPool{forTeam(pool("blue", "198.51.100.10/32"), "blue", 0)},
			steps: []step{
				ensureErr(svc("web", fromPool("blue"), inNamespace("red", "team", "red")), 0, `pool "blue" (from the address-pool annotation) does not serve this service`),
			},
		},
		{
			name:  "an autoAssign=false pool serves only Services that name it or ask for its IPs",
			pools: []v1beta1.IPAddressPool{manual(pool("manual", "198.51.100.10-198.51.100.11"))},
			steps: []step{
				ensureErr(svc("plain"), 0, "no pool serves this service"),
				ensure(svc("named", fromPool("manual")), "manual", "198.51.100.10"),
			},
		},
		{
			name:  "a holding in an autoAssign=false pool is kept",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12"), manual(pool("manual", "198.51.100.10-198.51.100.11"))},
			steps: []step{
				restore(svc("web", status("198.51.100.11")), "manual", "198.51.100.11"),
				ensure(svc("web", status("198.51.100.11")), "manual", "198.51.100.11"),
				ensure(svc("web", status("198.51.100.11")), "manual", "198.51.100.11"),
			},
		},
		{
			name: "serviceAllocation pools by priority, then open pools when they are full",
			pools: []v1beta1.IPAddressPool{
				pool("open", "192.0.2.10-192.0.2.11"),
				forTeam(pool("blue-none", "198.51.100.30/32"), "blue", 0),
				forTeam(pool("blue-low", "198.51.100.20/32"), "blue", 20),
				forTeam(pool("blue-high", "198.51.100.10/32"), "blue", 10),
			},
			steps: []step{
				ensure(svc("red-1", inNamespace("red", "team", "red")), "open", "192.0.2.10"),
				ensure(svc("blue-1", inNamespace("blue-a", "team", "blue")), "blue-high", "198.51.100.10"),
				ensure(svc("blue-2", inNamespace("blue-a", "team", "blue")), "blue-low", "198.51.100.20"),
				ensure(svc("blue-3", inNamespace("blue-b", "team", "blue")), "blue-none", "198.51.100.30"),
				ensure(svc("blue-4", inNamespace("blue-b", "team", "blue")), "open", "192.0.2.11"),
				ensureErr(svc("blue-5", inNamespace("blue-b", "team", "blue")), 0, `no available IPs in pools "blue-high", "blue-low", "blue-none", "open"`),
			},
		},
		{
			name:  "sharing: same key and backend, no common port",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.19")},
			steps: []step{
				ensure(svc("dns-tcp", shared("dns"), ports(tcp(53))), "a", "192.0.2.10"),
				ensure(svc("dns-udp", shared("dns"), ports(udp(53))), "a", "192.0.2.10"),
				ensure(svc("dns-tcp-2", shared("dns"), ports(tcp(53))), "a", "192.0.2.11"),
				ensure(svc("other-key", shared("web"), ports(tcp(8080))), "a", "192.0.2.12"),
				ensure(svc("no-key", ports(tcp(8081))), "a", "192.0.2.13"),
				ensure(svc("local-a", shared("loc"), local("a"), ports(tcp(1))), "a", "192.0.2.14"),
				ensure(svc("local-b", shared("loc"), local("b"), ports(tcp(2))), "a", "192.0.2.15"),
				ensure(svc("local-a2", shared("loc"), local("a"), ports(tcp(3))), "a", "192.0.2.14"),
				{
					op: opEnsure, svc: svc("asks-local", shared("loc"), local("b"), ports(tcp(4)), requestIPs("192.0.2.14")),
					wantErr: "requested IPs: 192.0.2.14 is already in use by default/local-a (different backend)", wantReason: ipam.ReasonBackendMismatch,
				},
				{
					op: opEnsure, svc: svc("asks-dns", shared("dns"), ports(udp(53)), requestIPs("192.0.2.10")),
					wantErr: "requested IPs: 192.0.2.10 is already in use by default/dns-udp (ports overlap: UDP/53)", wantReason: ipam.ReasonPortsOverlap,
				},
				{
					op: opEnsure, svc: svc("asks-web", shared("dns"), ports(tcp(9)), requestIPs("192.0.2.12")),
					wantErr: "requested IPs: 192.0.2.12 is already in use by default/other-key (different sharing key)", wantReason: ipam.ReasonSharingKeyMismatch,
				},
			},
		},
		{
			name:  "sharing restored IPs",
			pools: three,
			steps: []step{
				restore(svc("http", status("192.0.2.11"), shared("k")), "a", "192.0.2.11"),
				restore(svc("https", status("192.0.2.11"), shared("k"), ports(tcp(443))), "a", "192.0.2.11"),
				restoreErr(svc("again", status("192.0.2.11"), shared("k")), ipam.ReasonPortsOverlap, "ports overlap: TCP/80"),
				ensure(svc("again", status("192.0.2.11"), shared("k")), "a", "192.0.2.10"),
			},
		},
		{
			name: "dual-stack policies",
			pools: []v1beta1.IPAddressPool{
				pool("ds", "192.0.2.10-192.0.2.11", "2001:db8::10-2001:db8::11"),
				pool("v4only", "198.51.100.1/32"),
				pool("v6only", "2001:db8:1::1/128"),
			},
			steps: []step{
				ensure(svc("both", families(require)), "ds", "192.0.2.10", "2001:db8::10"),
				ensure(svc("v6-first", families(require, v6, v4)), "ds", "2001:db8::11", "192.0.2.11"),
				ensure(svc("prefer", families(prefer, v4, v6)), "v4only", "198.51.100.1"),
				ensure(svc("prefer-v6", families(prefer, v6, v4)), "v6only", "2001:db8:1::1"),
				ensureErr(svc("require", families(require)), 0, `no available IPs in pools "ds", "v4only", "v6only"`),
				release(svc("both")),
				ensure(svc("single-v6", families(single, v6)), "ds", "2001:db8::10"),
			},
		},
		{
			name:  "a PreferDualStack Service that got one family keeps it",
			pools: []v1beta1.IPAddressPool{pool("ds", "192.0.2.10/32", "2001:db8::10/128")},
			steps: []step{
				restore(svc("web", families(prefer, v4, v6), status("192.0.2.10")), "ds", "192.0.2.10"),
				ensure(svc("web", families(prefer, v4, v6), status("192.0.2.10")), "ds", "192.0.2.10"),
			},
		},
		{
			name:  "restored dual-stack IPs are kept in the Service's family order",
			pools: []v1beta1.IPAddressPool{pool("ds", "192.0.2.10-192.0.2.11", "2001:db8::10-2001:db8::11")},
			steps: []step{
				restore(svc("web", families(require, v6, v4), status("2001:db8::11", "192.0.2.11")), "ds", "2001:db8::11", "192.0.2.11"),
				ensure(svc("web", families(require, v6, v4), status("2001:db8::11", "192.0.2.11")), "ds", "2001:db8::11", "192.0.2.11"),
			},
		},
		{
			name:  "a Service that cannot get what it now asks for keeps what it held",
			pools: []v1beta1.IPAddressPool{pool("v4", "192.0.2.10/32")},
			steps: []step{
				restore(svc("web", families(require), status("192.0.2.10")), "v4", "192.0.2.10"),
				{
					op: opEnsure, svc: svc("web", families(require), status("192.0.2.10")),
					want: ips("192.0.2.10"), wantPool: "v4", wantErr: `no available IPs in pool "v4"`,
				},
			},
		},
		{
			name:  "release frees the IPs",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10/32")},
			steps: []step{
				ensure(svc("web"), "a", "192.0.2.10"),
				ensureErr(svc("db"), 0, `no available IPs in pool "a"`),
				release(svc("web")),
				ensure(svc("db"), "a", "192.0.2.10"),
			},
		},
		{
			name:  "an invalid Service is an error naming the field, and the IP it shows stays booked",
			pools: three,
			steps: []step{
				{op: opRestore, svc: svc("web", status("192.0.2.10"), requestIPs("nope")), want: ips("192.0.2.10"), wantPool: "a",
					wantErr: `annotations[metallb.io/loadBalancerIPs]: "nope" is not an IP address`},
				{op: opEnsure, svc: svc("web", status("192.0.2.10"), requestIPs("nope")), want: ips("192.0.2.10"), wantPool: "a",
					wantErr: `annotations[metallb.io/loadBalancerIPs]: "nope" is not an IP address`},
				ensure(svc("db"), "a", "192.0.2.11"),
			},
		},
		{
			// Before, the refused Service's IP was free for the next one:
			// two Services showed 192.0.2.10 and both were announced.
			name:  "a refused Service keeps the IP it shows from others until it gets valid ones",
			pools: three,
			steps: []step{
				{op: opEnsure, svc: svc("web", status("192.0.2.10"), fromPool("gone")), want: ips("192.0.2.10"), wantPool: "a",
					wantErr: `pool "gone" (from the address-pool annotation) does not exist`},
				ensure(svc("db"), "a", "192.0.2.11"),
				ensure(svc("web", status("192.0.2.10"), fromPool("a")), "a", "192.0.2.10"),
			},
		},
		{
			name:  "a Service refused a pool moves to an allowed one, and frees the IP it showed",
			pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.11"), pool("b", "192.0.2.20-192.0.2.21")},
			steps: []step{
				{op: opRestore, svc: svc("web", status("192.0.2.10"), fromPool("b")), want: ips("192.0.2.10"), wantPool: "a",
					wantErr: `192.0.2.10 is in pool "a", which this service may not use`},
				ensure(svc("web", status("192.0.2.10"), fromPool("b")), "b", "192.0.2.20"),
				ensure(svc("db"), "a", "192.0.2.10"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAssigner(t, tt.pools)
			for i, st := range tt.steps {
				key := st.svc.Key()
				var err error
				got := assign.Result{}
				switch st.op {
				case opRestore:
					err = a.Restore(st.svc)
					got = a.Holding(key)
				case opEnsure:
					got, err = a.Ensure(st.svc)
					if err != nil {
						if got.IPs != nil || got.Pool != "" {
							t.Errorf("step %d: Ensure(%s) = %+v with error %v, want no IPs", i, key, got, err)
						}
						got = a.Holding(key)
					}
				case opRelease:
					a.Release(key)
					got = a.Holding(key)
				}
				checkErr(t, i, st, err)
				want := assign.Result{IPs: st.want, Pool: st.wantPool}
				if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
					t.Errorf("step %d: %v(%s) (-want +got):\n%s", i, st.op, key, diff)
				}
			}
		})
	}
}

func checkErr(t *testing.T, i int, st step, err error) {
	t.Helper()
	switch {
	case st.wantErr == "" && err != nil:
		t.Errorf("step %d: %v(%s): unexpected error %v", i, st.op, st.svc.Key(), err)
		return
	case st.wantErr != "" && err == nil:
		t.Errorf("step %d: %v(%s): no error, want one with %q", i, st.op, st.svc.Key(), st.wantErr)
		return
	case err == nil:
		return
	}
	if !strings.Contains(err.Error(), st.wantErr) {
		t.Errorf("step %d: %v(%s): error %q does not contain %q", i, st.op, st.svc.Key(), err, st.wantErr)
	}
	if st.wantReason == 0 {
		return
	}
	var ae *ipam.AssignError
	if !errors.As(err, &ae) {
		t.Errorf("step %d: %v(%s): error %v is not an *ipam.AssignError", i, st.op, st.svc.Key(), err)
		return
	}
	if ae.Reason != st.wantReason {
		t.Errorf("step %d: %v(%s): reason %d, want %d", i, st.op, st.svc.Key(), ae.Reason, st.wantReason)
	}
}

// TestPolicyMapping checks that Ensure's conversion of a request.Policy
// into an ipam.Policy keeps the meaning of each policy.
func TestPolicyMapping(t *testing.T) {
	tests := []struct {
		in   request.Policy
		want ipam.Policy
	}{
		{request.SingleStack, ipam.SingleStack},
		{request.PreferDualStack, ipam.PreferDualStack},
		{request.RequireDualStack, ipam.RequireDualStack},
	}
	for _, tt := range tests {
		if got := ipam.Policy(tt.in); got != tt.want {
			t.Errorf("ipam.Policy(request policy %d) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
