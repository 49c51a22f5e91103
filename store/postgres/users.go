package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"aspgate/account"
)

const userColumns = `id, uid, username, email, phone, operator_id, first_name, last_name, title, gender,
	user_type, is_lazy, shared_data_permission, password_hash`

// decoyUserRow is the row a lookup decodes when no user matches, the width of a real one, so that a miss
// costs what a hit costs (the SQLite store's rule).
const decoyUserRow = `0::bigint, '00000000-0000-0000-0000-000000000000', 'decoy-user-name', 'decoy-user@example.invalid',
	'70000000000', 1::bigint, 'Decoy', 'Decoy', 'Decoy', 0, 0, false, false,
	'$argon2id$v=19$m=65536,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'`

// UserByPhone finds a user by phone.
func (db *DB) UserByPhone(ctx context.Context, phone string) (*account.User, error) {
	return db.userWhere(ctx, "phone = $1", phone)
}

// UserByEmail finds a user by e-mail, ignoring ASCII case.
func (db *DB) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	return db.userWhere(ctx, "ascii_lower(email) = ascii_lower($1)", email)
}

// UserByUserName finds a user by user name, ignoring ASCII case.
func (db *DB) UserByUserName(ctx context.Context, userName string) (*account.User, error) {
	return db.userWhere(ctx, "ascii_lower(username) = ascii_lower($1)", userName)
}

// UserByUID finds a user by GUID.
func (db *DB) UserByUID(ctx context.Context, uid [16]byte) (*account.User, error) {
	return db.userWhere(ctx, "uid = $1", account.FormatUID(uid))
}

// UserByID finds a user by the legacy integer UserId.
func (db *DB) UserByID(ctx context.Context, id int64) (*account.User, error) {
	return db.userWhere(ctx, "id = $1", id)
}

func (db *DB) userWhere(ctx context.Context, where string, arg any) (*account.User, error) {
	row := db.pool.QueryRow(ctx, `SELECT * FROM (SELECT `+userColumns+`, false AS decoy FROM users WHERE `+where+`
		AND disabled_at IS NULL UNION ALL SELECT `+decoyUserRow+`, true) u ORDER BY decoy LIMIT 1`, arg)
	var (
		u     account.User
		uid   string
		phone *string
		decoy bool
	)
	err := row.Scan(&u.ID, &uid, &u.UserName, &u.Email, &phone, &u.OperatorID, &u.FirstName, &u.LastName, &u.Title,
		&u.Gender, &u.UserType, &u.IsLazy, &u.SharedDataPermission, &u.PasswordHash, &decoy)
	if err != nil {
		return nil, fmt.Errorf("store: user: %w", err)
	}
	if decoy {
		return nil, account.ErrNotFound
	}
	if u.UID, err = account.ParseUID(uid); err != nil {
		return nil, fmt.Errorf("store: user %d: %w", u.ID, err)
	}
	u.Phone = str(phone)
	return &u, nil
}

// PasswordHistory returns up to n earlier password hashes of the user, newest first.
func (db *DB) PasswordHistory(ctx context.Context, userID int64, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT hash FROM password_history WHERE user_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, userID, n)
	if err != nil {
		return nil, fmt.Errorf("store: password history: %w", err)
	}
	hashes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: password history: %w", err)
	}
	return hashes, nil
}

// setPassword replaces the user's password hash, keeping the old one in the history; password_changed_at
// moves strictly forward (the trigger revokes the user's tokens).
func setPassword(ctx context.Context, tx pgx.Tx, userID int64, newHash string, at int64) error {
	var old string
	err := tx.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&old)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.ErrNotFound
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO password_history (user_id, hash, created_at) VALUES ($1, $2, $3)`, userID, old, at); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE users SET password_hash = $1, password_changed_at = greatest($2, password_changed_at + 1),
		updated_at = $2 WHERE id = $3`, newHash, at, userID)
	return err
}

// SetPassword replaces a user's password (administration).
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string, now time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error { return setPassword(ctx, tx, userID, hash, ms(now)) })
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("store: set password: %w", err)
	}
	return err
}

// UpgradePasswordHash replaces the user's hash old by upgraded unless it changed meanwhile: not a
// password change (no history, no revocation).
func (db *DB) UpgradePasswordHash(ctx context.Context, userID int64, old, upgraded string) error {
	_, err := db.pool.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`,
		upgraded, userID, old)
	if err != nil {
		return fmt.Errorf("store: upgrade password hash: %w", err)
	}
	return nil
}

// AddUser adds a user and returns its UserId and GUID.
func (db *DB) AddUser(ctx context.Context, u account.NewUser) (int64, [16]byte, error) {
	if u.UserName == "" || u.Email == "" || u.PasswordHash == "" {
		return 0, [16]byte{}, errors.New("store: a user needs a user name, an e-mail and a password hash")
	}
	uid := account.NewUID()
	if u.UID != nil {
		uid = *u.UID
	}
	var id int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if u.OperatorID != nil {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM operators WHERE id = $1`, *u.OperatorID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("store: operator %d: %w", *u.OperatorID, account.ErrNotFound)
			}
		}
		now := ms(db.now())
		var idArg *int64
		if u.ID != 0 {
			idArg = &u.ID
		}
		err := tx.QueryRow(ctx, `INSERT INTO users (id, uid, username, email, phone, operator_id, first_name,
			last_name, title, gender, user_type, is_lazy, shared_data_permission, password_hash,
			password_changed_at, created_at, updated_at)
			VALUES (coalesce($1, nextval('users_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $15) RETURNING id`,
			idArg, account.FormatUID(uid), u.UserName, u.Email, nullString(u.Phone), u.OperatorID, u.FirstName,
			u.LastName, u.Title, u.Gender, u.UserType, u.IsLazy, u.SharedDataPermission, u.PasswordHash, now).Scan(&id)
		if err != nil {
			return conflict(err)
		}
		for i, h := range u.History {
			if _, err := tx.Exec(ctx, `INSERT INTO password_history (user_id, hash, created_at) VALUES ($1, $2, $3)`,
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

// APIKeyActive reports whether a key with this MAC exists for the app and is not revoked.
func (db *DB) APIKeyActive(ctx context.Context, app string, keyMAC []byte) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE app = $1 AND mac = $2 AND revoked_at IS NULL)`,
		app, keyMAC).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("store: api key: %w", err)
	}
	return ok, nil
}

// AddAPIKey stores a new key's MAC under a name unique among the app's active keys.
func (db *DB) AddAPIKey(ctx context.Context, app, name string, keyMAC []byte) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO api_keys (app, name, mac, created_at) VALUES ($1, $2, $3, $4)`, app, name, keyMAC, ms(db.now()))
	return conflict(err)
}

// RevokeAPIKey revokes the app's active key of that name.
func (db *DB) RevokeAPIKey(ctx context.Context, app, name string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE app = $2 AND name = $3 AND revoked_at IS NULL`,
		ms(db.now()), app, name)
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}
