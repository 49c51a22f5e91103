package account

import (
	"context"
	"time"
)

// Store is what the flows need from storage. Each method is one transaction; the flows hash passwords
// before calling, so no transaction waits on argon2id.
type Store interface {
	// UpgradePasswordHash replaces the user's legacy hash old by upgraded (see TwoFactorStore).
	UpgradePasswordHash(ctx context.Context, userID int64, old, upgraded string) error
	UserByPhone(ctx context.Context, phone string) (*User, error) // ErrNotFound
	UserByEmail(ctx context.Context, email string) (*User, error) // ErrNotFound; e-mail compared ignoring case
	UserByUserName(ctx context.Context, userName string) (*User, error)
	UserByID(ctx context.Context, id int64) (*User, error)
	// PasswordHistory returns up to n earlier password hashes of the user, newest first (not the current one).
	PasswordHistory(ctx context.Context, userID int64, n int) ([]string, error)

	// APIKeyActive reports whether a key with this MAC exists for the app and is not revoked.
	APIKeyActive(ctx context.Context, app string, keyMAC []byte) (bool, error)

	// TakeSend checks every limit and, when each admits one more send, records it against all of them,
	// atomically; otherwise it records nothing and returns the first limit that refused. A limit with
	// Max <= 0 does not limit.
	TakeSend(ctx context.Context, now time.Time, limits []Limit) (*Limit, error)
	// The decoys are the writes a flow makes for an unknown account where it would issue a code, count an
	// attempt or store a change request: the same statements on tables of the same shape, which nothing
	// reads back or sends, so that known and unknown accounts cost the same reads, writes and pages.
	IssueDecoyCode(ctx context.Context, c NewCode, msg Message) error
	CountDecoyAttempt(ctx context.Context, purpose string) error
	IssueDecoyChangeRequest(ctx context.Context, r NewChangeRequest, msg Message) error

	// IssueCode stores a new code, marks the user's earlier live codes of the same purpose superseded and
	// queues the message, in one transaction.
	IssueCode(ctx context.Context, c NewCode, msg Message) error
	// LiveCode returns the user's newest code of a purpose that is neither used nor superseded
	// (expiry and attempts are the caller's to judge); ErrNotFound when there is none.
	LiveCode(ctx context.Context, userID int64, purpose string) (*Code, error)
	// CountAttempt adds one attempt to a code before it is checked and returns the new count.
	CountAttempt(ctx context.Context, codeID int64) (int, error)
	// ResetPassword consumes the code (UPDATE ... WHERE used_at IS NULL: the row count decides who won;
	// ErrCodeRejected for the losers) and sets the user's password, keeping the old hash in the history,
	// in one transaction.
	ResetPassword(ctx context.Context, codeID, userID int64, newHash string, now time.Time) error

	// IssueChangeRequest stores a new change request, marks the user's earlier live ones superseded and
	// queues the message, in one transaction.
	IssueChangeRequest(ctx context.Context, r NewChangeRequest, msg Message) error
	// ChangeRequestByMAC finds a change request; ErrNotFound when unknown.
	ChangeRequestByMAC(ctx context.Context, mac []byte) (*ChangeRequest, error)
	// ChangePassword consumes the change request (ErrChangeRequestNotFound when it was used meanwhile),
	// sets the password, keeps the old hash in the history and writes the audit record, in one transaction.
	ChangePassword(ctx context.Context, requestID, userID int64, newHash string, now time.Time, audit Audit) error
}

// Limit is one rate limit: Max sends for Key per Window. The store counts them as a GCRA (a burst of Max,
// then one every Window/Max); Max <= 0 does not limit. Name says which limit it is, for metrics and logs
// (a bounded set: see the Limit* constants); Key never leaves the store.
type Limit struct {
	Name   string
	Key    string
	Window time.Duration
	Max    int
}

// NewCode is a code to store: only its MAC, never the code.
type NewCode struct {
	UserID    int64
	Purpose   string // "reset" (the code flow); "2fa" for r7office later
	MAC       []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Code is a stored code.
type Code struct {
	ID        int64
	UserID    int64
	MAC       []byte
	ExpiresAt time.Time
	Attempts  int
}

// NewChangeRequest is a change request to store: only the MAC of its id.
type NewChangeRequest struct {
	UserID    int64
	MAC       []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ChangeRequest is a stored change request.
type ChangeRequest struct {
	ID        int64
	UserID    int64
	ExpiresAt time.Time
	Used      bool
}

// Audit records who changed a password from where.
type Audit struct {
	Event     string
	IPAddress string // as the caller reported it (customer's IPAddress)
	UserAgent string
	// ClientIP is the address the request came from, as the gateway saw it (through trusted proxies).
	ClientIP string
	// PermanentSessionMAC is the legacy PermanentSessionId as a MAC: it is a session secret, and nothing
	// reads it back; the MAC still tells which changes came from one session.
	PermanentSessionMAC []byte
}
