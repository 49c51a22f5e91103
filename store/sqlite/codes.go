package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"aspgate/account"
	"aspgate/store/internal/rules"
)

// IssueCode stores a new code, marks the user's earlier live codes of the same purpose superseded and
// queues the message, in one transaction.
func (db *DB) IssueCode(ctx context.Context, c account.NewCode, msg account.Message) error {
	if err := db.issueCode(ctx, c.UserID, c.Purpose, "", c.MAC, c.CreatedAt, c.ExpiresAt, msg); err != nil {
		return fmt.Errorf("store: issue code: %w", err)
	}
	return nil
}

// issueCode supersedes the user's live codes of the purpose, stores the new one (phone: the pending phone
// of a login code, else "") and queues its message, in one transaction; then wakes the dispatcher.
func (db *DB) issueCode(ctx context.Context, userID int64, purpose, phone string, mac []byte, created, expires time.Time,
	msg account.Message) error {
	if err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return writeCode(ctx, tx, realTables, userID, purpose, phone, mac, created, expires, msg)
	}); err != nil {
		return err
	}
	db.enqueued()
	return nil
}

// tables names the tables a write goes to: the real ones, or their decoys.
type tables struct{ codes, changeRequests, outbox string }

var (
	realTables  = tables{"codes", "change_requests", "outbox"}
	decoyTables = tables{"decoy_codes", "decoy_change_requests", "decoy_outbox"}
)

// decoyUser is the one row of decoy_users, which every decoy row belongs to.
const decoyUser = 1

func writeCode(ctx context.Context, tx *sql.Tx, t tables, userID int64, purpose, phone string, mac []byte, created, expires time.Time,
	msg account.Message) error {
	at := ms(created)
	if _, err := tx.ExecContext(ctx, `UPDATE `+t.codes+` SET superseded_at = ?
		WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND superseded_at IS NULL`,
		at, userID, purpose); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.codes+` (user_id, purpose, mac, created_at, expires_at, phone)
		VALUES (?, ?, ?, ?, ?, ?)`, userID, purpose, mac, at, ms(expires), nullString(phone)); err != nil {
		return err
	}
	return insertMessage(ctx, tx, t.outbox, msg, at)
}

// IssueDecoyCode makes IssueCode's writes on the decoy tables (see migration 0005), for an unknown
// account; the message keeps no address and no secret.
func (db *DB) IssueDecoyCode(ctx context.Context, c account.NewCode, msg account.Message) error {
	if err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return writeCode(ctx, tx, decoyTables, decoyUser, c.Purpose, "", c.MAC, c.CreatedAt, c.ExpiresAt, rules.DecoyMessage(msg))
	}); err != nil {
		return fmt.Errorf("store: issue decoy code: %w", err)
	}
	return nil
}

// CountDecoyAttempt makes CountAttempt's write on the decoy tables: an attempt on the live decoy code.
func (db *DB) CountDecoyAttempt(ctx context.Context, purpose string) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `UPDATE decoy_codes SET attempts = attempts + 1 WHERE id =
			(SELECT id FROM decoy_codes WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND superseded_at IS NULL)
			RETURNING attempts`, decoyUser, purpose).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: count decoy attempt: %w", err)
	}
	return nil
}

// LiveCode returns the user's newest code of a purpose that is neither used nor superseded; expiry and
// attempts are the caller's to judge. ErrNotFound when there is none.
func (db *DB) LiveCode(ctx context.Context, userID int64, purpose string) (*account.Code, error) {
	var c account.Code
	err := db.inRead(ctx, func(tx reader) error {
		var exp int64
		err := tx.QueryRowContext(ctx, `SELECT id, user_id, mac, expires_at, attempts FROM codes
			WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND superseded_at IS NULL
			ORDER BY id DESC LIMIT 1`, userID, purpose).Scan(&c.ID, &c.UserID, &c.MAC, &exp, &c.Attempts)
		c.ExpiresAt = fromMS(exp)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: live code: %w", err)
	}
	return &c, nil
}

// CountAttempt adds one attempt to a code before it is checked and returns the new count; ErrNotFound
// for an unknown code.
func (db *DB) CountAttempt(ctx context.Context, codeID int64) (int, error) {
	var n int
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE codes SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`,
			codeID).Scan(&n)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, account.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: count attempt: %w", err)
	}
	return n, nil
}

// ResetPassword consumes the code and sets the user's password, keeping the old hash in the history, in
// one transaction. The consuming UPDATE decides who wins a race: a code that is used, superseded, expired
// at now or not the user's affects no row and gives account.ErrCodeRejected, with nothing changed.
func (db *DB) ResetPassword(ctx context.Context, codeID, userID int64, newHash string, now time.Time) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		at := ms(now)
		res, err := tx.ExecContext(ctx, `UPDATE codes SET used_at = ?
			WHERE id = ? AND user_id = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?`,
			at, codeID, userID, at)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
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

// IssueChangeRequest stores a new change request, marks the user's earlier live ones superseded and
// queues the message, in one transaction.
func (db *DB) IssueChangeRequest(ctx context.Context, r account.NewChangeRequest, msg account.Message) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return writeChangeRequest(ctx, tx, realTables, r.UserID, r, msg)
	})
	if err != nil {
		return fmt.Errorf("store: issue change request: %w", conflict(err))
	}
	db.enqueued()
	return nil
}

// IssueDecoyChangeRequest makes IssueChangeRequest's writes on the decoy tables, for an unknown account.
func (db *DB) IssueDecoyChangeRequest(ctx context.Context, r account.NewChangeRequest, msg account.Message) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return writeChangeRequest(ctx, tx, decoyTables, decoyUser, r, rules.DecoyMessage(msg))
	})
	if err != nil {
		return fmt.Errorf("store: issue decoy change request: %w", err)
	}
	return nil
}

func writeChangeRequest(ctx context.Context, tx *sql.Tx, t tables, userID int64, r account.NewChangeRequest, msg account.Message) error {
	at := ms(r.CreatedAt)
	if _, err := tx.ExecContext(ctx, `UPDATE `+t.changeRequests+` SET superseded_at = ?
		WHERE user_id = ? AND used_at IS NULL AND superseded_at IS NULL`, at, userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.changeRequests+` (user_id, mac, created_at, expires_at)
		VALUES (?, ?, ?, ?)`, userID, r.MAC, at, ms(r.ExpiresAt)); err != nil {
		return err
	}
	return insertMessage(ctx, tx, t.outbox, msg, at)
}

// ChangeRequestByMAC finds a change request by the MAC of its id; ErrNotFound when unknown. Used is true
// when it was consumed or superseded by a newer one: either way it no longer works.
func (db *DB) ChangeRequestByMAC(ctx context.Context, mac []byte) (*account.ChangeRequest, error) {
	var r account.ChangeRequest
	err := db.inRead(ctx, func(tx reader) error {
		var exp int64
		err := tx.QueryRowContext(ctx, `SELECT id, user_id, expires_at,
			used_at IS NOT NULL OR superseded_at IS NOT NULL
			FROM change_requests WHERE mac = ?`, mac).Scan(&r.ID, &r.UserID, &exp, &r.Used)
		r.ExpiresAt = fromMS(exp)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: change request: %w", err)
	}
	return &r, nil
}

// ChangePassword consumes the change request, sets the password, keeps the old hash in the history and
// writes the audit record, in one transaction. A request used or superseded meanwhile (or not the user's)
// gives account.ErrChangeRequestNotFound, one that expired at now account.ErrChangeRequestExpired; either
// way nothing changes.
func (db *DB) ChangePassword(ctx context.Context, requestID, userID int64, newHash string, now time.Time, audit account.Audit) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		at := ms(now)
		res, err := tx.ExecContext(ctx, `UPDATE change_requests SET used_at = ?
			WHERE id = ? AND user_id = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?`,
			at, requestID, userID, at)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			var expired bool
			err := tx.QueryRowContext(ctx, `SELECT expires_at <= ? FROM change_requests
				WHERE id = ? AND user_id = ? AND used_at IS NULL AND superseded_at IS NULL`,
				at, requestID, userID).Scan(&expired)
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
		_, err = tx.ExecContext(ctx, `INSERT INTO audit (at, event, user_id, ip_address, user_agent, client_ip, permanent_session_mac)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, at, event, userID, nullString(audit.IPAddress), nullString(audit.UserAgent),
			nullString(audit.ClientIP), audit.PermanentSessionMAC)
		return err
	})
	switch {
	case errors.Is(err, account.ErrChangeRequestNotFound), errors.Is(err, account.ErrChangeRequestExpired):
		return err
	case errors.Is(err, account.ErrNotFound):
		return account.ErrChangeRequestNotFound
	case err != nil:
		return fmt.Errorf("store: change password: %w", err)
	}
	return nil
}
