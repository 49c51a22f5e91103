package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"time"

	"aspgate/account"
	"aspgate/delivery"
	"aspgate/store/postgres"
	"aspgate/store/sqlite"
)

// engine is what the commands need of a storage engine: SQLite (a file path in --db) or PostgreSQL (a
// postgres:// DSN). The commands depend on this, never on an engine's type.
type engine interface {
	account.Store
	account.TwoFactorStore
	account.AdminStore
	delivery.Outbox
	IssueAPIToken(ctx context.Context, t account.NewAPIToken) error
	APITokenByMAC(ctx context.Context, mac []byte) (*account.APIToken, error)
	RevokeAPIToken(ctx context.Context, mac []byte, now time.Time) error
	RevokeUserAPITokens(ctx context.Context, userID int64, now time.Time) (int, error)
	ListOutbox(ctx context.Context, limit int, states ...string) ([]account.OutboxRow, error)
	OutboxBacklog(ctx context.Context) (int, time.Time, error)
	Migrations(ctx context.Context) ([]account.Migration, error)
	Ready(ctx context.Context) error
	// DispatchLockPath is the lock a dispatcher takes ("" for none: the engine's claims keep several apart).
	DispatchLockPath() string
	Close() error
}

var (
	_ engine = (*sqlite.DB)(nil)
	_ engine = (*postgres.DB)(nil)
)

// engineFlags are the PostgreSQL pool's settings (SQLite has its own: --durable, --busy-timeout).
type engineFlags struct {
	maxConns         int
	connectTimeout   time.Duration
	statementTimeout time.Duration
}

func (e *engineFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&e.maxConns, "db-max-conns", envInt("ASPGATE_DB_MAX_CONNS", 16), "PostgreSQL: connections in the pool (env ASPGATE_DB_MAX_CONNS)")
	fs.DurationVar(&e.connectTimeout, "db-connect-timeout", envDuration("ASPGATE_DB_CONNECT_TIMEOUT", 10*time.Second),
		"PostgreSQL: longest wait for a new connection (env ASPGATE_DB_CONNECT_TIMEOUT)")
	fs.DurationVar(&e.statementTimeout, "db-statement-timeout", envDuration("ASPGATE_DB_STATEMENT_TIMEOUT", 10*time.Second),
		"PostgreSQL: statement_timeout and lock_timeout of every statement (env ASPGATE_DB_STATEMENT_TIMEOUT)")
}

func (e *engineFlags) check() error {
	if e.maxConns < 1 || e.connectTimeout <= 0 || e.statementTimeout <= 0 {
		return errors.New("--db-max-conns, --db-connect-timeout and --db-statement-timeout must be positive")
	}
	return nil
}

// engineOptions are what an engine is opened with.
type engineOptions struct {
	sqlite    sqlite.Options
	postgres  engineFlags
	onEnqueue func()
}

// openEngine opens the database --db names: a PostgreSQL DSN, or a SQLite file (created and migrated
// when missing). With PostgreSQL the server key must be the one every other gateway on the database holds.
func openEngine(ctx context.Context, db string, key []byte, o engineOptions) (engine, error) {
	if !postgres.IsDSN(db) {
		opts := o.sqlite
		opts.OnEnqueue = o.onEnqueue
		return sqlite.Open(ctx, db, opts)
	}
	pg, err := postgres.Open(ctx, db, postgres.Options{MaxConns: int32(max(o.postgres.maxConns, 1)), ConnectTimeout: o.postgres.connectTimeout,
		StatementTimeout: o.postgres.statementTimeout, OnEnqueue: o.onEnqueue})
	if err != nil {
		return nil, err
	}
	if key != nil {
		if err := pg.CheckServerKey(ctx, keyFingerprint(key)); err != nil {
			pg.Close()
			return nil, err
		}
	}
	return pg, nil
}

// keyFingerprint identifies a server key without revealing it.
func keyFingerprint(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("aspgate server key fingerprint"))
	return m.Sum(nil)
}

// engineName is the database as the log names it: the file, or the DSN without its password.
func engineName(e engine, db string) string {
	if pg, ok := e.(*postgres.DB); ok {
		return pg.Name()
	}
	return db
}

const defaultConnectTimeout = 10 * time.Second

var errKeyFileForDSN = fmt.Errorf("a PostgreSQL --db needs --hmac-key-file (or %s): every gateway on one database must hold the same key, and there is no file beside a database that is not a file", envKeyFile)
