package verify

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"aspgate/contracts"
	"aspgate/internal/recording"
)

var recordings = filepath.Join("..", "testdata", "golden", "requests")

// legacyFake is a server built from the recordings alone: for a request it has a recording of (method,
// target, every recorded header, body) it writes the recorded status line, headers and body, byte for
// byte over the raw connection; for anything else a 599. break, when set, changes the answer first.
type legacyFake struct {
	recs  []*recording.Exchange
	brk   func(status *string, header *[][2]string, body *[]byte)
	calls int
}

func (f *legacyFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls++
	body, _ := io.ReadAll(r.Body)
	var best *recording.Exchange
	for _, rec := range f.recs {
		if rec.Method != r.Method || rec.Target != r.URL.RequestURI() || !bytes.Equal(rec.Body, body) {
			continue
		}
		ok := true
		for _, h := range rec.Header {
			if r.Header.Get(h[0]) != h[1] && !strings.EqualFold(h[0], "Host") {
				ok = false
			}
		}
		if ok && (best == nil || len(rec.Header) > len(best.Header)) {
			best = rec
		}
	}
	if best == nil {
		w.WriteHeader(599)
		return
	}
	status, header, out := strings.TrimPrefix(best.StatusLine, "HTTP/1.1 "), append([][2]string(nil), best.RespHeader...), append([]byte(nil), best.RespBody...)
	if r.Method == http.MethodHead {
		out = nil
	}
	if f.brk != nil {
		f.brk(&status, &header, &out)
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %s\r\n", status)
	for _, h := range header {
		fmt.Fprintf(buf, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(buf, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(out))
	buf.Write(out)
	buf.Flush()
}

func startFake(t *testing.T, brk func(*string, *[][2]string, *[]byte)) (string, *legacyFake) {
	t.Helper()
	recs, err := recording.ReadAll(recordings)
	if err != nil {
		t.Fatal(err)
	}
	f := &legacyFake{recs: recs, brk: brk}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), f
}

func runCases(t *testing.T, target string, app *contracts.App, writes bool) *Report {
	t.Helper()
	cases, err := LoadCases(recordings, app)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Config{App: app, Target: target, Cases: cases, AllowWrites: writes})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestFakeLegacyVerifiesClean: the recordings' own server agrees with the recordings, for every app and
// every case, writes included.
func TestFakeLegacyVerifiesClean(t *testing.T) {
	target, fake := startFake(t, nil)
	total := 0
	for _, app := range contracts.Apps() {
		rep := runCases(t, target, app, true)
		if rep.Differ != 0 || rep.Errors != 0 || rep.Skipped != 0 || rep.Agree == 0 {
			var buf bytes.Buffer
			rep.WriteText(&buf)
			t.Errorf("%s: %s", app.ID, buf.String())
		}
		total += rep.Agree
	}
	if total != 138 || fake.calls != 138 {
		t.Errorf("%d cases agreed, %d requests answered; want 138", total, fake.calls)
	}
}

// TestBrokenTargetsAreNamed: each deliberate break of the legacy answers is found, in the case that shows
// it, and named as the report names it.
func TestBrokenTargetsAreNamed(t *testing.T) {
	abstractions := "http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Abstractions"
	lcm, _ := contracts.LookupApp("lcmanager")
	ereader, _ := contracts.LookupApp("ereader")
	for _, c := range []struct {
		name  string
		app   *contracts.App
		brk   func(status *string, header *[][2]string, body *[]byte)
		case_ string // a case that must differ
		want  string // a difference it must list
	}{
		{"one namespace changed", lcm, func(_ *string, _ *[][2]string, b *[]byte) {
			*b = bytes.Replace(*b, []byte(`<ErrorCode xmlns="`+abstractions+`"`), []byte(`<ErrorCode xmlns="`+abstractions+`2"`), 1)
		}, "02-lcmanager-accept-xml.txt", "/RememberMessageResponse/ErrorCode: namespace " + abstractions + " expected, " + abstractions + "2 received"},
		{"one member reordered", lcm, func(_ *string, _ *[][2]string, b *[]byte) {
			// JSON: Message before ErrorCode.
			*b = bytes.Replace(*b, []byte(`"ErrorCode":0,"Message":null`), []byte(`"Message":null,"ErrorCode":0`), 1)
		}, "01-lcmanager-json-ok.txt", "/: order SessionId, ErrorCode, Message expected, SessionId, Message, ErrorCode received"},
		{"an i:nil dropped", lcm, func(_ *string, _ *[][2]string, b *[]byte) {
			*b = bytes.Replace(*b, []byte(`<Message i:nil="true" `), []byte(`<Message `), 1)
		}, "02-lcmanager-accept-xml.txt", `/RememberMessageResponse/Message: nil i:nil="true" expected, a value received`},
		{"a charset changed", ereader, func(_ *string, h *[][2]string, _ *[]byte) {
			for i := range *h {
				if (*h)[i][0] == "Content-Type" {
					(*h)[i][1] = strings.Replace((*h)[i][1], "charset=utf-8", "charset=iso-8859-1", 1)
				}
			}
		}, "21-ereader-missing-required.txt", "header Content-Type: header application/json; charset=utf-8 expected, application/json; charset=iso-8859-1 received"},
		{"a 405 without Allow", lcm, func(s *string, h *[][2]string, _ *[]byte) {
			if strings.HasPrefix(*s, "405") {
				var out [][2]string
				for _, x := range *h {
					if x[0] != "Allow" {
						out = append(out, x)
					}
				}
				*h = out
			}
		}, "03-lcmanager-405-get.txt", "header Allow: header POST expected, (none) received"},
		{"another reason phrase", lcm, func(s *string, _ *[][2]string, _ *[]byte) {
			*s = strings.Replace(*s, "Method Not Allowed", "Not Allowed", 1)
		}, "03-lcmanager-405-get.txt", `status: reason phrase "Method Not Allowed" expected, "Not Allowed" received`},
	} {
		t.Run(c.name, func(t *testing.T) {
			target, _ := startFake(t, c.brk)
			rep := runCases(t, target, c.app, true)
			found := false
			for _, r := range rep.Results {
				if r.Name == c.case_ {
					found = r.Outcome == Differ && strings.Contains(strings.Join(r.Differences, "\n"), c.want)
					if !found {
						t.Errorf("%s: %s %q", r.Name, r.Outcome, r.Differences)
					}
				}
			}
			if !found || rep.Differ == 0 {
				t.Errorf("the break was not found (%d differ)", rep.Differ)
			}
			var buf bytes.Buffer
			if err := rep.WriteText(&buf); err != nil || !strings.Contains(buf.String(), "DIFFER  "+c.case_) || !strings.Contains(buf.String(), "    - "+c.want) {
				t.Errorf("the text report does not name it:\n%s", buf.String())
			}
		})
	}
}

// TestWritesAreNotSentByDefault: without writes allowed, no request that reaches the action leaves
// verify: the fake sees only the pipeline's refusals.
func TestWritesAreNotSentByDefault(t *testing.T) {
	target, fake := startFake(t, nil)
	sent := 0
	for _, app := range contracts.Apps() {
		rep := runCases(t, target, app, false)
		for _, r := range rep.Results {
			if r.Outcome == Skipped {
				continue
			}
			sent++
			if r.Expected == 200 || r.Expected == 201 || r.Expected == 500 {
				t.Errorf("%s (%d) was sent without writes allowed", r.Name, r.Expected)
			}
		}
		if rep.Skipped == 0 {
			t.Errorf("%s: nothing skipped", app.ID)
		}
	}
	if fake.calls != sent || sent < 60 {
		t.Errorf("%d requests reached the fake, %d cases sent", fake.calls, sent)
	}
}

// TestReports: the JSON and JUnit reports carry every case and parse.
func TestReports(t *testing.T) {
	target, _ := startFake(t, func(s *string, h *[][2]string, b *[]byte) {
		*b = bytes.ReplaceAll(*b, []byte("The request is invalid."), []byte("Invalid."))
	})
	app, _ := contracts.LookupApp("ereader")
	rep := runCases(t, target, app, false)
	var j, x bytes.Buffer
	if err := rep.WriteJSON(&j); err != nil || !bytes.Contains(j.Bytes(), []byte(`"outcome": "differ"`)) || !bytes.Contains(j.Bytes(), []byte(`"/Message: value`)) {
		t.Errorf("JSON report: %v\n%.600s", err, j.Bytes())
	}
	if err := rep.WriteJUnit(&x); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Suites []struct {
			Tests int `xml:"tests,attr"`
			Cases []struct {
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(x.Bytes(), &parsed); err != nil || len(parsed.Suites) != 1 {
		t.Fatalf("JUnit: %v", err)
	}
	cases, failures := len(parsed.Suites[0].Cases), 0
	for _, c := range parsed.Suites[0].Cases {
		if c.Failure != nil {
			failures++
		}
	}
	if cases != rep.Cases || failures != rep.Differ || rep.Differ == 0 {
		t.Errorf("JUnit: %d cases, %d failures; report %d, %d", cases, failures, rep.Cases, rep.Differ)
	}
	if parsed.Suites[0].Tests != rep.Cases {
		t.Errorf("JUnit suite counts")
	}
}
