package main

// End-to-end delivery: the server sends codes and links to a real SMTP server and to an SMS webhook, as
// configured with --smtp-url and --sms-url, and the test reads the codes from what those received.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"aspgate/internal/smtptest"
)

// smsGateway is an SMS webhook for tests: it records every request and answers with the scripted statuses
// (200 once the script runs out).
type smsGateway struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []smsRequest
	arrived  chan struct{}
	hold     chan struct{} // when set, a request is recorded at once but answered only once hold is closed
}

type smsRequest struct {
	status          int
	To, Text        string
	APIKey, IdemKey string
}

func startSMSGateway(t *testing.T, statuses ...int) *smsGateway {
	return startHeldSMSGateway(t, nil, statuses...)
}

func startHeldSMSGateway(t *testing.T, hold chan struct{}, statuses ...int) *smsGateway {
	g := &smsGateway{statuses: statuses, arrived: make(chan struct{}, 100), hold: hold}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req smsRequest
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		req.APIKey, req.IdemKey = r.Header.Get("X-Api-Key"), r.Header.Get("Idempotency-Key")
		g.mu.Lock()
		req.status = 200
		if len(g.statuses) > 0 {
			req.status, g.statuses = g.statuses[0], g.statuses[1:]
		}
		g.got = append(g.got, req)
		g.mu.Unlock()
		g.arrived <- struct{}{}
		if g.hold != nil {
			<-g.hold
		}
		w.WriteHeader(req.status)
	}))
	t.Cleanup(g.Close)
	return g
}

// wait returns the requests once n have arrived.
func (g *smsGateway) wait(t *testing.T, n int) []smsRequest {
	t.Helper()
	for {
		g.mu.Lock()
		got := append([]smsRequest(nil), g.got...)
		g.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-g.arrived:
		case <-time.After(20 * time.Second):
			t.Fatalf("the SMS gateway got %d requests, want %d", len(got), n)
		}
	}
}

func startSMTP(t *testing.T) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

func TestServeDeliversOverSMTPAndSMS(t *testing.T) {
	mail := startSMTP(t)
	mail.FailNext(451) // one transient failure: retried, delivered once
	sms := startSMSGateway(t, 500, 200)
	e := mustServe(t, "--smtp-url", "smtp://"+mail.Addr+"?tls=none", "--mail-from", "LC Manager <noreply@lc.example>",
		"--sms-url", sms.URL+"/send?key=in-url", "--sms-header", "X-Api-Key: k-secret",
		"--outbox-backoff", "10ms", "--outbox-backoff-max", "20ms", "--outbox-poll", "5ms",
		"--limit-recipient-minute", "100", "--limit-recipient-hour", "100")
	id := e.addUser("ivan", "ivan@example.com", "79991234567")

	// SMS: the gateway fails once with 500, then takes the message; it is delivered exactly once.
	if r := e.post("/api/user/RememberMessage", "application/json", `{"Phone":79991234567}`); r.status != 200 {
		t.Fatal(r)
	}
	got := sms.wait(t, 2)
	if got[0].status != 500 || got[1].status != 200 || got[0].IdemKey == "" || got[0].IdemKey != got[1].IdemKey {
		t.Fatalf("sms requests %+v", got)
	}
	if got[1].To != "79991234567" || got[1].APIKey != "k-secret" || !strings.HasPrefix(got[1].Text, "Код подтверждения: ") {
		t.Fatalf("sms %+v", got[1])
	}
	code := sixDigits.FindString(got[1].Text)
	if r := e.post("/api/Account/ResetPassword", "application/json",
		fmt.Sprintf(`{"UserId":%d,"Code":%q,"NewPassword":"Brand-new-pass-1"}`, id, code)); !strings.Contains(r.body, "Password has been reset.") {
		t.Fatalf("reset with the delivered code: %+v", r)
	}

	// E-mail: the server answers 451 once, then accepts.
	if r := e.post("/api/user/RememberMessage", "application/json", `{"Email":"ivan@example.com"}`); r.status != 200 {
		t.Fatal(r)
	}
	msgs := mail.Wait(1, 20*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "Код подтверждения" || m.From != "noreply@lc.example" || len(m.To) != 1 || m.To[0] != "ivan@example.com" ||
		!strings.Contains(m.Header.Get("From"), "noreply@lc.example") || m.Header.Get("Message-Id") == "" {
		t.Fatalf("e-mail %+v", m)
	}
	mailCode := sixDigits.FindString(m.Text)
	if mailCode == "" || !strings.Contains(m.HTML, mailCode) {
		t.Fatalf("e-mail parts: text %q, html %q", m.Text, m.HTML)
	}
	if r := e.post("/api/Account/ResetPassword", "application/json",
		fmt.Sprintf(`{"UserId":%d,"Code":%q,"NewPassword":"Brand-new-pass-2"}`, id, mailCode)); !strings.Contains(r.body, "Password has been reset.") {
		t.Fatalf("reset with the e-mailed code: %+v", r)
	}

	// aries' change link goes out by e-mail too.
	key := strings.TrimSpace(e.cli("apikey", "add", "--app", "aries", "--name", "partner"))
	if r := e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"ivan","apiKey":"`+key+`"}`); r.status != 200 {
		t.Fatal(r)
	}
	msgs = mail.Wait(2, 20*time.Second)
	if len(msgs) != 2 || msgs[1].Subject != "Password change" || !strings.Contains(msgs[1].Text, "https://reset.example/change?id=") {
		t.Fatalf("link e-mail %+v", msgs)
	}

	for _, secret := range []string{"k-secret", "in-url", code, mailCode} {
		if strings.Contains(e.logs(), secret) {
			t.Errorf("%q reached the logs", secret)
		}
	}
	if !strings.Contains(e.logs(), `"msg":"message sent"`) {
		t.Error("deliveries are not logged")
	}

	// Every message is recorded as sent, without its secret.
	waitStatus(t, e, 3, "sent")
	for _, o := range e.outbox() {
		if o.Status != "sent" || o.Code != "" || o.Link != "" {
			t.Errorf("outbox after delivery: %+v", o)
		}
	}
}

func TestServePermanentFailuresAreDead(t *testing.T) {
	mail := startSMTP(t)
	mail.FailNext(550)
	sms := startSMSGateway(t, 400)
	e := mustServe(t, "--smtp-url", "smtp://"+mail.Addr+"?tls=none", "--mail-from", "noreply@lc.example",
		"--sms-url", sms.URL, "--outbox-backoff", "10ms", "--outbox-poll", "5ms", "--limit-recipient-minute", "0")
	e.addUser("ivan", "ivan@example.com", "79991234567")
	e.post("/api/user/RememberMessage", "application/json", `{"Phone":79991234567}`)
	sms.wait(t, 1)
	e.post("/api/user/RememberMessage", "application/json", `{"Email":"ivan@example.com"}`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		dead := 0
		var o []outboxLine
		o = e.outbox()
		for _, m := range o {
			if m.Status == "dead" {
				dead++
			}
		}
		if dead == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox %+v", o)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(sms.wait(t, 1)); n != 1 {
		t.Errorf("a permanent SMS failure was retried: %d requests", n)
	}
	if n := len(mail.Messages()); n != 0 {
		t.Errorf("%d e-mails accepted", n)
	}
}

func TestServeSecretsStayOutOfHelp(t *testing.T) {
	t.Setenv("ASPGATE_SMTP_URL", "smtp://user:hunter2-pass@mail.example:587")
	t.Setenv("ASPGATE_SMS_URL", "https://sms.example/send?key=url-key-42")
	t.Setenv("ASPGATE_SMS_HEADERS", "X-Api-Key: header-key-42\nX-Other: b")
	t.Setenv("ASPGATE_INTROSPECT_SECRET", "introspect-secret-42-long")
	var out bytes.Buffer
	if code := run([]string{"serve", "-h"}, strings.NewReader(""), &out, &out); code != exitOK {
		t.Fatalf("serve -h: exit %d", code)
	}
	for _, secret := range []string{"hunter2", "url-key-42", "header-key-42", "introspect-secret-42"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("serve -h shows %q", secret)
		}
	}
	for _, flag := range []string{"-smtp-url", "-mail-from", "-sms-url", "-sms-header", "-sms-body", "-introspect-secret"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("serve -h does not list %s", flag)
		}
	}
	// The environment still configures them.
	var cfg serveConfig
	if err := cfg.parse(nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	d := cfg.delivery
	if d.smtpURL != "smtp://user:hunter2-pass@mail.example:587" || d.smsURL != "https://sms.example/send?key=url-key-42" ||
		len(d.smsHeaders) != 2 || cfg.introspect != "introspect-secret-42-long" {
		t.Fatalf("from the environment: %+v, introspect %q", d, cfg.introspect)
	}
	// A flag wins over the environment.
	if err := cfg.parse([]string{"--smtp-url", "smtp://relay.local:25?tls=none"}, io.Discard); err != nil || cfg.delivery.smtpURL != "smtp://relay.local:25?tls=none" {
		t.Fatalf("flag: %v %q", err, cfg.delivery.smtpURL)
	}
}
