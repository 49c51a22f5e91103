package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"aspgate/account"
)

func insertMessage(ctx context.Context, tx pgx.Tx, table string, m account.Message, at int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO `+table+` (app, channel, kind, to_addr, secret, link_base, expires_at,
		status, created_at, next_attempt_at, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8, $9)`,
		m.App, string(m.Channel), string(m.Kind), m.To, nullString(m.Secret), m.LinkBase, nullMS(m.ExpiresAt),
		at, account.NewHexID(16))
	return err
}

// ClaimDue marks up to limit due messages as being sent, counts the attempt and returns them. FOR UPDATE
// SKIP LOCKED: dispatchers claiming at the same time take disjoint messages, none waits for another.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int) ([]account.QueuedMessage, error) {
	var out []account.QueuedMessage
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_at = $1
			WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
				ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING id, app, channel, kind, to_addr, secret, link_base, expires_at, attempts, created_at, idempotency_key`,
			ms(now), limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (account.QueuedMessage, error) {
			var (
				m             account.QueuedMessage
				channel, kind string
				secret, ikey  *string
				expires       *int64
				created       int64
			)
			err := r.Scan(&m.ID, &m.App, &channel, &kind, &m.To, &secret, &m.LinkBase, &expires, &m.Attempts, &created, &ikey)
			m.Channel, m.Kind, m.Secret, m.ExpiresAt = account.Channel(channel), account.MessageKind(kind), str(secret), fromNullMS(expires)
			m.CreatedAt, m.IdempotencyKey = fromMS(created), str(ikey)
			return m, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	sortByID(out)
	return out, nil
}

func sortByID(m []account.QueuedMessage) {
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && m[j].ID < m[j-1].ID; j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
}

// MarkSent records a delivered message and erases its secret.
func (db *DB) MarkSent(ctx context.Context, id int64, now time.Time) error {
	return db.settle(ctx, "mark sent", `UPDATE outbox SET status = 'sent', sent_at = $1, secret = NULL,
		last_error = NULL, claimed_at = NULL WHERE id = $2 AND status = 'sending'`, ms(now), id)
}

// MarkRetry puts a failed message back in the queue, due at next.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, lastError string) error {
	return db.settle(ctx, "mark retry", `UPDATE outbox SET status = 'pending', next_attempt_at = $1, last_error = $2,
		claimed_at = NULL WHERE id = $3 AND status = 'sending'`, ms(next), lastError, id)
}

// MarkDead gives up on a message and erases its secret.
func (db *DB) MarkDead(ctx context.Context, id int64, now time.Time, lastError string) error {
	return db.settle(ctx, "mark dead", `UPDATE outbox SET status = 'dead', dead_at = $1, secret = NULL, last_error = $2,
		claimed_at = NULL WHERE id = $3 AND status = 'sending'`, ms(now), lastError, id)
}

func (db *DB) settle(ctx context.Context, what, q string, args ...any) error {
	tag, err := db.pool.Exec(ctx, q, args...)
	if err == nil && tag.RowsAffected() != 1 {
		err = fmt.Errorf("message %v is not being sent", args[len(args)-1])
	}
	if err != nil {
		return fmt.Errorf("store: outbox %s: %w", what, err)
	}
	return nil
}

// ReleaseClaims requeues the messages whose claim is older than the lease: a dispatcher that died (or
// lost its connection) left them. Other dispatchers' live claims stay theirs — several run at once here.
func (db *DB) ReleaseClaims(ctx context.Context, now time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET status = 'pending', next_attempt_at = $1, claimed_at = NULL
		WHERE status = 'sending' AND claimed_at <= $2`, ms(now), ms(now.Add(-db.lease)))
	if err != nil {
		return 0, fmt.Errorf("store: release outbox claims: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneOutbox deletes sent and dead messages created before cutoff, and old decoys.
func (db *DB) PruneOutbox(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM outbox WHERE status IN ('sent', 'dead') AND created_at < $1`, ms(cutoff))
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		for _, q := range []string{`DELETE FROM decoy_outbox WHERE created_at < $1`,
			`DELETE FROM decoy_codes WHERE created_at < $1 AND (used_at IS NOT NULL OR superseded_at IS NOT NULL)`,
			`DELETE FROM decoy_change_requests WHERE created_at < $1 AND (used_at IS NOT NULL OR superseded_at IS NOT NULL)`} {
			if _, err := tx.Exec(ctx, q, ms(cutoff)); err != nil {
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

// OutboxBacklog counts the messages not yet settled and says when the oldest was queued.
func (db *DB) OutboxBacklog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest *int64
	err := db.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE status IN ('pending', 'sending')`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: outbox backlog: %w", err)
	}
	return n, fromNullMS(oldest), nil
}

// ListOutbox lists up to limit messages (0: all), newest first, optionally only those in the states.
func (db *DB) ListOutbox(ctx context.Context, limit int, states ...string) ([]account.OutboxRow, error) {
	q := `SELECT id, app, channel, kind, to_addr, secret, link_base, expires_at, status, attempts, created_at,
		next_attempt_at, sent_at, dead_at, last_error, idempotency_key FROM outbox`
	var args []any
	if len(states) > 0 {
		q += ` WHERE status = ANY($1)`
		args = append(args, states)
	}
	q += ` ORDER BY id DESC`
	if limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, limit)
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (account.OutboxRow, error) {
		var (
			o                     account.OutboxRow
			channel, kind         string
			secret, lastErr, ikey *string
			expires, sent, dead   *int64
			created, next         int64
		)
		err := r.Scan(&o.ID, &o.App, &channel, &kind, &o.To, &secret, &o.LinkBase, &expires, &o.Status, &o.Attempts, &created,
			&next, &sent, &dead, &lastErr, &ikey)
		o.Channel, o.Kind, o.Secret, o.ExpiresAt = account.Channel(channel), account.MessageKind(kind), str(secret), fromNullMS(expires)
		o.CreatedAt, o.NextAttemptAt, o.SentAt, o.DeadAt = fromMS(created), fromMS(next), fromNullMS(sent), fromNullMS(dead)
		o.LastError, o.IdempotencyKey = str(lastErr), str(ikey)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 { // oldest first, as the SQLite store lists them
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// PendingOutbox lists the messages waiting for delivery, oldest first.
func (db *DB) PendingOutbox(ctx context.Context) ([]account.OutboxRow, error) {
	return db.ListOutbox(ctx, 0, account.OutboxPending)
}
