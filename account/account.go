// Package account is the account-recovery domain behind the legacy faces: users, reset codes, change
// requests, API keys, password policy and history, rate limits. It knows nothing of HTTP or of the wire;
// handlers translate the legacy DTOs into the calls here and the outcomes back. Storage is reached
// through the Store interface declared in store.go.
package account

import (
	"net/url"
	"time"
)

// User is an account.
type User struct {
	ID                   int64 // the legacy integer UserId (ereader)
	UID                  [16]byte
	UserName             string
	Email                string
	Phone                string // digits only
	OperatorID           *int64
	FirstName            *string
	LastName             *string
	Title                *string
	Gender               *int32
	UserType             *int32
	IsLazy               bool
	SharedDataPermission bool
	PasswordHash         string
}

// Channel is how a message reaches a person.
type Channel string

// The delivery channels.
const (
	SMS   Channel = "sms"
	Email Channel = "email"
)

// MessageKind says what a message carries, which picks its template.
type MessageKind string

// The message kinds.
const (
	// KindCode carries a one-time code that resets a password (lcmanager's RememberMessage).
	KindCode MessageKind = "code"
	// KindChangeLink carries a link to the password-change page (aries' ForgotPassword).
	KindChangeLink MessageKind = "change-link"
	// KindLoginCode carries a one-time code that confirms a sign-in or a new phone (r7office).
	KindLoginCode MessageKind = "login-code"
)

// Message is an outbox entry: written in the same transaction as the code or request it carries, delivered
// later. It holds facts, not text: delivery renders the words from templates when it sends, so the only
// copy of the secret outside the recovery tables' HMACs is Secret, which is erased once the message is
// sent or dead.
type Message struct {
	App       string
	Channel   Channel
	Kind      MessageKind
	To        string
	Secret    string    // the code or ChangeRequestId itself
	LinkBase  string    // for KindChangeLink: the link without its secret, which Link appends
	ExpiresAt time.Time // when the code or link stops working
}

// Link is the link a KindChangeLink message carries ("" for other kinds).
func (m Message) Link() string {
	if m.Kind != KindChangeLink || m.Secret == "" {
		return ""
	}
	return m.LinkBase + url.QueryEscape(m.Secret)
}

// QueuedMessage is a message in the outbox, as the dispatcher claims it.
type QueuedMessage struct {
	ID int64
	Message
	Attempts       int // delivery attempts so far, this one included
	CreatedAt      time.Time
	IdempotencyKey string // the same on every attempt, so a provider can drop a resend
}

// Errors of the flows, each with its Outcome (outcome.go): the faces map outcomes to legacy answers.
var (
	// ErrNotFound is a store lookup that found nothing.
	ErrNotFound = newError(OutcomeNotFound, "not found")
	// ErrRateLimited refuses a send: too many for this account, recipient or client (a *LimitError says
	// which limit).
	ErrRateLimited = newError(OutcomeRateLimited, "too many requests")
	// ErrInvalidAPIKey is an unknown or revoked client application key.
	ErrInvalidAPIKey = newError(OutcomeInvalidAPIKey, "invalid api key")
	// ErrNoRecipient is a code request that names neither a phone nor an e-mail.
	ErrNoRecipient = newError(OutcomeNoRecipient, "no phone or e-mail given")
	// ErrCodeRejected covers every reason a code does not work: unknown user, wrong, expired, used,
	// superseded or locked after too many attempts. The caller cannot tell them apart, by design.
	ErrCodeRejected = newError(OutcomeCodeRejected, "code rejected")
	// ErrChangeRequestNotFound is an unknown or already used ChangeRequestId.
	ErrChangeRequestNotFound = newError(OutcomeChangeNotFound, "change request not found")
	// ErrChangeRequestExpired is a ChangeRequestId past its lifetime.
	ErrChangeRequestExpired = newError(OutcomeChangeExpired, "change request expired")
	// ErrPasswordUsedBefore is a new password equal to the current one or one of the recent ones.
	ErrPasswordUsedBefore = newError(OutcomePasswordUsed, "password used before")
	// ErrBusy is returned when the hashing capacity is exhausted; the request may be retried.
	ErrBusy = newError(OutcomeBusy, "too many password operations in progress")
)

// PolicyError is a new password the policy refuses; Reason says why in plain words.
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return "account: password policy: " + e.Reason }

// Limits are the send limits, each a GCRA (a burst of the maximum, then one every window/maximum); 0 is no
// limit. A known account has one budget whatever its phone or e-mail; an unknown recipient has the same
// budget of its own, so hitting a limit says no more about an account than the answer does.
type Limits struct {
	PerRecipientMinute int
	PerRecipientHour   int
	PerClientHour      int
}

// Config holds the flows' settings.
type Config struct {
	CodeTTL      time.Duration // lifetime of a 6-digit code
	ChangeTTL    time.Duration // lifetime of a ChangeRequestId
	MaxAttempts  int           // wrong attempts that kill a code
	HistoryDepth int           // earlier passwords that may not be reused, besides the current one
	Limits       Limits
	// LinkBaseURL is where the password-change page lives; the ChangeRequestId is appended as ?id=.
	LinkBaseURL string
}

// DefaultConfig is the configuration the issues specify.
func DefaultConfig() Config {
	return Config{
		CodeTTL:      10 * time.Minute,
		ChangeTTL:    time.Hour,
		MaxAttempts:  5,
		HistoryDepth: 5,
		Limits:       Limits{PerRecipientMinute: 1, PerRecipientHour: 5, PerClientHour: 60},
		LinkBaseURL:  "http://localhost:8080/password/change",
	}
}
