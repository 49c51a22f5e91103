// Package pgtest gives tests a PostgreSQL database of their own on the server of $ASPGATE_TEST_POSTGRES
// (a DSN whose user may create databases: `make test` starts a throwaway cluster and sets it). Without it
// the test skips, saying so — unless $ASPGATE_REQUIRE_POSTGRES is set, as make test sets it.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Server returns the server's DSN, or skips (fails, when PostgreSQL is required) the test.
func Server(t testing.TB) string {
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

var seq atomic.Int64

// Database creates an empty database, dropped when the test ends, and returns its DSN. prefix names it
// (with the process and a counter), so that packages testing at once never collide.
func Database(t testing.TB, prefix string) string {
	t.Helper()
	server := Server(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("%s_%d_%d", strings.ToLower(prefix), os.Getpid(), seq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), server); err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
