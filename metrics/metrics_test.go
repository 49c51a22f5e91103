package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"aspgate/metrics"
)

// TestLabelsAreBounded: values outside the fixed sets are counted as "other", so no request can add a
// series; known values are counted under their own names, and repeated observations reuse the series.
func TestLabelsAreBounded(t *testing.T) {
	m := metrics.New(metrics.Labels{Apps: []string{"lcmanager"}, Endpoints: []string{"api/user/RememberMessage"}}, "v1", "abc")
	for range 3 {
		m.ObserveRequest("lcmanager", "api/user/RememberMessage", "json", 200, "code_sent", "", time.Millisecond)
	}
	m.ObserveRequest("lcmanager", "api/user/RememberMessage", "xml", 200, "rate_limited", "account_hour", time.Millisecond)
	for i := range 50 {
		evil := strings.Repeat("x", i) + `"} 1\n`
		m.ObserveRequest(evil, evil, evil, 1000+i, evil, evil, time.Millisecond)
	}
	m.ObserveRequest("", "", "", 404, "route_not_found", "", time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	out := string(body)
	for _, want := range []string{
		`aspgate_requests_total{app="lcmanager",endpoint="api/user/RememberMessage",format="json",status="200"} 3`,
		`aspgate_requests_total{app="lcmanager",endpoint="api/user/RememberMessage",format="xml",status="200"} 1`,
		`aspgate_requests_total{app="other",endpoint="other",format="other",status="other"} 50`,
		`aspgate_requests_total{app="none",endpoint="none",format="none",status="404"} 1`,
		`aspgate_outcomes_total{app="lcmanager",outcome="code_sent"} 3`,
		`aspgate_outcomes_total{app="other",outcome="other"} 50`,
		`aspgate_limit_refusals_total{limit="account_hour"} 1`,
		`aspgate_limit_refusals_total{limit="other"} 50`,
		`aspgate_limit_refusals_total{limit="signin"} 0`,
		`aspgate_build_info{revision="abc",version="v1"} 1`,
	} {
		if !strings.Contains(out, "\n"+want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(out, "xxx") {
		t.Error("a request's words became a label value")
	}
}
