package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"aspgate/account"
)

// migrationFiles are the schema migrations, named NNNN_description.sql and applied in version order.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in order; it panics on a misnamed or duplicate file, which
// is a build mistake, not a runtime condition.
func migrations() []migration {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var list []migration
	seen := map[int]string{}
	for _, n := range names {
		base := path.Base(n)
		digits, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(digits)
		if !ok || err != nil || v <= 0 {
			panic("store: migration " + base + " is not named NNNN_description.sql")
		}
		if other, dup := seen[v]; dup {
			panic("store: migrations " + other + " and " + base + " share a version")
		}
		seen[v] = base
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			panic(err)
		}
		list = append(list, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })
	return list
}

// migrate applies the migrations not yet recorded in schema_migrations, each in its own transaction with
// its record, so a crash leaves the database at a known version and two processes starting at once apply
// each migration once (the second one finds it recorded once it gets the write lock).
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	all := migrations()
	var newest int
	if err := db.write.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if len(all) > 0 && newest > all[len(all)-1].version {
		return fmt.Errorf("store: the database is at schema version %d, newer than this program's %d",
			newest, all[len(all)-1].version)
	}
	for _, m := range all {
		err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, ms(db.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// Migration is one applied schema migration.
type Migration = account.Migration

// Migrations lists the applied migrations, oldest first.
func (db *DB) Migrations(ctx context.Context) ([]Migration, error) {
	var out []Migration
	err := db.inRead(ctx, func(tx reader) error {
		rows, err := tx.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Migration
			var at int64
			if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
				return err
			}
			m.AppliedAt = fromMS(at)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return out, nil
}

// Ready reports whether the database answers a read and is at this program's schema version (another
// process may have migrated it further, or a restore may have put an older file in place).
func (db *DB) Ready(ctx context.Context) error {
	all := migrations()
	var newest int
	err := db.inRead(ctx, func(tx reader) error {
		return tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest)
	})
	if err != nil {
		return fmt.Errorf("store: not reachable: %w", err)
	}
	if want := all[len(all)-1].version; newest != want {
		return fmt.Errorf("store: schema version %d, this program needs %d", newest, want)
	}
	return nil
}
