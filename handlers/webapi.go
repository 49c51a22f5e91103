package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
)

// DefaultMaxBody is the largest request body read; a larger one gets 413 before any parsing.
const DefaultMaxBody = 64 << 10

// Call is what an action receives: the bound model (nil when the body was empty, as Web API hands a
// controller a null model) and the request it came with.
type Call struct {
	Context context.Context
	Model   any
	Request *http.Request
	// RemoteIP is the client address: the peer, or what a trusted proxy forwarded (see Proxies).
	RemoteIP string
}

// Reply is an action's answer: a pointer to the endpoint's response type and the HTTP status (0 is 200).
type Reply struct {
	Value  any
	Status int
}

// Action runs an endpoint's use case. Actions map their domain outcomes into the reply, as the legacy
// controllers did; an error is what the legacy action would have thrown: Web API's 500
// "An error has occurred.".
type Action func(call *Call) (Reply, error)

// Endpoint is one legacy Web API action.
type Endpoint struct {
	App      *contracts.App
	Path     string // the route's literal path, without a leading slash ("api/user/RememberMessage")
	Param    string // the action's parameter name, which prefixes model state keys ("request", "model")
	Request  *contracts.Contract
	Response *contracts.Contract
	Action   Action
}

// WebAPI answers a set of legacy endpoints the way ASP.NET Web API 5.2.3 did: routes matched ignoring case
// (a trailing slash allowed, the query string ignored), POST only, content negotiation, the formatters'
// binding rules and Web API's error bodies.
type WebAPI struct {
	Endpoints []Endpoint
	// App is the listener's app ("" for the combined listener): requests no endpoint claims are counted
	// under it.
	App string
	// NotFoundApp decides the shape of 404 bodies for paths no endpoint claims (camelCase for aries).
	NotFoundApp *contracts.App
	MaxBody     int64
	// ActionTimeout bounds each action (default 15s), so a request never waits forever on the database
	// or the hashing semaphore.
	ActionTimeout time.Duration
	Log           *slog.Logger
	// Others are faces that are not Web API (r7office's ASC.Api), asked first whether they claim a request.
	Others []Face
}

// Face is a legacy face with its own routing and answers, mounted beside the Web API endpoints.
type Face interface {
	Match(r *http.Request) bool
	Serve(c echo.Context) error
}

// Register mounts the endpoints on e, taking over every path: Web API's routing and error bodies are
// reproduced here rather than through Echo's router, which matches paths case-sensitively and answers
// in its own words.
func (w *WebAPI) Register(e *echo.Echo) {
	e.HTTPErrorHandler = w.handleError
	e.Use(recoverPanics)
	e.Any("/*", w.serve)
	e.Any("/", w.serve)
}

// recoverPanics turns a panic in a handler into an error, so that the client gets Web API's 500 and the
// server goes on.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// handleError replaces Echo's error handler: whatever fails outside the pipeline's own answers is Web
// API's 500 "An error has occurred.", negotiated like any response, never Echo's words or Go error text.
func (w *WebAPI) handleError(err error, c echo.Context) {
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	log.ErrorContext(c.Request().Context(), "request failed", "error", err.Error())
	Info(c.Request().Context()).Outcome = account.OutcomeError
	if c.Response().Committed {
		return
	}
	_ = writeError(c, w.NotFoundApp, http.StatusInternalServerError, &contracts.HttpError{Message: contracts.HiddenErrorMessage})
}

func (w *WebAPI) maxBody() int64 {
	if w.MaxBody > 0 {
		return w.MaxBody
	}
	return DefaultMaxBody
}

// match finds the endpoint for a decoded request path.
func (w *WebAPI) match(path string) *Endpoint {
	p := strings.TrimPrefix(path, "/")
	p = strings.TrimSuffix(p, "/")
	for i := range w.Endpoints {
		if strings.EqualFold(w.Endpoints[i].Path, p) {
			return &w.Endpoints[i]
		}
	}
	return nil
}

func (w *WebAPI) serve(c echo.Context) error {
	r := c.Request()
	for _, f := range w.Others {
		if f.Match(r) {
			return f.Serve(c)
		}
	}
	info := Info(r.Context())
	info.App = w.App
	ep := w.match(r.URL.Path)
	if ep == nil {
		info.Outcome = account.OutcomeRouteNotFound
		return writeError(c, w.NotFoundApp, http.StatusNotFound, &contracts.HttpError{
			Message: "No HTTP resource was found that matches the request URI '" + requestURI(r) + "'.",
		})
	}
	info.App, info.Endpoint, info.Outcome = ep.App.ID, ep.Path, account.OutcomeBadRequest
	if r.Method != http.MethodPost {
		info.Outcome = account.OutcomeMethodNotAllowed
		c.Response().Header().Set("Allow", http.MethodPost)
		return writeError(c, ep.App, http.StatusMethodNotAllowed, &contracts.HttpError{
			Message: "The requested resource does not support http method '" + r.Method + "'.",
		})
	}
	body, err := readBody(r, w.maxBody())
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return writeError(c, ep.App, http.StatusRequestEntityTooLarge, &contracts.HttpError{Message: "The request entity is too large."})
		}
		return writeError(c, ep.App, http.StatusBadRequest, &contracts.HttpError{Message: "The request is invalid."})
	}
	contentType := r.Header.Get("Content-Type")
	if contentType == "" && len(body) > 0 {
		return writeError(c, ep.App, http.StatusUnsupportedMediaType, &contracts.HttpError{
			Message: "The request contains an entity body but no Content-Type header. The inferred media type 'application/octet-stream' is not supported for this resource.",
		})
	}
	var model any
	if contentType != "" {
		mediaType, _ := contracts.MediaType(contentType)
		if contracts.FormatOf(mediaType) == contracts.FormatUnsupported {
			return writeError(c, ep.App, http.StatusUnsupportedMediaType, &contracts.HttpError{
				Message: "The request entity's media type '" + mediaTypeAsSent(contentType) + "' is not supported for this resource.",
			})
		}
		var fieldErrs []contracts.FieldError
		model, err = contracts.DecodeRequest(ep.Request, contentType, body)
		var de *contracts.DecodeError
		switch {
		case errors.As(err, &de):
			fieldErrs = de.Errors
		case err != nil:
			fieldErrs = []contracts.FieldError{{Err: err}}
		}
		fieldErrs = append(fieldErrs, contracts.Validate(ep.Request, model)...)
		if len(fieldErrs) > 0 {
			he := &contracts.HttpError{Message: "The request is invalid."}
			for _, fe := range fieldErrs {
				key := ep.Param
				if fe.Path != "" {
					key += "." + fe.Path
				}
				he.Add(key, contracts.ModelStateMessage(fe.Err))
			}
			return writeError(c, ep.App, http.StatusBadRequest, he)
		}
	}
	timeout := w.ActionTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	info.Outcome = ""
	reply, err := ep.Action(&Call{Context: ctx, Model: model, Request: r, RemoteIP: clientIP(r)})
	if err != nil {
		info.Outcome = account.OutcomeOf(err)
		log := w.Log
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(ctx, "action failed", "path", ep.Path, "error", err.Error())
		return writeError(c, ep.App, http.StatusInternalServerError, &contracts.HttpError{Message: contracts.HiddenErrorMessage})
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	return writeValue(c, ep, status, reply.Value)
}

// peerIP is the address of the connection's peer. Forwarding headers are not trusted here: a client could
// rotate them to dodge rate limits.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requestURI is the request URI as Web API quotes it in a 404: scheme, host and the path and query as sent.
func requestURI(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// mediaTypeAsSent is the media type of a Content-Type without its parameters.
func mediaTypeAsSent(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

var errTooLarge = errors.New("request body too large")

// readBody reads the whole body, refusing more than limit bytes without buffering them.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

func negotiate(r *http.Request) Negotiated {
	ct := r.Header.Get("Content-Type")
	return Negotiate(strings.Join(r.Header.Values("Accept"), ","), strings.Join(r.Header.Values("Accept-Charset"), ","), ct)
}

// writeValue writes a response value with the negotiated formatter; a value the serializer refuses (an
// enum without a name, in XML) is Web API's 500.
func writeValue(c echo.Context, ep *Endpoint, status int, v any) error {
	n := negotiate(c.Request())
	var out []byte
	var err error
	if n.XML {
		out, err = contracts.EncodeXML(ep.Response, v)
	} else {
		out, err = contracts.EncodeJSON(ep.Response, v)
	}
	if err != nil {
		return writeError(c, ep.App, http.StatusInternalServerError, &contracts.HttpError{Message: contracts.HiddenErrorMessage})
	}
	return blob(c, status, n, out)
}

// writeError writes a Web API HttpError, negotiated like any response.
func writeError(c echo.Context, app *contracts.App, status int, e *contracts.HttpError) error {
	n := negotiate(c.Request())
	var out []byte
	if n.XML {
		out = e.AppendXML(nil)
	} else {
		out = e.AppendJSON(nil, app)
	}
	return blob(c, status, n, out)
}

func blob(c echo.Context, status int, n Negotiated, out []byte) error {
	if info := Info(c.Request().Context()); n.XML {
		info.Format = "xml"
	} else {
		info.Format = "json"
	}
	if n.UTF16 {
		out = toUTF16LE(out)
	}
	return c.Blob(status, n.ContentType(), out)
}

// toUTF16LE re-encodes UTF-8 text as UTF-16LE with a byte order mark (Encoding.Unicode's preamble).
func toUTF16LE(b []byte) []byte {
	out := make([]byte, 0, 2+2*len(b))
	out = append(out, 0xFF, 0xFE)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			out = append(out, byte(r1), byte(r1>>8), byte(r2), byte(r2>>8))
			continue
		}
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}
