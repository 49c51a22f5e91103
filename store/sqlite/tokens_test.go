package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/store/sqlite"
)

func mustToken(tb testing.TB, db *sqlite.DB, user int64, mac string, at time.Time) {
	tb.Helper()
	if err := db.IssueAPIToken(context.Background(), account.NewAPIToken{UserID: user, MAC: []byte(mac), CreatedAt: at,
		ExpiresAt: at.Add(24 * time.Hour)}); err != nil {
		tb.Fatal(err)
	}
}

func mustTokenState(tb testing.TB, db *sqlite.DB, mac string) *account.APIToken {
	tb.Helper()
	tok, err := db.APITokenByMAC(context.Background(), []byte(mac))
	if err != nil {
		tb.Fatalf("token %s: %v", mac, err)
	}
	return tok
}

func TestAPITokens(t *testing.T) {
	ctx := context.Background()
	db, _ := mustTempDB(t)
	alice := mustUser(t, db, account.NewUser{UserName: "alice", Email: "alice@example.com"})
	bob := mustUser(t, db, account.NewUser{UserName: "bob", Email: "bob@example.com"})
	mustToken(t, db, alice, "a1", t0)
	mustToken(t, db, alice, "a2", t0)
	mustToken(t, db, bob, "b1", t0)

	a, _ := db.UserByID(ctx, alice)
	tok := mustTokenState(t, db, "a1")
	if tok.UserID != alice || tok.UserUID != a.UID || !tok.CreatedAt.Equal(t0) || !tok.ExpiresAt.Equal(t0.Add(24*time.Hour)) ||
		!tok.RevokedAt.IsZero() || tok.CreatedAt.Location() != time.UTC {
		t.Fatalf("token = %+v", tok)
	}
	if _, err := db.APITokenByMAC(ctx, []byte("nope")); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if err := db.IssueAPIToken(ctx, account.NewAPIToken{UserID: bob, MAC: []byte("a1"), CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour)}); !errors.Is(err, account.ErrConflict) {
		t.Fatalf("duplicate MAC: %v", err)
	}

	at := t0.Add(time.Minute)
	for range 2 { // idempotent
		if err := db.RevokeAPIToken(ctx, []byte("a1"), at); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Minute)
	}
	if err := db.RevokeAPIToken(ctx, []byte("nope"), at); err != nil {
		t.Fatalf("unknown token: %v", err)
	}
	if got := mustTokenState(t, db, "a1").RevokedAt; !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("revoked at %v, want the first revocation", got)
	}
	if n, err := db.RevokeUserAPITokens(ctx, alice, at); err != nil || n != 1 {
		t.Fatalf("RevokeUserAPITokens = %d, %v", n, err)
	}
	if !mustTokenState(t, db, "b1").RevokedAt.IsZero() {
		t.Fatal("another user's token was revoked")
	}
	mustSound(t, db)
}

// TestPasswordChangeRevokesTokens changes passwords through the existing store methods of two faces (the
// code flow and the change-request flow): the trigger revokes the user's tokens, and only theirs.
func TestPasswordChangeRevokesTokens(t *testing.T) {
	ctx := context.Background()
	db, path := mustTempDB(t)
	alice := mustUser(t, db, account.NewUser{UserName: "alice", Email: "alice@example.com", Phone: "79990000001"})
	bob := mustUser(t, db, account.NewUser{UserName: "bob", Email: "bob@example.com"})
	mustToken(t, db, alice, "a1", t0)
	mustToken(t, db, alice, "a2", t0)
	mustToken(t, db, bob, "b1", t0)

	// Code flow (lcmanager/ereader): ResetPassword.
	if err := db.IssueCode(ctx, account.NewCode{UserID: alice, Purpose: account.PurposeReset, MAC: []byte("c"),
		CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}, account.Message{App: "lcmanager", Channel: account.SMS,
		Kind: account.KindCode, To: "79990000001", Secret: "123456"}); err != nil {
		t.Fatal(err)
	}
	code, err := db.LiveCode(ctx, alice, account.PurposeReset)
	if err != nil {
		t.Fatal(err)
	}
	changed := t0.Add(5 * time.Minute)
	if err := db.ResetPassword(ctx, code.ID, alice, mustHash(t, "new password 1"), changed); err != nil {
		t.Fatal(err)
	}
	for _, mac := range []string{"a1", "a2"} {
		if got := mustTokenState(t, db, mac).RevokedAt; !got.Equal(changed) {
			t.Fatalf("token %s revoked at %v, want %v", mac, got, changed)
		}
	}
	if !mustTokenState(t, db, "b1").RevokedAt.IsZero() {
		t.Fatal("another user's token was revoked")
	}

	// A token issued after the change lives until the next one (change-request flow: customer/aries).
	mustToken(t, db, alice, "a3", changed.Add(time.Minute))
	if !mustTokenState(t, db, "a3").RevokedAt.IsZero() {
		t.Fatal("a token issued after the change is revoked")
	}
	if err := db.IssueChangeRequest(ctx, account.NewChangeRequest{UserID: alice, MAC: []byte("r"), CreatedAt: changed,
		ExpiresAt: changed.Add(time.Hour)}, account.Message{App: "aries", Channel: account.Email,
		Kind: account.KindChangeLink, To: "alice@example.com", Secret: "r"}); err != nil {
		t.Fatal(err)
	}
	req, err := db.ChangeRequestByMAC(ctx, []byte("r"))
	if err != nil {
		t.Fatal(err)
	}
	changed2 := changed.Add(10 * time.Minute)
	if err := db.ChangePassword(ctx, req.ID, alice, mustHash(t, "new password 2"), changed2, account.Audit{}); err != nil {
		t.Fatal(err)
	}
	if got := mustTokenState(t, db, "a3").RevokedAt; !got.Equal(changed2) {
		t.Fatalf("token a3 revoked at %v, want %v", got, changed2)
	}
	if got := mustTokenState(t, db, "a1").RevokedAt; !got.Equal(changed) {
		t.Fatalf("an earlier revocation was overwritten: %v", got)
	}

	// Replacing the hash alone is an upgrade of the same password (UpgradePasswordHash): no revocation.
	mustToken(t, db, bob, "b2", changed2)
	u, _ := db.UserByID(ctx, bob)
	if err := db.UpgradePasswordHash(ctx, bob, u.PasswordHash, "$argon2id$upgraded"); err != nil {
		t.Fatal(err)
	}
	if !mustTokenState(t, db, "b1").RevokedAt.IsZero() || !mustTokenState(t, db, "b2").RevokedAt.IsZero() {
		t.Fatal("a hash upgrade revoked tokens")
	}
	// Any other writer that records a change (a raw UPDATE moving password_changed_at, as an admin tool
	// might do) revokes.
	if _, err := mustRaw(t, path).Exec(`UPDATE users SET password_hash = 'x', password_changed_at = password_changed_at + 5 WHERE id = ?`, bob); err != nil {
		t.Fatal(err)
	}
	if mustTokenState(t, db, "b1").RevokedAt.IsZero() || mustTokenState(t, db, "b2").RevokedAt.IsZero() {
		t.Fatal("a raw password change did not revoke")
	}
	mustSound(t, db)
}
