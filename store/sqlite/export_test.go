package sqlite

import (
	"context"
	"database/sql"
)

// LimiterStatements are the limiter's SQL for three limits, for the plan checks in limiter_test.go.
var LimiterStatements = map[string]string{
	"read":   limitRead(3),
	"take":   limitTake(3),
	"charge": limitCharge(3),
	"prune":  sqlLimitPrune,
}

// Commits is how many SQLite transactions the write batcher committed.
func (db *DB) Commits() int64 { return db.batch.commits.Load() }

// Write runs fn as one of the store's write transactions.
func (db *DB) Write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return db.inWrite(ctx, fn)
}

// Queued is how many writes wait for the batcher.
func (db *DB) Queued() int { return len(db.batch.queue) }
