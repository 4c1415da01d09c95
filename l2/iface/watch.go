package iface

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// DefaultRescan is the default interval of the full rescan that backs up
// the netlink subscription.
const DefaultRescan = 10 * time.Second

// Config configures a Watcher.
type Config struct {
	// OnChange receives the links, sorted by name: first the initial
	// list, then every list that differs from the one before. It is
	// called from Run's goroutine and should return quickly.
	OnChange func([]Link)
	// Logger receives the watcher's logs; nil discards them.
	Logger *slog.Logger
	// Rescan is the interval of a full rescan, which catches changes a
	// broken or overrun subscription missed (0 means DefaultRescan).
	// The kernel notifies most carrier changes only in its next
	// link-event batch, up to a second later, while the flags a rescan
	// reads change at once: a short Rescan detects a carrier loss
	// sooner, at the cost of a netlink dump each time.
	Rescan time.Duration
	// Namespace is the network namespace to watch; nil means the one
	// the process runs in.
	Namespace *netns.NsHandle
}

// Watcher reports the links of a network namespace as they change.
type Watcher struct {
	cfg Config
	log *slog.Logger
}

// NewWatcher checks the configuration and returns a Watcher.
func NewWatcher(cfg Config) (*Watcher, error) {
	if cfg.OnChange == nil {
		return nil, errors.New("iface watcher: OnChange is required")
	}
	if cfg.Rescan < 0 {
		return nil, fmt.Errorf("iface watcher: Rescan %v is negative", cfg.Rescan)
	}
	if cfg.Rescan == 0 {
		cfg.Rescan = DefaultRescan
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{cfg: cfg, log: log}, nil
}

// Run lists the links, reports them, and reports every change until ctx
// ends. It fails only when the first listing fails.
func (w *Watcher) Run(ctx context.Context) error {
	h, err := w.handle()
	if err != nil {
		return fmt.Errorf("opening netlink handle: %w", err)
	}
	defer h.Close()

	var last []Link
	scan := func() error {
		nl, err := h.LinkList()
		if err != nil {
			return fmt.Errorf("listing links: %w", err)
		}
		cur := FromNetlink(nl)
		if last != nil && slices.EqualFunc(cur, last, sameLink) {
			return nil
		}
		last = cur
		w.cfg.OnChange(cur)
		return nil
	}

	sub := w.subscribe()
	defer sub.stop()
	if err := scan(); err != nil {
		return err
	}
	tick := time.NewTicker(w.cfg.Rescan)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-sub.ch:
			if !ok {
				w.log.Warn("link subscription ended, relying on rescans until it is renewed")
				sub.ch = nil
				continue
			}
			sub.drain()
		case <-tick.C:
			if sub.ch == nil {
				sub.stop()
				sub = w.subscribe()
			}
		}
		if err := scan(); err != nil {
			w.log.Warn("rescanning links failed", "error", err)
		}
	}
}

func (w *Watcher) handle() (*netlink.Handle, error) {
	if w.cfg.Namespace != nil {
		return netlink.NewHandleAt(*w.cfg.Namespace, unix.NETLINK_ROUTE)
	}
	return netlink.NewHandle(unix.NETLINK_ROUTE)
}

// subscription is a netlink link subscription; ch is nil when there is
// none.
type subscription struct {
	ch   chan netlink.LinkUpdate
	done chan struct{}
}

func (w *Watcher) subscribe() *subscription {
	s := &subscription{ch: make(chan netlink.LinkUpdate, 64), done: make(chan struct{})}
	opts := netlink.LinkSubscribeOptions{
		Namespace:     w.cfg.Namespace,
		ErrorCallback: func(err error) { w.log.Debug("link subscription error", "error", err) },
	}
	if err := netlink.LinkSubscribeWithOptions(s.ch, s.done, opts); err != nil {
		w.log.Warn("subscribing to link changes failed, relying on rescans", "error", err)
		close(s.done)
		return &subscription{}
	}
	return s
}

// drain takes every pending update: one rescan covers them all.
func (s *subscription) drain() {
	for {
		select {
		case _, ok := <-s.ch:
			if !ok {
				s.ch = nil
				return
			}
		default:
			return
		}
	}
}

// stop ends the subscription and waits for its goroutine, which closes
// the channel when it returns.
func (s *subscription) stop() {
	if s.done == nil {
		return
	}
	close(s.done)
	s.done = nil
	if s.ch != nil {
		for range s.ch {
		}
		s.ch = nil
	}
}

// FromNetlink converts netlink links, resolving the kind of each link's
// master among them. The result is sorted by name and never nil.
func FromNetlink(links []netlink.Link) []Link {
	kinds := make(map[int]string, len(links))
	for _, l := range links {
		kinds[l.Attrs().Index] = l.Type()
	}
	out := make([]Link, 0, len(links))
	for _, l := range links {
		a := l.Attrs()
		link := Link{
			Name:         a.Name,
			Index:        a.Index,
			HardwareAddr: slices.Clone(a.HardwareAddr),
			Up:           a.Flags&net.FlagUp != 0,
			Carrier:      a.RawFlags&(unix.IFF_LOWER_UP|unix.IFF_RUNNING) == unix.IFF_LOWER_UP|unix.IFF_RUNNING,
			NoARP:        a.RawFlags&unix.IFF_NOARP != 0,
			Loopback:     a.Flags&net.FlagLoopback != 0,
		}
		if a.MasterIndex != 0 {
			link.MasterKind = kinds[a.MasterIndex]
			if link.MasterKind == "" {
				link.MasterKind = unknownMaster
			}
		}
		out = append(out, link)
	}
	slices.SortFunc(out, func(a, b Link) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func sameLink(a, b Link) bool {
	return a.Name == b.Name && a.Index == b.Index && slices.Equal(a.HardwareAddr, b.HardwareAddr) &&
		a.Up == b.Up && a.Carrier == b.Carrier && a.NoARP == b.NoARP && a.Loopback == b.Loopback &&
		a.MasterKind == b.MasterKind
}
