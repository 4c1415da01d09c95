package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
)

// Forward joins every connection accepted on ln to a new connection to
// the address to, dialled inside netns, until ctx ends; then it closes
// the listener and every connection and returns nil. The lab runs it (as
// `ironlb lab forward`) so the root namespace reaches the API server on
// 127.0.0.1.
func Forward(ctx context.Context, ln net.Listener, netns, to string) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("forwarding: accepting: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			forwardConn(ctx, c, netns, to)
		}()
	}
}

func forwardConn(ctx context.Context, c net.Conn, netns, to string) {
	defer c.Close()
	var up net.Conn
	err := inNetns(netns, func() error {
		var err error
		up, err = (&net.Dialer{}).DialContext(ctx, "tcp", to)
		return err
	})
	if err != nil {
		return
	}
	defer up.Close()
	// Either side ending, or ctx, ends both.
	stop := context.AfterFunc(ctx, func() {
		c.Close()
		up.Close()
	})
	defer stop()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}
