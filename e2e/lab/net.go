package lab

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Exec runs argv inside a lab namespace ("" is the root namespace) and
// returns its combined output; the error carries the output too.
func Exec(ctx context.Context, netns string, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("exec: no command")
	}
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
	}
	return run(ctx, argv...)
}

// HTTPGet fetches url with a connection made inside fromNetns ("" is the
// root namespace) and returns the body. A status other than 200 is an
// error.
func HTTPGet(ctx context.Context, fromNetns, url string) (string, error) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var conn net.Conn
			err := inNetns(fromNetns, func() error {
				var err error
				conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return conn, err
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("http get %s: %w", url, err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", fmt.Errorf("http get %s from %s: %w", url, netnsLabel(fromNetns), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("http get %s from %s: reading body: %w", url, netnsLabel(fromNetns), err)
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("http get %s from %s: status %s", url, netnsLabel(fromNetns), resp.Status)
	}
	return string(body), nil
}

func netnsLabel(ns string) string {
	if ns == "" {
		return "the root namespace"
	}
	return "netns " + ns
}

// httpOK returns nil when url, fetched from netns, answers 200 with a
// body containing want.
func httpOK(ctx context.Context, netns, url, want string) error {
	body, err := HTTPGet(ctx, netns, url)
	if err != nil {
		return err
	}
	if !strings.Contains(body, want) {
		return fmt.Errorf("http get %s: body %q lacks %q", url, body, want)
	}
	return nil
}

// httpFromLANClient returns nil when url, fetched from the LAN client,
// answers exactly want.
func (l *Lab) httpFromLANClient(ctx context.Context, url, want string) error {
	body, err := HTTPGet(ctx, LANClientNetns, url)
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(body); got != want {
		return fmt.Errorf("http get %s: got %q, want %q", url, got, want)
	}
	return nil
}

// Ping sends ICMP echo requests from fromNetns to dst, one every 200ms,
// until a reply comes back (nil) or ctx ends.
func Ping(ctx context.Context, fromNetns string, dst netip.Addr) error {
	network, listen, proto := "ip4:icmp", "0.0.0.0", 1
	var reqType, replyType icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if dst.Is6() {
		network, listen, proto = "ip6:ipv6-icmp", "::", 58
		reqType, replyType = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	var conn *icmp.PacketConn
	err := inNetns(fromNetns, func() error {
		var err error
		conn, err = icmp.ListenPacket(network, listen)
		return err
	})
	if err != nil {
		return fmt.Errorf("ping %s: opening socket in %s: %w", dst, netnsLabel(fromNetns), err)
	}
	defer conn.Close()
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := int(binary.BigEndian.Uint16(idb[:]))
	buf := make([]byte, 1500)
	for seq := 1; ; seq++ {
		msg := icmp.Message{Type: reqType, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("ironlb-lab")}}
		wire, err := msg.Marshal(nil)
		if err != nil {
			return fmt.Errorf("ping %s: %w", dst, err)
		}
		if _, err := conn.WriteTo(wire, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
			return fmt.Errorf("ping %s from %s: %w", dst, netnsLabel(fromNetns), err)
		}
		deadline := time.Now().Add(200 * time.Millisecond)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = conn.SetReadDeadline(deadline)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				break // deadline: send the next request
			}
			got, err := icmp.ParseMessage(proto, buf[:n])
			if err != nil || got.Type != replyType {
				continue
			}
			echo, ok := got.Body.(*icmp.Echo)
			ipFrom, isIP := from.(*net.IPAddr)
			if !ok || !isIP {
				continue
			}
			if src, _ := netip.AddrFromSlice(ipFrom.IP); echo.ID == id && src.Unmap() == dst {
				return nil
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ping %s from %s: no reply: %w", dst, netnsLabel(fromNetns), err)
		}
	}
}
