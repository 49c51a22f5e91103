package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"aspgate/account"
)

// APIKeyActive reports whether a key with this MAC exists for the app and is not revoked.
func (db *DB) APIKeyActive(ctx context.Context, app string, keyMAC []byte) (bool, error) {
	var ok bool
	err := db.inRead(ctx, func(tx reader) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys
			WHERE mac = ? AND app = ? AND revoked_at IS NULL)`, keyMAC, app).Scan(&ok)
	})
	if err != nil {
		return false, fmt.Errorf("store: api key: %w", err)
	}
	return ok, nil
}

// AddAPIKey registers a client application's key by its MAC (the key itself is never stored). A name
// already used by an active key of the app gives a *ConflictError.
func (db *DB) AddAPIKey(ctx context.Context, app, name string, mac []byte) error {
	if app == "" || name == "" || len(mac) == 0 {
		return errors.New("store: an api key needs an app, a name and a MAC")
	}
	return db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (app, name, mac, created_at) VALUES (?, ?, ?, ?)`,
			app, name, mac, ms(db.now()))
		return conflict(err)
	})
}

// RevokeAPIKey revokes the app's active key of that name; account.ErrNotFound when there is none.
func (db *DB) RevokeAPIKey(ctx context.Context, app, name string) error {
	return db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ?
			WHERE app = ? AND name = ? AND revoked_at IS NULL`, ms(db.now()), app, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return account.ErrNotFound
		}
		return nil
	})
}
