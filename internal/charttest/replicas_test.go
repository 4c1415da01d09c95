package charttest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// leaseName is the controller's leader election Lease.
const leaseName = "ironlb-controller.metallb.io"

// churnNamespace holds the Services the failover tests create.
const churnNamespace = "team-a"

// replicaSet is the chart's controller Deployment run as processes: each
// replica is the ironlb binary with the chart's arguments (leader
// election on), as the chart's service account under the chart's RBAC.
// The webhook, which every replica serves alike, is off.
type replicaSet struct {
	env  *testenv.Env
	bin  string
	args []string
	ns   string
	all  []*replica
}

// replica is one controller process.
type replica struct {
	name string
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{}
}

// logTime returns the time of the first JSON log line containing msg.
func (r *replica) logTime(msg string) (time.Time, bool) {
	for _, line := range strings.Split(r.logs.String(), "\n") {
		if !strings.Contains(line, msg) {
			continue
		}
		var l struct {
			Time time.Time `json:"time"`
		}
		if json.Unmarshal([]byte(line), &l) == nil {
			return l.Time, true
		}
	}
	return time.Time{}, false
}

// exited reports whether the process has ended.
func (r *replica) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// leading reports whether the replica won the election (its log says so).
func (r *replica) leading() bool {
	return strings.Contains(r.logs.String(), "Successfully acquired lease")
}

func (r *replica) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v to %s: %v", sig, r.name, err)
	}
}

// newReplicaSet installs the chart's objects and a pool of 768 IPv4
// addresses, and builds the binary; extra arguments follow the chart's.
func newReplicaSet(t *testing.T, extra ...string) *replicaSet {
	t.Helper()
	return newReplicaSetOn(t, testenv.Options{}, extra...)
}

// newReplicaSetOn is newReplicaSet with an API server started with opts.
func newReplicaSetOn(t *testing.T, opts testenv.Options, extra ...string) *replicaSet {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	helmBin(t)
	// Room for a thousand cluster IPs; no packet goes to them.
	opts.ServiceCIDRs = "10.96.0.0/16"
	env := testenv.Start(t, opts)
	bin := buildIronlb(t)
	c := cases()[0]
	ns := c.namespace
	objs := decode(t, render(t, c))
	createNamespaces(t, env, objs, churnNamespace)
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "ValidatingWebhookConfiguration" {
			rest = append(rest, o)
		}
	}
	create(t, env, rest)
	pool := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "churn"},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"}},
	}
	if err := env.Client.Create(context.Background(), pool); err != nil {
		t.Fatalf("creating pool: %v", err)
	}
	if t.Failed() {
		t.FailNow()
	}
	deploy := container(t, podSpec(t, render(t, c), "Deployment", "ironlb-controller"), "controller")
	args := append(chartArgs(deploy, map[string]string{"POD_NAMESPACE": ns}),
		"--kubeconfig="+kubeconfigAs(t, env, ns, "ironlb-controller"),
		"--metrics-addr=0",
		"--webhook-port=0",
	)
	args = append(args, extra...)
	return &replicaSet{env: env, bin: bin, args: args, ns: ns}
}

// start runs one more replica (its own Pod object, as the chart's would
// have) until the test ends; a replica still running then gets SIGTERM
// (and SIGCONT, in case it was stopped).
func (s *replicaSet) start(t *testing.T) *replica {
	t.Helper()
	name := "ironlb-controller-" + strconv.Itoa(len(s.all))
	createPod(t, s.env, s.ns, name)
	args := append(append([]string{}, s.args...),
		"--pod-name="+name,
		"--health-addr=127.0.0.1:"+strconv.Itoa(freePort(t)),
	)
	cmd := exec.Command(s.bin, args...)
	r := &replica{name: name, cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.logs, r.logs
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		if !r.exited() {
			_ = cmd.Process.Signal(syscall.SIGCONT)
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-r.done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, lastLines(r.logs.String(), 60))
		}
	})
	s.all = append(s.all, r)
	return r
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// leader waits until exactly one running replica leads and returns it.
func (s *replicaSet) leader(t *testing.T) *replica {
	t.Helper()
	var got *replica
	eventually(t, "one leading replica", func() (bool, string) {
		var leading []string
		got = nil
		for _, r := range s.all {
			if !r.exited() && r.leading() {
				leading = append(leading, r.name)
				got = r
			}
		}
		return len(leading) == 1, fmt.Sprintf("leading: %v", leading)
	})
	return got
}

// lease reads the controller's Lease.
func (s *replicaSet) lease(t *testing.T) coordinationv1.Lease {
	t.Helper()
	var l coordinationv1.Lease
	if err := s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: leaseName}, &l); err != nil {
		t.Fatalf("reading the Lease: %v", err)
	}
	return l
}

// clientset is a client-go clientset to the test API server, as admin.
func (s *replicaSet) clientset(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(s.env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// churnService is the i-th Service of the churn.
func churnService(i int) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: churnNamespace, Name: fmt.Sprintf("svc-%04d", i)},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
	}
}

// churn creates the Services from..to-1, four at a time, and deletes each
// one window Services after it was created (window 0: none). hook runs
// once, after the create of Service at (from <= at < to).
func churn(t *testing.T, c client.Client, from, to, window, at int, hook func()) {
	t.Helper()
	ctx := context.Background()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	jobs := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range jobs {
				if err := c.Create(ctx, churnService(i)); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("creating service %d: %w", i, err))
					mu.Unlock()
				}
				if window > 0 && i-window >= 0 {
					if err := c.Delete(ctx, churnService(i-window)); err != nil && !apierrors.IsNotFound(err) {
						mu.Lock()
						errs = append(errs, fmt.Errorf("deleting service %d: %w", i-window, err))
						mu.Unlock()
					}
				}
			}
		})
	}
	for i := from; i < to; i++ {
		jobs <- i
		if i == at && hook != nil {
			hook()
		}
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
}

// allAllocated waits until every Service of the churn has an IP and the
// audit saw them all.
func allAllocated(t *testing.T, c client.Client, audit *ipAudit) {
	t.Helper()
	eventually(t, "every Service to have an IP", func() (bool, string) {
		var list corev1.ServiceList
		if err := c.List(context.Background(), &list, client.InNamespace(churnNamespace)); err != nil {
			return false, err.Error()
		}
		var without []string
		for _, s := range list.Items {
			if len(s.Status.LoadBalancer.Ingress) == 0 {
				without = append(without, s.Name)
			}
		}
		_, waiting, _, _ := audit.report()
		return len(without) == 0 && waiting == 0, fmt.Sprintf("%d of %d without IP (%.5v), audit sees %d waiting", len(without), len(list.Items), without, waiting)
	})
}

// noViolations fails the test for every duplicate or moved IP the audit saw.
func noViolations(t *testing.T, audit *ipAudit) {
	t.Helper()
	v, _, _, _ := audit.report()
	for _, s := range v {
		t.Error(s)
	}
}
