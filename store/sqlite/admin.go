package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"aspgate/account"
)

var _ account.AdminStore = (*DB)(nil)

// AddUser adds a user (a fresh random GUID unless u.UID is given) with its password history, and returns
// its UserId and GUID. A taken id, GUID, user name, e-mail or phone gives an *account.ConflictError; an
// unknown operator an error wrapping account.ErrNotFound.
func (db *DB) AddUser(ctx context.Context, u account.NewUser) (int64, [16]byte, error) {
	if u.UserName == "" || u.Email == "" || u.PasswordHash == "" {
		return 0, [16]byte{}, errors.New("store: a user needs a user name, an e-mail and a password hash")
	}
	uid := NewUID()
	if u.UID != nil {
		uid = *u.UID
	}
	var id int64
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if u.OperatorID != nil {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM operators WHERE id = ?`, *u.OperatorID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("store: operator %d: %w", *u.OperatorID, account.ErrNotFound)
			}
		}
		now := ms(db.now())
		var idArg sql.NullInt64
		if u.ID != 0 {
			idArg = sql.NullInt64{Int64: u.ID, Valid: true}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO users (id, uid, username, email, phone, operator_id, first_name,
			last_name, title, gender, user_type, is_lazy, shared_data_permission, password_hash,
			password_changed_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			idArg, FormatUID(uid), u.UserName, u.Email, nullString(u.Phone), optInt64(u.OperatorID), optString(u.FirstName),
			optString(u.LastName), optString(u.Title), optInt32(u.Gender), optInt32(u.UserType), boolInt(u.IsLazy),
			boolInt(u.SharedDataPermission), u.PasswordHash, now, now, now).Scan(&id)
		if err != nil {
			return conflict(err)
		}
		for i, h := range u.History {
			if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (user_id, hash, created_at) VALUES (?, ?, ?)`,
				id, h, now-1-int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, [16]byte{}, err
	}
	return id, uid, nil
}

// recordColumns are the columns of a UserRecord, over users u and user_twofactor t.
const recordColumns = `u.id, u.uid, u.username, u.email, u.phone, u.operator_id, u.first_name, u.last_name, u.title,
	u.gender, u.user_type, u.is_lazy, u.shared_data_permission, u.password_hash, u.disabled_at, u.created_at,
	u.updated_at, u.password_changed_at, t.totp_secret IS NOT NULL, t.confirmed_phone, u.imported_hash`

func scanRecord(scan func(...any) error) (*account.UserRecord, error) {
	var (
		r                            account.UserRecord
		uid, hash                    string
		phone, confirmed, imported   sql.NullString
		operator, disabled           sql.NullInt64
		first, last, title           sql.NullString
		gender, userType             sql.NullInt32
		isLazy, sharedDataPermission int
		created, updated, changed    int64
	)
	if err := scan(&r.ID, &uid, &r.UserName, &r.Email, &phone, &operator, &first, &last, &title, &gender, &userType,
		&isLazy, &sharedDataPermission, &hash, &disabled, &created, &updated, &changed, &r.TOTP, &confirmed, &imported); err != nil {
		return nil, err
	}
	var err error
	if r.UID, err = ParseUID(uid); err != nil {
		return nil, err
	}
	r.Phone = phone.String
	if operator.Valid {
		r.OperatorID = &operator.Int64
	}
	r.FirstName, r.LastName, r.Title = strPtr(first), strPtr(last), strPtr(title)
	r.Gender, r.UserType = int32Ptr(gender), int32Ptr(userType)
	r.IsLazy, r.SharedDataPermission = isLazy != 0, sharedDataPermission != 0
	r.PasswordHash, r.ImportedHash, r.PasswordScheme = hash, imported.String, account.SchemeOf(hash)
	r.Disabled, r.DisabledAt = disabled.Valid, fromNullMS(disabled)
	r.CreatedAt, r.UpdatedAt, r.PasswordChangedAt = fromMS(created), fromMS(updated), fromMS(changed)
	r.ConfirmedPhone = confirmed.String
	return &r, nil
}

// FindUser finds a user by key, disabled or not; account.ErrNotFound when there is none.
func (db *DB) FindUser(ctx context.Context, key account.UserKey) (*account.UserRecord, error) {
	var where string
	var arg any = key.Value
	switch key.By {
	case "id":
		n, err := strconv.ParseInt(key.Value, 10, 64)
		if err != nil {
			return nil, account.ErrNotFound
		}
		where, arg = "u.id = ?", n
	case "uid":
		where = "u.uid = ?"
	case "username":
		where = "u.username = ?"
	case "email":
		where = "u.email = ?"
	case "phone":
		where = "u.phone = ?"
	default:
		return nil, fmt.Errorf("store: unknown user key %q", key.By)
	}
	var r *account.UserRecord
	err := db.inRead(ctx, func(q reader) error {
		var err error
		r, err = scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM users u
			LEFT JOIN user_twofactor t ON t.user_id = u.id WHERE `+where, arg).Scan)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: find user: %w", err)
	}
	return r, nil
}

// ListUsers lists up to limit users with an id above after, in id order.
func (db *DB) ListUsers(ctx context.Context, after int64, limit int) ([]account.UserRecord, error) {
	var out []account.UserRecord
	err := db.inRead(ctx, func(q reader) error {
		rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM users u
			LEFT JOIN user_twofactor t ON t.user_id = u.id WHERE u.id > ? ORDER BY u.id LIMIT ?`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecord(rows.Scan)
			if err != nil {
				return err
			}
			out = append(out, *r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// SetUserDisabled disables a user, revoking its live tokens in the same transaction, or enables it.
func (db *DB) SetUserDisabled(ctx context.Context, userID int64, disabled bool, now time.Time) error {
	at := ms(now)
	return db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var res sql.Result
		var err error
		if disabled {
			res, err = tx.ExecContext(ctx, `UPDATE users SET disabled_at = coalesce(disabled_at, ?), updated_at = ? WHERE id = ?`, at, at, userID)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE users SET disabled_at = NULL, updated_at = ? WHERE id = ?`, at, userID)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return account.ErrNotFound
		}
		if disabled {
			_, err = tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = max(?, created_at) WHERE user_id = ? AND revoked_at IS NULL`,
				at, userID)
		}
		return err
	})
}

// DeleteUser removes a user; its codes, change requests, tokens, history and second factor go with it
// (ON DELETE CASCADE), its audit records stay without it (ON DELETE SET NULL).
func (db *DB) DeleteUser(ctx context.Context, userID int64) error {
	n, err := db.execCount(ctx, "delete user", `DELETE FROM users WHERE id = ?`, userID)
	if err != nil {
		return err
	}
	if n == 0 {
		return account.ErrNotFound
	}
	return nil
}

// SetPassword replaces a user's password hash (the old one goes to the history, the tokens are revoked).
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string, now time.Time) error {
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return setPassword(ctx, tx, userID, hash, ms(now))
	})
	if errors.Is(err, account.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	return nil
}

// UpgradePasswordHash replaces a legacy hash by the argon2id hash of the same password, if the user still
// has that legacy hash (a password change meanwhile wins). It is not a password change: the history, the
// change time and the tokens stay as they are.
func (db *DB) UpgradePasswordHash(ctx context.Context, userID int64, old, upgraded string) error {
	_, err := db.execCount(ctx, "upgrade password hash", `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`,
		upgraded, userID, old)
	return err
}
