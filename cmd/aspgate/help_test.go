package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeHelp: the Help pages and the OpenAPI document are served on the listeners `aspgate serve`
// binds, the document being the one `aspgate contract openapi` prints, for the apps the listener serves.
func TestServeHelp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	r := startServer(t, "--addr", "127.0.0.1:0", "--apps", "ereader,aries,r7office", "--not-found-app", "aries",
		"--listen", "lcmanager=127.0.0.1:0", "--listen", "r7office=127.0.0.1:0", "--admin-addr", "", "--db", db)
	combined, lcm, r7 := "http://"+r.s.Addr(), "http://"+r.s.AppAddr("lcmanager"), "http://"+r.s.AppAddr("r7office")

	for _, c := range []struct {
		url      string
		status   int
		contains []string
		absent   []string
	}{
		{combined + "/Help", 200, []string{"POST-api-Account-ResetPassword", "POST-API-Account-ForgotPassword"}, []string{"RememberMessage", "PasswordChange"}},
		{combined + "/Help/Api/POST-api-user-RememberMessage", 404, []string{"Not found"}, nil},
		{combined + "/help/resourcemodel?modelName=ApiResultOfString", 200, []string{"<h1>ApiResultOfString</h1>"}, nil},
		{combined + "/Areas/HelpPage/HelpPage.css", 200, []string{".help-page"}, nil},
		{lcm + "/Help", 200, []string{"POST-api-user-RememberMessage"}, []string{"ResetPassword"}},
		{r7 + "/Help", 404, nil, []string{"<html"}},
	} {
		code, body := httpGet(t, c.url)
		if code != c.status {
			t.Errorf("GET %s: %d, want %d", c.url, code, c.status)
		}
		for _, s := range c.contains {
			if !strings.Contains(body, s) {
				t.Errorf("GET %s lacks %q", c.url, s)
			}
		}
		for _, s := range c.absent {
			if strings.Contains(body, s) {
				t.Errorf("GET %s has %q", c.url, s)
			}
		}
	}
	for _, c := range []struct{ url, app string }{{combined, ""}, {lcm, "lcmanager"}, {r7, "r7office"}} {
		code, body := httpGet(t, c.url+"/Help/openapi.json")
		args := []string{"contract", "openapi"}
		if c.app != "" {
			args = append(args, c.app)
		}
		want := runCLI(t, nil, args...)
		if c.app == "" {
			// The combined listener serves the apps of --apps, the command prints every app.
			if !strings.Contains(body, `"/api/2.0/authentication/setphone"`) || strings.Contains(body, "RememberMessage") {
				t.Errorf("combined openapi.json: not the --apps")
			}
			continue
		}
		if code != 200 || want.code != 0 || body+"\n" != want.stdout {
			t.Errorf("%s /Help/openapi.json: %d, same as `aspgate contract openapi %s`: %v", c.app, code, c.app, body+"\n" == want.stdout)
		}
	}
	if logs := r.logs(); !strings.Contains(logs, `"endpoint":"Help"`) || !strings.Contains(logs, `"outcome":"document"`) {
		t.Errorf("the Help requests are not in the access log as Help/document")
	}
}
