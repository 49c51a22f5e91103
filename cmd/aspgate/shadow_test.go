package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"aspgate/handlers"
	"aspgate/shadow"
)

func TestMirrorHeaderIsOne(t *testing.T) {
	if handlers.MirrorHeader != shadow.MirrorHeader {
		t.Fatal("the shadow marks mirrors with another header than serve checks")
	}
}

// TestShadowEndToEnd: clients of `aspgate shadow` get the primary's answers, the mirrors reach a
// candidate running --no-send and a secondary, and `shadow report` finds no regression; a candidate that
// could deliver refuses every mirror (nothing queued in its outbox), which the report shows loudly.
func TestShadowEndToEnd(t *testing.T) {
	primary := mustServe(t) // dev inbox: it delivers to a file, like a legacy host delivering for real
	primary.addUser("ivan", "ivan@example.com", "79990001122")
	secondary := mustServe(t, "--no-send")
	candidate := mustServe(t, "--no-send")
	delivering := mustServe(t, "--dispatch=false", "--smtp-url", "smtp://127.0.0.1:1?tls=none", "--mail-from", "a@example.com")

	traffic := func(base string) []string {
		var got []string
		for _, q := range []struct{ method, path, ct, body string }{
			{"POST", "/api/user/RememberMessage", "application/json", `{"Email":"ivan@example.com"}`},
			{"POST", "/api/user/RememberMessage", "application/xml", `<RememberMessageRequest xmlns="http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Request.UserRequest"><Phone>x</Phone></RememberMessageRequest>`},
			{"GET", "/api/Account/ResetPassword", "", ""},
			{"POST", "/api/Customer/PasswordChange", "application/json", `{"UserId":"0f8fad5b-d9cb-469f-a165-70867728950e"}`},
		} {
			req, _ := http.NewRequest(q.method, base+q.path, strings.NewReader(q.body))
			if q.ct != "" {
				req.Header.Set("Content-Type", q.ct)
			}
			req.Header.Set(shadow.MirrorHeader, "1") // a client's own mark never reaches the primary
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			got = append(got, res.Status+" "+string(b))
		}
		return got
	}

	db := filepath.Join(t.TempDir(), "shadow.db")
	p, err := startShadow(shadowConfig{listen: "127.0.0.1:0", primary: primary.base, candidate: candidate.base, secondary: secondary.base,
		db: db, adminAddr: "127.0.0.1:0", queue: 100, workers: 2, maxBody: 1 << 20, timeout: 30e9}, newLogger(io.Discard, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := traffic("http://" + p.addr)
	if !strings.HasPrefix(got[0], "200 OK ") || !strings.HasPrefix(got[2], "405 ") {
		t.Errorf("the clients' answers: %q", got)
	}
	if n := len(primary.outbox()); n != 1 {
		t.Errorf("the primary queued %d messages, want the one code", n)
	}
	code, page := httpGet(t, "http://"+p.adminAddr+"/")
	if code != 200 || !strings.Contains(page, "aspgate shadow") {
		t.Errorf("admin page: %d", code)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, "shadow", "report", "--db", db)
	if res.code != 0 || !strings.Contains(res.stdout, "compared 4: 4 agree") || !strings.Contains(res.stdout, "REGRESSIONS (0)") {
		t.Errorf("shadow report: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	db2 := filepath.Join(t.TempDir(), "shadow2.db")
	p, err = startShadow(shadowConfig{listen: "127.0.0.1:0", primary: primary.base, candidate: delivering.base,
		db: db2, queue: 100, workers: 1, maxBody: 1 << 20, timeout: 30e9}, newLogger(io.Discard, 0))
	if err != nil {
		t.Fatal(err)
	}
	traffic("http://" + p.addr)
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, nil, "shadow", "report", "--db", db2, "--json")
	if res.code != 1 || strings.Count(res.stdout, `"kind": "status"`) != 3 || !strings.Contains(res.stdout, `"regression": 4`) || !strings.Contains(res.stdout, "status 200 expected, 503 received") {
		t.Errorf("shadow report of a delivering candidate: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if n := len(delivering.outbox()); n != 0 {
		t.Errorf("the delivering candidate queued %d messages from mirrors", n)
	}
	if !strings.Contains(delivering.logs(), "a mirrored request refused") {
		t.Errorf("the refusal is not logged")
	}
}

func TestShadowUsage(t *testing.T) {
	for _, args := range [][]string{
		{"shadow"},
		{"shadow", "--primary", "http://127.0.0.1:1", "--candidate", "http://127.0.0.1:2"},
		{"shadow", "--primary", "http://127.0.0.1:1", "--candidate", "x", "--db", "s.db"},
		{"shadow", "report"},
		{"shadow", "report", "--db", filepath.Join(t.TempDir(), "nothing.db")},
		{"record", "--upstream", "http://127.0.0.1:1", "--app", "nosuch", "--out", t.TempDir()},
		{"serve", "--no-send", "--dispatch=false"},
	} {
		if res := runCLI(t, nil, args...); res.code == 0 || res.stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, res.code, res.stderr)
		}
	}
}
