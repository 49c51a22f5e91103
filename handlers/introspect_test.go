package handlers_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
	"aspgate/handlers"
)

type tokens map[string]account.TokenInfo

func (t tokens) Introspect(_ context.Context, token string) (account.TokenInfo, error) {
	if token == "broken" {
		return account.TokenInfo{}, errors.New("store: disk I/O error")
	}
	return t[token], nil
}

func TestIntrospect(t *testing.T) {
	const secret = "0123456789abcdef-secret"
	exp, iat := time.Unix(1900000000, 0), time.Unix(1890000000, 0)
	e := echo.New()
	api := &handlers.WebAPI{NotFoundApp: contracts.LCManager, Others: []handlers.Face{&handlers.Introspect{
		Secret: secret, MaxBody: 1 << 10, Log: slog.New(slog.DiscardHandler), Tokens: tokens{"good": {Active: true, UserID: 7, UID: "db299a41-edb1-47b7-a716-64633a0d068c", Exp: exp, Iat: iat}},
	}}}
	api.Register(e)
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name, method, path, ct, auth, body string
		status                             int
		want                               string
	}{
		{"active", "POST", "/connect/introspect", form, "basic", "token=good", 200,
			`{"active":true,"sub":"db299a41-edb1-47b7-a716-64633a0d068c","exp":1900000000,"iat":1890000000,"token_type":"Bearer"}`},
		{"unknown", "POST", "/connect/introspect", form, "basic", "token=nope", 200, `{"active":false}`},
		{"bearer and path case", "POST", "/Connect/Introspect/", form + "; charset=utf-8", "Bearer " + secret, "token=good", 200, `{"active":true`},
		{"client_secret field", "POST", "/connect/introspect", form, "", "token=nope&client_secret=" + secret, 200, `{"active":false}`},
		{"no secret", "POST", "/connect/introspect", form, "", "token=good", 401, `{"error":"invalid_client"}`},
		{"wrong secret", "POST", "/connect/introspect", form, "Bearer " + secret + "x", "token=good", 401, `{"error":"invalid_client"}`},
		{"no token", "POST", "/connect/introspect", form, "basic", "token=", 400, `{"error":"invalid_request"}`},
		{"json body", "POST", "/connect/introspect", "application/json", "basic", `{"token":"good"}`, 400, `{"error":"invalid_request"}`},
		{"bad form", "POST", "/connect/introspect", form, "basic", "token=%zz", 400, `{"error":"invalid_request"}`},
		{"too large", "POST", "/connect/introspect", form, "basic", "token=" + strings.Repeat("a", 2<<10), 413, `{"error":"invalid_request"}`},
		{"GET", "GET", "/connect/introspect?token=good", "", "basic", "", 405, `{"error":"invalid_request"}`},
		{"store down", "POST", "/connect/introspect", form, "basic", "token=broken", 503, `{"error":"temporarily_unavailable"}`},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		switch {
		case c.auth == "basic":
			req.SetBasicAuth("any-client", secret)
		case c.auth != "":
			req.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code != c.status || !strings.HasPrefix(w.Body.String(), c.want) {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.status, c.want)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", c.name, w.Header().Get("Cache-Control"))
		}
	}
	// Without a secret there is no endpoint: Web API's 404.
	e2 := echo.New()
	(&handlers.WebAPI{NotFoundApp: contracts.LCManager, Others: []handlers.Face{&handlers.Introspect{Tokens: tokens{}}}}).Register(e2)
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/connect/introspect", strings.NewReader("token=good"))
	req.Header.Set("Content-Type", form)
	e2.ServeHTTP(w, req)
	if w.Code != http.StatusNotFound {
		t.Errorf("no secret configured: %d", w.Code)
	}
}
