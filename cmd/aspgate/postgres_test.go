package main

import (
	"path/filepath"
	"strings"
	"testing"

	"aspgate/store/postgres/pgtest"
)

// The PostgreSQL side of the end-to-end tests: a fresh database per server (pgtest).
func pgServer(t *testing.T) string { return pgtest.Server(t) }

func pgDatabase(t *testing.T) string { return pgtest.Database(t, "aspgate_e2e") }

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
