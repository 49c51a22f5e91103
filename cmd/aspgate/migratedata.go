package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"aspgate/store/postgres"
	"aspgate/store/sqlite"
)

// runMigrateData copies a SQLite database into an empty PostgreSQL one: every user with their hashes and
// history, codes and change requests still pending, the outbox, tokens, limits and audit, as they are, in
// one transaction. The HMAC key is not in either database: the gateways on PostgreSQL must hold the
// SQLite database's key file, which the copy records as the database's key (a fingerprint).
func runMigrateData(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("aspgate migrate-data", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the SQLite database `file` to copy (stop the gateways writing to it first)")
	to := fs.String("to", "", "the PostgreSQL `DSN` to copy into: an empty database (its schema is created)")
	keyFile := fs.String("hmac-key-file", os.Getenv(envKeyFile), "the server key `file` of the SQLite database (default: --from + \".key\")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitVerifyUsage
	}
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "aspgate migrate-data:", err)
		return code
	}
	switch {
	case fs.NArg() != 0:
		return fail(exitVerifyUsage, fmt.Errorf("unexpected arguments %s", strings.Join(fs.Args(), " ")))
	case *from == "" || postgres.IsDSN(*from):
		return fail(exitVerifyUsage, errors.New("--from must be a SQLite database file"))
	case !postgres.IsDSN(*to):
		return fail(exitVerifyUsage, errors.New("--to must be a postgres:// DSN"))
	}
	if _, err := os.Stat(*from); err != nil {
		return fail(exitVerifyUsage, err)
	}
	key, err := readKey(keyFilePath(*from, *keyFile))
	if err != nil {
		return fail(1, fmt.Errorf("the SQLite database's key: %w", err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, err := sqlite.Open(ctx, *from, sqlite.Options{})
	if err != nil {
		return fail(1, err)
	}
	defer src.Close()
	dst, err := openEngine(ctx, *to, key, engineOptions{postgres: engineFlags{maxConns: 2, connectTimeout: defaultConnectTimeout, statementTimeout: 0}})
	if err != nil {
		return fail(1, err)
	}
	defer dst.Close()
	counts, err := dst.(*postgres.DB).Load(ctx, func(put func(string, []string, []any) error) error {
		return src.Dump(ctx, put)
	})
	if err != nil {
		return fail(1, err)
	}
	var b strings.Builder
	total := 0
	for _, t := range sqlite.DumpTables {
		fmt.Fprintf(&b, "%-22s %8d\n", t, counts[t])
		total += counts[t]
	}
	fmt.Fprintf(&b, "%d rows copied from %s to %s; give every gateway the key file %s\n", total, *from, dst.(*postgres.DB).Name(),
		keyFilePath(*from, *keyFile))
	io.WriteString(stdout, b.String())
	return exitOK
}
