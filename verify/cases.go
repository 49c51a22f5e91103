package verify

import (
	"fmt"
	"net/http"
	"strings"

	"aspgate/contracts"
	"aspgate/internal/recording"
	"aspgate/wirediff"
)

// LoadCases reads a cases folder in the recordings' format (testdata/golden/requests, or what `aspgate
// record` writes): each file one request and the answer expected, byte for byte for errors and by
// contract for successes. Only the app's cases are kept. A case without a Host header is sent with
// Host: localhost, as the oracle recorded its exchanges.
func LoadCases(dir string, app *contracts.App) ([]Case, error) {
	recs, err := recording.ReadAll(dir)
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, r := range recs {
		if r.App != app.ID {
			continue
		}
		want := &wirediff.Answer{Status: r.Status, Header: r.ResponseHeader(), Body: r.RespBody}
		if _, reason, ok := strings.Cut(strings.TrimPrefix(r.StatusLine, "HTTP/1.1 "), " "); ok {
			want.Reason = reason
		}
		c := Case{Name: r.Name, Class: "recorded", Method: r.Method, Target: r.Target, Header: r.Header, Body: r.Body, Expected: want}
		if c.header("Host") == "" {
			c.Header = append([][2]string{{"Host", "localhost"}}, c.Header...)
		}
		if r.Method == http.MethodHead {
			want.Body = nil // a HEAD answer has no body on the wire
		}
		c.Writes = reachedAction(app, *want) || app.ASCAPI && r.Method == http.MethodPost
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("verify: no %s case in %s", app.ID, dir)
	}
	return out, nil
}
