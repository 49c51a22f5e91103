package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"aspgate/account"
	"aspgate/store/internal/rules"
)

var _ account.TwoFactorStore = (*DB)(nil)

// TwoFactorState returns the user's second-factor state.
func (db *DB) TwoFactorState(ctx context.Context, userID int64) (*account.TwoFactorState, error) {
	var (
		st               account.TwoFactorState
		phone, confirmed *string
		lastStep         *int64
		fails            *int32
		locked           *int64
	)
	err := db.pool.QueryRow(ctx, `SELECT u.phone, t.totp_secret, t.totp_last_step, t.confirmed_phone, t.failures, t.locked_until
		FROM users u LEFT JOIN user_twofactor t ON t.user_id = u.id WHERE u.id = $1`, userID).Scan(
		&phone, &st.TOTPSecret, &lastStep, &confirmed, &fails, &locked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: two-factor state: %w", err)
	}
	if phone != nil && confirmed != nil && *phone == *confirmed {
		st.Phone = *phone
	}
	if lastStep != nil {
		st.TOTPLastStep = *lastStep
	}
	if fails != nil {
		st.Failures = int(*fails)
	}
	st.LockedUntil = fromNullMS(locked)
	return &st, nil
}

// RecordTwoFactorFailure counts one wrong code (an atomic upsert); at lockAfter it locks 2FA.
func (db *DB) RecordTwoFactorFailure(ctx context.Context, userID int64, now time.Time, lockAfter int, lockFor time.Duration) (time.Time, error) {
	var until time.Time
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		until = time.Time{}
		at := ms(now)
		var n int
		if err := tx.QueryRow(ctx, `INSERT INTO user_twofactor AS t (user_id, failures, updated_at) VALUES ($1, 1, $2)
			ON CONFLICT (user_id) DO UPDATE SET failures = t.failures + 1, updated_at = excluded.updated_at
			RETURNING failures`, userID, at).Scan(&n); err != nil {
			return err
		}
		if n < lockAfter {
			return nil
		}
		until = now.Add(lockFor)
		_, err := tx.Exec(ctx, `UPDATE user_twofactor SET failures = 0, locked_until = $1 WHERE user_id = $2`, ms(until), userID)
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("store: two-factor failure: %w", err)
	}
	return until.UTC(), nil
}

// SetTOTPSecret enrols (or, with nil, removes) an authenticator app.
func (db *DB) SetTOTPSecret(ctx context.Context, userID int64, sealed []byte, now time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		at := ms(now)
		var enrolled *int64
		if sealed != nil {
			enrolled = &at
		}
		_, err := tx.Exec(ctx, `INSERT INTO user_twofactor (user_id, totp_secret, totp_enrolled_at, totp_last_step, updated_at)
			VALUES ($1, $2, $3, 0, $4)
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

// IssueLoginCode stores a new login code (bound to the phone it is sent to) and queues the message.
func (db *DB) IssueLoginCode(ctx context.Context, c account.NewLoginCode, msg account.Message) error {
	if err := db.inTx(ctx, func(tx pgx.Tx) error {
		return writeCode(ctx, tx, realTables, c.UserID, account.PurposeTwoFactor, c.Phone, c.MAC, c.CreatedAt, c.ExpiresAt, msg)
	}); err != nil {
		return fmt.Errorf("store: issue login code: %w", err)
	}
	db.enqueued()
	return nil
}

// LiveLoginCode returns the user's newest live login code.
func (db *DB) LiveLoginCode(ctx context.Context, userID int64) (*account.LoginCode, error) {
	var (
		c     account.LoginCode
		exp   int64
		phone *string
	)
	err := db.pool.QueryRow(ctx, `SELECT id, user_id, mac, expires_at, attempts, phone FROM codes
		WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND superseded_at IS NULL
		ORDER BY id DESC LIMIT 1`, userID, account.PurposeTwoFactor).Scan(&c.ID, &c.UserID, &c.MAC, &exp, &c.Attempts, &phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: live login code: %w", err)
	}
	c.ExpiresAt, c.Phone = fromMS(exp), str(phone)
	return &c, nil
}

// CompleteTOTPLogin accepts the time step once (the guarded UPDATE) and stores the token.
func (db *DB) CompleteTOTPLogin(ctx context.Context, l account.TOTPLogin) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		at := ms(l.Token.CreatedAt)
		tag, err := tx.Exec(ctx, `UPDATE user_twofactor SET totp_last_step = $1, failures = 0, locked_until = NULL, updated_at = $2
			WHERE user_id = $3 AND totp_secret = $4 AND totp_last_step < $1 AND (locked_until IS NULL OR locked_until <= $2)`,
			l.Step, at, l.UserID, l.Secret)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return account.ErrAuthFailed
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

// CompleteSMSLogin consumes the login code, confirms a pending phone and stores the token.
func (db *DB) CompleteSMSLogin(ctx context.Context, l account.SMSLogin) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		at := ms(l.Token.CreatedAt)
		tag, err := tx.Exec(ctx, `UPDATE codes SET used_at = $1
			WHERE id = $2 AND user_id = $3 AND purpose = $4 AND used_at IS NULL AND superseded_at IS NULL
				AND expires_at > $1 AND attempts <= $5 AND phone IS NOT DISTINCT FROM $6`,
			at, l.CodeID, l.UserID, account.PurposeTwoFactor, l.MaxAttempts, nullString(l.Phone))
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return account.ErrAuthFailed
		}
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM user_twofactor WHERE user_id = $1 AND locked_until > $2)`,
			l.UserID, at).Scan(&locked); err != nil {
			return err
		}
		if locked {
			return account.ErrAuthFailed
		}
		if l.Phone != "" {
			if _, err := tx.Exec(ctx, `UPDATE users SET phone = $1, updated_at = $2 WHERE id = $3`, l.Phone, at, l.UserID); err != nil {
				if errors.Is(conflict(err), account.ErrConflict) {
					return account.ErrPhoneTaken
				}
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO user_twofactor AS t (user_id, confirmed_phone, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET failures = 0, locked_until = NULL, updated_at = excluded.updated_at,
				confirmed_phone = coalesce(excluded.confirmed_phone, t.confirmed_phone)`, l.UserID, nullString(l.Phone), at); err != nil {
			return err
		}
		return insertAPIToken(ctx, tx, l.Token)
	})
	if errors.Is(err, account.ErrAuthFailed) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: complete sms login: %w", err)
	}
	return nil
}

func userExists(ctx context.Context, tx pgx.Tx, userID int64) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, userID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return account.ErrNotFound
	}
	return nil
}

// IssueAPIToken stores a token's MAC.
func (db *DB) IssueAPIToken(ctx context.Context, t account.NewAPIToken) error {
	if err := db.inTx(ctx, func(tx pgx.Tx) error { return insertAPIToken(ctx, tx, t) }); err != nil {
		return fmt.Errorf("store: issue api token: %w", err)
	}
	return nil
}

func insertAPIToken(ctx context.Context, tx pgx.Tx, t account.NewAPIToken) error {
	_, err := tx.Exec(ctx, `INSERT INTO api_tokens (user_id, mac, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		t.UserID, t.MAC, ms(t.CreatedAt), ms(t.ExpiresAt))
	return conflict(err)
}

// APITokenByMAC finds a token with its user's GUID.
func (db *DB) APITokenByMAC(ctx context.Context, mac []byte) (*account.APIToken, error) {
	var (
		t                account.APIToken
		uid              string
		created, expires int64
		revoked          *int64
	)
	err := db.pool.QueryRow(ctx, `SELECT t.id, t.user_id, u.uid, t.created_at, t.expires_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.mac = $1`, mac).Scan(&t.ID, &t.UserID, &uid, &created, &expires, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: api token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMS(created), fromMS(expires), fromNullMS(revoked)
	if t.UserUID, err = account.ParseUID(uid); err != nil {
		return nil, fmt.Errorf("store: api token: %w", err)
	}
	return &t, nil
}

// RevokeAPIToken revokes one token.
func (db *DB) RevokeAPIToken(ctx context.Context, mac []byte, now time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE mac = $2 AND revoked_at IS NULL`, ms(now), mac); err != nil {
		return fmt.Errorf("store: revoke api token: %w", err)
	}
	return nil
}

// RevokeUserAPITokens revokes every live token of a user.
func (db *DB) RevokeUserAPITokens(ctx context.Context, userID int64, now time.Time) (int, error) {
	return db.execCount(ctx, "revoke user api tokens", `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`,
		ms(now), userID)
}

func (db *DB) execCount(ctx context.Context, what, q string, args ...any) (int, error) {
	var tag pgconn.CommandTag
	err := db.inTx(ctx, func(tx pgx.Tx) (err error) {
		tag, err = tx.Exec(ctx, q, args...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", what, err)
	}
	return int(tag.RowsAffected()), nil
}

// SignInAttempt is ONLYOFFICE's BruteForceLoginManager.Increment for key. The key's row is locked for
// the read-modify-write (created first when new), so gateways counting one key at once add up.
func (db *DB) SignInAttempt(ctx context.Context, key string, now time.Time, rule account.SignInRule) (bool, error) {
	if rule.Attempts <= 0 {
		return true, nil
	}
	at := ms(now)
	var blocked int64
	err := db.pool.QueryRow(ctx, `SELECT blocked_until FROM signin_guard WHERE key = $1`, key).Scan(&blocked)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("store: sign-in guard: %w", err)
	}
	if blocked > at {
		return false, nil
	}
	allowed := false
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		allowed = false
		if _, err := tx.Exec(ctx, `INSERT INTO signin_guard (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
			key, at+rule.Period.Milliseconds()); err != nil {
			return err
		}
		var list string
		if err := tx.QueryRow(ctx, `SELECT attempts, blocked_until FROM signin_guard WHERE key = $1 FOR UPDATE`, key).Scan(&list, &blocked); err != nil {
			return err
		}
		if blocked > at {
			return nil
		}
		attempts, blockedUntil, expires, ok := rules.SignInAttempt(list, at, rule)
		allowed = ok
		_, err := tx.Exec(ctx, `UPDATE signin_guard SET attempts = $1, blocked_until = $2, expires_at = $3 WHERE key = $4`,
			attempts, blockedUntil, expires, key)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: sign-in guard: %w", err)
	}
	return allowed, nil
}

// SignInSucceeded takes the key's latest attempt back.
func (db *DB) SignInSucceeded(ctx context.Context, key string, now time.Time, rule account.SignInRule) error {
	if rule.Attempts <= 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var list string
		err := tx.QueryRow(ctx, `SELECT attempts FROM signin_guard WHERE key = $1 FOR UPDATE`, key).Scan(&list)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		rest, ok := rules.SignInSucceeded(list)
		if !ok {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE signin_guard SET attempts = $1 WHERE key = $2`, rest, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: sign-in guard: %w", err)
	}
	return nil
}

// PruneLimits removes spent counters and stale sign-in guards, up to n of each.
func (db *DB) PruneLimits(ctx context.Context, now time.Time, n int) (int, error) {
	var total int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		total = 0
		for _, q := range []string{
			`DELETE FROM rate_limits WHERE (key, window_ms) IN (SELECT key, window_ms FROM rate_limits WHERE tat < $1 LIMIT $2)`,
			`DELETE FROM signin_guard WHERE key IN (SELECT key FROM signin_guard WHERE expires_at < $1 LIMIT $2)`} {
			tag, err := tx.Exec(ctx, q, ms(now), n)
			if err != nil {
				return err
			}
			total += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune limits: %w", err)
	}
	return int(total), nil
}
