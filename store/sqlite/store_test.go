package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/store/sqlite"
)

// testArgon2 keeps hashing cheap in tests; production uses account.DefaultArgon2.
var testArgon2 = account.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustOpen(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func mustTempDB(tb testing.TB) (*sqlite.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "aspgate.db")
	return mustOpen(tb, path), path
}

func mustHash(tb testing.TB, password string) string {
	tb.Helper()
	h, err := account.NewHasher(testArgon2, 0).Hash(context.Background(), password)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func mustUser(tb testing.TB, db *sqlite.DB, u account.NewUser) int64 {
	tb.Helper()
	if u.PasswordHash == "" {
		u.PasswordHash = mustHash(tb, "initial password")
	}
	id, _, err := db.AddUser(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// mustRaw opens the file with a plain connection, to look at what the store's methods do not show.
func mustRaw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite3", path+"?_busy_timeout=5000")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

func mustCount(tb testing.TB, raw *sql.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := raw.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

func mustSound(tb testing.TB, db *sqlite.DB) {
	tb.Helper()
	if err := db.IntegrityCheck(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestMigrationsAppliedOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new", "..", "aspgate.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) == 0 || first[0].Version != 1 || first[0].Name != "0001_init" || !first[0].AppliedAt.Equal(t0) {
		t.Fatalf("migrations after the first open: %+v", first)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Re-open with a later clock: nothing is applied again.
	db2, err := sqlite.Open(ctx, path, sqlite.Options{Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	second, err := db2.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first, second) {
		t.Fatalf("re-open changed the migrations:\n%+v\n%+v", first, second)
	}
	raw := mustRaw(t, path)
	if n := mustCount(t, raw, `SELECT count(*) FROM schema_migrations`); n != len(first) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(first))
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	for _, table := range []string{"operators", "users", "password_history", "codes", "change_requests",
		"api_keys", "rate_limits", "signin_guard", "decoy_users", "decoy_codes", "decoy_change_requests", "decoy_outbox", "outbox", "audit"} {
		if n := mustCount(t, raw, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table); n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	mustSound(t, db2)
}

func TestOpenConcurrentProcesses(t *testing.T) {
	// Two handles opening a fresh file at once (as serve and a CLI command might) apply each migration once.
	path := filepath.Join(t.TempDir(), "aspgate.db")
	errs := make(chan error, 4)
	dbs := make(chan *sqlite.DB, 4)
	for range 4 {
		go func() {
			db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			errs <- err
			dbs <- db
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if db := <-dbs; db != nil {
			defer db.Close()
		}
	}
	raw := mustRaw(t, path)
	if n, max := mustCount(t, raw, `SELECT count(*) FROM schema_migrations`), mustCount(t, raw, `SELECT max(version) FROM schema_migrations`); n != max {
		t.Fatalf("schema_migrations has %d rows after concurrent opens, want one per migration (%d)", n, max)
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if db, err := sqlite.Open(context.Background(), p, sqlite.Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestOpenOddFileNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a?b.db", "a#b.db", "a%20b.db", "a b.db", "ünï.db"} {
		path := filepath.Join(dir, name)
		db := mustOpen(t, path)
		mustUser(t, db, account.NewUser{UserName: name, Email: name + "@example.com"})
		if n := mustCount(t, mustRaw(t, "file:"+filepath.ToSlash(dir)+"/"+urlEscape(name)), `SELECT count(*) FROM users`); n != 1 {
			t.Errorf("%q: %d users in the file, want 1", name, n)
		}
	}
}

func urlEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '?', '#', '%':
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUsers(t *testing.T) {
	ctx := context.Background()
	db, _ := mustTempDB(t)
	if err := db.AddOperator(ctx, 7, "Operator Seven"); err != nil {
		t.Fatal(err)
	}
	hash := mustHash(t, "first password")
	full := account.NewUser{
		ID: 1001, UserName: "Alice", Email: "Alice@Example.com", Phone: "79991234567", OperatorID: ptr[int64](7),
		FirstName: ptr("Alice"), LastName: ptr("Liddell"), Title: ptr("Dr"), Gender: ptr[int32](2),
		UserType: ptr[int32](1), IsLazy: true, SharedDataPermission: true, PasswordHash: hash,
	}
	id, uidB, err := db.AddUser(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	uid := sqlite.FormatUID(uidB)
	if id != 1001 || !guidRE.MatchString(uid) {
		t.Fatalf("AddUser = %d, %q", id, uid)
	}
	bare, bareUIDB, err := db.AddUser(ctx, account.NewUser{UserName: "bob", Email: "bob@example.com", PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	bareUID := sqlite.FormatUID(bareUIDB)
	if bare != 1002 || bareUID == uid || !guidRE.MatchString(bareUID) {
		t.Fatalf("second AddUser = %d, %q", bare, bareUID)
	}

	lookups := map[string]func() (*account.User, error){
		"phone":        func() (*account.User, error) { return db.UserByPhone(ctx, "79991234567") },
		"email":        func() (*account.User, error) { return db.UserByEmail(ctx, "Alice@Example.com") },
		"email case":   func() (*account.User, error) { return db.UserByEmail(ctx, "aLICE@eXAMPLE.COM") },
		"username":     func() (*account.User, error) { return db.UserByUserName(ctx, "Alice") },
		"username low": func() (*account.User, error) { return db.UserByUserName(ctx, "alice") },
		"id":           func() (*account.User, error) { return db.UserByID(ctx, 1001) },
	}
	for name, find := range lookups {
		u, err := find()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sqlite.FormatUID(u.UID) != uid || u.ID != 1001 || u.UserName != "Alice" || u.Email != "Alice@Example.com" ||
			u.Phone != "79991234567" || *u.OperatorID != 7 || *u.FirstName != "Alice" || *u.LastName != "Liddell" ||
			*u.Title != "Dr" || *u.Gender != 2 || *u.UserType != 1 || !u.IsLazy || !u.SharedDataPermission ||
			u.PasswordHash != hash {
			t.Fatalf("%s: %+v", name, u)
		}
	}
	u, err := db.UserByID(ctx, bare)
	if err != nil {
		t.Fatal(err)
	}
	if u.Phone != "" || u.OperatorID != nil || u.FirstName != nil || u.LastName != nil || u.Title != nil ||
		u.Gender != nil || u.UserType != nil || u.IsLazy || u.SharedDataPermission {
		t.Fatalf("optional fields of a bare user: %+v", u)
	}

	for name, find := range map[string]func() (*account.User, error){
		"phone":       func() (*account.User, error) { return db.UserByPhone(ctx, "70000000000") },
		"empty phone": func() (*account.User, error) { return db.UserByPhone(ctx, "") },
		"email":       func() (*account.User, error) { return db.UserByEmail(ctx, "nobody@example.com") },
		"username":    func() (*account.User, error) { return db.UserByUserName(ctx, "carol") },
		"id":          func() (*account.User, error) { return db.UserByID(ctx, 99) },
		"id 0":        func() (*account.User, error) { return db.UserByID(ctx, 0) },
	} {
		if u, err := find(); !errors.Is(err, account.ErrNotFound) || u != nil {
			t.Errorf("unknown %s: %+v, %v", name, u, err)
		}
	}

	dups := []struct {
		u      account.NewUser
		column string
	}{
		{account.NewUser{ID: 1001, UserName: "x1", Email: "x1@e.com"}, "id"},
		{account.NewUser{UserName: "ALICE", Email: "x2@e.com"}, "user name"},
		{account.NewUser{UserName: "x3", Email: "alice@example.COM"}, "e-mail"},
		{account.NewUser{UserName: "x4", Email: "x4@e.com", Phone: "79991234567"}, "phone"},
		{account.NewUser{UserName: "x5", Email: "x5@e.com", UID: &uidB}, "GUID"},
	}
	for _, d := range dups {
		d.u.PasswordHash = hash
		_, _, err := db.AddUser(ctx, d.u)
		var ce *account.ConflictError
		if !errors.Is(err, account.ErrConflict) || !errors.As(err, &ce) || ce.Record != "user" || !slices.Equal(ce.Fields, []string{d.column}) {
			t.Errorf("duplicate %s: %v", d.column, err)
		}
	}
	if _, _, err := db.AddUser(ctx, account.NewUser{UserName: "y", Email: "y@e.com", OperatorID: ptr[int64](8), PasswordHash: hash}); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("unknown operator: %v", err)
	}
	if _, _, err := db.AddUser(ctx, account.NewUser{UserName: "z", Email: "z@e.com", Phone: "+7999", PasswordHash: hash}); err == nil {
		t.Error("a phone with a + was stored")
	}
	if err := db.AddOperator(ctx, 7, "again"); !errors.Is(err, account.ErrConflict) {
		t.Errorf("duplicate operator: %v", err)
	}
	mustSound(t, db)
}

func TestUIDFormat(t *testing.T) {
	for range 100 {
		b := sqlite.NewUID()
		s := sqlite.FormatUID(b)
		if !guidRE.MatchString(s) {
			t.Fatalf("%q is not a lower-case version 4 GUID", s)
		}
		back, err := sqlite.ParseUID(s)
		if err != nil || back != b {
			t.Fatalf("ParseUID(%q) = %x, %v", s, back, err)
		}
	}
	for _, bad := range []string{"", "0123", "0123456789abcdef0123456789abcdef", "0123456-789ab-cdef-0123-456789abcdef0",
		"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"} {
		if _, err := sqlite.ParseUID(bad); err == nil {
			t.Errorf("ParseUID(%q) succeeded", bad)
		}
	}
}
