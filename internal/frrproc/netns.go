package frrproc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
)

// UniqueName returns prefix followed by 8 random hex digits, for
// pathspaces and namespaces that must not clash with a parallel test.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// AddNetns creates a network namespace (`ip netns add`) and brings its
// loopback up.
func AddNetns(ctx context.Context, name string) error {
	if err := ip(ctx, "netns", "add", name); err != nil {
		return err
	}
	if err := ip(ctx, "-n", name, "link", "set", "lo", "up"); err != nil {
		_ = ip(context.WithoutCancel(ctx), "netns", "del", name)
		return err
	}
	return nil
}

// DeleteNetns removes a network namespace (`ip netns del`); the veths in
// it go with it.
func DeleteNetns(ctx context.Context, name string) error {
	return ip(ctx, "netns", "del", name)
}

// IP runs `ip ARGS...` and returns its error with ip's message, for test
// setup such as veths and addresses inside namespaces.
func IP(ctx context.Context, args ...string) error { return ip(ctx, args...) }

func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("running ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Veth links namespace nsA to nsB with a veth pair (ifA in nsA, ifB in
// nsB), gives each end its address in prefix form (e.g. "192.0.2.1/24";
// empty for none) and brings both up. The pair is made inside nsA, so
// the root namespace never sees it.
func Veth(ctx context.Context, nsA, ifA, addrA, nsB, ifB, addrB string) error {
	if err := ip(ctx, "-n", nsA, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", nsB); err != nil {
		return err
	}
	for _, end := range []struct{ ns, ifc, addr string }{{nsA, ifA, addrA}, {nsB, ifB, addrB}} {
		if end.addr != "" {
			if err := ip(ctx, "-n", end.ns, "addr", "add", end.addr, "dev", end.ifc); err != nil {
				return err
			}
		}
		if err := ip(ctx, "-n", end.ns, "link", "set", end.ifc, "up"); err != nil {
			return err
		}
	}
	return nil
}
