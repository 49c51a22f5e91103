// Package shadow is `aspgate shadow`: a reverse proxy whose clients get the primary's answers unchanged,
// while each request is mirrored — off the client's path, through a bounded queue — to a candidate and
// optionally a secondary, and the candidate's answer compared with the primary's by wirediff's rules.
// Differences that the secondary (a second instance of what the primary runs) also shows are noise:
// random session ids, tokens, dates. They are learned per endpoint and place, and not reported as
// regressions.
package shadow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"aspgate/contracts"
	"aspgate/recorder"
	"aspgate/wirediff"
	"aspgate/wireproxy"
)

// MirrorHeader marks a mirrored request. aspgate serve refuses a marked request when it could deliver a
// code or link for real (see the README), so a mirror never sends a second message; the shadow removes
// the mark from what clients send before passing it to the primary.
const MirrorHeader = "X-Aspgate-Mirror"

// Config is a shadow's setting.
type Config struct {
	Primary, Candidate, Secondary string // scheme://host[:port]
	Store                         *Store
	Queue                         int   // mirrored requests waiting (default 1000); beyond it they are dropped and counted
	Workers                       int   // mirrors in flight (default 4)
	MaxBody                       int64 // longest body mirrored (default 1 MiB); longer exchanges pass unmirrored
	Timeout                       time.Duration
	Log                           *slog.Logger
}

// Shadow is a running shadow proxy.
type Shadow struct {
	cfg    Config
	proxy  *wireproxy.Proxy
	client *http.Client
	jobs   chan *wireproxy.Exchange
	wg     sync.WaitGroup

	mu    sync.Mutex
	noise map[string]bool

	closing sync.RWMutex // held for reading while a job is queued; Shutdown takes it to close jobs
	closed  bool

	requests, mirrored, dropped, skipped atomic.Int64
	metrics                              *metrics
}

// New checks the setting and loads the noise learned before.
func New(cfg Config) (*Shadow, error) {
	if cfg.Primary == "" || cfg.Candidate == "" || cfg.Store == nil {
		return nil, errors.New("shadow: a primary, a candidate and a store are required")
	}
	same := func(a, b string) bool {
		return b != "" && strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
	}
	if same(cfg.Primary, cfg.Candidate) || same(cfg.Primary, cfg.Secondary) || same(cfg.Candidate, cfg.Secondary) {
		// Mirroring to the primary itself would run every request twice there: a second code sent.
		return nil, errors.New("shadow: the primary, the candidate and the secondary must be three different servers")
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 1000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	noise, err := cfg.Store.noiseKeys(context.Background())
	if err != nil {
		return nil, err
	}
	s := &Shadow{cfg: cfg, client: wireproxy.NewClient(cfg.Timeout), jobs: make(chan *wireproxy.Exchange, cfg.Queue), noise: noise}
	s.metrics = newMetrics(s)
	s.proxy = &wireproxy.Proxy{Upstream: strings.TrimSuffix(cfg.Primary, "/"), Observe: s.observe, MaxBody: cfg.MaxBody,
		StripHeaders: []string{MirrorHeader}, Client: wireproxy.NewClient(cfg.Timeout), Log: cfg.Log}
	return s, nil
}

// Serve proxies the connections of ln until Shutdown.
func (s *Shadow) Serve(ln net.Listener) error {
	for range s.cfg.Workers {
		s.wg.Add(1)
		go s.worker()
	}
	return s.proxy.Serve(ln)
}

// Shutdown stops taking requests, lets those in flight finish, then compares what is queued (until ctx
// ends; what is left is counted as dropped).
func (s *Shadow) Shutdown(ctx context.Context) error {
	err := s.proxy.Shutdown(ctx)
	s.closing.Lock()
	if !s.closed { // a second Shutdown only waits
		s.closed = true
		close(s.jobs)
	}
	s.closing.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

// observe runs on the client's connection after its answer is written: it never waits.
func (s *Shadow) observe(ex *wireproxy.Exchange) {
	s.requests.Add(1)
	if ex.Err != nil || ex.Truncated {
		s.skipped.Add(1)
		return
	}
	s.closing.RLock()
	defer s.closing.RUnlock()
	if s.closed {
		s.dropped.Add(1)
		return
	}
	select {
	case s.jobs <- ex:
		s.mirrored.Add(1)
	default:
		s.dropped.Add(1)
	}
}

func (s *Shadow) worker() {
	defer s.wg.Done()
	for ex := range s.jobs {
		s.compare(ex)
	}
}

// compare mirrors one exchange and records what differs.
func (s *Shadow) compare(ex *wireproxy.Exchange) {
	primary := wirediff.Answer{Status: ex.Status, Reason: ex.Reason, Header: ex.RespHeader, Body: ex.RespBody}
	endpoint := Endpoint(ex.Method, ex.Target)
	var cand, sec wirediff.Answer
	var candErr, secErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); cand, candErr = s.mirror(s.cfg.Candidate, ex) }()
	if s.cfg.Secondary != "" {
		wg.Add(1)
		go func() { defer wg.Done(); sec, secErr = s.mirror(s.cfg.Secondary, ex) }()
	}
	wg.Wait()
	var learned, found []Finding
	if s.cfg.Secondary != "" && secErr == nil {
		for _, d := range wirediff.Compare(primary, sec) {
			learned = append(learned, Finding{Endpoint: endpoint, Path: d.Path, Kind: d.Kind, Example: d.String()})
		}
	}
	s.mu.Lock()
	for _, n := range learned {
		s.noise[noiseKey(n.Endpoint, n.Path, n.Kind)] = true
	}
	s.mu.Unlock()
	totals := map[string]int{"compared": 1}
	result := "agree"
	if candErr != nil {
		found = append(found, Finding{Endpoint: endpoint, Path: "candidate", Kind: "unreachable", Example: "candidate: " + candErr.Error()})
		totals["candidate_errors"] = 1
		result = "candidate_error"
	} else {
		regressions, noisy := 0, 0
		for _, d := range wirediff.Compare(primary, cand) {
			found = append(found, Finding{Endpoint: endpoint, Path: d.Path, Kind: d.Kind, Example: d.String()})
			s.mu.Lock()
			isNoise := s.noise[noiseKey(endpoint, d.Path, d.Kind)]
			s.mu.Unlock()
			if isNoise {
				noisy++
				s.metrics.differences.WithLabelValues(s.metrics.endpoint(endpoint), "noise").Inc()
			} else {
				regressions++
				s.metrics.differences.WithLabelValues(s.metrics.endpoint(endpoint), "regression").Inc()
			}
		}
		switch {
		case regressions > 0:
			result = "regression"
		case noisy > 0:
			result = "noise"
		}
	}
	if len(found) > 0 {
		// Only a difference keeps its request (redacted): an agreeing one costs no redaction.
		request := describe(ex)
		for i := range found {
			found[i].Request = request
		}
	}
	totals[result] = 1
	if secErr != nil {
		totals["secondary_errors"] = 1
	}
	s.metrics.compared.WithLabelValues(result).Inc()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.cfg.Store.compared(ctx, learned, found, totals); err != nil {
		s.cfg.Log.Error("shadow: recording a comparison failed", "error", err.Error())
	}
}

// mirror sends the exchange's request to a server, marked as a mirror.
func (s *Shadow) mirror(base string, ex *wireproxy.Exchange) (wirediff.Answer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, ex.Method, strings.TrimSuffix(base, "/")+ex.Target, bytes.NewReader(ex.Body))
	if err != nil {
		return wirediff.Answer{}, err
	}
	if len(ex.Body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.Header = ex.Header.Clone()
	for _, h := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Upgrade", "Content-Length"} {
		req.Header.Del(h)
	}
	req.Header.Set(MirrorHeader, "1")
	req.Host = ex.Host
	return wirediff.Fetch(s.client, req, s.cfg.MaxBody+1)
}

// describe is the request as a report shows it, its secrets redacted.
func describe(ex *wireproxy.Exchange) string {
	r := recorder.NewRedactor()
	body := r.Text(r.Body(ex.Header.Get("Content-Type"), ex.Body))
	target := string(r.Text([]byte(r.Target(ex.Target))))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", ex.Method, target)
	for _, k := range []string{"Content-Type", "Accept", "Accept-Charset"} {
		if v := ex.Header.Get(k); v != "" {
			fmt.Fprintf(&b, " -H '%s: %s'", k, v)
		}
	}
	if len(body) > 0 {
		if len(body) > 1024 {
			body = append(body[:1024:1024], "…"...)
		}
		fmt.Fprintf(&b, " --data '%s'", bytes.ToValidUTF8(body, []byte("\uFFFD")))
	}
	return b.String()
}

// Endpoint names the route a request went to, for grouping: the legacy routes as the contract tables
// write them (matched ignoring case and a trailing slash; r7office's sign-in code as {code}), anything
// else "other" — so a scan of random paths cannot grow the groups.
func Endpoint(method, target string) string {
	path, _, _ := strings.Cut(target, "?")
	p := strings.Trim(path, "/")
	for _, r := range contracts.Routes() {
		if strings.EqualFold(p, r.Path) {
			return method + " " + r.Path
		}
	}
	lower := strings.ToLower(p)
	base := strings.ToLower(contracts.ASCBase)
	if lower == base || strings.HasPrefix(lower, base+".") || strings.HasPrefix(lower, base+"/") {
		rest := strings.TrimPrefix(p[len(base):], "/")
		name, suffix, _ := strings.Cut(rest, ".")
		if suffix != "" {
			suffix = "." + strings.ToLower(suffix)
		}
		switch strings.ToLower(name) {
		case "":
			return method + " " + contracts.ASCBase + suffix
		case "setphone", "sendsms":
			return method + " " + contracts.ASCBase + "/" + strings.ToLower(name) + suffix
		}
		if !strings.Contains(name, "/") {
			return method + " " + contracts.ASCBase + "/{code}" + suffix
		}
	}
	return "other"
}

// Stats are the shadow's counters.
type Stats struct {
	Requests, Mirrored, Dropped, Skipped int64
	Queued                               int
}

// Stats reads the counters.
func (s *Shadow) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Mirrored: s.mirrored.Load(), Dropped: s.dropped.Load(), Skipped: s.skipped.Load(), Queued: len(s.jobs)}
}

// Registry is the shadow's Prometheus registry.
func (s *Shadow) Registry() *prometheus.Registry { return s.metrics.reg }
