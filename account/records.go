package account

import "time"

// The delivery states of an outbox message, as every storage engine keeps them.
const (
	OutboxPending = "pending" // waiting for its next attempt
	OutboxSending = "sending" // claimed by a dispatcher
	OutboxSent    = "sent"
	OutboxDead    = "dead" // gave up: failed permanently, too often, or expired first
)

// OutboxRow is a message in the outbox with its delivery state (aspgate outbox list).
type OutboxRow struct {
	QueuedMessage
	Status        string
	NextAttemptAt time.Time
	SentAt        time.Time // zero unless sent
	DeadAt        time.Time // zero unless dead
	LastError     string
}

// Migration is one applied schema migration of a storage engine.
type Migration struct {
	Version   int
	Name      string
	AppliedAt time.Time
}
