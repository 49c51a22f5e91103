package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"aspgate/account"
)

// insertMessage queues a message in the outbox, due at once, with a random idempotency key the
// dispatcher hands to the provider so a retried send is not delivered twice.
func insertMessage(ctx context.Context, tx *sql.Tx, table string, m account.Message, at int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (app, channel, kind, to_addr, secret, link_base, expires_at,
		status, created_at, next_attempt_at, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
		m.App, string(m.Channel), string(m.Kind), m.To, nullString(m.Secret), m.LinkBase, nullMS(m.ExpiresAt),
		at, at, account.NewHexID(16))
	return err
}

// enqueued tells Options.OnEnqueue that a committed transaction queued a message.
func (db *DB) enqueued() {
	if db.onEnqueue != nil {
		db.onEnqueue()
	}
}

// The delivery states of an outbox message.
const (
	OutboxPending = account.OutboxPending
	OutboxSending = account.OutboxSending
	OutboxSent    = account.OutboxSent
	OutboxDead    = account.OutboxDead
)

// OutboxRow is a message in the outbox with its delivery state.
type OutboxRow = account.OutboxRow

const outboxColumns = `id, app, channel, kind, to_addr, secret, link_base, expires_at, status, attempts,
	created_at, next_attempt_at, sent_at, dead_at, last_error, idempotency_key`

func scanOutbox(rows *sql.Rows) (OutboxRow, error) {
	var (
		r                     OutboxRow
		channel, kind         string
		secret, lastErr, ikey sql.NullString
		expires, sent, dead   sql.NullInt64
		created, next         int64
	)
	err := rows.Scan(&r.ID, &r.App, &channel, &kind, &r.To, &secret, &r.LinkBase, &expires, &r.Status,
		&r.Attempts, &created, &next, &sent, &dead, &lastErr, &ikey)
	r.Channel = account.Channel(channel)
	r.Kind = account.MessageKind(kind)
	r.Secret = secret.String
	r.ExpiresAt = fromNullMS(expires)
	r.CreatedAt = fromMS(created)
	r.NextAttemptAt = fromMS(next)
	r.SentAt = fromNullMS(sent)
	r.DeadAt = fromNullMS(dead)
	r.LastError = lastErr.String
	r.IdempotencyKey = ikey.String
	return r, err
}

// ListOutbox lists the messages in the given states (all of them when none is given), oldest first, at
// most limit of the newest ones (limit <= 0: all).
func (db *DB) ListOutbox(ctx context.Context, limit int, states ...string) ([]OutboxRow, error) {
	q := `SELECT ` + outboxColumns + ` FROM outbox`
	var args []any
	if len(states) > 0 {
		q += ` WHERE status IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, s := range states {
			args = append(args, s)
		}
	}
	q += ` ORDER BY id DESC`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var out []OutboxRow
	err := db.inRead(ctx, func(tx reader) (err error) {
		out, err = queryOutbox(ctx, tx, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return out, nil
}

// queryOutbox runs a statement that yields outbox rows (a SELECT, or an UPDATE ... RETURNING, whose order
// SQLite leaves open) and returns them in id order.
func queryOutbox(ctx context.Context, tx reader, q string, args ...any) ([]OutboxRow, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		r, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, rows.Err()
}

// PendingOutbox lists the messages waiting for delivery, oldest first.
func (db *DB) PendingOutbox(ctx context.Context) ([]OutboxRow, error) {
	return db.ListOutbox(ctx, 0, OutboxPending)
}

// ClaimDue marks up to limit messages due at now as sending (the earliest due first) and returns them in
// id order. The attempt is counted here, before anything is sent, so a message whose sending crashes the
// process again and again still ends dead instead of being retried forever.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int) ([]account.QueuedMessage, error) {
	var rows []OutboxRow
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		rows, err = queryOutbox(ctx, tx, `UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_at = ?
			WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING `+outboxColumns, ms(now), ms(now), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	out := make([]account.QueuedMessage, len(rows))
	for i, r := range rows {
		out[i] = r.QueuedMessage
	}
	return out, nil
}

// MarkSent records a delivered message and erases its secret.
func (db *DB) MarkSent(ctx context.Context, id int64, now time.Time) error {
	return db.settle(ctx, "mark sent", `UPDATE outbox SET status = 'sent', sent_at = ?, secret = NULL,
		last_error = NULL, claimed_at = NULL WHERE id = ? AND status = 'sending'`, ms(now), id)
}

// MarkRetry puts a message whose attempt failed back in the queue, due at next.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, lastError string) error {
	return db.settle(ctx, "mark retry", `UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?,
		claimed_at = NULL WHERE id = ? AND status = 'sending'`, ms(next), lastError, id)
}

// MarkDead gives up on a message and erases its secret; last_error says why.
func (db *DB) MarkDead(ctx context.Context, id int64, now time.Time, lastError string) error {
	return db.settle(ctx, "mark dead", `UPDATE outbox SET status = 'dead', dead_at = ?, secret = NULL, last_error = ?,
		claimed_at = NULL WHERE id = ? AND status = 'sending'`, ms(now), lastError, id)
}

func (db *DB) settle(ctx context.Context, what, q string, args ...any) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("message %v is not being sent", args[len(args)-1])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: outbox %s: %w", what, err)
	}
	return nil
}

// ReleaseClaims puts every message marked sending back in the queue, due at now, and says how many there
// were. Only the one dispatcher of a database may call it, when it starts: a message still marked sending
// then was claimed by a process that died before it recorded the outcome, and is sent again with the same
// idempotency key.
func (db *DB) ReleaseClaims(ctx context.Context, now time.Time) (int, error) {
	return db.execCount(ctx, "release outbox claims", `UPDATE outbox SET status = 'pending', next_attempt_at = ?,
		claimed_at = NULL WHERE status = 'sending'`, ms(now))
}

// PruneOutbox deletes sent and dead messages created before cutoff and says how many went.
func (db *DB) PruneOutbox(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE status IN ('sent', 'dead') AND created_at < ?`, ms(cutoff))
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		n = int(m)
		if err != nil {
			return err
		}
		// The decoys age out with the messages they stand for; the live decoy code and request stay.
		for _, q := range []string{`DELETE FROM decoy_outbox WHERE created_at < ?`,
			`DELETE FROM decoy_codes WHERE created_at < ? AND (used_at IS NOT NULL OR superseded_at IS NOT NULL)`,
			`DELETE FROM decoy_change_requests WHERE created_at < ? AND (used_at IS NOT NULL OR superseded_at IS NOT NULL)`} {
			if _, err := tx.ExecContext(ctx, q, ms(cutoff)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune outbox: %w", err)
	}
	return n, nil
}

// OutboxBacklog is how many messages wait to be delivered (pending or being sent) and when the oldest of
// them was queued (the zero time when none waits). It is one statement outside inRead, so that a metrics
// scrape is not counted among the transactions it reports.
func (db *DB) OutboxBacklog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE status IN ('pending', 'sending')`).
		Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: outbox backlog: %w", err)
	}
	return n, fromNullMS(oldest), nil
}
