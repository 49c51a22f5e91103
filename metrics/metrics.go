// Package metrics is aspgate's Prometheus registry: the requests of every face, the domain outcomes and
// limit refusals, the outbox, the password hasher and the database, and the Go and process collectors.
// Every label value comes from a fixed set (apps, route names, formats, status codes, outcomes, limits):
// a value outside its set is counted as "other", so no request can add a series.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"aspgate/account"
)

const namespace = "aspgate"

// Labels are the label values the metrics accept besides the outcomes and limits (account's).
type Labels struct {
	Apps      []string // app ids
	Endpoints []string // route names, as handlers.RequestInfo.Endpoint
}

// Metrics holds the registry and the instruments.
type Metrics struct {
	reg       *prometheus.Registry
	apps      map[string]bool
	endpoints map[string]bool
	outcomes  map[string]bool
	limits    map[string]bool
	series    sync.Map // requestKey -> *requestSeries
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	outcome   *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	hashWait  prometheus.Histogram
	txSeconds *prometheus.HistogramVec
}

// New makes the registry with the Go and process collectors and build information.
func New(l Labels, version, revision string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), apps: set(l.Apps), endpoints: set(l.Endpoints), outcomes: map[string]bool{},
		limits: set(account.LimitNames())}
	for _, o := range account.Outcomes() {
		m.outcomes[string(o)] = true
	}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "requests_total",
		Help: "Requests answered, by app, route, response format and HTTP status."}, []string{"app", "endpoint", "format", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "request_duration_seconds",
		Help:    "Time from the request's arrival to its answer, by app and route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15}}, []string{"app", "endpoint"})
	m.outcome = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "outcomes_total",
		Help: "How requests ended in the domain (code_sent, code_rejected, password_reset, token_issued, auth_failed, ...), by app."},
		[]string{"app", "outcome"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "limit_refusals_total",
		Help: "Requests refused by a send or sign-in limit, by limit."}, []string{"limit"})
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "hash_wait_seconds",
		Help:    "Time a password hash or verification waited for a hashing slot.",
		Buckets: []float64{0, .001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5}})
	m.txSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "db_transaction_seconds",
		Help:    "Database transaction time, from begin (for writes, including the wait for the writer) to commit.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 5}}, []string{"kind"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help: "The running build: module version and VCS revision.", ConstLabels: prometheus.Labels{"version": version, "revision": revision}})
	build.Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.outcome, m.refusals, m.hashWait, m.txSeconds, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, kind := range []string{"read", "write"} {
		m.txSeconds.WithLabelValues(kind)
	}
	for _, lim := range account.LimitNames() {
		m.refusals.WithLabelValues(lim)
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil, ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the registry, for tests and for more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func set(values []string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

var formats = map[string]bool{"json": true, "xml": true, "html": true} // html: the Help pages

func bounded(v string, allowed map[string]bool) string {
	switch {
	case v == "":
		return "none"
	case allowed[v]:
		return v
	}
	return "other"
}

// requestKey is one combination of a request's label values (bounded, so the cache is too).
type requestKey struct {
	app, endpoint, format, outcome, limit string
	status                                int
}

// requestSeries are the series a requestKey counts in, looked up once.
type requestSeries struct {
	requests, outcome, refusal prometheus.Counter
	duration                   prometheus.Observer
}

// ObserveRequest counts one answered request (handlers.Observer).
func (m *Metrics) ObserveRequest(app, endpoint, format string, status int, outcome, limit string, d time.Duration) {
	if status < 100 || status > 599 {
		status = 0
	}
	k := requestKey{bounded(app, m.apps), bounded(endpoint, m.endpoints), bounded(format, formats), bounded(outcome, m.outcomes),
		"", status}
	if limit != "" {
		k.limit = bounded(limit, m.limits)
	}
	s, ok := m.series.Load(k)
	if !ok {
		code := "other"
		if k.status != 0 {
			code = strconv.Itoa(k.status)
		}
		rs := &requestSeries{requests: m.requests.WithLabelValues(k.app, k.endpoint, k.format, code),
			duration: m.duration.WithLabelValues(k.app, k.endpoint), outcome: m.outcome.WithLabelValues(k.app, k.outcome)}
		if k.limit != "" {
			rs.refusal = m.refusals.WithLabelValues(k.limit)
		}
		s, _ = m.series.LoadOrStore(k, rs)
	}
	rs := s.(*requestSeries)
	rs.requests.Inc()
	rs.duration.Observe(d.Seconds())
	rs.outcome.Inc()
	if rs.refusal != nil {
		rs.refusal.Inc()
	}
}

// ObserveHashWait records a hasher slot wait (account.Hasher.ObserveWait).
func (m *Metrics) ObserveHashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// ObserveTx records a database transaction (store.Options.ObserveTx).
func (m *Metrics) ObserveTx(write bool, d time.Duration) {
	kind := "read"
	if write {
		kind = "write"
	}
	m.txSeconds.WithLabelValues(kind).Observe(d.Seconds())
}

// Hasher is what the hash gauges read.
type Hasher interface {
	InUse() int
	Slots() int
}

// WatchHasher adds aspgate_hash_slots_in_use and aspgate_hash_slots.
func (m *Metrics) WatchHasher(h Hasher) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "hash_slots_in_use",
			Help: "Password hashes or verifications running now."}, func() float64 { return float64(h.InUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "hash_slots",
			Help: "Password hashes or verifications that may run at once (--hash-concurrency)."}, func() float64 { return float64(h.Slots()) }))
}

// DeliveryStats are the dispatcher's counters.
type DeliveryStats func() (sent, failed, dead uint64)

// WatchDelivery adds aspgate_outbox_messages_total{result} from the dispatcher's counters.
func (m *Metrics) WatchDelivery(stats DeliveryStats) {
	m.reg.MustRegister(&deliveryCollector{stats: stats, desc: prometheus.NewDesc(namespace+"_outbox_messages_total",
		"Outbox delivery attempts by this process since it started: sent, failed (each failed attempt), dead (given up).",
		[]string{"result"}, nil)})
}

type deliveryCollector struct {
	stats DeliveryStats
	desc  *prometheus.Desc
}

func (c *deliveryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	sent, failed, dead := c.stats()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(sent), "sent")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(failed), "failed")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(dead), "dead")
}

// Backlog reads the outbox's waiting messages (store.DB.OutboxBacklog).
type Backlog func(ctx context.Context) (pending int, oldest time.Time, err error)

// WatchOutbox adds aspgate_outbox_pending and aspgate_outbox_oldest_pending_age_seconds, read from the
// database at each scrape (both absent when the read fails; aspgate_outbox_scrape_errors_total counts
// that).
func (m *Metrics) WatchOutbox(backlog Backlog, now func() time.Time) {
	c := &outboxCollector{backlog: backlog, now: now,
		pending: prometheus.NewDesc(namespace+"_outbox_pending", "Messages waiting to be delivered (pending or being sent).", nil, nil),
		oldest: prometheus.NewDesc(namespace+"_outbox_oldest_pending_age_seconds",
			"Age of the oldest message waiting to be delivered (0 when none waits).", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "outbox_scrape_errors_total",
			Help: "Scrapes that could not read the outbox."})}
	m.reg.MustRegister(c)
}

type outboxCollector struct {
	backlog         Backlog
	now             func() time.Time
	pending, oldest *prometheus.Desc
	errors          prometheus.Counter
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.oldest
	c.errors.Describe(ch)
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, oldest, err := c.backlog(ctx)
	if err != nil {
		c.errors.Inc()
	} else {
		age := 0.0
		if !oldest.IsZero() {
			age = max(c.now().Sub(oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
	}
	c.errors.Collect(ch)
}
