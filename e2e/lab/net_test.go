package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// testNetns makes a namespace with lo up and a veth pair, 192.0.2.50/24
// on one end, deleted when t ends.
func testNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "ilbt-lab-" + hex.EncodeToString(b)
	if _, err := run(t.Context(), "ip", "netns", "add", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := run(context.Background(), "ip", "netns", "del", name); err != nil {
			t.Error(err)
		}
	})
	for _, argv := range [][]string{
		{"ip", "-n", name, "link", "set", "lo", "up"},
		{"ip", "-n", name, "link", "add", "va", "type", "veth", "peer", "name", "vb"},
		{"ip", "-n", name, "addr", "add", "192.0.2.50/24", "dev", "va"},
		{"ip", "-n", name, "link", "set", "va", "up"},
		{"ip", "-n", name, "link", "set", "vb", "up"},
	} {
		if _, err := run(t.Context(), argv...); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

func TestPingAndHTTPInNetns(t *testing.T) {
	ns := testNetns(t)
	for _, a := range []string{"127.0.0.1", "::1", "192.0.2.50"} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		if err := Ping(ctx, ns, netip.MustParseAddr(a)); err != nil {
			t.Errorf("Ping(%s) in %s: %v", a, ns, err)
		}
		cancel()
	}
	// Nobody has 192.0.2.51: no reply within the context.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := Ping(ctx, ns, netip.MustParseAddr("192.0.2.51")); err == nil {
		t.Errorf("Ping(192.0.2.51): nil error, but nobody has that address")
	}

	// A server listening inside the namespace is reached from inside it,
	// and the same port in the root namespace is another socket.
	var ln net.Listener
	err := inNetns(ns, func() error {
		var err error
		ln, err = net.Listen("tcp", "192.0.2.50:0")
		return err
	})
	if err != nil {
		t.Fatalf("listening in %s: %v", ns, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("inside")) })}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/"
	body, err := HTTPGet(t.Context(), ns, url)
	if err != nil || body != "inside" {
		t.Errorf("HTTPGet(%s) from %s = %q, %v; want \"inside\"", url, ns, body, err)
	}
	out, err := Exec(t.Context(), ns, "ip", "-br", "addr", "show", "dev", "va")
	if err != nil || !strings.Contains(string(out), "192.0.2.50/24") {
		t.Errorf("Exec in %s = %q, %v", ns, out, err)
	}
}
