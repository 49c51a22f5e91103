// Package postgres is the PostgreSQL storage engine: the same domain interfaces as the SQLite store, for
// several gateways on one database. Correct across processes by construction: codes, links and counters
// change in guarded single statements (UPDATE … WHERE <guard> RETURNING, INSERT … ON CONFLICT … RETURNING),
// which READ COMMITTED makes race-free; the outbox is claimed with FOR UPDATE SKIP LOCKED; serialization
// failures and deadlocks (40001, 40P01) are retried with the whole transaction recomputed; every statement
// has a timeout. Storage errors are translated here: nothing outside reads PostgreSQL's messages.
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"aspgate/account"
	"aspgate/store/internal/rules"
)

// Options are the engine's settings.
type Options struct {
	MaxConns         int32         // pool size (default 16)
	ConnectTimeout   time.Duration // default 10s
	StatementTimeout time.Duration // default 10s: no statement holds a connection longer
	Now              func() time.Time
	// OnEnqueue, when set, is called after a transaction that queued an outbox message commits.
	OnEnqueue func()
	// ClaimLease is how long a dispatcher's claim on a message stands before another dispatcher may take
	// it back (ReleaseClaims): longer than a delivery attempt can take (default 10 minutes).
	ClaimLease time.Duration
}

// DB is a PostgreSQL store.
type DB struct {
	pool      *pgxpool.Pool
	now       func() time.Time
	onEnqueue func()
	lease     time.Duration
	exhausted rules.Exhausted
	stop      context.CancelFunc
	done      chan struct{}
}

// IsDSN tells whether a --db value names a PostgreSQL database rather than a SQLite file.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Open connects, checks the server answers, and applies the migrations not yet applied.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = 16
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ClaimLease <= 0 {
		opts.ClaimLease = 10 * time.Minute
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %s", redactDSN(err.Error()))
	}
	cfg.MaxConns = opts.MaxConns
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	cfg.ConnConfig.RuntimeParams["application_name"] = "aspgate"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	db := &DB{pool: pool, now: opts.Now, onEnqueue: opts.OnEnqueue, lease: opts.ClaimLease}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	mctx, stop := context.WithCancel(context.Background())
	db.stop, db.done = stop, make(chan struct{})
	go db.maintain(mctx)
	return db, nil
}

// maintain deletes spent limit counters and stale sign-in guards once a minute, a batch at a time (on
// SQLite the writer does it between batches), so that the tables hold live keys only.
func (db *DB) maintain(ctx context.Context) {
	defer close(db.done)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for range 100 {
				n, err := db.PruneLimits(ctx, db.now(), 1000)
				if err != nil || n < 1000 {
					break
				}
			}
		}
	}
}

// redactDSN keeps a password out of an error message.
func redactDSN(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.IndexByte(s[i+3:], '@'); j >= 0 {
			return s[:i+3] + "…" + s[i+3+j:]
		}
	}
	return s
}

// Close closes the pool.
func (db *DB) Close() error {
	db.stop()
	<-db.done
	db.pool.Close()
	return nil
}

// Ready reports whether the database answers and is at this program's schema.
func (db *DB) Ready(ctx context.Context) error {
	var v int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("store: postgres: %w", err)
	}
	if want := len(migrationNames()); v != want {
		return fmt.Errorf("store: postgres: schema version %d, this program's is %d", v, want)
	}
	return nil
}

func migrationNames() []string {
	names, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// migrate applies the embedded migrations in order, each in its own transaction with its record, under
// an advisory lock so that gateways starting together migrate once.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: postgres: %w", err)
	}
	defer conn.Release()
	const lockKey = 0x61737067617465 // "aspgate"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lockKey)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", err)
	}
	names := migrationNames()
	if have > len(names) {
		return fmt.Errorf("store: postgres: the database is at schema version %d, newer than this program's %d", have, len(names))
	}
	for i := have; i < len(names); i++ {
		body, err := migrationFiles.ReadFile(names[i])
		if err != nil {
			return err
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("store: postgres: migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("store: postgres: migration %s: %w", names[i], err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(names[i], "migrations/"), ".sql")
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, $3)`, i+1, name, ms(db.now())); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("store: postgres: migrate: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("store: postgres: migrate: %w", err)
		}
	}
	return nil
}

// Retries of a transaction that PostgreSQL aborted for a serialization failure or a deadlock.
const maxRetries = 8

// retryable tells a serialization failure (40001) or a deadlock (40P01), or a second live code or change
// request of one user: two transactions issuing one at once both superseded the old one (neither saw the
// other's new row, READ COMMITTED reads the snapshot of the statement), and the unique "live" index
// refused the second insert. The transaction is run again, everything in it recomputed: it then
// supersedes the first one's row.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01":
		return true
	case "23505":
		return liveIndexes[pe.ConstraintName]
	}
	return false
}

var liveIndexes = map[string]bool{"codes_live": true, "decoy_codes_live": true, "change_requests_live": true, "decoy_change_requests_live": true}

// inTx runs fn in a READ COMMITTED transaction, again from the start after a retryable failure (with a
// short random wait), and translates what is left.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := range maxRetries {
		err = pgx.BeginFunc(ctx, db.pool, fn)
		if !retryable(err) {
			return err
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(5<<attempt)))
		select {
		case <-time.After(time.Duration(n.Int64()+1) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("store: postgres: gave up after %d retries: %w", maxRetries, err)
}

func (db *DB) enqueued() {
	if db.onEnqueue != nil {
		db.onEnqueue()
	}
}

// conflictNames are the unique constraints in the domain's words.
var conflictNames = map[string][2]string{
	"users_pkey": {"user", "id"}, "users_uid_key": {"user", "GUID"}, "users_username": {"user", "user name"},
	"users_email": {"user", "e-mail"}, "users_phone_key": {"user", "phone"},
	"api_keys_mac_key": {"api key", "key"}, "api_keys_active_name": {"api key", "name"},
	"operators_pkey": {"operator", "id"}, "api_tokens_mac_key": {"token", "value"},
	"change_requests_mac_key": {"change request", "id"},
}

// conflict turns a unique violation (23505) into an *account.ConflictError and passes other errors on.
func conflict(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		return err
	}
	if n, ok := conflictNames[pe.ConstraintName]; ok {
		return &account.ConflictError{Record: n[0], Fields: []string{n[1]}}
	}
	return &account.ConflictError{Record: "record", Fields: []string{"key"}}
}

func ms(t time.Time) int64     { return t.UnixMilli() }
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
func nullMS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := ms(t)
	return &v
}
func fromNullMS(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMS(*v)
}
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Migrations lists the applied migrations, oldest first.
func (db *DB) Migrations(ctx context.Context) ([]account.Migration, error) {
	rows, err := db.pool.Query(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (account.Migration, error) {
		var m account.Migration
		var at int64
		err := r.Scan(&m.Version, &m.Name, &at)
		m.AppliedAt = fromMS(at)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return out, nil
}

// CheckServerKey makes sure every gateway on this database holds the same HMAC key: the first one to
// start records a fingerprint of its key (an HMAC of a fixed text, which reveals nothing of the key); a
// gateway whose key gives another fingerprint is refused before it issues a code no other gateway could
// check.
func (db *DB) CheckServerKey(ctx context.Context, fingerprint []byte) error {
	if _, err := db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS server_key (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint BYTEA NOT NULL)`); err != nil {
		return fmt.Errorf("store: server key: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO server_key VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, fingerprint); err != nil {
		return fmt.Errorf("store: server key: %w", err)
	}
	var stored []byte
	if err := db.pool.QueryRow(ctx, `SELECT fingerprint FROM server_key WHERE id = 1`).Scan(&stored); err != nil {
		return fmt.Errorf("store: server key: %w", err)
	}
	if string(stored) != string(fingerprint) {
		return errors.New("store: this HMAC key is not the one the other gateways on this database use: give every gateway the same --hmac-key-file")
	}
	return nil
}

// Scrub has nothing to do here: PostgreSQL reuses the space of erased rows through VACUUM, which the
// server runs; secrets are erased in place by the same UPDATEs as on SQLite.
func (db *DB) Scrub(ctx context.Context) error { return nil }

// DispatchLockPath is "": dispatchers of a PostgreSQL database claim with FOR UPDATE SKIP LOCKED and run
// side by side, one per gateway, without a lock.
func (db *DB) DispatchLockPath() string { return "" }

// Name describes the database for the log, without a password.
func (db *DB) Name() string {
	c := db.pool.Config().ConnConfig
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}
