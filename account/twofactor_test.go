package account_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"aspgate/account"
)

const tfPassword = "Old-password-1"

// tfArgon keeps hashing cheap in tests.
var tfArgon = account.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

type tfFixture struct {
	tf    *account.TwoFactor
	store *tfStore
	now   time.Time
	logs  *bytes.Buffer
	ivan  *account.User // no phone, no app
	olga  *account.User // phone 79990000002, confirmed
}

func (f *tfFixture) advance(d time.Duration) { f.now = f.now.Add(d) }

func mustTFFixture(tb testing.TB) *tfFixture {
	tb.Helper()
	h := account.NewHasher(tfArgon, 4)
	hash, err := h.Hash(context.Background(), tfPassword)
	if err != nil {
		tb.Fatal(err)
	}
	f := &tfFixture{
		// 12:00:10 UTC: 10 s into a time step, so a few seconds of test never cross into the next one.
		now:  time.Date(2026, 11, 22, 12, 0, 10, 0, time.UTC),
		logs: &bytes.Buffer{},
		ivan: &account.User{ID: 7, UID: [16]byte{0xdb, 0x29, 0x9a, 0x41, 15: 0x8c}, UserName: "ivan",
			Email: "ivan@example.com", PasswordHash: hash},
		olga: &account.User{ID: 8, UserName: "olga", Email: "olga@example.com", Phone: "79990000002", PasswordHash: hash},
	}
	f.store = newTFStore(f.ivan, f.olga)
	f.store.st(f.olga.ID).confirmedPhone = f.olga.Phone
	cfg := account.DefaultTwoFactorConfig()
	// Off here: the lock tests make many attempts; TestSignInBruteForceRule has them on.
	cfg.SignIn, cfg.FailuresPerIP = account.SignInRule{}, 0
	f.tf = &account.TwoFactor{
		Store: f.store, Hasher: h, Keys: account.NewKeyring(bytes.Repeat([]byte{2}, 32)),
		Config: cfg, Now: func() time.Time { return f.now },
		Log: slog.New(slog.NewJSONHandler(f.logs, nil)),
	}
	return f
}

func (f *tfFixture) confirm(code string) (account.AuthResult, error) {
	return f.tf.Confirm(context.Background(), account.ConfirmRequest{UserName: "ivan", Password: tfPassword, Code: code,
		ClientIP: "192.0.2.1"})
}

func (f *tfFixture) mustEnroll(tb testing.TB) string {
	tb.Helper()
	key, err := f.tf.EnrollTOTP(context.Background(), "IVAN@example.com")
	if err != nil {
		tb.Fatal(err)
	}
	if key.Issuer() != "R7-Office" || key.AccountName() != "ivan@example.com" || key.Period() != 30 ||
		key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 ||
		!strings.HasPrefix(key.URL(), "otpauth://totp/R7-Office:ivan@example.com?") {
		tb.Fatalf("key %s", key.URL())
	}
	if sealed := f.store.st(f.ivan.ID).secret; len(sealed) == 0 || bytes.Contains(sealed, []byte(key.Secret())) {
		tb.Fatalf("the stored secret is missing or in clear")
	}
	return key.Secret()
}

// codeAt is the TOTP code of the time step step-offset steps from now, as an independent authenticator
// app computes it (pquerna's GenerateCode with the standard options).
func (f *tfFixture) codeAt(tb testing.TB, secret string, offset int) string {
	tb.Helper()
	c, err := totp.GenerateCode(secret, f.now.Add(time.Duration(offset)*30*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func mustActive(tb testing.TB, f *tfFixture, token string, want bool) account.TokenInfo {
	tb.Helper()
	info, err := f.tf.Introspect(context.Background(), token)
	if err != nil {
		tb.Fatal(err)
	}
	if info.Active != want {
		tb.Fatalf("Introspect active = %v, want %v", info.Active, want)
	}
	if !want && info != (account.TokenInfo{}) {
		tb.Fatalf("inactive token tells more: %+v", info)
	}
	return info
}

func TestPhoneNoise(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"abc":                "",
		"1234567":            "1234567",
		"12345678":           "+12345678",
		"123456789":          "+1234*6789",
		"79991234567":        "+7999***4567",
		"+7 (999) 123-45-67": "+7999***4567",
		"380 44 123 4567 89": "+3804******6789",
	} {
		if got := account.PhoneNoise(in); got != want {
			t.Errorf("PhoneNoise(%q) = %q, want %q", in, got, want)
		}
	}
	if got := account.PhoneDigits(strings.Repeat("1-", 100)); got != strings.Repeat("1", 64) {
		t.Errorf("PhoneDigits keeps %d digits, want 64", len(got))
	}
}

func TestAuthenticateFailuresAreAlike(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	for name, r := range map[string]account.AuthRequest{
		"unknown user":   {UserName: "nobody", Password: tfPassword},
		"wrong password": {UserName: "ivan", Password: "wrong"},
		"empty password": {UserName: "ivan"},
		"social login":   {UserName: "ivan", Password: tfPassword, Provider: "facebook"},
	} {
		res, err := f.tf.Authenticate(ctx, r)
		if err != account.ErrAuthFailed || res != (account.AuthResult{}) {
			t.Errorf("%s: %+v, %v", name, res, err)
		}
		if _, err := f.tf.SetPhone(ctx, account.SetPhoneRequest{UserName: r.UserName, Password: r.Password,
			Provider: r.Provider, MobilePhone: "79991234567"}); err != account.ErrAuthFailed {
			t.Errorf("%s: SetPhone: %v", name, err)
		}
		if _, err := f.tf.Confirm(ctx, account.ConfirmRequest{UserName: r.UserName, Password: r.Password,
			Provider: r.Provider, Code: "123456"}); err != account.ErrAuthFailed {
			t.Errorf("%s: Confirm: %v", name, err)
		}
	}
	if f.store.messages() != 0 || len(f.store.tokens) != 0 {
		t.Fatalf("failures sent %d messages and issued %d tokens", f.store.messages(), len(f.store.tokens))
	}
	// "email" is the password provider; the e-mail works as the user name.
	if res, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: "Ivan@Example.com", Password: tfPassword,
		Provider: "email"}); err != nil || res.Token == "" {
		t.Fatalf("sign-in by e-mail: %+v, %v", res, err)
	}
	// ONLYOFFICE compares the provider exactly: "Email" is a social provider, refused.
	if _, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword,
		Provider: "Email"}); err != account.ErrAuthFailed {
		t.Fatalf("provider Email: %v", err)
	}
}

func TestAuthenticateWithoutSecondFactor(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	res, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword})
	if err != nil {
		t.Fatal(err)
	}
	// One calendar year, ONLYOFFICE's TenantCookieSettings default.
	if len(res.Token) != 43 || !res.Expires.Equal(time.Date(2027, 11, 22, 12, 0, 10, 0, time.UTC)) || res.SMS || res.TFA || res.UserID != 7 {
		t.Fatalf("Authenticate = %+v", res)
	}
	info := mustActive(t, f, res.Token, true)
	if info.UserID != 7 || info.UID != "db299a41-0000-0000-0000-00000000008c" || !info.Iat.Equal(f.now) ||
		!info.Exp.Equal(res.Expires) {
		t.Fatalf("Introspect = %+v", info)
	}

	// Required 2FA: the client is told to set a phone, and nothing is sent.
	f.tf.Config.Require2FA = true
	res, err = f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword})
	if err != nil || res != (account.AuthResult{UserID: 7, SMS: true}) {
		t.Fatalf("Authenticate with 2FA required = %+v, %v", res, err)
	}
	if f.store.messages() != 0 {
		t.Fatal("a message was sent without a phone")
	}
	// No second factor and no code: {code} fails, and does not count towards the lock.
	for range 6 {
		if _, err := f.confirm("123456"); err != account.ErrAuthFailed {
			t.Fatal(err)
		}
	}
	if st := f.store.st(7); st.failures != 0 || !st.lockedUntil.IsZero() {
		t.Fatalf("state %+v", st)
	}
}

func TestTOTPCodeWorksOnce(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	secret := f.mustEnroll(t)
	res, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword})
	if err != nil || res != (account.AuthResult{UserID: 7, TFA: true}) {
		t.Fatalf("Authenticate = %+v, %v", res, err)
	}
	code := f.codeAt(t, secret, 0)
	res, err = f.confirm(code)
	if err != nil {
		t.Fatal(err)
	}
	if res.Token == "" || !res.TFA || res.SMS || !res.Expires.Equal(f.now.AddDate(1, 0, 0)) {
		t.Fatalf("Confirm = %+v", res)
	}
	mustActive(t, f, res.Token, true)
	if _, err := f.confirm(code); err != account.ErrAuthFailed {
		t.Fatalf("replay: %v", err)
	}
	f.advance(20 * time.Second) // the same step is still within the skew window
	if _, err := f.confirm(code); err != account.ErrAuthFailed {
		t.Fatalf("replay a little later: %v", err)
	}
	// The next step's code works.
	f.advance(30 * time.Second)
	if _, err := f.confirm(f.codeAt(t, secret, 0)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.logs.String(), code) || strings.Contains(f.logs.String(), res.Token) {
		t.Fatal("a code or token was logged")
	}
	// Wrong formats are wrong codes.
	for _, c := range []string{"", "12345", "1234567", "abcdef", "12 345"} {
		if _, err := f.confirm(c); err != account.ErrAuthFailed {
			t.Fatalf("code %q: %v", c, err)
		}
	}
}

func TestTOTPSkewAndOrder(t *testing.T) {
	cases := []struct {
		name  string
		steps []int // offsets from now tried in order
		ok    []bool
	}{
		{"T-1 once", []int{-1, -1}, []bool{true, false}},
		{"T+1 once", []int{1, 1}, []bool{true, false}},
		{"T-2 and T+2 refused", []int{-2, 2}, []bool{false, false}},
		{"after T, T-1 refused", []int{0, -1}, []bool{true, false}},
		{"after T+1, T refused", []int{1, 0}, []bool{true, false}},
		{"T-1 then T then T+1", []int{-1, 0, 1}, []bool{true, true, true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := mustTFFixture(t)
			f.tf.Config.LockAfter = 100
			secret := f.mustEnroll(t)
			for i, off := range c.steps {
				_, err := f.confirm(f.codeAt(t, secret, off))
				if (err == nil) != c.ok[i] {
					t.Fatalf("try %d (step %+d): %v, want ok %v", i, off, err, c.ok[i])
				}
			}
		})
	}
}

func TestTOTPReEnrolment(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	old := f.mustEnroll(t)
	if _, err := f.confirm(f.codeAt(t, old, 0)); err != nil {
		t.Fatal(err)
	}
	secret := f.mustEnroll(t)
	if secret == old {
		t.Fatal("re-enrolment kept the secret")
	}
	if _, err := f.confirm(f.codeAt(t, old, 1)); err != account.ErrAuthFailed {
		t.Fatalf("old secret: %v", err)
	}
	// The last step is forgotten with the old secret: the new secret's code of the same step works.
	if _, err := f.confirm(f.codeAt(t, secret, 0)); err != nil {
		t.Fatal(err)
	}
	if err := f.tf.DisableTOTP(ctx, "ivan"); err != nil {
		t.Fatal(err)
	}
	res, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword})
	if err != nil || res.Token == "" {
		t.Fatalf("after disabling: %+v, %v", res, err)
	}
	if _, err := f.tf.EnrollTOTP(ctx, "nobody"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if err := f.tf.DisableTOTP(ctx, "nobody"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestTOTPLock(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	secret := f.mustEnroll(t)
	wrong := func() string { // a code that matches none of the three steps
		for _, c := range []string{"000000", "111111", "222222", "333333"} {
			if c != f.codeAt(t, secret, -1) && c != f.codeAt(t, secret, 0) && c != f.codeAt(t, secret, 1) {
				return c
			}
		}
		panic("unreachable")
	}
	// 4 wrong, then the right code: no lock, and the count starts again.
	for range 4 {
		if _, err := f.confirm(wrong()); err != account.ErrAuthFailed {
			t.Fatal(err)
		}
	}
	if _, err := f.confirm(f.codeAt(t, secret, 0)); err != nil {
		t.Fatalf("right code after 4 wrong: %v", err)
	}
	f.advance(30 * time.Second)
	for range 4 {
		if _, err := f.confirm(wrong()); err != account.ErrAuthFailed {
			t.Fatal(err)
		}
	}
	if _, err := f.confirm(f.codeAt(t, secret, 0)); err != nil {
		t.Fatalf("the count was not reset by the success: %v", err)
	}
	// 5 wrong in a row lock 2FA for 15 minutes: even the right code fails, and so does Authenticate.
	f.advance(30 * time.Second)
	for range 5 {
		if _, err := f.confirm(wrong()); err != account.ErrAuthFailed {
			t.Fatal(err)
		}
	}
	locked := f.now
	if _, err := f.confirm(f.codeAt(t, secret, 0)); err != account.ErrAuthFailed {
		t.Fatalf("right code while locked: %v", err)
	}
	if _, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword}); err != account.ErrAuthFailed {
		t.Fatalf("Authenticate while locked: %v", err)
	}
	f.now = locked.Add(15*time.Minute - time.Second)
	if _, err := f.confirm(f.codeAt(t, secret, 0)); err != account.ErrAuthFailed {
		t.Fatalf("right code a second before the lock ends: %v", err)
	}
	f.now = locked.Add(15 * time.Minute)
	if _, err := f.confirm(f.codeAt(t, secret, 0)); err != nil {
		t.Fatalf("right code after the lock: %v", err)
	}
	if st := f.store.st(7); st.failures != 0 || !st.lockedUntil.IsZero() {
		t.Fatalf("state after success: %+v", st)
	}
}

func (f *tfFixture) mustSetPhone(tb testing.TB, phone string) (account.AuthResult, string) {
	tb.Helper()
	n := f.store.messages()
	res, err := f.tf.SetPhone(context.Background(), account.SetPhoneRequest{UserName: "ivan@example.com",
		Password: tfPassword, MobilePhone: phone, ClientIP: "192.0.2.1"})
	if err != nil {
		tb.Fatal(err)
	}
	if f.store.messages() != n+1 {
		tb.Fatal("no message queued")
	}
	m := f.store.lastMessage()
	digits := account.PhoneDigits(phone)
	if m.App != "r7office" || m.Channel != account.SMS || m.Kind != account.KindLoginCode || m.To != digits ||
		!sixDigits.MatchString(m.Secret) || !m.ExpiresAt.Equal(f.now.Add(f.tf.Config.CodeTTL)) {
		tb.Fatalf("message %+v", m)
	}
	if res != (account.AuthResult{UserID: 7, SMS: true, Expires: m.ExpiresAt, PhoneNoise: account.PhoneNoise(digits)}) {
		tb.Fatalf("SetPhone = %+v", res)
	}
	return res, m.Secret
}

func TestSMSFlow(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	_, code := f.mustSetPhone(t, "+7 (999) 123-45-67")
	if f.store.user(7).Phone != "" {
		t.Fatal("the phone was set before it was confirmed")
	}
	res, err := f.confirm(code)
	if err != nil {
		t.Fatal(err)
	}
	if res.Token == "" || !res.SMS || res.TFA || res.PhoneNoise != "+7999***4567" || !res.Expires.Equal(f.now.AddDate(1, 0, 0)) {
		t.Fatalf("Confirm = %+v", res)
	}
	if u := f.store.user(7); u.Phone != "79991234567" {
		t.Fatalf("phone after confirmation %q", u.Phone)
	}
	info := mustActive(t, f, res.Token, true)
	if info.UserID != 7 || !info.Exp.Equal(res.Expires) {
		t.Fatalf("Introspect = %+v", info)
	}
	if err := f.tf.Revoke(ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	mustActive(t, f, res.Token, false)
	if err := f.tf.Revoke(ctx, res.Token); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	if err := f.tf.Revoke(ctx, "no-such-token"); err != nil {
		t.Fatalf("unknown token: %v", err)
	}
	if _, err := f.confirm(code); err != account.ErrAuthFailed {
		t.Fatalf("used code: %v", err)
	}

	// The phone is confirmed: signing in now sends a code to it, and a second phone cannot be set.
	f.advance(time.Minute)
	if _, err := f.tf.SetPhone(ctx, account.SetPhoneRequest{UserName: "ivan", Password: tfPassword,
		MobilePhone: "79990000009"}); err != account.ErrPhoneConfirmed {
		t.Fatalf("setphone over a confirmed phone: %v", err)
	}
	res, err = f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword, ClientIP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	m := f.store.lastMessage()
	if res != (account.AuthResult{UserID: 7, SMS: true, Expires: f.now.Add(10 * time.Minute), PhoneNoise: "+7999***4567"}) ||
		m.To != "79991234567" || m.Kind != account.KindLoginCode {
		t.Fatalf("Authenticate = %+v, message %+v", res, m)
	}
	// A second sign-in within the minute is refused by the send limit but points to the live code.
	n := f.store.messages()
	again, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword, ClientIP: "192.0.2.1"})
	if err != nil || again != res || f.store.messages() != n {
		t.Fatalf("second sign-in: %+v, %v, %d messages", again, err, f.store.messages()-n)
	}
	res, err = f.confirm(m.Secret)
	if err != nil || res.Token == "" || !res.SMS || res.PhoneNoise != "+7999***4567" {
		t.Fatalf("Confirm = %+v, %v", res, err)
	}
	mustActive(t, f, res.Token, true)
	if n, err := f.tf.RevokeUser(ctx, 7); err != nil || n != 1 {
		t.Fatalf("RevokeUser = %d, %v", n, err)
	}
	mustActive(t, f, res.Token, false)
}

func TestSMSCodeRules(t *testing.T) {
	t.Run("5 attempts", func(t *testing.T) {
		f := mustTFFixture(t)
		f.tf.Config.LockAfter = 100
		_, code := f.mustSetPhone(t, "79991234567")
		for range 5 {
			if _, err := f.confirm("000000"); err != account.ErrAuthFailed {
				t.Fatal(err)
			}
		}
		if _, err := f.confirm(code); err != account.ErrAuthFailed {
			t.Fatalf("right code after 5 wrong: %v", err)
		}
	})
	t.Run("4 attempts", func(t *testing.T) {
		f := mustTFFixture(t)
		_, code := f.mustSetPhone(t, "79991234567")
		for range 4 {
			if _, err := f.confirm("000000"); err != account.ErrAuthFailed {
				t.Fatal(err)
			}
		}
		if _, err := f.confirm(code); err != nil {
			t.Fatalf("right code after 4 wrong: %v", err)
		}
	})
	t.Run("lock", func(t *testing.T) {
		f := mustTFFixture(t)
		_, code := f.mustSetPhone(t, "79991234567")
		for range 5 {
			if _, err := f.confirm("000000"); err != account.ErrAuthFailed {
				t.Fatal(err)
			}
		}
		f.advance(2 * time.Minute)
		if _, err := f.tf.SetPhone(context.Background(), account.SetPhoneRequest{UserName: "ivan", Password: tfPassword,
			MobilePhone: "79991234567"}); err != account.ErrAuthFailed {
			t.Fatalf("setphone while locked: %v", err)
		}
		f.advance(15 * time.Minute)
		_, code2 := f.mustSetPhone(t, "79991234567")
		if _, err := f.confirm(code); err != account.ErrAuthFailed {
			t.Fatalf("superseded code: %v", err)
		}
		if _, err := f.confirm(code2); err != nil {
			t.Fatalf("new code after the lock: %v", err)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		f := mustTFFixture(t)
		_, code := f.mustSetPhone(t, "79991234567")
		f.advance(10 * time.Minute)
		if _, err := f.confirm(code); err != account.ErrAuthFailed {
			t.Fatalf("expired code: %v", err)
		}
		if f.store.user(7).Phone != "" {
			t.Fatal("an expired code confirmed the phone")
		}
	})
	t.Run("phone of another user", func(t *testing.T) {
		f := mustTFFixture(t)
		_, code := f.mustSetPhone(t, f.olga.Phone)
		_, err := f.confirm(code)
		if !errors.Is(err, account.ErrAuthFailed) || !errors.Is(err, account.ErrPhoneTaken) {
			t.Fatalf("taken phone: %v", err)
		}
		if f.store.user(7).Phone != "" || len(f.store.tokens) != 0 {
			t.Fatal("a failed confirmation changed something")
		}
	})
	t.Run("no digits", func(t *testing.T) {
		f := mustTFFixture(t)
		if _, err := f.tf.SetPhone(context.Background(), account.SetPhoneRequest{UserName: "ivan", Password: tfPassword,
			MobilePhone: "call me"}); err != account.ErrPhoneEmpty {
			t.Fatalf("no digits: %v", err)
		}
	})
	t.Run("authenticator app enrolled", func(t *testing.T) {
		f := mustTFFixture(t)
		f.mustEnroll(t)
		if _, err := f.tf.SetPhone(context.Background(), account.SetPhoneRequest{UserName: "ivan", Password: tfPassword,
			MobilePhone: "79991234567"}); err != nil || f.store.messages() != 0 {
			t.Fatalf("setphone with an app: %v", err)
		}
	})
	t.Run("send limit", func(t *testing.T) {
		f := mustTFFixture(t)
		f.tf.Config.CodeTTL = 50 * time.Second // so that a new code is sent each minute
		first, _ := f.mustSetPhone(t, "79991234567")
		f.advance(10 * time.Second)
		// Same phone within the minute: the live code is pointed to, nothing is sent.
		res, err := f.tf.SetPhone(context.Background(), account.SetPhoneRequest{UserName: "ivan", Password: tfPassword,
			MobilePhone: "79991234567"})
		if err != nil || res != first || f.store.messages() != 1 {
			t.Fatalf("repeat: %+v, %v", res, err)
		}
		// A new code only once the live one has expired: four more, a minute apart (1 a minute).
		for range 4 {
			f.advance(time.Minute)
			f.mustSetPhone(t, "79991234567")
		}
		// The sixth: the hour's budget of 5 is spent, and refills one every 12 minutes.
		f.advance(time.Minute)
		if _, err := f.tf.SetPhone(context.Background(), account.SetPhoneRequest{UserName: "ivan", Password: tfPassword,
			MobilePhone: "79991234567"}); !errors.Is(err, account.ErrRateLimited) {
			t.Fatalf("sixth send in the hour: %v", err)
		}
		f.advance(12*time.Minute - 5*time.Minute + time.Second)
		f.mustSetPhone(t, "79991234567")
	})
}

func TestTokenExpiry(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	f.tf.Config.TokenTTL = time.Hour
	res, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword})
	if err != nil {
		t.Fatal(err)
	}
	f.advance(time.Hour - time.Millisecond)
	mustActive(t, f, res.Token, true)
	f.advance(time.Millisecond)
	mustActive(t, f, res.Token, false)
	mustActive(t, f, "", false)
	mustActive(t, f, res.Token+"x", false)
}

// TestSignInBruteForceRule checks ONLYOFFICE's BruteForceLoginManager rule (5 failures within 60 s per
// login and address block it for 60 s; a success takes its attempt back) and aspgate's per-address
// budget of failures.
func TestSignInBruteForceRule(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	f.tf.Config.SignIn = account.SignInRule{Attempts: 5, Period: time.Minute, Block: time.Minute}
	signIn := func(user, pw, ip string) error {
		_, err := f.tf.Authenticate(ctx, account.AuthRequest{UserName: user, Password: pw, ClientIP: ip})
		return err
	}
	// Successes never count: 30 correct sign-ins in a row, in one second, from one address.
	for i := range 30 {
		if err := signIn("ivan", tfPassword, "192.0.2.1"); err != nil {
			t.Fatalf("correct sign-in %d: %v", i+1, err)
		}
	}
	// Four failures, a success (taken back), two failures: six attempts but five failures, not blocked.
	for range 4 {
		if err := signIn("ivan", "wrong-password", "192.0.2.1"); err != account.ErrAuthFailed {
			t.Fatal(err)
		}
	}
	if err := signIn("ivan", tfPassword, "192.0.2.1"); err != nil {
		t.Fatalf("after 4 failures: %v", err)
	}
	if err := signIn("ivan", "wrong-password", "192.0.2.1"); err != account.ErrAuthFailed || errors.Is(err, account.ErrSignInBlocked) {
		t.Fatalf("5th failure: %v", err)
	}
	// The 6th attempt within the period blocks the login from this address, the right password too.
	if err := signIn("ivan", tfPassword, "192.0.2.1"); !errors.Is(err, account.ErrSignInBlocked) {
		t.Fatalf("6th attempt: %v", err)
	}
	f.advance(59 * time.Second)
	if err := signIn("ivan", tfPassword, "192.0.2.1"); !errors.Is(err, account.ErrSignInBlocked) {
		t.Fatalf("during the block: %v", err)
	}
	// Another address, and the same account's e-mail (a login of its own), are not blocked.
	if err := signIn("ivan", tfPassword, "192.0.2.2"); err != nil {
		t.Fatalf("from another address: %v", err)
	}
	if err := signIn("ivan@example.com", tfPassword, "192.0.2.1"); err != nil {
		t.Fatalf("the e-mail: %v", err)
	}
	f.advance(time.Second)
	if err := signIn("ivan", tfPassword, "192.0.2.1"); err != nil {
		t.Fatalf("after the block: %v", err)
	}
	// Failures outside the period are forgotten: five, a minute's pause, five more, still allowed.
	for round := range 2 {
		for range 5 {
			if err := signIn("olga", "wrong-password", "192.0.2.5"); err != account.ErrAuthFailed || errors.Is(err, account.ErrSignInBlocked) {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		f.advance(61 * time.Second)
	}

	// The per-address budget covers failures spread over many logins; successes do not use it.
	f.tf.Config.FailuresPerIP = 5
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		if err := signIn(u, "x", "192.0.2.3"); err != account.ErrAuthFailed || errors.Is(err, account.ErrSignInBlocked) {
			t.Fatalf("failure for %s: %v", u, err)
		}
	}
	if err := signIn("ivan", tfPassword, "192.0.2.3"); !errors.Is(err, account.ErrSignInBlocked) {
		t.Fatalf("over the per-address budget: %v", err)
	}
	for range 20 {
		if err := signIn("ivan", tfPassword, "192.0.2.4"); err != nil {
			t.Fatalf("successes from another address: %v", err)
		}
	}
	f.advance(time.Hour)
	if err := signIn("ivan", tfPassword, "192.0.2.3"); err != nil {
		t.Fatalf("after the hour: %v", err)
	}
}

// TestSignInByGUID signs in with the user's GUID, as ONLYOFFICE allows.
func TestSignInByGUID(t *testing.T) {
	f := mustTFFixture(t)
	for _, login := range []string{"db299a41-0000-0000-0000-00000000008c", "{DB299A41-0000-0000-0000-00000000008C}",
		"db299a4100000000000000000000008c"} {
		res, err := f.tf.Authenticate(context.Background(), account.AuthRequest{UserName: login, Password: tfPassword})
		if err != nil || res.UserID != 7 || res.Token == "" {
			t.Fatalf("%s: %+v, %v", login, res, err)
		}
	}
	if _, err := f.tf.Authenticate(context.Background(), account.AuthRequest{UserName: "db299a41-0000-0000-0000-00000000008d",
		Password: tfPassword}); err != account.ErrAuthFailed {
		t.Fatalf("another GUID: %v", err)
	}
}

// TestResendCode is sendsms: a fresh code within the send limits, never counted as a wrong code.
func TestResendCode(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	olga := account.AuthRequest{UserName: "olga", Password: tfPassword, ClientIP: "192.0.2.1"}
	res, err := f.tf.Authenticate(ctx, olga)
	if err != nil || !res.SMS || res.PhoneNoise != "+7999***0002" {
		t.Fatalf("Authenticate = %+v, %v", res, err)
	}
	first := f.store.lastMessage().Secret
	// Within the minute the send limit refuses a resend.
	if _, err := f.tf.ResendCode(ctx, olga); !errors.Is(err, account.ErrRateLimited) {
		t.Fatalf("resend within the minute: %v", err)
	}
	// Five resends over five minutes: each a new code, none a wrong code, so 2FA is not locked.
	var last string
	for i := range 4 {
		f.advance(time.Minute)
		res, err := f.tf.ResendCode(ctx, olga)
		if err != nil || !res.SMS || res.PhoneNoise != "+7999***0002" || !res.Expires.Equal(f.now.Add(10*time.Minute)) {
			t.Fatalf("resend %d = %+v, %v", i+1, res, err)
		}
		last = f.store.lastMessage().Secret
	}
	// The hour's budget (5 per recipient) is spent.
	f.advance(time.Minute)
	if _, err := f.tf.ResendCode(ctx, olga); !errors.Is(err, account.ErrRateLimited) {
		t.Fatalf("sixth send in the hour: %v", err)
	}
	if last == first {
		t.Fatal("a resend sent the same code")
	}
	// The newest code works; the first one was replaced.
	conf := func(code string) error {
		_, err := f.tf.Confirm(ctx, account.ConfirmRequest{UserName: "olga", Password: tfPassword, Code: code})
		return err
	}
	if err := conf(first); err != account.ErrAuthFailed {
		t.Fatalf("replaced code: %v", err)
	}
	if err := conf(last); err != nil {
		t.Fatalf("newest code: %v", err)
	}

	// A user whose second factor is not SMS, or who has none.
	if _, err := f.tf.ResendCode(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword}); err != account.ErrSMSNotEnabled {
		t.Fatalf("no second factor: %v", err)
	}
	f.tf.Config.Require2FA = true
	if _, err := f.tf.ResendCode(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword}); err != account.ErrNoPhone {
		t.Fatalf("2FA required, no phone: %v", err)
	}
	// A phone being set up: the code goes to it again.
	f.advance(time.Hour)
	_, code := f.mustSetPhone(t, "79995550000")
	f.advance(time.Minute)
	res, err = f.tf.ResendCode(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword})
	if m := f.store.lastMessage(); err != nil || m.To != "79995550000" || m.Secret == code || res.PhoneNoise != "+7999***0000" {
		t.Fatalf("resend to the pending phone: %+v, %v, %+v", res, err, m)
	}
	if _, err := f.confirm(m(f).Secret); err != nil {
		t.Fatalf("confirm the pending phone with the resent code: %v", err)
	}
	if f.store.user(7).Phone != "79995550000" {
		t.Fatal("phone not confirmed")
	}
	// An authenticator app user.
	f.mustEnroll(t)
	if _, err := f.tf.ResendCode(ctx, account.AuthRequest{UserName: "ivan", Password: tfPassword}); err != account.ErrSMSNotEnabled {
		t.Fatalf("authenticator app: %v", err)
	}
	// Bad passwords are refused before anything is sent.
	if _, err := f.tf.ResendCode(ctx, account.AuthRequest{UserName: "olga", Password: "wrong-password"}); err != account.ErrAuthFailed {
		t.Fatalf("wrong password: %v", err)
	}
}

func m(f *tfFixture) account.Message { return f.store.lastMessage() }

// TestSetPhoneAnswers are ONLYOFFICE's SaveMobilePhone outcomes.
func TestSetPhoneAnswers(t *testing.T) {
	ctx := context.Background()
	f := mustTFFixture(t)
	if _, err := f.tf.SetPhone(ctx, account.SetPhoneRequest{UserName: "ivan", Password: tfPassword, MobilePhone: "no digits"}); err != account.ErrPhoneEmpty {
		t.Fatalf("no digits: %v", err)
	}
	f.mustEnroll(t)
	n := f.store.messages()
	res, err := f.tf.SetPhone(ctx, account.SetPhoneRequest{UserName: "ivan", Password: tfPassword, MobilePhone: "+7 999 111 22 33"})
	if err != nil || !res.SMS || res.PhoneNoise != "+7999***2233" || !res.Expires.Equal(f.now.Add(10*time.Minute)) || res.Token != "" {
		t.Fatalf("authenticator user = %+v, %v", res, err)
	}
	if f.store.messages() != n || f.store.user(7).Phone != "" {
		t.Fatal("setphone for an authenticator user sent a code or changed the phone")
	}
}
