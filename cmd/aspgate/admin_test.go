package main

// Tests of the admin commands (migrate, operator, user, apikey, outbox), run in-process through run with a
// temporary database.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/delivery"
	"aspgate/store/sqlite"
)

type adminResult struct {
	code           int
	stdout, stderr string
}

// runAdminCLI runs one command line in-process with stdin.
func runAdminCLI(tb testing.TB, stdin string, args ...string) adminResult {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(stdin), &stdout, &stderr)
	return adminResult{code, stdout.String(), stderr.String()}
}

// mustAdmin runs a command that must succeed and returns its stdout.
func mustAdmin(tb testing.TB, args ...string) string {
	tb.Helper()
	res := runAdminCLI(tb, "", args...)
	if res.code != exitOK || !onlyLogLines(res.stderr) {
		tb.Fatalf("aspgate %s: exit %d, stderr %q", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

// onlyLogLines reports whether stderr holds nothing but INFO log lines (JSON, as serve writes them): what
// a command that succeeded may say there.
func onlyLogLines(stderr string) bool {
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if l == "" {
			continue
		}
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Level != "INFO" || rec.Msg == "" {
			return false
		}
	}
	return true
}

// mustOpenStore opens the database a command wrote, as serve would.
func mustOpenStore(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAdminMigrate(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "gate.db")
	if out := mustAdmin(t, "migrate", "--db", dbPath); !regexp.MustCompile(`^` + regexp.QuoteMeta(dbPath) + `: schema version [1-9][0-9]*\n$`).MatchString(out) {
		t.Fatalf("migrate printed %q", out)
	}
	keyPath := dbPath + ".key"
	info, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
	first, _ := os.ReadFile(keyPath)
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(first) {
		t.Fatalf("key file does not hold 32 hex-encoded bytes")
	}
	// A second migrate is a no-op and keeps the key.
	mustAdmin(t, "migrate", "--db", dbPath)
	if again, _ := os.ReadFile(keyPath); !bytes.Equal(first, again) {
		t.Fatal("the key changed on the second migrate")
	}
	ms, err := mustOpenStore(t, dbPath).Migrations(context.Background())
	if err != nil || len(ms) == 0 || ms[len(ms)-1].Version != len(ms) {
		t.Fatalf("migrations: %+v, %v", ms, err)
	}
	// An explicit key file is used instead of the default.
	other := filepath.Join(dir, "other.key")
	mustAdmin(t, "migrate", "--db", dbPath, "--hmac-key-file", other)
	if _, err := os.Stat(other); err != nil {
		t.Fatal(err)
	}
}

func TestAdminDefaultsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv(envDB, "")
	t.Setenv(envKeyFile, "")
	mustAdmin(t, "migrate")
	for _, name := range []string{"aspgate.db", "aspgate.db.key"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("default %s: %v", name, err)
		}
	}

	t.Setenv(envDB, filepath.Join(dir, "env.db"))
	t.Setenv(envKeyFile, filepath.Join(dir, "env-secret"))
	mustAdmin(t, "operator", "add", "--id", "3", "--name", "Beeline")
	mustAdmin(t, "apikey", "add", "--app", "aries", "--name", "env")
	for _, name := range []string{"env.db", "env-secret"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s from the environment: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "env.db.key")); err == nil {
		t.Fatal("the key was written next to the database although ASPGATE_HMAC_KEY_FILE is set")
	}
	// Flags win over the environment.
	mustAdmin(t, "operator", "add", "--db", "flag.db", "--id", "3", "--name", "Beeline")
	if _, err := os.Stat(filepath.Join(dir, "flag.db")); err != nil {
		t.Fatal(err)
	}
}

func TestAdminUsersAndOperators(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "aspgate.db")
	db := []string{"--db", dbPath}

	out := mustAdmin(t, append([]string{"operator", "add", "--id", "7", "--name", "MTS"}, db...)...)
	if out != `{"id":7,"name":"MTS"}`+"\n" {
		t.Fatalf("operator add printed %q", out)
	}
	out = mustAdmin(t, append([]string{"user", "add", "--email", "Alice@Example.com", "--phone", "79991234567",
		"--username", "alice", "--password", "correct horse battery", "--operator", "7", "--first-name", "Alice",
		"--last-name", "Liddell", "--title", "Dr", "--gender", "2", "--user-type", "1", "--is-lazy",
		"--shared-data-permission"}, db...)...)
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("user add printed %q, want one line", out)
	}
	var added struct {
		ID  json.Number `json:"id"`
		UID string      `json:"uid"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&added); err != nil {
		t.Fatal(err)
	}
	id, err := added.ID.Int64()
	if err != nil || id <= 0 || !guidPattern.MatchString(added.UID) {
		t.Fatalf("user add printed %q", out)
	}
	if strings.Contains(out, "correct horse") || strings.Contains(out, "argon2") {
		t.Fatal("user add printed the password or its hash")
	}

	st := mustOpenStore(t, dbPath)
	u, err := st.UserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != id || sqlite.FormatUID(u.UID) != added.UID || u.UserName != "alice" || u.Phone != "79991234567" ||
		*u.OperatorID != 7 || *u.FirstName != "Alice" || *u.LastName != "Liddell" || *u.Title != "Dr" ||
		*u.Gender != 2 || *u.UserType != 1 || !u.IsLazy || !u.SharedDataPermission {
		t.Fatalf("stored user %+v", u)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("the password is not hashed with the default argon2id parameters: %.30s", u.PasswordHash)
	}
	hasher := account.NewHasher(account.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 1)
	if ok, _ := hasher.Verify(ctx, u.PasswordHash, "correct horse battery"); !ok {
		t.Fatal("the stored hash does not verify")
	}

	// The password may come from stdin; optional fields stay empty; SQL metacharacters are plain data.
	res := runAdminCLI(t, "from stdin\n", append([]string{"user", "add", "--email", `o'brien";DROP/**/TABLE/**/users;--@example.com`,
		"--username", `' OR '1'='1`, "--password", "-"}, db...)...)
	if res.code != exitOK {
		t.Fatalf("user add with stdin password: %d %q", res.code, res.stderr)
	}
	u2, err := st.UserByUserName(ctx, `' or '1'='1`)
	if err != nil || u2.Email != `o'brien";DROP/**/TABLE/**/users;--@example.com` || u2.Phone != "" || u2.OperatorID != nil || u2.FirstName != nil || u2.Gender != nil {
		t.Fatalf("second user %+v, %v", u2, err)
	}
	if ok, _ := hasher.Verify(ctx, u2.PasswordHash, "from stdin"); !ok {
		t.Fatal("the password read from stdin does not verify")
	}

	failures := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"duplicate operator", []string{"operator", "add", "--id", "7", "--name", "x"}, exitFailed, "an operator with this id already exists"},
		{"operator without id", []string{"operator", "add", "--name", "x"}, exitUsage, "needs --id and --name"},
		{"operator id not a number", []string{"operator", "add", "--id", "x", "--name", "x"}, exitUsage, "invalid value"},
		{"duplicate e-mail", []string{"user", "add", "--email", "ALICE@example.com", "--username", "b", "--password", "p"}, exitFailed, "a user with this e-mail already exists"},
		{"duplicate user name", []string{"user", "add", "--email", "b@example.com", "--username", "ALICE", "--password", "p"}, exitFailed, "a user with this user name already exists"},
		{"duplicate phone", []string{"user", "add", "--email", "b@example.com", "--username", "b", "--phone", "79991234567", "--password", "p"}, exitFailed, "a user with this phone already exists"},
		{"duplicate id", []string{"user", "add", "--email", "b@example.com", "--username", "b", "--id", "1", "--password", "p"}, exitFailed, "a user with this id already exists"},
		{"phone with +", []string{"user", "add", "--email", "b@example.com", "--username", "b", "--phone", "+79991234567", "--password", "p"}, exitFailed, "--phone must be 1 to 20 digits"},
		{"phone with dashes", []string{"user", "add", "--email", "b@example.com", "--username", "b", "--phone", "999-12-34", "--password", "p"}, exitFailed, "--phone must be"},
		{"phone too long", []string{"user", "add", "--email", "b@example.com", "--username", "b", "--phone", strings.Repeat("1", 21), "--password", "p"}, exitFailed, "--phone must be"},
		{"e-mail without @", []string{"user", "add", "--email", "example.com", "--username", "b", "--password", "p"}, exitFailed, "--email must be an e-mail address"},
		{"e-mail ending in @", []string{"user", "add", "--email", "b@", "--username", "b", "--password", "p"}, exitFailed, "--email must be"},
		{"e-mail with a space", []string{"user", "add", "--email", "b c@example.com", "--username", "b", "--password", "p"}, exitFailed, "--email must be"},
		{"e-mail with CR LF", []string{"user", "add", "--email", "b@example.com\r\nBcc: x@y", "--username", "b", "--password", "p"}, exitFailed, "control character"},
		{"unknown operator", []string{"user", "add", "--email", "b@example.com", "--username", "b", "--operator", "99", "--password", "p"}, exitFailed, "operator 99 does not exist"},
		{"gender not a number", []string{"user", "add", "--email", "b@example.com", "--username", "b", "--gender", "female", "--password", "p"}, exitUsage, "invalid value"},
		{"missing password", []string{"user", "add", "--email", "b@example.com", "--username", "b"}, exitUsage, "needs --email, --username and --password"},
		{"missing e-mail", []string{"user", "add", "--username", "b", "--password", "p"}, exitUsage, "needs --email"},
		{"unknown flag", []string{"user", "add", "--mail", "b@example.com"}, exitUsage, "flag provided but not defined"},
		{"extra argument", []string{"user", "add", "--email", "b@example.com", "--username", "b", "--password", "p", "extra"}, exitUsage, `unexpected argument "extra"`},
		{"no verb", []string{"user"}, exitUsage, "user needs one of: add"},
		{"unknown verb", []string{"apikey", "rotate"}, exitUsage, `unknown apikey command "rotate"`},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			res := runAdminCLI(t, "", append(f.args, db...)...)
			if res.code != f.code {
				t.Errorf("exit %d, want %d (stderr %q)", res.code, f.code, res.stderr)
			}
			first, _, _ := strings.Cut(res.stderr, "\n")
			if !strings.HasPrefix(first, "error: ") || !strings.Contains(first, f.want) {
				t.Errorf("stderr %q, want an error saying %q", res.stderr, f.want)
			}
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
			if f.code == exitFailed && strings.Count(res.stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", res.stderr)
			}
		})
	}
	if err := st.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAdminAPIKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "aspgate.db")
	db := []string{"--db", dbPath}

	apiKey := strings.TrimSuffix(mustAdmin(t, append([]string{"apikey", "add", "--app", "aries", "--name", "portal"}, db...)...), "\n")
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(apiKey) {
		t.Fatalf("apikey add printed %q, want a 32-byte base64url key", apiKey)
	}
	key, err := loadOrCreateKey(dbPath + ".key")
	if err != nil {
		t.Fatal(err)
	}
	mac := account.NewKeyring(key).MAC("apikey", apiKey)
	st := mustOpenStore(t, dbPath)
	if ok, err := st.APIKeyActive(ctx, "aries", mac); err != nil || !ok {
		t.Fatalf("the new key is not active: %v, %v", ok, err)
	}
	raw, _ := os.ReadFile(dbPath)
	wal, _ := os.ReadFile(dbPath + "-wal")
	if bytes.Contains(raw, []byte(apiKey)) || bytes.Contains(wal, []byte(apiKey)) {
		t.Fatal("the api key itself is in the database")
	}

	// The app is matched by id (any case) or seed number; another app's key does not work for aries.
	other := strings.TrimSpace(mustAdmin(t, append([]string{"apikey", "add", "--app", "004", "--name", "mobile"}, db...)...))
	if ok, _ := st.APIKeyActive(ctx, "aries", account.NewKeyring(key).MAC("apikey", other)); !ok {
		t.Fatal("a key added with the seed number is not an aries key")
	}
	cust := strings.TrimSpace(mustAdmin(t, append([]string{"apikey", "add", "--app", "Customer", "--name", "portal"}, db...)...))
	if ok, _ := st.APIKeyActive(ctx, "aries", account.NewKeyring(key).MAC("apikey", cust)); ok {
		t.Fatal("a customer key works for aries")
	}

	for _, f := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"duplicate name", []string{"apikey", "add", "--app", "aries", "--name", "portal"}, exitFailed, "already has an active api key with this name"},
		{"unknown app", []string{"apikey", "add", "--app", "nosuch", "--name", "x"}, exitFailed, `unknown app "nosuch"`},
		{"missing name", []string{"apikey", "add", "--app", "aries"}, exitUsage, "needs --app and --name"},
		{"revoke unknown", []string{"apikey", "revoke", "--app", "aries", "--name", "nobody"}, exitFailed, `no active api key named "nobody" for aries`},
	} {
		res := runAdminCLI(t, "", append(f.args, db...)...)
		if res.code != f.code || !strings.Contains(res.stderr, f.want) || res.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d and %q", f.name, res.code, res.stdout, res.stderr, f.code, f.want)
		}
	}

	if out := mustAdmin(t, append([]string{"apikey", "revoke", "--app", "aries", "--name", "portal"}, db...)...); !strings.Contains(out, "revoked") {
		t.Fatalf("revoke printed %q", out)
	}
	if ok, _ := st.APIKeyActive(ctx, "aries", mac); ok {
		t.Fatal("a revoked key is still active")
	}
	res := runAdminCLI(t, "", append([]string{"apikey", "revoke", "--app", "aries", "--name", "portal"}, db...)...)
	if res.code != exitFailed {
		t.Fatalf("revoking twice: exit %d", res.code)
	}
	// The name is free again after the revocation.
	mustAdmin(t, append([]string{"apikey", "add", "--app", "aries", "--name", "portal"}, db...)...)
}

func TestAdminOutboxList(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "aspgate.db")
	db := []string{"--db", dbPath}
	if out := mustAdmin(t, append([]string{"outbox", "list", "--json"}, db...)...); out != "" {
		t.Fatalf("empty outbox printed %q", out)
	}
	st := mustOpenStore(t, dbPath)
	id, _, err := st.AddUser(ctx, account.NewUser{UserName: "u", Email: "u@example.com", Phone: "79990000000", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("MSK", 3*3600))
	if err := st.IssueCode(ctx, account.NewCode{UserID: id, Purpose: "reset", MAC: []byte("m1"), CreatedAt: at,
		ExpiresAt: at.Add(10 * time.Minute)}, account.Message{App: "lcmanager", Channel: account.SMS, Kind: account.KindCode,
		To: "79990000000", Secret: "123456", ExpiresAt: at.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := st.IssueChangeRequest(ctx, account.NewChangeRequest{UserID: id, MAC: []byte("m2"), CreatedAt: at.Add(time.Second),
		ExpiresAt: at.Add(time.Hour)}, account.Message{App: "aries", Channel: account.Email, Kind: account.KindChangeLink,
		To: "u@example.com", LinkBase: "https://example.com/change?x=<1>&id=", Secret: "a&b"}); err != nil {
		t.Fatal(err)
	}

	out := mustAdmin(t, append([]string{"outbox", "list", "--json"}, db...)...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("outbox list printed %q, want 2 lines", out)
	}
	var msgs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		msgs = append(msgs, m)
	}
	want := []map[string]any{
		{"app": "lcmanager", "channel": "sms", "kind": "code", "to": "79990000000", "code": "123456",
			"status": "pending", "created": "2026-03-01T09:00:00Z", "next_attempt": "2026-03-01T09:00:00Z", "link": nil},
		{"app": "aries", "channel": "email", "kind": "change-link", "to": "u@example.com", "code": nil,
			"link": "https://example.com/change?x=<1>&id=a%26b", "status": "pending", "created": "2026-03-01T09:00:01Z"},
	}
	for i, w := range want {
		if _, ok := msgs[i]["id"].(float64); !ok {
			t.Errorf("message %d: id %v is not a number", i, msgs[i]["id"])
		}
		for k, v := range w {
			if msgs[i][k] != v {
				t.Errorf("message %d: %s = %v, want %v", i, k, msgs[i][k], v)
			}
		}
	}
	if msgs[0]["id"].(float64) >= msgs[1]["id"].(float64) {
		t.Error("messages are not in id order")
	}
	text := mustAdmin(t, append([]string{"outbox", "list"}, db...)...)
	if !strings.HasPrefix(text, "ID") || !strings.Contains(text, "123456") || !strings.Contains(text, "u@example.com") {
		t.Fatalf("outbox list printed %q", text)
	}
}

func TestAdminHelp(t *testing.T) {
	for _, args := range [][]string{{"user", "add", "-h"}, {"migrate", "--help"}, {"apikey", "help"}} {
		res := runAdminCLI(t, "", args...)
		if res.code != exitOK || !strings.Contains(res.stdout, "aspgate user add --email") || res.stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, res.code, res.stdout, res.stderr)
		}
	}
	if res := runAdminCLI(t, "", "user", "add", "-h"); !strings.Contains(res.stdout, "-hmac-key-file") {
		t.Errorf("user add -h does not list the common flags: %q", res.stdout)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = loadOrCreateKey(path)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if len(keys[i]) != 32 || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("concurrent creators got different keys")
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d files left in the directory, want only the key", len(entries))
	}
	again, err := loadOrCreateKey(path)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("reloading: %v", err)
	}

	long := bytes.Repeat([]byte{0xab}, 48)
	for name, tc := range map[string]struct {
		content string
		ok      bool
	}{
		"not hex":   {"zz" + strings.Repeat("0", 62), false},
		"too short": {hex.EncodeToString(make([]byte, 16)), false},
		"empty":     {"", false},
		"longer":    {hex.EncodeToString(long) + "\r\n", true},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		key, err := loadOrCreateKey(p)
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && tc.content != "" && strings.Contains(err.Error(), tc.content[:8]) {
			t.Errorf("%s: the error quotes the key file: %v", name, err)
		}
		if tc.ok && !bytes.Equal(key, long) {
			t.Errorf("%s: key %x", name, key)
		}
	}
	if _, err := loadOrCreateKey(filepath.Join(dir, "missing-dir", "k")); err == nil {
		t.Error("a key in a missing directory was created")
	}
}

func TestAdminOutboxSendOnceToDevInbox(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "aspgate.db")
	db := []string{"--db", dbPath}
	st := mustOpenStore(t, dbPath)
	id, _, err := st.AddUser(ctx, account.NewUser{UserName: "u", Email: "u@example.com", Phone: "79990000000", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.IssueCode(ctx, account.NewCode{UserID: id, Purpose: "reset", MAC: []byte("m1"), CreatedAt: now,
		ExpiresAt: now.Add(10 * time.Minute)}, account.Message{App: "lcmanager", Channel: account.SMS, Kind: account.KindCode,
		To: "79990000000", Secret: "123456", ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	res := runAdminCLI(t, "", append([]string{"outbox", "send-once"}, db...)...)
	if res.code != exitOK || res.stdout != "sent 1, to retry 0, dead 0 (requeued after a crash: 0)\n" {
		t.Fatalf("send-once: exit %d, %q, %q", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(res.stderr, "123456") {
		t.Error("the code reached the log")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(mustAdmin(t, append([]string{"outbox", "list", "--json"}, db...)...)), &m); err != nil {
		t.Fatal(err)
	}
	if m["status"] != "sent" || m["code"] != "123456" || m["text"] != "Код подтверждения: 123456. Никому не сообщайте этот код." {
		t.Fatalf("listed %v", m)
	}
	rows, err := st.ListOutbox(ctx, 0)
	if err != nil || len(rows) != 1 || rows[0].Secret != "" {
		t.Fatalf("the secret stayed in the outbox: %+v %v", rows, err)
	}
	if _, err := os.Stat(dbPath + ".inbox.jsonl"); err != nil {
		t.Fatal(err)
	}
	for _, status := range []string{"pending", "dead"} {
		if out := mustAdmin(t, append([]string{"outbox", "list", "--json", "--status", status}, db...)...); out != "" {
			t.Errorf("--status %s listed %q", status, out)
		}
	}
	if r := runAdminCLI(t, "", append([]string{"outbox", "list", "--status", "gone"}, db...)...); r.code != exitUsage {
		t.Errorf("--status gone: exit %d", r.code)
	}
	// With the dispatch lock held (a running server), send-once refuses instead of racing it.
	lock, err := delivery.Lock(dbPath + ".dispatch.lock")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	if r := runAdminCLI(t, "", append([]string{"outbox", "send-once"}, db...)...); r.code != exitFailed || !strings.Contains(r.stderr, "--dispatch=false") {
		t.Errorf("send-once beside a dispatcher: exit %d, %q", r.code, r.stderr)
	}
}
