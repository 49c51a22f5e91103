package account_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"aspgate/account"
)

var fastArgon = account.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

type fixture struct {
	svc   *account.Service
	store *memStore
	now   time.Time
	logs  *bytes.Buffer
	user  *account.User
}

func (f *fixture) advance(d time.Duration) { f.now = f.now.Add(d) }

func mustFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{store: newMemStore(), now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	h := account.NewHasher(fastArgon, 4)
	hash, err := h.Hash(context.Background(), "Old-password-1")
	if err != nil {
		tb.Fatal(err)
	}
	f.user = &account.User{ID: 7, UserName: "ivan", Email: "ivan@example.com", Phone: "79991234567", PasswordHash: hash}
	f.store.users = append(f.store.users, f.user)
	f.svc = &account.Service{
		Store: f.store, Hasher: h, Keys: account.NewKeyring(bytes.Repeat([]byte{1}, 32)),
		Config: account.DefaultConfig(), Now: func() time.Time { return f.now },
		Log: slog.New(slog.NewJSONHandler(f.logs, nil)),
	}
	return f
}

func (f *fixture) passwordIs(tb testing.TB, pw string) bool {
	tb.Helper()
	u, _ := f.store.UserByID(context.Background(), f.user.ID)
	ok, err := f.svc.Hasher.Verify(context.Background(), u.PasswordHash, pw)
	if err != nil {
		tb.Fatal(err)
	}
	return ok
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

func (f *fixture) mustCode(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	sid, err := f.svc.SendCode(ctx, account.CodeRequest{App: "lcmanager", Phone: f.user.Phone, ClientIP: "192.0.2.1"})
	if err != nil {
		tb.Fatal(err)
	}
	if len(sid) != 32 {
		tb.Fatalf("session id %q", sid)
	}
	m := f.store.lastMessage()
	if m.Channel != account.SMS || m.To != f.user.Phone || m.Kind != account.KindCode || !codeRE.MatchString(m.Secret) ||
		m.ExpiresAt.IsZero() {
		tb.Fatalf("message %+v", m)
	}
	return m.Secret
}

func TestCodeFlow(t *testing.T) {
	ctx := context.Background()
	f := mustFixture(t)
	code := f.mustCode(t)
	if err := f.svc.ResetWithCode(ctx, f.user.ID, code, "Brand-new-pass-42"); err != nil {
		t.Fatal(err)
	}
	if !f.passwordIs(t, "Brand-new-pass-42") {
		t.Fatal("password not set")
	}
	if err := f.svc.ResetWithCode(ctx, f.user.ID, code, "Another-pass-43"); !errors.Is(err, account.ErrCodeRejected) {
		t.Fatalf("replay: %v", err)
	}
	if strings.Contains(f.logs.String(), code) || strings.Contains(f.logs.String(), "Brand-new-pass-42") {
		t.Fatalf("a secret reached the logs: %s", f.logs)
	}
}

func TestCodeAttempts(t *testing.T) {
	ctx := context.Background()
	for _, wrong := range []int{4, 5} {
		f := mustFixture(t)
		code := f.mustCode(t)
		bad := "000000"
		if code == bad {
			bad = "111111"
		}
		for i := 0; i < wrong; i++ {
			if err := f.svc.ResetWithCode(ctx, f.user.ID, bad, "Brand-new-pass-42"); !errors.Is(err, account.ErrCodeRejected) {
				t.Fatalf("wrong code accepted: %v", err)
			}
		}
		err := f.svc.ResetWithCode(ctx, f.user.ID, code, "Brand-new-pass-42")
		if wrong == 4 && err != nil {
			t.Errorf("after 4 wrong attempts the right code must work: %v", err)
		}
		if wrong == 5 && !errors.Is(err, account.ErrCodeRejected) {
			t.Errorf("after 5 wrong attempts the right code must fail: %v", err)
		}
	}
}

func TestCodeExpiryAndSupersede(t *testing.T) {
	ctx := context.Background()
	f := mustFixture(t)
	code := f.mustCode(t)
	f.advance(10*time.Minute + time.Second)
	if err := f.svc.ResetWithCode(ctx, f.user.ID, code, "Brand-new-pass-42"); !errors.Is(err, account.ErrCodeRejected) {
		t.Fatalf("expired code: %v", err)
	}
	f.advance(time.Hour)
	old := f.mustCode(t)
	f.advance(2 * time.Minute)
	fresh := f.mustCode(t)
	if old != fresh {
		if err := f.svc.ResetWithCode(ctx, f.user.ID, old, "Brand-new-pass-42"); !errors.Is(err, account.ErrCodeRejected) {
			t.Fatalf("superseded code: %v", err)
		}
	}
	f.advance(9*time.Minute + 59*time.Second)
	if err := f.svc.ResetWithCode(ctx, f.user.ID, fresh, "Brand-new-pass-42"); err != nil {
		t.Fatalf("code just before expiry: %v", err)
	}
}

func TestUnknownRecipientsLookTheSame(t *testing.T) {
	ctx := context.Background()
	f := mustFixture(t)
	sid, err := f.svc.SendCode(ctx, account.CodeRequest{App: "lcmanager", Phone: "70000000000", ClientIP: "192.0.2.1"})
	if err != nil || len(sid) != 32 {
		t.Fatalf("unknown phone: %q %v", sid, err)
	}
	if f.store.messages() != 0 {
		t.Fatal("a message was queued for an unknown phone")
	}
	// The limits apply to unknown recipients too.
	if _, err := f.svc.SendCode(ctx, account.CodeRequest{App: "lcmanager", Phone: "70000000000", ClientIP: "192.0.2.1"}); !errors.Is(err, account.ErrRateLimited) {
		t.Fatalf("second send within a minute: %v", err)
	}
	if err := f.svc.ResetWithCode(ctx, 9999, "123456", "Brand-new-pass-42"); !errors.Is(err, account.ErrCodeRejected) {
		t.Fatalf("unknown user id: %v", err)
	}
	if _, err := f.svc.SendCode(ctx, account.CodeRequest{App: "lcmanager"}); !errors.Is(err, account.ErrNoRecipient) {
		t.Fatalf("no recipient: %v", err)
	}
}

func TestSendLimits(t *testing.T) {
	ctx := context.Background()
	f := mustFixture(t)
	sent := 0
	for i := 0; i < 50; i++ {
		_, err := f.svc.SendCode(ctx, account.CodeRequest{App: "lcmanager", Phone: f.user.Phone, ClientIP: "192.0.2.1"})
		if err == nil {
			sent++
		} else if !errors.Is(err, account.ErrRateLimited) {
			t.Fatal(err)
		}
		f.advance(time.Second)
	}
	if sent != 1 {
		t.Errorf("%d sends in 50 s, want 1", sent)
	}
	for i := 0; i < 10; i++ {
		f.advance(time.Minute)
		if _, err := f.svc.SendCode(ctx, account.CodeRequest{App: "lcmanager", Phone: f.user.Phone, ClientIP: "192.0.2.1"}); err == nil {
			sent++
		}
	}
	if sent != 5 {
		t.Errorf("%d sends within the hour, want 5", sent)
	}
	// Per client address: 60 an hour across recipients.
	g := mustFixture(t)
	n := 0
	for i := 0; i < 70; i++ {
		if _, err := g.svc.SendCode(ctx, account.CodeRequest{App: "lcmanager", Email: "x" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com", ClientIP: "198.51.100.7"}); err == nil {
			n++
		}
	}
	if n != 60 {
		t.Errorf("%d sends from one address, want 60", n)
	}
}

func TestPolicy(t *testing.T) {
	u := &account.User{UserName: "ivan", Email: "ivan@example.com"}
	for _, c := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{strings.Repeat("x", 129), false},
		{strings.Repeat("Я", 128), true},
		{"IVAN@example.com", false},
		{"password1", false},
		{"qwertyuiop", false},
		{"Correct-horse-battery-staple", true},
		{strings.Repeat("long-passphrase-", 6), true}, // 96 bytes: argon2id has no 72-byte limit
	} {
		err := account.CheckPolicy(c.pw, u)
		var pe *account.PolicyError
		if c.ok != (err == nil) || err != nil && !errors.As(err, &pe) {
			t.Errorf("CheckPolicy(%q) = %v", c.pw, err)
		}
	}
	if n := account.CommonPasswordCount(); n < 10000 {
		t.Errorf("only %d common passwords", n)
	}
}

func TestLinkFlow(t *testing.T) {
	ctx := context.Background()
	f := mustFixture(t)
	const key = "client-key-1"
	f.store.apiKeys["aries"] = f.svc.APIKeyMAC(key)
	if err := f.svc.SendChangeLink(ctx, account.LinkRequest{App: "aries", APIKey: "nope", UserName: "ivan"}); !errors.Is(err, account.ErrInvalidAPIKey) {
		t.Fatalf("bad key: %v", err)
	}
	if err := f.svc.SendChangeLink(ctx, account.LinkRequest{App: "aries", APIKey: key, UserName: "nobody"}); err != nil || f.store.messages() != 0 {
		t.Fatalf("unknown user: %v, %d messages", err, f.store.messages())
	}
	if err := f.svc.SendChangeLink(ctx, account.LinkRequest{App: "aries", APIKey: key, UserName: "IVAN", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	m := f.store.lastMessage()
	if m.To != f.user.Email || m.Kind != account.KindChangeLink ||
		m.Link() != "http://localhost:8080/password/change?id="+url.QueryEscape(m.Secret) || len(m.Secret) < 22 {
		t.Fatalf("message %+v", m)
	}
	id := m.Secret
	in := account.ChangeInput{ChangeRequestID: id, Password: "Old-password-1", IPAddress: "192.0.2.9", UserAgent: "UA"}
	if _, err := f.svc.ChangePassword(ctx, in); !errors.Is(err, account.ErrPasswordUsedBefore) {
		t.Fatalf("current password: %v", err)
	}
	in.Password = "123"
	var pe *account.PolicyError
	if _, err := f.svc.ChangePassword(ctx, in); !errors.As(err, &pe) {
		t.Fatalf("short password: %v", err)
	}
	in.Password = "Fresh-password-77"
	u, err := f.svc.ChangePassword(ctx, in)
	if err != nil || u.ID != f.user.ID {
		t.Fatalf("change: %v", err)
	}
	if !f.passwordIs(t, "Fresh-password-77") || len(f.store.audits) != 1 || f.store.audits[0].IPAddress != "192.0.2.9" {
		t.Fatal("password or audit not written")
	}
	if _, err := f.svc.ChangePassword(ctx, in); !errors.Is(err, account.ErrChangeRequestNotFound) {
		t.Fatalf("replay: %v", err)
	}
	if _, err := f.svc.ChangePassword(ctx, account.ChangeInput{ChangeRequestID: "unknown", Password: "Fresh-password-78"}); !errors.Is(err, account.ErrChangeRequestNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	f.advance(2 * time.Minute)
	if err := f.svc.SendChangeLink(ctx, account.LinkRequest{App: "aries", APIKey: key, Email: "Ivan@Example.com", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Hour + time.Second)
	if _, err := f.svc.ChangePassword(ctx, account.ChangeInput{ChangeRequestID: f.store.lastMessage().Secret, Password: "Fresh-password-79"}); !errors.Is(err, account.ErrChangeRequestExpired) {
		t.Fatalf("expired: %v", err)
	}
	for _, secret := range []string{id, "Fresh-password-77", key} {
		if strings.Contains(f.logs.String(), secret) {
			t.Fatalf("secret %q reached the logs", secret)
		}
	}
}

func TestPasswordHistory(t *testing.T) {
	ctx := context.Background()
	f := mustFixture(t)
	const key = "client-key-1"
	f.store.apiKeys["aries"] = f.svc.APIKeyMAC(key)
	change := func(pw string) error {
		f.advance(2 * time.Minute)
		if err := f.svc.SendChangeLink(ctx, account.LinkRequest{App: "aries", APIKey: key, UserName: "ivan"}); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.ChangePassword(ctx, account.ChangeInput{ChangeRequestID: f.store.lastMessage().Secret, Password: pw})
		return err
	}
	f.svc.Config.Limits.PerRecipientHour = 1000
	pws := []string{"History-pass-01", "History-pass-02", "History-pass-03", "History-pass-04", "History-pass-05", "History-pass-06"}
	for _, pw := range pws {
		if err := change(pw); err != nil {
			t.Fatalf("%s: %v", pw, err)
		}
	}
	// Current: 06; the last five before it: 01..05 and the original password drop out in turn.
	for _, pw := range pws[1:] {
		if err := change(pw); !errors.Is(err, account.ErrPasswordUsedBefore) {
			t.Errorf("%s reused: %v", pw, err)
		}
	}
	if err := change("Old-password-1"); err != nil {
		t.Errorf("the 7th password back must be accepted: %v", err)
	}
}
