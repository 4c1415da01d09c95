package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// FuzzHandler sends arbitrary requests to the agent's handler: every one
// gets an answer with a JSON body, and only a POST /apply of text/plain
// reaches the applier.
func FuzzHandler(f *testing.F) {
	f.Add("POST", "/apply", "text/plain; charset=utf-8", []byte("router bgp 64512\n"))
	f.Add("POST", "/apply", "text/plain", []byte("bogus\n"))
	f.Add("POST", "/apply", "application/json", []byte(`{"config":"x"}`))
	f.Add("POST", "/apply", "text/plain; charset", []byte(strings.Repeat("x", 100)))
	f.Add("GET", "/status", "", []byte(nil))
	f.Add("GET", "/healthz", "", []byte(nil))
	f.Add("DELETE", "/apply", "", []byte(nil))
	f.Add("GET", "/../status", "", []byte(nil))
	f.Fuzz(func(t *testing.T, method, path, contentType string, body []byte) {
		fa := &fakeApplier{}
		s, err := New(Config{Socket: "unused.sock", MaxConfigBytes: 64}, fa, &fakeShower{})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(method, "http://frr-agent"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		ct := rec.Header().Get("Content-Type")
		if strings.HasPrefix(ct, "application/json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s answered %d with invalid JSON %q", method, path, rec.Code, rec.Body)
		}
		if len(fa.applied) > 0 && (method != http.MethodPost || req.URL.Path != "/apply" || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/plain")) {
			t.Fatalf("%s %s (%q) reached the applier", method, path, contentType)
		}
	})
}

// replyShower answers every show command with the fuzzer's bytes.
type replyShower map[string][]byte

func (r replyShower) Show(_ context.Context, cmd string) ([]byte, error) { return r[cmd], nil }

// FuzzStatusReadBack feeds arbitrary vtysh output to GET /status: the
// agent answers 200 with what it could parse, and the speaker's Client
// reads that answer back.
func FuzzStatusReadBack(f *testing.F) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../vtyshjson/testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	neigh := read("bgp_neighbors_speaker.json")
	f.Add(append(append([]byte(`{"default":`), neigh...), '}'), read("bfd_peers_speaker.json"), read("bfd_counters_speaker.json"))
	f.Add([]byte(`{"red":{"vrfName":"red","192.0.2.1":{"bgpState":"Established"}}}`), []byte(`[{"peer":"192.0.2.1","status":"up"}]`), []byte(`[]`))
	f.Add([]byte(``), []byte(`null`), []byte(`{`))
	f.Fuzz(func(t *testing.T, neighbors, bfdPeers, bfdCounters []byte) {
		shower := replyShower{
			"show bgp vrf all neighbors json": neighbors,
			"show bfd peers json":             bfdPeers,
			"show bfd peers counters json":    bfdCounters,
		}
		s, err := New(Config{Socket: "unused.sock"}, &fakeApplier{}, shower)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /status answered %d: %s", rec.Code, rec.Body)
		}
		c := &Client{http: &http.Client{Transport: replyTransport{code: rec.Code, body: rec.Body.Bytes()}}}
		if _, err := c.Status(t.Context()); err != nil {
			t.Fatalf("Client.Status on the agent's own answer %q: %v", rec.Body, err)
		}
	})
}

// replyTransport answers every request with code and body.
type replyTransport struct {
	code int
	body []byte
}

func (r replyTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: r.code, Status: http.StatusText(r.code), Body: io.NopCloser(bytes.NewReader(r.body)), Header: http.Header{}}, nil
}

// FuzzClientAnswers gives the speaker's Client arbitrary answers: it
// returns results or errors, never panics, and a failed apply is an
// error.
func FuzzClientAnswers(f *testing.F) {
	f.Add(200, []byte(`{"result":{"path":"fast","commands":1}}`))
	f.Add(200, []byte(`{"result":{"path":"full","failure":{"stage":"reload","message":"line 1"}}}`))
	f.Add(500, []byte(`{"error":"boom"}`))
	f.Add(200, []byte(`{"sessions":[{"vrf":"default"}],"bfdPeers":null,"lastApply":{"at":"2024-01-01T00:00:00Z"}}`))
	f.Add(200, []byte(`{`))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		if code < 100 || code > 999 {
			return
		}
		c := &Client{http: &http.Client{Transport: replyTransport{code: code, body: body}}}
		res, err := c.Apply(t.Context(), []byte("router bgp 64512\n"))
		if res.Failure != nil && err == nil {
			t.Fatalf("Apply returned failure %+v without an error", res.Failure)
		}
		_, _ = c.Status(t.Context())
		_ = c.Healthz(t.Context())
	})
}
