// Command mailsink is a development and checking tool, not a production service: it stands in for the
// mail relay and the SMS gateway so that `aspgate serve` can deliver codes and links to something local,
// and prints what it receives.
//
//	go run ./tools/mailsink [--smtp 127.0.0.1:2525] [--http 127.0.0.1:8025] [--fail-mail N] [--fail-sms N]
//	aspgate serve --smtp-url 'smtp://127.0.0.1:2525?tls=none' --mail-from noreply@example.com \
//	              --sms-url http://127.0.0.1:8025/sms
//
// It runs an SMTP server (internal/smtptest: no TLS, no AUTH required, any sender and recipient) and an
// HTTP endpoint that takes any POST as an SMS (a JSON body {"to","text"} is decoded, the raw body is kept
// too) and answers 200. Its first stdout line is {"kind":"ready","smtp":ADDR,"http":ADDR} with the bound
// addresses (so port 0 works); then every mail or SMS is one JSON line, written at once:
//
//	{"kind":"mail","status":250,"from":..,"to":[..],"subject":..,"text":..,"html":..,"message_id":..}
//	{"kind":"sms","status":200,"to":..,"text":..,"idempotency_key":..,"body":..,"path":..,"headers":{..}}
//
// --fail-mail N refuses the first N mails with 451 and --fail-sms N answers 500 to the first N SMS, to
// watch the gateway retry; refused ones are printed too, with that status. GET /messages on the HTTP port
// returns everything received so far as a JSON array with one message per line (?kind=mail or ?kind=sms
// to filter), easy to read with grep and sed. Mail and SMS bodies hold codes in clear: use it only with
// test data. SIGINT or SIGTERM stops it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"aspgate/internal/smtptest"
)

type mailRecord struct {
	Kind      string   `json:"kind"` // "mail"
	Status    int      `json:"status"`
	From      string   `json:"from"` // the envelope sender (MAIL FROM)
	To        []string `json:"to"`
	Subject   string   `json:"subject"`
	Text      string   `json:"text"`
	HTML      string   `json:"html"`
	MessageID string   `json:"message_id"`
}

type smsRecord struct {
	Kind           string            `json:"kind"` // "sms"
	Status         int               `json:"status"`
	To             string            `json:"to"`
	Text           string            `json:"text"`
	IdempotencyKey string            `json:"idempotency_key"`
	Body           string            `json:"body"`
	Path           string            `json:"path"`
	Headers        map[string]string `json:"headers"`
}

// readyRecord is the first line: where the servers listen.
type readyRecord struct {
	Kind string `json:"kind"` // "ready"
	SMTP string `json:"smtp"`
	HTTP string `json:"http"`
}

// sink keeps and prints what arrives.
type sink struct {
	mu       sync.Mutex
	out      io.Writer // stdout: each record is one Write
	msgs     [][]byte  // the records, without their newline
	failSMS  int
	smsCount int
}

// add prints a record as one line and keeps it for GET /messages.
func (s *sink) add(rec any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // links keep their & and templates their <p>
	if err := enc.Encode(rec); err != nil {
		fmt.Fprintln(os.Stderr, "mailsink:", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	if _, err := s.out.Write(buf.Bytes()); err != nil {
		fmt.Fprintln(os.Stderr, "mailsink: stdout:", err)
	}
}

func (s *sink) sms(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := smsRecord{Kind: "sms", Status: http.StatusOK, Body: string(body), Path: r.URL.Path,
		IdempotencyKey: r.Header.Get("Idempotency-Key"), Headers: map[string]string{}}
	var fields struct{ To, Text string }
	if json.Unmarshal(body, &fields) == nil {
		rec.To, rec.Text = fields.To, fields.Text
	}
	for name, v := range r.Header {
		rec.Headers[name] = strings.Join(v, ", ")
	}
	s.mu.Lock()
	if s.smsCount++; s.smsCount <= s.failSMS {
		rec.Status = http.StatusInternalServerError
	}
	s.mu.Unlock()
	s.add(rec)
	w.WriteHeader(rec.Status)
}

func (s *sink) list(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	s.mu.Lock()
	var b strings.Builder
	b.WriteString("[")
	n := 0
	for _, m := range s.msgs {
		if kind != "" && !strings.HasPrefix(string(m), `{"kind":"`+kind+`"`) {
			continue
		}
		if n > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n")
		b.Write(m)
		n++
	}
	s.mu.Unlock()
	b.WriteString("\n]\n")
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, b.String()) //nolint:errcheck // the client went away
}

func main() {
	smtpAddr := flag.String("smtp", "127.0.0.1:2525", "SMTP listen `address` (port 0: a free one)")
	httpAddr := flag.String("http", "127.0.0.1:8025", "HTTP listen `address` for SMS and GET /messages (port 0: a free one)")
	failMail := flag.Int("fail-mail", 0, "refuse the first `N` mails with 451 (transient)")
	failSMS := flag.Int("fail-sms", 0, "answer 500 to the first `N` SMS")
	flag.Parse()
	if err := run(*smtpAddr, *httpAddr, *failMail, *failSMS); err != nil {
		fmt.Fprintln(os.Stderr, "mailsink:", err)
		os.Exit(1)
	}
}

func run(smtpAddr, httpAddr string, failMail, failSMS int) error {
	for _, a := range []string{smtpAddr, httpAddr} {
		if host, _, err := net.SplitHostPort(a); err == nil {
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				fmt.Fprintf(os.Stderr, "mailsink: warning: listening on %s, not loopback; it shows codes to anyone\n", a)
			}
		}
	}
	s := &sink{out: os.Stdout, failSMS: failSMS}

	// Nothing is printed until the ready line is: s.mu is held until then.
	s.mu.Lock()
	mail, ln, err := listen(s, smtpAddr, httpAddr, failMail)
	if err == nil {
		err = json.NewEncoder(s.out).Encode(readyRecord{"ready", mail.Addr, ln.Addr().String()})
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	defer mail.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /messages", s.list)
	mux.HandleFunc("POST /", s.sms)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("http: %w", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// listen starts the SMTP server, reporting every mail to s, and binds the HTTP listener.
func listen(s *sink, smtpAddr, httpAddr string, failMail int) (*smtptest.Server, net.Listener, error) {
	mail, err := smtptest.Start(smtpAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("smtp: %w", err)
	}
	for range failMail {
		mail.FailNext(451)
	}
	mail.OnMessage(func(m smtptest.Message, code int) {
		s.add(mailRecord{Kind: "mail", Status: code, From: m.From, To: m.To, Subject: m.Subject, Text: m.Text,
			HTML: m.HTML, MessageID: m.Header.Get("Message-Id")})
	})
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		mail.Close()
		return nil, nil, fmt.Errorf("http: %w", err)
	}
	return mail, ln, nil
}
