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
	ErrAuthFailed = errors.New("account: user authentication failed")
	// ErrPhoneTaken is a confirmed code whose new phone is already another user's. It is an
	// ErrAuthFailed (errors.Is), named so the log and the CLI can say why.
	ErrPhoneTaken = fmt.Errorf("%w: the phone belongs to another account", ErrAuthFailed)
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
	// SignInsPerUserIP and SignInsPerIP bound password attempts: per user name and client address in 15
	// minutes (ONLYOFFICE's BruteForceLoginManager keys its block the same way, so a stranger elsewhere
	// cannot lock a user out) and per client address in an hour. Over either, the sign-in fails before
	// any hashing.
	SignInsPerUserIP int
	SignInsPerIP     int
}

// DefaultTwoFactorConfig is the configuration issue 5 specifies.
func DefaultTwoFactorConfig() TwoFactorConfig {
	return TwoFactorConfig{
		App:         "r7office",
		CodeTTL:     10 * time.Minute,
		MaxAttempts: 5,
		LockAfter:   5,
		LockFor:     15 * time.Minute,
		TokenTTL:    30 * 24 * time.Hour,
		Issuer:      "R7-Office",
		Limits:      Limits{PerRecipientMinute: 1, PerRecipientHour: 5, PerClientHour: 60},

		SignInsPerUserIP: 20,
		SignInsPerIP:     100,
	}
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

// AuthRequest is POST api/2.0/authentication: the first step of a sign-in.
type AuthRequest struct {
	UserName string // user name or e-mail
	Password string
	Provider string // "" or "email" for a password sign-in; anything else is a social login, refused
	ClientIP string
}

// SetPhoneRequest is POST api/2.0/authentication/setphone.
type SetPhoneRequest struct {
	UserName    string // user name or e-mail
	Password    string
	Provider    string
	MobilePhone string // any formatting; only the digits count
	ClientIP    string
}

// ConfirmRequest is POST api/2.0/authentication/{code}.
type ConfirmRequest struct {
	UserName string // user name or e-mail
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
// PhoneNoise}; any other user gets a token at once, unless Require2FA, when the answer is {SMS} without a
// phone, which tells the client to call setphone. While 2FA is locked, a user with a second factor fails.
// ErrRateLimited when the SMS send limits refuse and no earlier code is still good.
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
		return t.sendLoginCode(ctx, u, st.Phone, "", r.ClientIP, now)
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
// takes; only then does the phone become the user's. As in ONLYOFFICE, a user whose phone is already
// confirmed cannot replace it this way (with the password alone anyone could then move the second
// factor to their own phone); a user with an authenticator app confirms with the app, so no code is sent
// to them either; nor can a phone without digits be set. All of these are ErrAuthFailed.
func (t *TwoFactor) SetPhone(ctx context.Context, r SetPhoneRequest) (AuthResult, error) {
	u, st, err := t.signIn(ctx, r.UserName, r.Password, r.Provider, r.ClientIP)
	if err != nil {
		return AuthResult{}, err
	}
	phone := PhoneDigits(r.MobilePhone)
	if phone == "" {
		t.log().InfoContext(ctx, "setphone refused: no digits", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	}
	now := t.now()
	switch {
	case st.Phone != "":
		t.log().InfoContext(ctx, "setphone refused: a phone is already confirmed", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	case st.TOTPSecret != nil:
		t.log().InfoContext(ctx, "setphone refused: an authenticator app is enrolled", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	case now.Before(st.LockedUntil):
		t.log().InfoContext(ctx, "setphone refused: 2fa locked", "user_id", u.ID)
		return AuthResult{}, ErrAuthFailed
	}
	return t.sendLoginCode(ctx, u, phone, phone, r.ClientIP, now)
}

// sendLoginCode sends a fresh code to phone (pending: the phone SetPhone is setting, "" for the confirmed
// one) within the send limits. When a limit refuses but the live code went to the same phone and still
// works, the answer points to that one (a double click does not fail); otherwise ErrRateLimited.
func (t *TwoFactor) sendLoginCode(ctx context.Context, u *User, phone, pending, clientIP string, now time.Time) (AuthResult, error) {
	ok, err := t.Store.TakeSend(ctx, now, t.limits(phone, clientIP))
	if err != nil {
		return AuthResult{}, err
	}
	if !ok {
		c, err := t.Store.LiveLoginCode(ctx, u.ID)
		if err == nil && c.Phone == pending && now.Before(c.ExpiresAt) && c.Attempts < t.Config.MaxAttempts {
			return AuthResult{UserID: u.ID, SMS: true, Expires: c.ExpiresAt, PhoneNoise: PhoneNoise(phone)}, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return AuthResult{}, err
		}
		t.log().InfoContext(ctx, "login code refused: send limit", "user_id", u.ID)
		return AuthResult{}, ErrRateLimited
	}
	code := NewCode6()
	exp := now.Add(t.Config.CodeTTL)
	err = t.Store.IssueLoginCode(ctx, NewLoginCode{
		UserID: u.ID, Phone: pending, MAC: t.loginCodeMAC(u.ID, pending, code), CreatedAt: now, ExpiresAt: exp,
	}, Message{App: t.Config.App, Channel: SMS, Kind: KindLoginCode, To: phone, Secret: code, ExpiresAt: exp})
	if err != nil {
		return AuthResult{}, err
	}
	t.log().InfoContext(ctx, "login code issued", "user_id", u.ID, "new_phone", pending != "")
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
	exp := now.Add(t.Config.TokenTTL)
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
	exp := now.Add(t.Config.TokenTTL)
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

// login checks a password sign-in. An unknown user costs one dummy verification, so it answers as
// slowly as a wrong password; a social login (a provider other than "email") is refused at once.
func (t *TwoFactor) login(ctx context.Context, userName, password, provider, clientIP string) (*User, error) {
	if p := strings.TrimSpace(provider); p != "" && !strings.EqualFold(p, "email") {
		t.log().InfoContext(ctx, "sign-in refused: social login is not supported")
		return nil, ErrAuthFailed
	}
	if strings.TrimSpace(userName) == "" || password == "" {
		return nil, ErrAuthFailed
	}
	u, err := t.lookupUser(ctx, userName)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	// The attempt counts against the account the name resolves to, so its user name and its e-mail
	// share one budget; an unknown name has its own.
	subject := "name:" + strings.ToLower(strings.TrimSpace(userName))
	if u != nil {
		subject = "user:" + strconv.FormatInt(u.ID, 10)
	}
	if ok, err := t.Store.TakeSend(ctx, t.now(), t.signInLimits(subject, clientIP)); err != nil {
		return nil, err
	} else if !ok {
		t.log().WarnContext(ctx, "sign-in refused: too many attempts from this address")
		return nil, ErrAuthFailed
	}
	if u == nil {
		if err := t.Hasher.VerifyDummy(ctx, password); err != nil {
			return nil, err
		}
		t.log().InfoContext(ctx, "sign-in refused: unknown user")
		return nil, ErrAuthFailed
	}
	ok, err := t.Hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		t.log().InfoContext(ctx, "sign-in refused: wrong password", "user_id", u.ID)
		return nil, ErrAuthFailed
	}
	return u, nil
}

// lookupUser finds a user by user name, else by e-mail (ONLYOFFICE's userName is "user name or e-mail").
// Both lookups always run, so a name that matches answers no faster than one that does not.
func (t *TwoFactor) lookupUser(ctx context.Context, nameOrEmail string) (*User, error) {
	s := strings.TrimSpace(nameOrEmail)
	if s == "" {
		return nil, ErrNotFound
	}
	byName, err1 := t.Store.UserByUserName(ctx, s)
	byEmail, err2 := t.Store.UserByEmail(ctx, s)
	switch {
	case err1 == nil:
		return byName, nil
	case !errors.Is(err1, ErrNotFound):
		return nil, err1
	case err2 == nil:
		return byEmail, nil
	}
	return nil, err2
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

// signInLimits count password attempts; the user name is keyed by its MAC, like recipients, so the limit
// log holds no names.
func (t *TwoFactor) signInLimits(subject, clientIP string) []Limit {
	var out []Limit
	if n := t.Config.SignInsPerUserIP; n > 0 {
		out = append(out, Limit{Key: "signin:" + hex.EncodeToString(t.Keys.MAC(macSignIn, subject+"\x00"+clientIP)),
			Window: 15 * time.Minute, Max: n})
	}
	if n := t.Config.SignInsPerIP; n > 0 && clientIP != "" {
		out = append(out, Limit{Key: "signin-ip:" + clientIP, Window: time.Hour, Max: n})
	}
	return out
}

// limits are the send limits of an SMS to phone, keyed as the other faces key theirs (the recipient by
// its MAC), so one phone's budget is shared by every face that texts it.
func (t *TwoFactor) limits(phone, clientIP string) []Limit {
	r := "rcpt:" + hex.EncodeToString(t.Keys.MAC(macRecipient, string(SMS)+":"+phone))
	l := t.Config.Limits
	out := []Limit{
		{Key: r, Window: time.Minute, Max: l.PerRecipientMinute},
		{Key: r, Window: time.Hour, Max: l.PerRecipientHour},
	}
	if clientIP != "" {
		out = append(out, Limit{Key: "ip:" + clientIP, Window: time.Hour, Max: l.PerClientHour})
	}
	return out
}
