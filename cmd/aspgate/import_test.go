package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// The legacy hashes of the import tests, each computed here with the standard library (or taken from a
// published vector), never with the code under test.

// identityV3 is ASP.NET Core Identity's V3 format: 0x01, PRF, iterations and salt length (big-endian
// uint32s), salt, PBKDF2 subkey.
func identityV3(t *testing.T, password string, prf uint32, iterations uint32) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	h := map[uint32]func() hashFunc{0: sha1New, 1: sha256New, 2: sha512New}[prf]
	sub, err := pbkdf2.Key(h, password, salt, int(iterations), 32)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 13)
	b[0] = 1
	binary.BigEndian.PutUint32(b[1:], prf)
	binary.BigEndian.PutUint32(b[5:], iterations)
	binary.BigEndian.PutUint32(b[9:], 16)
	return base64.StdEncoding.EncodeToString(append(append(b, salt...), sub...))
}

type hashFunc = interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
	Reset()
	Size() int
	BlockSize() int
}

func sha1New() hashFunc   { return sha1.New() }
func sha256New() hashFunc { return sha256.New() }
func sha512New() hashFunc { return sha512.New() }

// membershipSHA1 is SqlMembershipProvider's default: base64(SHA1(salt ‖ UTF-16LE(password))).
func membershipSHA1(password string, salt []byte) string {
	u := utf16.Encode([]rune(password))
	b := append([]byte{}, salt...)
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	s := sha1.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// membershipHMACSHA256 is the keyed variant: HMAC-SHA256 under the salt repeated to .NET's 64-byte key.
func membershipHMACSHA256(password string, salt []byte) string {
	key := bytes.Repeat(salt, 64/len(salt)+1)[:64]
	u := utf16.Encode([]rune(password))
	var b []byte
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func argon2idPHC(password string) string {
	salt := []byte("0123456789abcdef")
	k := argon2.IDKey([]byte(password), salt, 1, 64, 1, 32)
	b64 := base64.RawStdEncoding
	return "$argon2id$v=19$m=64,t=1,p=1$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(k)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs an aspgate command against the server's database and returns its exit code and outputs.
func (e *e2e) run(stdin string, args ...string) adminResult {
	e.t.Helper()
	return runAdminCLI(e.t, stdin, append(args, "--db", e.db)...)
}

func (e *e2e) signIn(login, password string) reply {
	e.t.Helper()
	return e.post("/api/2.0/authentication.json", "application/x-www-form-urlencoded",
		"userName="+strings.ReplaceAll(login, "@", "%40")+"&password="+strings.ReplaceAll(password, " ", "+"))
}

func (e *e2e) scheme(key ...string) string {
	e.t.Helper()
	var v struct {
		PasswordScheme string `json:"password_scheme"`
		Disabled       bool   `json:"disabled"`
	}
	out := e.cli(append([]string{"user", "show", "--json"}, key...)...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		e.t.Fatalf("user show printed %q", out)
	}
	return v.PasswordScheme
}

const (
	v3Published = "AQAAAAIAAYagAAAAEAABAgMEBQYHCAkKCwwNDg/Q8A0WMKbtHQJQ2DHCdoEeeFBrgNlldq6vH4qX/CGqGQ==" // "my password"
	v2Published = "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg=="                 // "my password"
	memSalt     = "AAECAwQFBgcICQoLDA0ODw=="
	memSHA1     = "ZJFvF0TnqdQZ2BNqpCZ6DykqGAs="                 // "my password", research vector
	memHMAC256  = "hRcKvhNxvCgksB9q5UhsTEpuZW1zBlmUHwMUYIWVgBk=" // "my password", research vector
)

// TestImportLegacyUsers imports users in every hash format from CSV and JSON Lines, then uses them over
// real HTTP: r7office sign-in with the legacy password (upgraded to argon2id on the way, tokens kept),
// ereader's imported int UserId, customer's imported GUID and profile, PasswordUsedBefore from the
// imported current password and history; and re-imports both files unchanged.
func TestImportLegacyUsers(t *testing.T) {
	e := mustServe(t, "--dispatch=false", "--introspect-secret", introspectSecret, "--limit-recipient-minute", "0")
	e.cli("operator", "add", "--id", "7", "--name", "Beeline")
	bc, _ := bcrypt.GenerateFromPassword([]byte("my password"), 4)
	salt := []byte("sixteen byte slt")
	csvFile := writeFile(t, "users.csv", strings.Join([]string{
		"id,uid,username,email,phone,operator,first_name,last_name,title,is_lazy,user_type,shared_data_permission,gender,password_format,password_hash,password_salt",
		"501,DB299A41-EDB1-47B7-A716-64633A0D068C,v3user,v3@example.com,79990005001,7,Иван,Петров,Dr,true,1,1,2,identity," + v3Published + ",",
		"502,,v2user,v2@example.com,79990005002,,,,,false,,0,,identity," + v2Published + ",",
		"503,,sha1user,sha1@example.com,79990005003,,,,,,,,,membership:SHA1," + memSHA1 + "," + memSalt,
		"504,,hmacuser,hmac@example.com,79990005004,,,,,,,,,membership:HMACSHA256," + memHMAC256 + "," + memSalt,
		"505,,bcuser,bc@example.com,79990005005,,,,,,,,,bcrypt," + string(bc) + ",",
		"506,,clearuser,clear@example.com,79990005006,,,,,,,,,clear,Clear pass 123,",
		`,,arguser,arg@example.com,,,,,,,,,,argon2id,"` + argon2idPHC("my password") + `",`,
		`507,,"quoted, user",quoted@example.com,,,"Multi, ""quoted""",,,,,,,membership:SHA1,` + membershipSHA1("pässwörd", salt) + "," + base64.StdEncoding.EncodeToString(salt),
	}, "\n")+"\n")
	hist := func(format, hash, salt string) map[string]string {
		return map[string]string{"password_format": format, "password_hash": hash, "password_salt": salt}
	}
	line := func(v map[string]any) string { b, _ := json.Marshal(v); return string(b) }
	jsonlFile := writeFile(t, "users.jsonl", strings.Join([]string{
		line(map[string]any{"id": 601, "uid": "{0f8fad5b-d9cb-469f-a165-70867728950e}", "username": "histuser", "email": "hist@example.com",
			"phone": "79990006001", "is_lazy": false, "gender": 1, "password_format": "identity",
			"password_hash": identityV3(t, "Current-pass-1", 1, 10000),
			"history": []any{hist("membership:SHA1", membershipSHA1("Older-pass-1", salt), base64.StdEncoding.EncodeToString(salt)),
				hist("membership:HMACSHA256", membershipHMACSHA256("Oldest-pass-1", salt), base64.StdEncoding.EncodeToString(salt))}}),
		"",
		line(map[string]any{"id": 602, "username": "jsonuser", "email": "json@example.com", "password_format": "identity",
			"password_hash": identityV3(t, "my password", 2, 1000), "first_name": nil}),
	}, "\n")+"\n")
	for _, f := range []string{csvFile, jsonlFile} {
		dry := e.run("", "user", "import", "--dry-run", f)
		if dry.code != 0 || !strings.Contains(dry.stdout, "would import (dry run)") {
			t.Fatalf("dry run %s: %+v", f, dry)
		}
	}
	if out := e.cli("user", "list", "--json"); out != "" {
		t.Fatalf("a dry run wrote users: %s", out)
	}
	res := e.run("", "user", "import", csvFile, jsonlFile)
	if res.code != 0 || !strings.Contains(res.stdout, "users.csv: 8 rows imported: 8 new, 0 updated, 0 unchanged") ||
		!strings.Contains(res.stdout, "users.jsonl: 2 rows imported: 2 new") {
		t.Fatalf("import: %+v", res)
	}
	for key, want := range map[string]string{"501": "identity-v3", "502": "identity-v2", "503": "membership:SHA1",
		"504": "membership:HMACSHA256", "505": "bcrypt", "506": "argon2id", "601": "identity-v3"} {
		if got := e.scheme("--id", key); got != want {
			t.Errorf("user %s: scheme %s, want %s", key, got, want)
		}
	}
	if strings.Contains(e.cli("user", "show", "--id", "501", "--json"), "AQAAAA") {
		t.Fatal("user show printed a hash")
	}

	// r7office: every legacy format signs in with its password, a wrong one is refused, and the first
	// success upgrades the hash without revoking the token it just issued.
	for login, pw := range map[string]string{"v3@example.com": "my password", "v2@example.com": "my password",
		"sha1@example.com": "my password", "hmac@example.com": "my password", "bc@example.com": "my password",
		"clear@example.com": "Clear pass 123", "arg@example.com": "my password", "quoted@example.com": "pässwörd",
		"json@example.com": "my password"} {
		if r := e.signIn(login, pw+"x"); r.body != r7AuthFailed {
			t.Fatalf("%s with a wrong password: %+v", login, r)
		}
		r := e.signIn(login, pw)
		m := tokenInBody.FindStringSubmatch(r.body)
		if r.status != 201 || m == nil {
			t.Fatalf("%s: %+v", login, r)
		}
		if got := e.scheme("--email", login); got != "argon2id" {
			t.Errorf("%s after sign-in: %s", login, got)
		}
		if r := e.signIn(login, pw); r.status != 201 {
			t.Fatalf("%s after the upgrade: %+v", login, r)
		}
		if e.introspect(m[1])["active"] != true {
			t.Fatalf("%s: the upgrade revoked the token", login)
		}
	}

	// ereader with an imported int UserId.
	e.post("/api/user/RememberMessage", "application/json", `{"Phone":79990005002}`)
	if r := e.post("/api/Account/ResetPassword", "application/json",
		`{"UserId":502,"Code":"`+e.lastSecret()+`","NewPassword":"Brand-new-pass-9"}`); !strings.Contains(r.body, "Password has been reset.") {
		t.Fatalf("ereader reset of user 502: %+v", r)
	}

	// customer: the imported GUID and profile; the current legacy password and the history are "used before".
	key := strings.TrimSpace(e.cli("apikey", "add", "--app", "aries", "--name", "p"))
	change := func(email, pw string) reply {
		e.post("/API/Account/ForgotPassword", "application/json", `{"email":"`+email+`","apiKey":"`+key+`"}`)
		return e.post("/api/Customer/PasswordChange", "application/json", `{"ChangeRequestId":"`+e.lastSecret()+`","Password":"`+pw+`"}`)
	}
	for _, pw := range []string{"Current-pass-1", "Older-pass-1", "Oldest-pass-1"} {
		if r := change("hist@example.com", pw); !strings.Contains(r.body, `"Code":9000`) {
			t.Fatalf("%s for user 601: %+v", pw, r)
		}
	}
	if got := e.scheme("--id", "601"); got != "argon2id" {
		t.Errorf("601's current hash after matching in PasswordChange: %s", got)
	}
	r := change("v3@example.com", "Brand-new-pass-7")
	if !strings.Contains(r.body, `"UserId":"db299a41-edb1-47b7-a716-64633a0d068c"`) || !strings.Contains(r.body, `"FirstName":"Иван"`) ||
		!strings.Contains(r.body, `"LastName":"Петров"`) || !strings.Contains(r.body, `"Title":"Dr"`) || !strings.Contains(r.body, `"IsLazy":true`) ||
		!strings.Contains(r.body, `"Gender":2`) || !strings.Contains(r.body, `"Code":9001`) {
		t.Fatalf("customer PasswordChange of user 501: %+v", r)
	}

	// Re-importing changes nothing, even after the upgrades and the password changes since.
	res = e.run("", "user", "import", csvFile, jsonlFile)
	if res.code != 0 || !strings.Contains(res.stdout, "users.csv: 8 rows imported: 0 new, 0 updated, 8 unchanged") ||
		!strings.Contains(res.stdout, "users.jsonl: 2 rows imported: 0 new, 0 updated, 2 unchanged") {
		t.Fatalf("re-import: %+v", res)
	}
	if r := e.signIn("v3@example.com", "Brand-new-pass-7"); r.status != 201 {
		t.Fatalf("the re-import reverted a password changed since: %+v", r)
	}

	// A changed row updates its user (--no-update refuses it instead).
	changed := writeFile(t, "changed.csv", "id,username,email,password_format,password_hash,password_salt,title\n"+
		"502,v2user,v2@example.com,identity,"+v2Published+",,Prof\n")
	if res := e.run("", "user", "import", "--no-update", changed); res.code != 1 || !strings.Contains(res.stderr, "changed.csv:2: differs from user 502 (--no-update)") {
		t.Fatalf("--no-update: %+v", res)
	}
	if res := e.run("", "user", "import", changed); res.code != 0 || !strings.Contains(res.stdout, "0 new, 1 updated, 0 unchanged") {
		t.Fatalf("update: %+v", res)
	}
	if out := e.cli("user", "show", "--id", "502", "--json"); !strings.Contains(out, `"title":"Prof"`) {
		t.Fatalf("502 after the update: %s", out)
	}
}

// TestImportBadFiles: every bad file fails with its line numbers and imports nothing, even its good rows.
func TestImportBadFiles(t *testing.T) {
	e := mustServe(t, "--dispatch=false")
	e.addUser("taken", "taken@example.com", "79990009999")
	header := "id,username,email,password_format,password_hash,password_salt\n"
	good := "1,good,good@example.com,identity," + v2Published + ",\n"
	hostile := make([]byte, 13+48)
	hostile[0] = 1
	binary.BigEndian.PutUint32(hostile[1:], 1)
	binary.BigEndian.PutUint32(hostile[5:], 1<<32-1)
	binary.BigEndian.PutUint32(hostile[9:], 16)
	for _, tc := range []struct {
		name, file, content string
		want                []string
	}{
		{"bad base64", "b.csv", header + good + "2,b,b@example.com,identity,not*base64,\n", []string{"b.csv:3: password_hash: not base64"}},
		{"unknown format", "f.csv", header + good + "2,f,f@example.com,md5crypt,$1$x$y,\n", []string{"f.csv:3: password_format: unknown format \"md5crypt\""}},
		{"id outside int32", "i.csv", header + good + "2147483648,i,i@example.com,identity," + v2Published + ",\n",
			[]string{"i.csv:3: id: 2147483648 is outside 1..2147483647"}},
		{"duplicate e-mail in the file", "d.csv", header + good + "2,d,GOOD@example.com,identity," + v2Published + ",\n",
			[]string{"d.csv:3: email: the same as line 2"}},
		{"e-mail of a stored user", "s.csv", header + good + "2,s,taken@example.com,identity," + v2Published + ",\n",
			[]string{"s.csv:3: email: already belongs to user 1"}},
		{"hostile iteration count", "h.csv", header + good + "2,h,h@example.com,identity," + base64.StdEncoding.EncodeToString(hostile) + ",\n",
			[]string{"h.csv:3: password_hash: Identity V3 iteration count 4294967295 is outside 1..1000000"}},
		{"unknown column", "u.csv", "id,username,email,pasword_format\n", []string{"u.csv:1: pasword_format: unknown column"}},
		{"several bad rows", "m.csv", header + good + "x,m1,m1@example.com,identity," + v2Published + ",\n" + good + "3,m3,bad-email,clear,pw,\n",
			[]string{"m.csv:3: id: not an integer", "m.csv:4: id: the same as line 2", "m.csv:5: email: must be an e-mail address"}},
		{"JSON, unknown key", "k.jsonl", `{"id":2,"username":"k","email":"k@example.com","password_format":"clear","password_hash":"pw","colour":"red"}` + "\n",
			[]string{"k.jsonl:1: colour: unknown key"}},
		{"JSON, not an object", "o.jsonl", `{"id":2,"username":"k","email":"k@example.com","password_format":"clear","password_hash":"pw"}` + "\n[1,2]\n",
			[]string{"o.jsonl:2: not a JSON object"}},
		{"JSON, bad history", "y.jsonl", `{"id":2,"username":"k","email":"k@example.com","password_format":"clear","password_hash":"pw","history":[{"password_format":"clear","password_hash":"x"}]}` + "\n",
			[]string{"y.jsonl:1: history: entry 1: a history entry must be a hash"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.run("", "user", "import", writeFile(t, tc.file, tc.content))
			if res.code != exitFailed {
				t.Fatalf("exit %d: %+v", res.code, res)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			if !strings.Contains(res.stderr, "nothing was imported from this file") {
				t.Errorf("stderr %q", res.stderr)
			}
			if out := e.cli("user", "list"); strings.Count(out, "\n") != 2 { // the header and "taken"
				t.Fatalf("users after a bad file:\n%s", out)
			}
		})
	}
}

var sessionID = regexp.MustCompile(`"SessionId":"[0-9a-f]{32}"`)

// TestDisabledUserIsUnknown: a disabled user gets, on every face, exactly what an unknown one gets, its
// tokens stop working, and nothing is sent; enabling gives the account back.
func TestDisabledUserIsUnknown(t *testing.T) {
	e := mustServe(t, "--dispatch=false", "--introspect-secret", introspectSecret, "--limit-recipient-minute", "0")
	id := e.addUser("dora", "dora@example.com", "79990007001")
	key := strings.TrimSpace(e.cli("apikey", "add", "--app", "aries", "--name", "p"))
	e.post("/api/user/RememberMessage", "application/json", `{"Phone":79990007001}`)
	code := e.lastSecret()
	e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"dora","apiKey":"`+key+`"}`)
	link := e.lastSecret()
	token := tokenInBody.FindStringSubmatch(e.signIn("dora@example.com", "Old-password-1").body)[1]
	queued := len(e.outbox())

	if out := e.cli("user", "disable", "--email", "DORA@example.com"); !strings.Contains(out, fmt.Sprintf("disabled user %d", id)) {
		t.Fatalf("disable printed %q", out)
	}
	if e.introspect(token)["active"] != false {
		t.Fatal("a disabled user's token is still active")
	}
	for _, p := range []struct {
		name         string
		path, ct     string
		dora, nobody string
	}{
		{"lcmanager", "/api/user/RememberMessage", "application/json", `{"Phone":79990007001}`, `{"Phone":79990007999}`},
		{"ereader", "/api/Account/ResetPassword", "application/json",
			fmt.Sprintf(`{"UserId":%d,"Code":"%s","NewPassword":"Brand-new-pass-1"}`, id, code), `{"UserId":999999,"Code":"123456","NewPassword":"Brand-new-pass-1"}`},
		{"aries", "/API/Account/ForgotPassword", "application/json", `{"userName":"dora","apiKey":"` + key + `"}`, `{"userName":"nobody","apiKey":"` + key + `"}`},
		{"customer", "/api/Customer/PasswordChange", "application/json", `{"ChangeRequestId":"` + link + `","Password":"Brand-new-pass-2"}`,
			`{"ChangeRequestId":"never-issued","Password":"Brand-new-pass-2"}`},
		{"r7office", "/api/2.0/authentication.json", "application/x-www-form-urlencoded", "userName=dora%40example.com&password=Old-password-1",
			"userName=nobody%40example.com&password=Old-password-1"},
	} {
		a, b := e.post(p.path, p.ct, p.dora), e.post(p.path, p.ct, p.nobody)
		a.body = sessionID.ReplaceAllString(a.body, "S")
		b.body = sessionID.ReplaceAllString(b.body, "S")
		if a != b {
			t.Errorf("%s: disabled %+v, unknown %+v", p.name, a, b)
		}
	}
	if n := len(e.outbox()); n != queued {
		t.Fatalf("%d messages queued for a disabled user", n-queued)
	}
	e.cli("user", "enable", "--id", fmt.Sprint(id))
	if r := e.signIn("dora@example.com", "Old-password-1"); r.status != 201 {
		t.Fatalf("after enable: %+v", r)
	}
}

// TestUserAdministration: show, list, set-password (from stdin only), delete, and a partner's existing
// API key.
func TestUserAdministration(t *testing.T) {
	e := mustServe(t, "--dispatch=false", "--introspect-secret", introspectSecret)
	id := e.addUser("emil", "emil@example.com", "79990008001")
	e.addUser("fay", "fay@example.com", "79990008002")
	token := tokenInBody.FindStringSubmatch(e.signIn("emil@example.com", "Old-password-1").body)[1]
	out := e.cli("user", "show", "--username", "EMIL")
	for _, w := range []string{"username                emil", "password_scheme         argon2id", "disabled                false"} {
		if !strings.Contains(out, w) {
			t.Errorf("user show lacks %q:\n%s", w, out)
		}
	}
	if lines := strings.Split(strings.TrimSpace(e.cli("user", "list", "--json", "--limit", "1", "--after", fmt.Sprint(id))), "\n"); len(lines) != 1 ||
		!strings.Contains(lines[0], `"username":"fay"`) {
		t.Fatalf("list after %d: %q", id, lines)
	}
	if res := e.run("", "user", "set-password", "--id", fmt.Sprint(id), "Inline-pass-1"); res.code != exitUsage {
		t.Fatalf("a password on the command line was taken: %+v", res)
	}
	if res := e.run("Set-by-admin-1\n", "user", "set-password", "--id", fmt.Sprint(id)); res.code != 0 {
		t.Fatalf("set-password: %+v", res)
	}
	if r := e.signIn("emil@example.com", "Set-by-admin-1"); r.status != 201 {
		t.Fatalf("sign-in with the new password: %+v", r)
	}
	if e.introspect(token)["active"] != false {
		t.Fatal("set-password did not revoke the tokens")
	}
	if res := e.run("", "user", "show", "--id", "999"); res.code != exitFailed || !strings.Contains(res.stderr, "no such user") {
		t.Fatalf("show unknown: %+v", res)
	}
	if res := e.run("", "user", "show", "--id", "1", "--email", "x@y"); res.code != exitUsage {
		t.Fatalf("two keys: %+v", res)
	}
	e.cli("user", "delete", "--phone", "79990008001")
	if res := e.run("", "user", "show", "--id", fmt.Sprint(id)); res.code != exitFailed {
		t.Fatal("a deleted user is still there")
	}
	if r := e.signIn("emil@example.com", "Set-by-admin-1"); r.body != r7AuthFailed {
		t.Fatalf("a deleted user signs in: %+v", r)
	}

	// A partner's existing key, from stdin.
	if res := e.run("partner-existing-key-0123456789\n", "apikey", "add", "--app", "aries", "--name", "legacy", "--key-stdin"); res.code != 0 ||
		strings.Contains(res.stdout, "partner-existing-key") {
		t.Fatalf("apikey --key-stdin: %+v", res)
	}
	if r := e.post("/API/Account/ForgotPassword", "application/json", `{"userName":"fay","apiKey":"partner-existing-key-0123456789"}`); r.body != `{"status":1,"errors":[]}` {
		t.Fatalf("the partner's key: %+v", r)
	}
	if res := e.run("short\n", "apikey", "add", "--app", "aries", "--name", "x", "--key-stdin"); res.code != exitFailed ||
		!strings.Contains(res.stderr, "--key is shorter than 16 characters") {
		t.Fatalf("a short key: %+v", res)
	}
}

// TestImportHostileFiles: malformed, oversized and binary input is a listed bad row, never a panic, and
// imports nothing.
func TestImportHostileFiles(t *testing.T) {
	e := mustServe(t, "--dispatch=false")
	ok := `{"username":"ok","email":"ok@example.com","password_format":"identity","password_hash":"` + v2Published + `"}` + "\n"
	for _, tc := range []struct{ name, file, content, want string }{
		{"empty CSV", "e.csv", "", "e.csv:1: the file is empty"},
		{"bare quote", "q.csv", "username,email,password_format,password_hash\nbad\"quote,q@example.com,clear,pw\n", "q.csv:2: unreadable CSV"},
		{"field count", "c.csv", "username,email,password_format,password_hash\na,b\n", "c.csv:2: 2 fields, the header has 4"},
		{"repeated column", "r.csv", "email,email\n", "r.csv:1: email: the column appears twice"},
		{"history in CSV", "h.csv", "username,history\n", "h.csv:1: history: history is a JSON Lines field"},
		{"a line over 1 MiB", "l.jsonl", ok + `{"username":"` + strings.Repeat("x", 1<<20+10) + `"}` + "\n" + ok, "l.jsonl:2: longer than 1048576 bytes"},
		{"binary", "b.jsonl", ok + "\x00\x01\xff\xfe\n", "b.jsonl:2: not a JSON object"},
		{"nested value", "n.jsonl", `{"username":{"a":1},"email":"n@example.com"}` + "\n", "n.jsonl:1: username: must be a string"},
		{"control characters", "x.csv", "username,email,password_format,password_hash\n\"a\x1bb\",x@example.com,clear,pw\n", "x.csv:2: username: contains a control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.run("", "user", "import", writeFile(t, tc.file, tc.content))
			if res.code != exitFailed || !strings.Contains(res.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %q", res.code, res.stderr, tc.want)
			}
			if out := e.cli("user", "list"); strings.Count(out, "\n") != 1 {
				t.Fatalf("users after a bad file:\n%s", out)
			}
		})
	}
}
