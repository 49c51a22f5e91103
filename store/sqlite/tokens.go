package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"aspgate/account"
)

// The API tokens r7office's sign-in issues, by their MAC. A password change revokes a user's tokens by
// itself: the trigger users_password_revokes_api_tokens (migration 0003) fires on any UPDATE of
// users.password_hash, whoever writes it.

// IssueAPIToken stores a token by its MAC.
func (db *DB) IssueAPIToken(ctx context.Context, t account.NewAPIToken) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error { return insertAPIToken(ctx, tx, t) })
	if err != nil {
		return fmt.Errorf("store: issue api token: %w", err)
	}
	return nil
}

func insertAPIToken(ctx context.Context, tx *sql.Tx, t account.NewAPIToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (user_id, mac, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		t.UserID, t.MAC, ms(t.CreatedAt), ms(t.ExpiresAt))
	return conflict(err)
}

// APITokenByMAC finds a token by its MAC, with its user's GUID; revoked and expired tokens are returned
// too (whether one is active is the caller's to judge). account.ErrNotFound when unknown.
func (db *DB) APITokenByMAC(ctx context.Context, mac []byte) (*account.APIToken, error) {
	var t account.APIToken
	err := db.inRead(ctx, func(tx reader) error {
		var (
			uid              string
			created, expires int64
			revoked          sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT t.id, t.user_id, u.uid, t.created_at, t.expires_at, t.revoked_at
			FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.mac = ?`, mac).Scan(
			&t.ID, &t.UserID, &uid, &created, &expires, &revoked)
		if err != nil {
			return err
		}
		t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMS(created), fromMS(expires), fromNullMS(revoked)
		t.UserUID, err = ParseUID(uid)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: api token: %w", err)
	}
	return &t, nil
}

// RevokeAPIToken revokes the token with this MAC; an unknown or already revoked token is no error.
func (db *DB) RevokeAPIToken(ctx context.Context, mac []byte, now time.Time) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE mac = ? AND revoked_at IS NULL`,
			ms(now), mac)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: revoke api token: %w", err)
	}
	return nil
}

// RevokeUserAPITokens revokes every token of the user not yet revoked and says how many there were.
func (db *DB) RevokeUserAPITokens(ctx context.Context, userID int64, now time.Time) (int, error) {
	return db.execCount(ctx, "revoke user api tokens", `UPDATE api_tokens SET revoked_at = ?
		WHERE user_id = ? AND revoked_at IS NULL`, ms(now), userID)
}
