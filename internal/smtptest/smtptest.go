// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on a loopback port and keeps
// what it receives, decoded (RFC 2047 subject, multipart/alternative parts, transfer encodings), so tests
// and the mail sink tool can check what the gateway sent. Replies can be scripted to fail.
package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is a message the server accepted.
type Message struct {
	From    string
	To      []string
	Raw     []byte
	Header  mail.Header
	Subject string // decoded
	Text    string // the text/plain part, decoded
	HTML    string // the text/html part, decoded
}

// Server is a running SMTP server.
type Server struct {
	Addr string

	mu       sync.Mutex
	msgs     []Message
	fail     []*smtp.SMTPError // replies to the next DATA commands, in order
	hang     chan struct{}     // while open, sessions stall before the greeting is answered
	received chan struct{}
	observe  func(m Message, code int)
	srv      *smtp.Server
	ln       net.Listener
}

// Start listens on 127.0.0.1 at a free port (or at addr when given) and serves until Close.
func Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, received: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		hang := s.hang
		s.mu.Unlock()
		if hang != nil {
			<-hang
			return nil, &smtp.SMTPError{Code: 421, Message: "going away"}
		}
		return &session{s: s}, nil
	}))
	s.srv.Domain = "smtptest.local"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.AllowInsecureAuth = true
	s.srv.ErrorLog = log.New(io.Discard, "", 0) // a client hanging up mid-session is part of the tests
	go s.srv.Serve(ln)                          //nolint:errcheck // ends with Close
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	s.Hang(false)
	err := s.srv.Close()
	s.ln.Close() // go-smtp closes only the listeners Serve has registered, which it may not have done yet
	return err
}

// FailNext makes the next DATA commands fail with these replies, one each: 4xx is transient, 5xx permanent.
func (s *Server) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		s.fail = append(s.fail, &smtp.SMTPError{Code: c, Message: fmt.Sprintf("scripted failure %d", c)})
	}
}

// Hang makes new sessions stall at EHLO until Hang(false), then fail with 421: a server that accepted the
// connection and then went silent, as a client sees a dead mail relay. Nothing is delivered meanwhile.
func (s *Server) Hang(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on && s.hang == nil {
		s.hang = make(chan struct{})
	} else if !on && s.hang != nil {
		close(s.hang)
		s.hang = nil
	}
}

// OnMessage makes the server call f with every message it is sent, accepted or not: code is 250 when it
// was accepted, else the scripted failure's reply code (see FailNext). f runs on the session's goroutine
// before the reply is sent, one call at a time per session; nil stops the calls.
func (s *Server) OnMessage(f func(m Message, code int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observe = f
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns once the server has accepted at least n messages, or after timeout with what it has.
func (s *Server) Wait(n int, timeout time.Duration) []Message {
	deadline := time.After(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.received:
		case <-deadline:
			return s.Messages()
		}
	}
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	observe := x.s.observe
	if len(x.s.fail) > 0 {
		e := x.s.fail[0]
		x.s.fail = x.s.fail[1:]
		x.s.mu.Unlock()
		if observe != nil {
			m, _ := Decode(raw) // what could be decoded: a refused message is reported all the same
			m.Raw, m.From, m.To = raw, x.from, append([]string(nil), x.to...)
			observe(m, e.Code)
		}
		return e
	}
	x.s.mu.Unlock()
	m, err := Decode(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "cannot parse: " + err.Error()}
	}
	m.From, m.To = x.from, append([]string(nil), x.to...)
	if observe != nil {
		observe(m, 250)
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, m)
	x.s.mu.Unlock()
	select {
	case x.s.received <- struct{}{}:
	default:
	}
	return nil
}

// Decode parses a raw message: headers, the RFC 2047 subject, and the text and HTML parts of a single-part
// or multipart/alternative body, with their transfer encodings undone.
func Decode(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Raw: raw, Header: msg.Header}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, fmt.Errorf("subject: %w", err)
	}
	err = decodePart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m, err
}

func decodePart(m *Message, contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain" // RFC 2045's default
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := decodePart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s part: %w", mt, err)
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

// newlineStripper drops CR and LF, which base64 bodies are wrapped with.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
