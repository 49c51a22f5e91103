package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Load writes rows copied from another engine into this database, which must hold no data yet, in one
// transaction: either everything arrives or nothing does. fill calls put for every row, tables in an
// order where parents come first; ids, hashes, MACs, codes and counters are written as they are, and the
// sequences then continue after the highest id. It returns the rows written per table.
func (db *DB) Load(ctx context.Context, fill func(put func(table string, columns []string, row []any) error) error) (map[string]int, error) {
	counts := map[string]int{}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM api_keys)
			+ (SELECT count(*) FROM operators)`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return errors.New("the PostgreSQL database already holds data: migrate-data copies into an empty one only")
		}
		types := map[string]map[string]string{} // table -> column -> data type
		batch := &pgx.Batch{}
		flush := func() error {
			if batch.Len() == 0 {
				return nil
			}
			err := tx.SendBatch(ctx, batch).Close()
			batch = &pgx.Batch{}
			return err
		}
		put := func(table string, columns []string, row []any) error {
			if _, ok := types[table]; !ok {
				t, err := columnTypes(ctx, tx, table)
				if err != nil {
					return err
				}
				types[table] = t
			}
			args := make([]any, len(row))
			marks := make([]string, len(row))
			for i, v := range row {
				typ, ok := types[table][columns[i]]
				if !ok {
					return fmt.Errorf("%s.%s: no such column here", table, columns[i])
				}
				if typ == "boolean" {
					if n, isInt := v.(int64); isInt {
						v = n != 0
					}
				}
				args[i], marks[i] = v, fmt.Sprintf("$%d", i+1)
			}
			batch.Queue(`INSERT INTO `+pgx.Identifier{table}.Sanitize()+` (`+quoteAll(columns)+`) OVERRIDING SYSTEM VALUE VALUES (`+
				strings.Join(marks, ", ")+`)`, args...)
			counts[table]++
			if batch.Len() >= 500 {
				return flush()
			}
			return nil
		}
		if err := fill(put); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		// The sequences go on after the ids copied.
		if _, err := tx.Exec(ctx, `SELECT setval('users_id_seq', greatest((SELECT max(id) FROM users), 1), (SELECT max(id) FROM users) IS NOT NULL)`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, t := range tables {
			q := pgx.Identifier{t}.Sanitize()
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), greatest((SELECT max(id) FROM `+q+`), 1),
				(SELECT max(id) FROM `+q+`) IS NOT NULL)`, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: load: %w", err)
	}
	return counts, nil
}

func columnTypes(ctx context.Context, tx pgx.Tx, table string) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			return nil, err
		}
		out[c] = t
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no table %s here", table)
	}
	return out, rows.Err()
}

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}
