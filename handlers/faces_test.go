package handlers_test

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
	"aspgate/handlers"
)

var update = flag.Bool("update", false, "rewrite the golden files of the faces' own answers")

// fakeRecovery answers every flow with a fixed outcome.
type fakeRecovery struct {
	err      error
	user     *account.User
	lastCode account.CodeRequest
	lastLink account.LinkRequest
	lastIn   account.ChangeInput
}

func (f *fakeRecovery) SendCode(_ context.Context, r account.CodeRequest) (string, error) {
	f.lastCode = r
	if f.err != nil {
		return "", f.err
	}
	return "0123456789abcdef0123456789abcdef", nil
}

func (f *fakeRecovery) ResetWithCode(context.Context, int64, string, string) error { return f.err }

func (f *fakeRecovery) SendChangeLink(_ context.Context, r account.LinkRequest) error {
	f.lastLink = r
	return f.err
}

func (f *fakeRecovery) ChangePassword(_ context.Context, in account.ChangeInput) (*account.User, error) {
	f.lastIn = in
	if f.err != nil {
		return nil, f.err
	}
	return f.user, nil
}

// TestFaceAnswers pins each face's answer to each domain outcome (the values the README documents), in
// JSON and XML. These are the project's answers, not the oracle's: the golden files are written by
// -update and reviewed.
func TestFaceAnswers(t *testing.T) {
	first, last := "Ivan", "Petrov"
	user := &account.User{ID: 7, UID: [16]byte{0xdb, 0x29, 0x9a, 0x41, 0xed, 0xb1, 0x47, 0xb7, 0xa7, 0x16, 0x64, 0x63, 0x3a, 0x0d, 0x06, 0x8c},
		Email: "ivan@example.com", FirstName: &first, LastName: &last}
	bodies := map[string]string{
		"lcmanager": `{"Phone":79991234567,"SiteCode":"s"}`,
		"ereader":   `{"UserId":7,"Code":"123456","NewPassword":"Brand-new-pass-42"}`,
		"aries":     `{"userName":"ivan","apiKey":"k"}`,
		"customer":  `{"ChangeRequestId":"abc","Password":"Brand-new-pass-42","IPAddress":"10.0.0.1"}`,
	}
	paths := map[string]string{
		"lcmanager": "/api/user/RememberMessage", "ereader": "/api/Account/ResetPassword",
		"aries": "/API/Account/ForgotPassword", "customer": "/api/Customer/PasswordChange",
	}
	outcomes := []struct {
		name string
		err  error
		apps []string
	}{
		{"ok", nil, []string{"lcmanager", "ereader", "aries", "customer"}},
		{"no-recipient", account.ErrNoRecipient, []string{"lcmanager"}},
		{"rate-limited", account.ErrRateLimited, []string{"lcmanager", "aries"}},
		{"code-rejected", account.ErrCodeRejected, []string{"ereader"}},
		{"policy", &account.PolicyError{Reason: "the password is too common"}, []string{"ereader", "customer"}},
		{"busy", account.ErrBusy, []string{"ereader"}},
		{"invalid-api-key", account.ErrInvalidAPIKey, []string{"aries"}},
		{"not-found", account.ErrChangeRequestNotFound, []string{"customer"}},
		{"expired", account.ErrChangeRequestExpired, []string{"customer"}},
		{"used-before", account.ErrPasswordUsedBefore, []string{"customer"}},
		{"internal", os.ErrDeadlineExceeded, []string{"lcmanager", "ereader", "aries", "customer"}},
	}
	for _, o := range outcomes {
		for _, app := range o.apps {
			for _, accept := range []string{"application/json", "application/xml"} {
				fake := &fakeRecovery{err: o.err, user: user}
				e := echo.New()
				(&handlers.WebAPI{Endpoints: handlers.Faces(fake), NotFoundApp: contracts.LCManager}).Register(e)
				req := httptest.NewRequest(http.MethodPost, paths[app], strings.NewReader(bodies[app]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", accept)
				w := httptest.NewRecorder()
				e.ServeHTTP(w, req)
				got := []byte(w.Result().Status + "\n" + w.Header().Get("Content-Type") + "\n\n" + w.Body.String() + "\n")
				name := filepath.Join("..", "testdata", "golden", "faces", app+"-"+o.name+"."+accept[len("application/"):]+".txt")
				if *update {
					if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(name, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(name)
				if err != nil {
					t.Fatalf("%v (run go test ./handlers -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s:\n got %s\nwant %s", name, got, want)
				}
			}
		}
	}
}

// TestFacesPassRequestData checks what each face hands the domain.
func TestFacesPassRequestData(t *testing.T) {
	fake := &fakeRecovery{user: &account.User{}}
	e := echo.New()
	(&handlers.WebAPI{Endpoints: handlers.Faces(fake)}).Register(e)
	send := func(path, ct, body string, header ...string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		req.RemoteAddr = "192.0.2.10:5555"
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	send("/api/user/RememberMessage", "application/json", `{"Phone":79991234567,"Email":"e@x"}`, "X-Forwarded-For", "203.0.113.99")
	if fake.lastCode.Phone != "79991234567" || fake.lastCode.ClientIP != "192.0.2.10" {
		t.Errorf("code request %+v: the phone wins and the peer address is used, not X-Forwarded-For", fake.lastCode)
	}
	send("/API/Account/ForgotPassword", "application/xml", `<ForgotPasswordRequestViewModel xmlns="http://schemas.datacontract.org/2004/07/ARIES.Alacrity.Services.Areas.Account.Models"><apiKey>lower</apiKey><ApiKey>upper</ApiKey><Email>e@x</Email></ForgotPasswordRequestViewModel>`)
	if fake.lastLink.APIKey != "upper" || fake.lastLink.Email != "e@x" {
		t.Errorf("link request %+v: ApiKey, not the base class's apiKey", fake.lastLink)
	}
	send("/api/Customer/PasswordChange", "application/x-www-form-urlencoded", "ChangeRequestId=abc&Password=p%C3%A9+x&UserAgent=UA&PermanentSessionId=ps")
	if fake.lastIn.ChangeRequestID != "abc" || fake.lastIn.Password != "pé x" || fake.lastIn.UserAgent != "UA" || fake.lastIn.PermanentSessionID != "ps" {
		t.Errorf("change input %+v", fake.lastIn)
	}
}

// TestPanicIsWebAPI500 checks that a failing action never reaches the client as Echo's or Go's words.
func TestPanicIsWebAPI500(t *testing.T) {
	lc, _ := contracts.Lookup("lcmanager", "RememberMessageRequest")
	lcr, _ := contracts.Lookup("lcmanager", "RememberMessageResponse")
	e := echo.New()
	(&handlers.WebAPI{NotFoundApp: contracts.LCManager, Endpoints: []handlers.Endpoint{{App: contracts.LCManager,
		Path: "api/user/RememberMessage", Param: "request", Request: lc, Response: lcr,
		Action: func(*handlers.Call) (handlers.Reply, error) { panic("boom") }}}}).Register(e)
	req := httptest.NewRequest(http.MethodPost, "/api/user/RememberMessage", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/xml")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if w.Code != 500 || w.Body.String() != "<Error><Message>An error has occurred.</Message></Error>" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}
