package account

import (
	"context"
	"time"
)

// TwoFactorStore is what TwoFactor needs from storage. Each method is one transaction; the decisions that
// two requests could race for (consuming a code, accepting a TOTP time step) are made by the store's
// UPDATE ... WHERE, whose row count says who won.
type TwoFactorStore interface {
	// UpgradePasswordHash replaces the user's legacy hash old by upgraded (argon2id of the same
	// password), unless it changed meanwhile; not a password change (no history, no revocation).
	UpgradePasswordHash(ctx context.Context, userID int64, old, upgraded string) error
	UserByUserName(ctx context.Context, userName string) (*User, error) // ErrNotFound
	UserByEmail(ctx context.Context, email string) (*User, error)       // ErrNotFound; e-mail compared ignoring case
	UserByUID(ctx context.Context, uid [16]byte) (*User, error)         // ErrNotFound

	// SignInAttempt is BruteForceLoginManager.Increment for key: false (and nothing recorded) while the
	// key is blocked; else the attempt is recorded at now, and false when that makes more than
	// rule.Attempts within rule.Period, which blocks the key for rule.Block and forgets its attempts.
	SignInAttempt(ctx context.Context, key string, now time.Time, rule SignInRule) (bool, error)
	// SignInSucceeded is Decrement: the key's latest attempt is taken back.
	SignInSucceeded(ctx context.Context, key string, now time.Time, rule SignInRule) error
	// LimitAllows reports whether one more event fits every limit, without recording anything (and
	// without waiting for writers).
	LimitAllows(ctx context.Context, now time.Time, limits []Limit) (bool, error)
	// ChargeLimits records one event against every limit, whether or not it fits.
	ChargeLimits(ctx context.Context, now time.Time, limits []Limit) error

	// TakeSend checks the send limits and records one send, atomically (see Store.TakeSend).
	TakeSend(ctx context.Context, now time.Time, limits []Limit) (*Limit, error)
	// CountAttempt adds one attempt to a code before it is checked and returns the new count.
	CountAttempt(ctx context.Context, codeID int64) (int, error)

	// TwoFactorState returns the user's second-factor state (the zero state when the user never had any);
	// ErrNotFound for an unknown user.
	TwoFactorState(ctx context.Context, userID int64) (*TwoFactorState, error)
	// RecordTwoFactorFailure counts one wrong code. When the count reaches lockAfter, 2FA is locked until
	// now+lockFor and the count starts again from zero; it returns the lock's end (zero when not locked).
	RecordTwoFactorFailure(ctx context.Context, userID int64, now time.Time, lockAfter int, lockFor time.Duration) (time.Time, error)
	// SetTOTPSecret enrols an authenticator app with the sealed secret and forgets the last accepted time
	// step; a nil secret removes the enrolment. ErrNotFound for an unknown user.
	SetTOTPSecret(ctx context.Context, userID int64, sealed []byte, now time.Time) error

	// IssueLoginCode stores a new login code, marks the user's earlier live ones superseded and queues the
	// message, in one transaction.
	IssueLoginCode(ctx context.Context, c NewLoginCode, msg Message) error
	// LiveLoginCode returns the user's newest login code that is neither used nor superseded (expiry and
	// attempts are the caller's to judge); ErrNotFound when there is none.
	LiveLoginCode(ctx context.Context, userID int64) (*LoginCode, error)

	// CompleteTOTPLogin accepts the time step (only when it is above the stored last one, the enrolment is
	// still the one the code was checked against, and 2FA is not locked), resets the failure count and
	// stores the token, in one transaction. ErrAuthFailed, with nothing changed, when the step was taken.
	CompleteTOTPLogin(ctx context.Context, l TOTPLogin) error
	// CompleteSMSLogin consumes the code (only when live, unexpired, within its attempts, and 2FA not
	// locked), makes a pending phone the user's confirmed phone, resets the failure count and stores the
	// token, in one transaction. ErrAuthFailed when the code no longer works, ErrPhoneTaken when the
	// pending phone is another user's; nothing changes then.
	CompleteSMSLogin(ctx context.Context, l SMSLogin) error

	// IssueAPIToken stores a token (its MAC only).
	IssueAPIToken(ctx context.Context, t NewAPIToken) error
	// APITokenByMAC finds a token, revoked and expired ones included; ErrNotFound when unknown.
	APITokenByMAC(ctx context.Context, mac []byte) (*APIToken, error)
	// RevokeAPIToken revokes the token with this MAC; an unknown or already revoked one is no error.
	RevokeAPIToken(ctx context.Context, mac []byte, now time.Time) error
	// RevokeUserAPITokens revokes every live token of the user and says how many there were.
	RevokeUserAPITokens(ctx context.Context, userID int64, now time.Time) (int, error)
}

// PurposeTwoFactor is the purpose of the SMS login codes in the codes table.
const PurposeTwoFactor = "2fa"

// TwoFactorState is a user's second-factor state as stored.
type TwoFactorState struct {
	TOTPSecret   []byte // the authenticator app's secret, sealed (see TwoFactor); nil when none is enrolled
	TOTPLastStep int64  // the last accepted RFC 6238 time step; codes of this step or older are refused
	Phone        string // the user's confirmed phone (SMS login is on); "" when none
	Failures     int    // wrong codes in a row since the last success or lock
	LockedUntil  time.Time
}

// NewLoginCode is an SMS login code to store: only its MAC.
type NewLoginCode struct {
	UserID int64
	// Phone is the pending phone the code was sent to by SetPhone, which becomes the user's phone when the
	// code is confirmed; "" for a code sent to the user's confirmed phone.
	Phone     string
	MAC       []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginCode is a stored SMS login code.
type LoginCode struct {
	Code
	Phone string // the pending phone, as in NewLoginCode
}

// NewAPIToken is an API token to store: only its MAC.
type NewAPIToken struct {
	UserID    int64
	MAC       []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIToken is a stored API token.
type APIToken struct {
	ID        int64
	UserID    int64
	UserUID   [16]byte
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero while not revoked
}

// TOTPLogin completes a sign-in with an authenticator code.
type TOTPLogin struct {
	UserID int64
	Secret []byte // the sealed secret the code was checked against
	Step   int64  // the time step the code matched
	Token  NewAPIToken
}

// SMSLogin completes a sign-in with an SMS code.
type SMSLogin struct {
	UserID      int64
	CodeID      int64
	Phone       string // the code's pending phone ("" for none)
	MaxAttempts int
	Token       NewAPIToken
}
