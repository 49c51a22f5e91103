package delivery_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"aspgate/delivery"
)

const (
	smtpTestUser     = "relay@example.com"
	smtpTestPassword = "s3cr3t:p@ss/word"
	smtpTestCode     = "482913"
	smtpTestTo       = "ivan.petrov@example.ru"
)

// smtpTestEnvelope is an lcmanager code message: Russian subject and text, the code in both parts.
func smtpTestEnvelope() delivery.Envelope {
	return delivery.Envelope{
		ID:             7,
		App:            "lcmanager",
		To:             smtpTestTo,
		Subject:        "Код подтверждения",
		Text:           "Ваш код подтверждения: " + smtpTestCode + "\nОн действует 10 минут. Никому его не сообщайте.",
		HTML:           "<p>Ваш код подтверждения: <b>" + smtpTestCode + "</b></p>\n<p>Он действует 10 минут.</p>",
		IdempotencyKey: "9f2c4e1ab37d5c60",
	}
}

// smtpReceived is what the test server accepted.
type smtpReceived struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

// smtpTestServer is a real SMTP server (emersion/go-smtp) on a loopback port, with the behaviour a test
// needs: STARTTLS or implicit TLS, AUTH PLAIN required or not, and refusals at MAIL, RCPT or DATA.
type smtpTestServer struct {
	tls      *tls.Config // offered with STARTTLS, or spoken from the start when implicit
	implicit bool
	user     string // AUTH PLAIN required when set
	password string
	// clearAuth lets AUTH run without TLS (go-smtp's AllowInsecureAuth), as a relay on loopback may.
	clearAuth bool
	mailErr   error
	rcptErr   error
	dataErr   error
	// rcptHook, when set, runs inside RCPT before the reply.
	rcptHook func()

	port int
	mu   sync.Mutex
	got  []smtpReceived
}

// start serves on a port-0 listener until the test ends.
func (srv *smtpTestServer) start(tb testing.TB) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv.port = l.Addr().(*net.TCPAddr).Port
	s := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &smtpTestSession{srv: srv, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = srv.clearAuth
	s.ErrorLog = log.New(io.Discard, "", 0)
	if srv.implicit {
		l = tls.NewListener(l, srv.tls)
	} else {
		s.TLSConfig = srv.tls
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	tb.Cleanup(func() {
		_ = s.Close()
		// Close closes only the listeners Serve has registered, and Serve may not have started yet.
		_ = l.Close()
		<-done
	})
}

// url is the SMTP URL of the server with the given credentials ("" for none) and tls mode.
func (srv *smtpTestServer) url(user, password, mode string) string {
	cred := ""
	if user != "" {
		cred = url.UserPassword(user, password).String() + "@"
	}
	return fmt.Sprintf("smtp://%s127.0.0.1:%d?tls=%s", cred, srv.port, mode)
}

func (srv *smtpTestServer) received() []smtpReceived {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return append([]smtpReceived(nil), srv.got...)
}

type smtpTestSession struct {
	srv  *smtpTestServer
	conn *gosmtp.Conn
	user string
	from string
	to   []string
}

func (s *smtpTestSession) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpTestSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || s.srv.user == "" {
		return nil, gosmtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.srv.user || password != s.srv.password {
			return gosmtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *smtpTestSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.srv.user != "" && s.user == "" {
		return gosmtp.ErrAuthRequired
	}
	if s.srv.mailErr != nil {
		return s.srv.mailErr
	}
	s.from = from
	return nil
}

func (s *smtpTestSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.srv.rcptHook != nil {
		s.srv.rcptHook()
	}
	if s.srv.rcptErr != nil {
		return s.srv.rcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpTestSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.dataErr != nil {
		return s.srv.dataErr
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, smtpReceived{from: s.from, to: s.to, data: data, tls: isTLS, user: s.user})
	s.srv.mu.Unlock()
	return nil
}

func (s *smtpTestSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpTestSession) Logout() error { return nil }

// mustSMTPCert makes a self-signed certificate for 127.0.0.1 and localhost, and the server and client TLS
// configs that use and trust it.
func mustSMTPCert(tb testing.TB) (server, client *tls.Config) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "aspgate test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	return server, &tls.Config{RootCAs: pool}
}

// mustSMTPSender parses rawURL and makes a sender from it.
func mustSMTPSender(tb testing.TB, rawURL, from string, opts ...delivery.SMTPOption) *delivery.SMTPSender {
	tb.Helper()
	cfg, err := delivery.ParseSMTPURL(rawURL)
	if err != nil {
		tb.Fatalf("ParseSMTPURL: %v", err)
	}
	s, err := delivery.NewSMTPSender(cfg, from, opts...)
	if err != nil {
		tb.Fatalf("NewSMTPSender: %v", err)
	}
	return s
}

// smtpPart is one decoded body part.
type smtpPart struct {
	contentType string
	charset     string
	body        string
}

// mustSMTPParse reads a received message: its headers, and its body parts decoded as their
// Content-Transfer-Encoding says, flattening one level of multipart.
func mustSMTPParse(tb testing.TB, data []byte) (*netmail.Message, string, []smtpPart) {
	tb.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("message does not parse: %v\n%s", err, data)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		tb.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body := mustSMTPDecode(tb, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return msg, mediaType, []smtpPart{{mediaType, params["charset"], body}}
	}
	var parts []smtpPart
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart() // raw: the test decodes, rather than trusting multipart to
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("multipart: %v", err)
		}
		pt, pp, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			tb.Fatalf("part Content-Type: %v", err)
		}
		parts = append(parts, smtpPart{pt, pp["charset"], mustSMTPDecode(tb, p.Header.Get("Content-Transfer-Encoding"), p)})
	}
	return msg, mediaType, parts
}

// mustSMTPDecode undoes a Content-Transfer-Encoding and turns CRLF back into LF. One trailing line break
// is dropped: SMTP ends the data of a message with one whatever the body did.
func mustSMTPDecode(tb testing.TB, cte string, r io.Reader) string {
	tb.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "", "7bit", "8bit", "binary":
	default:
		tb.Fatalf("unexpected Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("decoding %s: %v", cte, err)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return strings.TrimSuffix(s, "\n")
}

func TestSMTPSendMessage(t *testing.T) {
	date := time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("MSK", 3*60*60))
	tests := []struct {
		name      string
		from      string
		fromName  string
		text      string
		html      string
		wantType  string
		wantParts []string // content types in order
	}{
		{
			name: "text and html", from: "Сбербанк Лояльность <noreply@example.com>", fromName: "Сбербанк Лояльность",
			text: smtpTestEnvelope().Text, html: smtpTestEnvelope().HTML,
			wantType: "multipart/alternative", wantParts: []string{"text/plain", "text/html"},
		},
		{
			name: "text only", from: "Sberbank Loyalty <noreply@example.com>", fromName: "Sberbank Loyalty",
			text:     smtpTestEnvelope().Text,
			wantType: "text/plain", wantParts: []string{"text/plain"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &smtpTestServer{}
			srv.start(t)
			s := mustSMTPSender(t, srv.url("", "", "none"), tt.from, delivery.WithSMTPClock(func() time.Time { return date }))
			e := smtpTestEnvelope()
			e.Text, e.HTML = tt.text, tt.html
			if err := s.Send(context.Background(), e); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.received()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			rcv := got[0]
			if rcv.from != "noreply@example.com" || len(rcv.to) != 1 || rcv.to[0] != smtpTestTo {
				t.Errorf("envelope MAIL FROM %q RCPT TO %q, want noreply@example.com and %s", rcv.from, rcv.to, smtpTestTo)
			}
			msg, mediaType, parts := mustSMTPParse(t, rcv.data)

			rawSubject := msg.Header.Get("Subject")
			if !strings.Contains(rawSubject, "=?") {
				t.Errorf("Subject %q is not an RFC 2047 encoded-word", rawSubject)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
			if err != nil || subject != e.Subject {
				t.Errorf("Subject decodes to %q (%v), want %q", subject, err, e.Subject)
			}
			from, err := netmail.ParseAddress(msg.Header.Get("From"))
			if err != nil || from.Name != tt.fromName || from.Address != "noreply@example.com" {
				t.Errorf("From %q parses to %+v (%v)", msg.Header.Get("From"), from, err)
			}
			to, err := netmail.ParseAddress(msg.Header.Get("To"))
			if err != nil || to.Address != smtpTestTo {
				t.Errorf("To %q parses to %+v (%v)", msg.Header.Get("To"), to, err)
			}
			if id := msg.Header.Get("Message-ID"); id != "<"+e.IdempotencyKey+"@example.com>" {
				t.Errorf("Message-ID %q, want <%s@example.com>", id, e.IdempotencyKey)
			}
			if d, err := msg.Header.Date(); err != nil || !d.Equal(date) {
				t.Errorf("Date %q parses to %v (%v), want %v", msg.Header.Get("Date"), d, err, date)
			}

			if mediaType != tt.wantType {
				t.Errorf("Content-Type %s, want %s", mediaType, tt.wantType)
			}
			if len(parts) != len(tt.wantParts) {
				t.Fatalf("%d parts, want %d", len(parts), len(tt.wantParts))
			}
			for i, p := range parts {
				if p.contentType != tt.wantParts[i] || !strings.EqualFold(p.charset, "utf-8") {
					t.Errorf("part %d is %s charset %q, want %s UTF-8", i, p.contentType, p.charset, tt.wantParts[i])
				}
				want := e.Text
				if p.contentType == "text/html" {
					want = e.HTML
				}
				if p.body != want {
					t.Errorf("part %d (%s) decodes to\n%q\nwant\n%q", i, p.contentType, p.body, want)
				}
				if !strings.Contains(p.body, smtpTestCode) {
					t.Errorf("part %d (%s) does not contain the code", i, p.contentType)
				}
			}
		})
	}
}

// TestSMTPSendSameMessageID shows why the Message-ID comes from the idempotency key: a resend after a crash
// carries the Message-ID of the first attempt, so the receiver can drop it.
func TestSMTPSendSameMessageID(t *testing.T) {
	srv := &smtpTestServer{}
	srv.start(t)
	s := mustSMTPSender(t, srv.url("", "", "none"), "noreply@example.com")
	e := smtpTestEnvelope()
	other := e
	other.IdempotencyKey = "another-key"
	for _, env := range []delivery.Envelope{e, e, other} {
		if err := s.Send(context.Background(), env); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	var ids []string
	for _, r := range srv.received() {
		msg, _, _ := mustSMTPParse(t, r.data)
		ids = append(ids, msg.Header.Get("Message-ID"))
	}
	want := []string{"<9f2c4e1ab37d5c60@example.com>", "<9f2c4e1ab37d5c60@example.com>", "<another-key@example.com>"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("Message-IDs %q, want %q", ids, want)
	}
}

func TestSMTPSendTLSAndAuth(t *testing.T) {
	serverTLS, clientTLS := mustSMTPCert(t)

	t.Run("starttls and AUTH PLAIN", func(t *testing.T) {
		srv := &smtpTestServer{tls: serverTLS, user: smtpTestUser, password: smtpTestPassword}
		srv.start(t)
		s := mustSMTPSender(t, srv.url(smtpTestUser, smtpTestPassword, "starttls"), "noreply@example.com",
			delivery.WithSMTPTLSConfig(clientTLS))
		if err := s.Send(context.Background(), smtpTestEnvelope()); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got := srv.received()
		if len(got) != 1 || !got[0].tls || got[0].user != smtpTestUser {
			t.Fatalf("received %+v, want one message over TLS from %s", got, smtpTestUser)
		}
	})

	t.Run("implicit tls and AUTH PLAIN", func(t *testing.T) {
		srv := &smtpTestServer{tls: serverTLS, implicit: true, user: smtpTestUser, password: smtpTestPassword}
		srv.start(t)
		rawURL := strings.Replace(srv.url(smtpTestUser, smtpTestPassword, "implicit"), "smtp://", "smtps://", 1)
		s := mustSMTPSender(t, rawURL, "noreply@example.com", delivery.WithSMTPTLSConfig(clientTLS))
		if err := s.Send(context.Background(), smtpTestEnvelope()); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got := srv.received()
		if len(got) != 1 || !got[0].tls || got[0].user != smtpTestUser {
			t.Fatalf("received %+v, want one message over TLS from %s", got, smtpTestUser)
		}
	})

	t.Run("no auth without credentials", func(t *testing.T) {
		srv := &smtpTestServer{tls: serverTLS}
		srv.start(t)
		s := mustSMTPSender(t, srv.url("", "", "starttls"), "noreply@example.com", delivery.WithSMTPTLSConfig(clientTLS))
		if err := s.Send(context.Background(), smtpTestEnvelope()); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := srv.received(); len(got) != 1 || !got[0].tls || got[0].user != "" {
			t.Fatalf("received %+v, want one unauthenticated message over TLS", got)
		}
	})

	t.Run("AUTH PLAIN in clear text to a loopback relay", func(t *testing.T) {
		srv := &smtpTestServer{user: smtpTestUser, password: smtpTestPassword, clearAuth: true}
		srv.start(t)
		s := mustSMTPSender(t, srv.url(smtpTestUser, smtpTestPassword, "none"), "noreply@example.com")
		if err := s.Send(context.Background(), smtpTestEnvelope()); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := srv.received(); len(got) != 1 || got[0].tls || got[0].user != smtpTestUser {
			t.Fatalf("received %+v, want one message in clear text from %s", got, smtpTestUser)
		}
	})

	// Each of these must fail, retryably, deliver nothing, and not show the password.
	failures := []struct {
		name    string
		srv     *smtpTestServer
		url     func(srv *smtpTestServer) string
		tls     *tls.Config
		wantErr string
	}{
		{
			// The server refuses AUTH on a clear connection (go-smtp's AllowInsecureAuth is false), so it
			// does not even offer it; the client must not send its password anyway.
			name: "server refuses AUTH without TLS",
			srv:  &smtpTestServer{user: smtpTestUser, password: smtpTestPassword},
			url:  func(srv *smtpTestServer) string { return srv.url(smtpTestUser, smtpTestPassword, "none") },
			// go-mail's words
			wantErr: "AUTH",
		},
		{
			name:    "starttls required but not offered",
			srv:     &smtpTestServer{},
			url:     func(srv *smtpTestServer) string { return srv.url(smtpTestUser, smtpTestPassword, "starttls") },
			tls:     clientTLS,
			wantErr: "STARTTLS",
		},
		{
			name:    "wrong password",
			srv:     &smtpTestServer{tls: serverTLS, user: smtpTestUser, password: "the right one"},
			url:     func(srv *smtpTestServer) string { return srv.url(smtpTestUser, smtpTestPassword, "starttls") },
			tls:     clientTLS,
			wantErr: "535",
		},
		{
			name:    "untrusted certificate, starttls",
			srv:     &smtpTestServer{tls: serverTLS, user: smtpTestUser, password: smtpTestPassword},
			url:     func(srv *smtpTestServer) string { return srv.url(smtpTestUser, smtpTestPassword, "starttls") },
			wantErr: "certificate",
		},
		{
			name:    "untrusted certificate, implicit",
			srv:     &smtpTestServer{tls: serverTLS, implicit: true, user: smtpTestUser, password: smtpTestPassword},
			url:     func(srv *smtpTestServer) string { return srv.url(smtpTestUser, smtpTestPassword, "implicit") },
			wantErr: "certificate",
		},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			tt.srv.start(t)
			s := mustSMTPSender(t, tt.url(tt.srv), "noreply@example.com", delivery.WithSMTPTLSConfig(tt.tls))
			err := s.Send(context.Background(), smtpTestEnvelope())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if delivery.IsPermanent(err) {
				t.Errorf("error is permanent, want retryable: %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			checkSMTPErrorText(t, err)
			if got := tt.srv.received(); len(got) != 0 {
				t.Errorf("server received %d messages", len(got))
			}
		})
	}
}

// checkSMTPErrorText fails when err shows a secret: the password, the body (which holds the code) or the
// recipient's address.
func checkSMTPErrorText(t *testing.T, err error) {
	t.Helper()
	for _, secret := range []string{smtpTestPassword, url.UserPassword("", smtpTestPassword).String(), smtpTestCode, smtpTestTo} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
}

func TestSMTPSendReplies(t *testing.T) {
	reply := func(code int, msg string) error {
		return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
	}
	tests := []struct {
		name      string
		srv       *smtpTestServer
		permanent bool
		wantCode  string
	}{
		{"451 on RCPT", &smtpTestServer{rcptErr: reply(451, "greylisted, try again later")}, false, "451"},
		{"550 on RCPT", &smtpTestServer{rcptErr: reply(550, "<"+smtpTestTo+">: no such user")}, true, "550"},
		{"553 on MAIL", &smtpTestServer{mailErr: reply(553, "sender address rejected")}, true, "553"},
		{"530 on MAIL", &smtpTestServer{mailErr: reply(530, "authentication required")}, false, "530"},
		{"421 on MAIL", &smtpTestServer{mailErr: reply(421, "closing")}, false, "421"},
		{"554 on DATA", &smtpTestServer{dataErr: reply(554, "message refused as spam")}, true, "554"},
		{"452 on DATA", &smtpTestServer{dataErr: reply(452, "mailbox full")}, false, "452"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.srv.start(t)
			s := mustSMTPSender(t, tt.srv.url("", "", "none"), "noreply@example.com")
			err := s.Send(context.Background(), smtpTestEnvelope())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if delivery.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v: %v", delivery.IsPermanent(err), tt.permanent, err)
			}
			if !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("error %q does not show the reply code %s", err, tt.wantCode)
			}
			checkSMTPErrorText(t, err)
		})
	}
}

func TestSMTPSendConnectionFailures(t *testing.T) {
	t.Run("closed port", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		s := mustSMTPSender(t, "smtp://127.0.0.1:"+strconv.Itoa(port)+"?tls=none", "noreply@example.com")
		err = s.Send(context.Background(), smtpTestEnvelope())
		if err == nil || delivery.IsPermanent(err) {
			t.Fatalf("Send = %v, want a retryable error", err)
		}
		checkSMTPErrorText(t, err)
	})

	t.Run("context canceled mid-transaction", func(t *testing.T) {
		inRcpt := make(chan struct{})
		release := make(chan struct{})
		srv := &smtpTestServer{rcptHook: func() {
			close(inRcpt)
			<-release
		}}
		srv.start(t)
		t.Cleanup(func() { close(release) }) // runs before the server's cleanup
		s := mustSMTPSender(t, srv.url("", "", "none"), "noreply@example.com")
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-inRcpt
			cancel()
		}()
		err := s.Send(ctx, smtpTestEnvelope())
		if err == nil || delivery.IsPermanent(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Send = %v, want a retryable error wrapping context.Canceled", err)
		}
	})

	t.Run("invalid recipient is permanent", func(t *testing.T) {
		srv := &smtpTestServer{}
		srv.start(t)
		s := mustSMTPSender(t, srv.url("", "", "none"), "noreply@example.com")
		for _, to := range []string{"", "not an address", "a@example.com, b@example.com", "a@example.com\r\nBcc: x@example.com"} {
			e := smtpTestEnvelope()
			e.To = to
			if err := s.Send(context.Background(), e); !delivery.IsPermanent(err) {
				t.Errorf("To %q: Send = %v, want a permanent error", to, err)
			}
		}
		if got := srv.received(); len(got) != 0 {
			t.Errorf("server received %d messages", len(got))
		}
	})
}

// TestSMTPSendConcurrent shows one sender serving the dispatcher's workers at once (run with -race).
func TestSMTPSendConcurrent(t *testing.T) {
	serverTLS, clientTLS := mustSMTPCert(t)
	srv := &smtpTestServer{tls: serverTLS, user: smtpTestUser, password: smtpTestPassword}
	srv.start(t)
	s := mustSMTPSender(t, srv.url(smtpTestUser, smtpTestPassword, "starttls"), "noreply@example.com",
		delivery.WithSMTPTLSConfig(clientTLS))
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			e := smtpTestEnvelope()
			e.IdempotencyKey = fmt.Sprintf("key-%d", i)
			errs <- s.Send(context.Background(), e)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := srv.received(); len(got) != n {
		t.Errorf("server received %d messages, want %d", len(got), n)
	}
}

func TestParseSMTPURL(t *testing.T) {
	good := []struct {
		url      string
		want     delivery.SMTPConfig
		redacted string
	}{
		{"smtp://user:pass@smtp.example.com:587?tls=starttls",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: delivery.SMTPStartTLS, User: "user", Password: "pass"},
			"smtp://user:xxxxx@smtp.example.com:587?tls=starttls"},
		{"smtp://smtp.example.com",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: delivery.SMTPStartTLS},
			"smtp://smtp.example.com:587?tls=starttls"},
		{"smtp://smtp.example.com:25",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 25, TLS: delivery.SMTPStartTLS},
			"smtp://smtp.example.com:25?tls=starttls"},
		{"smtp://user:pass@smtp.example.com:465",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 465, TLS: delivery.SMTPImplicitTLS, User: "user", Password: "pass"},
			"smtp://user:xxxxx@smtp.example.com:465?tls=implicit"},
		{"smtp://smtp.example.com:465?tls=starttls",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 465, TLS: delivery.SMTPStartTLS},
			"smtp://smtp.example.com:465?tls=starttls"},
		{"smtp://smtp.example.com?tls=implicit",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 465, TLS: delivery.SMTPImplicitTLS},
			"smtp://smtp.example.com:465?tls=implicit"},
		{"smtps://user:pass@smtp.example.com",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 465, TLS: delivery.SMTPImplicitTLS, User: "user", Password: "pass"},
			"smtp://user:xxxxx@smtp.example.com:465?tls=implicit"},
		{"smtps://smtp.example.com:2465?tls=implicit",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 2465, TLS: delivery.SMTPImplicitTLS},
			"smtp://smtp.example.com:2465?tls=implicit"},
		{"SMTP://user:pass@smtp.example.com?tls=STARTTLS&timeout=10s",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: delivery.SMTPStartTLS, User: "user", Password: "pass", Timeout: 10 * time.Second},
			"smtp://user:xxxxx@smtp.example.com:587?tls=starttls&timeout=10s"},
		{"smtp://10.0.0.5:25?tls=none",
			delivery.SMTPConfig{Host: "10.0.0.5", Port: 25, TLS: delivery.SMTPNoTLS},
			"smtp://10.0.0.5:25?tls=none"},
		{"smtp://127.0.0.1?tls=none",
			delivery.SMTPConfig{Host: "127.0.0.1", Port: 587, TLS: delivery.SMTPNoTLS},
			"smtp://127.0.0.1:587?tls=none"},
		{"smtp://relay:pass@localhost:25?tls=none",
			delivery.SMTPConfig{Host: "localhost", Port: 25, TLS: delivery.SMTPNoTLS, User: "relay", Password: "pass"},
			"smtp://relay:xxxxx@localhost:25?tls=none"},
		{"smtp://relay:pass@127.0.0.53:25?tls=none",
			delivery.SMTPConfig{Host: "127.0.0.53", Port: 25, TLS: delivery.SMTPNoTLS, User: "relay", Password: "pass"},
			"smtp://relay:xxxxx@127.0.0.53:25?tls=none"},
		{"smtp://relay:pass@[::1]:25?tls=none",
			delivery.SMTPConfig{Host: "::1", Port: 25, TLS: delivery.SMTPNoTLS, User: "relay", Password: "pass"},
			"smtp://relay:xxxxx@[::1]:25?tls=none"},
		{"smtp://[2001:db8::1]",
			delivery.SMTPConfig{Host: "2001:db8::1", Port: 587, TLS: delivery.SMTPStartTLS},
			"smtp://[2001:db8::1]:587?tls=starttls"},
		// Percent-encoded user and password: @ : / # ? % all possible.
		{"smtp://noreply%40example.com:p%40ss%3Aw%2Fr%23d%3F%25@smtp.example.com",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: delivery.SMTPStartTLS, User: "noreply@example.com", Password: "p@ss:w/r#d?%"},
			"smtp://noreply%40example.com:xxxxx@smtp.example.com:587?tls=starttls"},
		// Unescaped @ and : in the password: the host starts after the last @, the password after the first :.
		{"smtp://user:p@ss:w@rd@smtp.example.com",
			delivery.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: delivery.SMTPStartTLS, User: "user", Password: "p@ss:w@rd"},
			"smtp://user:xxxxx@smtp.example.com:587?tls=starttls"},
	}
	for _, tt := range good {
		t.Run(tt.url, func(t *testing.T) {
			got, err := delivery.ParseSMTPURL(tt.url)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %#v\nwant %#v", fieldsOf(got), fieldsOf(tt.want))
			}
			if r := got.Redacted(); r != tt.redacted {
				t.Errorf("Redacted() = %s, want %s", r, tt.redacted)
			}
			// Every way the configuration can end up in a log hides the password.
			var js bytes.Buffer
			slog.New(slog.NewJSONHandler(&js, nil)).Info("smtp", "cfg", got)
			var txt bytes.Buffer
			slog.New(slog.NewTextHandler(&txt, nil)).Info("smtp", "cfg", got)
			for _, shown := range []string{got.String(), fmt.Sprintf("%v %+v %#v %s", got, got, got, &got), js.String(), txt.String()} {
				if tt.want.Password != "" && strings.Contains(shown, tt.want.Password) {
					t.Errorf("the password shows in %q", shown)
				}
			}
			// The redacted form reads back as the same settings, with the placeholder for a password.
			back, err := delivery.ParseSMTPURL(tt.redacted)
			if err != nil {
				t.Fatalf("the redacted form does not parse: %v", err)
			}
			if tt.want.Password != "" {
				back.Password = tt.want.Password
			}
			if back != tt.want {
				t.Errorf("redacted form reads back as %#v", fieldsOf(back))
			}
			if s, err := delivery.NewSMTPSender(got, "noreply@example.com"); err != nil || s.String() != tt.redacted {
				t.Errorf("NewSMTPSender: %v, String() = %v, want %s", err, s, tt.redacted)
			}
		})
	}

	// Every bad URL carries the password s3cr3t, or a piece of it, where a mistyped URL would put it; no
	// error may show it.
	bad := []string{
		"",
		"http://user:s3cr3t@smtp.example.com",
		"smtp:smtp.example.com",
		"smtp://",
		"smtp:///s3cr3t",
		"smtp://user:s3cr3t@:587",
		"smtp://user:s3cr3t@smtp.example.com?tls=ssl",
		"smtp://user:s3cr3t@smtp.example.com?tls=",
		"smtp://user:s3cr3t@smtp.example.com?tls=starttls&tls=none",
		"smtp://user:s3cr3t@smtp.example.com?verify=false",
		"smtp://user:s3?cr3t@smtp.example.com",
		"smtp://user:s3cr3t@smtp.example.com/s3cr3t",
		"smtp://user:s3cr3t@smtp.example.com/",
		"smtp://user:s3/cr3t@smtp.example.com",
		"smtp://user:s3cr3t@smtp.example.com#s3cr3t",
		"smtp://user:s3#cr3t@smtp.example.com",
		"smtp://user:s3cr3t%zz@smtp.example.com",
		"smtp://us er:s3cr3t@smtp.example.com",
		"smtp://user:s3cr3t@smtp.example.com:0",
		"smtp://user:s3cr3t@smtp.example.com:65536",
		"smtp://user:s3cr3t@smtp.example.com:s3cr3t",
		"smtp://user:s3cr3t@smtp.example.com?timeout=s3cr3t",
		"smtp://user:s3cr3t@smtp.example.com?timeout=-1s",
		"smtp://user:s3cr3t@smtp.example.com?tls=starttls;s3cr3t",
		"smtps://user:s3cr3t@smtp.example.com?tls=starttls",
		"smtps://user:s3cr3t@smtp.example.com?tls=none",
		"smtp://user@smtp.example.com",
		"smtp://user:@smtp.example.com",
		"smtp://:s3cr3t@smtp.example.com",
		// A password in clear text over the network.
		"smtp://user:s3cr3t@smtp.example.com:25?tls=none",
		"smtp://user:s3cr3t@10.0.0.5:25?tls=none",
		"smtp://user:s3cr3t@localhost.example.com:25?tls=none",
		"smtp://user:s3cr3t@[2001:db8::1]:25?tls=none",
	}
	for _, raw := range bad {
		t.Run("bad "+raw, func(t *testing.T) {
			cfg, err := delivery.ParseSMTPURL(raw)
			if err == nil {
				t.Fatalf("accepted as %s", cfg)
			}
			if strings.Contains(err.Error(), "cr3t") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// fieldsOf shows a configuration's fields, password included, for a failing test (SMTPConfig's own
// formats hide it).
func fieldsOf(c delivery.SMTPConfig) string {
	return fmt.Sprintf("{Host:%q Port:%d TLS:%q User:%q Password:%q Timeout:%v}", c.Host, c.Port, c.TLS, c.User, c.Password, c.Timeout)
}

func TestNewSMTPSenderRefuses(t *testing.T) {
	ok := delivery.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: delivery.SMTPStartTLS, User: "user", Password: "s3cr3t"}
	tests := []struct {
		name string
		cfg  delivery.SMTPConfig
		from string
	}{
		{"empty from", ok, ""},
		{"from is not an address", ok, "noreply"},
		{"from is a list", ok, "a@example.com, b@example.com"},
		{"from is not ASCII", ok, "Почта <почта@пример.рф>"},
		{"no host", delivery.SMTPConfig{Port: 587, TLS: delivery.SMTPStartTLS}, "noreply@example.com"},
		{"no port", delivery.SMTPConfig{Host: "smtp.example.com", TLS: delivery.SMTPStartTLS}, "noreply@example.com"},
		{"unknown tls", delivery.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: "ssl"}, "noreply@example.com"},
		{"negative timeout", delivery.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: delivery.SMTPStartTLS, Timeout: -time.Second}, "noreply@example.com"},
		{"password in clear to the network", delivery.SMTPConfig{Host: "smtp.example.com", Port: 25, TLS: delivery.SMTPNoTLS, User: "user", Password: "s3cr3t"}, "noreply@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := delivery.NewSMTPSender(tt.cfg, tt.from)
			if err == nil {
				t.Fatalf("accepted: %s", s)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}
