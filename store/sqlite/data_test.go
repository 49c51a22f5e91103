package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"aspgate/account"
)

func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	db, _ := mustTempDB(t)
	kr := account.NewKeyring(bytes.Repeat([]byte{7}, 32))
	key := account.NewToken(32)
	mac := kr.MAC("apikey", key)
	if ok, err := db.APIKeyActive(ctx, "aries", mac); err != nil || ok {
		t.Fatalf("APIKeyActive before adding = %v, %v", ok, err)
	}
	if err := db.AddAPIKey(ctx, "aries", "portal", mac); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.APIKeyActive(ctx, "aries", mac); err != nil || !ok {
		t.Fatalf("APIKeyActive = %v, %v", ok, err)
	}
	for name, tc := range map[string]struct {
		app string
		mac []byte
	}{
		"other app":     {"customer", mac},
		"other key":     {"aries", kr.MAC("apikey", account.NewToken(32))},
		"other purpose": {"aries", kr.MAC("code", key)},
		"empty":         {"aries", nil},
	} {
		if ok, err := db.APIKeyActive(ctx, tc.app, tc.mac); err != nil || ok {
			t.Errorf("%s: APIKeyActive = %v, %v", name, ok, err)
		}
	}
	if err := db.AddAPIKey(ctx, "aries", "portal", kr.MAC("apikey", "another")); !errors.Is(err, account.ErrConflict) {
		t.Fatalf("a second active key named portal: %v", err)
	}
	if err := db.AddAPIKey(ctx, "aries", "mobile", mac); !errors.Is(err, account.ErrConflict) {
		t.Fatalf("the same key twice: %v", err)
	}
	if err := db.RevokeAPIKey(ctx, "aries", "portal"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.APIKeyActive(ctx, "aries", mac); ok {
		t.Fatal("a revoked key is active")
	}
	if err := db.RevokeAPIKey(ctx, "aries", "portal"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := db.RevokeAPIKey(ctx, "aries", "nobody"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("revoking an unknown key: %v", err)
	}
	// The name is free again once its key is revoked.
	mac2 := kr.MAC("apikey", account.NewToken(32))
	if err := db.AddAPIKey(ctx, "aries", "portal", mac2); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.APIKeyActive(ctx, "aries", mac2); !ok {
		t.Fatal("the new key is not active")
	}
}

// TestTakeSend: each limit a GCRA (a burst of Max, then one every Window/Max), every limit taken or none,
// Max <= 0 no limit, one row per key and window whatever the volume.
func TestTakeSend(t *testing.T) {
	ctx := context.Background()
	db, path := mustTempDB(t)
	limits := func(recipient, ip string) []account.Limit {
		return []account.Limit{
			{Name: "recipient_minute", Key: "to:" + recipient, Window: time.Minute, Max: 1},
			{Name: "recipient_hour", Key: "to:" + recipient, Window: time.Hour, Max: 5},
			{Name: "client_hour", Key: "ip:" + ip, Window: time.Hour, Max: 60},
		}
	}
	take := func(at time.Time, recipient, ip string) string {
		t.Helper()
		refused, err := db.TakeSend(ctx, at, limits(recipient, ip))
		if err != nil {
			t.Fatal(err)
		}
		if refused == nil {
			return ""
		}
		return refused.Name
	}
	if r := take(t0, "a", "ip1"); r != "" {
		t.Fatalf("first send refused by %s", r)
	}
	if r := take(t0.Add(59*time.Second), "a", "ip1"); r != "recipient_minute" {
		t.Fatalf("second send within a minute: %q", r)
	}
	if r := take(t0, "b", "ip1"); r != "" {
		t.Fatalf("another recipient refused by %s", r)
	}
	// Minutes 1..4 allow one each (the hour's burst of 5), minute 5 is refused by the hourly limit...
	for i := 1; i <= 4; i++ {
		if r := take(t0.Add(time.Duration(i)*time.Minute), "a", "ip1"); r != "" {
			t.Fatalf("send at minute %d refused by %s", i, r)
		}
	}
	if r := take(t0.Add(5*time.Minute), "a", "ip1"); r != "recipient_hour" {
		t.Fatalf("sixth send within the hour: %q", r)
	}
	// ...which refills one send every 12 minutes: the first from minute 12.
	if r := take(t0.Add(12*time.Minute-time.Second), "a", "ip1"); r != "recipient_hour" {
		t.Fatalf("before the refill: %q", r)
	}
	if r := take(t0.Add(12*time.Minute), "a", "ip1"); r != "" {
		t.Fatalf("after the refill: refused by %s", r)
	}
	// One row per key and window, whatever was counted.
	raw := mustRaw(t, path)
	if n := mustCount(t, raw, `SELECT count(*) FROM rate_limits WHERE key = 'to:a'`); n != 2 {
		t.Fatalf("%d rows for a, want 2", n)
	}
	// The client limit holds across recipients: a burst of 60.
	at := t0.Add(2 * time.Hour)
	for i := range 60 {
		if r := take(at, "r"+string(rune('A'+i)), "ip2"); r != "" {
			t.Fatalf("send %d from ip2 refused by %s", i+1, r)
		}
	}
	if r := take(at, "fresh", "ip2"); r != "client_hour" {
		t.Fatalf("61st send from one client within the hour: %q", r)
	}
	// A refusal took nothing: fresh's own budget is whole from another client.
	if r := take(at, "fresh", "ip3"); r != "" {
		t.Fatalf("the same recipient from another client refused by %s", r)
	}
	// Max <= 0 does not limit; no limits at all is no refusal.
	for range 3 {
		if refused, err := db.TakeSend(ctx, at, []account.Limit{{Key: "x", Window: time.Minute, Max: 0}}); err != nil || refused != nil {
			t.Fatalf("a limit of 0: %v, %v", refused, err)
		}
	}
	if refused, err := db.TakeSend(ctx, at, nil); err != nil || refused != nil {
		t.Fatalf("no limits: %v, %v", refused, err)
	}
	// Rows whose tat has passed say nothing any more: PruneLimits removes them, a batch at a time.
	late := t0.Add(26 * time.Hour)
	if r := take(late, "late", "ip9"); r != "" {
		t.Fatalf("late send refused by %s", r)
	}
	total := mustCount(t, raw, `SELECT count(*) FROM rate_limits`)
	if n, err := db.PruneLimits(ctx, late, 50); err != nil || n != 50 {
		t.Fatalf("first prune: %d, %v", n, err)
	}
	if n, err := db.PruneLimits(ctx, late, 1000); err != nil || n != total-53 {
		t.Fatalf("second prune: %d, %v; want %d", n, err, total-53)
	}
	if n := mustCount(t, raw, `SELECT count(*) FROM rate_limits`); n != 3 {
		t.Fatalf("%d rows after pruning, want 3 (late's)", n)
	}
}

// TestMetacharactersArePlainData stores and finds strings full of SQL and LIKE metacharacters, quotes,
// NUL and invalid UTF-8 byte for byte, and checks the schema survives them.
func TestMetacharactersArePlainData(t *testing.T) {
	ctx := context.Background()
	db, path := mustTempDB(t)
	evil := []string{
		`' OR '1'='1`,
		`"; DROP TABLE users;--`,
		`'); DELETE FROM users; --`,
		`%`, `_`, `\`, `*`, `[a-z]`,
		"nul\x00byte",
		"bad\xff\xfeutf8",
		"line\r\nbreak",
		`x' UNION SELECT password_hash FROM users --`,
	}
	if err := db.AddOperator(ctx, 1, evil[1]); err != nil {
		t.Fatal(err)
	}
	for i, s := range evil {
		u := account.NewUser{UserName: s, Email: s + "@" + s, FirstName: ptr(s), LastName: ptr(s), Title: ptr(s),
			OperatorID: ptr[int64](1), PasswordHash: s}
		id := mustUser(t, db, u)
		for name, find := range map[string]func() (*account.User, error){
			"username": func() (*account.User, error) { return db.UserByUserName(ctx, s) },
			"email":    func() (*account.User, error) { return db.UserByEmail(ctx, s+"@"+s) },
		} {
			got, err := find()
			if err != nil {
				t.Fatalf("%q by %s: %v", s, name, err)
			}
			if got.ID != id || got.UserName != s || got.Email != s+"@"+s || *got.FirstName != s || *got.LastName != s ||
				*got.Title != s || got.PasswordHash != s {
				t.Fatalf("%q by %s came back as %+v", s, name, got)
			}
		}
		if _, err := db.UserByPhone(ctx, s); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("phone %q: %v", s, err)
		}
		if _, err := db.UserByUserName(ctx, s+"x"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("username %q+x: %v", s, err)
		}
		mac := []byte(s)
		if err := db.AddAPIKey(ctx, s, s, mac); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.APIKeyActive(ctx, s, mac); err != nil || !ok {
			t.Fatalf("api key %q: %v, %v", s, ok, err)
		}
		msg := account.Message{App: s, Channel: account.Email, Kind: account.KindChangeLink, To: s, LinkBase: s, Secret: s}
		if err := db.IssueChangeRequest(ctx, account.NewChangeRequest{UserID: id, MAC: mac, CreatedAt: t0,
			ExpiresAt: t0.Add(time.Hour)}, msg); err != nil {
			t.Fatal(err)
		}
		r, err := db.ChangeRequestByMAC(ctx, mac)
		if err != nil || r.UserID != id {
			t.Fatalf("change request %q: %+v, %v", s, r, err)
		}
		audit := account.Audit{Event: s, IPAddress: s, UserAgent: s, ClientIP: s, PermanentSessionMAC: []byte(s)}
		if err := db.ChangePassword(ctx, r.ID, id, s+"2", t0.Add(time.Minute), audit); err != nil {
			t.Fatal(err)
		}
		if refused, err := db.TakeSend(ctx, t0, []account.Limit{{Key: s, Window: time.Minute, Max: 1}}); err != nil || refused != nil {
			t.Fatalf("TakeSend(%q) = %v, %v", s, refused, err)
		}
		if refused, _ := db.TakeSend(ctx, t0, []account.Limit{{Key: s, Window: time.Minute, Max: 1}}); refused == nil {
			t.Fatalf("TakeSend(%q) twice allowed", s)
		}
		rows, err := db.PendingOutbox(ctx)
		if err != nil || len(rows) != i+1 {
			t.Fatalf("outbox: %d rows, %v", len(rows), err)
		}
		if got := rows[i]; got.App != s || got.To != s || got.LinkBase != s || got.Secret != s {
			t.Fatalf("outbox row for %q: %+v", s, got)
		}
		if err := db.RevokeAPIKey(ctx, s, s); err != nil {
			t.Fatal(err)
		}
		rule := account.SignInRule{Attempts: 1, Period: time.Minute, Block: time.Minute}
		if ok, err := db.SignInAttempt(ctx, s, t0, rule); !ok || err != nil {
			t.Fatalf("SignInAttempt(%q) = %v, %v", s, ok, err)
		}
		if ok, err := db.SignInAttempt(ctx, s, t0, rule); ok || err != nil {
			t.Fatalf("second SignInAttempt(%q) = %v, %v", s, ok, err)
		}
		lim := []account.Limit{{Key: s, Window: time.Hour, Max: 1}}
		if err := db.ChargeLimits(ctx, t0, lim); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.LimitAllows(ctx, t0, lim); ok || err != nil {
			t.Fatalf("LimitAllows(%q) = %v, %v", s, ok, err)
		}
	}
	raw := mustRaw(t, path)
	if n := mustCount(t, raw, `SELECT count(*) FROM users`); n != len(evil) {
		t.Fatalf("%d users, want %d", n, len(evil))
	}
	if n := mustCount(t, raw, `SELECT count(*) FROM sqlite_master WHERE type = 'table'`); n != 17 {
		t.Fatalf("%d tables, want 17 (send_log gone, four decoy tables added)", n)
	}
	mustSound(t, db)
}
