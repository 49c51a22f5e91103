package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"aspgate/account"
)

// insertMessage queues a message in the outbox, due at once, with a random idempotency key the
// dispatcher hands to the provider so a retried send is not delivered twice.
func insertMessage(ctx context.Context, tx *sql.Tx, m account.Message, at int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (app, channel, to_addr, subject, body, secret, status,
		created_at, next_attempt_at, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
		m.App, string(m.Channel), m.To, m.Subject, m.Body, nullString(m.Secret), at, at, account.NewHexID(16))
	return err
}

// OutboxRow is a message in the outbox with its delivery state.
type OutboxRow struct {
	ID int64
	account.Message
	Status         string // pending, sending, sent, dead
	Attempts       int
	CreatedAt      time.Time
	NextAttemptAt  time.Time
	IdempotencyKey string
}

// PendingOutbox lists the messages waiting for delivery, oldest first.
func (db *DB) PendingOutbox(ctx context.Context) ([]OutboxRow, error) {
	var out []OutboxRow
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, app, channel, to_addr, subject, body, secret, status,
			attempts, created_at, next_attempt_at, idempotency_key
			FROM outbox WHERE status = 'pending' ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r             OutboxRow
				channel       string
				secret, ikey  sql.NullString
				created, next int64
			)
			if err := rows.Scan(&r.ID, &r.App, &channel, &r.To, &r.Subject, &r.Body, &secret, &r.Status,
				&r.Attempts, &created, &next, &ikey); err != nil {
				return err
			}
			r.Channel = account.Channel(channel)
			r.Secret = secret.String
			r.IdempotencyKey = ikey.String
			r.CreatedAt = fromMS(created)
			r.NextAttemptAt = fromMS(next)
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return out, nil
}
