package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// work is what a request cost, counted by the server's own metrics: database transactions by kind and
// password hashes (each hash or verification takes a hashing slot once).
type work struct{ reads, writes, hashes int }

var workRE = regexp.MustCompile(`(?m)^(aspgate_db_transaction_seconds_count\{kind="(read|write)"\}|aspgate_hash_wait_seconds_count) (\d+)$`)

func (e *e2e) work() work {
	e.t.Helper()
	_, body := httpGet(e.t, "http://"+e.srv.AdminAddr()+"/metrics")
	var w work
	for _, m := range workRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[3])
		switch m[2] {
		case "read":
			w.reads = n
		case "write":
			w.writes = n
		default:
			w.hashes = n
		}
	}
	return w
}

// cost sends one request and returns the work it caused.
func (e *e2e) cost(send func() reply) (work, reply) {
	e.t.Helper()
	before := e.work()
	r := send()
	after := e.work()
	return work{after.reads - before.reads, after.writes - before.writes, after.hashes - before.hashes}, r
}

// TestConstantWork: on every face a known and an unknown account cost the same database reads and
// writes and the same password hashing, and get the same answer (the timing measurement that goes with
// it is `make bench-timing`, in BENCHMARKS.md). Counted work, not time, so it holds on any machine.
func TestConstantWork(t *testing.T) {
	e := mustServe(t, "--dispatch=false", "--limit-recipient-minute", "0", "--limit-recipient-hour", "0",
		"--limit-client-hour", "0", "--signin-attempts", "0", "--limit-signin-client", "0")
	id := e.addUser("ivan", "ivan@example.com", "79991234567")
	e.addUser("olga", "olga@example.com", "79997654321")
	noCode := e.addUser("petr", "petr@example.com", "79990000002")
	key := strings.TrimSpace(e.cli("apikey", "add", "--app", "aries", "--name", "partner"))
	used := func() string {
		e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"olga","apiKey":"`+key+`"}`)
		secret := e.lastSecret()
		e.post("/api/Customer/PasswordChange", "application/json", `{"ChangeRequestId":"`+secret+`","Password":"Brand-new-pass-1"}`)
		return secret
	}()
	e.post("/api/user/RememberMessage", "application/json", `{"Phone":79991234567}`) // ivan has a live code
	json := func(path, body string) func() reply {
		return func() reply { return e.post(path, "application/json", body) }
	}
	form := func(path, body string) func() reply {
		return func() reply { return e.post(path, "application/x-www-form-urlencoded", body) }
	}
	sid := regexp.MustCompile(`"SessionId":"[0-9a-f]{32}"`)
	for _, tc := range []struct {
		face           string
		known, unknown func() reply
	}{
		{"lcmanager phone", json("/api/user/RememberMessage", `{"Phone":79997654321}`), json("/api/user/RememberMessage", `{"Phone":79990009999}`)},
		{"lcmanager e-mail", json("/api/user/RememberMessage", `{"Email":"olga@example.com"}`), json("/api/user/RememberMessage", `{"Email":"nobody@example.com"}`)},
		{"ereader wrong code", json("/api/Account/ResetPassword", fmt.Sprintf(`{"UserId":%d,"Code":"000000","NewPassword":"Brand-new-pass-2"}`, id)),
			json("/api/Account/ResetPassword", `{"UserId":999999,"Code":"000000","NewPassword":"Brand-new-pass-2"}`)},
		{"ereader without a live code", json("/api/Account/ResetPassword", fmt.Sprintf(`{"UserId":%d,"Code":"000000","NewPassword":"Brand-new-pass-2"}`, noCode)),
			json("/api/Account/ResetPassword", `{"UserId":999998,"Code":"000000","NewPassword":"Brand-new-pass-2"}`)},
		{"aries user name", json("/API/Account/ForgotPassword", `{"userName":"ivan","apiKey":"`+key+`"}`),
			json("/API/Account/ForgotPassword", `{"userName":"nobody","apiKey":"`+key+`"}`)},
		{"aries e-mail", json("/API/Account/ForgotPassword", `{"email":"ivan@example.com","apiKey":"`+key+`"}`),
			json("/API/Account/ForgotPassword", `{"email":"nobody@example.com","apiKey":"`+key+`"}`)},
		{"customer used request", json("/api/Customer/PasswordChange", `{"ChangeRequestId":"`+used+`","Password":"Brand-new-pass-3"}`),
			json("/api/Customer/PasswordChange", `{"ChangeRequestId":"never-issued-0123456789abcdef0123456789abcdef","Password":"Brand-new-pass-3"}`)},
		{"r7office name", form("/api/2.0/authentication.json", "userName=ivan&password=wrong"),
			form("/api/2.0/authentication.json", "userName=nobody&password=wrong")},
		{"r7office e-mail", form("/api/2.0/authentication.json", "userName=ivan@example.com&password=wrong"),
			form("/api/2.0/authentication.json", "userName=nobody@example.com&password=wrong")},
		{"r7office setphone", form("/api/2.0/authentication/setphone.json", "userName=ivan&password=wrong&mobilePhone=79990000005"),
			form("/api/2.0/authentication/setphone.json", "userName=nobody&password=wrong&mobilePhone=79990000005")},
		{"r7office sendsms", form("/api/2.0/authentication/sendsms.json", "userName=ivan&password=wrong"),
			form("/api/2.0/authentication/sendsms.json", "userName=nobody&password=wrong")},
		{"r7office code", form("/api/2.0/authentication/123456.json", "userName=ivan&password=wrong"),
			form("/api/2.0/authentication/123456.json", "userName=nobody&password=wrong")},
	} {
		known, kr := e.cost(tc.known)
		unknown, ur := e.cost(tc.unknown)
		kr.body, ur.body = sid.ReplaceAllString(kr.body, "S"), sid.ReplaceAllString(ur.body, "S")
		if known != unknown || kr != ur {
			t.Errorf("%s: known costs %+v and answers %+v; unknown costs %+v and answers %+v", tc.face, known, kr, unknown, ur)
		}
		if known.reads+known.writes == 0 {
			t.Errorf("%s: no work counted: the check sees nothing", tc.face)
		}
	}
}

// TestSignInBudgetLinksNothing: after a login is blocked by its failures, a sign-in by an e-mail costs
// the same (a full verification) whether the e-mail belongs to that login's account or another's; the
// rule counts per login string and address, never per account.
func TestSignInBudgetLinksNothing(t *testing.T) {
	e := mustServe(t, "--dispatch=false")
	e.addUser("ivan", "ivan@example.com", "79991234567")
	e.addUser("olga", "olga@example.com", "79997654321")
	for range 20 {
		e.post("/api/2.0/authentication.json", "application/x-www-form-urlencoded", "userName=ivan&password=wrong")
	}
	blocked, r := e.cost(func() reply {
		return e.post("/api/2.0/authentication.json", "application/x-www-form-urlencoded", "userName=ivan&password=wrong")
	})
	if blocked.hashes != 0 || !strings.Contains(r.body, "Login Fail. Too many attempts") {
		t.Fatalf("the flooded login: %+v %+v", blocked, r)
	}
	same, sr := e.cost(func() reply {
		return e.post("/api/2.0/authentication.json", "application/x-www-form-urlencoded", "userName=ivan@example.com&password=wrong")
	})
	other, or := e.cost(func() reply {
		return e.post("/api/2.0/authentication.json", "application/x-www-form-urlencoded", "userName=olga@example.com&password=wrong")
	})
	if same != other || sr != or || same.hashes != 1 {
		t.Fatalf("the flooded account's e-mail costs %+v (%+v), another account's %+v (%+v)", same, sr, other, or)
	}
}
