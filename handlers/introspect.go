package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"aspgate/account"
)

// TokenIntrospector tells whether an API token is active.
type TokenIntrospector interface {
	Introspect(ctx context.Context, token string) (account.TokenInfo, error)
}

// IntrospectPath is where downstream services check the tokens the r7office face issues.
const IntrospectPath = "/connect/introspect"

// MinIntrospectSecret is the shortest client secret accepted: the endpoint is reachable by anyone who can
// reach the gateway, so the secret must not be guessable.
const MinIntrospectSecret = 16

// Introspect is token introspection in the style of RFC 7662: POST a form with the field token, answer
// {"active":true,"sub":"<user GUID>","exp":…,"iat":…} or {"active":false}. Callers authenticate with
// the client secret: HTTP Basic (any client id, the secret as password), a Bearer header, or the form field
// client_secret. With no secret configured the endpoint does not exist.
type Introspect struct {
	Tokens  TokenIntrospector
	Secret  string
	MaxBody int64
	Log     *slog.Logger
}

// IntrospectionResponse is the JSON object introspection answers, also printed by `aspgate token check`.
type IntrospectionResponse struct {
	Active    bool   `json:"active"`
	Sub       string `json:"sub,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	TokenType string `json:"token_type,omitempty"`
}

// IntrospectionOf turns what the domain knows of a token into the response: only active tokens say more
// than that they are inactive (RFC 7662 section 2.2).
func IntrospectionOf(info account.TokenInfo) IntrospectionResponse {
	if !info.Active {
		return IntrospectionResponse{}
	}
	return IntrospectionResponse{Active: true, Sub: info.UID, Exp: info.Exp.Unix(), Iat: info.Iat.Unix(), TokenType: "Bearer"}
}

// Match claims the introspection path (ignoring case) when a secret is configured.
func (i *Introspect) Match(r *http.Request) bool {
	return i.Secret != "" && strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), IntrospectPath)
}

type oauthError struct {
	Error string `json:"error"`
}

// Serve answers an introspection request.
func (i *Introspect) Serve(c echo.Context) error {
	r := c.Request()
	info := Info(r.Context())
	info.Endpoint, info.Format, info.Outcome = IntrospectPath, "json", account.OutcomeBadRequest
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if r.Method != http.MethodPost {
		info.Outcome = account.OutcomeMethodNotAllowed
		h.Set("Allow", http.MethodPost)
		return c.JSON(http.StatusMethodNotAllowed, oauthError{"invalid_request"})
	}
	limit := i.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := readBody(r, limit)
	if errors.Is(err, errTooLarge) {
		return c.JSON(http.StatusRequestEntityTooLarge, oauthError{"invalid_request"})
	}
	if err != nil {
		return c.JSON(http.StatusBadRequest, oauthError{"invalid_request"})
	}
	form, err := url.ParseQuery(string(body))
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); err != nil ||
		!strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
		return c.JSON(http.StatusBadRequest, oauthError{"invalid_request"})
	}
	if !i.authenticated(r, form) {
		info.Outcome = account.OutcomeAuthFailed
		h.Set("WWW-Authenticate", `Basic realm="introspect"`)
		i.log().WarnContext(r.Context(), "introspection refused: wrong or missing client secret", "client", clientIP(r))
		return c.JSON(http.StatusUnauthorized, oauthError{"invalid_client"})
	}
	token := form.Get("token")
	if token == "" {
		return c.JSON(http.StatusBadRequest, oauthError{"invalid_request"})
	}
	ti, err := i.Tokens.Introspect(r.Context(), token)
	if err != nil {
		info.Outcome = account.OutcomeError
		i.log().ErrorContext(r.Context(), "introspection failed", "error", err.Error())
		return c.JSON(http.StatusServiceUnavailable, oauthError{"temporarily_unavailable"})
	}
	info.Outcome = account.OutcomeTokenIntrospect
	out, _ := json.Marshal(IntrospectionOf(ti))
	return c.Blob(http.StatusOK, "application/json", out)
}

// authenticated checks the client secret in constant time (comparing digests, so the length leaks nothing).
func (i *Introspect) authenticated(r *http.Request, form url.Values) bool {
	var given string
	if _, pw, ok := r.BasicAuth(); ok {
		given = pw
	} else if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
		given = strings.TrimSpace(auth[7:])
	} else {
		given = form.Get("client_secret")
	}
	if given == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(i.Secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (i *Introspect) log() *slog.Logger {
	if i.Log != nil {
		return i.Log
	}
	return slog.Default()
}
