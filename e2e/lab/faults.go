package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// StopProcess stops the running process of that name (SIGTERM, then
// SIGKILL after a grace) and returns once it is gone. Tests use it to
// take parts of the lab away, the API server or etcd; StartProcess
// starts it again.
func (l *Lab) StopProcess(ctx context.Context, name string) error {
	s, err := l.process(name)
	if err != nil {
		return err
	}
	if err := stopProcs(ctx, []procID{s.id}, map[int]<-chan struct{}{s.id.pid: s.exited}); err != nil {
		return fmt.Errorf("stopping %s: %w", name, err)
	}
	return nil
}

// StartProcess starts a process that StopProcess stopped (or that died)
// again, as Up started it, and returns once it serves. Processes then
// lists the new one in the old one's place.
func (l *Lab) StartProcess(ctx context.Context, name string) error {
	old, err := l.process(name)
	if err != nil {
		return err
	}
	if err := old.running(); err == nil {
		return fmt.Errorf("starting %s: pid %d still runs", name, old.id.pid)
	}
	s, err := startProc(old.spec, l.cfg.path(pidsDir), l.cfg.path(logsDir))
	if err != nil {
		return err
	}
	l.mu.Lock()
	for i, p := range l.procs {
		if p == old {
			l.procs[i] = s
		}
	}
	l.mu.Unlock()
	return l.waitReady(ctx, s)
}

func (l *Lab) process(name string) (*started, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.procs {
		if s.spec.name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("the lab has no process %q", name)
}

// CompactEtcd compacts etcd's history up to its current revision and
// returns that revision: a watch that resumes from an older resource
// version can then only get 410 Gone (from the API server's watch
// cache or from etcd) and must list again.
func (l *Lab) CompactEtcd(ctx context.Context) (int64, error) {
	// etcd's JSON gateway: a range read returns the store's revision.
	var rng struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	if err := etcdPost(ctx, "/v3/kv/range", map[string]any{"key": "AA==", "limit": 1}, &rng); err != nil {
		return 0, fmt.Errorf("compacting etcd: reading the revision: %w", err)
	}
	rev, err := strconv.ParseInt(rng.Header.Revision, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("compacting etcd: revision %q: %w", rng.Header.Revision, err)
	}
	if err := etcdPost(ctx, "/v3/kv/compaction", map[string]any{"revision": rev, "physical": true}, nil); err != nil {
		return 0, fmt.Errorf("compacting etcd at revision %d: %w", rev, err)
	}
	return rev, nil
}

// etcdPost sends a request to etcd's JSON gateway from the control-plane
// namespace and decodes the answer into out (nil: discarded).
func etcdPost(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var conn net.Conn
			err := inNetns(ControlPlaneNetns, func() error {
				var err error
				conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return conn, err
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+cpAddr(EtcdClientPort)+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: status %s: %s", path, resp.Status, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
