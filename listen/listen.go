// Package listen makes the gateway's listeners: plain or TLS (TLS 1.2 and up, the certificate reloaded
// from its files on demand, without dropping connections), and in both cases with net/http's own answers
// to requests it cannot parse (a malformed Host, oversized headers, an unknown transfer encoding: Go's
// plain-text words) replaced by a bare status line, so that no Go text reaches a legacy client. A plain
// HTTP request on a TLS listener gets no answer at all: the connection is closed.
package listen

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// HandshakeTimeout bounds a TLS handshake.
const HandshakeTimeout = 10 * time.Second

// Certificate is a certificate and key read from PEM files, which Reload reads again.
type Certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificate reads the PEM certificate chain and key.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	c := &Certificate{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. On an error the certificate in use stays.
func (c *Certificate) Reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cur.Store(&pair)
	return nil
}

// Current is the certificate in use.
func (c *Certificate) Current() *tls.Certificate { return c.cur.Load() }

// TLSConfig is the listeners' TLS configuration: TLS 1.2 and up, Go's default cipher suites (all with
// forward secrecy and AEAD for TLS 1.2), HTTP/1.1 only (the legacy faces answer with status lines of their
// own, which HTTP/2 cannot carry), the certificate read at each handshake.
func (c *Certificate) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}

// Wrap returns ln with its connections shaped (see the package comment); config nil is plain HTTP.
func Wrap(ln net.Listener, config *tls.Config) net.Listener {
	return &listener{Listener: ln, config: config}
}

type listener struct {
	net.Listener
	config *tls.Config
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.config == nil {
		return &plainConn{Conn: c}, nil
	}
	return &tlsConn{raw: c, config: l.config}, nil
}

// plainConn is a plain connection whose net/http error answers are shaped.
type plainConn struct{ net.Conn }

func (c *plainConn) Write(p []byte) (int, error) {
	if bare, ok := shape(p); ok {
		_, err := c.Conn.Write(bare)
		return len(p), err
	}
	return c.Conn.Write(p)
}

// tlsConn is a TLS connection whose handshake runs when net/http first asks for its state (which makes it
// set Request.TLS), so that a client speaking plain HTTP can be turned away without the answer net/http
// gives a *tls.Conn ("Client sent an HTTP request to an HTTPS server.").
type tlsConn struct {
	raw    net.Conn
	config *tls.Config

	once  sync.Once
	tls   *tls.Conn
	state tls.ConnectionState
	err   error
}

var errHandshake = errors.New("listen: no TLS connection")

// handshake reads the first byte: a TLS handshake record starts with 0x16; anything else (a plain HTTP
// request) closes the connection unanswered.
func (c *tlsConn) handshake() error {
	c.once.Do(func() {
		_ = c.raw.SetDeadline(time.Now().Add(HandshakeTimeout))
		br := bufio.NewReaderSize(c.raw, 512)
		first, err := br.Peek(1)
		if err != nil || first[0] != 0x16 {
			c.err = errHandshake
			_ = c.raw.Close()
			return
		}
		c.tls = tls.Server(&prefixedConn{Conn: c.raw, r: br}, c.config)
		if err := c.tls.Handshake(); err != nil {
			c.err = err
			_ = c.raw.Close()
			return
		}
		_ = c.raw.SetDeadline(time.Time{})
		c.state = c.tls.ConnectionState()
	})
	return c.err
}

// ConnectionState is what net/http reads to set Request.TLS (its connectionStater).
func (c *tlsConn) ConnectionState() tls.ConnectionState {
	_ = c.handshake()
	return c.state
}

func (c *tlsConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.tls.Read(p)
}

func (c *tlsConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return len(p), nil // net/http's answer to the failed read: nobody to send it to
	}
	if bare, ok := shape(p); ok {
		_, err := c.tls.Write(bare)
		return len(p), err
	}
	return c.tls.Write(p)
}

func (c *tlsConn) Close() error {
	if c.tls != nil {
		return c.tls.Close()
	}
	return c.raw.Close()
}

func (c *tlsConn) LocalAddr() net.Addr  { return c.raw.LocalAddr() }
func (c *tlsConn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

func (c *tlsConn) SetDeadline(t time.Time) error      { return c.raw.SetDeadline(t) }
func (c *tlsConn) SetReadDeadline(t time.Time) error  { return c.raw.SetReadDeadline(t) }
func (c *tlsConn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

// prefixedConn reads first what a bufio.Reader has buffered from the connection.
type prefixedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prefixedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// netHTTPErrorHeaders is how net/http's conn.serve writes its own answers, in a single write, to requests
// it could not read: "HTTP/1.1 <status>" + these headers + a plain-text body of Go's words. Answers
// written through a ResponseWriter never contain this sequence: their headers are sorted, so Connection
// comes before Content-Type, and Date follows it.
var netHTTPErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

// shape replaces one of net/http's own error answers by its bare status line; ok is false for any other
// write.
func shape(p []byte) ([]byte, bool) {
	if len(p) < 12 || !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) || !bytes.Contains(p, netHTTPErrorHeaders) {
		return nil, false
	}
	code, err := strconv.Atoi(string(p[9:12]))
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	return []byte("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) +
		"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), true
}
