package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// DumpTables are the tables of the schema that hold data, parents before the rows that refer to them:
// the order a copy into another engine writes them in. (schema_migrations is each engine's own; the one
// decoy user row is part of every schema.)
var DumpTables = []string{"operators", "users", "password_history", "codes", "change_requests", "api_keys", "outbox",
	"audit", "user_twofactor", "api_tokens", "signin_guard", "rate_limits", "decoy_codes", "decoy_change_requests", "decoy_outbox"}

// Dump reads every row of DumpTables, table by table in that order, from one snapshot of the database
// (a read transaction: writers go on meanwhile but are not seen), and gives each to visit with its
// table's column names. Values are as SQLite holds them: int64, float64, string, []byte or nil.
func (db *DB) Dump(ctx context.Context, visit func(table string, columns []string, row []any) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: dump: %w", err)
	}
	defer tx.Rollback()
	for _, table := range DumpTables {
		if err := dumpTable(ctx, tx, table, visit); err != nil {
			return fmt.Errorf("store: dump %s: %w", table, err)
		}
	}
	return nil
}

func dumpTable(ctx context.Context, tx *sql.Tx, table string, visit func(string, []string, []any) error) error {
	rows, err := tx.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY rowid`)
	if err != nil {
		// WITHOUT ROWID tables (signin_guard, rate_limits) are read in their key's order.
		rows, err = tx.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			return err
		}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := visit(table, cols, row); err != nil {
			return err
		}
	}
	return rows.Err()
}
