package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL side of the end-to-end tests: the server of $ASPGATE_TEST_POSTGRES (make test starts a
// throwaway cluster), a fresh database per server. Without it they skip, unless $ASPGATE_REQUIRE_POSTGRES.
func pgServer(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("ASPGATE_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("ASPGATE_REQUIRE_POSTGRES") != "" {
			t.Fatal("ASPGATE_REQUIRE_POSTGRES is set but ASPGATE_TEST_POSTGRES is not")
		}
		t.Skip("no PostgreSQL: set ASPGATE_TEST_POSTGRES to a DSN that may create databases (make test starts a cluster)")
	}
	return dsn
}

var pgSeq atomic.Int64

// pgDatabase creates an empty database, dropped when the test ends, and returns its DSN.
func pgDatabase(t *testing.T) string {
	t.Helper()
	server := pgServer(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("aspgate_e2e_%d_%d", os.Getpid(), pgSeq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), server); err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(server)
	u.Path = "/" + name
	return u.String()
}

// onPostgres makes the rest of the test's servers and commands use a fresh PostgreSQL database with a key
// file and a dev inbox of their own (the environment the flags default to).
func onPostgres(t *testing.T) string {
	t.Helper()
	dsn := pgDatabase(t)
	dir := t.TempDir()
	t.Setenv(envKeyFile, filepath.Join(dir, "server.key"))
	t.Setenv("ASPGATE_DEV_INBOX", filepath.Join(dir, "inbox.jsonl"))
	return dsn
}

// e2eOnPostgres, while set, makes mustServe serve from PostgreSQL.
var e2eOnPostgres bool

// TestEndToEndOnPostgres runs the end-to-end flows again with the server on PostgreSQL.
func TestEndToEndOnPostgres(t *testing.T) {
	pgServer(t)
	e2eOnPostgres = true
	defer func() { e2eOnPostgres = false }()
	for _, c := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"CodeFlow", TestEndToEndCodeFlow}, {"SendLimit", TestEndToEndSendLimit}, {"ConcurrentCodeUse", TestEndToEndConcurrentCodeUse},
		{"LinkFlow", TestEndToEndLinkFlow}, {"UnknownAccountsLookTheSame", TestEndToEndUnknownAccountsLookTheSame},
		{"Recordings", TestEndToEndRecordings},
		{"ImportLegacyUsers", TestImportLegacyUsers}, {"ImportBadFiles", TestImportBadFiles}, {"ImportHostileFiles", TestImportHostileFiles},
		{"DisabledUserIsUnknown", TestDisabledUserIsUnknown}, {"UserAdministration", TestUserAdministration},
	} {
		t.Run(c.name, c.fn)
	}
}

// TestDSNPasswordStaysHidden: a password in ASPGATE_DB never reaches --help or an error message.
func TestDSNPasswordStaysHidden(t *testing.T) {
	t.Setenv(envDB, "postgres://aspgate:Pg-s3cret-pw@127.0.0.1:1/aspgate?connect_timeout=1")
	t.Setenv(envKeyFile, filepath.Join(t.TempDir(), "k"))
	for _, args := range [][]string{{"serve", "-h"}, {"migrate"}, {"serve", "--addr", "127.0.0.1:0", "--admin-addr", ""}} {
		res := runCLI(t, nil, args...)
		if strings.Contains(res.stdout+res.stderr, "Pg-s3cret-pw") {
			t.Errorf("aspgate %v printed the password:\n%s%s", args, res.stdout, res.stderr)
		}
	}
}
