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

// SignInAttempt is ONLYOFFICE's BruteForceLoginManager.Increment for key (see account.TwoFactorStore). A
// blocked key is answered from a read, without waiting for the writer. rule.Attempts <= 0 turns it off.
func (db *DB) SignInAttempt(ctx context.Context, key string, now time.Time, rule account.SignInRule) (bool, error) {
	if rule.Attempts <= 0 {
		return true, nil
	}
	at := ms(now)
	var blocked int64
	err := db.inRead(ctx, func(tx reader) error {
		return tx.QueryRowContext(ctx, `SELECT blocked_until FROM signin_guard WHERE key = ?`, key).Scan(&blocked)
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("store: sign-in guard: %w", err)
	}
	if blocked > at {
		return false, nil
	}
	allowed := false
	err = db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var list string
		blocked = 0
		err := tx.QueryRowContext(ctx, `SELECT attempts, blocked_until FROM signin_guard WHERE key = ?`, key).Scan(&list, &blocked)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if blocked > at {
			return nil
		}
		var attempts string
		var expires int64
		attempts, blocked, expires, allowed = rules.SignInAttempt(list, at, rule)
		if _, err := tx.ExecContext(ctx, `INSERT INTO signin_guard (key, attempts, blocked_until, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET attempts = excluded.attempts, blocked_until = excluded.blocked_until,
				expires_at = excluded.expires_at`, key, attempts, blocked, expires); err != nil {
			return err
		}
		return nil // stale guards go in the maintenance loop's PruneLimits
	})
	if err != nil {
		return false, fmt.Errorf("store: sign-in guard: %w", err)
	}
	return allowed, nil
}

// SignInSucceeded is Decrement: the key's latest recorded attempt is taken back.
func (db *DB) SignInSucceeded(ctx context.Context, key string, now time.Time, rule account.SignInRule) error {
	if rule.Attempts <= 0 {
		return nil
	}
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var list string
		err := tx.QueryRowContext(ctx, `SELECT attempts FROM signin_guard WHERE key = ?`, key).Scan(&list)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		rest, ok := rules.SignInSucceeded(list)
		if !ok {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE signin_guard SET attempts = ? WHERE key = ?`, rest, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: sign-in guard: %w", err)
	}
	return nil
}
