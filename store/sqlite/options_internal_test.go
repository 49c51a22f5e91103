package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestConnectionSettings checks the pragmas each pool runs with: they are per connection, so only the
// package can see them.
func TestConnectionSettings(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		opts     Options
		sync     int
		busy     int
		readOnly bool
	}{
		{Options{}, 1, 5000, true},
		{Options{Durable: true, BusyTimeout: 250 * time.Millisecond}, 2, 250, true},
	} {
		db, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		pragma := func(pool *sql.DB, name string) (v any) {
			t.Helper()
			if err := pool.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		for _, check := range []struct {
			pool *sql.DB
			name string
			want any
		}{
			{db.write, "journal_mode", "wal"},
			{db.write, "synchronous", int64(tc.sync)},
			{db.write, "foreign_keys", int64(1)},
			{db.write, "busy_timeout", int64(tc.busy)},
			{db.write, "query_only", int64(0)},
			{db.read, "journal_mode", "wal"},
			{db.read, "foreign_keys", int64(1)},
			{db.read, "busy_timeout", int64(tc.busy)},
			{db.read, "query_only", int64(1)},
		} {
			if got := pragma(check.pool, check.name); got != check.want {
				t.Errorf("%+v: %s = %v (%T), want %v", tc.opts, check.name, got, got, check.want)
			}
		}
		if got := db.write.Stats().MaxOpenConnections; got != 1 {
			t.Errorf("writer pool allows %d connections, want 1", got)
		}
		if _, err := db.read.ExecContext(ctx, `DELETE FROM users`); err == nil {
			t.Error("the read pool accepted a write")
		}
		db.Close()
	}
}
