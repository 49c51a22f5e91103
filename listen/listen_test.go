package listen_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aspgate/listen"
)

// serve runs an http.Server configured as aspgate's (MaxHeaderBytes 64 KiB) on a wrapped listener; the
// handler says whether the request came over TLS.
func serve(t *testing.T, config *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.TLS != nil {
				io.WriteString(w, "tls")
				return
			}
			io.WriteString(w, "plain")
		}),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	go srv.Serve(listen.Wrap(ln, config))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// raw sends bytes on a new connection and reads the whole answer until the server closes it.
func raw(t *testing.T, conn net.Conn, request string) string {
	t.Helper()
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(conn)
	return string(b)
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNetHTTPAnswersAreBare sends what net/http refuses before any handler runs: its own words never
// reach the client, only a bare status line; a request it can read is answered as usual.
func TestNetHTTPAnswersAreBare(t *testing.T) {
	addr := serve(t, nil)
	for _, tc := range []struct {
		name, request, status string
	}{
		{"malformed Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"missing Host", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"invalid header name", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"oversized headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 80<<10) + "\r\n\r\n",
			"HTTP/1.1 431 Request Header Fields Too Large"},
		{"unknown transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
			"HTTP/1.1 501 Not Implemented"},
		{"unsupported version", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported"},
		{"garbage request line", "\x00\x01\x02 nonsense\r\n\r\n", "HTTP/1.1 400 Bad Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := raw(t, dial(t, addr), tc.request)
			want := tc.status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
			if got != want {
				t.Fatalf("answer %q, want %q", got, want)
			}
		})
	}
	// A request net/http can read is the handler's, and the connection stays open for the next.
	conn := dial(t, addr)
	defer conn.Close()
	br := bufio.NewReader(conn)
	for range 2 {
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(body) != "plain" {
			t.Fatalf("%d %q", res.StatusCode, body)
		}
	}
}

// writeCert writes a fresh self-signed certificate for 127.0.0.1 named cn and returns its files.
func writeCert(t *testing.T, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "first")
	cert, err := listen.LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, cert.TLSConfig())
	client := func(minV, maxV uint16) *tls.Config {
		return &tls.Config{InsecureSkipVerify: true, MinVersion: minV, MaxVersion: maxV}
	}
	peer := func(c *tls.Conn) string { return c.ConnectionState().PeerCertificates[0].Subject.CommonName }
	get := func(c *tls.Conn, br *bufio.Reader) string {
		t.Helper()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}

	// TLS 1.2 and 1.3 are served, over HTTP/1.1, and the handler sees the request as TLS.
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		c, err := tls.Dial("tcp", addr, client(v, v))
		if err != nil {
			t.Fatalf("TLS %x: %v", v, err)
		}
		if got := get(c, bufio.NewReader(c)); got != "tls" || c.ConnectionState().NegotiatedProtocol == "h2" {
			t.Fatalf("TLS %x: %q, protocol %q", v, got, c.ConnectionState().NegotiatedProtocol)
		}
		c.Close()
	}
	if c, err := tls.Dial("tcp", addr, client(tls.VersionTLS10, tls.VersionTLS11)); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	h2 := client(tls.VersionTLS12, 0)
	h2.NextProtos = []string{"h2"}
	if c, err := tls.Dial("tcp", addr, h2); err == nil {
		if p := c.ConnectionState().NegotiatedProtocol; p != "" {
			t.Errorf("negotiated %q", p)
		}
		c.Close()
	}

	// Plain HTTP on the TLS listener: closed without a byte.
	if got := raw(t, dial(t, addr), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); got != "" {
		t.Fatalf("plain HTTP on TLS got %q", got)
	}

	// Reload: a connection opened before keeps working; new ones get the new certificate. A failed reload
	// keeps the one in use.
	old, err := tls.Dial("tcp", addr, client(tls.VersionTLS12, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldBR := bufio.NewReader(old)
	if get(old, oldBR) != "tls" || peer(old) != "first" {
		t.Fatal("before the reload")
	}
	writeCert(t, dir, "second")
	if err := cert.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := get(old, oldBR); got != "tls" {
		t.Fatalf("the connection opened before the reload: %q", got)
	}
	c, err := tls.Dial("tcp", addr, client(tls.VersionTLS12, 0))
	if err != nil {
		t.Fatal(err)
	}
	if peer(c) != "second" {
		t.Fatalf("after the reload the server shows %q", peer(c))
	}
	c.Close()
	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	if err := cert.Reload(); err == nil {
		t.Fatal("a broken key file reloaded")
	}
	c, err = tls.Dial("tcp", addr, client(tls.VersionTLS12, 0))
	if err != nil {
		t.Fatal(err)
	}
	if peer(c) != "second" {
		t.Fatalf("after a failed reload the server shows %q", peer(c))
	}
	c.Close()

	// net/http's own answers are shaped inside TLS too.
	tc, err := tls.Dial("tcp", addr, client(tls.VersionTLS12, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := raw(t, tc, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"); got != "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" {
		t.Fatalf("malformed Host over TLS: %q", got)
	}
}
