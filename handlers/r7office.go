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
	ResendCode(ctx context.Context, r account.AuthRequest) (account.AuthResult, error)
	Confirm(ctx context.Context, r account.ConfirmRequest) (account.AuthResult, error)
}

// R7Office answers R7-Office's (ONLYOFFICE's) ASC.Api authentication routes the way that framework does,
// which is not Web API: the format is chosen by a .xml/.tml path suffix and never by Accept, the request is
// bound from one collection of route values, query and body (contracts.ReadASCRequest), the answer is the
// ApiStandartResponce envelope (201 with count 1 on success) and a failure is ApiHttpHandler's status
// line ("500 Server error", "400 Invalid arguments", "403 Access denied") with the innermost exception's
// message (README, "r7office"; ONLYOFFICE/CommunityServer module/ASC.Api).
type R7Office struct {
	Auth TwoFactorAuth
	// Offset is the tenant's UTC offset, which ApiDateTime writes the expiry times in ("+03:00").
	Offset time.Duration
	// Culture is the language of ONLYOFFICE's resource messages; "" is Russian, R7-Office's.
	Culture       contracts.R7Culture
	MaxBody       int64
	ActionTimeout time.Duration
	Log           *slog.Logger
}

// ParseR7Culture reads --r7office-culture.
func ParseR7Culture(s string) (contracts.R7Culture, error) {
	switch c := contracts.R7Culture(strings.ToLower(strings.TrimSpace(s))); c {
	case "", contracts.R7Russian:
		return contracts.R7Russian, nil
	case contracts.R7English:
		return c, nil
	}
	return "", fmt.Errorf("%q: want ru or en", s)
}

// r7Action is one ASC.Api method of AuthenticationEntryPoint.
type r7Action int

const (
	r7Authenticate r7Action = iota // POST api/2.0/authentication
	r7SetPhone                     // POST api/2.0/authentication/setphone
	r7SendSMS                      // POST api/2.0/authentication/sendsms
	r7Login                        // POST api/2.0/authentication/login (e-mail key sign-in, not served)
	r7Register                     // POST api/2.0/authentication/register (personal.onlyoffice.com only)
	r7Confirm                      // POST api/2.0/authentication/{code}
)

// r7Route is a request path matched against the entry point's routes.
type r7Route struct {
	action r7Action
	code   string // the {code} segment
	xmlExt bool   // the path ends in .xml or .tml
}

const r7Base = "api/2.0/authentication"

// r7Literals are the entry point's literal routes, which ASP.NET routing tries before {code}.
var r7Literals = []struct {
	name   string
	action r7Action
}{{"setphone", r7SetPhone}, {"sendsms", r7SendSMS}, {"login", r7Login}, {"register", r7Register}}

// isR7Ext reports whether s is one of ASC.Api's extensions as ApiExtensionConstraint compares them:
// exactly, so ".XML" is not one.
func isR7Ext(s string) bool { return s == ".json" || s == ".xml" || s == ".tml" }

// matchR7 matches a decoded path as ASC.Api's routes do: literal segments ignoring case, each method
// registered as path{extension} and path, literal routes before {code}.{extension} and {code}. So
// setphone.xml reaches setphone, setphone.XML is a code, and 12.34.json the code 12.34.
func matchR7(path string) (r7Route, bool) {
	p := strings.TrimPrefix(path, "/")
	if len(p) < len(r7Base) || !strings.EqualFold(p[:len(r7Base)], r7Base) {
		return r7Route{}, false
	}
	var rt r7Route
	// The format is the text after the path's last dot (StringUtils.GetExtension), whatever the route.
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		rt.xmlExt = p[i:] == ".xml" || p[i:] == ".tml"
	}
	rest := strings.TrimSuffix(p[len(r7Base):], "/")
	switch {
	case rest == "" || isR7Ext(rest):
		rt.action = r7Authenticate
		return rt, true
	case rest[0] != '/':
		return r7Route{}, false
	}
	seg := rest[1:]
	if seg == "" || strings.Contains(seg, "/") {
		return r7Route{}, false
	}
	for _, l := range r7Literals {
		if strings.EqualFold(seg, l.name) ||
			len(seg) > len(l.name) && strings.EqualFold(seg[:len(l.name)], l.name) && isR7Ext(seg[len(l.name):]) {
			rt.action = l.action
			return rt, true
		}
	}
	rt.action, rt.code = r7Confirm, seg
	if i := strings.LastIndexByte(seg, '.'); i > 0 && isR7Ext(seg[i:]) {
		rt.code = seg[:i]
	}
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

// r7Options is ApiAccessControlRouteRegistrator's route: OPTIONS on anything under api/2.0/.
func r7Options(r *http.Request) bool {
	const base = "api/2.0/"
	p := strings.TrimPrefix(r.URL.Path, "/")
	return r.Method == http.MethodOptions && len(p) >= len(base) && strings.EqualFold(p[:len(base)], base)
}

// Match claims POSTs to the entry point's routes and OPTIONS under api/2.0/; anything else is left to Web
// API's routing (its 404).
func (f *R7Office) Match(r *http.Request) bool {
	if r7Options(r) {
		return true
	}
	if r.Method != http.MethodPost {
		return false
	}
	_, ok := matchR7(r.URL.Path)
	return ok
}

// The r7office contracts.
var (
	r7SetPhoneResponse       = mustContract("SetPhoneResponse")
	r7AuthenticationResponse = mustContract("AuthenticationResponse")
)

func mustContract(typ string) *contracts.Contract {
	c, err := contracts.Lookup("r7office", typ)
	if err != nil {
		panic(err) // a renamed contract is a build mistake
	}
	return c
}

// r7Failure is an answer of ApiHttpHandler.SetError: status, reason phrase, and the ErrorWrapper.
type r7Failure struct {
	status  int
	reason  string
	message string // or, when localized, resource in the configured culture
	hresult int32

	localized bool
	resource  contracts.R7Resource
}

// r7Localized is SmsManager's refusal with a resource message.
func r7Localized(r contracts.R7Resource) r7Failure {
	return r7Failure{status: http.StatusInternalServerError, reason: "Server error", hresult: contracts.HResultException,
		localized: true, resource: r}
}

func r7ServerError(msg string, hresult int32) r7Failure {
	return r7Failure{status: http.StatusInternalServerError, reason: "Server error", message: msg, hresult: hresult}
}

var r7AuthFailed = r7ServerError(contracts.R7AuthFailed, contracts.HResultSystem)

// r7Failures is the face's answer table (see the README's r7office table): AuthenticationEntryPoint turns
// every failure of the password or the code into AuthenticationException("User authentication failed");
// SmsManager's refusals escape with their own messages. Storage failures and a busy hasher answer like a
// wrong password: the log tells them apart. On {code}, every failure but the block is "User
// authentication failed" (AuthenticateMe(code) catches everything after GetUser).
var r7Failures = map[account.Outcome]r7Failure{
	account.OutcomeAuthFailed:     r7AuthFailed,
	account.OutcomePhoneTaken:     r7AuthFailed,
	account.OutcomeBusy:           r7AuthFailed,
	account.OutcomeError:          r7AuthFailed,
	account.OutcomeSignInBlocked:  r7ServerError(contracts.R7LoginBlocked, contracts.HResultSystem),
	account.OutcomeRateLimited:    r7Localized(contracts.R7SmsTooMuch),
	account.OutcomePhoneEmpty:     r7Localized(contracts.R7EmptyPhone),
	account.OutcomePhoneConfirmed: r7Localized(contracts.R7PhoneMustErase),
	account.OutcomeSMSNotEnabled:  r7ServerError(contracts.R7MethodAccess, contracts.HResultMethodAccess),
	account.OutcomeNoPhone: {status: http.StatusBadRequest, reason: "Invalid arguments",
		message: contracts.R7ArgumentNull("phone"), hresult: contracts.HResultArgumentNull},
}

// failure is the answer to a domain failure's outcome.
func (f *R7Office) failure(action r7Action, o account.Outcome) r7Failure {
	a, ok := r7Failures[o]
	if !ok || action == r7Confirm && o != account.OutcomeSignInBlocked {
		a = r7AuthFailed
	}
	if a.localized {
		culture := f.Culture
		if culture == "" {
			culture = contracts.R7Russian
		}
		a.message = culture.Text(a.resource)
	}
	return a
}

// Serve answers a request Match claimed.
func (f *R7Office) Serve(c echo.Context) error {
	r := c.Request()
	info := Info(r.Context())
	info.App = contracts.R7Office.ID
	if r7Options(r) {
		info.Endpoint, info.Outcome = "api/2.0/*", account.OutcomePreflight
		return f.options(c)
	}
	rt, _ := matchR7(r.URL.Path)
	info.Endpoint = r7Base
	if rt.action != r7Authenticate {
		info.Endpoint += "/" + rt.action.String()
	}
	ct, hasCT := r.Header.Get("Content-Type"), len(r.Header.Values("Content-Type")) > 0
	// JsonNetSerializer.IsXmlRequest: a .xml/.tml path, unless the request's media type (as .NET's
	// ContentType keeps it) is exactly application/json. A Content-Type .NET cannot parse makes ASC.Api's
	// responder throw there (an ASP.NET error page): aspgate answers in JSON instead.
	asXML := rt.xmlExt
	if asXML && ct != "" {
		mt, err := contracts.ASCMediaType(ct)
		asXML = err == nil && mt != "application/json"
	}
	info.Format = "json"
	if asXML {
		info.Format = "xml"
	}
	contract := r7AuthenticationResponse
	if rt.action == r7SetPhone || rt.action == r7SendSMS {
		contract = r7SetPhoneResponse
	}
	fail := func(a r7Failure) error {
		return f.write(c, contract, asXML, a.status, a.reason, &contracts.Envelope{Status: contracts.ApiStatusError,
			StatusCode: int64(a.status), Error: &contracts.ErrorWrapper{Message: &a.message, HResult: a.hresult, Data: &contracts.Dict{}}})
	}

	params, berr := f.bind(r, rt, ct, hasCT)
	if berr != nil {
		info.Outcome = account.OutcomeBadRequest
	}
	if errors.Is(berr, errTooLarge) {
		// IIS refuses a body over maxAllowedContentLength before ASC.Api runs.
		return c.NoContent(http.StatusRequestEntityTooLarge)
	}
	var ascErr *contracts.ASCError
	if errors.As(berr, &ascErr) {
		f.log().InfoContext(r.Context(), "r7office: unreadable request", "action", rt.action.String(), "status", ascErr.Status)
		return fail(r7Failure{status: ascErr.Status, reason: ascErr.Reason, message: ascErr.Message, hresult: ascErr.HResult})
	}
	if berr != nil {
		f.log().InfoContext(r.Context(), "r7office: unreadable body", "error", berr.Error())
		return fail(r7AuthFailed)
	}
	arg := func(name string) string { v, _ := params.First(name); return v }

	switch rt.action {
	case r7Login:
		// ValidateEmailKey runs first: without a key ArgumentNullException (400); with one the key is not
		// valid here (it would be the portal's e-mail key), so SecurityException (403).
		info.Outcome = account.OutcomeNotServed
		if _, ok := params.First("key"); !ok {
			return fail(r7Failure{status: http.StatusBadRequest, reason: "Invalid arguments",
				message: contracts.R7ArgumentNull("key"), hresult: contracts.HResultArgumentNull})
		}
		return fail(r7Failure{status: http.StatusForbidden, reason: "Access denied", message: contracts.R7AccessDenied,
			hresult: contracts.HResultSecurity})
	case r7Register:
		info.Outcome = account.OutcomeNotServed
		return fail(r7ServerError(contracts.R7NotPersonal, contracts.HResultMethodAccess))
	}

	timeout := f.ActionTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	ip := clientIP(r)
	auth := account.AuthRequest{UserName: arg("userName"), Password: arg("password"), Provider: arg("provider"), ClientIP: ip}
	var res account.AuthResult
	var err error
	switch rt.action {
	case r7Authenticate:
		res, err = f.Auth.Authenticate(ctx, auth)
	case r7SetPhone:
		res, err = f.Auth.SetPhone(ctx, account.SetPhoneRequest{UserName: auth.UserName, Password: auth.Password,
			Provider: auth.Provider, MobilePhone: arg("mobilePhone"), ClientIP: ip})
	case r7SendSMS:
		res, err = f.Auth.ResendCode(ctx, auth)
	case r7Confirm:
		res, err = f.Auth.Confirm(ctx, account.ConfirmRequest{UserName: auth.UserName, Password: auth.Password,
			Provider: auth.Provider, Code: arg("code"), ClientIP: ip})
	}
	success := account.OutcomeSecondFactor
	switch {
	case res.Token != "":
		success = account.OutcomeTokenIssued
	case res.SMS && res.PhoneNoise != "":
		success = account.OutcomeLoginCodeSent
	}
	if o := settle(ctx, err, success); err != nil {
		level := slog.LevelInfo
		if o == account.OutcomeError || o == account.OutcomeBusy {
			level = slog.LevelWarn // answered like a wrong password, but not one: storage, a busy hasher
		}
		f.log().Log(ctx, level, "r7office: "+rt.action.String()+" failed", "error", err.Error())
		return fail(f.failure(rt.action, o))
	}
	data := &contracts.AuthenticationTokenData{Sms: res.SMS, Tfa: res.TFA}
	if res.Token != "" {
		data.Token = &res.Token
		// CookiesManager.AuthenticateMeAndSetCookies: every token issued is also the portal's auth cookie.
		c.Response().Header().Add("Set-Cookie", r7AuthCookie(res.Token, res.Expires, r.TLS != nil))
	}
	if !res.Expires.IsZero() {
		data.Expires = contracts.NewApiDateTime(res.Expires, f.Offset)
	}
	if res.PhoneNoise != "" {
		data.PhoneNoise = &res.PhoneNoise
	}
	return f.write(c, contract, asXML, http.StatusCreated, "Created", &contracts.Envelope{Count: 1, Status: contracts.ApiStatusOk,
		StatusCode: http.StatusCreated, Response: data})
}

// r7AuthCookie is the asc_auth_key cookie as Mono's HttpCookie writes it: path, expiry (RFC 1123), secure
// on HTTPS, HttpOnly.
func r7AuthCookie(token string, expires time.Time, secure bool) string {
	v := "asc_auth_key=" + token + "; path=/"
	if !expires.IsZero() {
		v += "; expires=" + expires.UTC().Format(http.TimeFormat)
	}
	if secure {
		v += "; secure"
	}
	return v + "; HttpOnly"
}

// options answers ApiAccessHttpHandler: 200, the Access-Control headers it sets, no body (Mono's
// HttpResponse still names its default content type).
func (f *R7Office) options(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
	h.Set("Access-Control-Allow-Headers", "origin, authorization, accept, content-type")
	h.Set("Access-Control-Max-Age", "1728000")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", "0")
	c.Response().WriteHeader(http.StatusOK)
	return nil
}

// R7Endpoints are the names RequestInfo.Endpoint takes on the r7office face (for the metrics' labels).
func R7Endpoints() []string {
	out := []string{"api/2.0/*", r7Base}
	for _, l := range r7Literals {
		out = append(out, r7Base+"/"+l.name)
	}
	return append(out, r7Base+"/"+r7Confirm.String())
}

func (a r7Action) String() string {
	switch a {
	case r7SetPhone:
		return "setphone"
	case r7SendSMS:
		return "sendsms"
	case r7Login:
		return "login"
	case r7Register:
		return "register"
	case r7Confirm:
		return "code"
	}
	return "authenticate"
}

// bind builds ApiArgumentBuilder's parameter collection: the route's {code} first, then the query string
// as sent, then the body (contracts.ReadASCRequest). An *contracts.ASCError is ASC.Api's answer to a body
// it cannot read.
func (f *R7Office) bind(r *http.Request, rt r7Route, ct string, hasCT bool) (*contracts.ASCParams, error) {
	limit := f.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := readBody(r, limit)
	if err != nil {
		return nil, err
	}
	params := &contracts.ASCParams{}
	if rt.action == r7Confirm {
		params.Add("code", rt.code)
	}
	if aerr := contracts.ReadASCRequest(params, ct, hasCT, r.URL.RawQuery, body); aerr != nil {
		return nil, aerr
	}
	return params, nil
}

// write sends the envelope as ASC.Api does: JSON or the XML converted from it, charset=UTF-8 in upper case.
func (f *R7Office) write(c echo.Context, contract *contracts.Contract, asXML bool, status int, reason string, env *contracts.Envelope) error {
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
	return writeWithReason(c, status, reason, ct, out)
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
