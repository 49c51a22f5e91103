package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
	"aspgate/handlers"
)

// r7Stub answers like the oracle's stub actions: a token unless userName or password is missing or the
// provider is a social one. It records what the face bound.
type r7Stub struct {
	mu  sync.Mutex
	got []any
	err error // when set, every call fails with it
}

var (
	setPhoneExpires = time.Date(2022, 10, 2, 14, 3, 3, 713541900, time.UTC)
	codeExpires     = time.Date(2022, 10, 2, 14, 3, 3, 729111400, time.UTC)
)

func (s *r7Stub) check(req any, user, pw, provider string, expires time.Time) (account.AuthResult, error) {
	s.mu.Lock()
	s.got = append(s.got, req)
	s.mu.Unlock()
	if s.err != nil {
		return account.AuthResult{}, s.err
	}
	if user == "" || pw == "" || (provider != "" && provider != "email") {
		return account.AuthResult{}, account.ErrAuthFailed
	}
	return account.AuthResult{Token: "abcde12345", Expires: expires}, nil
}

func (s *r7Stub) Authenticate(_ context.Context, r account.AuthRequest) (account.AuthResult, error) {
	return s.check(r, r.UserName, r.Password, r.Provider, codeExpires)
}

func (s *r7Stub) SetPhone(_ context.Context, r account.SetPhoneRequest) (account.AuthResult, error) {
	return s.check(r, r.UserName, r.Password, r.Provider, setPhoneExpires)
}

func (s *r7Stub) Confirm(_ context.Context, r account.ConfirmRequest) (account.AuthResult, error) {
	return s.check(r, r.UserName, r.Password, r.Provider, codeExpires)
}

func (s *r7Stub) last() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) == 0 {
		return nil
	}
	return s.got[len(s.got)-1]
}

// startR7 serves the Web API stubs and the r7office face on a real listener: the status line's reason
// phrase ("500 Server error") is only visible on the wire.
func startR7(t *testing.T, stub handlers.TwoFactorAuth) string {
	t.Helper()
	e := echo.New()
	quiet := slog.New(slog.DiscardHandler)
	api := &handlers.WebAPI{Endpoints: stubEndpoints(), NotFoundApp: contracts.LCManager, MaxBody: 1 << 10, Log: quiet,
		Others: []handlers.Face{&handlers.R7Office{Auth: stub, MaxBody: 1 << 10, Log: quiet}}}
	api.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestReplayR7OfficeRecordings(t *testing.T) {
	base := startR7(t, &r7Stub{})
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "requests", "7*-r7-*.txt"))
	if len(files) != 7 {
		t.Fatalf("%d r7office recordings", len(files))
	}
	for _, f := range files {
		rec := readRecording(t, f)
		req, err := http.NewRequest(rec.method, base+rec.path, bytes.NewReader(rec.body))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range rec.headers {
			req.Header.Add(h[0], h[1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", rec.name, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if got := "HTTP/1.1 " + res.Status; got != rec.status {
			t.Errorf("%s: status line %q, want %q", rec.name, got, rec.status)
		}
		for _, h := range rec.respHeaders {
			k, v, _ := strings.Cut(h, ": ")
			if res.Header.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", rec.name, k, res.Header.Get(k), v)
			}
		}
		if !bytes.Equal(body, rec.respBody) {
			t.Errorf("%s: body\n got %s\nwant %s", rec.name, body, rec.respBody)
		}
	}
}

func postR7(t *testing.T, base, path, contentType, body string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

const r7Failed = `{"status":1,"statusCode":500,"error":{"message":"User authentication failed","hresult":-2146233087,"data":{}}}`

func TestR7OfficeRoutingAndBinding(t *testing.T) {
	stub := &r7Stub{}
	base := startR7(t, stub)
	cases := []struct {
		name, path, ct, body string
		want                 any // what the stub was asked
	}{
		{"authenticate", "/api/2.0/authentication", "application/json", `{"userName":"u","password":"p"}`,
			account.AuthRequest{UserName: "u", Password: "p", ClientIP: "127.0.0.1"}},
		{"authenticate .json, any case", "/API/2.0/Authentication.json", "application/json", `{"USERNAME":"u","password":"p"}`,
			account.AuthRequest{UserName: "u", Password: "p", ClientIP: "127.0.0.1"}},
		{"setphone xml body", "/api/2.0/authentication/SetPhone", "text/xml",
			`<request><userName>u</userName><password>p</password><mobilePhone>+7 (999) 123</mobilePhone></request>`,
			account.SetPhoneRequest{UserName: "u", Password: "p", MobilePhone: "+7 (999) 123", ClientIP: "127.0.0.1"}},
		{"code from the path", "/api/2.0/authentication/123456.json", "application/x-www-form-urlencoded", "userName=u&password=p",
			account.ConfirmRequest{UserName: "u", Password: "p", Code: "123456", ClientIP: "127.0.0.1"}},
		{"query before body", "/api/2.0/authentication/654321?userName=q", "application/json", `{"userName":"b","password":"p"}`,
			account.ConfirmRequest{UserName: "q", Password: "p", Code: "654321", ClientIP: "127.0.0.1"}},
		{"first value wins", "/api/2.0/authentication", "application/x-www-form-urlencoded", "password=p&userName=a&username=b",
			account.AuthRequest{UserName: "a", Password: "p", ClientIP: "127.0.0.1"}},
		{"any other media type is a form", "/api/2.0/authentication", "text/plain", "userName=u&password=p",
			account.AuthRequest{UserName: "u", Password: "p", ClientIP: "127.0.0.1"}},
		{"social login passed on", "/api/2.0/authentication", "application/json", `{"userName":"u","password":"p","provider":"facebook"}`,
			account.AuthRequest{UserName: "u", Password: "p", Provider: "facebook", ClientIP: "127.0.0.1"}},
	}
	for _, c := range cases {
		status, _, body := postR7(t, base, c.path, c.ct, c.body)
		if got := stub.last(); got != c.want {
			t.Errorf("%s: bound %+v, want %+v", c.name, got, c.want)
		}
		if c.name == "social login passed on" {
			if status != 500 || body != r7Failed {
				t.Errorf("%s: %d %s", c.name, status, body)
			}
			continue
		}
		if status != 201 || !strings.Contains(body, `"token":"abcde12345"`) {
			t.Errorf("%s: %d %s", c.name, status, body)
		}
	}
	// Not the entry point's: Web API's routing answers.
	for _, path := range []string{"/api/2.0/authentication/a/b", "/api/2.0/authenticationX", "/api/2.0/people"} {
		if status, _, _ := postR7(t, base, path, "application/json", `{}`); status != 404 {
			t.Errorf("%s: %d", path, status)
		}
	}
	res, err := http.Get(base + "/api/2.0/authentication")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("GET: %d", res.StatusCode)
	}
}

func TestR7OfficeFailuresLookAlike(t *testing.T) {
	for _, err := range []error{account.ErrAuthFailed, account.ErrPhoneTaken, account.ErrRateLimited, account.ErrBusy,
		errors.New("store: disk I/O error")} {
		base := startR7(t, &r7Stub{err: err})
		for _, path := range []string{"/api/2.0/authentication", "/api/2.0/authentication/setphone", "/api/2.0/authentication/111111"} {
			status, ct, body := postR7(t, base, path, "application/json", `{"userName":"u","password":"p"}`)
			if status != 500 || ct != "application/json; charset=UTF-8" || body != r7Failed {
				t.Errorf("%v %s: %d %q %s", err, path, status, ct, body)
			}
		}
	}
	base := startR7(t, &r7Stub{})
	for name, body := range map[string]string{
		"malformed json": `{"userName":`,
		"json array":     `[1,2]`,
		"deep json":      strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100),
		"malformed xml":  `<request><userName>u</request>`,
	} {
		ct := "application/json"
		if strings.HasPrefix(body, "<") {
			ct = "text/xml"
		}
		if status, _, got := postR7(t, base, "/api/2.0/authentication.xml", ct, body); status != 500 || !strings.Contains(got, "User authentication failed") {
			t.Errorf("%s: %d %s", name, status, got)
		}
	}
	if status, _, _ := postR7(t, base, "/api/2.0/authentication", "application/json", strings.Repeat(" ", 2<<10)); status != 413 {
		t.Errorf("oversized body: %d", status)
	}
}

func TestR7OfficeCodesStayOutOfTheAccessLog(t *testing.T) {
	var logs bytes.Buffer
	e := echo.New()
	e.Use(handlers.AccessLog(slog.New(slog.NewJSONHandler(&logs, nil))))
	(&handlers.WebAPI{NotFoundApp: contracts.LCManager, Log: slog.New(slog.DiscardHandler),
		Others: []handlers.Face{&handlers.R7Office{Auth: &r7Stub{}, Log: slog.New(slog.DiscardHandler)}}}).Register(e)
	for _, path := range []string{"/api/2.0/authentication/834512", "/API/2.0/authentication/834513.xml/", "/api/2.0/authentication/834514.JSON"} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("userName=u&password=p"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/2.0/authentication/setphone", strings.NewReader(""))
	e.ServeHTTP(httptest.NewRecorder(), req)
	out := logs.String()
	for _, code := range []string{"834512", "834513", "834514"} {
		if strings.Contains(out, code) {
			t.Errorf("code %s logged: %s", code, out)
		}
	}
	for _, want := range []string{`"path":"/api/2.0/authentication/{code}"`, `"path":"/API/2.0/authentication/{code}.xml/"`,
		`"path":"/api/2.0/authentication/setphone"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
}
