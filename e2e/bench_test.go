package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
)

// routeWatch records when routes appear in the router's kernel table.
type routeWatch struct {
	mu   sync.Mutex
	seen map[netip.Addr]time.Time
	want map[netip.Addr]chan struct{}
}

func watchRouterRoutes(b *testing.B) *routeWatch {
	b.Helper()
	h, err := netns.GetFromName(lab.RouterNetns)
	if err != nil {
		b.Fatalf("opening %s: %v", lab.RouterNetns, err)
	}
	b.Cleanup(func() { h.Close() })
	w := &routeWatch{seen: map[netip.Addr]time.Time{}, want: map[netip.Addr]chan struct{}{}}
	ch := make(chan netlink.RouteUpdate, 4096)
	done := make(chan struct{})
	b.Cleanup(func() { close(done) })
	err = netlink.RouteSubscribeWithOptions(ch, done, netlink.RouteSubscribeOptions{Namespace: &h, ReceiveBufferSize: 8 << 20})
	if err != nil {
		b.Fatalf("subscribing to the router's routes: %v", err)
	}
	go func() {
		for u := range ch {
			if u.Type != 24 /* RTM_NEWROUTE */ || u.Dst == nil {
				continue
			}
			ip, ok := netip.AddrFromSlice(u.Dst.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			now := time.Now()
			w.mu.Lock()
			if _, dup := w.seen[ip]; !dup {
				w.seen[ip] = now
				if c, ok := w.want[ip]; ok {
					close(c)
					delete(w.want, ip)
				}
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// wait returns a channel closed when a route to ip appears (at once if it
// already did).
func (w *routeWatch) wait(ip netip.Addr) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := make(chan struct{})
	if _, ok := w.seen[ip]; ok {
		close(c)
		return c
	}
	w.want[ip] = c
	return c
}

func (w *routeWatch) at(ip netip.Addr) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[ip]
}

func (w *routeWatch) forget(ip netip.Addr) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.seen, ip)
}

// ipWatch records when Services in a namespace first show an ingress IP,
// to tell the controller's part of the latency from the speakers', and
// hands the IP to whoever waits for it (no polling: the API server's
// time goes to the Services measured).
type ipWatch struct {
	mu   sync.Mutex
	seen map[string]time.Time
	ips  map[string]netip.Addr
	want map[string]chan struct{}
}

func watchServiceIPs(b *testing.B, cs kubernetes.Interface, namespace string) *ipWatch {
	b.Helper()
	wi, err := cs.CoreV1().Services(namespace).Watch(b.Context(), metav1.ListOptions{})
	if err != nil {
		b.Fatalf("watching Services: %v", err)
	}
	b.Cleanup(wi.Stop)
	w := &ipWatch{seen: map[string]time.Time{}, ips: map[string]netip.Addr{}, want: map[string]chan struct{}{}}
	go func() {
		for ev := range wi.ResultChan() {
			svc, ok := ev.Object.(*corev1.Service)
			if !ok {
				continue
			}
			ips := lab.ServiceIPs(svc)
			if len(ips) == 0 {
				continue
			}
			now := time.Now()
			w.mu.Lock()
			if _, dup := w.seen[svc.Name]; !dup {
				w.seen[svc.Name], w.ips[svc.Name] = now, ips[0]
				if c, ok := w.want[svc.Name]; ok {
					close(c)
					delete(w.want, svc.Name)
				}
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// wait returns the first IP of the Service, once it has one.
func (w *ipWatch) wait(ctx context.Context, name string) (netip.Addr, error) {
	w.mu.Lock()
	c, ok := w.want[name]
	if !ok {
		c = make(chan struct{})
		if _, seen := w.seen[name]; seen {
			close(c)
		} else {
			w.want[name] = c
		}
	}
	w.mu.Unlock()
	select {
	case <-c:
	case <-ctx.Done():
		return netip.Addr{}, fmt.Errorf("waiting for the IP of %s: %w", name, ctx.Err())
	case <-time.After(lab.DefaultWait):
		return netip.Addr{}, fmt.Errorf("service %s got no IP in %v", name, lab.DefaultWait)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ips[name], nil
}

func (w *ipWatch) at(name string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[name]
}

// benchExisting reads the numbers of existing Services to measure with
// from IRONLB_BENCH_EXISTING (comma-separated; default 0 and 10000).
func benchExisting(b *testing.B) []int {
	v := os.Getenv("IRONLB_BENCH_EXISTING")
	if v == "" {
		return []int{0, 10000}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 16000 {
			b.Fatalf("IRONLB_BENCH_EXISTING: %q is not a count from 0 to 16000", f)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkServiceToRoute measures, in the lab, the time from creating a
// Service (with its endpoints) to its route in the router's kernel table,
// with 0 and with 10,000 Services already announced. It reports p50 and
// p99 over the iterations. Run it with:
//
//	IRONLB_BENCH_EXISTING=0,10000 go test ./e2e/ -run '^$' -bench ServiceToRoute -benchtime 60x -timeout 80m -v
func BenchmarkServiceToRoute(b *testing.B) {
	l := startSpeakerLab(b)
	ctx := b.Context()
	kube := l.Kube()
	for _, o := range []client.Object{
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "bench"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"2001:db8:0:101::/114"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "bench"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"bench"}}},
	} {
		if err := kube.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	w := watchRouterRoutes(b)
	cs, err := kubernetes.NewForConfig(l.RESTConfig())
	if err != nil {
		b.Fatal(err)
	}
	ipw := watchServiceIPs(b, cs, "lab")
	next := 0
	// submitNamed creates a Service and its endpoints, and returns when
	// it was created. It may run on other goroutines, so it returns its
	// error rather than failing b.
	noNodePorts := false
	// created and endpoints collect the time from start to the Service's
	// Create answer and to the EndpointSlice's, for the probes.
	var created, endpoints []time.Duration
	submitNamed := func(name string) (time.Time, error) {
		single := corev1.IPFamilyPolicySingleStack
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: name, Annotations: map[string]string{"metallb.io/address-pool": "bench"}},
			Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeLoadBalancer, IPFamilyPolicy: &single, IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol},
				Ports: []corev1.ServicePort{{Name: "http", Port: lab.ServicePort}},
				// The NodePort range holds 2,768 ports: 10,000 Services
				// need none, as large LoadBalancer setups do.
				AllocateLoadBalancerNodePorts: &noNodePorts,
			},
		}
		start := time.Now()
		if err := kube.Create(ctx, svc); err != nil {
			return start, fmt.Errorf("creating %s: %w", name, err)
		}
		c := time.Since(start)
		if err := l.CreateEndpointsOf(ctx, svc, "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
			return start, err
		}
		if strings.HasPrefix(name, "probe") {
			created, endpoints = append(created, c), append(endpoints, time.Since(start))
		}
		return start, nil
	}
	submit := func(prefix string) (string, time.Time) {
		name := fmt.Sprintf("%s-%05d", prefix, next)
		next++
		start, err := submitNamed(name)
		if err != nil {
			b.Fatal(err)
		}
		return name, start
	}
	create := func(prefix string) (string, netip.Addr, time.Time) {
		name, start := submit(prefix)
		ip, err := ipw.wait(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		return name, ip, start
	}
	for _, existing := range benchExisting(b) {
		b.Run(fmt.Sprintf("existing=%d", existing), func(b *testing.B) {
			// The existing Services are submitted without waiting for each;
			// the last one's route says they are all in.
			// The benchmark body runs more than once (b.N = 1 first):
			// the existing Services are made only the first time.
			if next >= existing {
				existing = 0
			}
			var last netip.Addr
			if existing > 1 {
				// 16 at a time: the API server, not this loop, sets the pace.
				names := make(chan string)
				errs := make(chan error, 16)
				var wg sync.WaitGroup
				for range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for n := range names {
							if _, err := submitNamed(n); err != nil {
								errs <- err
								return
							}
						}
					}()
				}
				for i := 0; i < existing-1; i++ {
					select {
					case names <- fmt.Sprintf("bulk-%05d", i):
					case err := <-errs:
						close(names)
						wg.Wait()
						b.Fatal(err) // ends the benchmark goroutine
					}
				}
				close(names)
				wg.Wait()
				select {
				case err := <-errs:
					b.Fatal(err)
				default:
				}
				next = existing - 1
			}
			if existing > 0 {
				_, last, _ = create("bulk")
				select {
				case <-w.wait(last):
				case <-time.After(20 * time.Minute):
					b.Fatalf("the %d existing Services were not all routed", existing)
				}
			}
			// lat is create to route; toIP create to the IP in the
			// Service's status (the controller's part).
			var lat, toIP []time.Duration
			created, endpoints = nil, nil
			if dir := os.Getenv("IRONLB_BENCH_PROFILE"); dir != "" && existing > 0 {
				profileLab(b, dir, existing)
			}
			cpu, reqs := readProcessCPU(), readAPIRequests(b, cs)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				name, ip, start := create("probe")
				select {
				case <-w.wait(ip):
				case <-time.After(time.Minute):
					b.Fatalf("no route for %s", ip)
				}
				lat = append(lat, w.at(ip).Sub(start))
				toIP = append(toIP, ipw.at(name).Sub(start))
			}
			b.StopTimer()
			pct := func(d []time.Duration, p float64) float64 {
				d = slices.Sorted(slices.Values(d))
				return float64(d[int(p*float64(len(d)-1))].Milliseconds())
			}
			logReconcileTimes(b)
			logProcessCPU(b, cpu, readProcessCPU(), len(lat))
			logAPIRequests(b, reqs, readAPIRequests(b, cs), len(lat))
			b.ReportMetric(pct(lat, 0.5), "p50-ms")
			b.ReportMetric(pct(lat, 0.99), "p99-ms")
			b.ReportMetric(pct(toIP, 0.5), "ip-p50-ms")
			b.ReportMetric(pct(created, 0.5), "create-p50-ms")
			b.ReportMetric(pct(endpoints, 0.5), "endpoints-p50-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// logReconcileTimes logs the reconcile count and mean time of each
// speaker and of the controller's reconcilers (controller-runtime's
// histograms), to tell where the time goes.
func logReconcileTimes(b *testing.B) {
	type source struct{ netns, url, name string }
	srcs := []source{{lab.ControlPlaneNetns, "http://" + net.JoinHostPort(lab.ControlPlaneIPv4, strconv.Itoa(lab.ControllerMetricsPort)) + "/metrics", "controller"}}
	for _, n := range lab.Nodes() {
		srcs = append(srcs, source{n.Name, "http://127.0.0.1:7474/metrics", n.Name})
	}
	for _, src := range srcs {
		body, err := lab.HTTPGet(b.Context(), src.netns, src.url)
		if err != nil {
			b.Logf("%s: metrics: %v", src.name, err)
			continue
		}
		sums, counts := map[string]float64{}, map[string]float64{}
		for _, line := range strings.Split(body, "\n") {
			for prefix, into := range map[string]map[string]float64{
				"controller_runtime_reconcile_time_seconds_sum{controller=\"":   sums,
				"controller_runtime_reconcile_time_seconds_count{controller=\"": counts,
			} {
				rest, ok := strings.CutPrefix(line, prefix)
				if !ok {
					continue
				}
				name, v, ok := strings.Cut(rest, "\"} ")
				if ok {
					into[name], _ = strconv.ParseFloat(v, 64)
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(counts)) {
			if c := counts[name]; c > 0 {
				b.Logf("%s: %s: %.0f reconciles, mean %.1f ms", src.name, name, c, 1000*sums[name]/c)
			}
		}
	}
}

// profileLab starts 10 s CPU profiles of ilb-n1's speaker and of the
// controller, taken while the probes run (IRONLB_BENCH_PROFILE=dir), and
// writes them into dir. They outlive the benchmark's context; run enough
// probes (-benchtime) to fill the 10 s.
func profileLab(b *testing.B, dir string, existing int) {
	for _, p := range []struct{ netns, url, name string }{
		{"ilb-n1", "http://127.0.0.1:7476", "speaker-ilb-n1"},
		{"ilb-n1", "http://127.0.0.1:7478", "frr-agent-ilb-n1"},
		{lab.ControlPlaneNetns, "http://" + net.JoinHostPort(lab.ControlPlaneIPv4, strconv.Itoa(lab.ControllerPprofPort)), "controller"},
	} {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			body, err := lab.HTTPGet(ctx, p.netns, p.url+"/debug/pprof/profile?seconds=10")
			if err != nil {
				b.Logf("profiling %s: %v", p.name, err)
				return
			}
			file := filepath.Join(dir, fmt.Sprintf("%s-existing-%d.pprof", p.name, existing))
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				b.Logf("writing the profile: %v", err)
			}
		}()
	}
}
