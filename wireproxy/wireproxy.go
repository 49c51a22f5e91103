// Package wireproxy is the HTTP/1.1 proxy core of `aspgate shadow` and `aspgate record`: it reads each
// request from the client connection itself and writes the upstream's answer back with its status line
// as the upstream wrote it (ONLYOFFICE's "500 Server error" included, which net/http's ResponseWriter
// cannot write), its headers and its exact bytes. Each exchange is handed to an observer after the
// client has its answer.
package wireproxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Exchange is one request and the upstream's answer, as the observer sees them: bodies read whole up to
// the limit (Truncated when either was longer: such an exchange is passed on but not kept whole).
type Exchange struct {
	Method, Target string // the request line's method and target
	Host           string
	Header         http.Header // the request headers
	Body           []byte
	Status         int
	Reason         string
	RespHeader     http.Header
	RespBody       []byte
	Truncated      bool
	Err            error // the upstream could not be reached: the client got a bare 502
	Received       time.Time
}

// Proxy forwards every request to Upstream.
type Proxy struct {
	Upstream string // scheme://host[:port]
	// Observe is called with each exchange once its answer is written; it must not block for long.
	Observe func(*Exchange)
	// MaxBody is the largest body kept whole for Observe (default 1 MiB); longer ones still pass.
	MaxBody int64
	// StripHeaders are request headers never passed upstream (e.g. the mirror mark).
	StripHeaders []string
	Client       *http.Client
	Log          *slog.Logger

	mu      sync.Mutex
	closing bool
	conns   map[net.Conn]bool
	ln      net.Listener
	wg      sync.WaitGroup
}

const (
	headerTimeout = 10 * time.Second
	idleTimeout   = 120 * time.Second
	bodyTimeout   = 60 * time.Second
	// maxHeaderBytes bounds a request's line and headers, as net/http's servers bound them.
	maxHeaderBytes = 64 << 10
)

// NewClient is an upstream client that changes nothing: no gzip asked for, no redirect followed, no
// proxy from the environment.
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout,
		Transport: &http.Transport{DisableCompression: true, Proxy: nil, MaxIdleConnsPerHost: 64,
			IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: timeout},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Serve accepts connections on ln until Shutdown.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.closing { // Shutdown came first
		p.mu.Unlock()
		return ln.Close()
	}
	p.ln, p.conns = ln, map[net.Conn]bool{}
	p.mu.Unlock()
	if p.Client == nil {
		p.Client = NewClient(60 * time.Second)
	}
	if p.MaxBody == 0 {
		p.MaxBody = 1 << 20
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		p.mu.Lock()
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serveConn(c)
	}
}

// Shutdown stops accepting, lets the requests in flight finish (until ctx ends), and closes idle
// connections.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closing = true
	if p.ln != nil {
		p.ln.Close()
	}
	for c := range p.conns {
		c.SetReadDeadline(time.Now()) // an idle connection's next read ends now; a request being answered finishes
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		return ctx.Err()
	}
}

func (p *Proxy) serveConn(c net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	// The request line and headers may take maxHeaderBytes of the connection; the body is bounded by the
	// upstream's own limits (it streams on past MaxBody).
	lr := &io.LimitedReader{R: c, N: maxHeaderBytes}
	br := bufio.NewReader(lr)
	for {
		p.mu.Lock()
		closing := p.closing
		if !closing {
			c.SetReadDeadline(time.Now().Add(idleTimeout)) // under the lock: Shutdown's deadline is never overwritten
		}
		p.mu.Unlock()
		if closing {
			return
		}
		if _, err := br.Peek(1); err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(headerTimeout))
		lr.N = maxHeaderBytes
		req, err := http.ReadRequest(br)
		lr.N = math.MaxInt64
		if err != nil {
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
		c.SetReadDeadline(time.Now().Add(bodyTimeout))
		keep := p.handle(c, req)
		if !keep {
			return
		}
	}
}

// handle answers one request; it reports whether the connection may serve another.
func (p *Proxy) handle(c net.Conn, req *http.Request) bool {
	ex := &Exchange{Method: req.Method, Target: req.RequestURI, Host: req.Host, Header: req.Header.Clone(), Received: time.Now()}
	if strings.EqualFold(req.Header.Get("Expect"), "100-continue") && req.ContentLength != 0 {
		// The client waits for this before it sends the body we are about to read.
		if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return false
		}
		ex.Header.Del("Expect")
	}
	body, whole, err := readUpTo(req.Body, p.MaxBody)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return false
	}
	ex.Body, ex.Truncated = body[:min(int64(len(body)), p.MaxBody)], !whole
	var reqBody io.Reader = bytes.NewReader(body)
	if !whole {
		reqBody = io.MultiReader(bytes.NewReader(body), req.Body) // the rest streams on
	}
	out, err := http.NewRequestWithContext(context.Background(), req.Method, strings.TrimSuffix(p.Upstream, "/")+req.RequestURI, reqBody)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return false
	}
	out.Header = req.Header.Clone()
	for _, h := range append([]string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Upgrade", "Expect"}, p.StripHeaders...) {
		out.Header.Del(h)
	}
	out.Host = req.Host
	out.ContentLength = req.ContentLength
	if req.ContentLength == 0 || len(body) == 0 && whole {
		out.Body, out.ContentLength = http.NoBody, 0
	}
	res, err := p.Client.Do(out)
	c.SetWriteDeadline(time.Now().Add(bodyTimeout))
	if err != nil {
		ex.Err = err
		p.Log.Warn("upstream unreachable", "upstream", p.Upstream, "error", err.Error())
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		p.observe(ex)
		return false
	}
	defer res.Body.Close()
	ex.Status, ex.RespHeader = res.StatusCode, res.Header.Clone()
	_, ex.Reason, _ = strings.Cut(res.Status, " ")
	respBody, respWhole, err := readUpTo(res.Body, p.MaxBody)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return false
	}
	ex.RespBody = respBody[:min(int64(len(respBody)), p.MaxBody)]
	ex.Truncated = ex.Truncated || !respWhole
	// The upstream's connection is not the client's: its Connection header is hop-by-hop.
	keep := !req.Close && req.ProtoAtLeast(1, 1)
	for _, h := range []string{"Connection", "Keep-Alive"} {
		res.Header.Del(h)
	}
	res.Body = io.NopCloser(io.MultiReader(bytes.NewReader(respBody), res.Body))
	res.Close = !keep
	if req.Method == http.MethodHead {
		res.Body = http.NoBody // the upstream's Content-Length stands
	} else if respWhole {
		res.ContentLength = int64(len(respBody))
		res.TransferEncoding = nil
	}
	w := bufio.NewWriter(c)
	if err := res.Write(w); err != nil || w.Flush() != nil {
		return false
	}
	p.observe(ex)
	return keep
}

func (p *Proxy) observe(ex *Exchange) {
	if p.Observe != nil {
		p.Observe(ex)
	}
}

// readUpTo reads r up to limit+1 bytes; whole is false when r had more than limit (the bytes read are
// all returned, the rest is left in r).
func readUpTo(r io.Reader, limit int64) ([]byte, bool, error) {
	if r == nil {
		return nil, true, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("reading a body: %w", err)
	}
	return b, int64(len(b)) <= limit, nil
}
