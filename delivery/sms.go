package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"text/template"
	"time"
)

// SMS defaults. The body is JSON because most SMS gateways take JSON; the timeout is short because the
// dispatcher retries anyway and a hung gateway must not hold a claimed batch for long.
const (
	DefaultSMSMethod  = http.MethodPost
	DefaultSMSBody    = `{"to":"{{.To}}","text":"{{.Text}}"}`
	DefaultSMSTimeout = 10 * time.Second

	defaultSMSContentType = "application/json"
	// smsMaxDrain bounds how much of a response body is read, so a chatty or hostile gateway cannot make
	// the dispatcher read megabytes; past it the connection is simply not reused.
	smsMaxDrain = 4 << 10
)

// SMSConfig describes an HTTP webhook that accepts SMS. A method, a URL, a few header lines and a body
// template cover most SMS gateways without code per provider.
type SMSConfig struct {
	// URL is the absolute http or https address of the gateway. Its query may carry an API key; it is never
	// logged or put in errors.
	URL string
	// Method is the HTTP method; empty means POST.
	Method string
	// Headers are "Name: value" lines, e.g. "Authorization: Bearer ...". A name may repeat. A Content-Type
	// line decides how template values are escaped; without one the body is sent as application/json.
	// An Idempotency-Key line replaces the per-message key the sender adds by default.
	Headers []string
	// Body is a text/template for the request body with the fields .To, .Text, .ID, .App and
	// .IdempotencyKey; empty means DefaultSMSBody. Values arrive already escaped for the content type,
	// so a JSON template puts string values inside quotes: "{{.Text}}".
	Body string
	// Timeout bounds one attempt, from connecting to reading the response; zero means DefaultSMSTimeout.
	Timeout time.Duration
}

// SMSSender delivers SMS envelopes to an HTTP webhook. It is immutable after NewSMSSender and safe for
// concurrent use.
type SMSSender struct {
	method   string
	url      string // the full URL, secrets included: only ever handed to the HTTP client
	redacted string // scheme://host/path, for String and errors
	header   http.Header
	host     string // a configured Host header, which net/http takes from Request.Host, not Header
	nHeaders int
	body     *template.Template
	escape   func(string) string
	idemKey  bool // whether to add Idempotency-Key (false when the configuration sets it)
	timeout  time.Duration
	client   *http.Client
}

var _ Sender = (*SMSSender)(nil)

// smsData is what the body template sees. The string fields hold values already escaped for the body's
// content type, so a template author cannot forget to escape a quote in an SMS text.
type smsData struct {
	To             string
	Text           string
	ID             int64
	App            string
	IdempotencyKey string
}

// smsSample is rendered at construction to prove that the template yields a well-formed body whatever the
// values hold: quotes, backslashes, newlines, control characters, markup and Cyrillic.
var smsSample = Envelope{
	ID:             42,
	App:            `app "one" \ two`,
	To:             "+7 (900) 000-00-00 \"x\" \\ &=?#%",
	Text:           "Код: 123456\r\n\"кавычки\" \\ back\\slash\t</script> & <b> \u2028 \x01",
	IdempotencyKey: "sms-42 \"k\" \\",
}

// NewSMSSender checks cfg and returns a sender. client may be nil, in which case the sender has its own;
// a given client is copied, never changed, and the copy never follows redirects. Errors name the faulty
// setting but never echo a header value, since header values are usually API keys.
func NewSMSSender(cfg SMSConfig, client *http.Client) (*SMSSender, error) {
	s := &SMSSender{method: cfg.Method, timeout: cfg.Timeout, idemKey: true}
	if s.method == "" {
		s.method = DefaultSMSMethod
	}
	if !isToken(s.method) {
		return nil, errors.New("sms: method is not a valid HTTP method token")
	}
	if s.timeout == 0 {
		s.timeout = DefaultSMSTimeout
	}
	if s.timeout < 0 {
		return nil, errors.New("sms: timeout must not be negative")
	}

	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url.Error quotes the whole URL, query included, so its text is not used.
		return nil, errors.New("sms: URL does not parse")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("sms: URL must be an absolute http:// or https:// address")
	}
	s.url = u.String()
	s.redacted = redactURL(u)

	s.header = make(http.Header)
	contentType := ""
	for i, line := range cfg.Headers {
		name, value, err := parseHeaderLine(line)
		if err != nil {
			return nil, fmt.Errorf("sms: header line %d: %w", i+1, err)
		}
		switch name {
		case "Content-Length", "Transfer-Encoding", "Connection":
			return nil, fmt.Errorf("sms: header line %d: %s is set by the HTTP client", i+1, name)
		case "Host":
			if s.host != "" {
				return nil, fmt.Errorf("sms: header line %d: Host is set twice", i+1)
			}
			s.host = value
			s.nHeaders++
			continue
		case "Content-Type":
			if contentType != "" {
				return nil, fmt.Errorf("sms: header line %d: Content-Type is set twice", i+1)
			}
			contentType = value
		case "Idempotency-Key":
			s.idemKey = false
		}
		s.header.Add(name, value)
		s.nHeaders++
	}
	if contentType == "" {
		contentType = defaultSMSContentType
		s.header.Set("Content-Type", contentType)
	}
	if s.header.Get("User-Agent") == "" {
		s.header.Set("User-Agent", "aspgate-delivery")
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, errors.New("sms: the Content-Type header does not parse as a media type")
	}
	format := bodyRaw
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		format = bodyJSON
		s.escape = jsonEscape
	case mediaType == "application/x-www-form-urlencoded":
		format = bodyForm
		s.escape = url.QueryEscape
	default:
		s.escape = func(v string) string { return v }
	}

	src := cfg.Body
	if src == "" {
		src = DefaultSMSBody
	}
	s.body, err = template.New("sms body").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("sms: body template: %w", err)
	}
	sample, err := s.render(smsSample)
	if err != nil {
		return nil, fmt.Errorf("sms: body template: %w", err)
	}
	switch format {
	case bodyJSON:
		var v any
		if err := json.Unmarshal(sample, &v); err != nil {
			// The error names an offset and a character, never the rendered body, which in real use holds
			// the code and may hold a key written into the template.
			return nil, fmt.Errorf("sms: body template does not yield valid JSON for values with quotes, "+
				"backslashes and newlines (put string fields inside quotes, e.g. \"{{.Text}}\"): %w", err)
		}
	case bodyForm:
		if _, err := url.ParseQuery(string(sample)); err != nil {
			return nil, errors.New("sms: body template does not yield a valid form-encoded body")
		}
	}

	if client == nil {
		client = &http.Client{}
	}
	c := *client
	// A redirect from an SMS gateway means the URL is wrong (http to https, a moved API version, a login
	// page). Following it would resend the code, and for 301/302/303 silently turn the POST into a bodyless
	// GET that "succeeds"; retrying would hit the same redirect. So the 3xx is returned to Send, which
	// reports it as a permanent misconfiguration.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = &c
	return s, nil
}

// The body formats that decide how template values are escaped.
const (
	bodyRaw = iota
	bodyJSON
	bodyForm
)

// Send posts e to the webhook. A 2xx is success. A 3xx or a 4xx other than 408 and 429 is permanent:
// the request itself is wrong and sending it again cannot change the answer. 5xx, 408, 429, timeouts and
// connection errors are retryable. Error texts name the method, the redacted URL and the status, never the
// header values, the body (which holds the code) or the URL query (which may hold a key).
func (s *SMSSender) Send(ctx context.Context, e Envelope) error {
	body, err := s.render(e)
	if err != nil {
		// The sample render at construction succeeded, so this is not expected; the message still has
		// nothing to do with it, so it is not marked permanent.
		return fmt.Errorf("sms: rendering the body: %w", err)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, s.method, s.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("sms: %s %s: cannot build the request", s.method, s.redacted))
	}
	req.Header = s.header.Clone()
	if s.host != "" {
		req.Host = s.host
	}
	if s.idemKey && e.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", e.IdempotencyKey)
	}

	resp, err := s.client.Do(req)
	if err != nil {
		return s.transportError(parent, err)
	}
	// Reading a little lets the connection be reused; an error here (a body cut off by the timeout) does not
	// change what the status already said.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, smsMaxDrain))
	resp.Body.Close()

	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		return nil
	case code >= 300 && code <= 399:
		where := ""
		if loc, err := resp.Location(); err == nil {
			where = " to " + redactURL(loc)
		}
		return Permanent(fmt.Errorf("sms: %s %s: %s redirects%s; redirects are not followed, configure the final URL",
			s.method, s.redacted, resp.Status, where))
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		// 408 and 429 are 4xx by number but say "not now", not "never": the gateway gave up waiting for us or
		// is rate limiting, and the same request later is expected to succeed.
		return fmt.Errorf("sms: %s %s: %s (retryable)", s.method, s.redacted, resp.Status)
	case code >= 400 && code <= 499:
		return Permanent(fmt.Errorf("sms: %s %s: %s", s.method, s.redacted, resp.Status))
	default:
		return fmt.Errorf("sms: %s %s: %s", s.method, s.redacted, resp.Status)
	}
}

// String describes the target without secrets, e.g. "POST https://sms.example/send (2 headers)".
func (s *SMSSender) String() string {
	plural := "s"
	if s.nHeaders == 1 {
		plural = ""
	}
	return fmt.Sprintf("%s %s (%d header%s)", s.method, s.redacted, s.nHeaders, plural)
}

// render executes the body template with e's values escaped for the content type.
func (s *SMSSender) render(e Envelope) ([]byte, error) {
	var buf bytes.Buffer
	err := s.body.Execute(&buf, smsData{
		To:             s.escape(e.To),
		Text:           s.escape(e.Text),
		ID:             e.ID,
		App:            s.escape(e.App),
		IdempotencyKey: s.escape(e.IdempotencyKey),
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// transportError turns a failed round trip into a retryable error. The client's *url.Error quotes the full
// URL, query included, so only its cause is kept, and any echo of the URL in the cause is redacted too.
// parent is the caller's context, to tell its cancellation (shutdown) from the sender's own timeout.
func (s *SMSSender) transportError(parent context.Context, err error) error {
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("sms: %s %s: %w", s.method, s.redacted, perr)
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("sms: %s %s: no answer within %s: %w", s.method, s.redacted, s.timeout, context.DeadlineExceeded)
	}
	msg := strings.ReplaceAll(cause.Error(), s.url, s.redacted)
	return fmt.Errorf("sms: %s %s: %s", s.method, s.redacted, msg)
}

// redactURL keeps scheme, host and path: user info and the query may hold credentials.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

// jsonEscape returns v as the inside of a JSON string: quoted and escaped as encoding/json does, then
// stripped of the quotes so the template supplies them. HTML escaping is off so that "<" and "&" reach
// the phone as typed even if a gateway mishandles \u003c.
func jsonEscape(v string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a string always encodes; invalid UTF-8 becomes U+FFFD
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return string(out[1 : len(out)-1])
}

// parseHeaderLine splits "Name: value", returning the canonical name. Its errors never include the value,
// and include the name only once it is known to be a valid token.
func parseHeaderLine(line string) (name, value string, err error) {
	if strings.ContainsAny(line, "\r\n") {
		return "", "", errors.New("contains a line break")
	}
	name, value, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", errors.New(`is not of the form "Name: value"`)
	}
	if !isToken(name) {
		return "", "", errors.New("the name is not a valid header name")
	}
	name = http.CanonicalHeaderKey(name)
	value = strings.Trim(value, " \t")
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return "", "", fmt.Errorf("the value of %s contains a control character", name)
		}
	}
	return name, value, nil
}

// isToken reports whether s is an RFC 9110 token, the syntax of header names and methods.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
