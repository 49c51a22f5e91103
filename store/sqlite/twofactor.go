package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"aspgate/account"
)

var _ account.TwoFactorStore = (*DB)(nil)

// TwoFactorState returns the user's second-factor state: the zero state when the user never had any,
// account.ErrNotFound for an unknown user. Phone is the confirmed phone only while it is still the user's.
func (db *DB) TwoFactorState(ctx context.Context, userID int64) (*account.TwoFactorState, error) {
	var st account.TwoFactorState
	err := db.inRead(ctx, func(tx reader) error {
		var (
			phone, confirmed sql.NullString
			lastStep, fails  sql.NullInt64
			locked           sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT u.phone, t.totp_secret, t.totp_last_step, t.confirmed_phone,
			t.failures, t.locked_until
			FROM users u LEFT JOIN user_twofactor t ON t.user_id = u.id WHERE u.id = ?`, userID).Scan(
			&phone, &st.TOTPSecret, &lastStep, &confirmed, &fails, &locked)
		if err != nil {
			return err
		}
		if phone.Valid && confirmed.Valid && phone.String == confirmed.String {
			st.Phone = phone.String
		}
		st.TOTPLastStep = lastStep.Int64
		st.Failures = int(fails.Int64)
		st.LockedUntil = fromNullMS(locked)
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: two-factor state: %w", err)
	}
	return &st, nil
}

// RecordTwoFactorFailure counts one wrong code for the user. When the count reaches lockAfter, 2FA is
// locked until now+lockFor and the count goes back to zero; the lock's end is returned (zero when this
// failure did not lock).
func (db *DB) RecordTwoFactorFailure(ctx context.Context, userID int64, now time.Time, lockAfter int, lockFor time.Duration) (time.Time, error) {
	var until time.Time
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		at := ms(now)
		var n int
		err := tx.QueryRowContext(ctx, `INSERT INTO user_twofactor (user_id, failures, updated_at) VALUES (?, 1, ?)
			ON CONFLICT (user_id) DO UPDATE SET failures = failures + 1, updated_at = excluded.updated_at
			RETURNING failures`, userID, at).Scan(&n)
		if err != nil {
			return err
		}
		if n < lockAfter {
			return nil
		}
		until = now.Add(lockFor)
		_, err = tx.ExecContext(ctx, `UPDATE user_twofactor SET failures = 0, locked_until = ? WHERE user_id = ?`,
			ms(until), userID)
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("store: two-factor failure: %w", err)
	}
	return until.UTC(), nil
}

// SetTOTPSecret enrols an authenticator app with the sealed secret, or removes the enrolment when sealed
// is nil; either way the last accepted time step is forgotten. account.ErrNotFound for an unknown user.
func (db *DB) SetTOTPSecret(ctx context.Context, userID int64, sealed []byte, now time.Time) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		at := ms(now)
		enrolled := sql.NullInt64{Int64: at, Valid: sealed != nil}
		_, err := tx.ExecContext(ctx, `INSERT INTO user_twofactor (user_id, totp_secret, totp_enrolled_at, totp_last_step, updated_at)
			VALUES (?, ?, ?, 0, ?)
			ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret,
				totp_enrolled_at = excluded.totp_enrolled_at, totp_last_step = 0, updated_at = excluded.updated_at`,
			userID, sealed, enrolled, at)
		return err
	})
	if errors.Is(err, account.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: set totp secret: %w", err)
	}
	return nil
}

// IssueLoginCode stores a new SMS login code (purpose account.PurposeTwoFactor, with its pending phone),
// marks the user's earlier live login codes superseded and queues the message, in one transaction.
func (db *DB) IssueLoginCode(ctx context.Context, c account.NewLoginCode, msg account.Message) error {
	if err := db.issueCode(ctx, c.UserID, account.PurposeTwoFactor, c.Phone, c.MAC, c.CreatedAt, c.ExpiresAt, msg); err != nil {
		return fmt.Errorf("store: issue login code: %w", err)
	}
	return nil
}

// LiveLoginCode returns the user's newest login code that is neither used nor superseded; expiry and
// attempts are the caller's to judge. account.ErrNotFound when there is none.
func (db *DB) LiveLoginCode(ctx context.Context, userID int64) (*account.LoginCode, error) {
	var c account.LoginCode
	err := db.inRead(ctx, func(tx reader) error {
		var (
			exp   int64
			phone sql.NullString
		)
		err := tx.QueryRowContext(ctx, `SELECT id, user_id, mac, expires_at, attempts, phone FROM codes
			WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND superseded_at IS NULL
			ORDER BY id DESC LIMIT 1`, userID, account.PurposeTwoFactor).Scan(
			&c.ID, &c.UserID, &c.MAC, &exp, &c.Attempts, &phone)
		c.ExpiresAt = fromMS(exp)
		c.Phone = phone.String
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: live login code: %w", err)
	}
	return &c, nil
}

// CompleteTOTPLogin accepts a TOTP time step and issues the token, in one transaction. The accepting
// UPDATE decides races: it changes the row only when the step is above the stored last one, the secret is
// still the one the code was checked against (no re-enrolment meanwhile) and 2FA is not locked at the
// token's creation time; otherwise account.ErrAuthFailed and nothing changes.
func (db *DB) CompleteTOTPLogin(ctx context.Context, l account.TOTPLogin) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		at := ms(l.Token.CreatedAt)
		res, err := tx.ExecContext(ctx, `UPDATE user_twofactor SET totp_last_step = ?, failures = 0, locked_until = NULL,
			updated_at = ?
			WHERE user_id = ? AND totp_secret = ? AND totp_last_step < ? AND (locked_until IS NULL OR locked_until <= ?)`,
			l.Step, at, l.UserID, l.Secret, l.Step, at)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		return insertAPIToken(ctx, tx, l.Token)
	})
	if errors.Is(err, account.ErrAuthFailed) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: complete totp login: %w", err)
	}
	return nil
}

// CompleteSMSLogin consumes an SMS login code, makes its pending phone (if any) the user's confirmed
// phone, resets the failure count and issues the token, in one transaction. The consuming UPDATE decides
// races: a code used, superseded, expired or out of attempts at the token's creation time, or a user
// whose 2FA is locked, gives account.ErrAuthFailed; a pending phone that is another user's gives
// account.ErrPhoneTaken. Nothing changes then.
func (db *DB) CompleteSMSLogin(ctx context.Context, l account.SMSLogin) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		at := ms(l.Token.CreatedAt)
		res, err := tx.ExecContext(ctx, `UPDATE codes SET used_at = ?
			WHERE id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL AND superseded_at IS NULL
				AND expires_at > ? AND attempts <= ? AND phone IS ?`,
			at, l.CodeID, l.UserID, account.PurposeTwoFactor, at, l.MaxAttempts, nullString(l.Phone))
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		var locked bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM user_twofactor
			WHERE user_id = ? AND locked_until > ?)`, l.UserID, at).Scan(&locked); err != nil {
			return err
		}
		if locked {
			return account.ErrAuthFailed
		}
		if l.Phone != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET phone = ?, updated_at = ? WHERE id = ?`,
				l.Phone, at, l.UserID); err != nil {
				if errors.Is(conflict(err), account.ErrConflict) {
					return account.ErrPhoneTaken
				}
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_twofactor (user_id, confirmed_phone, updated_at)
			VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET failures = 0, locked_until = NULL, updated_at = excluded.updated_at,
				confirmed_phone = coalesce(excluded.confirmed_phone, confirmed_phone)`,
			l.UserID, nullString(l.Phone), at); err != nil {
			return err
		}
		return insertAPIToken(ctx, tx, l.Token)
	})
	if errors.Is(err, account.ErrAuthFailed) { // ErrPhoneTaken included
		return err
	}
	if err != nil {
		return fmt.Errorf("store: complete sms login: %w", err)
	}
	return nil
}

// oneRow is account.ErrAuthFailed unless the statement changed exactly one row: the loser of a race.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return account.ErrAuthFailed
	}
	return nil
}

func userExists(ctx context.Context, tx *sql.Tx, userID int64) error {
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, userID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return account.ErrNotFound
	}
	return nil
}
