package lab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestForward(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "backend")
	}))
	defer backend.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Forward(ctx, ln, "", strings.TrimPrefix(backend.URL, "http://")) }()

	for range 3 {
		body, err := HTTPGet(t.Context(), "", "http://"+ln.Addr().String()+"/")
		if err != nil || body != "backend" {
			t.Fatalf("HTTPGet through the forwarder = %q, %v; want \"backend\"", body, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Forward() = %v after cancel, want nil", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Errorf("listener still accepts after Forward returned")
	}
}
