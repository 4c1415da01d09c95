package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/ironlb/ironlb/frr/apply"
)

// Client talks to an agent over its unix socket. Its Apply has the
// signature of apply.Applier's, so the speaker can use either.
type Client struct {
	http *http.Client
}

// ErrNotListening is returned (wrapped) when nothing listens on the
// agent's socket yet: in a speaker pod the FRR container starts its agent
// only once FRR is up, and the speaker waits for it.
var ErrNotListening = errors.New("the frr agent is not listening")

// NewClient returns a Client for the agent listening on socket.
func NewClient(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", socket)
			if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
				return nil, fmt.Errorf("%w: %w", ErrNotListening, err)
			}
			return c, err
		},
		MaxIdleConns: 2,
	}
	return &Client{http: &http.Client{Transport: tr}}
}

// base is the URL host part; the transport ignores it.
const base = "http://frr-agent"

// Apply sends desired to the agent. A config FRR refused returns the
// Result and an *apply.Error, as apply.Applier.Apply does; a failure to
// reach the agent returns an error of its own.
func (c *Client) Apply(ctx context.Context, desired []byte) (apply.Result, error) {
	var resp ApplyResponse
	if err := c.do(ctx, http.MethodPost, "/apply", desired, &resp); err != nil {
		return apply.Result{}, fmt.Errorf("applying frr config through the agent: %w", err)
	}
	if f := resp.Result.Failure; f != nil {
		return resp.Result, &apply.Error{Failure: *f}
	}
	return resp.Result, nil
}

// Status returns the agent's view of FRR.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	if err := c.do(ctx, http.MethodGet, "/status", nil, &st); err != nil {
		return Status{}, fmt.Errorf("reading frr agent status: %w", err)
	}
	return st, nil
}

// RunningConfig returns FRR's running configuration, passwords redacted.
func (c *Client) RunningConfig(ctx context.Context) (string, error) {
	var rc RunningConfig
	if err := c.do(ctx, http.MethodGet, "/running-config", nil, &rc); err != nil {
		return "", fmt.Errorf("reading FRR's running config through the agent: %w", err)
	}
	return rc.Config, nil
}

// Healthz returns nil when the agent answers and its vtysh works.
func (c *Client) Healthz(ctx context.Context) error {
	var v struct{}
	if err := c.do(ctx, http.MethodGet, "/healthz", nil, &v); err != nil {
		return fmt.Errorf("checking frr agent health: %w", err)
	}
	return nil
}

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

func (c *Client) do(ctx context.Context, method, path string, body []byte, v any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", applyContentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, eb.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding answer to %s %s: %w", method, path, err)
	}
	return nil
}
