package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
)

// TwoFactorAuth is what the r7office face needs of the domain.
type TwoFactorAuth interface {
	Authenticate(ctx context.Context, r account.AuthRequest) (account.AuthResult, error)
	SetPhone(ctx context.Context, r account.SetPhoneRequest) (account.AuthResult, error)
	Confirm(ctx context.Context, r account.ConfirmRequest) (account.AuthResult, error)
}

// R7Office answers R7-Office's (ONLYOFFICE's) ASC.Api authentication routes the way that framework does,
// which is not Web API: the format is chosen by a .xml/.tml path suffix and never by Accept, the answer is
// the ApiStandartResponce envelope (201 with count 1 on success), and every failure of the sign-in is HTTP
// 500 "Server error" with "User authentication failed" (oracle README, "r7office wire facts").
type R7Office struct {
	Auth TwoFactorAuth
	// Offset is the tenant's UTC offset, which ApiDateTime writes the expiry times in ("+03:00").
	Offset        time.Duration
	MaxBody       int64
	ActionTimeout time.Duration
	Log           *slog.Logger
}

// r7Action is one ASC.Api method of AuthenticationEntryPoint.
type r7Action int

const (
	r7Authenticate r7Action = iota // POST api/2.0/authentication
	r7SetPhone                     // POST api/2.0/authentication/setphone
	r7Confirm                      // POST api/2.0/authentication/{code}
)

// r7Route is a request path matched against the entry point's routes.
type r7Route struct {
	action r7Action
	code   string // the {code} segment
	xmlExt bool   // the path ends in .xml or .tml
}

const r7Base = "api/2.0/authentication"

// matchR7 matches a decoded path, ignoring case as ASP.NET routing does. ASC.Api registers each method as
// path and path.{format}, literal routes before parameter ones, so setphone.xml reaches setphone and any
// other single segment is a code.
func matchR7(path string) (r7Route, bool) {
	p := strings.TrimPrefix(path, "/")
	if len(p) < len(r7Base) || !strings.EqualFold(p[:len(r7Base)], r7Base) {
		return r7Route{}, false
	}
	rest := p[len(r7Base):]
	var rt r7Route
	// The format is the text after the path's last dot (StringUtils), whatever the route.
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		ext := strings.ToLower(p[i:])
		rt.xmlExt = ext == ".xml" || ext == ".tml"
	}
	stripExt := func(s string) string {
		for _, ext := range []string{".json", ".xml", ".tml"} {
			if len(s) >= len(ext) && strings.EqualFold(s[len(s)-len(ext):], ext) {
				return s[:len(s)-len(ext)]
			}
		}
		return s
	}
	switch {
	case rest == "" || stripExt(rest) == "":
		rt.action = r7Authenticate
		return rt, true
	case rest[0] != '/':
		return r7Route{}, false
	}
	seg := strings.TrimSuffix(rest[1:], "/")
	if seg == "" {
		rt.action = r7Authenticate
		return rt, true
	}
	if strings.Contains(seg, "/") {
		return r7Route{}, false
	}
	if seg = stripExt(seg); seg == "" {
		return r7Route{}, false
	}
	if strings.EqualFold(seg, "setphone") {
		rt.action = r7SetPhone
		return rt, true
	}
	rt.action, rt.code = r7Confirm, seg
	return rt, true
}

// redactPath hides the code of an r7office {code} route: the path is logged, and the code in it is as
// secret as a password for as long as it is live.
func redactPath(path string) string {
	rt, ok := matchR7(path)
	if !ok || rt.action != r7Confirm {
		return path
	}
	i := strings.LastIndex(path, rt.code)
	if i < 0 {
		return path
	}
	return path[:i] + "{code}" + path[i+len(rt.code):]
}

// Match claims POSTs to the entry point's routes; anything else is left to Web API's routing (its 404).
func (f *R7Office) Match(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	_, ok := matchR7(r.URL.Path)
	return ok
}

// The r7office contracts.
var (
	r7SetPhoneRequest        = mustContract("SetPhoneRequest")
	r7SetPhoneResponse       = mustContract("SetPhoneResponse")
	r7AuthenticationRequest  = mustContract("AuthenticationRequest")
	r7AuthenticationResponse = mustContract("AuthenticationResponse")
)

func mustContract(typ string) *contracts.Contract {
	c, err := contracts.Lookup("r7office", typ)
	if err != nil {
		panic(err) // a renamed contract is a build mistake
	}
	return c
}

// The answers of ASC.Api's ApiHttpHandler.
var (
	r7AuthFailed = &contracts.ErrorWrapper{Message: contracts.Ptr("User authentication failed"),
		HResult: contracts.HResultSystem, Data: &contracts.Dict{}}
	errR7Body = errors.New("r7office: body too large or unreadable")
)

// Serve answers a request Match claimed.
func (f *R7Office) Serve(c echo.Context) error {
	r := c.Request()
	rt, _ := matchR7(r.URL.Path)
	mediaType, _ := contracts.MediaType(r.Header.Get("Content-Type"))
	asXML := rt.xmlExt && mediaType != "application/json"
	contract := r7AuthenticationResponse
	if rt.action == r7SetPhone {
		contract = r7SetPhoneResponse
	}
	fail := func(status int, e *contracts.ErrorWrapper) error {
		return f.write(c, contract, asXML, status, &contracts.Envelope{Status: contracts.ApiStatusError,
			StatusCode: int64(status), Error: e})
	}

	fields, err := f.bind(r, rt)
	if errors.Is(err, errTooLarge) {
		// IIS refuses a body over maxAllowedContentLength before ASC.Api runs.
		return c.NoContent(http.StatusRequestEntityTooLarge)
	}
	if err != nil {
		f.log().InfoContext(r.Context(), "r7office: unreadable body", "error", err.Error())
		return fail(http.StatusInternalServerError, r7AuthFailed)
	}
	timeout := f.ActionTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	ip := peerIP(r)
	var res account.AuthResult
	switch rt.action {
	case r7Authenticate:
		res, err = f.Auth.Authenticate(ctx, account.AuthRequest{UserName: fields.userName, Password: fields.password,
			Provider: fields.provider, ClientIP: ip})
	case r7SetPhone:
		res, err = f.Auth.SetPhone(ctx, account.SetPhoneRequest{UserName: fields.userName, Password: fields.password,
			Provider: fields.provider, MobilePhone: fields.mobilePhone, ClientIP: ip})
	case r7Confirm:
		res, err = f.Auth.Confirm(ctx, account.ConfirmRequest{UserName: fields.userName, Password: fields.password,
			Provider: fields.provider, Code: rt.code, ClientIP: ip})
	}
	if err != nil {
		// AuthenticationEntryPoint catches everything and throws AuthenticationException: a rate limit, a
		// busy hasher and a storage failure look like a wrong password to the client. The log tells them apart.
		level := slog.LevelInfo
		if !errors.Is(err, account.ErrAuthFailed) {
			level = slog.LevelWarn
		}
		f.log().Log(ctx, level, "r7office: authentication failed", "action", rt.action.String(), "error", err.Error())
		return fail(http.StatusInternalServerError, r7AuthFailed)
	}
	data := &contracts.AuthenticationTokenData{Sms: res.SMS, Tfa: res.TFA}
	if res.Token != "" {
		data.Token = &res.Token
	}
	if !res.Expires.IsZero() {
		data.Expires = contracts.NewApiDateTime(res.Expires, f.Offset)
	}
	if res.PhoneNoise != "" {
		data.PhoneNoise = &res.PhoneNoise
	}
	return f.write(c, contract, asXML, http.StatusCreated, &contracts.Envelope{Count: 1, Status: contracts.ApiStatusOk,
		StatusCode: http.StatusCreated, Response: data})
}

func (a r7Action) String() string {
	switch a {
	case r7SetPhone:
		return "setphone"
	case r7Confirm:
		return "code"
	}
	return "authenticate"
}

// r7Fields are the parameters the entry point's methods take.
type r7Fields struct{ userName, password, provider, mobilePhone string }

// bind fills the parameters as ASC.Api's ApiArgumentBuilder does: one case-insensitive collection, route
// values first, then the query string, then the body (JSON, XML or form fields by its media type), the
// first value of a name winning. An absent parameter is "".
func (f *R7Office) bind(r *http.Request, rt r7Route) (r7Fields, error) {
	limit := f.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := readBody(r, limit)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return r7Fields{}, err
		}
		return r7Fields{}, errR7Body
	}
	var fields r7Fields
	query := r.URL.Query()
	fromQuery := func(name string) (string, bool) {
		for k, v := range query {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0], true
			}
		}
		return "", false
	}
	var model any
	if len(body) > 0 {
		req := r7AuthenticationRequest
		if rt.action == r7SetPhone {
			req = r7SetPhoneRequest
		}
		ct := r.Header.Get("Content-Type")
		if mt, charset := contracts.MediaType(ct); mt != "application/json" && mt != "text/xml" {
			// ASC.Api reads any other body as form fields: no 415 there.
			ct = "application/x-www-form-urlencoded; charset=" + charset
		}
		if model, err = contracts.Decode(req, ct, body); err != nil {
			return r7Fields{}, err
		}
	}
	pick := func(name string, fromBody *string) string {
		if v, ok := fromQuery(name); ok {
			return v
		}
		if fromBody != nil {
			return *fromBody
		}
		return ""
	}
	switch m := model.(type) {
	case *contracts.SetPhoneRequest:
		fields = r7Fields{pick("userName", m.UserName), pick("password", m.Password), pick("provider", m.Provider),
			pick("mobilePhone", m.MobilePhone)}
	case *contracts.AuthenticationRequest:
		fields = r7Fields{pick("userName", m.UserName), pick("password", m.Password), pick("provider", m.Provider), ""}
	default:
		fields = r7Fields{pick("userName", nil), pick("password", nil), pick("provider", nil), pick("mobilePhone", nil)}
	}
	return fields, nil
}

// write sends the envelope as ASC.Api does: JSON or the XML converted from it, charset=UTF-8 in upper case.
func (f *R7Office) write(c echo.Context, contract *contracts.Contract, asXML bool, status int, env *contracts.Envelope) error {
	var (
		out []byte
		err error
		ct  = "application/json; charset=UTF-8"
	)
	if asXML {
		ct = "text/xml; charset=UTF-8"
		out, err = contracts.EncodeXML(contract, env)
	} else {
		out, err = contracts.EncodeJSON(contract, env)
	}
	if err != nil {
		return fmt.Errorf("r7office: encode: %w", err)
	}
	return writeWithReason(c, status, r7Reason(status), ct, out)
}

// r7Reason is the reason phrase ASC.Api's handler sets: its own "Server error" for 500, else the standard one.
func r7Reason(status int) string {
	if status == http.StatusInternalServerError {
		return "Server error"
	}
	return http.StatusText(status)
}

// writeWithReason writes a response whose status line carries a reason phrase Go's server would not write
// ("500 Server error"): net/http always uses its own phrases, so the connection is taken over and the
// response written by hand, then closed (the client opens a new one). Where the connection cannot be
// taken over (HTTP/2, a recorder in tests), the standard phrase is written instead.
func writeWithReason(c echo.Context, status int, reason, contentType string, body []byte) error {
	if reason == http.StatusText(status) || c.Request().ProtoMajor != 1 {
		return c.Blob(status, contentType, body)
	}
	res := c.Response()
	hj, ok := res.Writer.(http.Hijacker)
	if !ok {
		return c.Blob(status, contentType, body)
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return c.Blob(status, contentType, body)
	}
	defer conn.Close()
	res.Status, res.Size, res.Committed = status, int64(len(body)), true
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %03d %s\r\n", status, reason)
	fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n", contentType, len(body))
	for k, vs := range res.Header() {
		if k == "Content-Type" || k == "Content-Length" || k == "Connection" {
			continue
		}
		for _, v := range vs {
			b.WriteString(k + ": " + sanitizeHeader(v) + "\r\n")
		}
	}
	b.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\nConnection: close\r\n\r\n")
	// A request pipelined behind this one, in rw's read buffer, is dropped with the connection.
	if _, err := rw.Writer.WriteString(b.String()); err == nil {
		_, _ = rw.Writer.Write(body)
		_ = rw.Writer.Flush()
	}
	return nil // a client that went away gets nothing more
}

func sanitizeHeader(v string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(v) }

func (f *R7Office) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.Default()
}

// ParseUTCOffset reads a tenant offset as ApiDateTime writes it: "Z", "+03:00", "-05:30" (at most 14 h).
func ParseUTCOffset(s string) (time.Duration, error) {
	if s == "" || s == "Z" || s == "z" || s == "0" {
		return 0, nil
	}
	bad := fmt.Errorf("UTC offset %q: want Z or ±hh:mm", s)
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return 0, bad
	}
	h, err1 := strconv.Atoi(s[1:3])
	m, err2 := strconv.Atoi(s[4:6])
	if err1 != nil || err2 != nil || m > 59 || h*60+m > 14*60 {
		return 0, bad
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if s[0] == '-' {
		d = -d
	}
	return d, nil
}
