package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/store/sqlite"
)

func TestCodes(t *testing.T) {
	ctx := context.Background()
	db, path := mustTempDB(t)
	alice := mustUser(t, db, account.NewUser{UserName: "alice", Email: "alice@example.com", Phone: "79990000001"})
	bob := mustUser(t, db, account.NewUser{UserName: "bob", Email: "bob@example.com"})
	raw := mustRaw(t, path)

	if _, err := db.LiveCode(ctx, alice, "reset"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("LiveCode with no code: %v", err)
	}
	issue := func(user int64, mac string, at time.Time) {
		t.Helper()
		err := db.IssueCode(ctx, account.NewCode{UserID: user, Purpose: "reset", MAC: []byte(mac), CreatedAt: at,
			ExpiresAt: at.Add(10 * time.Minute)}, account.Message{App: "lcmanager", Channel: account.SMS,
			Kind: account.KindCode, To: "79990000001", Secret: mac, ExpiresAt: at.Add(10 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
	}
	issue(alice, "mac-1", t0)
	first, err := db.LiveCode(ctx, alice, "reset")
	if err != nil {
		t.Fatal(err)
	}
	if first.UserID != alice || string(first.MAC) != "mac-1" || !first.ExpiresAt.Equal(t0.Add(10*time.Minute)) ||
		first.Attempts != 0 || first.ExpiresAt.Location() != time.UTC {
		t.Fatalf("LiveCode = %+v", first)
	}

	// A newer code supersedes the older one: the old one is no longer live and cannot be consumed.
	issue(alice, "mac-2", t0.Add(time.Minute))
	second, err := db.LiveCode(ctx, alice, "reset")
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID || string(second.MAC) != "mac-2" {
		t.Fatalf("LiveCode after a re-issue = %+v", second)
	}
	if n := mustCount(t, raw, `SELECT count(*) FROM codes WHERE user_id = ? AND superseded_at IS NOT NULL`, alice); n != 1 {
		t.Fatalf("%d superseded codes, want 1", n)
	}
	if err := db.ResetPassword(ctx, first.ID, alice, "h-old-code", t0.Add(2*time.Minute)); !errors.Is(err, account.ErrCodeRejected) {
		t.Fatalf("superseded code: %v", err)
	}
	// Another purpose and another user keep their own live codes.
	if err := db.IssueCode(ctx, account.NewCode{UserID: alice, Purpose: "2fa", MAC: []byte("mac-2fa"), CreatedAt: t0,
		ExpiresAt: t0.Add(time.Minute)}, account.Message{App: "r7office", Channel: account.SMS, Kind: account.KindLoginCode, To: "79990000001"}); err != nil {
		t.Fatal(err)
	}
	issue(bob, "mac-bob", t0)
	if c, err := db.LiveCode(ctx, alice, "reset"); err != nil || c.ID != second.ID {
		t.Fatalf("alice's reset code after other issues: %+v, %v", c, err)
	}

	for want := 1; want <= 3; want++ {
		n, err := db.CountAttempt(ctx, second.ID)
		if err != nil || n != want {
			t.Fatalf("CountAttempt = %d, %v; want %d", n, err, want)
		}
	}
	if c, _ := db.LiveCode(ctx, alice, "reset"); c.Attempts != 3 {
		t.Fatalf("attempts = %d, want 3", c.Attempts)
	}
	if _, err := db.CountAttempt(ctx, 9999); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("CountAttempt of an unknown code: %v", err)
	}

	// The code is alice's: bob cannot consume it; an expired code fails; then alice's succeeds once.
	if err := db.ResetPassword(ctx, second.ID, bob, "h-bob", t0.Add(2*time.Minute)); !errors.Is(err, account.ErrCodeRejected) {
		t.Fatalf("another user's code: %v", err)
	}
	if err := db.ResetPassword(ctx, second.ID, alice, "h-late", t0.Add(11*time.Minute)); !errors.Is(err, account.ErrCodeRejected) {
		t.Fatalf("expired code: %v", err)
	}
	before, _ := db.UserByID(ctx, alice)
	if err := db.ResetPassword(ctx, second.ID, alice, "h-new", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.ResetPassword(ctx, second.ID, alice, "h-again", t0.Add(3*time.Minute)); !errors.Is(err, account.ErrCodeRejected) {
		t.Fatalf("used code: %v", err)
	}
	after, _ := db.UserByID(ctx, alice)
	if after.PasswordHash != "h-new" {
		t.Fatalf("hash after reset = %q", after.PasswordHash)
	}
	if h, _ := db.PasswordHistory(ctx, alice, 5); !slices.Equal(h, []string{before.PasswordHash}) {
		t.Fatalf("history after reset = %q", h)
	}
	if _, err := db.LiveCode(ctx, alice, "reset"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("LiveCode after use: %v", err)
	}
	if c, err := db.LiveCode(ctx, alice, "2fa"); err != nil || string(c.MAC) != "mac-2fa" {
		t.Fatalf("2fa code after the reset: %+v, %v", c, err)
	}

	// Every issue queued its message in the same transaction.
	rows, err := db.PendingOutbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, r := range rows {
		secrets = append(secrets, r.Secret)
		if r.Status != "pending" || r.CreatedAt.IsZero() || r.IdempotencyKey == "" || r.Channel != account.SMS {
			t.Errorf("outbox row %+v", r)
		}
	}
	if !slices.Equal(secrets, []string{"mac-1", "mac-2", "", "mac-bob"}) {
		t.Fatalf("outbox secrets = %q", secrets)
	}
	if rows[0].App != "lcmanager" || rows[0].To != "79990000001" || rows[0].Kind != account.KindCode || !rows[0].ExpiresAt.Equal(t0.Add(10*time.Minute)) || !rows[0].CreatedAt.Equal(t0) {
		t.Fatalf("first outbox row = %+v", rows[0])
	}
	mustSound(t, db)
}

func TestIssueCodeForUnknownUserStoresNothing(t *testing.T) {
	ctx := context.Background()
	db, path := mustTempDB(t)
	err := db.IssueCode(ctx, account.NewCode{UserID: 42, Purpose: "reset", MAC: []byte("m"), CreatedAt: t0,
		ExpiresAt: t0.Add(time.Minute)}, account.Message{App: "lcmanager", Channel: account.SMS, To: "1", Secret: "123456"})
	if err == nil {
		t.Fatal("a code for an unknown user was stored")
	}
	raw := mustRaw(t, path)
	if n := mustCount(t, raw, `SELECT count(*) FROM outbox`) + mustCount(t, raw, `SELECT count(*) FROM codes`); n != 0 {
		t.Fatalf("%d rows left behind by a failed issue", n)
	}
}

func TestPasswordHistoryNewestFirst(t *testing.T) {
	ctx := context.Background()
	db, _ := mustTempDB(t)
	user := mustUser(t, db, account.NewUser{UserName: "u", Email: "u@example.com", PasswordHash: "h0"})
	at := t0
	for i := 1; i <= 7; i++ {
		at = at.Add(time.Minute)
		if err := db.IssueCode(ctx, account.NewCode{UserID: user, Purpose: "reset", MAC: []byte{byte(i)}, CreatedAt: at,
			ExpiresAt: at.Add(time.Minute)}, account.Message{App: "lcmanager", Channel: account.Email, Kind: account.KindCode, To: "u@example.com"}); err != nil {
			t.Fatal(err)
		}
		c, err := db.LiveCode(ctx, user, "reset")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ResetPassword(ctx, c.ID, user, "h"+string(rune('0'+i)), at); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{5, []string{"h6", "h5", "h4", "h3", "h2"}},
		{100, []string{"h6", "h5", "h4", "h3", "h2", "h1", "h0"}},
		{1, []string{"h6"}},
		{0, nil},
	} {
		got, err := db.PasswordHistory(ctx, user, tc.n)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("PasswordHistory(%d) = %q, %v; want %q", tc.n, got, err, tc.want)
		}
	}
	if u, _ := db.UserByID(ctx, user); u.PasswordHash != "h7" {
		t.Fatalf("current hash = %q", u.PasswordHash)
	}
	if got, err := db.PasswordHistory(ctx, 999, 5); err != nil || len(got) != 0 {
		t.Fatalf("history of an unknown user = %q, %v", got, err)
	}
}

func TestChangeRequests(t *testing.T) {
	ctx := context.Background()
	db, path := mustTempDB(t)
	user := mustUser(t, db, account.NewUser{UserName: "carol", Email: "carol@example.com", PasswordHash: "h-old"})
	other := mustUser(t, db, account.NewUser{UserName: "dave", Email: "dave@example.com", PasswordHash: "h-dave"})
	issue := func(mac string, at time.Time) {
		t.Helper()
		if err := db.IssueChangeRequest(ctx, account.NewChangeRequest{UserID: user, MAC: []byte(mac), CreatedAt: at,
			ExpiresAt: at.Add(time.Hour)}, account.Message{App: "aries", Channel: account.Email, To: "carol@example.com",
			Kind: account.KindChangeLink, LinkBase: "https://example.com/change?id=", Secret: mac}); err != nil {
			t.Fatal(err)
		}
	}
	issue("cr-1", t0)
	r1, err := db.ChangeRequestByMAC(ctx, []byte("cr-1"))
	if err != nil || r1.UserID != user || r1.Used || !r1.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ChangeRequestByMAC = %+v, %v", r1, err)
	}
	if _, err := db.ChangeRequestByMAC(ctx, []byte("unknown")); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown change request: %v", err)
	}

	// A newer request supersedes the older one, which then reads as used and cannot be consumed.
	issue("cr-2", t0.Add(time.Minute))
	if r, _ := db.ChangeRequestByMAC(ctx, []byte("cr-1")); !r.Used {
		t.Fatalf("superseded request reads %+v", r)
	}
	if err := db.ChangePassword(ctx, r1.ID, user, "h-x", t0.Add(2*time.Minute), account.Audit{}); !errors.Is(err, account.ErrChangeRequestNotFound) {
		t.Fatalf("superseded request: %v", err)
	}
	r2, _ := db.ChangeRequestByMAC(ctx, []byte("cr-2"))
	if err := db.ChangePassword(ctx, r2.ID, other, "h-x", t0.Add(2*time.Minute), account.Audit{}); !errors.Is(err, account.ErrChangeRequestNotFound) {
		t.Fatalf("another user's request: %v", err)
	}
	if err := db.ChangePassword(ctx, r2.ID, user, "h-x", t0.Add(61*time.Minute), account.Audit{}); !errors.Is(err, account.ErrChangeRequestExpired) {
		t.Fatalf("expired request: %v", err)
	}
	audit := account.Audit{IPAddress: "203.0.113.9", UserAgent: "Mozilla/5.0", ClientIP: "198.51.100.4", PermanentSessionMAC: []byte("psid-mac")}
	if err := db.ChangePassword(ctx, r2.ID, user, "h-new", t0.Add(3*time.Minute), audit); err != nil {
		t.Fatal(err)
	}
	if err := db.ChangePassword(ctx, r2.ID, user, "h-newer", t0.Add(4*time.Minute), audit); !errors.Is(err, account.ErrChangeRequestNotFound) {
		t.Fatalf("used request: %v", err)
	}
	if r, _ := db.ChangeRequestByMAC(ctx, []byte("cr-2")); !r.Used {
		t.Fatalf("used request reads %+v", r)
	}
	if u, _ := db.UserByID(ctx, user); u.PasswordHash != "h-new" {
		t.Fatalf("hash = %q", u.PasswordHash)
	}
	if h, _ := db.PasswordHistory(ctx, user, 5); !slices.Equal(h, []string{"h-old"}) {
		t.Fatalf("history = %q", h)
	}
	if u, _ := db.UserByID(ctx, other); u.PasswordHash != "h-dave" {
		t.Fatalf("the other user's hash changed: %q", u.PasswordHash)
	}

	raw := mustRaw(t, path)
	var (
		at                       int64
		event, ip, ua, client    string
		psid                     []byte
		auditUser, auditRowCount int64
	)
	if err := raw.QueryRow(`SELECT at, event, user_id, ip_address, user_agent, client_ip, permanent_session_mac, (SELECT count(*) FROM audit) FROM audit`).
		Scan(&at, &event, &auditUser, &ip, &ua, &client, &psid, &auditRowCount); err != nil {
		t.Fatal(err)
	}
	if at != t0.Add(3*time.Minute).UnixMilli() || event != "password_changed" || auditUser != user || ip != audit.IPAddress ||
		ua != audit.UserAgent || client != audit.ClientIP || string(psid) != "psid-mac" || auditRowCount != 1 {
		t.Fatalf("audit row: %d %q %d %q %q %q %q (%d rows)", at, event, auditUser, ip, ua, client, psid, auditRowCount)
	}
	if err := db.IssueChangeRequest(ctx, account.NewChangeRequest{UserID: other, MAC: []byte("cr-2"), CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour)}, account.Message{App: "aries", Channel: account.Email, Kind: account.KindChangeLink, To: "d"}); err == nil {
		t.Fatal("a second request with the same MAC was stored")
	}
	rows, _ := db.PendingOutbox(ctx)
	if len(rows) != 2 || rows[1].Link() != "https://example.com/change?id=cr-2" || rows[1].Secret != "cr-2" || rows[1].Channel != account.Email {
		t.Fatalf("outbox = %+v", rows)
	}
	mustSound(t, db)
}

// TestDecoys: the decoy writes go to the decoy tables only, keep neither the address nor the secret, queue
// nothing and wake no dispatcher; an attempt lands on the live decoy code; pruning ages them out.
func TestDecoys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	woken := 0
	db, err := sqlite.Open(ctx, path, sqlite.Options{OnEnqueue: func() { woken++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := mustRaw(t, path)
	msg := account.Message{App: "lcmanager", Channel: account.SMS, Kind: account.KindCode, To: "79990001122", Secret: "493817",
		ExpiresAt: t0.Add(10 * time.Minute)}
	for i := range 3 {
		if err := db.IssueDecoyCode(ctx, account.NewCode{Purpose: account.PurposeReset, MAC: []byte(fmt.Sprintf("mac-%d", i)),
			CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}, msg); err != nil {
			t.Fatal(err)
		}
	}
	link := account.Message{App: "aries", Channel: account.Email, Kind: account.KindChangeLink, To: "nobody@example.com",
		Secret: "change-secret-0123456789", LinkBase: "https://x/?id=", ExpiresAt: t0.Add(time.Hour)}
	if err := db.IssueDecoyChangeRequest(ctx, account.NewChangeRequest{MAC: []byte("cr"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, link); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := db.CountDecoyAttempt(ctx, account.PurposeReset); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM outbox`:          0,
		`SELECT count(*) FROM codes`:           0,
		`SELECT count(*) FROM change_requests`: 0,
		`SELECT count(*) FROM decoy_outbox`:    4,
		`SELECT count(*) FROM decoy_codes WHERE used_at IS NULL AND superseded_at IS NULL`:         1,
		`SELECT count(*) FROM decoy_codes`:                                                         4, // the migration's and three
		`SELECT attempts FROM decoy_codes WHERE superseded_at IS NULL`:                             2,
		`SELECT count(*) FROM decoy_outbox WHERE to_addr LIKE '%7999%' OR to_addr LIKE '%@%'`:      0,
		`SELECT count(*) FROM decoy_outbox WHERE secret IN ('493817', 'change-secret-0123456789')`: 0,
		`SELECT count(*) FROM decoy_outbox WHERE length(to_addr) = 11 AND length(secret) = 6`:      3,
	} {
		if n := mustCount(t, raw, q); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
	if woken != 0 {
		t.Errorf("decoys woke the dispatcher %d times", woken)
	}
	if _, err := db.PruneOutbox(ctx, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := mustCount(t, raw, `SELECT count(*) FROM decoy_outbox`); n != 0 {
		t.Errorf("%d decoy messages after pruning", n)
	}
	if n := mustCount(t, raw, `SELECT count(*) FROM decoy_codes WHERE used_at IS NULL AND superseded_at IS NULL`); n != 1 {
		t.Errorf("pruning took the live decoy code: %d left", n)
	}
}
