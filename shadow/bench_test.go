package shadow

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkShadowLatency measures what the shadow adds to a client's wait: requests go alternately to
// the primary directly and through the shadow (which mirrors each to a candidate and a secondary), on
// the same kind of keep-alive connection, and the p50 and p99 of each are reported with the p99 the
// shadow adds. The servers answer a 158-byte JSON body at once, so the figures are the proxy's own cost.
func BenchmarkShadowLatency(b *testing.B) {
	answer := `{"Errors":{"ErrorsNumber":1,"Messages":["Invalid or expired code."],"MessagesString":"Invalid or expired code."},"Result":null,"IsSuccess":false,"StatusCode":400}`
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(400)
		io.WriteString(w, answer)
	})
	primary := serve(b, h)
	s, base := startShadow(b, Config{Primary: primary, Candidate: serve(b, h), Secondary: serve(b, h), Workers: 2, Queue: 10000})
	direct, shadowed := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	body := `{"UserId":12,"Code":"483920","NewPassword":"Hunter2-secret"}`
	do := func(c *http.Client, url string) time.Duration {
		start := time.Now()
		res, err := c.Post(url+"/api/Account/ResetPassword", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return time.Since(start)
	}
	for range 50 { // warm both paths
		do(direct, primary)
		do(shadowed, base)
	}
	var d, sh []time.Duration
	b.ResetTimer()
	for range b.N {
		d = append(d, do(direct, primary))
		sh = append(sh, do(shadowed, base))
	}
	b.StopTimer()
	pct := func(x []time.Duration, p float64) float64 {
		slices.Sort(x)
		return float64(x[int(p*float64(len(x)-1))].Microseconds())
	}
	dp50, dp99, sp50, sp99 := pct(d, 0.50), pct(d, 0.99), pct(sh, 0.50), pct(sh, 0.99)
	b.ReportMetric(dp50, "direct-p50-µs")
	b.ReportMetric(dp99, "direct-p99-µs")
	b.ReportMetric(sp50, "shadow-p50-µs")
	b.ReportMetric(sp99, "shadow-p99-µs")
	b.ReportMetric(sp99-dp99, "added-p99-µs")
	b.ReportMetric(sp99/dp99, "p99-ratio")
	st := s.Stats()
	b.ReportMetric(float64(st.Dropped), "dropped")
}
