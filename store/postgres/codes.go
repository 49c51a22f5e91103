package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"

	"aspgate/account"
	"aspgate/store/internal/rules"
)

type tables struct{ owners, codes, changeRequests, outbox string }

var (
	realTables  = tables{"users", "codes", "change_requests", "outbox"}
	decoyTables = tables{"decoy_users", "decoy_codes", "decoy_change_requests", "decoy_outbox"}
)

// decoyUser picks one of the decoy users.
func decoyUser() int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(1024))
	return 1 + n.Int64()
}

// lockOwner takes the owner's row (FOR NO KEY UPDATE: rows referring to it can still be written) for the
// rest of the transaction, so that two issuers for one user take turns: the second supersedes the first
// one's code instead of colliding with it on the live index.
func lockOwner(ctx context.Context, tx pgx.Tx, t tables, userID int64) error {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM `+t.owners+` WHERE id = $1 FOR NO KEY UPDATE`, userID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.ErrNotFound
	}
	return err
}

// IssueCode stores a new code, supersedes the user's live one of the same purpose and queues the
// message, in one transaction.
func (db *DB) IssueCode(ctx context.Context, c account.NewCode, msg account.Message) error {
	if err := db.inTx(ctx, func(tx pgx.Tx) error {
		return writeCode(ctx, tx, realTables, c.UserID, c.Purpose, "", c.MAC, c.CreatedAt, c.ExpiresAt, msg)
	}); err != nil {
		return fmt.Errorf("store: issue code: %w", err)
	}
	db.enqueued()
	return nil
}

func writeCode(ctx context.Context, tx pgx.Tx, t tables, userID int64, purpose, phone string, mac []byte, created, expires time.Time,
	msg account.Message) error {
	at := ms(created)
	if err := lockOwner(ctx, tx, t, userID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.codes+` SET superseded_at = $1
		WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL AND superseded_at IS NULL`, at, userID, purpose); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+t.codes+` (user_id, purpose, mac, created_at, expires_at, phone)
		VALUES ($1, $2, $3, $4, $5, $6)`, userID, purpose, mac, at, ms(expires), nullString(phone)); err != nil {
		return err
	}
	return insertMessage(ctx, tx, t.outbox, msg, at)
}

// IssueDecoyCode makes IssueCode's writes on the decoy tables.
func (db *DB) IssueDecoyCode(ctx context.Context, c account.NewCode, msg account.Message) error {
	if err := db.inTx(ctx, func(tx pgx.Tx) error {
		return writeCode(ctx, tx, decoyTables, decoyUser(), c.Purpose, "", c.MAC, c.CreatedAt, c.ExpiresAt, rules.DecoyMessage(msg))
	}); err != nil {
		return fmt.Errorf("store: issue decoy code: %w", err)
	}
	return nil
}

// CountDecoyAttempt makes CountAttempt's write on the decoy code.
func (db *DB) CountDecoyAttempt(ctx context.Context, purpose string) error {
	_, err := db.pool.Exec(ctx, `UPDATE decoy_codes SET attempts = attempts + 1 WHERE id =
		(SELECT id FROM decoy_codes WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND superseded_at IS NULL)`, decoyUser(), purpose)
	if err != nil {
		return fmt.Errorf("store: count decoy attempt: %w", err)
	}
	return nil
}

// LiveCode returns the user's newest live code of a purpose.
func (db *DB) LiveCode(ctx context.Context, userID int64, purpose string) (*account.Code, error) {
	var c account.Code
	var exp int64
	err := db.pool.QueryRow(ctx, `SELECT id, user_id, mac, expires_at, attempts FROM codes
		WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND superseded_at IS NULL
		ORDER BY id DESC LIMIT 1`, userID, purpose).Scan(&c.ID, &c.UserID, &c.MAC, &exp, &c.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: live code: %w", err)
	}
	c.ExpiresAt = fromMS(exp)
	return &c, nil
}

// CountAttempt adds one attempt to a code, in one guarded statement, and returns the new count.
func (db *DB) CountAttempt(ctx context.Context, codeID int64) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `UPDATE codes SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts`, codeID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, account.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: count attempt: %w", err)
	}
	return n, nil
}

// ResetPassword consumes the code (the guarded UPDATE's row count decides the one winner: a concurrent
// consumer waits for the row and, the row no longer matching, updates none) and sets the password.
func (db *DB) ResetPassword(ctx context.Context, codeID, userID int64, newHash string, now time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		at := ms(now)
		tag, err := tx.Exec(ctx, `UPDATE codes SET used_at = $1
			WHERE id = $2 AND user_id = $3 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $1`, at, codeID, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return account.ErrCodeRejected
		}
		return setPassword(ctx, tx, userID, newHash, at)
	})
	if errors.Is(err, account.ErrCodeRejected) || errors.Is(err, account.ErrNotFound) {
		return account.ErrCodeRejected
	}
	if err != nil {
		return fmt.Errorf("store: reset password: %w", err)
	}
	return nil
}

// IssueChangeRequest stores a new change request, supersedes the user's live one and queues the message.
func (db *DB) IssueChangeRequest(ctx context.Context, r account.NewChangeRequest, msg account.Message) error {
	if err := db.inTx(ctx, func(tx pgx.Tx) error {
		return writeChangeRequest(ctx, tx, realTables, r.UserID, r, msg)
	}); err != nil {
		return fmt.Errorf("store: issue change request: %w", conflict(err))
	}
	db.enqueued()
	return nil
}

// IssueDecoyChangeRequest makes IssueChangeRequest's writes on the decoy tables.
func (db *DB) IssueDecoyChangeRequest(ctx context.Context, r account.NewChangeRequest, msg account.Message) error {
	if err := db.inTx(ctx, func(tx pgx.Tx) error {
		return writeChangeRequest(ctx, tx, decoyTables, decoyUser(), r, rules.DecoyMessage(msg))
	}); err != nil {
		return fmt.Errorf("store: issue decoy change request: %w", err)
	}
	return nil
}

func writeChangeRequest(ctx context.Context, tx pgx.Tx, t tables, userID int64, r account.NewChangeRequest, msg account.Message) error {
	at := ms(r.CreatedAt)
	if err := lockOwner(ctx, tx, t, userID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.changeRequests+` SET superseded_at = $1
		WHERE user_id = $2 AND used_at IS NULL AND superseded_at IS NULL`, at, userID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+t.changeRequests+` (user_id, mac, created_at, expires_at)
		VALUES ($1, $2, $3, $4)`, userID, r.MAC, at, ms(r.ExpiresAt)); err != nil {
		return err
	}
	return insertMessage(ctx, tx, t.outbox, msg, at)
}

// ChangeRequestByMAC finds a change request.
func (db *DB) ChangeRequestByMAC(ctx context.Context, mac []byte) (*account.ChangeRequest, error) {
	var r account.ChangeRequest
	var exp int64
	err := db.pool.QueryRow(ctx, `SELECT id, user_id, expires_at, used_at IS NOT NULL OR superseded_at IS NOT NULL
		FROM change_requests WHERE mac = $1`, mac).Scan(&r.ID, &r.UserID, &exp, &r.Used)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: change request: %w", err)
	}
	r.ExpiresAt = fromMS(exp)
	return &r, nil
}

// ChangePassword consumes the change request, sets the password and writes the audit record.
func (db *DB) ChangePassword(ctx context.Context, requestID, userID int64, newHash string, now time.Time, audit account.Audit) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		at := ms(now)
		tag, err := tx.Exec(ctx, `UPDATE change_requests SET used_at = $1
			WHERE id = $2 AND user_id = $3 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $1`, at, requestID, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			var expired bool
			err := tx.QueryRow(ctx, `SELECT expires_at <= $1 FROM change_requests
				WHERE id = $2 AND user_id = $3 AND used_at IS NULL AND superseded_at IS NULL`, at, requestID, userID).Scan(&expired)
			if err == nil && expired {
				return account.ErrChangeRequestExpired
			}
			return account.ErrChangeRequestNotFound
		}
		if err := setPassword(ctx, tx, userID, newHash, at); err != nil {
			return err
		}
		event := audit.Event
		if event == "" {
			event = "password_changed"
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit (at, event, user_id, ip_address, user_agent, client_ip, permanent_session_mac)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, at, event, userID, nullString(audit.IPAddress), nullString(audit.UserAgent),
			nullString(audit.ClientIP), audit.PermanentSessionMAC)
		return err
	})
	switch {
	case errors.Is(err, account.ErrChangeRequestExpired), errors.Is(err, account.ErrChangeRequestNotFound):
		return err
	case errors.Is(err, account.ErrNotFound):
		return account.ErrChangeRequestNotFound
	case err != nil:
		return fmt.Errorf("store: change password: %w", err)
	}
	return nil
}
