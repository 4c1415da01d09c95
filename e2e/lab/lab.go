package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Lab is a running lab. Its methods are safe for concurrent use once Up
// has returned, except Down.
type Lab struct {
	cfg Config
	log *slog.Logger
	// rest reaches the API server from inside the lab (the harness dials
	// from ControlPlaneNetns); localRest through the forwarder.
	rest      *rest.Config
	localRest *rest.Config
	kube      client.Client
	clients   *kubernetes.Clientset
	// localListener is the forwarder's listening socket until it starts.
	localListener *os.File
	// mu guards procs once Up has returned (StartProcess replaces one).
	mu    sync.Mutex
	procs []*started
}

// ExistsError reports parts of an earlier lab, which Up never reuses.
type ExistsError struct {
	Found []string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("a lab is already there (%s): run `make lab-down` (or `ironlb lab down`) first", strings.Join(e.Found, ", "))
}

// Up builds the lab and starts its processes, and returns once every one
// of them serves. On error it removes whatever it made.
func Up(ctx context.Context, cfg Config) (*Lab, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("lab up: needs root, to create network namespaces")
	}
	if found := leftovers(); len(found) > 0 {
		return nil, &ExistsError{Found: found}
	}
	if err := claimNamespaces(ctx); err != nil {
		return nil, err
	}
	if err := makeStateDir(cfg.StateDir); err != nil {
		return nil, errors.Join(err, removeNetwork(context.WithoutCancel(ctx)))
	}
	l := &Lab{cfg: cfg, log: cfg.Log}
	begin := time.Now()
	if err := l.up(ctx); err != nil {
		// Keep the failing processes' logs in the error, then clean up.
		downErr := l.Down(context.WithoutCancel(ctx))
		return nil, errors.Join(fmt.Errorf("lab up: %w", err), downErr)
	}
	l.log.Info("lab up", "stateDir", cfg.StateDir, "took", time.Since(begin).Round(time.Millisecond).String())
	return l, nil
}

// makeStateDir creates the state folder, or takes an empty one, and
// marks it as the lab's.
func makeStateDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("lab up: reading state dir: %w", err)
	case len(ents) > 0:
		if _, err := os.Stat(filepath.Join(dir, markerFile)); err == nil {
			return &ExistsError{Found: []string{"state dir " + dir}}
		}
		return fmt.Errorf("lab up: state dir %s is not empty and not a lab's; choose another", dir)
	}
	for _, d := range []string{dir, filepath.Join(dir, pidsDir), filepath.Join(dir, logsDir), filepath.Join(dir, frrDir), filepath.Join(dir, sockDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("lab up: making state dir: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, markerFile), []byte("made by ironlb lab up; removed by ironlb lab down\n"), 0o644); err != nil {
		return fmt.Errorf("lab up: marking state dir: %w", err)
	}
	return nil
}

func (l *Lab) up(ctx context.Context) error {
	step := func(what string, since time.Time) {
		l.log.Info("lab step done", "step", what, "took", time.Since(since).Round(time.Millisecond).String())
	}
	t := time.Now()
	if err := l.writeFiles(); err != nil {
		return err
	}
	if err := buildNetwork(ctx); err != nil {
		return err
	}
	if l.cfg.RealNodes {
		if err := l.setupRealNodes(ctx); err != nil {
			return err
		}
	}
	step("network", t)

	t = time.Now()
	for _, p := range l.controlPlane() {
		if err := l.startAll(ctx, []procSpec{p}); err != nil {
			return err
		}
	}
	// The forwarder holds the listener now.
	l.localListener.Close()
	l.localListener = nil
	step("control plane", t)

	t = time.Now()
	if err := l.bootstrap(ctx); err != nil {
		return err
	}
	step("objects", t)

	if l.cfg.BeforeWorkloads != nil {
		if err := l.cfg.BeforeWorkloads(ctx, l); err != nil {
			return fmt.Errorf("before the workloads: %w", err)
		}
	}

	if l.cfg.RealNodes {
		return l.upRealNodes(ctx)
	}
	t = time.Now()
	if err := l.startAll(ctx, l.workloads()); err != nil {
		return err
	}
	step("workloads", t)
	return nil
}

// writeFiles opens the forwarder's listener and writes the certificates,
// the kubeconfigs and the router's FRR config into the state folder.
func (l *Lab) writeFiles() error {
	ln, err := net.Listen("tcp", l.cfg.LocalAPIAddr)
	if err != nil {
		return fmt.Errorf("listening for the api server forwarder: %w", err)
	}
	l.localListener, err = ln.(*net.TCPListener).File()
	ln.Close()
	if err != nil {
		return fmt.Errorf("listening for the api server forwarder: %w", err)
	}
	ips := []net.IP{net.ParseIP(ControlPlaneIPv4), net.ParseIP(ControlPlaneIPv6), net.ParseIP("127.0.0.1"), net.ParseIP("203.0.113.129")}
	names := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}
	m, err := newPKI(time.Now(), 30*24*time.Hour, ips, names)
	if err != nil {
		return err
	}
	if err := m.write(l.cfg.path(pkiDir)); err != nil {
		return err
	}
	if l.rest, err = writeKubeconfig(m, "https://"+cpAddr(APIServerPort), l.KubeconfigPath()); err != nil {
		return err
	}
	l.rest.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNetns(ControlPlaneNetns, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	if l.localRest, err = writeKubeconfig(m, "https://"+ln.Addr().String(), l.LocalKubeconfigPath()); err != nil {
		return err
	}
	if l.clients, err = kubernetes.NewForConfig(l.rest); err != nil {
		return fmt.Errorf("creating clientset: %w", err)
	}
	if err := os.WriteFile(l.cfg.path(frrDir, RouterNetns+".conf"), routerConfig(), 0o644); err != nil {
		return fmt.Errorf("writing router frr.conf: %w", err)
	}
	return nil
}

func writeKubeconfig(m *pkiMaterial, server, path string) (*rest.Config, error) {
	kc, err := m.kubeconfig(server)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		return nil, fmt.Errorf("writing kubeconfig: %w", err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	// Tests create objects by the thousand; client-go's default of 5
	// requests a second would make them crawl.
	cfg.QPS, cfg.Burst = 500, 1000
	return cfg, nil
}

// startAll starts the processes and waits until every one serves.
func (l *Lab) startAll(ctx context.Context, specs []procSpec) error {
	var batch []*started
	for _, spec := range specs {
		s, err := startProc(spec, l.cfg.path(pidsDir), l.cfg.path(logsDir))
		if err != nil {
			return err
		}
		l.procs = append(l.procs, s)
		batch = append(batch, s)
		l.log.Debug("process started", "process", spec.name, "pid", s.id.pid, "netns", spec.netns)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, s := range batch {
		g.Go(func() error { return l.waitReady(gctx, s) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Processes without a readiness check: at least they must not have
	// failed while the others got ready.
	for _, s := range batch {
		if err := s.running(); err != nil {
			return err
		}
	}
	return nil
}

// waitReady polls a process's readiness check until it passes, the
// process exits or ReadyTimeout passes.
func (l *Lab) waitReady(ctx context.Context, s *started) error {
	if s.spec.ready == nil {
		return s.running()
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if err := s.running(); err != nil {
			return err
		}
		attempt, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		last = s.spec.ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to serve: %w (last check: %v); log: %s", s.spec.name, ctx.Err(), last, logTail(s.logPath))
		case <-tick.C:
		}
	}
}

// Down stops the lab's processes and removes its namespaces and files. It
// is safe to call more than once.
func (l *Lab) Down(ctx context.Context) error {
	if l.localListener != nil {
		l.localListener.Close()
		l.localListener = nil
	}
	exited := make(map[int]<-chan struct{}, len(l.procs))
	for _, s := range l.procs {
		exited[s.id.pid] = s.exited
	}
	return teardown(ctx, l.cfg, exited)
}

// Teardown removes the lab described by cfg (only StateDir is read),
// also from another process than the one that ran Up and after an Up
// that failed half way. It is safe to run twice.
func Teardown(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("lab down: needs root, to remove network namespaces")
	}
	return teardown(ctx, cfg, nil)
}

func teardown(ctx context.Context, cfg Config, exited map[int]<-chan struct{}) error {
	var errs []error
	marked := false
	if _, err := os.Stat(cfg.path(markerFile)); err == nil {
		marked = true
		tiers, err := readPidFiles(cfg.path(pidsDir))
		if err != nil {
			errs = append(errs, err)
		}
		for _, procs := range tiers {
			if err := stopProcs(ctx, procs, exited); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := cleanupRealNodes(ctx, cfg); err != nil {
		errs = append(errs, err)
	}
	if err := removeNetwork(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := removeFRRLeftovers(); err != nil {
		errs = append(errs, err)
	}
	switch {
	case marked:
		if err := os.RemoveAll(cfg.StateDir); err != nil {
			errs = append(errs, fmt.Errorf("removing state dir: %w", err))
		}
	default:
		if ents, err := os.ReadDir(cfg.StateDir); err == nil && len(ents) > 0 {
			errs = append(errs, fmt.Errorf("state dir %s is not a lab's (no %s): left alone", cfg.StateDir, markerFile))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab down: %w", err)
	}
	cfg.Log.Info("lab down", "stateDir", cfg.StateDir)
	return nil
}

// removeFRRLeftovers removes the FRR pathspace folders of the lab's
// namespaces, which the FRR supervisor leaves behind only when it was
// killed.
func removeFRRLeftovers() error {
	var errs []error
	for _, ns := range Namespaces() {
		for _, root := range []string{"/etc/frr", "/var/run/frr"} {
			if err := os.RemoveAll(filepath.Join(root, ns)); err != nil {
				errs = append(errs, fmt.Errorf("removing frr leftovers: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// StateDir returns the lab's state folder.
func (l *Lab) StateDir() string { return l.cfg.StateDir }

// KubeconfigPath returns the admin kubeconfig for processes inside the
// lab's namespaces: the API server at ControlPlaneIPv4.
func (l *Lab) KubeconfigPath() string { return l.cfg.path(kubeconfig) }

// LocalKubeconfigPath returns the admin kubeconfig for the root
// namespace: the API server through the forwarder on 127.0.0.1.
func (l *Lab) LocalKubeconfigPath() string { return l.cfg.path(localKubeconfig) }

// RESTConfig returns a copy of the harness's client configuration, which
// dials from inside the lab.
func (l *Lab) RESTConfig() *rest.Config { return rest.CopyConfig(l.rest) }

// Kube returns a client of the lab's API server that knows the core and
// metallb.io types.
func (l *Lab) Kube() client.Client { return l.kube }

// Process is one process the lab started.
type Process struct {
	Name  string
	Netns string // "" for the root namespace
	Pid   int
	Log   string // its output
}

// Processes returns the processes Up started, in start order. The FRR
// daemons are the children of the "-frr" ones; their logs are in
// FRRLogDir.
func (l *Lab) Processes() []Process {
	l.mu.Lock()
	defer l.mu.Unlock()
	ps := make([]Process, 0, len(l.procs))
	for _, s := range l.procs {
		ps = append(ps, Process{Name: s.spec.name, Netns: s.spec.netns, Pid: s.id.pid, Log: s.logPath})
	}
	return ps
}

// FRRLogDir returns the folder of the FRR daemons' logs of a pathspace
// (a namespace's name).
func (l *Lab) FRRLogDir(pathspace string) string { return l.cfg.path(frrDir, pathspace) }
