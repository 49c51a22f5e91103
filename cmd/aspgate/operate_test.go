package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// running is a server started in-process by startServer; it stops when the test ends, or at stop.
type running struct {
	s      *server
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
	logs   func() string // what it logged so far (flushed)
}

func startServer(t *testing.T, args ...string) *running {
	t.Helper()
	var cfg serveConfig
	if err := cfg.parse(args, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	var mu sync.Mutex
	s, err := openServer(ctx, cfg, lockedWriter{&mu, &logs})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &running{s: s, cancel: cancel, done: make(chan error, 1),
		logs: func() string { s.flushLogs(); mu.Lock(); defer mu.Unlock(); return logs.String() }}
	go func() { r.done <- s.serve(ctx) }()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop ends serve (once) and returns its error.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	return r.err
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestAdminListener: /healthz and /readyz answer on the admin listener only; after traffic on every face
// /metrics has every family with bounded labels, and nothing a client sent is a label value.
func TestAdminListener(t *testing.T) {
	e := mustServe(t, "--listen", "r7office=127.0.0.1:0", "--introspect-secret", strings.Repeat("s", 32))
	admin := "http://" + e.srv.AdminAddr()
	if code, body := httpGet(t, admin+"/healthz"); code != 200 || body != "{\"status\":\"ok\"}\n" {
		t.Fatalf("/healthz %d %q", code, body)
	}
	if code, body := httpGet(t, admin+"/readyz"); code != 200 || body != "{\"status\":\"ready\"}\n" {
		t.Fatalf("/readyz %d %q", code, body)
	}
	if code, _ := httpGet(t, admin+"/nothing"); code != 404 {
		t.Fatalf("/nothing %d", code)
	}
	// The legacy listeners know nothing of them: each answers its app's 404.
	for _, base := range []string{e.base, e.aries} {
		for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
			code, body := httpGet(t, base+p)
			if code != 404 || !strings.Contains(body, "No HTTP resource was found that matches the request URI") {
				t.Fatalf("%s%s: %d %s", base, p, code, body)
			}
		}
	}

	// Traffic on every face, one of them refused by a limit, one with hostile words in the path.
	e.addUser("ivan", "ivan@example.com", "79991234567")
	key := strings.TrimSpace(e.cli("apikey", "add", "--app", "aries", "--name", "partner"))
	e.post("/api/user/RememberMessage", "application/json", `{"Phone":79991234567}`)
	e.post("/api/user/RememberMessage", "application/json", `{"Email":"ivan@example.com"}`, "Accept", "application/xml")
	e.post("/api/Account/ResetPassword", "application/json", `{"UserId":1,"Code":"000000","NewPassword":"Brand-new-pass-1"}`)
	e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"nobody","apiKey":"`+key+`"}`)
	e.post("/api/Customer/PasswordChange", "application/json", `{"ChangeRequestId":"x","Password":"Brand-new-pass-1"}`)
	e.post("/api/2.0/authentication.json", "application/json", `{"userName":"ivan","password":"wrong"}`)
	e.post("/api/2.0/authentication/setphone.xml", "application/x-www-form-urlencoded", "userName=ivan&password=wrong")
	e.post("/evil-<script>-label", "application/json", `{}`)
	httpGet(t, e.base+"/api/user/RememberMessage?x=evil-query-label")

	wants := []string{
		`aspgate_requests_total{app="lcmanager",endpoint="api/user/RememberMessage",format="json",status="200"} 1`,
		`aspgate_requests_total{app="lcmanager",endpoint="api/user/RememberMessage",format="xml",status="200"} 1`,
		`aspgate_requests_total{app="lcmanager",endpoint="api/user/RememberMessage",format="json",status="405"} 1`,
		`aspgate_requests_total{app="ereader",endpoint="api/Account/ResetPassword",format="json",status="400"} 1`,
		`aspgate_requests_total{app="aries",endpoint="API/Account/ForgotPassword",format="json",status="200"} 1`,
		`aspgate_requests_total{app="customer",endpoint="api/Customer/PasswordChange",format="json",status="200"} 1`,
		`aspgate_requests_total{app="r7office",endpoint="api/2.0/authentication",format="json",status="500"} 1`,
		`aspgate_requests_total{app="r7office",endpoint="api/2.0/authentication/setphone",format="xml",status="500"} 1`,
		`aspgate_requests_total{app="none",endpoint="none",format="json",status="404"} 4`,
		`aspgate_outcomes_total{app="lcmanager",outcome="code_sent"} 1`,
		`aspgate_outcomes_total{app="lcmanager",outcome="rate_limited"} 1`,
		`aspgate_outcomes_total{app="ereader",outcome="code_rejected"} 1`,
		`aspgate_outcomes_total{app="aries",outcome="link_sent"} 1`,
		`aspgate_outcomes_total{app="customer",outcome="change_request_not_found"} 1`,
		`aspgate_outcomes_total{app="r7office",outcome="auth_failed"} 2`,
		`aspgate_limit_refusals_total{limit="account_minute"} 1`,
		`aspgate_limit_refusals_total{limit="client_hour"} 0`,
		`aspgate_request_duration_seconds_bucket{app="ereader",endpoint="api/Account/ResetPassword",le="+Inf"} 1`,
		`aspgate_outbox_pending `,
		`aspgate_outbox_oldest_pending_age_seconds `,
		`aspgate_outbox_messages_total{result="sent"} `,
		`aspgate_outbox_messages_total{result="dead"} `,
		`aspgate_hash_slots_in_use 0`,
		`aspgate_hash_slots `,
		`aspgate_hash_wait_seconds_count `,
		`aspgate_db_transaction_seconds_count{kind="write"} `,
		`aspgate_db_transaction_seconds_count{kind="read"} `,
		`aspgate_build_info{revision=`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	}
	// A request is counted when its handler returns, which for an answer written on a hijacked connection
	// (r7office's status lines) can be just after the client has read it: scrape until all are there.
	var body string
	for range 100 {
		var code int
		if code, body = httpGet(t, admin+"/metrics"); code != 200 {
			t.Fatalf("/metrics %d", code)
		}
		missing := 0
		for _, want := range wants {
			if !strings.Contains(body, "\n"+want) {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range wants {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, bad := range []string{"evil", "<script>", "ivan", "79991234567"} {
		if strings.Contains(body, bad) {
			t.Errorf("/metrics holds %q, which came from a request", bad)
		}
	}
	// Every label value of the request families is from the fixed sets.
	labelRE := regexp.MustCompile(`(?m)^aspgate_(?:requests_total|outcomes_total|limit_refusals_total)\{([^}]*)\}`)
	valueRE := regexp.MustCompile(`^[a-z_]+="[A-Za-z0-9_./*]*"$`)
	for _, m := range labelRE.FindAllStringSubmatch(body, -1) {
		for _, kv := range strings.Split(m[1], ",") {
			if !valueRE.MatchString(kv) {
				t.Errorf("label %s", kv)
			}
		}
	}
}

// TestReadinessDuringShutdown: once shutdown starts /readyz says 503 while the legacy listeners still
// answer for --shutdown-delay; then they close, and the admin listener last.
func TestReadinessDuringShutdown(t *testing.T) {
	r := startServer(t, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "a.db"),
		"--shutdown-delay", "2s")
	admin, legacy := "http://"+r.s.AdminAddr(), "http://"+r.s.Addr()
	if code, _ := httpGet(t, admin+"/readyz"); code != 200 {
		t.Fatalf("/readyz before shutdown: %d", code)
	}
	r.cancel()
	var code int
	var body string
	for range 500 {
		if code, body = httpGet(t, admin+"/readyz"); code == 503 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if code != 503 || body != "{\"status\":\"unavailable\",\"reason\":\"shutting down\"}\n" {
		t.Fatalf("/readyz during shutdown: %d %q", code, body)
	}
	if code, _ := httpGet(t, admin+"/healthz"); code != 200 {
		t.Fatalf("/healthz during shutdown: %d", code)
	}
	if code, _ := httpGet(t, legacy+"/api/user/RememberMessage"); code != 405 {
		t.Fatalf("the legacy listener during the shutdown delay: %d", code)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(admin + "/healthz"); err == nil {
		t.Fatal("the admin listener still answers after serve returned")
	}
}

// TestReadinessReportsTheDatabase: a database another program migrated further is not ready.
func TestReadinessReportsTheDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	r := startServer(t, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--db", db)
	raw := openRaw(t, db)
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	code, body := httpGet(t, "http://"+r.s.AdminAddr()+"/readyz")
	if code != 503 || !strings.Contains(body, `"reason":"database: store: schema version 9999, this program needs`) {
		t.Fatalf("/readyz %d %s", code, body)
	}
}

// rememberFrom sends RememberMessage for phone as if through a proxy that forwarded client.
func rememberFrom(t *testing.T, base, client, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/user/RememberMessage", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if client != "" {
		req.Header.Set("X-Forwarded-For", client)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

const (
	sent    = `"ErrorCode":0`
	refused = `"ErrorCode":2`
)

// TestTrustedProxies: behind a trusted proxy 70 clients each get their own client budget (one send an
// hour here); without --trusted-proxy the forwarded address is ignored and they share the proxy's.
func TestTrustedProxies(t *testing.T) {
	limits := []string{"--limit-client-hour", "1", "--limit-recipient-minute", "0", "--limit-recipient-hour", "0"}
	e := mustServe(t, append([]string{"--trusted-proxy", "127.0.0.0/8"}, limits...)...)
	for i := 1; i <= 70; i++ {
		client := fmt.Sprintf("198.51.100.%d", i)
		if got := rememberFrom(t, e.base, "203.0.113.200, "+client, fmt.Sprintf(`{"Phone":7999000%04d}`, i)); !strings.Contains(got, sent) {
			t.Fatalf("client %d behind the proxy: %s", i, got)
		}
	}
	if got := rememberFrom(t, e.base, "198.51.100.5", `{"Phone":79990009999}`); !strings.Contains(got, refused) {
		t.Fatalf("a second send from client 5: %s", got)
	}
	if n := strings.Count(e.logs(), `"outcome":"code_sent"`); n != 70 {
		t.Fatalf("%d codes sent, want 70", n)
	}
	if !strings.Contains(e.logs(), `"client":"198.51.100.70","peer":"127.0.0.1"`) {
		t.Error("the access log does not show the forwarded client beside the peer")
	}

	// Untrusted: every request is the proxy's own.
	u := mustServe(t, limits...)
	if got := rememberFrom(t, u.base, "198.51.100.1", `{"Phone":79990000001}`); !strings.Contains(got, sent) {
		t.Fatalf("first: %s", got)
	}
	if got := rememberFrom(t, u.base, "198.51.100.2", `{"Phone":79990000002}`); !strings.Contains(got, refused) {
		t.Fatalf("a forwarded address from an untrusted peer was believed: %s", got)
	}
}

// TestOneAccountOneBudget: an account's phone and e-mail share one budget; unknown recipients have their
// own; aries keys on the account it finds, not on the name it was given; 0 turns a limit off.
func TestOneAccountOneBudget(t *testing.T) {
	e := mustServe(t) // 1 a minute, 5 an hour
	e.addUser("ivan", "ivan@example.com", "79991234567")
	if got := rememberFrom(t, e.base, "", `{"Phone":79991234567}`); !strings.Contains(got, sent) {
		t.Fatal(got)
	}
	if got := rememberFrom(t, e.base, "", `{"Email":"ivan@example.com"}`); !strings.Contains(got, refused) {
		t.Fatalf("the same account by e-mail within the minute: %s", got)
	}
	if got := rememberFrom(t, e.base, "", `{"Phone":79990000000}`); !strings.Contains(got, sent) {
		t.Fatalf("an unknown phone: %s", got)
	}
	if got := rememberFrom(t, e.base, "", `{"Email":"nobody@example.com"}`); !strings.Contains(got, sent) {
		t.Fatalf("an unknown e-mail: %s", got)
	}
	if n := len(e.outbox()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}

	// aries: eight names that do not exist, one e-mail: the fallback to the e-mail finds the account,
	// whose budget holds. One link goes out.
	a := mustServe(t, "--limit-client-hour", "0")
	a.addUser("petr", "petr@example.com", "79990000002")
	key := strings.TrimSpace(a.cli("apikey", "add", "--app", "aries", "--name", "partner"))
	for i := range 8 {
		r := a.post("/API/Account/ForgotPassword", "application/json",
			fmt.Sprintf(`{"userName":"no-such-name-%d","email":"petr@example.com","apiKey":"%s"}`, i, key))
		if r.status != 200 {
			t.Fatal(r)
		}
	}
	if n := len(a.outbox()); n != 1 {
		t.Fatalf("name variation sent %d links to one mailbox, want 1", n)
	}
	if !strings.Contains(a.logs(), `"outcome":"rate_limited","limit":"account_minute"`) {
		t.Error("the refusals are not logged with the account's limit")
	}

	// 0 = no limit, for every send limit.
	z := mustServe(t, "--limit-recipient-minute", "0", "--limit-recipient-hour", "0", "--limit-client-hour", "0")
	z.addUser("olga", "olga@example.com", "79990000003")
	for i := range 20 {
		if got := rememberFrom(t, z.base, "", `{"Phone":79990000003}`); !strings.Contains(got, sent) {
			t.Fatalf("send %d with every limit 0: %s", i+1, got)
		}
	}
	if n := len(z.outbox()); n != 20 {
		t.Fatalf("%d messages with the limits off, want 20", n)
	}
	var cfg serveConfig
	if err := cfg.parse([]string{"--limit-client-hour", "-1"}, io.Discard); err == nil {
		t.Fatal("a negative limit was accepted")
	}
}

// TestListenerChoice: --apps narrows the combined listener, --addr ” turns it off, and a configuration
// without any listener is refused.
func TestListenerChoice(t *testing.T) {
	db := func() string { return filepath.Join(t.TempDir(), "a.db") }
	r := startServer(t, "--addr", "127.0.0.1:0", "--apps", "ereader,aries", "--not-found-app", "aries", "--admin-addr", "", "--db", db())
	base := "http://" + r.s.Addr()
	for path, want := range map[string]int{"/api/Account/ResetPassword": 405, "/API/Account/ForgotPassword": 405,
		"/api/user/RememberMessage": 404, "/api/Customer/PasswordChange": 404} {
		if code, _ := httpGet(t, base+path); code != want {
			t.Errorf("--apps ereader,aries: GET %s %d, want %d", path, code, want)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/2.0/authentication", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 404 {
		t.Errorf("r7office on a listener without it: %v %v", res, err)
	}
	if r.s.AdminAddr() != "" {
		t.Error("--admin-addr '' still listens")
	}

	only := startServer(t, "--addr", "", "--listen", "lcmanager=127.0.0.1:0", "--admin-addr", "", "--db", db())
	if only.s.Addr() != "" || len(only.s.listeners) != 1 || only.s.AppAddr("lcmanager") == "" {
		t.Fatalf("--addr '': listeners %d, combined %q", len(only.s.listeners), only.s.Addr())
	}
	for _, args := range [][]string{
		{"--addr", ""},
		{"--apps", "ereader,nosuch"},
		{"--tls-cert", "c.pem"},
		{"--trusted-proxy", "not-a-range"},
		{"--proxy-header", "X-Real-IP"},
		{"--listen", "lcmanager="},
	} {
		var cfg serveConfig
		if err := cfg.parse(args, io.Discard); err == nil {
			t.Errorf("serve %q accepted", args)
		}
	}
	var cfg serveConfig
	if err := cfg.parse([]string{"--apps", "ereader", "--db", db(), "--addr", "127.0.0.1:0", "--admin-addr", ""}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := openServer(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "--not-found-app") {
		t.Fatalf("--apps without the --not-found-app: %v", err)
	}
}

func writeTestCert(t *testing.T, certFile, keyFile, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

// TestServeTLS: the legacy listener speaks TLS only, answers the faces over it, turns plain HTTP away
// unanswered, and takes a new certificate on SIGHUP while open connections go on.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writeTestCert(t, certFile, keyFile, "first")
	r := startServer(t, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--db", filepath.Join(dir, "a.db"),
		"--tls-cert", certFile, "--tls-key", keyFile)
	addr := r.s.Addr()
	post := func(c *tls.Conn, br *bufio.Reader) (int, string) {
		t.Helper()
		body := `{"Phone":79990000001}`
		fmt.Fprintf(c, "POST /api/user/RememberMessage HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	old, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldBR := bufio.NewReader(old)
	if code, body := post(old, oldBR); code != 200 || !strings.Contains(body, sent) {
		t.Fatalf("over TLS: %d %s", code, body)
	}
	if old.ConnectionState().PeerCertificates[0].Subject.CommonName != "first" {
		t.Fatal("the first certificate is not served")
	}
	// Plain HTTP on the TLS listener: nothing comes back.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "POST /api/user/RememberMessage HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Fatalf("plain HTTP on the TLS listener got %q", b)
	}
	c.Close()

	writeTestCert(t, certFile, keyFile, "second")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var cn string
	for range 500 {
		n, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		cn = n.ConnectionState().PeerCertificates[0].Subject.CommonName
		n.Close()
		if cn == "second" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if cn != "second" {
		t.Fatalf("after SIGHUP the listener serves %q", cn)
	}
	if code, _ := post(old, oldBR); code != 200 {
		t.Fatalf("the connection opened before the reload: %d", code)
	}
	if !strings.Contains(r.logs(), `"msg":"tls certificate reloaded"`) {
		t.Error("the reload is not logged")
	}
}

// TestNoSecretLeftInTheFiles: while a message waits, its code and link are in the database files (the
// check can see them); once delivered and scrubbed, neither the database nor its WAL holds them, and the
// files are private to their owner.
func TestNoSecretLeftInTheFiles(t *testing.T) {
	mail := startSMTP(t)
	sms := startSMSGateway(t)
	e := mustServe(t, "--dispatch=false", "--limit-recipient-minute", "0", "--limit-recipient-hour", "0")
	id := e.addUser("ivan", "ivan@example.com", "79991234567")
	e.post("/api/user/RememberMessage", "application/json", `{"Phone":79991234567}`)
	e.post("/api/user/RememberMessage", "application/json", `{"Email":"ivan@example.com"}`)
	key := strings.TrimSpace(e.cli("apikey", "add", "--app", "aries", "--name", "partner"))
	e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"ivan","apiKey":"`+key+`"}`)
	var secrets []string
	var lastCode outboxLine // the newest code supersedes the one before
	for _, o := range e.outbox() {
		secrets = append(secrets, o.Secret)
		if o.Kind == "code" && o.ID > lastCode.ID {
			lastCode = o
		}
	}
	if len(secrets) != 3 {
		t.Fatalf("%d messages", len(secrets))
	}
	files := func() map[string][]byte {
		out := map[string][]byte{}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if b, err := os.ReadFile(e.db + suffix); err == nil {
				out[filepath.Base(e.db+suffix)] = b
			}
		}
		return out
	}
	held := 0
	for _, s := range secrets {
		for _, b := range files() {
			if bytes.Contains(b, []byte(s)) {
				held++
				break
			}
		}
	}
	if held != len(secrets) {
		t.Fatalf("only %d of %d waiting secrets found in the files: the check cannot see them", held, len(secrets))
	}

	var out, errOut bytes.Buffer
	if code := run([]string{"outbox", "send-once", "--db", e.db, "--smtp-url", "smtp://" + mail.Addr + "?tls=none",
		"--mail-from", "noreply@lc.example", "--sms-url", sms.URL}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("send-once: %d %s", code, errOut.String())
	}
	if out.String() != "sent 3, to retry 0, dead 0 (requeued after a crash: 0)\n" {
		t.Fatalf("send-once: %q", out.String())
	}
	// The delivered code still works: scrubbing erased the copy, not the code's MAC.
	if r := e.post("/api/Account/ResetPassword", "application/json",
		fmt.Sprintf(`{"UserId":%d,"Code":%q,"NewPassword":"Brand-new-pass-1"}`, id, lastCode.Secret)); !strings.Contains(r.body, "Password has been reset.") {
		t.Fatalf("reset with the delivered code: %+v", r)
	}
	for name, b := range files() {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s still holds a delivered secret", name)
			}
		}
	}
	for _, suffix := range []string{"", "-wal", "-shm", ".key"} {
		if fi, err := os.Stat(e.db + suffix); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", filepath.Base(e.db+suffix), fi.Mode().Perm())
		}
	}
	if !strings.Contains(errOut.String(), `"msg":"message sent"`) || !strings.HasPrefix(errOut.String(), `{"time":`) {
		t.Errorf("send-once does not log JSON lines: %s", errOut.String())
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out bytes.Buffer
		if code := run([]string{arg}, strings.NewReader(""), &out, io.Discard); code != exitOK {
			t.Fatalf("%s: exit %d", arg, code)
		}
		if !regexp.MustCompile(`^aspgate \S+ \S+ go1\.\S+\n$`).MatchString(out.String()) {
			t.Fatalf("%s printed %q", arg, out.String())
		}
	}
}

// openRaw opens the database file with a plain connection, to change what the server's methods do not.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// TestGitignoreCoversTheFiles: `make run` leaves the database, its WAL, the key, the dev inbox (codes in
// clear) and the dispatch lock in the working tree; none of them may be committed by `git add .`.
func TestGitignoreCoversTheFiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, strings.TrimPrefix(l, "/"))
		}
	}
	for _, name := range []string{defaultDBPath, defaultDBPath + "-wal", defaultDBPath + "-shm", defaultDBPath + keyFileSuffix,
		defaultDBPath + inboxSuffix, defaultDBPath + dispatchSuffix} {
		ignored := false
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, name); ok {
				ignored = true
			}
		}
		if !ignored {
			t.Errorf("%s is not ignored by .gitignore", name)
		}
	}
}

// TestNetHTTPAnswersOnTheLegacyListener: what Go's server refuses before any handler runs reaches the
// client as a bare status line, never Go's words.
func TestNetHTTPAnswersOnTheLegacyListener(t *testing.T) {
	e := mustServe(t)
	for request, want := range map[string]string{
		"POST /api/user/RememberMessage HTTP/1.1\r\nHost: a b\r\n\r\n":                                         "HTTP/1.1 400 Bad Request",
		"POST /api/user/RememberMessage HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 70<<10) + "\r\n\r\n": "HTTP/1.1 431 Request Header Fields Too Large",
	} {
		c, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, request)
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != want+"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" {
			t.Errorf("answer %q, want %q", got, want)
		}
	}
}
