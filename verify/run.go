package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"aspgate/contracts"
	"aspgate/wirediff"
)

// Config is one verification run.
type Config struct {
	App       *contracts.App
	Target    string // the server under test: scheme://host[:port], no path
	Reference string // a server that answers as the legacy service, for cases without an Expected answer
	Cases     []Case
	// AllowWrites sends the cases that reach the service's action (Case.Writes): they may change state
	// or deliver a code or a link.
	AllowWrites bool
	Client      *http.Client // nil: a client with a 30 s timeout that neither follows redirects nor asks for gzip
	// Host is the Host header sent to both servers (404 bodies quote the request URI): the target's by default.
	Host string
}

// MaxAnswer bounds what is read of an answer.
const MaxAnswer = 4 << 20

// Result is what one case showed.
type Result struct {
	Name        string      `json:"name"`
	Class       string      `json:"class"`
	Method      string      `json:"method"`
	Target      string      `json:"target"`
	Header      [][2]string `json:"header,omitempty"`
	Body        string      `json:"body,omitempty"` // the request body (up to 2 KiB; bytes that are not UTF-8 escaped)
	Outcome     string      `json:"outcome"`        // agree, differ, skipped, error
	Reason      string      `json:"reason,omitempty"`
	Differences []string    `json:"differences,omitempty"`
	Expected    int         `json:"expectedStatus,omitempty"`
	Received    int         `json:"receivedStatus,omitempty"`
	Rule        string      `json:"rule,omitempty"` // exact or contract
}

// Report is a run's results.
type Report struct {
	App      string    `json:"app"`
	Target   string    `json:"target"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Cases    int       `json:"cases"`
	Agree    int       `json:"agree"`
	Differ   int       `json:"differ"`
	Skipped  int       `json:"skipped"`
	Errors   int       `json:"errors"`
	Results  []Result  `json:"results"`
	Writes   bool      `json:"writesAllowed"`
	Versions string    `json:"aspgate,omitempty"`
}

// Outcomes of a case.
const (
	Agree   = "agree"
	Differ  = "differ"
	Skipped = "skipped"
	Error   = "error"
)

// ErrUnreachable is returned when the target (or the reference) cannot be reached at all.
var ErrUnreachable = errors.New("verify: cannot reach the server")

// Run sends every case and compares the answers. It stops early only when the target cannot be reached
// for the first case it sends (ErrUnreachable); later connection errors are results.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second,
			Transport:     &http.Transport{DisableCompression: true, Proxy: nil, MaxIdleConnsPerHost: 4},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	host := cfg.Host
	if host == "" {
		host = strings.TrimPrefix(strings.TrimPrefix(cfg.Target, "http://"), "https://")
	}
	rep := &Report{Target: cfg.Target, Started: time.Now().UTC(), Writes: cfg.AllowWrites}
	if cfg.App != nil {
		rep.App = cfg.App.ID
	}
	sent := 0
	for _, c := range cfg.Cases {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res := Result{Name: c.Name, Class: c.Class, Method: c.Method, Target: c.Target, Header: c.Header, Body: excerpt(c.Body)}
		want := c.Expected
		if c.Writes && !cfg.AllowWrites {
			res.Outcome, res.Reason = Skipped, "reaches the service's action (may write or deliver): sent only with --allow-writes"
			rep.add(res)
			continue
		}
		if want == nil {
			if cfg.Reference == "" {
				return rep, fmt.Errorf("verify: case %q has no expected answer and there is no reference", c.Name)
			}
			a, err := send(ctx, client, cfg.Reference, host, c)
			if err != nil {
				return rep, fmt.Errorf("%w: the reference: %v", ErrUnreachable, err)
			}
			want = &a
			if !c.Writes && reachedAction(cfg.App, a) {
				c.Writes = true
				if !cfg.AllowWrites {
					res.Outcome, res.Reason = Skipped, "the reference's answer shows the action ran: sent only with --allow-writes"
					rep.add(res)
					continue
				}
			}
		}
		got, err := send(ctx, client, cfg.Target, host, c)
		if err != nil {
			if sent == 0 {
				return rep, fmt.Errorf("%w: %v", ErrUnreachable, err)
			}
			res.Outcome, res.Reason = Error, err.Error()
			rep.add(res)
			continue
		}
		sent++
		mode := wirediff.ModeFor(*want)
		res.Rule, res.Expected, res.Received = map[wirediff.Mode]string{wirediff.Exact: "exact", wirediff.Contract: "contract"}[mode], want.Status, got.Status
		for _, d := range wirediff.CompareMode(*want, got, mode) {
			res.Differences = append(res.Differences, d.String())
		}
		res.Outcome = Agree
		if len(res.Differences) > 0 {
			res.Outcome = Differ
		}
		rep.add(res)
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	return rep, nil
}

func (r *Report) add(res Result) {
	r.Cases++
	switch res.Outcome {
	case Agree:
		r.Agree++
	case Differ:
		r.Differ++
	case Skipped:
		r.Skipped++
	case Error:
		r.Errors++
	}
	r.Results = append(r.Results, res)
}

// send sends a case to a server and reads its answer.
func send(ctx context.Context, client *http.Client, base, host string, c Case) (wirediff.Answer, error) {
	req, err := http.NewRequestWithContext(ctx, c.Method, strings.TrimSuffix(base, "/")+c.Target, bytes.NewReader(c.Body))
	if err != nil {
		return wirediff.Answer{}, err
	}
	if len(c.Body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.Host = host
	for _, h := range c.Header {
		if strings.EqualFold(h[0], "Host") {
			req.Host = h[1] // the recorded case's own host, which its 404 bodies quote
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	return wirediff.Fetch(client, req, MaxAnswer)
}

// reachedAction tells, from the reference's answer, whether the request reached the service's action:
// anything but the pipeline's own refusals (404, 405, 413, 415 and 400 model errors, which are HttpError
// bodies) did. r7office's corpus marks its writes itself.
func reachedAction(app *contracts.App, a wirediff.Answer) bool {
	if app == nil || app.ASCAPI {
		return false
	}
	switch a.Status {
	case 400, 404, 405, 413, 415:
		return !isHTTPError(a)
	}
	return true
}

func isHTTPError(a wirediff.Answer) bool {
	b := bytes.TrimSpace(bytes.TrimPrefix(a.Body, []byte{0xEF, 0xBB, 0xBF}))
	if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) {
		b = bytes.ReplaceAll(b[2:], []byte{0}, nil) // ASCII-only sniffing of a UTF-16LE body
	}
	return bytes.HasPrefix(b, []byte(`{"Message":`)) || bytes.HasPrefix(b, []byte(`{"message":`)) || bytes.HasPrefix(b, []byte("<Error>")) || len(b) == 0
}

func excerpt(b []byte) string {
	if len(b) > 2048 {
		return fmt.Sprintf("%q… (%d bytes)", b[:2048], len(b))
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}
