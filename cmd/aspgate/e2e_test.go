package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"aspgate/internal/recording"
	"aspgate/xmlns"
)

// e2e runs `aspgate serve` in-process on port 0 with a fresh database and talks to it over real HTTP,
// reading the codes from the outbox with the CLI, as an operator's script would.
type e2e struct {
	t     *testing.T
	base  string
	aries string // the aries-only listener
	db    string
	key   string
	http  *http.Client
	logs  func() string // what the server logged so far
	srv   *server
}

func mustServe(t *testing.T, extra ...string) *e2e {
	t.Helper()
	if e2eOnPostgres {
		return mustServeDB(t, onPostgres(t), extra...)
	}
	return mustServeDB(t, filepath.Join(t.TempDir(), "aspgate.db"), extra...)
}

// mustServeDB runs the server in-process on the database file db until the test ends.
func mustServeDB(t *testing.T, db string, extra ...string) *e2e {
	t.Helper()
	r := startServer(t, append([]string{"--addr", "127.0.0.1:0", "--listen", "aries=127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--db", db, "--link-base-url", "https://reset.example/change"}, extra...)...)
	t.Cleanup(func() { // registered after startServer's, so it runs first: the server has stopped
		if err := r.stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
		for _, secret := range []string{"Brand-new-pass", "Old-password-1"} {
			if strings.Contains(r.logs(), secret) {
				t.Errorf("a secret reached the logs")
			}
		}
	})
	return &e2e{t: t, base: "http://" + r.s.Addr(), aries: "http://" + r.s.AppAddr("aries"), db: db,
		http: &http.Client{Timeout: 30 * time.Second}, logs: r.logs, srv: r.s}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// cli runs an aspgate command against the server's database.
func (e *e2e) cli(args ...string) string {
	e.t.Helper()
	var out, errOut bytes.Buffer
	if code := run(append(args, "--db", e.db), strings.NewReader(""), &out, &errOut); code != 0 {
		e.t.Fatalf("aspgate %v: exit %d: %s", args, code, errOut.String())
	}
	return out.String()
}

type outboxLine struct {
	ID      int64  `json:"id"`
	App     string `json:"app"`
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	To      string `json:"to"`
	Status  string `json:"status"`
	Code    string `json:"code"`
	Link    string `json:"link"`
	Text    string `json:"text"`
	Secret  string // the code, or the ChangeRequestId in the link
}

func (e *e2e) outbox() []outboxLine {
	e.t.Helper()
	var lines []outboxLine
	for _, l := range strings.Split(strings.TrimSpace(e.cli("outbox", "list", "--json")), "\n") {
		if l == "" {
			continue
		}
		var o outboxLine
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			e.t.Fatal(err)
		}
		o.Secret = o.Code
		if o.Link != "" {
			u, err := url.Parse(o.Link)
			if err != nil {
				e.t.Fatal(err)
			}
			o.Secret = u.Query().Get("id")
		}
		lines = append(lines, o)
	}
	return lines
}

func (e *e2e) lastSecret() string {
	e.t.Helper()
	o := e.outbox()
	if len(o) == 0 {
		e.t.Fatal("the outbox is empty")
	}
	return o[len(o)-1].Secret
}

type reply struct {
	status      int
	contentType string
	body        string
	setCookie   string
}

func (e *e2e) post(path, contentType, body string, header ...string) reply {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header.Get("Content-Type"), string(b), res.Header.Get("Set-Cookie")}
}

func (e *e2e) addUser(username, email, phone string) int64 {
	e.t.Helper()
	var u struct {
		ID  int64  `json:"id"`
		UID string `json:"uid"`
	}
	out := e.cli("user", "add", "--username", username, "--email", email, "--phone", phone, "--password", "Old-password-1",
		"--first-name", "Иван", "--last-name", "Petrov")
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		e.t.Fatalf("user add printed %q: %v", out, err)
	}
	return u.ID
}

const (
	ereaderNS = "http://schemas.datacontract.org/2004/07/CSAeReader.API.eReaderAPI.Models"
	lcNS      = "http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Request.UserRequest"
	ariesNS   = "http://schemas.datacontract.org/2004/07/ARIES.Alacrity.Services.Areas.Account.Models"
	custNS    = "http://schemas.datacontract.org/2004/07/BusinessLayer.Dto.Request"
)

func TestEndToEndCodeFlow(t *testing.T) {
	e := mustServe(t, "--limit-recipient-minute", "100", "--limit-recipient-hour", "100")
	id := e.addUser("ivan", "ivan@example.com", "79991234567")
	sendCode := map[string]func() reply{
		"json": func() reply {
			return e.post("/api/user/RememberMessage", "application/json", `{"Phone":79991234567,"SiteCode":"s"}`)
		},
		"xml": func() reply {
			return e.post("/api/user/RememberMessage", "application/xml", `<RememberMessageRequest xmlns="`+lcNS+`"><Email>IVAN@example.com</Email></RememberMessageRequest>`, "Accept", "application/xml")
		},
		"form": func() reply {
			return e.post("/api/user/RememberMessage", "application/x-www-form-urlencoded", "phone=79991234567&SourceUrl=x")
		},
	}
	reset := map[string]func(code, pw string) reply{
		"json": func(code, pw string) reply {
			return e.post("/api/Account/ResetPassword", "application/json", fmt.Sprintf(`{"UserId":%d,"Code":%q,"NewPassword":%q}`, id, code, pw))
		},
		"xml": func(code, pw string) reply {
			return e.post("/api/Account/ResetPassword", "text/xml", fmt.Sprintf(`<ResetPasswordBindingModel xmlns="%s"><Code>%s</Code><NewPassword>%s</NewPassword><UserId>%d</UserId></ResetPasswordBindingModel>`, ereaderNS, code, pw, id))
		},
		"form": func(code, pw string) reply {
			return e.post("/api/Account/ResetPassword", "application/x-www-form-urlencoded", url.Values{"UserId": {fmt.Sprint(id)}, "Code": {code}, "NewPassword": {pw}}.Encode())
		},
	}
	for _, format := range []string{"json", "xml", "form"} {
		r := sendCode[format]()
		if r.status != 200 || !regexp.MustCompile(`"?[0-9a-f]{32}`).MatchString(r.body) {
			t.Fatalf("%s RememberMessage: %+v", format, r)
		}
		code := e.lastSecret()
		pw := "Brand-new-pass-" + format
		r = reset[format](code, pw)
		if r.status != 200 || !strings.Contains(r.body, "Password has been reset.") {
			t.Fatalf("%s ResetPassword: %+v", format, r)
		}
		if r = reset[format](code, pw+"2"); r.status != 400 || !strings.Contains(r.body, "Invalid or expired code.") {
			t.Fatalf("%s replay: %+v", format, r)
		}
	}
}

func TestEndToEndSendLimit(t *testing.T) {
	e := mustServe(t)
	e.addUser("ivan", "ivan@example.com", "79991234567")
	if r := e.post("/api/user/RememberMessage", "application/json", `{"Phone":79991234567}`); !strings.Contains(r.body, `"ErrorCode":0`) {
		t.Fatalf("first code: %+v", r)
	}
	for _, body := range []string{`{"Phone":79991234567}`, `{"Phone":79990000000}`} {
		r := e.post("/api/user/RememberMessage", "application/json", body, "X-Forwarded-For", "203.0.113.5")
		if body == `{"Phone":79991234567}` && !strings.Contains(r.body, `"ErrorCode":2`) {
			t.Fatalf("second code within a minute: %+v", r)
		}
	}
	if n := len(e.outbox()); n != 1 {
		t.Fatalf("%d messages queued, want 1", n)
	}
}

func TestEndToEndConcurrentCodeUse(t *testing.T) {
	e := mustServe(t)
	id := e.addUser("olga", "olga@example.com", "79990000001")
	if r := e.post("/api/user/RememberMessage", "application/json", `{"Phone":79990000001}`); r.status != 200 {
		t.Fatal(r)
	}
	code := e.lastSecret()
	var wg sync.WaitGroup
	results := make([]reply, 16)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			pw := fmt.Sprintf("Racer-password-%02d", i)
			if i%2 == 0 {
				results[i] = e.post("/api/Account/ResetPassword", "application/json", fmt.Sprintf(`{"UserId":%d,"Code":%q,"NewPassword":%q}`, id, code, pw))
			} else {
				results[i] = e.post("/api/Account/ResetPassword", "application/xml", fmt.Sprintf(`<ResetPasswordBindingModel xmlns="%s"><Code>%s</Code><NewPassword>%s</NewPassword><UserId>%d</UserId></ResetPasswordBindingModel>`, ereaderNS, code, pw, id))
			}
		}(i)
	}
	wg.Wait()
	winners := 0
	for _, r := range results {
		switch r.status {
		case 200:
			winners++
		case 400:
		default:
			t.Errorf("unexpected answer %+v", r)
		}
	}
	if winners != 1 {
		t.Fatalf("%d requests won, want exactly 1", winners)
	}
}

func TestEndToEndLinkFlow(t *testing.T) {
	e := mustServe(t)
	e.addUser("petr", "petr@example.com", "79990000002")
	key := strings.TrimSpace(e.cli("apikey", "add", "--app", "aries", "--name", "partner"))
	r := e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"petr","apiKey":"`+key+`"}`)
	if r.status != 200 || r.body != `{"status":1,"errors":[]}` {
		t.Fatalf("ForgotPassword: %+v", r)
	}
	msg := e.outbox()[0]
	if msg.Channel != "email" || msg.To != "petr@example.com" || msg.Kind != "change-link" ||
		msg.Link != "https://reset.example/change?id="+url.QueryEscape(msg.Secret) || len(msg.Secret) < 40 {
		t.Fatalf("link message %+v", msg)
	}
	change := func(ct, body string) reply {
		return e.post("/api/Customer/PasswordChange", ct, body, "Accept", "application/json")
	}
	xmlBody := func(id, pw string) string {
		return `<PasswordChangeRequest xmlns="` + custNS + `"><ChangeRequestId>` + id + `</ChangeRequestId><IPAddress>10.1.1.1</IPAddress><Password>` + pw + `</Password><UserAgent>UA</UserAgent></PasswordChangeRequest>`
	}
	if r := change("application/xml", xmlBody(msg.Secret, "Old-password-1")); !strings.Contains(r.body, `"Code":9000`) {
		t.Fatalf("current password must be refused: %+v", r)
	}
	if r := change("application/xml", xmlBody(msg.Secret, "Brand-new-pass-1")); !strings.Contains(r.body, `"Code":9001`) || !strings.Contains(r.body, `"Success":true`) || !strings.Contains(r.body, `"FirstName":"Иван"`) {
		t.Fatalf("change: %+v", r)
	}
	if r := change("application/json", `{"ChangeRequestId":"`+msg.Secret+`","Password":"Brand-new-pass-2"}`); !strings.Contains(r.body, `"Code":9002`) {
		t.Fatalf("replay must be ChangeRequestNotFound: %+v", r)
	}
	// Unknown users and unknown keys.
	if same := e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"nobody","apiKey":"`+key+`"}`); same.body != `{"status":1,"errors":[]}` {
		t.Fatalf("unknown user: %+v", same)
	}
	if r := e.post("/API/Account/ForgotPassword", "application/xml", `<ForgotPasswordRequestViewModel xmlns="`+ariesNS+`"><ApiKey>wrong</ApiKey><UserName>petr</UserName></ForgotPasswordRequestViewModel>`, "Accept", "application/xml"); !strings.Contains(r.body, "<Status>InvalidApiKey</Status>") {
		t.Fatalf("wrong key: %+v", r)
	}
	e.cli("apikey", "revoke", "--app", "aries", "--name", "partner")
	if r := e.post("/API/Account/ForgotPassword", "application/x-www-form-urlencoded", "userName=petr&x=1"); r.status != 400 {
		t.Fatalf("aries form bodies fail in Web API: %+v", r)
	}
	if r := e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"petr","apiKey":"`+key+`"}`); !strings.Contains(r.body, `"status":4`) {
		t.Fatalf("revoked key: %+v", r)
	}
}

func TestEndToEndUnknownAccountsLookTheSame(t *testing.T) {
	e := mustServe(t)
	id := e.addUser("anna", "anna@example.com", "79990000003")
	sid := regexp.MustCompile(`[0-9a-f]{32}`)
	known := e.post("/api/user/RememberMessage", "application/json", `{"Phone":79990000003}`)
	unknown := e.post("/api/user/RememberMessage", "application/json", `{"Phone":79990000009}`)
	if sid.ReplaceAllString(known.body, "S") != sid.ReplaceAllString(unknown.body, "S") || known.status != unknown.status || known.contentType != unknown.contentType {
		t.Fatalf("known %+v, unknown %+v", known, unknown)
	}
	wrong := e.post("/api/Account/ResetPassword", "application/json", fmt.Sprintf(`{"UserId":%d,"Code":"000000","NewPassword":"Brand-new-pass-1"}`, id))
	nobody := e.post("/api/Account/ResetPassword", "application/json", `{"UserId":999999,"Code":"000000","NewPassword":"Brand-new-pass-1"}`)
	if wrong != nobody {
		t.Fatalf("wrong code %+v, unknown user %+v", wrong, nobody)
	}
	a := e.post("/api/Customer/PasswordChange", "application/json", `{"ChangeRequestId":"x","Password":"Brand-new-pass-1"}`)
	b := e.post("/api/Customer/PasswordChange", "application/json", `{"ChangeRequestId":"' OR '1'='1","Password":"Brand-new-pass-1"}`)
	if a != b {
		t.Fatalf("%+v vs %+v", a, b)
	}
}

// TestEndToEndRecordings replays the oracle's recorded exchanges against the real server: error answers
// that do not depend on the stub actions byte for byte, and successful ones with the same status class,
// Content-Type and member/element shape.
func TestEndToEndRecordings(t *testing.T) {
	e := mustServe(t, "--limit-recipient-minute", "1000", "--limit-recipient-hour", "1000", "--limit-client-hour", "100000")
	recs, err := recording.ReadAll(filepath.Join("..", "..", "testdata", "golden", "requests"))
	if err != nil {
		t.Fatal(err)
	}
	exact, shaped := 0, 0
	for _, rec := range recs {
		app, method, path := rec.App, rec.Method, rec.Target
		if method == http.MethodHead || app == "r7office" && rec.Status == http.StatusCreated {
			continue // r7office successes need the stub's user "u@x" with password "p": the handler tests replay them
		}
		base := e.base
		if app == "aries" {
			base = e.aries // each legacy app had its own host, and its own 404 body
		}
		req, _ := http.NewRequest(method, base+path, nil)
		req.Host = "localhost" // the recordings quote http://localhost in their 404 messages
		req.Header = rec.RequestHeader()
		reqBody := rec.Body
		if bytes.Contains(reqBody, []byte("!throw")) {
			continue // the stub action threw on purpose; the real action has nothing to throw for
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		req.ContentLength = int64(len(reqBody))
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want, wantCT, name := rec.RespBody, rec.ResponseHeader().Get("Content-Type"), rec.Name
		if res.Header.Get("Content-Type") != wantCT {
			t.Errorf("%s: Content-Type %q, want %q", name, res.Header.Get("Content-Type"), wantCT)
			continue
		}
		status := rec.StatusLine
		stubDependent := app != "r7office" && (strings.Contains(status, " 200 ") || strings.Contains(status, " 500 "))
		if !stubDependent {
			if line := "HTTP/1.1 " + res.Status; line != status {
				t.Errorf("%s: %s, want %s", name, line, status)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: body\n got %s\nwant %s", name, got, want)
			}
			exact++
			continue
		}
		if shape(t, wantCT, got) != shape(t, wantCT, want) {
			t.Errorf("%s: shape\n got %s\nwant %s", name, shape(t, wantCT, got), shape(t, wantCT, want))
		}
		shaped++
	}
	if exact < 40 || shaped < 30 {
		t.Errorf("replayed %d exact and %d shaped recordings", exact, shaped)
	}
}

// shape lists the top-level member names (JSON) or the root and its child elements (XML) of a body:
// deeper levels depend on values (an Errors object or null), which the stubs and the real flows differ in.
func shape(t *testing.T, contentType string, body []byte) string {
	t.Helper()
	if strings.Contains(contentType, "utf-16") {
		body = fromUTF16(body)
	}
	var names []string
	if strings.Contains(contentType, "json") {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return "invalid JSON: " + err.Error()
		}
		var walk func(prefix string, v any)
		walk = func(prefix string, v any) {
			switch x := v.(type) {
			case map[string]any:
				keys := make([]string, 0, len(x))
				for k := range x {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					names = append(names, prefix+k)
				}
			}
		}
		walk("", v)
		return strings.Join(names, " ")
	}
	root, err := xmlns.Parse(body, xmlns.ParseOptions{})
	if err != nil {
		return "invalid XML: " + err.Error()
	}
	var walk func(prefix string, n *xmlns.Node)
	walk = func(prefix string, n *xmlns.Node) {
		names = append(names, prefix+n.Local)
		for _, c := range n.Children {
			names = append(names, n.Local+"/"+c.Local)
		}
	}
	walk("", root)
	return strings.Join(names, " ")
}

func fromUTF16(b []byte) []byte {
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE {
		b = b[2:]
	}
	var out []rune
	for i := 0; i+1 < len(b); i += 2 {
		out = append(out, rune(b[i])|rune(b[i+1])<<8)
	}
	return []byte(string(out))
}
