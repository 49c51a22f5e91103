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

// A flood of wrong passwords: hashing is bounded by the semaphore, every request gets the legacy failure,
// and the per-address sign-in limit cuts the flood off before hashing.
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
	for range n {
		if r := <-replies; r.status != 500 || r.body != r7AuthFailed {
			t.Errorf("%+v", r)
		}
	}
	// Over the limit even the right password fails from this address, without a hash.
	if r := e.post("/api/2.0/authentication", "application/json", `{"userName":"ivan","password":"Old-password-1"}`); r.body != r7AuthFailed {
		t.Fatalf("right password after the flood: %+v", r)
	}
	// 20 attempts per account and address in 15 minutes (the default): the other 40 and the last one
	// never reached the hasher.
	if refused := strings.Count(e.logs(), "too many attempts from this address"); refused != n-20+1 {
		t.Errorf("%d requests refused by the limit, want %d", refused, n-20+1)
	}
}
