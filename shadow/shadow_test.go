package shadow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// legacyLike answers like a legacy service with random values: a 200 with a random SessionId, a 400
// whose message quotes a random request id, a 405 with Allow. broken, when set, changes its answers.
type legacyLike struct {
	broken  bool
	mirrors atomic.Int64 // requests that carried the mirror mark
	hold    chan struct{}
}

func (l *legacyLike) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(MirrorHeader) != "" {
		l.mirrors.Add(1)
	}
	if l.hold != nil {
		<-l.hold
	}
	io.Copy(io.Discard, r.Body)
	var b [8]byte
	rand.Read(b[:])
	random := hex.EncodeToString(b[:])
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case r.Method != http.MethodPost:
		if !l.broken {
			w.Header().Set("Allow", "POST")
		}
		w.WriteHeader(405)
		io.WriteString(w, `{"Message":"The requested resource does not support http method '`+r.Method+`'."}`)
	case strings.EqualFold(r.URL.Path, "/api/user/RememberMessage"):
		code := `0`
		if l.broken {
			code = `"0"`
		}
		fmt.Fprintf(w, `{"SessionId":"%s","ErrorCode":%s,"Message":null}`, random, code)
	default:
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"Message":"The request is invalid.","ModelState":{"model":["Request %s refused."]}}`, random)
	}
}

func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func startShadow(t testing.TB, cfg Config) (*Shadow, string) {
	t.Helper()
	st, err := OpenStore(filepath.Join(t.TempDir(), "shadow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store = st
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(context.Background()) }) // before the store closes (cleanups run last first)
	return s, "http://" + ln.Addr().String()
}

type traffic struct{ method, path, body string }

var someTraffic = []traffic{
	{"POST", "/api/user/RememberMessage", `{"Phone":79990000000}`},
	{"POST", "/api/Account/ResetPassword", `{"UserId":1,"Code":"123456","NewPassword":"pw-secret-1"}`},
	{"GET", "/api/user/RememberMessage", ""},
	{"POST", "/api/user/RememberMessage", `{"Email":"a@example.invalid"}`},
	{"POST", "/api/Account/ResetPassword", `{"UserId":2,"Code":"654321","NewPassword":"pw-secret-2"}`},
}

// send runs the traffic through the shadow and returns what the clients got.
func send(t *testing.T, base string, tr []traffic, client *http.Client) []string {
	t.Helper()
	var got []string
	for _, q := range tr {
		req, _ := http.NewRequest(q.method, base+q.path, strings.NewReader(q.body))
		if q.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got = append(got, fmt.Sprintf("%d %s %s", res.StatusCode, res.Header.Get("Allow"), b))
	}
	return got
}

func stop(t *testing.T, s *Shadow) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := s.cfg.Store.Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestRandomValuesAreNoise: primary, secondary and candidate run the same service and differ only in
// random values; nothing is a regression, and the 400's random text is learned as noise.
func TestRandomValuesAreNoise(t *testing.T) {
	cand := &legacyLike{}
	s, base := startShadow(t, Config{Primary: serve(t, &legacyLike{}), Secondary: serve(t, &legacyLike{}), Candidate: serve(t, cand), Workers: 1})
	for range 4 {
		send(t, base, someTraffic, http.DefaultClient)
	}
	rep := stop(t, s)
	if len(rep.Regressions) != 0 {
		t.Errorf("regressions: %+v", rep.Regressions)
	}
	if len(rep.Noise) != 1 || rep.Noise[0].Endpoint != "POST api/Account/ResetPassword" || rep.Noise[0].Path != "/ModelState/model/0" ||
		rep.Noise[0].Kind != "value" || rep.Noise[0].Count != 8 {
		t.Errorf("noise: %+v", rep.Noise)
	}
	if rep.Totals["compared"] != 20 || rep.Totals["agree"] != 12 || rep.Totals["noise"] != 8 || cand.mirrors.Load() != 20 {
		t.Errorf("totals %v, candidate saw %d marked requests", rep.Totals, cand.mirrors.Load())
	}
	for _, g := range rep.Noise {
		if strings.Contains(g.Request, "pw-secret") || strings.Contains(g.Request, "123456") {
			t.Errorf("a secret is kept: %s", g.Request)
		}
	}
}

// TestBrokenCandidateIsReported: a candidate that drops Allow and writes ErrorCode as a string is
// reported with exactly those regressions, the random text still only noise; clients get the primary's
// answers all along.
func TestBrokenCandidateIsReported(t *testing.T) {
	primary := serve(t, &legacyLike{})
	s, base := startShadow(t, Config{Primary: primary, Secondary: serve(t, &legacyLike{}), Candidate: serve(t, &legacyLike{broken: true}), Workers: 2})
	got := send(t, base, someTraffic, http.DefaultClient)
	if !strings.HasPrefix(got[2], "405 POST ") || !strings.Contains(got[0], `"ErrorCode":0,`) {
		t.Errorf("the clients did not get the primary's answers: %q", got)
	}
	send(t, base, someTraffic, http.DefaultClient)
	rep := stop(t, s)
	page := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(page, httptest.NewRequest("GET", "/", nil))
	metrics := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(metrics, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(page.Body.String(), "Regressions (2)") || !strings.Contains(page.Body.String(), "Noise (1)") ||
		!strings.Contains(page.Body.String(), "/ErrorCode: type number expected, string received") {
		t.Errorf("admin page:\n%s", page.Body.String())
	}
	if !strings.Contains(metrics.Body.String(), `aspgate_shadow_differences_total{class="regression",endpoint="POST api/user/RememberMessage"} 4`) ||
		!strings.Contains(metrics.Body.String(), `aspgate_shadow_differences_total{class="regression",endpoint="other"} 2`) {
		t.Errorf("metrics:\n%s", metrics.Body.String())
	}
	var regressions []string
	for _, g := range rep.Regressions {
		regressions = append(regressions, fmt.Sprintf("%s %s %s %d: %s", g.Endpoint, g.Path, g.Kind, g.Count, g.Example))
	}
	want := []string{
		"GET api/user/RememberMessage header Allow header 2: header Allow: header POST expected, (none) received",
		"POST api/user/RememberMessage /ErrorCode type 4: /ErrorCode: type number expected, string received",
	}
	if strings.Join(regressions, "\n") != strings.Join(want, "\n") {
		t.Errorf("regressions\n%s\nwant\n%s", strings.Join(regressions, "\n"), strings.Join(want, "\n"))
	}
	if rep.Totals["regression"] != 6 {
		t.Errorf("totals %v", rep.Totals)
	}
}

// TestClientsAreNeverHeld: with the candidate stuck and a queue of 2, every client is answered, the
// overflow is dropped and counted, and shutting down after the candidate recovers compares the rest.
func TestClientsAreNeverHeld(t *testing.T) {
	stuck := &legacyLike{hold: make(chan struct{})}
	s, base := startShadow(t, Config{Primary: serve(t, &legacyLike{}), Candidate: serve(t, stuck), Queue: 2, Workers: 1})
	client := &http.Client{Timeout: time.Minute} // a bound on the test, not a measurement
	var tr []traffic
	for range 4 {
		tr = append(tr, someTraffic...)
	}
	got := send(t, base, tr, client)
	if len(got) != 20 {
		t.Fatalf("%d answers", len(got))
	}
	// Each exchange is observed just after its answer is written, so the last one may still be on its way:
	// the counts are read once the shadow has stopped.
	close(stuck.hold)
	rep := stop(t, s)
	st := s.Stats()
	if st.Requests != 20 || st.Mirrored+st.Dropped != 20 || st.Dropped < 16 {
		t.Errorf("stats %+v", st)
	}
	if rep.Totals["compared"] != st.Mirrored {
		t.Errorf("compared %d of %d mirrored", rep.Totals["compared"], st.Mirrored)
	}
}

func TestSetupRefused(t *testing.T) {
	st, _ := OpenStore(filepath.Join(t.TempDir(), "s.db"))
	defer st.Close()
	for _, c := range []Config{
		{Primary: "http://a:1", Candidate: "http://a:1/", Store: st},
		{Primary: "http://a:1", Candidate: "http://b:1", Secondary: "http://A:1", Store: st},
		{Primary: "http://a:1", Candidate: "http://b:1"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"POST /api/user/remembermessage/":           "POST api/user/RememberMessage",
		"POST /API/Account/ForgotPassword?x=1":      "POST API/Account/ForgotPassword",
		"POST /api/2.0/authentication/123456.json":  "POST api/2.0/authentication/{code}.json",
		"POST /api/2.0/Authentication/SetPhone.XML": "POST api/2.0/authentication/setphone.xml",
		"POST /api/2.0/authentication":              "POST api/2.0/authentication",
		"GET /wp-login.php":                         "other",
		"POST /api/2.0/authentication/a/b":          "other",
	} {
		m, target, _ := strings.Cut(in, " ")
		if got := Endpoint(m, target); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
