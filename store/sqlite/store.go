// Package store keeps the account-recovery state in one SQLite file: users, reset codes, change requests,
// API keys, send limits, the outbox and the audit trail. *DB implements account.Store: every method is one
// transaction, which the method owns and hands to lowercase helpers as a *sql.Tx.
//
// Writes go through exactly one connection opened with BEGIN IMMEDIATE, so writers queue in Go instead
// of failing with SQLITE_BUSY, and a transaction that reads before it writes cannot be overtaken; reads use
// a small pool of query-only connections, which WAL lets run beside the writer. Secrets are stored only as
// HMAC-SHA256 computed by the caller; the store never logs anything.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"aspgate/account"
	"aspgate/store/internal/rules"
)

var _ account.Store = (*DB)(nil)

// Options tune how the database is opened. The zero value is the default configuration.
type Options struct {
	// Durable sets synchronous=FULL: a committed transaction survives a power loss. The default, NORMAL,
	// survives a crash of the process (kill -9) but may lose the last transactions on power loss.
	Durable bool
	// BusyTimeout is how long a statement waits for a lock held by another process (default 5s).
	BusyTimeout time.Duration
	// ReadConns is the size of the read pool (default 4).
	ReadConns int
	// Now is the clock of the admin methods and of the migration records (default time.Now).
	Now func() time.Time
	// OnEnqueue, when set, is called after a transaction that queued an outbox message commits, so the
	// dispatcher can send it at once instead of at its next poll. It must not block.
	OnEnqueue func()
	// ObserveTx, when set, is told the duration of every transaction (write: whether it was a write one),
	// from its begin (which for a write includes the wait for the writer) to its commit or rollback.
	ObserveTx func(write bool, d time.Duration)
}

// DB is the SQLite store.
type DB struct {
	write *sql.DB // exactly one connection: BEGIN IMMEDIATE, all writes (through the batcher)
	read  *sql.DB // query-only pool
	ckpt  *sql.DB // one connection for WAL checkpoints
	now   func() time.Time
	path  string

	onEnqueue    func()
	observeTx    func(write bool, d time.Duration)
	batch        *batcher
	checkpointer *checkpointer
	exhausted    rules.Exhausted
}

// Open opens (creating it when missing) the database file at path and applies the pending migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: %q is not a database file path", path)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sync := "NORMAL"
	if opts.Durable {
		sync = "FULL"
	}
	busy := fmt.Sprint(opts.BusyTimeout.Milliseconds())
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}

	// secure_delete: erased content (a delivered code, a used link) is overwritten in the page rather than
	// left in its free space; Scrub then checkpoints the WAL so no older frame keeps it either.
	w, err := sql.Open("sqlite3", dsn(path, url.Values{
		"_journal_mode":  {"WAL"},
		"_synchronous":   {sync},
		"_foreign_keys":  {"on"},
		"_busy_timeout":  {busy},
		"_txlock":        {"immediate"},
		"_secure_delete": {"on"},
		// Prepared statements are kept per connection: every method runs the same few dozen statements,
		// and preparing one costs as much as running it.
		"_stmt_cache_size": {stmtCacheSize},
	}))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer connects first: it switches the file to WAL before any reader opens it.
	if err := pingBusy(ctx, w, opts.BusyTimeout); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// The writer never checkpoints: a COMMIT that crossed the WAL's size would copy it into the database
	// file (and fsync it) while every queued write waits. The checkpointer does it beside the writer.
	if _, err := w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	ck, err := sql.Open("sqlite3", dsn(path, url.Values{"_busy_timeout": {busy}, "_synchronous": {sync}}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	ck.SetConnMaxLifetime(0)

	r, err := sql.Open("sqlite3", dsn(path, url.Values{
		"_foreign_keys":    {"on"},
		"_busy_timeout":    {busy},
		"_query_only":      {"on"},
		"_txlock":          {"deferred"},
		"_stmt_cache_size": {stmtCacheSize},
	}))
	if err != nil {
		w.Close()
		ck.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)

	db := &DB{write: w, read: r, ckpt: ck, now: opts.Now, path: path, onEnqueue: opts.OnEnqueue, observeTx: opts.ObserveTx}
	if db.batch, err = newBatcher(db); err != nil {
		w.Close()
		ck.Close()
		r.Close()
		return nil, err
	}
	db.checkpointer = newCheckpointer(db)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// pingBusy connects, retrying while the file is locked. Switching a new file to WAL needs an exclusive
// lock, and SQLite answers SQLITE_BUSY at once instead of calling the busy handler when several processes
// open the same new file together; so the wait busy_timeout gives every other statement is given here by
// hand.
func pingBusy(ctx context.Context, db *sql.DB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := db.PingContext(ctx)
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// stmtCacheSize is how many prepared statements each connection keeps (more than the package has).
const stmtCacheSize = "128"

// createPrivate creates a missing database file empty with mode 0600 (SQLite would create it 0644 under
// the usual umask, and gives its -wal and -shm files the mode of the database file). An existing file is
// left as it is.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Scrub makes erased secrets unrecoverable from the files: it checkpoints the WAL into the database and
// truncates it, so no older copy of a page that held a code or a link is left in the -wal file
// (secure_delete has zeroed it in the database pages). A checkpoint that readers keep from completing is
// reported as ErrScrubIncomplete, to be retried.
func (db *DB) Scrub(ctx context.Context) error {
	var busy, logFrames, checkpointed int
	if err := db.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed); err != nil {
		return fmt.Errorf("store: scrub: %w", err)
	}
	if busy != 0 {
		return ErrScrubIncomplete
	}
	return nil
}

// ErrScrubIncomplete is a Scrub that readers kept from truncating the WAL.
var ErrScrubIncomplete = errors.New("store: scrub: the WAL is still in use by readers")

// dsn builds a file: URI for path, escaping the characters a URI gives meaning to, so any file name works.
func dsn(path string, params url.Values) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if strings.HasPrefix(p, "//") {
		p = "/." + p // keep a leading "//" from reading as an authority
	}
	return "file:" + p + "?" + params.Encode()
}

// DispatchLockPath is the file lock a dispatcher of this database takes (delivery.Lock): SQLite has one
// writer, and one dispatcher per database file.
func (db *DB) DispatchLockPath() string { return db.path + ".dispatch.lock" }

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close closes the read pool and then the writer, which checkpoints the WAL.
func (db *DB) Close() error {
	db.batch.close()
	db.checkpointer.close()
	err1 := errors.Join(db.read.Close(), db.ckpt.Close())
	_, _ = db.write.Exec("PRAGMA optimize")
	err2 := db.write.Close()
	return errors.Join(err1, err2)
}

// IntegrityCheck runs PRAGMA integrity_check and PRAGMA foreign_key_check and returns an error that
// lists their findings when the database is not sound.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.write.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("store: integrity_check: %w", err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	fk, err := db.write.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("store: foreign_key_check: %w", err)
	}
	for fk.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := fk.Scan(&table, &rowid, &parent, &fkid); err != nil {
			fk.Close()
			return err
		}
		problems = append(problems, fmt.Sprintf("%s row %d: missing %s", table, rowid.Int64, parent))
	}
	if err := errors.Join(fk.Err(), fk.Close()); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("store: database is not sound: %s", strings.Join(problems, "; "))
	}
	return nil
}

// inWrite runs fn as one write transaction (see batch.go: it may share its SQLite transaction with other
// writes, each in its own savepoint) and keeps its writes when it returns nil. fn must use the context it
// is given, which carries ctx's values but is never cancelled: cancelling a statement would interrupt
// the whole shared transaction. ctx is honoured until fn starts.
func (db *DB) inWrite(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return db.batch.submit(ctx, func(ctx context.Context, tx *sql.Tx) (bool, error) {
		if err := fn(ctx, tx); err != nil {
			return false, err
		}
		return true, nil
	})
}

func (db *DB) timeTx(write bool, start time.Time) {
	if db.observeTx != nil {
		db.observeTx(write, time.Since(start))
	}
}

// inWriteRollback is inWrite for a transaction that may decide to keep nothing: fn returns false to roll
// it back (without an error).
func (db *DB) inWriteRollback(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) (bool, error)) error {
	return db.batch.submit(ctx, fn)
}

// execCount runs one write statement in its own transaction and says how many rows it changed; what
// names it in the error.
func (db *DB) execCount(ctx context.Context, what, q string, args ...any) (int, error) {
	var n int64
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", what, err)
	}
	return int(n), nil
}

// reader is what a read runs its statement on: the query-only pool.
type reader interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inRead runs fn, which runs exactly one statement, on the query-only pool. SQLite gives a statement a
// consistent snapshot of its own, so no explicit transaction is opened (its BEGIN and ROLLBACK would cost
// as much as the statement); a read that needs two statements to agree must join them into one.
func (db *DB) inRead(ctx context.Context, fn func(q reader) error) error {
	defer db.timeTx(false, time.Now())
	return fn(db.read)
}

// conflictNames are the unique columns in the domain's words: a constraint failure is reported as an
// *account.ConflictError naming the record and the field, never SQLite's table and column names.
var conflictNames = map[string][2]string{
	"users.id": {"user", "id"}, "users.uid": {"user", "GUID"}, "users.username": {"user", "user name"},
	"users.email": {"user", "e-mail"}, "users.phone": {"user", "phone"},
	"api_keys.mac": {"api key", "key"}, "api_keys.app": {"api key", "app"}, "api_keys.name": {"api key", "name"},
	"operators.id": {"operator", "id"}, "api_tokens.mac": {"token", "value"},
	"change_requests.mac": {"change request", "id"},
}

// conflict turns a SQLite UNIQUE or PRIMARY KEY violation into an *account.ConflictError and passes other
// errors through.
func conflict(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrConstraint ||
		(se.ExtendedCode != sqlite3.ErrConstraintUnique && se.ExtendedCode != sqlite3.ErrConstraintPrimaryKey) {
		return err
	}
	// "UNIQUE constraint failed: users.email" or "... failed: api_keys.app, api_keys.name"
	msg := se.Error()
	ce := &account.ConflictError{Record: "record"}
	if i := strings.Index(msg, "failed: "); i >= 0 {
		for _, tc := range strings.Split(msg[i+len("failed: "):], ", ") {
			if n, ok := conflictNames[tc]; ok {
				if n[1] == "app" {
					continue // an api key's name is unique per app: say "name"
				}
				ce.Record = n[0]
				ce.Fields = append(ce.Fields, n[1])
			}
		}
	}
	if len(ce.Fields) == 0 {
		ce.Fields = []string{"key"}
	}
	return ce
}

// ms is a time as stored: Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS is a stored time as a UTC time.Time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS stores a zero time as NULL.
func nullMS(t time.Time) sql.NullInt64 { return sql.NullInt64{Int64: ms(t), Valid: !t.IsZero()} }

// fromNullMS is a stored time that may be NULL (the zero time).
func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// nullString stores "" as NULL.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// optString stores a nil pointer as NULL.
func optString(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

func optInt32(p *int32) sql.NullInt32 {
	if p == nil {
		return sql.NullInt32{}
	}
	return sql.NullInt32{Int32: *p, Valid: true}
}

func optInt64(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
