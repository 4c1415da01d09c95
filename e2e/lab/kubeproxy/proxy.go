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
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/labels"
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
	// have is what the table held after the last sync that went
	// through; nil makes the next sync read the table. Reading it costs
	// a netlink dump of every address, which with 10,000 Services made
	// this stand-in the busiest process of the lab.
	have []netip.Addr
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
	return &Proxy{cfg: cfg, table: table}, nil
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
	svcs := factory.Core().V1().Services()
	dirty := make(chan struct{}, 1)
	mark := func() {
		select {
		case dirty <- struct{}{}:
		default:
		}
	}
	_, err := svcs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { mark() },
		UpdateFunc: func(any, any) { mark() },
		DeleteFunc: func(any) { mark() },
	})
	if err != nil {
		return fmt.Errorf("kube-proxy: watching services: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), svcs.Informer().HasSynced) {
		return nil // ctx ended
	}
	mark()
	retry := time.NewTimer(0)
	<-retry.C
	for {
		select {
		case <-ctx.Done():
			retry.Stop()
			return nil
		case <-dirty:
		case <-retry.C:
		}
		list, err := svcs.Lister().List(labels.Everything())
		if err != nil {
			return fmt.Errorf("kube-proxy: listing services: %w", err)
		}
		if err := p.sync(ServiceAddrs(list)); err != nil {
			p.cfg.Log.Error("syncing service addresses failed", "node", p.cfg.Node, "error", err)
			retry.Reset(p.cfg.RetryInterval)
		}
	}
}

// sync makes the table hold exactly want.
func (p *Proxy) sync(want []netip.Addr) error {
	have := p.have
	if have == nil {
		var err error
		if have, err = p.table.Addrs(); err != nil {
			return err
		}
	}
	p.have = nil
	add, del := diff(have, want)
	var errs []error
	for _, ip := range add {
		if err := p.table.Add(ip); err != nil {
			errs = append(errs, err)
			continue
		}
		p.cfg.Log.Info("service address added", "node", p.cfg.Node, "ip", ip.String())
	}
	for _, ip := range del {
		if err := p.table.Del(ip); err != nil {
			errs = append(errs, err)
			continue
		}
		p.cfg.Log.Info("service address removed", "node", p.cfg.Node, "ip", ip.String())
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	p.have = append([]netip.Addr{}, want...)
	return nil
}
