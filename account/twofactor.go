package account

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Errors of the two-factor flows.
var (
	// ErrAuthFailed covers every reason a sign-in, a phone change or a code does not work: unknown user,
	// wrong password, social login, no or wrong or expired or used code, 2FA locked. The face answers
	// them all alike (r7office: "User authentication failed"); the log says which it was. Besides it the
	// flows return only ErrRateLimited (an SMS refused by the send limits, after a right password),
	// ErrBusy (hashing capacity exhausted) and storage failures.
	ErrAuthFailed = newError(OutcomeAuthFailed, "user authentication failed")
	// ErrPhoneTaken is a confirmed code whose new phone is already another user's. It is an
	// ErrAuthFailed (errors.Is), named so the log and the CLI can say why.
	ErrPhoneTaken = refine(ErrAuthFailed, OutcomePhoneTaken, "the phone belongs to another account")
	// ErrSignInBlocked is a password sign-in refused before any check because this login failed too often
	// from this address (ONLYOFFICE's BruteForceLoginManager), or this address failed too often. It is an
	// ErrAuthFailed; ONLYOFFICE answers it in words of its own.
	ErrSignInBlocked = refine(ErrAuthFailed, OutcomeSignInBlocked, "too many attempts")
	// ErrPhoneEmpty is a setphone whose number has no digits.
	ErrPhoneEmpty = newError(OutcomePhoneEmpty, "no mobile phone number given")
	// ErrPhoneConfirmed is a setphone for a user whose phone is confirmed: ONLYOFFICE wants it removed
	// first (with the password alone anyone could move the second factor to their own phone).
	ErrPhoneConfirmed = newError(OutcomePhoneConfirmed, "the confirmed phone must be removed before another is set")
	// ErrSMSNotEnabled is a sendsms for a user whose second factor is not an SMS code (an authenticator
	// app, or none while Require2FA is off).
	ErrSMSNotEnabled = newError(OutcomeSMSNotEnabled, "sms codes are not this user's second factor")
	// ErrNoPhone is a sendsms for a user who must confirm a phone but has not set one.
	ErrNoPhone = newError(OutcomeNoPhone, "no phone to send a code to")
)

// TwoFactorConfig holds the two-factor settings.
type TwoFactorConfig struct {
	App         string        // the outbox app of the SMS messages ("r7office")
	CodeTTL     time.Duration // lifetime of an SMS code
	MaxAttempts int           // checks an SMS code survives; the next one fails even with the right code
	LockAfter   int           // wrong codes in a row (TOTP or SMS) that lock 2FA
	LockFor     time.Duration // how long 2FA stays locked
	TokenTTL    time.Duration // lifetime of an API token
	// Require2FA makes a user without a second factor set one up (setphone) before getting a token.
	Require2FA bool
	Issuer     string // the issuer written into otpauth:// URIs
	Limits     Limits // SMS send limits, shared with the other faces' codes (same recipient keys)
	// SignIn is ONLYOFFICE's brute-force rule for password sign-ins, per login (as given) and client
	// address: only failures count, and too many of them block that login from that address for a while.
	SignIn SignInRule
	// FailuresPerIP bounds failed password sign-ins per client address in an hour, whatever the login
	// (aspgate's addition: one address trying many logins would otherwise cost a hash each time); over
	// it, password sign-ins from the address are refused before any hashing. Successes never count. 0
	// turns it off.
	FailuresPerIP int
}

// SignInRule is ONLYOFFICE's LoginSettings: more than Attempts attempts within Period, successes not
// counted, block the key for Block.
type SignInRule struct {
	Attempts int
	Period   time.Duration
	Block    time.Duration
}

// DefaultTwoFactorConfig is the configuration issue 5 specifies.
func DefaultTwoFactorConfig() TwoFactorConfig {
	return TwoFactorConfig{
		App:         "r7office",
		CodeTTL:     10 * time.Minute,
		MaxAttempts: 5,
		LockAfter:   5,
		LockFor:     15 * time.Minute,
		TokenTTL:    0, // one calendar year, as ONLYOFFICE's TenantCookieSettings
		Issuer:      "R7-Office",
		Limits:      Limits{PerRecipientMinute: 1, PerRecipientHour: 5, PerClientHour: 60},
		// LoginSettings.GetDefault: 5 attempts, 60 s check period, 60 s block.
		SignIn:        SignInRule{Attempts: 5, Period: time.Minute, Block: time.Minute},
		FailuresPerIP: 100,
	}
}

// tokenExpiry is when a token issued now expires: TokenTTL later, or one calendar year when it is 0
// (TenantCookieSettings.GetExpiresTime: DateTime.UtcNow.AddYears(1)).
func (c TwoFactorConfig) tokenExpiry(now time.Time) time.Time {
	if c.TokenTTL <= 0 {
		return now.AddDate(1, 0, 0)
	}
	return now.Add(c.TokenTTL)
}

// TwoFactor runs r7office's sign-in: password, then a second factor (an authenticator app's TOTP code or
// an SMS code), then an API token that downstream services check by introspection. Only MACs of codes and
// tokens are stored, and the TOTP secret sealed (see totp.go).
type TwoFactor struct {
	Store  TwoFactorStore
	Hasher *Hasher
	Keys   *Keyring
	Config TwoFactorConfig
	Now    func() time.Time // injected clock
	Log    *slog.Logger
}

// MAC purposes of the two-factor secrets.
const (
	macLoginCode = "login-code"
	macSignIn    = "sign-in"
	macAPIToken  = "api-token"
)

func (t *TwoFactor) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

func (t *TwoFactor) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

// AuthRequest is POST api/2.0/authentication (and sendsms): the first step of a sign-in.
type AuthRequest struct {
	UserName string // e-mail, user GUID or user name
	Password string
	Provider string // "" or "email" for a password sign-in; anything else is a social login, refused
	ClientIP string
}

// SetPhoneRequest is POST api/2.0/authentication/setphone.
type SetPhoneRequest struct {
	UserName    string // e-mail, user GUID or user name
	Password    string
	Provider    string
	MobilePhone string // any formatting; only the digits count
	ClientIP    string
}

// ConfirmRequest is POST api/2.0/authentication/{code}.
type ConfirmRequest struct {
	UserName string // e-mail, user GUID or user name
	Password string
	Provider string
	Code     string // the TOTP or SMS code
	ClientIP string
}

// AuthResult is what a step answers; the face writes it as AuthenticationTokenData.
type AuthResult struct {
	UserID     int64     // for the face's logs; not on the wire
	Token      string    // the API token; "" until the second factor is passed
	Expires    time.Time // when the token expires, or when the SMS code just sent stops working; zero otherwise
	SMS        bool      // an SMS code was sent, or is expected (setphone first when PhoneNoise is "")
	PhoneNoise string    // the masked phone the code went to
	TFA        bool      // the authenticator app's code is expected, or was accepted
}

// Authenticate checks the password and says what comes next: a user with an authenticator app gets
// {TFA} and sends its code to Confirm; a user with a confirmed phone gets an SMS code and {SMS, Expires,
// PhoneNoise} (no new one while the last one sent still works, as ONLYOFFICE's PutAuthCode(again:
// false)); any other user gets a token at once, unless Require2FA, when the answer is {SMS} without a
// phone, which tells the client to call setphone. While 2FA is locked, a user with a second factor fails.
// ErrRateLimited when the SMS send limits refuse.
func (t *TwoFactor) Authenticate(ctx context.Context, r AuthRequest) (AuthResult, error) {
	u, st, err := t.signIn(ctx, r.UserName, r.Password, r.Provider, r.ClientIP)
	if err != nil {
		return AuthResult{}, err
	}
	now := t.now()
	has2FA := st.TOTPSecret != nil || st.Phone != ""
	if has2FA && now.Before(st.LockedUntil) {
		t.log().InfoContext(ctx, "sign-in refused: 2fa locked", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	}
	switch {
	case st.TOTPSecret != nil:
		return AuthResult{UserID: u.ID, TFA: true}, nil
	case st.Phone != "":
		return t.sendLoginCode(ctx, u, st.Phone, "", r.ClientIP, now, false)
	case t.Config.Require2FA:
		return AuthResult{UserID: u.ID, SMS: true}, nil
	}
	tok, exp, err := t.issueToken(ctx, u.ID, now)
	if err != nil {
		return AuthResult{}, err
	}
	t.log().InfoContext(ctx, "token issued without a second factor", "user_id", u.ID)
	return AuthResult{UserID: u.ID, Token: tok, Expires: exp}, nil
}

// SetPhone checks the password, keeps the phone as pending and sends it a 6-digit code, which Confirm
// takes; only then does the phone become the user's. As in ONLYOFFICE (SmsManager.SaveMobilePhone), a
// number without digits is ErrPhoneEmpty and a user whose phone is confirmed gets ErrPhoneConfirmed: with
// the password alone anyone could otherwise move the second factor to their own phone. A user with an
// authenticator app gets ONLYOFFICE's answer ({SMS, Expires, PhoneNoise}) but no code, and nothing
// changes: the app stays the second factor. While 2FA is locked the answer is ErrAuthFailed.
func (t *TwoFactor) SetPhone(ctx context.Context, r SetPhoneRequest) (AuthResult, error) {
	u, st, err := t.signIn(ctx, r.UserName, r.Password, r.Provider, r.ClientIP)
	if err != nil {
		return AuthResult{}, err
	}
	phone := PhoneDigits(r.MobilePhone)
	now := t.now()
	switch {
	case phone == "":
		t.log().InfoContext(ctx, "setphone refused: no digits", "user_id", u.ID)
		return AuthResult{}, ErrPhoneEmpty
	case st.Phone != "":
		t.log().InfoContext(ctx, "setphone refused: a phone is already confirmed", "user_id", u.ID)
		return AuthResult{}, ErrPhoneConfirmed
	case now.Before(st.LockedUntil):
		t.log().InfoContext(ctx, "setphone refused: 2fa locked", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	case st.TOTPSecret != nil:
		t.log().InfoContext(ctx, "setphone answered without a code: an authenticator app is enrolled", "user_id", u.ID)
		return AuthResult{UserID: u.ID, SMS: true, Expires: now.Add(t.Config.CodeTTL), PhoneNoise: PhoneNoise(phone)}, nil
	}
	return t.sendLoginCode(ctx, u, phone, phone, r.ClientIP, now, false)
}

// ResendCode is POST api/2.0/authentication/sendsms (ONLYOFFICE's SendSmsCode): after the password, a
// fresh SMS code to the user's phone, or to the phone setphone is confirming, within the send limits
// (ErrRateLimited beyond them). A user whose second factor is an authenticator app, or who has none while
// Require2FA is off, gets ErrSMSNotEnabled; one who must confirm a phone but set none, ErrNoPhone. The new
// code replaces the one sent before.
func (t *TwoFactor) ResendCode(ctx context.Context, r AuthRequest) (AuthResult, error) {
	u, st, err := t.signIn(ctx, r.UserName, r.Password, r.Provider, r.ClientIP)
	if err != nil {
		return AuthResult{}, err
	}
	now := t.now()
	if st.TOTPSecret != nil {
		t.log().InfoContext(ctx, "sms resend refused: an authenticator app is enrolled", "user_id", u.ID)
		return AuthResult{}, ErrSMSNotEnabled
	}
	if now.Before(st.LockedUntil) {
		t.log().InfoContext(ctx, "sms resend refused: 2fa locked", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	}
	if st.Phone != "" {
		return t.sendLoginCode(ctx, u, st.Phone, "", r.ClientIP, now, true)
	}
	// No confirmed phone: the one setphone is confirming, if any.
	c, err := t.Store.LiveLoginCode(ctx, u.ID)
	switch {
	case err == nil && c.Phone != "":
		return t.sendLoginCode(ctx, u, c.Phone, c.Phone, r.ClientIP, now, true)
	case err != nil && !errors.Is(err, ErrNotFound):
		return AuthResult{}, err
	case t.Config.Require2FA:
		t.log().InfoContext(ctx, "sms resend refused: no phone set", "user_id", u.ID)
		return AuthResult{}, ErrNoPhone
	}
	t.log().InfoContext(ctx, "sms resend refused: sms is not the user's second factor", "user_id", u.ID)
	return AuthResult{}, ErrSMSNotEnabled
}

// sendLoginCode sends a fresh code to phone (pending: the phone SetPhone is setting, "" for the confirmed
// one) within the send limits. Unless again (a resend), a code already sent to the same phone that still
// works is pointed to instead, as ONLYOFFICE's PutAuthCode does; a refused send is ErrRateLimited.
func (t *TwoFactor) sendLoginCode(ctx context.Context, u *User, phone, pending, clientIP string, now time.Time, again bool) (AuthResult, error) {
	if !again {
		c, err := t.Store.LiveLoginCode(ctx, u.ID)
		if err == nil && c.Phone == pending && now.Before(c.ExpiresAt) && c.Attempts < t.Config.MaxAttempts {
			return AuthResult{UserID: u.ID, SMS: true, Expires: c.ExpiresAt, PhoneNoise: PhoneNoise(phone)}, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return AuthResult{}, err
		}
	}
	if err := takeSend(ctx, t.Store, now, sendLimits(t.Keys, t.Config.Limits, u, string(SMS)+":"+phone, clientIP)); err != nil {
		t.log().InfoContext(ctx, "login code refused: send limit", "user_id", u.ID, "limit", LimitOf(err))
		return AuthResult{}, err
	}
	code := NewCode6()
	exp := now.Add(t.Config.CodeTTL)
	err := t.Store.IssueLoginCode(ctx, NewLoginCode{
		UserID: u.ID, Phone: pending, MAC: t.loginCodeMAC(u.ID, pending, code), CreatedAt: now, ExpiresAt: exp,
	}, Message{App: t.Config.App, Channel: SMS, Kind: KindLoginCode, To: phone, Secret: code, ExpiresAt: exp})
	if err != nil {
		return AuthResult{}, err
	}
	t.log().InfoContext(ctx, "login code issued", "user_id", u.ID, "new_phone", pending != "", "resend", again)
	return AuthResult{UserID: u.ID, SMS: true, Expires: exp, PhoneNoise: PhoneNoise(phone)}, nil
}

// Confirm checks the password and then the code: the authenticator app's when one is enrolled, else the
// live SMS code. A TOTP code is accepted once, and never one of a time step at or before the last
// accepted one; an SMS code's attempt is counted before it is checked. LockAfter wrong codes in a row
// lock 2FA for LockFor, during which even the right code fails; a success resets the count. On success a
// pending phone becomes the user's phone and a token is issued.
func (t *TwoFactor) Confirm(ctx context.Context, r ConfirmRequest) (AuthResult, error) {
	u, st, err := t.signIn(ctx, r.UserName, r.Password, r.Provider, r.ClientIP)
	if err != nil {
		return AuthResult{}, err
	}
	now := t.now()
	if now.Before(st.LockedUntil) {
		t.log().InfoContext(ctx, "code refused: 2fa locked", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	}
	if st.TOTPSecret != nil {
		return t.confirmTOTP(ctx, u, st, r.Code, now)
	}
	return t.confirmSMS(ctx, u, st, r.Code, now)
}

func (t *TwoFactor) confirmTOTP(ctx context.Context, u *User, st *TwoFactorState, code string, now time.Time) (AuthResult, error) {
	secret, err := t.Keys.openTOTP(u.ID, st.TOTPSecret)
	if err != nil {
		return AuthResult{}, fmt.Errorf("account: user %d: %w", u.ID, err)
	}
	step, ok, err := matchTOTP(secret, code, now, st.TOTPLastStep)
	if err != nil {
		return AuthResult{}, fmt.Errorf("account: totp: %w", err)
	}
	if !ok {
		return AuthResult{}, t.codeFailed(ctx, u.ID, now, "totp code rejected")
	}
	tok, mac := t.newToken()
	exp := t.Config.tokenExpiry(now)
	err = t.Store.CompleteTOTPLogin(ctx, TOTPLogin{UserID: u.ID, Secret: st.TOTPSecret, Step: step,
		Token: NewAPIToken{UserID: u.ID, MAC: mac, CreatedAt: now, ExpiresAt: exp}})
	if errors.Is(err, ErrAuthFailed) {
		// Another request took this step (or a later one) since the state was read: a replay.
		return AuthResult{}, t.codeFailed(ctx, u.ID, now, "totp code replayed")
	}
	if err != nil {
		return AuthResult{}, err
	}
	t.log().InfoContext(ctx, "token issued after a totp code", "user_id", u.ID)
	return AuthResult{UserID: u.ID, Token: tok, Expires: exp, TFA: true}, nil
}

func (t *TwoFactor) confirmSMS(ctx context.Context, u *User, st *TwoFactorState, code string, now time.Time) (AuthResult, error) {
	c, err := t.Store.LiveLoginCode(ctx, u.ID)
	if errors.Is(err, ErrNotFound) {
		// Nothing to check the code against: not a wrong code, so not counted.
		t.log().InfoContext(ctx, "code refused: no second factor and no code sent", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	}
	if err != nil {
		return AuthResult{}, err
	}
	attempts, err := t.Store.CountAttempt(ctx, c.ID)
	if err != nil {
		return AuthResult{}, err
	}
	if attempts > t.Config.MaxAttempts || !now.Before(c.ExpiresAt) ||
		!Equal(t.loginCodeMAC(u.ID, c.Phone, strings.TrimSpace(code)), c.MAC) {
		return AuthResult{}, t.codeFailed(ctx, u.ID, now, "sms code rejected")
	}
	tok, mac := t.newToken()
	exp := t.Config.tokenExpiry(now)
	err = t.Store.CompleteSMSLogin(ctx, SMSLogin{UserID: u.ID, CodeID: c.ID, Phone: c.Phone,
		MaxAttempts: t.Config.MaxAttempts, Token: NewAPIToken{UserID: u.ID, MAC: mac, CreatedAt: now, ExpiresAt: exp}})
	switch {
	case errors.Is(err, ErrPhoneTaken):
		t.log().InfoContext(ctx, "code refused: the new phone is another user's", "user_id", u.ID)
		return AuthResult{}, err
	case errors.Is(err, ErrAuthFailed):
		// Used by a concurrent request, superseded or locked meanwhile: the right code, too late.
		t.log().InfoContext(ctx, "code refused: consumed meanwhile", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	case err != nil:
		return AuthResult{}, err
	}
	phone := st.Phone
	if c.Phone != "" {
		phone = c.Phone
	}
	t.log().InfoContext(ctx, "token issued after an sms code", "user_id", u.ID, "phone_confirmed", c.Phone != "")
	return AuthResult{UserID: u.ID, Token: tok, Expires: exp, SMS: true, PhoneNoise: PhoneNoise(phone)}, nil
}

// codeFailed counts a wrong code and answers ErrAuthFailed (or the store's error).
func (t *TwoFactor) codeFailed(ctx context.Context, userID int64, now time.Time, why string) error {
	until, err := t.Store.RecordTwoFactorFailure(ctx, userID, now, t.Config.LockAfter, t.Config.LockFor)
	if err != nil {
		return err
	}
	if !until.IsZero() {
		t.log().InfoContext(ctx, why+"; 2fa locked", "user_id", userID, "locked_until", until)
	} else {
		t.log().InfoContext(ctx, why, "user_id", userID)
	}
	return ErrAuthFailed
}

// EnrollTOTP creates a fresh authenticator secret for the user (by user name or e-mail), replacing any
// earlier one and forgetting its last accepted step, and returns the key: its URL() is the otpauth://
// URI, Secret() the base32 secret, Image() the QR code. This is the admin's operation: an unknown user
// is ErrNotFound.
func (t *TwoFactor) EnrollTOTP(ctx context.Context, userNameOrEmail string) (*otp.Key, error) {
	u, err := t.lookupUser(ctx, userNameOrEmail)
	if err != nil {
		return nil, err
	}
	name := u.Email
	if name == "" {
		name = u.UserName
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: t.Config.Issuer, AccountName: name,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("account: totp: %w", err)
	}
	if err := t.Store.SetTOTPSecret(ctx, u.ID, t.Keys.sealTOTP(u.ID, key.Secret()), t.now()); err != nil {
		return nil, err
	}
	t.log().InfoContext(ctx, "totp enrolled", "user_id", u.ID)
	return key, nil
}

// DisableTOTP removes the user's authenticator app (by user name or e-mail); an unknown user is
// ErrNotFound, a user without one is no error.
func (t *TwoFactor) DisableTOTP(ctx context.Context, userNameOrEmail string) error {
	u, err := t.lookupUser(ctx, userNameOrEmail)
	if err != nil {
		return err
	}
	if err := t.Store.SetTOTPSecret(ctx, u.ID, nil, t.now()); err != nil {
		return err
	}
	t.log().InfoContext(ctx, "totp disabled", "user_id", u.ID)
	return nil
}

// signIn checks the password and reads the user's second-factor state: the first step of every method.
func (t *TwoFactor) signIn(ctx context.Context, userName, password, provider, clientIP string) (*User, *TwoFactorState, error) {
	u, err := t.login(ctx, userName, password, provider, clientIP)
	if err != nil {
		return nil, nil, err
	}
	st, err := t.Store.TwoFactorState(ctx, u.ID)
	if err != nil {
		return nil, nil, t.storeErr(err)
	}
	return u, st, nil
}

// login checks a password sign-in as ONLYOFFICE's GetUser does. A social login (a provider other than
// "email") is refused at once. Otherwise the attempt is counted for the login and client address before
// anything else (BruteForceLoginManager.Increment): once the rule blocks that pair, or the address has
// failed too often, the sign-in is ErrSignInBlocked without any hashing. A success takes its attempt back
// (Decrement), so only failures ever count. An unknown login costs one dummy verification, so it answers
// as slowly as a wrong password, and both cost the same reads and writes.
func (t *TwoFactor) login(ctx context.Context, userName, password, provider, clientIP string) (*User, error) {
	if provider != "" && provider != "email" {
		t.log().InfoContext(ctx, "sign-in refused: social login is not supported")
		return nil, ErrAuthFailed
	}
	if strings.TrimSpace(userName) == "" || password == "" {
		return nil, ErrAuthFailed
	}
	now := t.now()
	guard := t.signInKey(userName, clientIP)
	ok, err := t.Store.SignInAttempt(ctx, guard, now, t.Config.SignIn)
	if err != nil {
		return nil, err
	}
	if !ok {
		t.log().WarnContext(ctx, "sign-in refused: too many failed attempts for this login from this address")
		return nil, signInLimited(LimitSignIn)
	}
	failures := t.failureLimits(clientIP)
	if ok, err := t.Store.LimitAllows(ctx, now, failures); err != nil {
		return nil, err
	} else if !ok {
		t.log().WarnContext(ctx, "sign-in refused: too many failed attempts from this address")
		return nil, signInLimited(LimitSignInClient)
	}
	u, err := t.lookupUser(ctx, userName)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var verified bool
	var upgraded string
	if u == nil {
		err = t.Hasher.VerifyDummy(ctx, password)
	} else {
		verified, upgraded, err = t.Hasher.Check(ctx, u.PasswordHash, password)
	}
	if err != nil {
		return nil, err
	}
	if upgraded != "" {
		// A legacy hash that matched: argon2id from now on (the same password: no token is revoked).
		if err := t.Store.UpgradePasswordHash(ctx, u.ID, u.PasswordHash, upgraded); err != nil {
			return nil, err
		}
		t.log().InfoContext(ctx, "password hash upgraded to argon2id", "user_id", u.ID, "from", SchemeOf(u.PasswordHash))
		u.PasswordHash = upgraded
	}
	if !verified {
		if err := t.Store.ChargeLimits(ctx, now, failures); err != nil {
			return nil, err
		}
		if u == nil {
			t.log().InfoContext(ctx, "sign-in refused: unknown user")
		} else {
			t.log().InfoContext(ctx, "sign-in refused: wrong password", "user_id", u.ID)
		}
		return nil, ErrAuthFailed
	}
	if err := t.Store.SignInSucceeded(ctx, guard, now, t.Config.SignIn); err != nil {
		return nil, err
	}
	return u, nil
}

// lookupUser finds a user as ONLYOFFICE's sign-in does, by user GUID or e-mail, and (aspgate's
// extension) by user name. The same lookups always run whatever matches, so a name that matches answers
// no faster than one that does not.
func (t *TwoFactor) lookupUser(ctx context.Context, login string) (*User, error) {
	s := strings.TrimSpace(login)
	if s == "" {
		return nil, ErrNotFound
	}
	if uid, ok := parseGUID(s); ok {
		return t.Store.UserByUID(ctx, uid)
	}
	byName, err1 := t.Store.UserByUserName(ctx, s)
	byEmail, err2 := t.Store.UserByEmail(ctx, s)
	switch {
	case err2 == nil:
		return byEmail, nil
	case !errors.Is(err2, ErrNotFound):
		return nil, err2
	case err1 == nil:
		return byName, nil
	}
	return nil, err1
}

// parseGUID reads a GUID the way .NET's Guid.TryParse does in its common forms: 32 hex digits, with
// hyphens (D), also in braces (B) or parentheses (P).
func parseGUID(s string) ([16]byte, bool) {
	var out [16]byte
	if len(s) == 38 && (s[0] == '{' && s[37] == '}' || s[0] == '(' && s[37] == ')') {
		s = s[1:37]
	}
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return out, false
		}
		s = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	case 32:
	default:
		return out, false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return out, false
	}
	copy(out[:], b)
	return out, true
}

// storeErr turns a user that vanished between two reads into an authentication failure.
func (t *TwoFactor) storeErr(err error) error {
	if errors.Is(err, ErrNotFound) {
		return ErrAuthFailed
	}
	return err
}

// loginCodeMAC binds a code to its user and to the pending phone it was sent to ("" for the confirmed
// phone), so a code sent to one number can never confirm another.
func (t *TwoFactor) loginCodeMAC(userID int64, pending, code string) []byte {
	return t.Keys.MAC(macLoginCode, strconv.FormatInt(userID, 10)+":"+pending+":"+code)
}

// signInKey keys the brute-force rule on the login as written (case and surrounding spaces aside, so
// they give no fresh budget) and the client address, by MAC so the table holds no names. It is not the
// account's: a user's name and e-mail have budgets of their own, so the budget says nothing about which
// logins share an account.
func (t *TwoFactor) signInKey(login, clientIP string) string {
	return "signin:" + hex.EncodeToString(t.Keys.MAC(macSignIn, strings.ToLower(strings.TrimSpace(login))+"\x00"+clientIP))
}

// failureLimits is the budget of failed sign-ins per client address.
func (t *TwoFactor) failureLimits(clientIP string) []Limit {
	if n := t.Config.FailuresPerIP; n > 0 && clientIP != "" {
		return []Limit{{Name: LimitSignInClient, Key: "signin-fail-ip:" + clientIP, Window: time.Hour, Max: n}}
	}
	return nil
}
