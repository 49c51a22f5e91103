package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"aspgate/account"
)

// The import as the SQLite store runs it (see its import.go), in PostgreSQL's words: rows are copied into
// a temporary table of a session of its own (COPY), checked against the users in set-based queries, then
// applied in transactions of importChunk rows. User names and e-mails compare ignoring ASCII case
// (ascii_lower), histories are JSON arrays (jsonb).

const importChunk = 10000

type importStage struct {
	db      *DB
	conn    *pgxpool.Conn
	pending [][]any
	history bool
	changed bool
}

var stageColumns = []string{"line", "id", "uid", "uid_given", "username", "email", "phone", "operator_id", "first_name", "last_name",
	"title", "gender", "user_type", "is_lazy", "sdp", "password_hash", "imported_hash", "history"}

// BeginImport opens a staging area for an import.
func (db *DB) BeginImport(ctx context.Context) (account.ImportStage, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: import: %w", err)
	}
	s := &importStage{db: db, conn: conn}
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE import_rows (
		line          BIGINT  PRIMARY KEY,
		id            BIGINT,
		uid           TEXT    NOT NULL,
		uid_given     BOOLEAN NOT NULL,
		username      TEXT    NOT NULL,
		email         TEXT    NOT NULL,
		phone         TEXT,
		operator_id   BIGINT,
		first_name    TEXT,
		last_name     TEXT,
		title         TEXT,
		gender        INTEGER,
		user_type     INTEGER,
		is_lazy       BOOLEAN NOT NULL,
		sdp           BOOLEAN NOT NULL,
		password_hash TEXT    NOT NULL,
		imported_hash TEXT    NOT NULL,
		history       JSONB   NOT NULL,
		match_id      BIGINT,
		state         INTEGER NOT NULL DEFAULT 0 -- 0 new, 1 changed, 2 unchanged
	)`); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: import: %w", err)
	}
	return s, nil
}

func (s *importStage) flush(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	_, err := s.conn.Conn().CopyFrom(ctx, pgx.Identifier{"import_rows"}, stageColumns, pgx.CopyFromRows(s.pending))
	s.pending = s.pending[:0]
	if err != nil {
		return fmt.Errorf("store: import: stage: %w", err)
	}
	return nil
}

// Add stages one row.
func (s *importStage) Add(ctx context.Context, r account.ImportRow) error {
	u := r.User
	uid := account.NewUID()
	if u.UID != nil {
		uid = *u.UID
	}
	history := "[]"
	if u.History != nil {
		b, _ := json.Marshal(u.History)
		history, s.history = string(b), true
	}
	var id *int64
	if u.ID != 0 {
		id = &u.ID
	}
	s.pending = append(s.pending, []any{int64(r.Line), id, account.FormatUID(uid), r.UIDGiven, u.UserName, u.Email, nullString(u.Phone),
		u.OperatorID, u.FirstName, u.LastName, u.Title, u.Gender, u.UserType, u.IsLazy, u.SharedDataPermission, u.PasswordHash,
		r.ImportedHash, history})
	if len(s.pending) >= 1000 {
		return s.flush(ctx)
	}
	return nil
}

var importKeys = []struct{ col, expr, name string }{
	{"id", "id", "id"},
	{"uid", "uid", "uid"},
	{"username", "ascii_lower(username)", "username"},
	{"email", "ascii_lower(email)", "email"},
	{"phone", "phone", "phone"},
}

// Check finds what the database cannot take and counts the rest.
func (s *importStage) Check(ctx context.Context, noUpdate bool, limit int) ([]account.ImportProblem, account.ImportCounts, error) {
	var counts account.ImportCounts
	if err := s.flush(ctx); err != nil {
		return nil, counts, err
	}
	c := s.conn
	for _, k := range importKeys {
		if _, err := c.Exec(ctx, `CREATE INDEX ON import_rows (`+k.expr+`)`); err != nil {
			return nil, counts, fmt.Errorf("store: import: %w", err)
		}
	}
	if _, err := c.Exec(ctx, `ANALYZE import_rows`); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	// The user each row updates: by id if it gives one, else by GUID if it gives one, else by e-mail.
	if _, err := c.Exec(ctx, `UPDATE import_rows r SET match_id = CASE
		WHEN r.id IS NOT NULL THEN (SELECT u.id FROM users u WHERE u.id = r.id)
		WHEN r.uid_given THEN (SELECT u.id FROM users u WHERE u.uid = r.uid)
		ELSE (SELECT u.id FROM users u WHERE ascii_lower(u.email) = ascii_lower(r.email)) END`); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	var problems []account.ImportProblem
	collect := func(q string, args ...any) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p account.ImportProblem
			var line int64
			if err := rows.Scan(&line, &p.Column, &p.Reason); err != nil {
				return err
			}
			p.Line = int(line)
			problems = append(problems, p)
		}
		return rows.Err()
	}
	for _, k := range importKeys {
		given := ""
		if k.col == "uid" {
			given = " AND uid_given"
		}
		rexpr := "r." + k.expr
		if k.expr != k.col {
			rexpr = "ascii_lower(r." + k.col + ")"
		}
		if err := collect(`WITH dup AS (SELECT `+k.expr+` AS v, min(line) AS first FROM import_rows
			WHERE `+k.col+` IS NOT NULL`+given+` GROUP BY `+k.expr+` HAVING count(*) > 1)
			SELECT r.line, $1::text, 'the same as line ' || dup.first FROM dup JOIN import_rows r ON `+rexpr+` = dup.v
			WHERE r.line > dup.first`+given+` ORDER BY r.line LIMIT $2`, k.name, limit); err != nil {
			return nil, counts, fmt.Errorf("store: import: %w", err)
		}
		uexpr := "u." + k.col
		if k.expr != k.col {
			uexpr = "ascii_lower(u." + k.col + ")"
		}
		if err := collect(`SELECT r.line, $1::text, 'already belongs to user ' || u.id FROM import_rows r JOIN users u ON `+uexpr+` = `+rexpr+`
			WHERE r.`+k.col+` IS NOT NULL AND u.id IS DISTINCT FROM r.match_id ORDER BY r.line LIMIT $2`, k.name, limit); err != nil {
			return nil, counts, fmt.Errorf("store: import: %w", err)
		}
	}
	if err := collect(`SELECT r.line, 'operator', 'unknown operator ' || r.operator_id || ' (add it with aspgate operator add)'
		FROM import_rows r WHERE r.operator_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM operators o WHERE o.id = r.operator_id) ORDER BY r.line LIMIT $1`, limit); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	if err := collect(`SELECT r.line, 'uid', 'user ' || u.id || ' has the GUID ' || u.uid || ', which cannot change'
		FROM import_rows r JOIN users u ON u.id = r.match_id
		WHERE r.uid_given AND r.uid <> u.uid ORDER BY r.line LIMIT $1`, limit); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	if _, err := c.Exec(ctx, `UPDATE import_rows r SET state = CASE WHEN r.match_id IS NULL THEN 0
		WHEN EXISTS (SELECT 1 FROM users u WHERE u.id = r.match_id
			AND u.username IS NOT DISTINCT FROM r.username AND u.email IS NOT DISTINCT FROM r.email
			AND u.phone IS NOT DISTINCT FROM r.phone AND u.operator_id IS NOT DISTINCT FROM r.operator_id
			AND u.first_name IS NOT DISTINCT FROM r.first_name AND u.last_name IS NOT DISTINCT FROM r.last_name
			AND u.title IS NOT DISTINCT FROM r.title AND u.gender IS NOT DISTINCT FROM r.gender
			AND u.user_type IS NOT DISTINCT FROM r.user_type AND u.is_lazy = r.is_lazy
			AND u.shared_data_permission = r.sdp AND u.imported_hash IS NOT DISTINCT FROM r.imported_hash
			AND coalesce((SELECT jsonb_agg(h.hash ORDER BY h.created_at DESC, h.id DESC) FROM password_history h
				WHERE h.user_id = u.id AND h.imported), '[]'::jsonb) = r.history)
		THEN 2 ELSE 1 END`); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	if noUpdate {
		if err := collect(`SELECT line, '', 'differs from user ' || match_id || ' (--no-update)' FROM import_rows
			WHERE state = 1 ORDER BY line LIMIT $1`, limit); err != nil {
			return nil, counts, fmt.Errorf("store: import: %w", err)
		}
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 1),
		count(*) FILTER (WHERE state = 2) FROM import_rows`).Scan(&counts.New, &counts.Updated, &counts.Unchanged); err != nil {
		return nil, counts, fmt.Errorf("store: import: %w", err)
	}
	s.changed = counts.Updated > 0
	return problems, counts, nil
}

// Apply writes the checked rows: new users, then the changed ones, importChunk rows per transaction.
func (s *importStage) Apply(ctx context.Context, now time.Time, done func(rows int)) (account.ImportCounts, error) {
	var counts account.ImportCounts
	at := ms(now)
	c := s.conn
	// New users without an id get the next ones after every id stored or in the file, in file order; the
	// users sequence then goes on after them.
	if _, err := c.Exec(ctx, `UPDATE import_rows r SET id = n.id FROM (
		SELECT line, greatest(coalesce((SELECT max(id) FROM users), 0), coalesce((SELECT max(id) FROM import_rows), 0))
			+ row_number() OVER (ORDER BY line) AS id
		FROM import_rows WHERE id IS NULL AND state = 0) n WHERE n.line = r.line`); err != nil {
		return counts, fmt.Errorf("store: import: %w", err)
	}
	var maxLine int64
	if err := c.QueryRow(ctx, `SELECT coalesce(max(line), 0) FROM import_rows`).Scan(&maxLine); err != nil {
		return counts, fmt.Errorf("store: import: %w", err)
	}
	for lo := int64(0); lo <= maxLine; lo += importChunk {
		hi := lo + importChunk - 1
		var n, u int
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) (err error) {
			n, u, err = applyChunk(ctx, tx, lo, hi, at, s.changed, s.history)
			return err
		})
		if err != nil {
			return counts, fmt.Errorf("store: import: lines %d-%d: %w", lo, hi, conflict(err))
		}
		counts.New += n
		counts.Updated += u
		if done != nil {
			done(counts.New + counts.Updated)
		}
	}
	if _, err := c.Exec(ctx, `SELECT setval('users_id_seq', greatest((SELECT max(id) FROM users), 1), (SELECT max(id) FROM users) IS NOT NULL)`); err != nil {
		return counts, fmt.Errorf("store: import: %w", err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM import_rows WHERE state = 2`).Scan(&counts.Unchanged); err != nil {
		return counts, fmt.Errorf("store: import: %w", err)
	}
	return counts, nil
}

func applyChunk(ctx context.Context, tx pgx.Tx, lo, hi, at int64, changed, history bool) (inserted, updated int, err error) {
	tag, err := tx.Exec(ctx, `INSERT INTO users (id, uid, username, email, phone, operator_id, first_name,
		last_name, title, gender, user_type, is_lazy, shared_data_permission, password_hash, imported_hash,
		password_changed_at, created_at, updated_at)
		SELECT id, uid, username, email, phone, operator_id, first_name, last_name, title, gender, user_type, is_lazy, sdp,
		password_hash, imported_hash, $1, $1, $1 FROM import_rows WHERE state = 0 AND line BETWEEN $2 AND $3 ORDER BY line`, at, lo, hi)
	if err != nil {
		return 0, 0, err
	}
	n := int(tag.RowsAffected())
	if history {
		if _, err := tx.Exec(ctx, `INSERT INTO password_history (user_id, hash, created_at, imported)
			SELECT r.id, h.value, $1 - h.ord, true FROM import_rows r, jsonb_array_elements_text(r.history) WITH ORDINALITY h(value, ord)
			WHERE r.state = 0 AND r.line BETWEEN $2 AND $3 AND r.history <> '[]'::jsonb`, at, lo, hi); err != nil {
			return 0, 0, err
		}
	}
	if !changed {
		return n, 0, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM password_history p WHERE p.imported AND p.user_id IN
		(SELECT match_id FROM import_rows r WHERE r.state = 1 AND r.line BETWEEN $1 AND $2
		AND r.history <> coalesce((SELECT jsonb_agg(h.hash ORDER BY h.created_at DESC, h.id DESC) FROM password_history h
			WHERE h.user_id = r.match_id AND h.imported), '[]'::jsonb))`, lo, hi); err != nil {
		return 0, 0, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO password_history (user_id, hash, created_at, imported)
		SELECT r.match_id, h.value, $1 - h.ord, true FROM import_rows r, jsonb_array_elements_text(r.history) WITH ORDINALITY h(value, ord)
		WHERE r.state = 1 AND r.line BETWEEN $2 AND $3
		AND NOT EXISTS (SELECT 1 FROM password_history p WHERE p.user_id = r.match_id AND p.imported)`, at, lo, hi); err != nil {
		return 0, 0, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO password_history (user_id, hash, created_at)
		SELECT u.id, u.password_hash, $1 FROM import_rows r JOIN users u ON u.id = r.match_id
		WHERE r.state = 1 AND r.line BETWEEN $2 AND $3 AND u.imported_hash IS DISTINCT FROM r.imported_hash`, at, lo, hi); err != nil {
		return 0, 0, err
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = r.password_hash, imported_hash = r.imported_hash,
		password_changed_at = greatest($1, users.password_changed_at + 1)
		FROM import_rows r WHERE users.id = r.match_id AND r.state = 1 AND r.line BETWEEN $2 AND $3
		AND users.imported_hash IS DISTINCT FROM r.imported_hash`, at, lo, hi); err != nil {
		return 0, 0, err
	}
	tag, err = tx.Exec(ctx, `UPDATE users SET username = r.username, email = r.email, phone = r.phone,
		operator_id = r.operator_id, first_name = r.first_name, last_name = r.last_name, title = r.title, gender = r.gender,
		user_type = r.user_type, is_lazy = r.is_lazy, shared_data_permission = r.sdp, updated_at = $1
		FROM import_rows r WHERE users.id = r.match_id AND r.state = 1 AND r.line BETWEEN $2 AND $3`, at, lo, hi)
	if err != nil {
		return 0, 0, err
	}
	return n, int(tag.RowsAffected()), nil
}

// Close drops the staging area (the temporary table goes with the session's next use: it is dropped now).
func (s *importStage) Close() error {
	if s.conn != nil {
		s.conn.Exec(context.Background(), `DROP TABLE IF EXISTS import_rows`)
		s.conn.Release()
		s.conn = nil
	}
	return nil
}
