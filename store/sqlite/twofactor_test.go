package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"aspgate/account"
	"aspgate/store/sqlite"
)

func TestTwoFactorState(t *testing.T) {
	ctx := context.Background()
	db, _ := mustTempDB(t)
	alice := mustUser(t, db, account.NewUser{UserName: "alice", Email: "alice@example.com", Phone: "79990000001"})

	if _, err := db.TwoFactorState(ctx, 999); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	st, err := db.TwoFactorState(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	// A phone that was never confirmed by a code does not turn SMS sign-in on.
	if st.TOTPSecret != nil || st.TOTPLastStep != 0 || st.Phone != "" || st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Fatalf("fresh state %+v", st)
	}

	// Failures: the fifth locks and restarts the count.
	for i := 1; i <= 5; i++ {
		until, err := db.RecordTwoFactorFailure(ctx, alice, t0, 5, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if (i == 5) != !until.IsZero() {
			t.Fatalf("failure %d: locked until %v", i, until)
		}
	}
	st, _ = db.TwoFactorState(ctx, alice)
	if st.Failures != 0 || !st.LockedUntil.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("state after 5 failures %+v", st)
	}

	if err := db.SetTOTPSecret(ctx, 999, []byte("s"), t0); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if err := db.SetTOTPSecret(ctx, alice, []byte("sealed-1"), t0); err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteTOTPLogin(ctx, account.TOTPLogin{UserID: alice, Secret: []byte("sealed-1"), Step: 100,
		Token: account.NewAPIToken{UserID: alice, MAC: []byte("t0"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}}); !errors.Is(err, account.ErrAuthFailed) {
		t.Fatalf("while locked: %v", err)
	}
	after := t0.Add(15 * time.Minute)
	login := func(secret string, step int64, mac string) error {
		return db.CompleteTOTPLogin(ctx, account.TOTPLogin{UserID: alice, Secret: []byte(secret), Step: step,
			Token: account.NewAPIToken{UserID: alice, MAC: []byte(mac), CreatedAt: after, ExpiresAt: after.Add(time.Hour)}})
	}
	if err := login("sealed-1", 100, "t1"); err != nil {
		t.Fatal(err)
	}
	st, _ = db.TwoFactorState(ctx, alice)
	if string(st.TOTPSecret) != "sealed-1" || st.TOTPLastStep != 100 || !st.LockedUntil.IsZero() {
		t.Fatalf("state after a login %+v", st)
	}
	for _, step := range []int64{100, 99} {
		if err := login("sealed-1", step, fmt.Sprint("t", step)); !errors.Is(err, account.ErrAuthFailed) {
			t.Fatalf("step %d after 100: %v", step, err)
		}
	}
	if err := login("sealed-0", 101, "t2"); !errors.Is(err, account.ErrAuthFailed) {
		t.Fatalf("another secret: %v", err)
	}
	// Re-enrolling forgets the last step; disabling removes the secret.
	if err := db.SetTOTPSecret(ctx, alice, []byte("sealed-2"), after); err != nil {
		t.Fatal(err)
	}
	if err := login("sealed-2", 50, "t3"); err != nil {
		t.Fatalf("new secret, earlier step: %v", err)
	}
	if err := db.SetTOTPSecret(ctx, alice, nil, after); err != nil {
		t.Fatal(err)
	}
	st, _ = db.TwoFactorState(ctx, alice)
	if st.TOTPSecret != nil || st.TOTPLastStep != 0 {
		t.Fatalf("state after disabling %+v", st)
	}
	if _, err := db.APITokenByMAC(ctx, []byte("t0")); !errors.Is(err, account.ErrNotFound) {
		t.Fatal("a refused login stored its token")
	}
	mustSound(t, db)
}

func TestLoginCodes(t *testing.T) {
	ctx := context.Background()
	db, path := mustTempDB(t)
	alice := mustUser(t, db, account.NewUser{UserName: "alice", Email: "alice@example.com"})
	bob := mustUser(t, db, account.NewUser{UserName: "bob", Email: "bob@example.com", Phone: "79990000002"})
	raw := mustRaw(t, path)

	issue := func(user int64, phone, mac string, at time.Time) *account.LoginCode {
		t.Helper()
		to := phone
		if to == "" {
			to = "79990000001"
		}
		if err := db.IssueLoginCode(ctx, account.NewLoginCode{UserID: user, Phone: phone, MAC: []byte(mac), CreatedAt: at,
			ExpiresAt: at.Add(10 * time.Minute)}, account.Message{App: "r7office", Channel: account.SMS,
			Kind: account.KindLoginCode, To: to, Secret: mac, ExpiresAt: at.Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		c, err := db.LiveLoginCode(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if string(c.MAC) != mac || c.Phone != phone || c.Attempts != 0 || !c.ExpiresAt.Equal(at.Add(10*time.Minute)) {
			t.Fatalf("live code %+v", c)
		}
		return c
	}
	complete := func(c *account.LoginCode, at time.Time, mac string) error {
		return db.CompleteSMSLogin(ctx, account.SMSLogin{UserID: c.UserID, CodeID: c.ID, Phone: c.Phone, MaxAttempts: 5,
			Token: account.NewAPIToken{UserID: c.UserID, MAC: []byte(mac), CreatedAt: at, ExpiresAt: at.Add(time.Hour)}})
	}

	if _, err := db.LiveLoginCode(ctx, alice); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("no code: %v", err)
	}
	first := issue(alice, "79990000001", "1", t0)
	rows, err := db.PendingOutbox(ctx)
	if err != nil || len(rows) != 1 || rows[0].Kind != account.KindLoginCode || rows[0].Secret != "1" ||
		rows[0].To != "79990000001" {
		t.Fatalf("outbox %+v, %v", rows, err)
	}
	// A reset code of the same user is another purpose: neither supersedes the other.
	if err := db.IssueCode(ctx, account.NewCode{UserID: alice, Purpose: account.PurposeReset, MAC: []byte("r"),
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, account.Message{App: "lcmanager", Channel: account.SMS,
		Kind: account.KindCode, To: "79990000001", Secret: "r"}); err != nil {
		t.Fatal(err)
	}
	second := issue(alice, "79990000001", "2", t0.Add(time.Minute))
	if err := complete(first, t0.Add(2*time.Minute), "tok-first"); !errors.Is(err, account.ErrAuthFailed) {
		t.Fatalf("superseded code: %v", err)
	}
	if _, err := db.LiveCode(ctx, alice, account.PurposeReset); err != nil {
		t.Fatalf("the reset code was superseded: %v", err)
	}
	// Expired, and a code's phone that is not the one given: refused.
	if err := complete(second, second.ExpiresAt, "tok-late"); !errors.Is(err, account.ErrAuthFailed) {
		t.Fatalf("expired code: %v", err)
	}
	other := *second
	other.Phone = "79990000009"
	if err := complete(&other, t0.Add(2*time.Minute), "tok-other"); !errors.Is(err, account.ErrAuthFailed) {
		t.Fatalf("another phone: %v", err)
	}
	// Out of attempts: refused.
	for range 6 {
		if _, err := db.CountAttempt(ctx, second.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := complete(second, t0.Add(2*time.Minute), "tok-attempts"); !errors.Is(err, account.ErrAuthFailed) {
		t.Fatalf("6 attempts: %v", err)
	}

	// A pending phone that is bob's: ErrPhoneTaken, nothing changes, the code stays live.
	taken := issue(alice, "79990000002", "3", t0.Add(3*time.Minute))
	if err := complete(taken, t0.Add(4*time.Minute), "tok-taken"); !errors.Is(err, account.ErrPhoneTaken) {
		t.Fatalf("taken phone: %v", err)
	}
	if c, err := db.LiveLoginCode(ctx, alice); err != nil || c.ID != taken.ID {
		t.Fatalf("after a conflict: %+v, %v", c, err)
	}

	// Locked: refused until the lock ends.
	good := issue(alice, "79990000001", "4", t0.Add(5*time.Minute))
	for range 5 {
		if _, err := db.RecordTwoFactorFailure(ctx, alice, t0.Add(5*time.Minute), 5, 15*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := complete(good, t0.Add(6*time.Minute), "tok-locked"); !errors.Is(err, account.ErrAuthFailed) {
		t.Fatalf("locked: %v", err)
	}
	good = issue(alice, "79990000001", "5", t0.Add(20*time.Minute))
	if err := complete(good, t0.Add(21*time.Minute), "tok-good"); err != nil {
		t.Fatal(err)
	}
	st, err := db.TwoFactorState(ctx, alice)
	if err != nil || st.Phone != "79990000001" || !st.LockedUntil.IsZero() || st.Failures != 0 {
		t.Fatalf("state after confirmation %+v, %v", st, err)
	}
	if u, _ := db.UserByID(ctx, alice); u.Phone != "79990000001" {
		t.Fatalf("phone %q", u.Phone)
	}
	if err := complete(good, t0.Add(21*time.Minute), "tok-again"); !errors.Is(err, account.ErrAuthFailed) {
		t.Fatalf("used code: %v", err)
	}
	if n := mustCount(t, raw, `SELECT count(*) FROM api_tokens`); n != 1 {
		t.Fatalf("%d tokens, want 1", n)
	}
	if b, _ := db.TwoFactorState(ctx, bob); b.Phone != "" {
		t.Fatal("bob's unconfirmed phone counts as confirmed")
	}

	// A code to the confirmed phone (no pending phone) signs in and changes nothing else.
	login := issue(alice, "", "6", t0.Add(30*time.Minute))
	if err := complete(login, t0.Add(31*time.Minute), "tok-login"); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.TwoFactorState(ctx, alice); st.Phone != "79990000001" {
		t.Fatalf("state %+v", st)
	}
	mustSound(t, db)
}

// TestTOTPStepRace has 16 goroutines, over two handles of one file, accept the same time step: exactly
// one wins and exactly one token is stored.
func TestTOTPStepRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	dbs := []*sqlite.DB{mustOpen(t, path), mustOpen(t, path)}
	alice := mustUser(t, dbs[0], account.NewUser{UserName: "alice", Email: "alice@example.com"})
	if err := dbs[0].SetTOTPSecret(ctx, alice, []byte("sealed"), t0); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		step := int64(1000 + round)
		const n = 16
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = dbs[i%2].CompleteTOTPLogin(ctx, account.TOTPLogin{UserID: alice, Secret: []byte("sealed"),
					Step: step, Token: account.NewAPIToken{UserID: alice, MAC: []byte(fmt.Sprintf("%d-%d", round, i)),
						CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, account.ErrAuthFailed):
				t.Fatalf("round %d: goroutine %d: %v", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d winners", round, won)
		}
	}
	if n := mustCount(t, mustRaw(t, path), `SELECT count(*) FROM api_tokens`); n != 3 {
		t.Fatalf("%d tokens, want 3", n)
	}
	mustSound(t, dbs[0])
}

// mustTwoFactor is the domain over a store (a real database, or one wrapped by a test), with the clock
// *now guarded by mu. The brute-force rule is off: the races send one login many times at once (the rule
// has tests of its own, TestSignInGuard*).
func mustTwoFactor(tb testing.TB, st account.TwoFactorStore, now *time.Time, mu *sync.Mutex) *account.TwoFactor {
	tb.Helper()
	cfg := account.DefaultTwoFactorConfig()
	cfg.SignIn = account.SignInRule{}
	return &account.TwoFactor{
		Store: st, Hasher: account.NewHasher(testArgon2, 0), Keys: account.NewKeyring(bytes.Repeat([]byte{3}, 32)),
		Config: cfg,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return *now
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// gatedStore holds every CompleteTOTPLogin until all racers have arrived, so each of them has read the
// state and matched the code before any accepts it: only the database's UPDATE ... WHERE can then decide.
type gatedStore struct {
	*sqlite.DB
	gate *sync.WaitGroup
}

func (g gatedStore) CompleteTOTPLogin(ctx context.Context, l account.TOTPLogin) error {
	g.gate.Done()
	g.gate.Wait()
	return g.DB.CompleteTOTPLogin(ctx, l)
}

// TestConfirmTOTPRace sends the same TOTP code to Confirm from 8 goroutines at once, through the domain
// and two handles of one database: exactly one gets a token, and the code is dead afterwards.
func TestConfirmTOTPRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	dbs := []*sqlite.DB{mustOpen(t, path), mustOpen(t, path)}
	mustUser(t, dbs[0], account.NewUser{UserName: "alice", Email: "alice@example.com"})
	var (
		mu   sync.Mutex
		gate sync.WaitGroup
	)
	now := t0.Add(10 * time.Second)
	tfs := []*account.TwoFactor{
		mustTwoFactor(t, gatedStore{dbs[0], &gate}, &now, &mu),
		mustTwoFactor(t, gatedStore{dbs[1], &gate}, &now, &mu),
	}
	key, err := tfs[0].EnrollTOTP(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		code, err := totp.GenerateCode(key.Secret(), now)
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		gate.Add(n)
		results := make([]account.AuthResult, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = tfs[i%2].Confirm(ctx, account.ConfirmRequest{UserName: "alice",
					Password: "initial password", Code: code})
			}()
		}
		close(start)
		wg.Wait()
		var token string
		for i, err := range errs {
			switch {
			case err == nil:
				if token != "" {
					t.Fatalf("round %d: two tokens for one code", round)
				}
				token = results[i].Token
			case err != account.ErrAuthFailed:
				t.Fatalf("round %d: goroutine %d: %v", round, i, err)
			}
		}
		if token == "" {
			t.Fatalf("round %d: nobody won", round)
		}
		if info, err := tfs[1].Introspect(ctx, token); err != nil || !info.Active {
			t.Fatalf("round %d: winner's token %+v, %v", round, info, err)
		}
		// The 7 losers count as wrong codes (a replay is one), which locks 2FA for 15 minutes: the next
		// round starts once the lock has ended, in a later time step.
		st, err := dbs[0].TwoFactorState(ctx, 1)
		if err != nil || !st.LockedUntil.Equal(now.Add(15*time.Minute)) {
			t.Fatalf("round %d: state %+v, %v", round, st, err)
		}
		mu.Lock()
		now = now.Add(15 * time.Minute)
		mu.Unlock()
	}
	if n := mustCount(t, mustRaw(t, path), `SELECT count(*) FROM api_tokens`); n != 3 {
		t.Fatalf("%d tokens, want 3", n)
	}
	mustSound(t, dbs[0])
}

// TestSMSSignInWithStore runs the SMS path over the real store: setphone, the code read from the queued
// outbox message, {code}, a token that introspects active, revoke, inactive; then a password change.
func TestSMSSignInWithStore(t *testing.T) {
	ctx := context.Background()
	db, _ := mustTempDB(t)
	alice := mustUser(t, db, account.NewUser{UserName: "alice", Email: "alice@example.com"})
	var mu sync.Mutex
	now := t0
	tf := mustTwoFactor(t, db, &now, &mu)

	res, err := tf.SetPhone(ctx, account.SetPhoneRequest{UserName: "alice@example.com", Password: "initial password",
		MobilePhone: "+7 999 123-45-67", ClientIP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.SMS || res.PhoneNoise != "+7999***4567" || !res.Expires.Equal(t0.Add(10*time.Minute)) || res.Token != "" {
		t.Fatalf("SetPhone = %+v", res)
	}
	rows, err := db.PendingOutbox(ctx)
	if err != nil || len(rows) != 1 {
		t.Fatalf("outbox %+v, %v", rows, err)
	}
	m := rows[0]
	if m.App != "r7office" || m.Kind != account.KindLoginCode || m.Channel != account.SMS || m.To != "79991234567" ||
		len(m.Secret) != 6 || !m.ExpiresAt.Equal(res.Expires) {
		t.Fatalf("message %+v", m)
	}
	now = now.Add(time.Minute)
	res, err = tf.Confirm(ctx, account.ConfirmRequest{UserName: "alice", Password: "initial password", Code: m.Secret})
	if err != nil {
		t.Fatal(err)
	}
	if res.Token == "" || !res.SMS || res.PhoneNoise != "+7999***4567" || !res.Expires.Equal(now.AddDate(1, 0, 0)) {
		t.Fatalf("Confirm = %+v", res)
	}
	u, _ := db.UserByID(ctx, alice)
	info, err := tf.Introspect(ctx, res.Token)
	if err != nil || !info.Active || info.UserID != alice || info.UID != sqlite.FormatUID(u.UID) || !info.Iat.Equal(now) {
		t.Fatalf("Introspect = %+v, %v", info, err)
	}
	if u.Phone != "79991234567" {
		t.Fatalf("phone %q", u.Phone)
	}
	if err := tf.Revoke(ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	if info, err := tf.Introspect(ctx, res.Token); err != nil || info.Active {
		t.Fatalf("after revoke: %+v, %v", info, err)
	}

	// Signing in again texts the confirmed phone; a password change revokes the token it gives.
	now = now.Add(time.Minute)
	if res, err = tf.Authenticate(ctx, account.AuthRequest{UserName: "alice", Password: "initial password"}); err != nil ||
		!res.SMS || res.Token != "" {
		t.Fatalf("Authenticate = %+v, %v", res, err)
	}
	rows, _ = db.PendingOutbox(ctx)
	res, err = tf.Confirm(ctx, account.ConfirmRequest{UserName: "alice", Password: "initial password",
		Code: rows[len(rows)-1].Secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.IssueCode(ctx, account.NewCode{UserID: alice, Purpose: account.PurposeReset, MAC: []byte("c"),
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}, account.Message{App: "lcmanager", Channel: account.SMS,
		Kind: account.KindCode, To: "79991234567", Secret: "c"}); err != nil {
		t.Fatal(err)
	}
	c, _ := db.LiveCode(ctx, alice, account.PurposeReset)
	if err := db.ResetPassword(ctx, c.ID, alice, mustHash(t, "another password"), now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if info, err := tf.Introspect(ctx, res.Token); err != nil || info.Active {
		t.Fatalf("after a password reset: %+v, %v", info, err)
	}
	mustSound(t, db)
}
