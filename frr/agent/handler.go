package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// applyContentType is the media type of POST /apply's body: the
// frr.conf text itself, sent as it is (a JSON string would escape and
// copy a config of megabytes twice more).
const applyContentType = "text/plain; charset=utf-8"

// ApplyResponse is the answer to POST /apply. A failed apply has
// Result.Failure set.
type ApplyResponse struct {
	Result apply.Result `json:"result"`
}

// Status is the answer to GET /status. A part that could not be read
// is empty and its error is in Errors.
type Status struct {
	// Sessions are the BGP neighbors of every VRF, each with its VRF.
	Sessions    []vtyshjson.BGPNeighbor `json:"sessions"`
	BFDPeers    []vtyshjson.BFDPeer     `json:"bfdPeers"`
	BFDCounters []vtyshjson.BFDCounters `json:"bfdCounters,omitempty"`
	LastApply   *Record                 `json:"lastApply,omitempty"`
	LastResync  *Record                 `json:"lastResync,omitempty"`
	Errors      []string                `json:"errors,omitempty"`
}

// applyTimeout bounds one apply (a full reload of a large config takes
// seconds).
const applyTimeout = 5 * time.Minute

// errorBody is the body of a 4xx/5xx answer.
type errorBody struct {
	Error string `json:"error"`
}

// Handler returns the agent's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apply", s.handleApply)
	mux.HandleFunc("GET /status", s.handleStatus)
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /running-config", s.handleRunningConfig)
	return mux
}

func (s *Server) handleApply(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "text/plain" {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: fmt.Sprintf("apply request: content type %q, want %q", r.Header.Get("Content-Type"), applyContentType)})
		return
	}
	config, err := readBody(w, r, s.cfg.MaxConfigBytes)
	if err != nil {
		code := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			code = http.StatusRequestEntityTooLarge
		}
		writeJSON(w, code, errorBody{Error: "reading apply request: " + err.Error()})
		return
	}
	// An apply runs to its end even when the client goes away: a vtysh
	// killed halfway leaves FRR in a state nobody asked for.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), applyTimeout)
	defer cancel()
	res, err := s.applyConfig(ctx, config)
	if err != nil && res.Failure == nil {
		// Not an apply failure FRR reported (e.g. the request was
		// cancelled): still answer with a typed failure.
		f := apply.Failure{Stage: apply.StageReload, Message: apply.Redact(err.Error())}
		var ae *apply.Error
		if errors.As(err, &ae) {
			f = ae.Failure
		}
		res.Failure = &f
	}
	s.mu.Lock()
	s.lastApply = &Record{At: time.Now(), Result: res}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, ApplyResponse{Result: res})
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	var st Status
	if out, err := s.shower.Show(ctx, vtyshjson.CmdBGPNeighborsAllVRFs); err != nil {
		st.Errors = append(st.Errors, err.Error())
	} else if st.Sessions, err = vtyshjson.ParseBGPNeighborsAllVRFs(out); err != nil {
		st.Errors = append(st.Errors, err.Error())
	}
	if out, err := s.shower.Show(ctx, vtyshjson.CmdBFDPeers); err != nil {
		st.Errors = append(st.Errors, err.Error())
	} else if st.BFDPeers, err = vtyshjson.ParseBFDPeers(out); err != nil {
		st.Errors = append(st.Errors, err.Error())
	}
	if out, err := s.shower.Show(ctx, vtyshjson.CmdBFDCounters); err != nil {
		st.Errors = append(st.Errors, err.Error())
	} else if st.BFDCounters, err = vtyshjson.ParseBFDCounters(out); err != nil {
		st.Errors = append(st.Errors, err.Error())
	}
	s.mu.Lock()
	st.LastApply, st.LastResync = s.lastApply, s.lastResync
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

// RunningConfig is the answer to GET /running-config.
type RunningConfig struct {
	// Config is FRR's `show running-config`, passwords redacted.
	Config string `json:"config"`
}

func (s *Server) handleRunningConfig(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	out, err := s.shower.Show(ctx, "show running-config")
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: apply.Redact(err.Error())})
		return
	}
	writeJSON(w, http.StatusOK, RunningConfig{Config: apply.Redact(string(out))})
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if _, err := s.shower.Show(ctx, "show version"); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"ok"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// readBody reads a request body of at most limit bytes, in one
// allocation when the client said its length.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), limit)+1))
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
