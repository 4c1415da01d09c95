package announcer

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/ironlb/ironlb/l2/arp"
	"github.com/ironlb/ironlb/l2/iface"
	"github.com/ironlb/ironlb/l2/ndp"
)

// Sockets opens responders on raw sockets of the network namespace the
// calling thread is in (arp.Dial, ndp.Dial). It needs CAP_NET_RAW.
type Sockets struct {
	// Logger gets the responders' debug logs; nil discards them.
	Logger *slog.Logger
}

// Open implements Opener.
func (s Sockets) Open(link iface.Link, proto Protocol, hooks Hooks) (Responder, error) {
	ifi, err := net.InterfaceByIndex(link.Index)
	if err != nil {
		return nil, fmt.Errorf("opening %s responder on %s: %w", proto, link.Name, err)
	}
	if ifi.Name != link.Name {
		return nil, fmt.Errorf("opening %s responder on %s: interface %d is now %s", proto, link.Name, link.Index, ifi.Name)
	}
	switch proto {
	case ARP:
		return arp.Dial(ifi, arp.Config{Logger: s.Logger, OnRequest: hooks.OnRequest, OnAnswer: hooks.OnAnswer})
	case NDP:
		return ndp.Dial(ifi, ndp.Config{Logger: s.Logger, OnRequest: hooks.OnRequest, OnAnswer: hooks.OnAnswer})
	}
	return nil, fmt.Errorf("opening responder on %s: unknown protocol %q", link.Name, proto)
}
