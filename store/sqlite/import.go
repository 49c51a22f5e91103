package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"aspgate/account"
)

// An import is staged in a temporary table on a connection of its own (temporary tables belong to one
// connection, and live in a temporary file, not in memory), checked against the users in a few set-based
// queries (each a join on a unique index), then applied in transactions of importChunk rows. Staging and
// checking never take the database's write lock; only Apply does, a chunk at a time.

// importChunk is how many rows one Apply transaction writes: short enough that a running server's writes
// wait a moment at most, long enough that a million rows take a few hundred commits.
const importChunk = 10000

type importStage struct {
	db      *DB
	pool    *sql.DB
	conn    *sql.Conn
	tx      *sql.Tx // the staging transaction, on temp only
	insert  *sql.Stmt
	pending []any // rows waiting for the next multi-row INSERT, stageColumns values each
	history bool  // a staged row has a history
	changed bool  // Check found rows that update a user
}

// stageColumns is how many values a staged row has; stageBatch how many rows one INSERT stages (a
// statement per row would cost more than the row).
const (
	stageColumns = 18
	stageBatch   = 200
)

// BeginImport opens a staging area for an import.
func (db *DB) BeginImport(ctx context.Context) (account.ImportStage, error) {
	pool, err := sql.Open("sqlite3", dsn(db.path, url.Values{
		"_foreign_keys":  {"on"},
		"_busy_timeout":  {"30000"},
		"_txlock":        {"immediate"},
		"_secure_delete": {"on"},
		"_synchronous":   {"NORMAL"}, // as serve's default: a crash loses at most the last chunk, which a re-run redoes
	}))
	if err != nil {
		return nil, fmt.Errorf("store: import: %w", err)
	}
	s := &importStage{db: db, pool: pool}
	if s.conn, err = pool.Conn(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: import: %w", err)
	}
	for _, q := range []string{
		`PRAGMA temp_store = FILE`,
		`PRAGMA cache_size = -16000`,
		`PRAGMA temp.cache_size = -16000`,
		`CREATE TEMP TABLE import_rows (
			line          INTEGER PRIMARY KEY,
			id            INTEGER,
			uid           TEXT    NOT NULL,
			uid_given     INTEGER NOT NULL,
			username      TEXT    NOT NULL,
			email         TEXT    NOT NULL,
			phone         TEXT,
			operator_id   INTEGER,
			first_name    TEXT,
			last_name     TEXT,
			title         TEXT,
			gender        INTEGER,
			user_type     INTEGER,
			is_lazy       INTEGER NOT NULL,
			sdp           INTEGER NOT NULL,
			password_hash TEXT    NOT NULL,
			imported_hash TEXT    NOT NULL,
			history       TEXT    NOT NULL,
			match_id      INTEGER,
			state         INTEGER NOT NULL DEFAULT 0 -- 0 new, 1 changed, 2 unchanged
		)`,
	} {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: import: %w", err)
		}
	}
	// A deferred transaction that only writes temp: it takes no lock on the database.
	if s.tx, err = s.conn.BeginTx(ctx, &sql.TxOptions{}); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: import: %w", err)
	}
	if _, err := s.tx.ExecContext(ctx, `SAVEPOINT staging`); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: import: %w", err)
	}
	if s.insert, err = s.tx.PrepareContext(ctx, stageInsert(stageBatch)); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: import: %w", err)
	}
	return s, nil
}

func stageInsert(rows int) string {
	q := `INSERT INTO import_rows (line, id, uid, uid_given, username, email, phone, operator_id, first_name, last_name,
		title, gender, user_type, is_lazy, sdp, password_hash, imported_hash, history) VALUES `
	row := "(" + strings.Repeat("?, ", stageColumns-1) + "?)"
	return q + strings.Repeat(row+", ", rows-1) + row
}

// flush stages the pending rows.
func (s *importStage) flush(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	var err error
	if len(s.pending) == stageBatch*stageColumns {
		_, err = s.insert.ExecContext(ctx, s.pending...)
	} else {
		_, err = s.tx.ExecContext(ctx, stageInsert(len(s.pending)/stageColumns), s.pending...)
	}
	s.pending = s.pending[:0]
	if err != nil {
		return fmt.Errorf("store: import: stage: %w", err)
	}
	return nil
}

// Add stages one row.
func (s *importStage) Add(ctx context.Context, r account.ImportRow) error {
	u := r.User
	uid := NewUID()
	if u.UID != nil {
		uid = *u.UID
	}
	history, _ := json.Marshal(u.History)
	if u.History == nil {
		history = []byte("[]")
	} else {
		s.history = true
	}
	var id sql.NullInt64
	if u.ID != 0 {
		id = sql.NullInt64{Int64: u.ID, Valid: true}
	}
	s.pending = append(s.pending, r.Line, id, FormatUID(uid), boolInt(r.UIDGiven), u.UserName, u.Email, nullString(u.Phone),
		optInt64(u.OperatorID), optString(u.FirstName), optString(u.LastName), optString(u.Title), optInt32(u.Gender),
		optInt32(u.UserType), boolInt(u.IsLazy), boolInt(u.SharedDataPermission), u.PasswordHash, r.ImportedHash, string(history))
	if len(s.pending) >= stageBatch*stageColumns {
		return s.flush(ctx)
	}
	return nil
}

// importKeys are the unique keys of a user, as the staging table and users name them, and their column
// name in a problem.
var importKeys = []struct{ col, users, name, collate string }{
	{"id", "id", "id", ""},
	{"uid", "uid", "uid", ""},
	{"username", "username", "username", " COLLATE NOCASE"},
	{"email", "email", "email", " COLLATE NOCASE"},
	{"phone", "phone", "phone", ""},
}

// Check finds what the database cannot take and counts the rest (see account.ImportStage).
func (s *importStage) Check(ctx context.Context, noUpdate bool, limit int) ([]account.ImportProblem, account.ImportCounts, error) {
	var counts account.ImportCounts
	if err := s.flush(ctx); err != nil {
		return nil, counts, err
	}
	if _, err := s.tx.ExecContext(ctx, `RELEASE staging`); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	for _, k := range importKeys {
		if _, err := s.tx.ExecContext(ctx, `CREATE INDEX temp.import_rows_`+k.col+` ON import_rows (`+k.col+k.collate+`)`); err != nil {
			return nil, counts, fmt.Errorf("store: import: %w", err)
		}
	}
	// The user each row updates: by id if it gives one, else by GUID if it gives one, else by e-mail.
	if _, err := s.tx.ExecContext(ctx, `UPDATE import_rows SET match_id = CASE
		WHEN id IS NOT NULL THEN (SELECT u.id FROM main.users u WHERE u.id = import_rows.id)
		WHEN uid_given THEN (SELECT u.id FROM main.users u WHERE u.uid = import_rows.uid)
		ELSE (SELECT u.id FROM main.users u WHERE u.email = import_rows.email) END`); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	var users, rows int64
	if err := s.tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM main.users), (SELECT count(*) FROM import_rows)`).Scan(&users, &rows); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	var problems []account.ImportProblem
	collect := func(q string, args ...any) error {
		rows, err := s.tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p account.ImportProblem
			if err := rows.Scan(&p.Line, &p.Column, &p.Reason); err != nil {
				return err
			}
			problems = append(problems, p)
		}
		return rows.Err()
	}
	for _, k := range importKeys {
		// The same value twice in the file: every row after the first that has it. The values that repeat
		// are found in one pass over the index; only their rows are then looked at.
		given := ""
		if k.col == "uid" {
			given = " AND uid_given" // a GUID made up for a row that gives none never collides
		}
		if err := collect(`WITH dup AS (SELECT `+k.col+k.collate+` AS v, min(line) AS first FROM import_rows
			WHERE `+k.col+` IS NOT NULL`+given+` GROUP BY `+k.col+k.collate+` HAVING count(*) > 1)
			SELECT r.line, ?, 'the same as line ' || dup.first FROM dup JOIN import_rows r ON r.`+k.col+k.collate+` = dup.v
			WHERE r.line > dup.first`+given+` ORDER BY r.line LIMIT ?`, k.name, limit); err != nil {
			return nil, counts, fmt.Errorf("store: import: %w", err)
		}
		// A value another stored user holds: walking the smaller of the two tables, each row looked up in
		// the other's index (CROSS JOIN fixes the order; the temporary table has no statistics).
		from := `import_rows r CROSS JOIN main.users u ON u.` + k.users + ` = r.` + k.col + k.collate
		if users < rows {
			from = `main.users u CROSS JOIN import_rows r ON r.` + k.col + k.collate + ` = u.` + k.users
		}
		if err := collect(`SELECT r.line, ?, 'already belongs to user ' || u.id FROM `+from+`
			WHERE r.`+k.col+` IS NOT NULL AND u.id IS NOT r.match_id ORDER BY r.line LIMIT ?`, k.name, limit); err != nil {
			return nil, counts, fmt.Errorf("store: import: %w", err)
		}
	}
	if err := collect(`SELECT r.line, 'operator', 'unknown operator ' || r.operator_id || ' (add it with aspgate operator add)'
		FROM import_rows r WHERE r.operator_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM main.operators o WHERE o.id = r.operator_id) ORDER BY r.line LIMIT ?`, limit); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	if err := collect(`SELECT r.line, 'uid', 'user ' || u.id || ' has the GUID ' || u.uid || ', which cannot change'
		FROM import_rows r JOIN main.users u ON u.id = r.match_id
		WHERE r.uid_given AND r.uid <> u.uid ORDER BY r.line LIMIT ?`, limit); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	// Unchanged: every field as stored, the password as last imported, the imported history the same.
	if _, err := s.tx.ExecContext(ctx, `UPDATE import_rows SET state = CASE WHEN match_id IS NULL THEN 0
		WHEN EXISTS (SELECT 1 FROM main.users u WHERE u.id = import_rows.match_id
			AND u.username IS import_rows.username AND u.email IS import_rows.email AND u.phone IS import_rows.phone
			AND u.operator_id IS import_rows.operator_id AND u.first_name IS import_rows.first_name
			AND u.last_name IS import_rows.last_name AND u.title IS import_rows.title AND u.gender IS import_rows.gender
			AND u.user_type IS import_rows.user_type AND u.is_lazy = import_rows.is_lazy
			AND u.shared_data_permission = import_rows.sdp AND u.imported_hash IS import_rows.imported_hash
			AND coalesce((SELECT json_group_array(hash) FROM (SELECT h.hash FROM main.password_history h
				WHERE h.user_id = u.id AND h.imported ORDER BY h.created_at DESC, h.id DESC)), '[]') = import_rows.history)
		THEN 2 ELSE 1 END`); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	if noUpdate {
		if err := collect(`SELECT line, '', 'differs from user ' || match_id || ' (--no-update)' FROM import_rows
			WHERE state = 1 ORDER BY line LIMIT ?`, limit); err != nil {
			return nil, counts, fmt.Errorf("store: import: %w", err)
		}
	}
	if err := s.tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 1),
		count(*) FILTER (WHERE state = 2) FROM import_rows`).Scan(&counts.New, &counts.Updated, &counts.Unchanged); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	s.changed = counts.Updated > 0
	return problems, counts, nil
}

// Apply writes the checked rows: new users, then the changed ones, importChunk rows per transaction.
// Updating a user sets every field the file has; its password only when it differs from the one last
// imported (which revokes the user's tokens, as any password change), and its imported history when
// the file brings another.
func (s *importStage) Apply(ctx context.Context, now time.Time, done func(rows int)) (account.ImportCounts, error) {
	var counts account.ImportCounts
	if err := s.tx.Commit(); err != nil {
		return counts, fmt.Errorf("store: import: %w", err)
	}
	s.tx = nil
	at := ms(now)
	// New users without an id get the next ones after every id stored or in the file, in file order, now:
	// left to each INSERT, one could take an id a later row of the file gives.
	for _, q := range []string{
		`CREATE TEMP TABLE import_ids (line INTEGER PRIMARY KEY, id INTEGER NOT NULL)`,
		`INSERT INTO import_ids (line, id) SELECT line, (SELECT max(coalesce((SELECT max(id) FROM main.users), 0),
			coalesce((SELECT max(id) FROM import_rows), 0))) + row_number() OVER (ORDER BY line)
			FROM import_rows WHERE id IS NULL AND state = 0`,
		`UPDATE import_rows SET id = i.id FROM import_ids i WHERE i.line = import_rows.line`,
	} {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return counts, fmt.Errorf("store: import: %w", err)
		}
	}
	var maxLine int64
	if err := s.conn.QueryRowContext(ctx, `SELECT coalesce(max(line), 0) FROM import_rows`).Scan(&maxLine); err != nil {
		return counts, fmt.Errorf("store: import: %w", err)
	}
	for lo := int64(0); lo <= maxLine; lo += importChunk {
		hi := lo + importChunk - 1
		tx, err := s.conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
		if err != nil {
			return counts, fmt.Errorf("store: import: %w", err)
		}
		n, u, err := applyChunk(ctx, tx, lo, hi, at, s.changed, s.history)
		if err != nil {
			tx.Rollback()
			return counts, fmt.Errorf("store: import: lines %d-%d: %w", lo, hi, conflict(err))
		}
		if err := tx.Commit(); err != nil {
			return counts, fmt.Errorf("store: import: %w", err)
		}
		counts.New += n
		counts.Updated += u
		if done != nil {
			done(counts.New + counts.Updated)
		}
	}
	if err := s.conn.QueryRowContext(ctx, `SELECT count(*) FROM import_rows WHERE state = 2`).Scan(&counts.Unchanged); err != nil {
		return counts, fmt.Errorf("store: import: %w", err)
	}
	return counts, nil
}

func applyChunk(ctx context.Context, tx *sql.Tx, lo, hi, at int64, changed, history bool) (inserted, updated int, err error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO main.users (id, uid, username, email, phone, operator_id, first_name,
		last_name, title, gender, user_type, is_lazy, shared_data_permission, password_hash, imported_hash,
		password_changed_at, created_at, updated_at)
		SELECT id, uid, username, email, phone, operator_id, first_name, last_name, title, gender, user_type, is_lazy, sdp,
		password_hash, imported_hash, ?1, ?1, ?1 FROM import_rows WHERE state = 0 AND line BETWEEN ?2 AND ?3 ORDER BY line`,
		at, lo, hi)
	if err != nil {
		return 0, 0, err
	}
	n, _ := res.RowsAffected()
	// The new users' imported history, newest first (created_at counts down from the import's time).
	if history {
		if _, err := tx.ExecContext(ctx, `INSERT INTO main.password_history (user_id, hash, created_at, imported)
			SELECT r.id, h.value, ?1 - 1 - h.key, 1 FROM import_rows r, json_each(r.history) h
			WHERE r.state = 0 AND r.line BETWEEN ?2 AND ?3 AND r.history <> '[]'`, at, lo, hi); err != nil {
			return 0, 0, err
		}
	}
	if !changed {
		return int(n), 0, nil
	}
	// Changed users: the history first (it reads the old imported hash), then the password, then the rest.
	if _, err := tx.ExecContext(ctx, `DELETE FROM main.password_history WHERE imported AND user_id IN
		(SELECT match_id FROM import_rows WHERE state = 1 AND line BETWEEN ?1 AND ?2
		AND history <> coalesce((SELECT json_group_array(hash) FROM (SELECT h.hash FROM main.password_history h
			WHERE h.user_id = import_rows.match_id AND h.imported ORDER BY h.created_at DESC, h.id DESC)), '[]'))`, lo, hi); err != nil {
		return 0, 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO main.password_history (user_id, hash, created_at, imported)
		SELECT r.match_id, h.value, ?1 - 1 - h.key, 1 FROM import_rows r, json_each(r.history) h
		WHERE r.state = 1 AND r.line BETWEEN ?2 AND ?3
		AND NOT EXISTS (SELECT 1 FROM main.password_history p WHERE p.user_id = r.match_id AND p.imported)`, at, lo, hi); err != nil {
		return 0, 0, err
	}
	// A password that differs from the one last imported replaces the current one, which goes to the
	// history, and moves password_changed_at (the trigger revokes the tokens).
	if _, err := tx.ExecContext(ctx, `INSERT INTO main.password_history (user_id, hash, created_at)
		SELECT u.id, u.password_hash, ?1 FROM import_rows r JOIN main.users u ON u.id = r.match_id
		WHERE r.state = 1 AND r.line BETWEEN ?2 AND ?3 AND u.imported_hash IS NOT r.imported_hash`, at, lo, hi); err != nil {
		return 0, 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE main.users SET password_hash = r.password_hash, imported_hash = r.imported_hash,
		password_changed_at = max(?1, users.password_changed_at + 1)
		FROM import_rows r WHERE users.id = r.match_id AND r.state = 1 AND r.line BETWEEN ?2 AND ?3
		AND users.imported_hash IS NOT r.imported_hash`, at, lo, hi); err != nil {
		return 0, 0, err
	}
	res, err = tx.ExecContext(ctx, `UPDATE main.users SET username = r.username, email = r.email, phone = r.phone,
		operator_id = r.operator_id, first_name = r.first_name, last_name = r.last_name, title = r.title, gender = r.gender,
		user_type = r.user_type, is_lazy = r.is_lazy, shared_data_permission = r.sdp, updated_at = ?1
		FROM import_rows r WHERE users.id = r.match_id AND r.state = 1 AND r.line BETWEEN ?2 AND ?3`, at, lo, hi)
	if err != nil {
		return 0, 0, err
	}
	m, _ := res.RowsAffected()
	return int(n), int(m), nil
}

// Close drops the staging area.
func (s *importStage) Close() error {
	if s.insert != nil {
		s.insert.Close()
	}
	if s.tx != nil {
		s.tx.Rollback()
	}
	if s.conn != nil {
		s.conn.Close()
	}
	return s.pool.Close()
}
