// Package delivery sends what the recovery flows queue in the outbox: a dispatcher claims due messages,
// renders them from templates (per app and kind, built in or overridden from a folder), hands them to the
// sender of their channel (SMTP e-mail, an SMS webhook, or the dev inbox file) and records the outcome,
// with retries, backoff and a dead state. It sees the outbox through the small Outbox interface and knows
// nothing of HTTP faces or of the database behind it.
package delivery

import (
	"context"
	"errors"
	"time"

	"aspgate/account"
)

// Envelope is a rendered message, ready for a sender.
type Envelope struct {
	ID      int64
	App     string
	Channel account.Channel
	Kind    account.MessageKind
	To      string
	Subject string // e-mail only
	Text    string // the SMS, or the e-mail's plain-text part
	HTML    string // the e-mail's HTML part
	// Code and Link are what the text carries; only the dev inbox records them (so scripts can read them).
	Code, Link string
	// IdempotencyKey is the same on every attempt at this message; senders pass it on (Message-ID,
	// Idempotency-Key header) so a provider can drop the resend after a crash between send and record.
	IdempotencyKey string
}

// Sender delivers envelopes of one channel. A nil error means the provider accepted the message. An error
// wrapped by Permanent means retrying cannot help (a refused recipient, a 4xx from the gateway); any other
// error is retried with backoff.
type Sender interface {
	Send(ctx context.Context, e Envelope) error
	// String says where messages go, without secrets, for the startup log.
	String() string
}

// PermanentError is a failure that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as a failure that retrying cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Outbox is what the dispatcher needs of the outbox store.
type Outbox interface {
	// ClaimDue marks up to limit messages due at now as being sent, counts the attempt and returns them.
	ClaimDue(ctx context.Context, now time.Time, limit int) ([]account.QueuedMessage, error)
	// MarkSent records a delivered message and erases its secret.
	MarkSent(ctx context.Context, id int64, now time.Time) error
	// MarkRetry puts a failed message back in the queue, due at next.
	MarkRetry(ctx context.Context, id int64, next time.Time, lastError string) error
	// MarkDead gives up on a message and erases its secret.
	MarkDead(ctx context.Context, id int64, now time.Time, lastError string) error
	// ReleaseClaims requeues the messages a dead dispatcher had claimed and says how many there were.
	ReleaseClaims(ctx context.Context, now time.Time) (int, error)
	// PruneOutbox deletes sent and dead messages created before cutoff.
	PruneOutbox(ctx context.Context, cutoff time.Time) (int, error)
}

// Scrubber is an Outbox that can make erased secrets unrecoverable from its files (the SQLite store
// checkpoints and truncates its WAL). The dispatcher calls Scrub after it erased secrets, at most once per
// ScrubInterval and once more when it stops; an error is retried at the next chance.
type Scrubber interface {
	Scrub(ctx context.Context) error
}

// Discard is the sender of `aspgate serve --no-send`: every message is taken as sent and goes nowhere,
// so its row is settled (secret erased) and no later dispatcher can deliver it. For a shadow's candidate
// or secondary, which must answer mirrored requests without a second code reaching a person.
type Discard struct{}

// Send drops the message.
func (Discard) Send(context.Context, Envelope) error { return nil }

func (Discard) String() string { return "discarded (--no-send)" }
