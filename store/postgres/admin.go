package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"aspgate/account"
)

const recordColumns = `u.id, u.uid, u.username, u.email, u.phone, u.operator_id, u.first_name, u.last_name, u.title,
	u.gender, u.user_type, u.is_lazy, u.shared_data_permission, u.password_hash, u.disabled_at, u.created_at,
	u.updated_at, u.password_changed_at, t.totp_secret IS NOT NULL, t.confirmed_phone, u.imported_hash`

func scanRecord(scan func(...any) error) (*account.UserRecord, error) {
	var (
		r                          account.UserRecord
		uid, hash                  string
		phone, confirmed, imported *string
		disabled                   *int64
		created, updated, changed  int64
	)
	if err := scan(&r.ID, &uid, &r.UserName, &r.Email, &phone, &r.OperatorID, &r.FirstName, &r.LastName, &r.Title, &r.Gender,
		&r.UserType, &r.IsLazy, &r.SharedDataPermission, &hash, &disabled, &created, &updated, &changed, &r.TOTP, &confirmed, &imported); err != nil {
		return nil, err
	}
	var err error
	if r.UID, err = account.ParseUID(uid); err != nil {
		return nil, err
	}
	r.Phone = str(phone)
	r.PasswordHash, r.ImportedHash, r.PasswordScheme = hash, str(imported), account.SchemeOf(hash)
	r.Disabled, r.DisabledAt = disabled != nil, fromNullMS(disabled)
	r.CreatedAt, r.UpdatedAt, r.PasswordChangedAt = fromMS(created), fromMS(updated), fromMS(changed)
	r.ConfirmedPhone = str(confirmed)
	return &r, nil
}

// FindUser finds a user, disabled ones included, by id, uid, username, email (both ignoring ASCII case)
// or phone.
func (db *DB) FindUser(ctx context.Context, key account.UserKey) (*account.UserRecord, error) {
	var where string
	var arg any = key.Value
	switch key.By {
	case "id":
		n, err := strconv.ParseInt(key.Value, 10, 64)
		if err != nil {
			return nil, account.ErrNotFound
		}
		where, arg = "u.id = $1", n
	case "uid":
		where = "u.uid = $1"
	case "username":
		where = "ascii_lower(u.username) = ascii_lower($1)"
	case "email":
		where = "ascii_lower(u.email) = ascii_lower($1)"
	case "phone":
		where = "u.phone = $1"
	default:
		return nil, fmt.Errorf("store: unknown user key %q", key.By)
	}
	r, err := scanRecord(db.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM users u
		LEFT JOIN user_twofactor t ON t.user_id = u.id WHERE `+where, arg).Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: find user: %w", err)
	}
	return r, nil
}

// ListUsers lists up to limit users with an id above after, by id.
func (db *DB) ListUsers(ctx context.Context, after int64, limit int) ([]account.UserRecord, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+recordColumns+` FROM users u
		LEFT JOIN user_twofactor t ON t.user_id = u.id WHERE u.id > $1 ORDER BY u.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []account.UserRecord
	for rows.Next() {
		r, err := scanRecord(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// SetUserDisabled disables (revoking every token) or enables a user.
func (db *DB) SetUserDisabled(ctx context.Context, userID int64, disabled bool, now time.Time) error {
	at := ms(now)
	return db.inTx(ctx, func(tx pgx.Tx) error {
		q := `UPDATE users SET disabled_at = NULL, updated_at = $1 WHERE id = $2`
		if disabled {
			q = `UPDATE users SET disabled_at = coalesce(disabled_at, $1), updated_at = $1 WHERE id = $2`
		}
		tag, err := tx.Exec(ctx, q, at, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return account.ErrNotFound
		}
		if disabled {
			_, err = tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = greatest($1, created_at) WHERE user_id = $2 AND revoked_at IS NULL`, at, userID)
		}
		return err
	})
}

// DeleteUser removes the user with everything that is theirs.
func (db *DB) DeleteUser(ctx context.Context, userID int64) error {
	n, err := db.execCount(ctx, "delete user", `DELETE FROM users WHERE id = $1`, userID)
	if err != nil {
		return err
	}
	if n == 0 {
		return account.ErrNotFound
	}
	return nil
}

// AddOperator adds a mobile operator.
func (db *DB) AddOperator(ctx context.Context, id int64, name string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO operators (id, name, created_at) VALUES ($1, $2, $3)`, id, name, ms(db.now()))
	return conflict(err)
}
