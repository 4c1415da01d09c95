package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/internal/frrproc"
)

func TestParseFRRAgentFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    frrAgentConfig
		wantErr string
	}{
		{
			name: "defaults",
			args: []string{"--socket", "/run/ironlb/frr.sock", "--pathspace", "ironlb"},
			want: frrAgentConfig{socket: "/run/ironlb/frr.sock", socketMode: 0o600, peerUID: -1, pathspace: "ironlb",
				fullResyncInterval: 5 * time.Minute, restartCheck: time.Second, vtysh: "/usr/bin/vtysh", frrReload: "/usr/lib/frr/frr-reload.py"},
		},
		{
			name: "all flags",
			args: []string{"-socket=/s", "-socket-group", "-peer-uid=65532", "-full-resync-interval=0", "-restart-check-interval=0", "-vtysh=/v", "-frr-reload=/r", "-log-level=debug"},
			want: frrAgentConfig{socket: "/s", socketMode: 0o660, peerUID: 65532, vtysh: "/v", frrReload: "/r", logLevel: -4},
		},
		{name: "no socket", args: []string{"--pathspace", "x"}, wantErr: "-socket is required"},
		{name: "negative interval", args: []string{"--socket", "/s", "--full-resync-interval", "-1m"}, wantErr: "negative"},
		{name: "negative restart check", args: []string{"--socket", "/s", "--restart-check-interval", "-1s"}, wantErr: "negative"},
		{name: "negative peer uid", args: []string{"--socket", "/s", "--peer-uid", "-2"}, wantErr: "-peer-uid -2"},
		{name: "peer uid too large", args: []string{"--socket", "/s", "--peer-uid", "4294967296"}, wantErr: "-peer-uid"},
		{name: "bad level", args: []string{"--socket", "/s", "--log-level", "loud"}, wantErr: "-log-level"},
		{name: "extra args", args: []string{"--socket", "/s", "more"}, wantErr: "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFRRAgentFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(frrAgentConfig{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := parseFRRAgentFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err = %v, want flag.ErrHelp", err)
	}
}

func TestFRRAgentCommand(t *testing.T) {
	f := frrproc.StartTest(t, frrproc.Config{})
	dir, err := os.MkdirTemp("", "ilbt-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "frr.sock")

	ctx, cancel := context.WithCancel(t.Context())
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, []string{"frr-agent", "--socket", sock, "--pathspace", f.Name()}, nil, io.Discard, &stderr)
	}()
	c := agent.NewClient(sock)
	defer c.CloseIdleConnections()
	wait, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	for c.Healthz(wait) != nil {
		select {
		case <-wait.Done():
			t.Fatalf("agent did not come up; its log:\n%s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	res, err := c.Apply(ctx, []byte("router bgp 64512\n bgp router-id 192.0.2.1\nexit\n"))
	if err != nil || res.Path != apply.PathFull {
		t.Fatalf("Apply = %+v, %v; want a full apply", res, err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d; log:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(sock); err == nil {
		t.Error("socket left behind")
	}
}
