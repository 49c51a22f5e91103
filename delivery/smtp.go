package delivery

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPTLS says how the connection to an SMTP server is protected.
type SMTPTLS string

// The ways to protect an SMTP connection.
const (
	// SMTPStartTLS connects in clear and upgrades with STARTTLS before anything else is said. A server
	// that does not offer STARTTLS is an error: the sender never falls back to clear text.
	SMTPStartTLS SMTPTLS = "starttls"
	// SMTPImplicitTLS speaks TLS from the first byte (smtps, usually port 465).
	SMTPImplicitTLS SMTPTLS = "implicit"
	// SMTPNoTLS sends everything in clear: only for a relay that cannot be reached from outside, and a
	// password only to a loopback address.
	SMTPNoTLS SMTPTLS = "none"
)

// DefaultSMTPTimeout bounds each network wait of one send (connect and handshake, then the mail
// transaction) when the configuration sets none. The dispatcher retries anyway, so a hung relay should not
// hold a claimed message for long.
const DefaultSMTPTimeout = 15 * time.Second

// smtpRedactedPassword stands for the password wherever a configuration is shown; url.URL.Redacted uses
// the same word.
const smtpRedactedPassword = "xxxxx"

// SMTPConfig says where and how e-mail is submitted. ParseSMTPURL builds it from the one string an
// operator configures. Its String, GoString and LogValue forms hide the password, because the
// configuration is printed in the startup log and must be safe to print by accident too.
type SMTPConfig struct {
	Host     string
	Port     int
	TLS      SMTPTLS
	User     string // AUTH is used when set
	Password string
	Timeout  time.Duration // zero means DefaultSMTPTimeout
}

// ParseSMTPURL reads smtp://user:pass@host:port?tls=starttls|implicit|none&timeout=10s, or smtps://...
// for implicit TLS. Without tls= the mode is implicit on port 465 and starttls elsewhere; without a port
// it is 465 for implicit TLS and 587 otherwise. User and password are percent-decoded, so any character
// can be written (%40 for @, %2F for /, %23 for #, %3F for ?). A password with tls=none is refused unless
// the host is loopback. Errors never quote the URL: a mistyped URL is parsed in unexpected places, and any
// piece of it may be part of the password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	var cfg SMTPConfig
	u, err := url.Parse(raw)
	if err != nil {
		return cfg, errors.New("smtp: the URL does not parse (in the user and password, write / ? # % and spaces percent-encoded)")
	}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		cfg.TLS = SMTPImplicitTLS
	default:
		return cfg, errors.New("smtp: the URL must start with smtp:// or smtps://")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return cfg, errors.New("smtp: the URL has no host")
	}
	if u.Path != "" || u.RawPath != "" {
		return cfg, errors.New("smtp: the URL must not have a path (a / in the password is written %2F)")
	}
	if u.Fragment != "" || u.RawFragment != "" {
		return cfg, errors.New("smtp: the URL must not have a #fragment (a # in the password is written %23)")
	}
	cfg.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return cfg, errors.New("smtp: the URL's port must be a number from 1 to 65535")
		}
		cfg.Port = n
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}

	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return cfg, errors.New("smtp: the URL's query does not parse")
	}
	for name, values := range query {
		if len(values) != 1 {
			return cfg, errors.New("smtp: a query parameter of the URL is given more than once")
		}
		v := values[0]
		switch name {
		case "tls":
			mode := SMTPTLS(strings.ToLower(v))
			switch mode {
			case SMTPStartTLS, SMTPImplicitTLS, SMTPNoTLS:
			default:
				return cfg, errors.New("smtp: the URL's tls= must be starttls, implicit or none")
			}
			if u.Scheme == "smtps" && mode != SMTPImplicitTLS {
				return cfg, fmt.Errorf("smtp: smtps:// means implicit TLS, but the URL says tls=%s", mode)
			}
			cfg.TLS = mode
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return cfg, errors.New("smtp: the URL's timeout= must be a positive duration such as 10s")
			}
			cfg.Timeout = d
		default:
			// The name is not quoted: with an unescaped ? in the password, it is part of the password.
			return cfg, errors.New("smtp: the URL has an unknown query parameter (known: tls, timeout)")
		}
	}

	if cfg.TLS == "" {
		cfg.TLS = SMTPStartTLS
		if cfg.Port == 465 {
			cfg.TLS = SMTPImplicitTLS
		}
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == SMTPImplicitTLS {
			cfg.Port = 465
		}
	}
	if err := cfg.validate(); err != nil {
		return SMTPConfig{}, err
	}
	return cfg, nil
}

// validate checks a configuration however it was built, so one written by hand gets the same refusals as
// one parsed from a URL.
func (c SMTPConfig) validate() error {
	if c.Host == "" || strings.ContainsAny(c.Host, " \t\r\n/@?#[]") {
		return errors.New("smtp: the host is missing or not a host name or IP address")
	}
	if c.Port < 1 || c.Port > 65535 {
		return errors.New("smtp: the port must be from 1 to 65535")
	}
	switch c.TLS {
	case SMTPStartTLS, SMTPImplicitTLS, SMTPNoTLS:
	default:
		return errors.New("smtp: tls must be starttls, implicit or none")
	}
	if c.Timeout < 0 {
		return errors.New("smtp: the timeout must not be negative")
	}
	if c.User == "" && c.Password != "" {
		return errors.New("smtp: a password needs a user")
	}
	if c.User != "" && c.Password == "" {
		return errors.New("smtp: a user needs a password")
	}
	if c.TLS == SMTPNoTLS && c.User != "" && !smtpLoopback(c.Host) {
		return errors.New("smtp: refusing to send a password in clear text to a host that is not loopback; " +
			"use tls=starttls or tls=implicit, or a relay on localhost")
	}
	return nil
}

// smtpLoopback reports whether host is this machine by name or address, without asking DNS: a name that
// resolves to loopback today may not tomorrow, so only "localhost" itself counts.
func smtpLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Redacted is the configuration as a URL with the password replaced by xxxxx, e.g.
// smtp://user:xxxxx@smtp.example.com:587?tls=starttls. ParseSMTPURL reads it back to the same settings.
func (c SMTPConfig) Redacted() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	switch {
	case c.Password != "":
		u.User = url.UserPassword(c.User, smtpRedactedPassword)
	case c.User != "":
		u.User = url.User(c.User)
	}
	u.RawQuery = "tls=" + url.QueryEscape(string(c.TLS))
	if c.Timeout != 0 {
		u.RawQuery += "&timeout=" + c.Timeout.String()
	}
	return u.String()
}

// String is Redacted, so printing a configuration with %v or %+v cannot show the password.
func (c SMTPConfig) String() string { return c.Redacted() }

// GoString is Redacted, so %#v cannot show the password either.
func (c SMTPConfig) GoString() string { return c.Redacted() }

// LogValue is Redacted, so slog's text and JSON handlers cannot show the password.
func (c SMTPConfig) LogValue() slog.Value { return slog.StringValue(c.Redacted()) }

// SMTPSender delivers e-mail envelopes to an SMTP server, one connection per message: messages are rare
// (a code, a link), and a fresh connection has no idle state to go stale between them. It is immutable
// after NewSMTPSender and safe for concurrent use.
type SMTPSender struct {
	cfg      SMTPConfig
	timeout  time.Duration
	addr     string // host:port, for dialing and for errors
	from     netmail.Address
	idDomain string // the From address's domain, the right side of every Message-ID
	tls      *tls.Config
	now      func() time.Time
}

var _ Sender = (*SMTPSender)(nil)

// SMTPOption adjusts an SMTPSender at construction.
type SMTPOption func(*SMTPSender)

// WithSMTPTLSConfig sets the TLS settings for STARTTLS and implicit TLS, e.g. a private CA's RootCAs. The
// config is cloned; an empty ServerName becomes the configured host, which certificates are checked
// against. A nil config changes nothing.
func WithSMTPTLSConfig(c *tls.Config) SMTPOption {
	return func(s *SMTPSender) {
		if c != nil {
			s.tls = c.Clone()
		}
	}
}

// WithSMTPClock sets where the Date header comes from; tests pin it.
func WithSMTPClock(now func() time.Time) SMTPOption {
	return func(s *SMTPSender) {
		if now != nil {
			s.now = now
		}
	}
}

// NewSMTPSender checks cfg and from and returns a sender. from is an address with an optional display name,
// "Sberbank Loyalty <noreply@example.com>"; its address must be ASCII, since it is also the SMTP envelope
// sender and the domain of every Message-ID.
func NewSMTPSender(cfg SMTPConfig, from string, opts ...SMTPOption) (*SMTPSender, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("smtp: the from address %q is not one e-mail address: %w", from, err)
	}
	at := strings.LastIndexByte(addr.Address, '@')
	if at <= 0 || at == len(addr.Address)-1 {
		return nil, fmt.Errorf("smtp: the from address %q has no domain", from)
	}
	for i := 0; i < len(addr.Address); i++ {
		if c := addr.Address[i]; c <= ' ' || c > '~' {
			return nil, fmt.Errorf("smtp: the from address %q must be ASCII (the display name may be any text)", from)
		}
	}
	s := &SMTPSender{
		cfg:      cfg,
		timeout:  cmp.Or(cfg.Timeout, DefaultSMTPTimeout),
		addr:     net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		from:     *addr,
		idDomain: addr.Address[at+1:],
		now:      time.Now,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	if s.tls == nil {
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = cfg.Host
	}
	// go-mail checks its options only when a client is made; making one now turns a bad setting into a
	// startup error instead of a failure of every message.
	if _, err := s.client(nil); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return s, nil
}

// String says where mail goes, without the password.
func (s *SMTPSender) String() string { return s.cfg.Redacted() }

// Send submits e. An SMTP 5xx reply to MAIL, RCPT or DATA is permanent: the server has judged this message
// and will judge it the same way again. Everything else is retryable: 4xx replies, connection, timeout and
// TLS errors, and a refused login or a 530 "authentication required", which are mistakes in the settings
// that an operator fixes, after which the waiting messages should go out. Errors never hold the password
// or the body; the recipient's address is replaced by the word "recipient", as the dispatcher logs errors.
func (s *SMTPSender) Send(ctx context.Context, e Envelope) error {
	msg, err := s.message(e)
	if err != nil {
		return Permanent(fmt.Errorf("smtp: %w", err))
	}

	// The dial function is ours so that ctx is honoured to the end: go-mail applies the context to the
	// dial only, and after that waits for the configured timeout whatever happens to ctx. Closing the raw
	// connection when ctx ends interrupts any read or write, TLS or not. It also lets Send close a
	// connection that go-mail leaves open when EHLO, STARTTLS or AUTH fails.
	var raw net.Conn
	stop := func() bool { return false }
	dial := func(dctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(dctx, network, s.addr)
		if err != nil {
			return nil, err
		}
		raw = c
		stop = context.AfterFunc(ctx, func() { _ = c.Close() })
		if s.cfg.TLS != SMTPImplicitTLS {
			return c, nil
		}
		// go-mail does implicit TLS only with its own dialer, so with ours the handshake is done here. The
		// *tls.Conn itself is returned: go-mail's PLAIN and LOGIN refuse to run on a connection that is not
		// one.
		tc := tls.Client(c, s.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			return nil, err
		}
		return tc, nil
	}
	defer func() {
		stop()
		if raw != nil {
			_ = raw.Close()
		}
	}()

	client, err := s.client(dial)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.addr, err)
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return s.failed(ctx, "connecting", err, e.To)
	}
	if err := client.SendWithSMTPClient(conn, msg); err != nil {
		if ctx.Err() == nil && smtpRefused(err) {
			return Permanent(s.failed(ctx, "sending", err, e.To))
		}
		return s.failed(ctx, "sending", err, e.To)
	}
	// The server has taken the message. A failed QUIT changes nothing: reporting it would send the message
	// again.
	_ = conn.Quit()
	return nil
}

// client makes the go-mail client of one send. A client per send keeps sends independent: go-mail's
// Client holds per-connection state, and its auth selection writes to the Client.
func (s *SMTPSender) client(dial gomail.DialContextFunc) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tls),
		// NOOP before MAIL proves nothing on a connection opened a moment ago, and RSET after an accepted
		// DATA can only fail; go-mail reports that failure as a failed send, which would deliver twice.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	if dial != nil {
		opts = append(opts, gomail.WithDialContextFunc(dial))
	}
	switch s.cfg.TLS {
	case SMTPStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case SMTPImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case SMTPNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.User != "" {
		// PLAIN is what relays offer over TLS, and LOGIN is the fallback for those that offer only it
		// (Exchange). go-mail's auto-discovery is not used: it prefers SCRAM, NTLM and CRAM-MD5, and it
		// thinks a connection we dialed is unencrypted, so it would never pick PLAIN on implicit TLS. Both
		// mechanisms refuse to run without TLS; the NOENC forms allow it for tls=none, which validate permits
		// only towards loopback.
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if s.cfg.TLS == SMTPNoTLS {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, gomail.WithUsername(s.cfg.User), gomail.WithPassword(s.cfg.Password),
			gomail.WithOpportunisticSMTPAuth(mechs...))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

// message builds the MIME message of e: multipart/alternative with the text part first and the HTML part
// last (the last is what a capable reader shows), or a single part when there is only one. go-mail writes
// the subject as RFC 2047 encoded-words and the bodies as quoted-printable UTF-8.
func (s *SMTPSender) message(e Envelope) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from := s.from
	m.FromMailAddress(&from)
	if err := m.To(e.To); err != nil {
		return nil, errors.New("the recipient is not one valid e-mail address") // the address is not quoted
	}
	m.Subject(e.Subject)
	m.SetDateWithValue(s.now())
	m.SetMessageIDWithValue(smtpMessageIDLeft(e.IdempotencyKey) + "@" + s.idDomain)
	switch {
	case e.Text != "" && e.HTML != "":
		m.SetBodyString(gomail.TypeTextPlain, e.Text)
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	case e.Text != "":
		m.SetBodyString(gomail.TypeTextPlain, e.Text)
	case e.HTML != "":
		m.SetBodyString(gomail.TypeTextHTML, e.HTML)
	default:
		return nil, errors.New("the message has no body")
	}
	return m, nil
}

// smtpDotAtom matches the left side of a Message-ID as RFC 5322 allows it (dot-atom-text).
var smtpDotAtom = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")

// smtpMessageIDLeft derives the left side of the Message-ID from the idempotency key, so every attempt at a
// message carries the same Message-ID and a receiver drops a resend after a crash. A key that is not a
// short dot-atom is hashed, which is as stable. Without a key (rows queued before keys existed) the
// Message-ID is random: a guessed stable one, such as the outbox id, could equal another deployment's, and
// a receiver would then drop a different message as a duplicate.
func smtpMessageIDLeft(key string) string {
	switch {
	case key == "":
		var b [16]byte
		_, _ = rand.Read(b[:]) // never fails
		return hex.EncodeToString(b[:])
	case len(key) <= 128 && smtpDotAtom.MatchString(key):
		return key
	default:
		sum := sha256.Sum256([]byte(key))
		return hex.EncodeToString(sum[:])
	}
}

// smtpRefused reports whether err is a 5xx reply in the mail transaction (MAIL, RCPT, DATA and the reply
// to the message itself). go-mail's SendError does not unwrap to the reply, and its IsTemp is only
// "the text starts with 4", so a broken connection would look permanent; the code it parses from the
// reply is used instead, and a network error has none. 530 (authentication required) is a setting to fix,
// like a refused login.
func smtpRefused(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Reason {
	case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
	default:
		return false
	}
	code := se.ErrorCode()
	return code >= 500 && code <= 599 && code != 530
}

// failed words an error of one send: where, in which step, and why, with the recipient's address taken
// out (go-mail lists it, and servers echo it in their replies). The error still unwraps to err, and to
// ctx's error when ctx ended first, so the dispatcher sees a timeout as one.
func (s *SMTPSender) failed(ctx context.Context, step string, err error, to string) error {
	text := err.Error()
	if a, perr := netmail.ParseAddress(to); perr == nil && a.Address != "" {
		text = regexp.MustCompile("(?i)"+regexp.QuoteMeta(a.Address)).ReplaceAllLiteralString(text, "recipient")
	}
	if cerr := ctx.Err(); cerr != nil {
		return &smtpError{text: fmt.Sprintf("smtp %s: %s: %v (%s)", s.addr, step, cerr, text), errs: []error{cerr, err}}
	}
	return &smtpError{text: fmt.Sprintf("smtp %s: %s: %s", s.addr, step, text), errs: []error{err}}
}

// smtpError is a send error with its own wording; see failed.
type smtpError struct {
	text string
	errs []error
}

func (e *smtpError) Error() string   { return e.text }
func (e *smtpError) Unwrap() []error { return e.errs }
