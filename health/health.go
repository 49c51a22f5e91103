// Package health is the admin listener's handler: /healthz (the process answers), /readyz (it can serve:
// every check passes and it is not shutting down) and /metrics. It is never mounted on a legacy listener,
// where these paths get the app's own 404.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Check is one readiness condition; its error's text is the short reason /readyz gives, so it must not
// carry secrets.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Admin answers the admin paths.
type Admin struct {
	Checks  []Check
	Metrics http.Handler // nil: no /metrics
	// Timeout bounds each readiness check (default 2s).
	Timeout time.Duration
	// Debug, when set, answers /debug/pprof/ (Go's profiler; --admin-pprof).
	Debug http.Handler

	draining atomic.Bool
}

// Drain makes /readyz answer 503 from now on: the process is shutting down.
func (a *Admin) Drain() { a.draining.Store(true) }

type status struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// ServeHTTP routes /healthz, /readyz and /metrics (GET or HEAD); anything else is 404.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if a.Debug != nil && strings.HasPrefix(r.URL.Path, "/debug/pprof/") {
		a.Debug.ServeHTTP(w, r)
		return
	}
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
	default:
		write(w, r, http.StatusNotFound, status{Status: "not found"})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		write(w, r, http.StatusMethodNotAllowed, status{Status: "method not allowed"})
		return
	}
	switch r.URL.Path {
	case "/healthz":
		write(w, r, http.StatusOK, status{Status: "ok"})
	case "/readyz":
		if reason := a.unready(r.Context()); reason != "" {
			write(w, r, http.StatusServiceUnavailable, status{Status: "unavailable", Reason: reason})
			return
		}
		write(w, r, http.StatusOK, status{Status: "ready"})
	case "/metrics":
		if a.Metrics == nil {
			write(w, r, http.StatusNotFound, status{Status: "not found"})
			return
		}
		a.Metrics.ServeHTTP(w, r)
	}
}

// unready is why the process cannot serve ("" when it can).
func (a *Admin) unready(ctx context.Context) string {
	if a.draining.Load() {
		return "shutting down"
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	for _, c := range a.Checks {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		err := c.Check(cctx)
		cancel()
		if err != nil {
			return c.Name + ": " + err.Error()
		}
		if a.draining.Load() {
			return "shutting down"
		}
	}
	return ""
}

func write(w http.ResponseWriter, r *http.Request, code int, v status) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(b, '\n'))
	}
}
