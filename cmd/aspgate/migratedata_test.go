package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateDataToPostgres: a SQLite database in use (users, an issued code, a pending change link, an
// API key) is copied into PostgreSQL with migrate-data; a gateway on PostgreSQL with the same key then
// signs the users in with their passwords, consumes the code and the link issued before the move, and
// keeps the API key.
func TestMigrateDataToPostgres(t *testing.T) {
	pgServer(t)
	dir := t.TempDir()
	sqlitePath := filepath.Join(dir, "legacy.db")
	t.Setenv("ASPGATE_DEV_INBOX", filepath.Join(dir, "inbox.jsonl"))
	before := mustServeDB(t, sqlitePath)
	ivan := before.addUser("ivan", "ivan@example.com", "79991230000")
	before.addUser("petr", "petr@example.com", "79991230001")
	apiKey := strings.TrimSpace(before.cli("apikey", "add", "--app", "aries", "--name", "partner"))
	if r := before.post("/api/user/RememberMessage", "application/json", `{"Phone":79991230000}`); r.status != 200 {
		t.Fatal(r)
	}
	if r := before.post("/API/Account/ForgotPassword", "application/json", `{"userName":"petr","apiKey":"`+apiKey+`"}`); r.status != 200 {
		t.Fatal(r)
	}
	var code, link string
	for _, m := range before.outbox() {
		switch m.Kind {
		case "code":
			code = m.Secret
		case "change-link":
			link = m.Secret
		}
	}
	if code == "" || link == "" {
		t.Fatalf("no code or link before the move: %+v", before.outbox())
	}

	dsn := pgDatabase(t)
	res := runCLI(t, nil, "migrate-data", "--from", sqlitePath, "--to", dsn)
	if res.code != 0 || !strings.Contains(res.stdout, "users                         2") || !strings.Contains(res.stdout, "codes                         1") {
		t.Fatalf("migrate-data: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if again := runCLI(t, nil, "migrate-data", "--from", sqlitePath, "--to", dsn); again.code == 0 || !strings.Contains(again.stderr, "already holds data") {
		t.Errorf("a second copy into the same database: exit %d %s", again.code, again.stderr)
	}

	t.Setenv(envKeyFile, sqlitePath+keyFileSuffix)
	after := mustServeDB(t, dsn)
	login := `{"userName":"ivan@example.com","password":"Old-password-1"}`
	if r := after.post("/api/2.0/authentication", "application/json", login); r.status != 201 || !strings.Contains(r.body, `"token"`) {
		t.Fatalf("sign-in after the move: %+v", r)
	}
	if r := after.post("/api/Account/ResetPassword", "application/json", fmt.Sprintf(`{"UserId":%d,"Code":%q,"NewPassword":"Moved-password-1"}`, ivan, code)); r.status != 200 {
		t.Fatalf("the code issued before the move: %+v", r)
	}
	if r := after.post("/api/Customer/PasswordChange", "application/json", `{"ChangeRequestId":"`+link+`","Password":"Moved-password-2"}`); !strings.Contains(r.body, `"Code":9001`) {
		t.Fatalf("the link issued before the move: %+v", r)
	}
	if r := after.post("/API/Account/ForgotPassword", "application/json", `{"userName":"nobody","apiKey":"`+apiKey+`"}`); r.body != `{"status":1,"errors":[]}` {
		t.Fatalf("the API key after the move: %+v", r)
	}
	// The send limits moved too: petr had his link a moment ago.
	if r := after.post("/API/Account/ForgotPassword", "application/json", `{"userName":"petr","apiKey":"`+apiKey+`"}`); !strings.Contains(r.body, `"status":5`) {
		t.Fatalf("petr's send limit after the move: %+v", r)
	}
	// A new user continues the ids; another key is refused.
	if id := after.addUser("anna", "anna@example.com", "79991230002"); id != 3 {
		t.Errorf("the next UserId after the move is %d, want 3", id)
	}
	other := filepath.Join(dir, "other.key")
	os.WriteFile(other, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	t.Setenv(envKeyFile, other)
	var cfg serveConfig
	if err := cfg.parse([]string{"--db", dsn, "--addr", "127.0.0.1:0", "--admin-addr", ""}, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if _, err := openServer(t.Context(), cfg, os.Stderr); err == nil || !strings.Contains(err.Error(), "same --hmac-key-file") {
		t.Errorf("a gateway with another key: %v", err)
	}
}
