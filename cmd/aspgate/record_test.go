package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecordThenVerify: traffic through `aspgate record` in front of aspgate serve becomes cases with no
// secret left in any file, and `aspgate verify --cases` of those cases against the same server agrees.
func TestRecordThenVerify(t *testing.T) {
	r := startServer(t, "--addr", "", "--listen", "ereader=127.0.0.1:0", "--listen", "r7office=127.0.0.1:0", "--admin-addr", "",
		"--dispatch=false", "--db", filepath.Join(t.TempDir(), "a.db"))
	out := t.TempDir()
	secrets := []string{"Hunter2-secret", "483920", "Sms-pass-77", "771234"}
	for _, c := range []struct {
		app      string
		requests []struct{ method, path, ct, accept, body string }
	}{
		{"ereader", []struct{ method, path, ct, accept, body string }{
			{"POST", "/api/Account/ResetPassword", "application/json", "", `{"UserId":12,"Code":"483920","NewPassword":"Hunter2-secret"}`},
			{"POST", "/api/Account/ResetPassword", "application/xml", "application/xml",
				`<ResetPasswordBindingModel xmlns="http://schemas.datacontract.org/2004/07/eReader.Models"><Code>483920</Code><NewPassword>Hunter2-secret</NewPassword><UserId>x</UserId></ResetPasswordBindingModel>`},
			{"POST", "/api/Account/ResetPassword", "application/x-www-form-urlencoded", "", "UserId=12&Code=483920&NewPassword=Hunter2-secret"},
			{"GET", "/api/Account/ResetPassword", "", "text/xml", ""},
			{"POST", "/api/Account/Nothing", "application/json", "", `{"NewPassword":"Hunter2-secret"}`},
		}},
		{"r7office", []struct{ method, path, ct, accept, body string }{
			{"POST", "/api/2.0/authentication/771234.json", "application/json", "", `{"userName":"nobody@example.invalid","password":"Sms-pass-77"}`},
			{"POST", "/api/2.0/authentication/setphone.xml", "application/x-www-form-urlencoded", "", "userName=nobody%40example.invalid&password=Sms-pass-77&mobilePhone=%2B79990000000"},
		}},
	} {
		rec, err := startRecording(recordConfig{listen: "127.0.0.1:0", upstream: "http://" + r.s.AppAddr(c.app), out: out, app: c.app, maxBody: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range c.requests {
			req, _ := http.NewRequest(q.method, "http://"+rec.addr+q.path, strings.NewReader(q.body))
			if q.ct != "" {
				req.Header.Set("Content-Type", q.ct)
			}
			if q.accept != "" {
				req.Header.Set("Accept", q.accept)
			}
			req.Header.Set("Authorization", "Bearer Hunter2-secret")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if err := rec.stop(); err != nil {
			t.Fatal(err)
		}
		if rec.rec.Written != len(c.requests) {
			t.Errorf("%s: %d cases written, want %d", c.app, rec.rec.Written, len(c.requests))
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, "*", "*"))
	top, _ := filepath.Glob(filepath.Join(out, "*.txt"))
	if len(top) != 7 {
		t.Errorf("%d case files", len(top))
	}
	for _, f := range append(files, top...) {
		b, _ := os.ReadFile(f)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds the secret %q:\n%s", f, s, b)
			}
		}
	}
	for _, app := range []string{"ereader", "r7office"} {
		res := runCLI(t, nil, "verify", "--target", "http://"+r.s.AppAddr(app), "--app", app, "--cases", out, "--allow-writes")
		if res.code != 0 {
			t.Errorf("verify --cases of the recording (%s): exit %d\n%s%s", app, res.code, res.stdout, res.stderr)
		}
	}
}
