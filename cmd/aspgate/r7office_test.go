package main

// End to end through the r7office face: TOTP enrolment with the CLI, codes computed by an independent
// RFC 6238 implementation, the SMS path through setphone and the outbox, tokens checked by introspection
// and the CLI, revoked by the CLI and by a password reset through another face.

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// totpAt is RFC 6238 (HMAC-SHA1, 6 digits, 30 s) written from the RFC, not from the library the server uses.
func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

const (
	introspectSecret = "introspection-secret-for-tests"
	r7AuthFailed     = `{"status":1,"statusCode":500,"error":{"message":"User authentication failed","hresult":-2146233087,"data":{}}}`
)

var tokenInBody = regexp.MustCompile(`"token":"([A-Za-z0-9_-]{43})"`)

func (e *e2e) introspect(token string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+"/connect/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("downstream", introspectSecret)
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		e.t.Fatalf("introspect: %d %v", res.StatusCode, err)
	}
	return out
}

func TestEndToEndR7OfficeTOTP(t *testing.T) {
	e := mustServe(t, "--introspect-secret", introspectSecret, "--tenant-utc-offset", "+03:00")
	e.addUser("ivan", "ivan@example.com", "79991234567")
	qr := filepath.Join(t.TempDir(), "qr.png")
	out := e.cli("totp", "enroll", "--user", "IVAN@example.com", "--qr", qr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "otpauth://totp/R7-Office:") || !strings.HasPrefix(lines[1], "secret: ") {
		t.Fatalf("enroll printed %q", out)
	}
	secret := strings.TrimPrefix(lines[1], "secret: ")
	if u, err := url.Parse(lines[0]); err != nil || u.Query().Get("secret") != secret {
		t.Fatalf("uri %q: %v", lines[0], err)
	}
	if png, err := os.ReadFile(qr); err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("qr: %v", err)
	}

	login := `{"userName":"ivan","password":"Old-password-1"}`
	if r := e.post("/api/2.0/authentication", "application/json", login); r.status != 201 ||
		r.body != `{"count":1,"status":0,"statusCode":201,"response":{"token":null,"tfa":true}}` {
		t.Fatalf("authenticate: %+v", r)
	}
	now := time.Now()
	code := totpAt(t, secret, now)
	r := e.post("/api/2.0/authentication/"+code, "application/json", login)
	m := tokenInBody.FindStringSubmatch(r.body)
	if r.status != 201 || m == nil || !strings.Contains(r.body, `"tfa":true`) || !regexp.MustCompile(`"expires":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+03:00"`).MatchString(r.body) {
		t.Fatalf("code: %+v", r)
	}
	token := m[1]
	// The same code again: refused, as is the previous step's code now that a later one was used.
	if r := e.post("/api/2.0/authentication/"+code, "application/json", login); r.status != 500 || r.body != r7AuthFailed {
		t.Fatalf("replayed code: %+v", r)
	}
	if r := e.post("/api/2.0/authentication/"+totpAt(t, secret, now.Add(-30*time.Second)), "application/json", login); r.body != r7AuthFailed {
		t.Fatalf("earlier step after a later one: %+v", r)
	}

	got := e.introspect(token)
	if got["active"] != true || got["token_type"] != "Bearer" || got["sub"] == "" || got["exp"].(float64) < float64(now.Add(29*24*time.Hour).Unix()) {
		t.Fatalf("introspection %v", got)
	}
	var cli map[string]any
	if err := json.Unmarshal([]byte(e.cli("token", "check", token)), &cli); err != nil || fmt.Sprint(cli) != fmt.Sprint(got) {
		t.Fatalf("token check %v, introspection %v (%v)", cli, got, err)
	}
	if out := e.cli("token", "revoke", token); out != "revoked\n" {
		t.Fatalf("revoke printed %q", out)
	}
	if got := e.introspect(token); len(got) != 1 || got["active"] != false {
		t.Fatalf("after revoke: %v", got)
	}
	if out := e.cli("token", "check", token); out != `{"active":false}`+"\n" {
		t.Fatalf("token check after revoke: %q", out)
	}

	// Unknown user and wrong password are byte-identical.
	for _, body := range []string{`{"userName":"nobody","password":"Old-password-1"}`, `{"userName":"ivan","password":"wrong"}`,
		`{"userName":"ivan","password":"Old-password-1","provider":"google","accessToken":"x"}`} {
		if r := e.post("/api/2.0/authentication/"+totpAt(t, secret, time.Now()), "application/json", body); r.status != 500 || r.body != r7AuthFailed {
			t.Errorf("%s: %+v", body, r)
		}
	}

	// Introspection wants the client secret.
	for _, auth := range []string{"", "Bearer wrong-secret", "Basic " + "ZG93bnN0cmVhbTp3cm9uZw=="} {
		req, _ := http.NewRequest(http.MethodPost, e.base+"/connect/introspect", strings.NewReader("token="+token))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Errorf("introspection with %q: %d", auth, res.StatusCode)
		}
	}

	for _, secret := range []string{code, token, secret, introspectSecret} {
		if strings.Contains(e.logs(), secret) {
			t.Errorf("%q reached the logs", secret)
		}
	}

	if out := e.cli("totp", "disable", "--user", "ivan"); out != "disabled\n" {
		t.Fatalf("disable printed %q", out)
	}
	r = e.post("/api/2.0/authentication", "application/json", login)
	if r.status != 201 || tokenInBody.FindStringSubmatch(r.body) == nil {
		t.Fatalf("sign-in without a second factor: %+v", r)
	}
}

func TestEndToEndR7OfficeSMS(t *testing.T) {
	e := mustServe(t, "--introspect-secret", introspectSecret, "--limit-recipient-minute", "100", "--limit-recipient-hour", "100")
	id := e.addUser("olga", "olga@example.com", "79990000001")
	form := url.Values{"userName": {"olga@example.com"}, "password": {"Old-password-1"}, "mobilePhone": {"+7 (999) 000-11-22"}}.Encode()
	r := e.post("/api/2.0/authentication/setphone", "application/x-www-form-urlencoded", form)
	if r.status != 201 || !regexp.MustCompile(`^\{"count":1,"status":0,"statusCode":201,"response":\{"token":null,"expires":"[^"]+Z","sms":true,"phoneNoise":"\+7999\*\*\*1122"\}\}$`).MatchString(r.body) {
		t.Fatalf("setphone: %+v", r)
	}
	msg := e.outbox()[0]
	if msg.Kind != "login-code" || msg.To != "79990001122" || len(msg.Secret) != 6 {
		t.Fatalf("outbox %+v", msg)
	}
	login := url.Values{"userName": {"olga"}, "password": {"Old-password-1"}}.Encode()
	// A wrong code, then the right one in XML.
	if r := e.post("/api/2.0/authentication/000000.xml", "application/x-www-form-urlencoded", login); r.status != 500 ||
		r.contentType != "text/xml; charset=UTF-8" ||
		r.body != `<result><status>1</status><statusCode>500</statusCode><error><message>User authentication failed</message><hresult>-2146233087</hresult><data /></error></result>` {
		t.Fatalf("wrong code: %+v", r)
	}
	r = e.post("/api/2.0/authentication/"+msg.Secret+".xml", "application/x-www-form-urlencoded", login)
	m := regexp.MustCompile(`^<result><count>1</count><status>0</status><statusCode>201</statusCode><response><token>([A-Za-z0-9_-]{43})</token><expires>[^<]+</expires><sms>true</sms><phoneNoise>\+7999\*\*\*1122</phoneNoise></response></result>$`).FindStringSubmatch(r.body)
	if r.status != 201 || m == nil {
		t.Fatalf("code: %+v", r)
	}
	token := m[1]
	if got := e.introspect(token); got["active"] != true {
		t.Fatalf("introspection %v", got)
	}
	// The phone is confirmed: the next sign-in sends a code to it.
	if r := e.post("/api/2.0/authentication", "application/x-www-form-urlencoded", login); r.status != 201 || !strings.Contains(r.body, `"sms":true`) {
		t.Fatalf("sign-in with a confirmed phone: %+v", r)
	}

	// A password reset through another face (lcmanager code, ereader reset) revokes the token.
	if r := e.post("/api/user/RememberMessage", "application/json", `{"Email":"olga@example.com"}`); r.status != 200 {
		t.Fatal(r)
	}
	var resetCode string
	for _, o := range e.outbox() {
		if o.Kind == "code" {
			resetCode = o.Secret
		}
	}
	if r := e.post("/api/Account/ResetPassword", "application/json",
		fmt.Sprintf(`{"UserId":%d,"Code":%q,"NewPassword":"Brand-new-pass-9"}`, id, resetCode)); !strings.Contains(r.body, "Password has been reset.") {
		t.Fatalf("reset: %+v", r)
	}
	if got := e.introspect(token); got["active"] != false {
		t.Fatalf("token still active after a password reset: %v", got)
	}
	for _, secret := range []string{msg.Secret, token, resetCode} {
		if strings.Contains(e.logs(), secret) {
			t.Errorf("%q reached the logs", secret)
		}
	}
}

func TestEndToEndR7OfficeLock(t *testing.T) {
	e := mustServe(t)
	e.addUser("petr", "petr@example.com", "79990000002")
	out := e.cli("totp", "enroll", "--user", "petr")
	secret := strings.TrimPrefix(strings.Split(strings.TrimSpace(out), "\n")[1], "secret: ")
	login := `{"userName":"petr","password":"Old-password-1"}`
	for i := range 5 {
		if r := e.post("/api/2.0/authentication/00000"+fmt.Sprint(i), "application/json", login); r.body != r7AuthFailed {
			t.Fatalf("wrong code %d: %+v", i, r)
		}
	}
	if r := e.post("/api/2.0/authentication/"+totpAt(t, secret, time.Now()), "application/json", login); r.status != 500 || r.body != r7AuthFailed {
		t.Fatalf("the right code while locked: %+v", r)
	}
}

// An r7office-only listener (its own legacy host) answers the r7office face and nothing of the others.
func TestR7OfficeListener(t *testing.T) {
	e := mustServe(t, "--listen", "r7office=127.0.0.1:0")
	e.addUser("ivan", "ivan@example.com", "79991234567")
	r7 := &e2e{t: t, base: "http://" + e.srv.AppAddr("r7office"), db: e.db, http: e.http}
	if r := r7.post("/api/2.0/authentication", "application/json", `{"userName":"ivan","password":"Old-password-1"}`); r.status != 201 ||
		tokenInBody.FindStringSubmatch(r.body) == nil {
		t.Fatalf("sign-in on the r7office listener: %+v", r)
	}
	if r := r7.post("/api/user/RememberMessage", "application/json", `{"Phone":79991234567}`); r.status != 404 {
		t.Fatalf("lcmanager on the r7office listener: %+v", r)
	}
}

// A flood of wrong passwords: ONLYOFFICE's rule lets five failures through per login and address, then
// blocks the login there for a minute, before any hashing, with its own message.
func TestR7OfficeWrongPasswordFlood(t *testing.T) {
	e := mustServe(t, "--hash-concurrency", "2")
	e.addUser("ivan", "ivan@example.com", "79991234567")
	const n = 60
	replies := make(chan reply, n)
	for i := range n {
		go func() {
			path := "/api/2.0/authentication"
			if i%2 == 0 {
				path += "/setphone"
			}
			replies <- e.post(path, "application/json", `{"userName":"ivan","password":"Wrong-password-1","mobilePhone":"79990000000"}`)
		}()
	}
	failed, blocked := 0, 0
	for range n {
		switch r := <-replies; {
		case r.status == 500 && r.body == r7AuthFailed:
			failed++
		case r.status == 500 && r.body == r7Blocked:
			blocked++
		default:
			t.Errorf("%+v", r)
		}
	}
	if failed != 5 || blocked != n-5 {
		t.Errorf("%d failures and %d blocks, want 5 and %d", failed, blocked, n-5)
	}
	// Blocked, even the right password fails from this address, without a hash; the e-mail is a login of
	// its own, and another address is not blocked.
	if r := e.post("/api/2.0/authentication", "application/json", `{"userName":"ivan","password":"Old-password-1"}`); r.body != r7Blocked {
		t.Fatalf("right password during the block: %+v", r)
	}
	if r := e.post("/api/2.0/authentication", "application/json", `{"userName":"ivan@example.com","password":"Old-password-1"}`); r.status != 201 {
		t.Fatalf("the e-mail during the block: %+v", r)
	}
	if refused := strings.Count(e.logs(), "too many failed attempts for this login from this address"); refused != n-5+1 {
		t.Errorf("%d requests refused by the rule, want %d", refused, n-5+1)
	}
}

const r7Blocked = `{"status":1,"statusCode":500,"error":{"message":"Login Fail. Too many attempts","hresult":-2146233087,"data":{}}}`

// Successes never count: 30 correct sign-ins in a row from one address all get a token (ONLYOFFICE's
// BruteForceLoginManager.Decrement), as does an office of users behind one address.
func TestR7OfficeRepeatedSuccesses(t *testing.T) {
	e := mustServe(t)
	e.addUser("ivan", "ivan@example.com", "79991234567")
	e.addUser("olga", "olga@example.com", "79991234568")
	for i := range 30 {
		user := "ivan"
		if i%2 == 1 {
			user = "olga@example.com"
		}
		if r := e.post("/api/2.0/authentication.json", "application/json", `{"userName":"`+user+`","password":"Old-password-1"}`); r.status != 201 ||
			tokenInBody.FindStringSubmatch(r.body) == nil {
			t.Fatalf("sign-in %d: %+v", i+1, r)
		}
	}
}

// TestEndToEndR7OfficeSendSMS is the mobile client's "resend code" (POST authentication/sendsms.json):
// each resend is a new SMS within the send limits, none counts as a wrong code, so the newest code still
// works after five resends; over the limit ONLYOFFICE's own message answers.
func TestEndToEndR7OfficeSendSMS(t *testing.T) {
	e := mustServe(t, "--limit-recipient-minute", "100", "--limit-recipient-hour", "7")
	e.addUser("olga", "olga@example.com", "79990000001")
	setphone := url.Values{"userName": {"olga@example.com"}, "password": {"Old-password-1"}, "mobilePhone": {"+7 (999) 555-66-77"}}.Encode()
	if r := e.post("/api/2.0/authentication/setphone.json", "application/x-www-form-urlencoded", setphone); r.status != 201 {
		t.Fatalf("setphone: %+v", r)
	}
	login := `{"userName":"olga@example.com","password":"Old-password-1"}`
	// While setting the phone up, sendsms resends to it.
	if r := e.post("/api/2.0/authentication/sendsms.json", "application/json", login); r.status != 201 ||
		!regexp.MustCompile(`^\{"count":1,"status":0,"statusCode":201,"response":\{"token":null,"expires":"[^"]+","sms":true,"phoneNoise":"\+7999\*\*\*6677"\}\}$`).MatchString(r.body) {
		t.Fatalf("sendsms during setphone: %+v", r)
	}
	box := e.outbox()
	if len(box) != 2 || box[1].To != "79995556677" || box[1].Secret == box[0].Secret {
		t.Fatalf("outbox %+v", box)
	}
	r := e.post("/api/2.0/authentication/"+box[1].Secret+".json", "application/json", login)
	if r.status != 201 || tokenInBody.FindStringSubmatch(r.body) == nil {
		t.Fatalf("confirm with the resent code: %+v", r)
	}
	// The token is also ONLYOFFICE's auth cookie.
	tok := tokenInBody.FindStringSubmatch(r.body)[1]
	if !regexp.MustCompile(`^asc_auth_key=` + tok + `; path=/; expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT; HttpOnly$`).MatchString(r.setCookie) {
		t.Fatalf("cookie %q", r.setCookie)
	}
	// Now with the confirmed phone: sign-in sends a code, five resends send five more.
	if r := e.post("/api/2.0/authentication.json", "application/json", login); r.status != 201 || !strings.Contains(r.body, `"sms":true`) {
		t.Fatalf("sign-in: %+v", r)
	}
	for i := range 4 {
		if r := e.post("/api/2.0/authentication/sendsms.json", "application/json", login); r.status != 201 || !strings.Contains(r.body, `"phoneNoise":"+7999***6677"`) {
			t.Fatalf("resend %d: %+v", i+1, r)
		}
	}
	// The recipient's hour (7 sends) is spent: ONLYOFFICE's SmsTooMuchError, in Russian.
	if r := e.post("/api/2.0/authentication/sendsms.json", "application/json", login); r.status != 500 ||
		r.body != `{"status":1,"statusCode":500,"error":{"message":"Вы отправили слишком много текстовых сообщений. Пожалуйста, повторите попытку позже.","hresult":-2146233088,"data":{}}}` {
		t.Fatalf("over the limit: %+v", r)
	}
	box = e.outbox()
	if len(box) != 7 {
		t.Fatalf("%d messages, want 7", len(box))
	}
	// The newest code works: the resends locked nothing.
	if r := e.post("/api/2.0/authentication/"+box[6].Secret, "application/json", login); r.status != 201 || tokenInBody.FindStringSubmatch(r.body) == nil {
		t.Fatalf("the newest code after five resends: %+v", r)
	}
	// login and register are methods of their own, never codes.
	if r := e.post("/api/2.0/authentication/login", "application/json", login); r.status != 400 || !strings.Contains(r.body, `Parameter name: key`) {
		t.Fatalf("login: %+v", r)
	}
	if r := e.post("/api/2.0/authentication/register.json", "application/json", `{"email":"a@example.com"}`); r.status != 500 ||
		!strings.Contains(r.body, "personal.onlyoffice.com") {
		t.Fatalf("register: %+v", r)
	}
	for _, secret := range []string{box[6].Secret, tok} {
		if strings.Contains(e.logs(), secret) {
			t.Errorf("%q reached the logs", secret)
		}
	}
}

// TestEndToEndR7OfficeAnswers: the rest of ONLYOFFICE's answers through the real server: setphone's
// messages, sendsms for an authenticator user, unreadable bodies, sign-in by GUID, multipart, OPTIONS.
func TestEndToEndR7OfficeAnswers(t *testing.T) {
	e := mustServe(t, "--r7office-culture", "en")
	e.addUser("ivan", "ivan@example.com", "79991234567")
	var u struct {
		UID string `json:"uid"`
	}
	if err := json.Unmarshal([]byte(e.cli("user", "add", "--username", "petr", "--email", "petr@example.com", "--password", "Old-password-1")), &u); err != nil {
		t.Fatal(err)
	}
	e.cli("totp", "enroll", "--user", "petr")
	cases := []struct {
		name, path, ct, body string
		status               int
		want                 string // exact body, or a fragment when it starts with "~"
	}{
		{"setphone without digits", "/api/2.0/authentication/setphone", "application/json",
			`{"userName":"ivan@example.com","password":"Old-password-1","mobilePhone":"none"}`, 500,
			`{"status":1,"statusCode":500,"error":{"message":"Enter mobile phone number","hresult":-2146233088,"data":{}}}`},
		{"sendsms without sms 2FA", "/api/2.0/authentication/sendsms", "application/json",
			`{"userName":"petr@example.com","password":"Old-password-1"}`, 500,
			`{"status":1,"statusCode":500,"error":{"message":"Attempt to access the method failed.","hresult":-2146233072,"data":{}}}`},
		{"setphone for an authenticator user: answered, nothing sent", "/api/2.0/authentication/setphone", "application/json",
			`{"userName":"petr@example.com","password":"Old-password-1","mobilePhone":"79990001111"}`, 201,
			`~"sms":true,"phoneNoise":"+7999***1111"`},
		{"malformed JSON", "/api/2.0/authentication", "application/json", `{"userName":"ivan","password":}`, 400,
			`{"status":1,"statusCode":400,"error":{"message":"Unexpected character encountered while parsing value: }. Path 'password', line 1, position 30.","hresult":-2146233088,"data":{}}}`},
		{"empty text/xml", "/api/2.0/authentication", "text/xml", ``, 500,
			`{"status":1,"statusCode":500,"error":{"message":"Root element is missing.","hresult":-2146232000,"data":{}}}`},
		{"truncated JSON signs in", "/api/2.0/authentication", "application/json", `{"userName":"ivan","password":"Old-password-1"`, 201, `~"token":"`},
		{"sign-in by GUID", "/api/2.0/authentication", "application/json", `{"userName":"` + u.UID + `","password":"Old-password-1"}`, 201, `~"tfa":true`},
		{"multipart", "/api/2.0/authentication", "multipart/form-data; boundary=b1",
			"--b1\r\nContent-Disposition: form-data; name=\"userName\"\r\n\r\nivan\r\n--b1\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nOld-password-1\r\n--b1--\r\n",
			201, `~"token":"`},
		{"a form under text/plain binds nothing", "/api/2.0/authentication", "text/plain", "userName=ivan&password=Old-password-1", 500, r7AuthFailed},
	}
	for _, c := range cases {
		r := e.post(c.path, c.ct, c.body)
		ok := r.status == c.status && (r.body == c.want || strings.HasPrefix(c.want, "~") && strings.Contains(r.body, c.want[1:]))
		if !ok {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
	if n := len(e.outbox()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
	req, _ := http.NewRequest(http.MethodOptions, e.base+"/api/2.0/authentication", nil)
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Methods") != "GET, POST, PUT, DELETE" || res.Header.Get("Access-Control-Max-Age") != "1728000" {
		t.Errorf("OPTIONS: %d %v", res.StatusCode, res.Header)
	}
}
