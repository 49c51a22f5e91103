package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
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

// resend marks a sendsms call in what the stub records.
type resend struct{ account.AuthRequest }

func (s *r7Stub) ResendCode(_ context.Context, r account.AuthRequest) (account.AuthResult, error) {
	res, err := s.check(resend{r}, r.UserName, r.Password, r.Provider, setPhoneExpires)
	if err == nil {
		res = account.AuthResult{SMS: true, Expires: setPhoneExpires, PhoneNoise: "+7999***5566"}
	}
	return res, err
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
		req, err := http.NewRequest(rec.Method, base+rec.Target, bytes.NewReader(rec.Body))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range rec.Header {
			req.Header.Add(h[0], h[1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", rec.Name, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if got := "HTTP/1.1 " + res.Status; got != rec.StatusLine {
			t.Errorf("%s: status line %q, want %q", rec.Name, got, rec.StatusLine)
		}
		for _, h := range rec.RespHeader {
			k, v := h[0], h[1]
			if res.Header.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", rec.Name, k, res.Header.Get(k), v)
			}
		}
		if !bytes.Equal(body, rec.RespBody) {
			t.Errorf("%s: body\n got %s\nwant %s", rec.Name, body, rec.RespBody)
		}
	}
}

func postR7(t *testing.T, base, path, contentType, body string) (int, string, string) {
	t.Helper()
	status, _, ct, b, _ := doR7(t, http.MethodPost, base+path, contentType, body)
	return status, ct, b
}

// doR7 sends a request and returns the status, the status line's reason, the Content-Type, the body and
// the headers.
func doR7(t *testing.T, method, url, contentType, body string) (int, string, string, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, strings.TrimPrefix(res.Status, strconv.Itoa(res.StatusCode)+" "), res.Header.Get("Content-Type"), string(b), res.Header
}

const r7Failed = `{"status":1,"statusCode":500,"error":{"message":"User authentication failed","hresult":-2146233087,"data":{}}}`

func TestR7OfficeRoutingAndBinding(t *testing.T) {
	stub := &r7Stub{}
	base := startR7(t, stub)
	ip := "127.0.0.1"
	cases := []struct {
		name, path, ct, body string
		want                 any // what the stub was asked
	}{
		{"authenticate", "/api/2.0/authentication", "application/json", `{"userName":"u","password":"p"}`,
			account.AuthRequest{UserName: "u", Password: "p", ClientIP: ip}},
		{"authenticate .json, any case", "/API/2.0/Authentication.json", "application/json", `{"USERNAME":"u","password":"p"}`,
			account.AuthRequest{UserName: "u", Password: "p", ClientIP: ip}},
		{"setphone xml body", "/api/2.0/authentication/SetPhone", "text/xml",
			`<request><userName>u</userName><password>p</password><mobilePhone>+7 (999) 123</mobilePhone></request>`,
			account.SetPhoneRequest{UserName: "u", Password: "p", MobilePhone: "+7 (999) 123", ClientIP: ip}},
		{"sendsms is a method, not a code", "/api/2.0/authentication/sendsms.json", "application/json", `{"userName":"u","password":"p"}`,
			resend{account.AuthRequest{UserName: "u", Password: "p", ClientIP: ip}}},
		{"SENDSMS in any case", "/api/2.0/authentication/SendSms", "application/json", `{"userName":"u","password":"p"}`,
			resend{account.AuthRequest{UserName: "u", Password: "p", ClientIP: ip}}},
		{"code from the path", "/api/2.0/authentication/123456.json", "application/x-www-form-urlencoded", "userName=u&password=p",
			account.ConfirmRequest{UserName: "u", Password: "p", Code: "123456", ClientIP: ip}},
		{"code with dots", "/api/2.0/authentication/12.34.xml", "application/x-www-form-urlencoded", "userName=u&password=p",
			account.ConfirmRequest{UserName: "u", Password: "p", Code: "12.34", ClientIP: ip}},
		{"an extension is case-sensitive: .JSON is part of the code", "/api/2.0/authentication/123456.JSON", "application/json",
			`{"userName":"u","password":"p"}`, account.ConfirmRequest{UserName: "u", Password: "p", Code: "123456.JSON", ClientIP: ip}},
		{"setphone.XML is a code", "/api/2.0/authentication/setphone.XML", "application/x-www-form-urlencoded",
			"userName=u&password=p&mobilePhone=1", account.ConfirmRequest{UserName: "u", Password: "p", Code: "setphone.XML", ClientIP: ip}},
		{"the route's code comes before a code in the body", "/api/2.0/authentication/111111", "application/json",
			`{"userName":"u","password":"p","code":"222222"}`, account.ConfirmRequest{UserName: "u", Password: "p", Code: "111111", ClientIP: ip}},
		{"query before body", "/api/2.0/authentication/654321?userName=q", "application/json", `{"userName":"b","password":"p"}`,
			account.ConfirmRequest{UserName: "q", Password: "p", Code: "654321", ClientIP: ip}},
		{"first value wins", "/api/2.0/authentication", "application/x-www-form-urlencoded", "password=p&userName=a&username=b",
			account.AuthRequest{UserName: "a", Password: "p", ClientIP: ip}},
		{"query keys differing in case: the first", "/api/2.0/authentication?userName=u&USERNAME=x&password=p", "", "",
			account.AuthRequest{UserName: "u", Password: "p", ClientIP: ip}},
		{"raw ; and bad % kept in the query", "/api/2.0/authentication?userName=w&password=Pass;word-long-1%", "", "",
			account.AuthRequest{UserName: "w", Password: "Pass;word-long-1%", ClientIP: ip}},
		{"multipart form", "/api/2.0/authentication", "multipart/form-data; boundary=XyZ",
			"--XyZ\r\nContent-Disposition: form-data; name=\"userName\"\r\n\r\nu\r\n--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\np\r\n--XyZ--\r\n",
			account.AuthRequest{UserName: "u", Password: "p", ClientIP: ip}},
		{"truncated JSON binds", "/api/2.0/authentication", "application/json", `{"userName":"u","password":"p"`,
			account.AuthRequest{UserName: "u", Password: "p", ClientIP: ip}},
		{"a member name with a space is encoded and ignored", "/api/2.0/authentication", "application/json",
			`{"user name":"x","userName":"u","password":"p"}`, account.AuthRequest{UserName: "u", Password: "p", ClientIP: ip}},
		{"an integer beyond Int64 binds", "/api/2.0/authentication", "application/json",
			`{"userName":"u","password":123456789012345678901234567890}`,
			account.AuthRequest{UserName: "u", Password: "123456789012345678901234567890", ClientIP: ip}},
		{"social login passed on", "/api/2.0/authentication", "application/json", `{"userName":"u","password":"p","provider":"facebook"}`,
			account.AuthRequest{UserName: "u", Password: "p", Provider: "facebook", ClientIP: ip}},
		{"a form body under another media type binds nothing", "/api/2.0/authentication", "text/plain", "userName=u&password=p",
			account.AuthRequest{ClientIP: ip}},
		{"no Content-Type: nothing from the body", "/api/2.0/authentication", "", "userName=u&password=p",
			account.AuthRequest{ClientIP: ip}},
		{"Application/JSON is not application/json", "/api/2.0/authentication", "Application/JSON", `{"userName":"u","password":"p"}`,
			account.AuthRequest{ClientIP: ip}},
	}
	for _, c := range cases {
		stub.got = nil
		status, _, body := postR7(t, base, c.path, c.ct, c.body)
		if got := stub.last(); got != c.want {
			t.Errorf("%s: bound %+v, want %+v", c.name, got, c.want)
		}
		if w, ok := c.want.(account.AuthRequest); ok && (w.UserName == "" || w.Provider != "") {
			if status != 500 || body != r7Failed {
				t.Errorf("%s: %d %s", c.name, status, body)
			}
			continue
		}
		if status != 201 || !strings.Contains(body, `2022-10-02T14:03:03.`) {
			t.Errorf("%s: %d %s", c.name, status, body)
		}
	}
	// Not the entry point's: Web API's routing answers.
	for _, path := range []string{"/api/2.0/authentication/a/b", "/api/2.0/authenticationX", "/api/2.0/people",
		"/api/2.0/authentication.JSON"} {
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

// r7DomainErrors are the outcomes testdata/golden/r7office's "# domain:" lines name.
var r7DomainErrors = map[string]error{
	"none": nil, "ErrAuthFailed": account.ErrAuthFailed, "storage": errors.New("store: disk I/O error"),
	"ErrSignInBlocked": account.ErrSignInBlocked, "ErrRateLimited": account.ErrRateLimited, "ErrPhoneEmpty": account.ErrPhoneEmpty,
	"ErrPhoneConfirmed": account.ErrPhoneConfirmed, "ErrSMSNotEnabled": account.ErrSMSNotEnabled, "ErrNoPhone": account.ErrNoPhone,
}

// TestR7OfficeAnswers replays testdata/golden/r7office: each file an exchange whose bytes follow from
// ONLYOFFICE's source (the "# source:" line names where), with the domain outcome the stub gives. Status
// line, Content-Type and body must match exactly.
func TestR7OfficeAnswers(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "r7office", "*.txt"))
	if len(files) < 20 {
		t.Fatalf("%d golden exchanges", len(files))
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		reqPart, resPart, ok := strings.Cut(string(data), "\n=====\n")
		if !ok {
			t.Fatalf("%s: no =====", path)
		}
		reqHead, reqBody, _ := strings.Cut(reqPart, "\n\n")
		var domain, method, target, ct string
		for _, line := range strings.Split(reqHead, "\n") {
			switch {
			case strings.HasPrefix(line, "# domain: "):
				domain = strings.TrimPrefix(line, "# domain: ")
			case strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "Content-Type: "):
				ct = strings.TrimPrefix(line, "Content-Type: ")
			default:
				method, target, _ = strings.Cut(line, " ")
			}
		}
		stubErr, known := r7DomainErrors[domain]
		if !known {
			t.Fatalf("%s: unknown domain outcome %q", path, domain)
		}
		resHead, resBody, _ := strings.Cut(strings.TrimSuffix(resPart, "\n"), "\n\n")
		statusLine, ctLine, _ := strings.Cut(resHead, "\n")
		base := startR7(t, &r7Stub{err: stubErr})
		status, reason, gotCT, body, _ := doR7(t, method, base+target, ct, reqBody)
		got := fmt.Sprintf("HTTP/1.1 %d %s\nContent-Type: %s\n\n%s", status, reason, gotCT, body)
		if want := statusLine + "\n" + ctLine + "\n\n" + resBody; got != want {
			t.Errorf("%s:\n got %s\nwant %s", filepath.Base(path), got, want)
		}
	}
	base := startR7(t, &r7Stub{})
	if status, _, _ := postR7(t, base, "/api/2.0/authentication", "application/json", strings.Repeat(" ", 2<<10)); status != 413 {
		t.Errorf("oversized body: %d", status)
	}
}

// TestR7OfficeCookieAndOptions: a token also sets ONLYOFFICE's asc_auth_key cookie; OPTIONS under
// api/2.0 answers ASC.Api's access-control headers.
func TestR7OfficeCookieAndOptions(t *testing.T) {
	base := startR7(t, &r7Stub{})
	status, _, _, _, h := doR7(t, http.MethodPost, base+"/api/2.0/authentication", "application/json", `{"userName":"u","password":"p"}`)
	if want := "asc_auth_key=abcde12345; path=/; expires=Sun, 02 Oct 2022 14:03:03 GMT; HttpOnly"; status != 201 || h.Get("Set-Cookie") != want {
		t.Errorf("cookie %d %q, want %q", status, h.Get("Set-Cookie"), want)
	}
	status, _, _, _, h = doR7(t, http.MethodPost, base+"/api/2.0/authentication/sendsms", "application/json", `{"userName":"u","password":"p"}`)
	if status != 201 || h.Get("Set-Cookie") != "" {
		t.Errorf("sendsms: %d, cookie %q", status, h.Get("Set-Cookie"))
	}
	for _, path := range []string{"/api/2.0/authentication", "/API/2.0/people/@self", "/api/2.0/"} {
		status, reason, ct, body, h := doR7(t, http.MethodOptions, base+path, "", "")
		if status != 200 || reason != "OK" || body != "" || ct != "text/html; charset=utf-8" ||
			h.Get("Access-Control-Allow-Methods") != "GET, POST, PUT, DELETE" ||
			h.Get("Access-Control-Allow-Headers") != "origin, authorization, accept, content-type" ||
			h.Get("Access-Control-Max-Age") != "1728000" {
			t.Errorf("OPTIONS %s: %d %s %q %q %v", path, status, reason, ct, body, h)
		}
	}
}

func TestR7OfficeCodesStayOutOfTheAccessLog(t *testing.T) {
	var logs bytes.Buffer
	e := echo.New()
	e.Use(handlers.AccessLog(slog.New(slog.NewJSONHandler(&logs, nil)), nil, nil))
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
