package shadow

import (
	"context"
	"html/template"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"aspgate/contracts"
)

type metrics struct {
	reg         *prometheus.Registry
	compared    *prometheus.CounterVec
	differences *prometheus.CounterVec
	endpoints   map[string]bool
}

func newMetrics(s *Shadow) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), endpoints: map[string]bool{"other": true}}
	for _, r := range contracts.Routes() {
		m.endpoints["POST "+r.Path] = true
	}
	for _, r := range contracts.ASCRoutes() {
		for _, suffix := range []string{"", ".json", ".xml", ".tml"} {
			m.endpoints["POST "+r.Path()+suffix] = true
		}
	}
	counter := func(name, help string, f func() int64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) }))
	}
	counter("aspgate_shadow_requests_total", "Requests answered by the primary through the shadow.", s.requests.Load)
	counter("aspgate_shadow_mirrored_total", "Requests queued for the candidate (and secondary).", s.mirrored.Load)
	counter("aspgate_shadow_dropped_total", "Requests not mirrored because the queue was full (clients are never held).", s.dropped.Load)
	counter("aspgate_shadow_skipped_total", "Requests not mirrored: a body over --max-body, or no answer from the primary.", s.skipped.Load)
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aspgate_shadow_queue_length", Help: "Mirrored requests waiting."},
		func() float64 { return float64(len(s.jobs)) }))
	m.compared = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aspgate_shadow_compared_total",
		Help: "Mirrored requests compared, by result: agree, regression, noise (only learned differences), candidate_error."}, []string{"result"})
	m.differences = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aspgate_shadow_differences_total",
		Help: "Differences of the candidate from the primary, by endpoint and class (regression or noise)."}, []string{"endpoint", "class"})
	for _, r := range []string{"agree", "regression", "noise", "candidate_error"} {
		m.compared.WithLabelValues(r)
	}
	m.reg.MustRegister(m.compared, m.differences)
	return m
}

// endpoint bounds the endpoint label to the known routes.
func (m *metrics) endpoint(e string) string {
	if m.endpoints[e] {
		return e
	}
	return "other"
}

// AdminHandler serves the shadow's page (what it found, regressions first) at / and its metrics at
// /metrics. It belongs on an address of its own, not on the proxied one.
func (s *Shadow) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		rep, err := s.cfg.Store.Report(ctx)
		if err != nil {
			http.Error(w, "the shadow database could not be read", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = pageTmpl.Execute(w, struct {
			*Report
			Stats
			Primary, Candidate, Secondary string
		}{rep, s.Stats(), s.cfg.Primary, s.cfg.Candidate, s.cfg.Secondary})
	})
	return mux
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>aspgate shadow</title>
<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eee}.regression{color:#a00}code{font-size:90%}</style></head><body>
<h1>aspgate shadow</h1>
<p>Primary <code>{{.Primary}}</code> · candidate <code>{{.Candidate}}</code>{{if .Secondary}} · secondary <code>{{.Secondary}}</code>{{end}}</p>
<p>{{.Stats.Requests}} requests · {{.Stats.Mirrored}} mirrored · {{.Stats.Dropped}} dropped (queue full) · {{.Stats.Skipped}} not mirrored · {{.Stats.Queued}} queued
(since this start); compared in all: {{index .Totals "compared"}}, agree {{index .Totals "agree"}}, regression {{index .Totals "regression"}}, noise only {{index .Totals "noise"}}, candidate errors {{index .Totals "candidate_errors"}}.</p>
<h2 class="regression">Regressions ({{len .Regressions}})</h2>
{{if .Regressions}}<table><tr><th>endpoint</th><th>where</th><th>count</th><th>example</th><th>request</th></tr>
{{range .Regressions}}<tr><td>{{.Endpoint}}</td><td><code>{{.Path}}</code> ({{.Kind}})</td><td>{{.Count}}</td><td><code>{{.Example}}</code></td><td><code>{{.Request}}</code></td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
<h2>Noise ({{len .Noise}})</h2>
<p>Differences of the candidate that the secondary also shows against the primary.</p>
{{if .Noise}}<table><tr><th>endpoint</th><th>where</th><th>count</th><th>example</th></tr>
{{range .Noise}}<tr><td>{{.Endpoint}}</td><td><code>{{.Path}}</code> ({{.Kind}})</td><td>{{.Count}}</td><td><code>{{.Example}}</code></td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
</body></html>
`))
