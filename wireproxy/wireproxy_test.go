package wireproxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// rawUpstream answers every request with the status line, headers and body it is given, over the raw
// connection, echoing the request body's length and a header in its own headers.
func rawUpstream(t *testing.T, status string, body []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, _ := io.ReadAll(r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		out := body
		if r.Method == http.MethodHead {
			out = nil
		}
		fmt.Fprintf(buf, "HTTP/1.1 %s\r\nContent-Type: application/json; charset=UTF-8\r\nX-Got: %d %s %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			status, len(in), r.Header.Get("X-Aspgate-Mirror"), r.Host, len(body))
		buf.Write(out)
		buf.Flush()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func startProxy(t *testing.T, p *Proxy) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go p.Serve(ln)
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	return ln.Addr().String()
}

// TestAnswersPassUnchanged: the client reads the upstream's status line (its own reason phrase), headers
// and bytes; bodies longer than the kept limit pass whole; the observer sees each exchange once the
// client has it; the mirror mark never goes upstream.
func TestAnswersPassUnchanged(t *testing.T) {
	answer := []byte(`{"count":0,"status":1,"statusCode":500,"response":{"message":"Ошибка"}}`)
	up := rawUpstream(t, "500 Server error", answer)
	var mu sync.Mutex
	var seen []*Exchange
	proxy := &Proxy{Upstream: up, MaxBody: 90, StripHeaders: []string{"X-Aspgate-Mirror"},
		Observe: func(e *Exchange) { mu.Lock(); seen = append(seen, e); mu.Unlock() }}
	addr := startProxy(t, proxy)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	big := bytes.Repeat([]byte("x"), 100)
	for i, req := range []string{
		"POST /api/2.0/authentication.json HTTP/1.1\r\nHost: legacy.example\r\nContent-Type: application/json\r\nX-Aspgate-Mirror: 1\r\nContent-Length: 2\r\n\r\n{}",
		"POST /big HTTP/1.1\r\nHost: legacy.example\r\nContent-Length: 100\r\n\r\n" + string(big),
		"HEAD /x HTTP/1.1\r\nHost: legacy.example\r\n\r\n",
	} {
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, &http.Request{Method: strings.Fields(req)[0]})
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Status != "500 Server error" || res.Header.Get("Content-Type") != "application/json; charset=UTF-8" {
			t.Errorf("request %d: %q %q", i, res.Status, res.Header.Get("Content-Type"))
		}
		want := answer
		if i == 2 {
			want = nil
		}
		if !bytes.Equal(body, want) {
			t.Errorf("request %d: body %q", i, body)
		}
		got := res.Header.Get("X-Got")
		if i == 0 && got != "2  legacy.example" || i == 1 && got != "100  legacy.example" {
			t.Errorf("request %d: the upstream got %q", i, got)
		}
	}
	// The last exchange is observed just after its answer is written: stop the proxy to be sure.
	if err := proxy.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || seen[0].Status != 500 || seen[0].Reason != "Server error" || string(seen[0].Body) != "{}" || seen[0].Truncated ||
		!seen[1].Truncated || len(seen[1].Body) != 90 || seen[0].Header.Get("X-Aspgate-Mirror") != "1" {
		t.Errorf("observed %d exchanges: %+v", len(seen), seen)
	}
}

func TestUpstreamDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	seen := make(chan *Exchange, 1)
	addr := startProxy(t, &Proxy{Upstream: dead, Observe: func(e *Exchange) { seen <- e }})
	res, err := http.Get("http://" + addr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := <-seen; res.StatusCode != 502 || got.Err == nil {
		t.Errorf("%d %+v", res.StatusCode, got)
	}
}

// TestExpectContinue: a client that waits for 100 Continue before its body gets it, then the answer.
func TestExpectContinue(t *testing.T) {
	up := rawUpstream(t, "200 OK", []byte(`{}`))
	addr := startProxy(t, &Proxy{Upstream: up})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("%q %v", line, err)
	}
	br.ReadString('\n')
	io.WriteString(conn, "{}")
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Got") != "2  h" {
		t.Errorf("%d %q", res.StatusCode, res.Header.Get("X-Got"))
	}
}

// TestHugeHeadersRefused: a request with 200 KiB of headers is refused after 64 KiB, not buffered and passed on.
func TestHugeHeadersRefused(t *testing.T) {
	addr := startProxy(t, &Proxy{Upstream: rawUpstream(t, "200 OK", []byte(`{}`))})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: h\r\n")
		for range 200 { // 200 KiB of headers, bounded
			if _, err := io.WriteString(conn, "X-Pad: "+strings.Repeat("a", 1016)+"\r\n"); err != nil {
				return
			}
		}
		io.WriteString(conn, "\r\n")
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return // the connection closed: refused as well
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("status %d", res.StatusCode)
	}
}
