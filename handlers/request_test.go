package handlers_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
	"aspgate/handlers"
)

func TestProxiesClient(t *testing.T) {
	trusted := func(ranges ...string) *handlers.Proxies {
		p := &handlers.Proxies{}
		for _, s := range ranges {
			pre, err := handlers.ParseProxy(s)
			if err != nil {
				t.Fatal(err)
			}
			p.Ranges = append(p.Ranges, pre)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		proxies *handlers.Proxies
		peer    string
		headers map[string][]string
		want    string
	}{
		{"no proxies: the header is ignored", nil, "203.0.113.5:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.5"},
		{"untrusted peer: the header is ignored", trusted("10.0.0.0/8"), "203.0.113.5:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.5"},
		{"trusted peer, one hop", trusted("10.0.0.0/8"), "10.1.2.3:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"the right-most untrusted address, whatever the client put at the left", trusted("10.0.0.0/8"), "10.1.2.3:1234",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 198.51.100.1, 10.9.9.9"}}, "198.51.100.1"},
		{"several header lines are one list", trusted("10.0.0.0/8"), "10.1.2.3:1234",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4", "198.51.100.1"}}, "198.51.100.1"},
		{"all trusted: the left-most", trusted("10.0.0.0/8"), "10.1.2.3:1234",
			map[string][]string{"X-Forwarded-For": {"10.0.0.1, 10.0.0.2"}}, "10.0.0.1"},
		{"no header: the proxy itself", trusted("10.0.0.0/8"), "10.1.2.3:1234", nil, "10.1.2.3"},
		{"garbage stops the walk at the proxy that passed it", trusted("10.0.0.0/8"), "10.1.2.3:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, not-an-ip"}}, "10.1.2.3"},
		{"a port and IPv6 forms", trusted("10.0.0.0/8", "2001:db8::/32"), "[2001:db8::1]:443",
			map[string][]string{"X-Forwarded-For": {"[2001:db8:cafe::17]:4711, 198.51.100.7:80"}}, "198.51.100.7"},
		{"IPv4-mapped peers match IPv4 ranges", trusted("127.0.0.1"), "[::ffff:127.0.0.1]:80",
			map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.2"}}, "198.51.100.2"},
		{"X-Forwarded-For is not read when Forwarded is configured", &handlers.Proxies{Ranges: trusted("10.0.0.0/8").Ranges, Header: "Forwarded"},
			"10.1.2.3:1", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "10.1.2.3"},
		{"Forwarded", &handlers.Proxies{Ranges: trusted("10.0.0.0/8").Ranges, Header: "Forwarded"}, "10.1.2.3:1",
			map[string][]string{"Forwarded": {`for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.1`, "for=10.0.0.7"}},
			"2001:db8:cafe::17"},
		{"Forwarded: an obfuscated node stops the walk", &handlers.Proxies{Ranges: trusted("10.0.0.0/8").Ranges, Header: "Forwarded"},
			"10.1.2.3:1", map[string][]string{"Forwarded": {"for=198.51.100.1, for=_hidden"}}, "10.1.2.3"},
		{"Forwarded is not read when X-Forwarded-For is configured", trusted("10.0.0.0/8"), "10.1.2.3:1",
			map[string][]string{"Forwarded": {"for=198.51.100.1"}}, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tc.peer
			for k, vs := range tc.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			if got := tc.proxies.Client(r); got != tc.want {
				t.Fatalf("client %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "10.0.0.0/33", "example.com", "10.0.0.1/8/8"} {
		if _, err := handlers.ParseProxy(bad); err == nil {
			t.Errorf("--trusted-proxy %q accepted", bad)
		}
	}
	if p, err := handlers.ParseProxy("10.1.2.3/8"); err != nil || p != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("10.1.2.3/8 = %v, %v", p, err)
	}
}

type observed struct {
	app, endpoint, format string
	status                int
	outcome, limit        string
}

type recordingObserver struct{ got []observed }

func (o *recordingObserver) ObserveRequest(app, endpoint, format string, status int, outcome, limit string, _ time.Duration) {
	o.got = append(o.got, observed{app, endpoint, format, status, outcome, limit})
}

// TestAccessLogOutcomes sends requests that end in different ways and checks what the access log and the
// observer are told: the outcome of the one table, the limit that refused, the client through a trusted
// proxy; never the request's own words in a label.
func TestAccessLogOutcomes(t *testing.T) {
	var logs bytes.Buffer
	obs := &recordingObserver{}
	proxies := &handlers.Proxies{Ranges: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	fake := &fakeRecovery{user: &account.User{}}
	e := echo.New()
	e.Use(handlers.AccessLog(slog.New(slog.NewJSONHandler(&logs, nil)), obs, proxies))
	(&handlers.WebAPI{Endpoints: handlers.Faces(fake), NotFoundApp: contracts.LCManager, Log: slog.New(slog.DiscardHandler)}).Register(e)
	send := func(method, path, accept, body string, err error) {
		fake.err = err
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		req.Header.Set("X-Forwarded-For", "198.51.100.23")
		req.RemoteAddr = "192.0.2.1:5000"
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	send("POST", "/api/user/RememberMessage", "application/json", `{"Phone":79990001122}`, nil)
	send("POST", "/api/user/RememberMessage", "application/xml", `{"Phone":79990001122}`, &account.LimitError{Limit: account.LimitAccountHour})
	send("POST", "/api/Account/ResetPassword", "", `{"UserId":1,"Code":"1","NewPassword":"x"}`, account.ErrCodeRejected)
	send("POST", "/api/Account/ResetPassword", "", `{"UserId":"x"}`, nil)
	send("GET", "/API/Account/ForgotPassword", "", ``, nil)
	send("POST", "/wp-login.php?<script>", "", ``, nil)
	send("POST", "/api/Customer/PasswordChange", "", `{"ChangeRequestId":"a"}`, errBoom)
	want := []observed{
		{"lcmanager", "api/user/RememberMessage", "json", 200, "code_sent", ""},
		{"lcmanager", "api/user/RememberMessage", "xml", 200, "rate_limited", "account_hour"},
		{"ereader", "api/Account/ResetPassword", "json", 400, "code_rejected", ""},
		{"ereader", "api/Account/ResetPassword", "json", 400, "bad_request", ""},
		{"aries", "API/Account/ForgotPassword", "json", 405, "method_not_allowed", ""},
		{"", "", "json", 404, "route_not_found", ""},
		{"customer", "api/Customer/PasswordChange", "json", 500, "error", ""},
	}
	if !slices.Equal(obs.got, want) {
		t.Fatalf("observed\n%+v\nwant\n%+v", obs.got, want)
	}
	if fake.lastCode.ClientIP != "198.51.100.23" {
		t.Errorf("the domain saw client %q, want the forwarded address", fake.lastCode.ClientIP)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("%d access log lines, want %d", len(lines), len(want))
	}
	l := lines[1]
	if l["outcome"] != "rate_limited" || l["limit"] != "account_hour" || l["client"] != "198.51.100.23" || l["peer"] != "192.0.2.1" ||
		l["app"] != "lcmanager" || l["format"] != "xml" || l["status"] != float64(200) || l["request_id"] == "" {
		t.Errorf("access log line %v", l)
	}
	if strings.Contains(logs.String(), "<script>") || strings.Contains(logs.String(), "wp-login.php?") {
		t.Errorf("the query string reached the log: %s", logs.String())
	}
}

var errBoom = &json.UnsupportedValueError{Str: "boom"}

// TestAnswerTablesNameKnownOutcomes: every outcome a face answers is one of account's closed set, and
// every face answers its success.
func TestAnswerTablesNameKnownOutcomes(t *testing.T) {
	known := account.Outcomes()
	success := map[string]account.Outcome{"lcmanager": account.OutcomeCodeSent, "ereader": account.OutcomePasswordReset,
		"aries": account.OutcomeLinkSent, "customer": account.OutcomePasswordChanged}
	for app, outcomes := range handlers.AnswerTables() {
		for _, o := range outcomes {
			if !slices.Contains(known, o) {
				t.Errorf("%s answers %q, which account.Outcomes does not list", app, o)
			}
		}
		if s, ok := success[app]; ok && !slices.Contains(outcomes, s) {
			t.Errorf("%s has no answer for its success %q", app, s)
		}
	}
}
