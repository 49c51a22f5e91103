package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"aspgate/account"
)

// userColumns are the columns scanUser reads, in its order.
const userColumns = `id, uid, username, email, phone, operator_id, first_name, last_name, title, gender,
	user_type, is_lazy, shared_data_permission, password_hash`

// UserByPhone finds a user by phone (digits, compared exactly).
func (db *DB) UserByPhone(ctx context.Context, phone string) (*account.User, error) {
	return db.userWhere(ctx, "phone = ?", phone)
}

// UserByEmail finds a user by e-mail, ignoring (ASCII) case.
func (db *DB) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	return db.userWhere(ctx, "email = ?", email) // the column's collation is NOCASE
}

// UserByUserName finds a user by user name, ignoring (ASCII) case.
func (db *DB) UserByUserName(ctx context.Context, userName string) (*account.User, error) {
	return db.userWhere(ctx, "username = ?", userName) // the column's collation is NOCASE
}

// UserByUID finds a user by the GUID the customer face answers (and ONLYOFFICE signs in with).
func (db *DB) UserByUID(ctx context.Context, uid [16]byte) (*account.User, error) {
	return db.userWhere(ctx, "uid = ?", FormatUID(uid))
}

// UserByID finds a user by the legacy integer UserId.
func (db *DB) UserByID(ctx context.Context, id int64) (*account.User, error) {
	return db.userWhere(ctx, "id = ?", id)
}

func (db *DB) userWhere(ctx context.Context, where string, arg any) (*account.User, error) {
	var u *account.User
	err := db.inRead(ctx, func(tx reader) error {
		var err error
		u, err = findUser(ctx, tx, where, arg)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// decoyUserRow is the row a lookup decodes when no user matches: the width of a real one (a GUID, names,
// an argon2id PHC hash), so that a miss costs what a hit costs, down to the columns decoded.
const decoyUserRow = `0, '00000000-0000-0000-0000-000000000000', 'decoy-user-name', 'decoy-user@example.invalid',
	'70000000000', 1, 'Decoy', 'Decoy', 'Decoy', 0, 0, 0, 0,
	'$argon2id$v=19$m=65536,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'`

// findUser reads one user; where is a constant condition of this package, arg its only parameter. The
// query yields the match, else the decoy row (a compound SELECT runs its parts in order, and LIMIT 1 stops
// it at the first row), and that one row is decoded either way: a miss is ErrNotFound after the same work
// as a hit. The decoy column says which it was, so an order SQLite did not keep could only hide a user,
// never show the decoy as one.
func findUser(ctx context.Context, tx reader, where string, arg any) (*account.User, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+userColumns+`, 0 FROM users WHERE `+where+` AND disabled_at IS NULL
		UNION ALL SELECT `+decoyUserRow+`, 1 LIMIT 1`, arg)
	var decoy bool
	var (
		u                            account.User
		uid                          string
		phone                        sql.NullString
		operator                     sql.NullInt64
		first, last, title           sql.NullString
		gender, userType             sql.NullInt32
		isLazy, sharedDataPermission int
	)
	err := row.Scan(&u.ID, &uid, &u.UserName, &u.Email, &phone, &operator, &first, &last, &title, &gender,
		&userType, &isLazy, &sharedDataPermission, &u.PasswordHash, &decoy)
	if err != nil {
		return nil, fmt.Errorf("store: user: %w", err)
	}
	if u.UID, err = ParseUID(uid); err != nil {
		return nil, fmt.Errorf("store: user %d: %w", u.ID, err)
	}
	u.Phone = phone.String
	if operator.Valid {
		u.OperatorID = &operator.Int64
	}
	u.FirstName = strPtr(first)
	u.LastName = strPtr(last)
	u.Title = strPtr(title)
	u.Gender = int32Ptr(gender)
	u.UserType = int32Ptr(userType)
	u.IsLazy = isLazy != 0
	u.SharedDataPermission = sharedDataPermission != 0
	if decoy {
		return nil, account.ErrNotFound
	}
	return &u, nil
}

func strPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func int32Ptr(n sql.NullInt32) *int32 {
	if !n.Valid {
		return nil
	}
	return &n.Int32
}

// PasswordHistory returns up to n earlier password hashes of the user, newest first (not the current one).
func (db *DB) PasswordHistory(ctx context.Context, userID int64, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	var hashes []string
	err := db.inRead(ctx, func(tx reader) error {
		rows, err := tx.QueryContext(ctx, `SELECT hash FROM password_history WHERE user_id = ?
			ORDER BY created_at DESC, id DESC LIMIT ?`, userID, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				return err
			}
			hashes = append(hashes, h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: password history: %w", err)
	}
	return hashes, nil
}

// setPassword replaces the user's password hash, keeping the old one in the history.
func setPassword(ctx context.Context, tx *sql.Tx, userID int64, newHash string, at int64) error {
	var old string
	err := tx.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return account.ErrNotFound
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (user_id, hash, created_at) VALUES (?, ?, ?)`,
		userID, old, at); err != nil {
		return err
	}
	// password_changed_at moves strictly forward, even for two changes within a millisecond: the trigger
	// that revokes the user's tokens follows it (migration 0007).
	_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = max(?, password_changed_at + 1),
		updated_at = ? WHERE id = ?`, newHash, at, at, userID)
	return err
}

// AddOperator adds a mobile operator; a taken id gives a *ConflictError.
func (db *DB) AddOperator(ctx context.Context, id int64, name string) error {
	return db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO operators (id, name, created_at) VALUES (?, ?, ?)`, id, name, ms(db.now()))
		return conflict(err)
	})
}

// NewUID returns a random (version 4) GUID.
func NewUID() [16]byte { return account.NewUID() }

// FormatUID writes a GUID as .NET's Guid.ToString("D") does, in lower case: the bytes in order, as
// 8-4-4-4-12 hex digits. (The bytes are in textual order, not .NET's mixed-endian ToByteArray order.)
func FormatUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ParseUID reads a GUID in "D" format (either case).
func ParseUID(s string) ([16]byte, error) {
	var b [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, fmt.Errorf("store: %q is not a GUID", s)
	}
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		return b, fmt.Errorf("store: %q is not a GUID", s)
	}
	copy(b[:], raw)
	return b, nil
}
