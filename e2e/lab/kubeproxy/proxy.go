package kubeproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// AddrTable is where the Service IPs go: the dummy interface (Link).
// Its methods are called from one goroutine at a time.
type AddrTable interface {
	Addrs() ([]netip.Addr, error)
	Add(netip.Addr) error
	Del(netip.Addr) error
}

// Config of a Proxy.
type Config struct {
	// Node is the node's name, the body of every HTTP answer.
	Node string
	// HTTPAddr is where the HTTP server listens. Default ":8080", every
	// address of the node's namespace, the Service IPs included.
	HTTPAddr string
	// Client reads the Services.
	Client kubernetes.Interface
	// RetryInterval is the wait after a failed sync. Default 1s.
	RetryInterval time.Duration
	// Log receives changes at info and failures at error. Default discard.
	Log *slog.Logger
}

// Proxy keeps an AddrTable equal to the Service IPs and serves HTTP.
type Proxy struct {
	cfg   Config
	table AddrTable

	mu    sync.Mutex
	index *addrIndex
}

// New returns a Proxy; it does nothing until Run.
func New(cfg Config, table AddrTable) (*Proxy, error) {
	if cfg.Node == "" {
		return nil, errors.New("kube-proxy: node name is required")
	}
	if cfg.Client == nil {
		return nil, errors.New("kube-proxy: client is required")
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = ":8080"
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Proxy{cfg: cfg, table: table, index: newAddrIndex()}, nil
}

// Run serves HTTP and syncs the addresses until ctx ends.
func (p *Proxy) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", p.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("kube-proxy: listening: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.serve(ctx, ln) })
	g.Go(func() error { return p.watch(ctx) })
	return g.Wait()
}

func (p *Proxy) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, p.cfg.Node+"\n")
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("kube-proxy: serving http: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	<-errc
	return nil
}

// watch syncs the table after every Service change, one sync at a time
// for any number of changes.
func (p *Proxy) watch(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(p.cfg.Client, 0)
	defer factory.Shutdown()
	inf := factory.Core().V1().Services().Informer()
	// Only the Services' IPs matter here.
	strip := func(obj any) (any, error) {
		if m, ok := obj.(metav1.Object); ok {
			m.SetManagedFields(nil)
		}
		return obj, nil
	}
	if err := inf.SetTransform(strip); err != nil {
		return fmt.Errorf("kube-proxy: watching services: %w", err)
	}
	dirty := make(chan struct{}, 1)
	// update records obj's addresses, or none when it is gone.
	update := func(obj any, gone bool) {
		key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		if err != nil {
			return
		}
		var addrs []netip.Addr
		if svc, ok := obj.(*corev1.Service); ok && !gone {
			addrs = serviceAddrs(svc)
		}
		p.mu.Lock()
		p.index.set(key, addrs)
		p.mu.Unlock()
		select {
		case dirty <- struct{}{}:
		default:
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { update(obj, false) },
		UpdateFunc: func(_, obj any) { update(obj, false) },
		DeleteFunc: func(obj any) { update(obj, true) },
	})
	if err != nil {
		return fmt.Errorf("kube-proxy: watching services: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil // ctx ended
	}
	// The table may hold addresses of an earlier run.
	stale := true
	retry := time.NewTimer(0)
	for {
		select {
		case <-ctx.Done():
			retry.Stop()
			return nil
		case <-dirty:
		case <-retry.C:
		}
		if stale {
			have, err := p.table.Addrs()
			if err != nil {
				p.cfg.Log.Error("reading service addresses failed", "node", p.cfg.Node, "error", err)
				retry.Reset(p.cfg.RetryInterval)
				continue
			}
			p.mu.Lock()
			p.index.mark(have...)
			p.mu.Unlock()
			stale = false
		}
		if err := p.sync(); err != nil {
			p.cfg.Log.Error("syncing service addresses failed", "node", p.cfg.Node, "error", err)
			retry.Reset(p.cfg.RetryInterval)
		}
	}
}

// sync applies the pending address changes to the table; those that
// fail stay pending.
func (p *Proxy) sync() error {
	p.mu.Lock()
	add, del := p.index.take()
	p.mu.Unlock()
	var errs []error
	var failed []netip.Addr
	for _, ip := range add {
		if err := p.table.Add(ip); err != nil {
			errs, failed = append(errs, err), append(failed, ip)
			continue
		}
		p.cfg.Log.Info("service address added", "node", p.cfg.Node, "ip", ip.String())
	}
	for _, ip := range del {
		if err := p.table.Del(ip); err != nil {
			errs, failed = append(errs, err), append(failed, ip)
			continue
		}
		p.cfg.Log.Info("service address removed", "node", p.cfg.Node, "ip", ip.String())
	}
	if len(failed) > 0 {
		p.mu.Lock()
		p.index.mark(failed...)
		p.mu.Unlock()
	}
	return errors.Join(errs...)
}
