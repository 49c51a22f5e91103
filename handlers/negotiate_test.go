package handlers_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"aspgate/handlers"
)

func TestNegotiateTable(t *testing.T) {
	cases := []struct {
		name, accept, acceptCharset, contentType string
		want                                     string
	}{
		{"no accept, no body", "", "", "", "application/json; charset=utf-8"},
		{"no accept, json body", "", "", "application/json", "application/json; charset=utf-8"},
		{"no accept, xml body", "", "", "application/xml", "application/xml; charset=utf-8"},
		{"no accept, text/xml body echoed", "", "", "text/xml", "text/xml; charset=utf-8"},
		{"no accept, text/json body echoed", "", "", "text/json", "text/json; charset=utf-8"},
		{"no accept, form body", "", "", "application/x-www-form-urlencoded", "application/json; charset=utf-8"},
		{"no accept, unsupported body", "", "", "text/plain", "application/json; charset=utf-8"},
		{"accept xml", "application/xml", "", "application/json", "application/xml; charset=utf-8"},
		{"accept star", "*/*", "", "application/xml", "application/json; charset=utf-8"},
		{"q prefers json", "application/xml;q=0.5, application/json;q=0.9", "", "", "application/json; charset=utf-8"},
		{"q prefers xml", "application/json;q=0.5, application/xml;q=0.9", "", "", "application/xml; charset=utf-8"},
		{"tie goes to json", "application/xml, application/json", "", "", "application/json; charset=utf-8"},
		{"text/xml literal", "text/xml", "", "", "text/xml; charset=utf-8"},
		{"text/json literal", "text/json", "", "", "text/json; charset=utf-8"},
		{"unsupported accept falls back to request type", "text/html", "", "application/xml", "application/xml; charset=utf-8"},
		{"unsupported accept, json body", "text/html", "", "application/json", "application/json; charset=utf-8"},
		{"browser accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", "application/json", "application/xml; charset=utf-8"},
		{"application range", "application/*", "", "", "application/json; charset=utf-8"},
		{"text range", "text/*", "", "", "text/json; charset=utf-8"},
		{"q=0 dropped, xml body", "application/xml;q=0", "", "application/xml", "application/xml; charset=utf-8"},
		{"q=0 dropped, json body", "application/xml;q=0", "", "application/json", "application/json; charset=utf-8"},
		{"all range q=0 dropped", "application/xml, */*;q=0", "", "application/json", "application/xml; charset=utf-8"},
		{"literal beats higher-ranked range only by quality", "*/*;q=0.9, application/xml;q=0.8", "", "", "application/json; charset=utf-8"},
		{"accept charset utf-16", "", "utf-16", "application/json", "application/json; charset=utf-16"},
		{"charset in accept ignored", "application/json;charset=utf-16", "", "application/json", "application/json; charset=utf-8"},
		{"request charset utf-16 echoed", "", "", "application/json; charset=utf-16", "application/json; charset=utf-16"},
		{"accept charset utf-8 beats request charset", "", "utf-8", "application/json; charset=utf-16", "application/json; charset=utf-8"},
		{"accept charset by quality", "", "utf-8;q=0.1, utf-16", "", "application/json; charset=utf-16"},
		{"media type case", "APPLICATION/XML", "", "", "application/xml; charset=utf-8"},
	}
	for _, c := range cases {
		got := handlers.Negotiate(c.accept, c.acceptCharset, c.contentType).ContentType()
		if got != c.want {
			t.Errorf("%s: Accept %q, Accept-Charset %q, Content-Type %q: got %q, want %q", c.name, c.accept, c.acceptCharset, c.contentType, got, c.want)
		}
	}
}

// TestNegotiateRecordings checks the negotiated Content-Type of every Web API recording (r7office answers
// by its own rules).
func TestNegotiateRecordings(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "requests", "*.txt"))
	header := regexp.MustCompile(`-H '([^:]+): ([^']*)'`)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(data), "\n", 4)
		if strings.Contains(lines[0], " r7office ") {
			continue
		}
		h := map[string]string{}
		for _, m := range header.FindAllStringSubmatch(lines[0], -1) {
			h[strings.ToLower(m[1])] = m[2]
		}
		want, ok := strings.CutPrefix(lines[2], "Content-Type: ")
		if !ok {
			continue
		}
		got := handlers.Negotiate(h["accept"], h["accept-charset"], h["content-type"]).ContentType()
		if got != want {
			t.Errorf("%s: got %q, want %q", filepath.Base(f), got, want)
		}
		n++
	}
	if n < 90 {
		t.Errorf("only %d recordings checked", n)
	}
}
