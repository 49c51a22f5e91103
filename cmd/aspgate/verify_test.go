package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyAspgate: aspgate serve, fresh, verifies clean against the built-in corpus of every app with
// writes allowed (the reference is aspgate on an empty database: same answers, same limits), and against
// the recordings without writes.
func TestVerifyAspgate(t *testing.T) {
	args := []string{"--addr", "", "--admin-addr", "", "--dispatch=false", "--db", filepath.Join(t.TempDir(), "a.db")}
	apps := []string{"lcmanager", "r7office", "customer", "ereader", "aries"}
	for _, a := range apps {
		args = append(args, "--listen", a+"=127.0.0.1:0")
	}
	r := startServer(t, args...)
	recordings := filepath.Join("..", "..", "testdata", "golden", "requests")
	for _, a := range apps {
		target := "http://" + r.s.AppAddr(a)
		res := runCLI(t, nil, "verify", "--target", target, "--app", a, "--allow-writes")
		if res.code != 0 || !strings.Contains(res.stdout, " 0 differ, 0 skipped, 0 errors") {
			t.Errorf("verify %s (built-in corpus): exit %d\n%s%s", a, res.code, tail(res.stdout), res.stderr)
		}
		res = runCLI(t, nil, "verify", "--target", target, "--app", a, "--cases", recordings)
		if res.code != 0 || !strings.Contains(res.stdout, " 0 differ, ") {
			t.Errorf("verify %s (recordings): exit %d\n%s%s", a, res.code, tail(res.stdout), res.stderr)
		}
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// TestVerifyFindsABrokenProxy: a proxy in front of aspgate that drops Allow from 405s is found by the
// built-in corpus: exit 1, the difference named in the text and JSON reports, the JUnit file written.
func TestVerifyFindsABrokenProxy(t *testing.T) {
	r := startServer(t, "--addr", "", "--listen", "ereader=127.0.0.1:0", "--admin-addr", "", "--dispatch=false", "--db", filepath.Join(t.TempDir(), "a.db"))
	up, _ := url.Parse("http://" + r.s.AppAddr("ereader"))
	proxy := httputil.NewSingleHostReverseProxy(up)
	proxy.ModifyResponse = func(res *http.Response) error {
		res.Header.Del("Allow")
		return nil
	}
	broken := httptest.NewServer(proxy)
	defer broken.Close()
	dir := t.TempDir()
	res := runCLI(t, nil, "verify", "--target", broken.URL, "--app", "ereader", "--report", filepath.Join(dir, "r.json"),
		"--junit", filepath.Join(dir, "j.xml"), "--classes", "405,404")
	if res.code != 1 || !strings.Contains(res.stdout, "DIFFER  405 GET") || !strings.Contains(res.stdout, "- header Allow: header POST expected, (none) received") {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	var rep struct {
		Differ, Agree int
		Results       []struct{ Name, Outcome string }
	}
	b, err := os.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil || json.Unmarshal(b, &rep) != nil || rep.Differ != 9 || rep.Agree != 8 {
		t.Errorf("JSON report: %v %+v", err, rep)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "j.xml")); err != nil || !strings.Contains(string(b), `failures="9"`) {
		t.Errorf("JUnit: %v %.300s", err, b)
	}
}

func TestVerifyUsage(t *testing.T) {
	for _, args := range [][]string{
		{"verify"},
		{"verify", "--target", "http://127.0.0.1:1"},
		{"verify", "--target", "ftp://x", "--app", "ereader"},
		{"verify", "--target", "http://127.0.0.1:1/api", "--app", "ereader"},
		{"verify", "--target", "http://127.0.0.1:1", "--app", "nosuch"},
		{"verify", "--target", "http://127.0.0.1:1", "--app", "ereader", "--cases", t.TempDir()},
		{"verify", "--target", "http://127.0.0.1:1", "--app", "ereader", "--classes", "nosuch"},
		{"verify", "--target", "http://127.0.0.1:1", "--app", "ereader"}, // nothing listens there
	} {
		if res := runCLI(t, nil, args...); res.code != 2 || res.stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, res.code, res.stderr)
		}
	}
}
