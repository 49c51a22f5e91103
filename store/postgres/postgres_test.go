package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"aspgate/account"
	"aspgate/store/postgres"
	"aspgate/store/storetest"
)

// The tests run against the PostgreSQL server of $ASPGATE_TEST_POSTGRES (a DSN whose user may create
// databases: `make test` starts a throwaway cluster and sets it); each test gets a database of its own.
// Without it they skip, saying so — unless $ASPGATE_REQUIRE_POSTGRES is set, as make test sets it.
func serverDSN(t *testing.T) string {
	dsn := os.Getenv("ASPGATE_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("ASPGATE_REQUIRE_POSTGRES") != "" {
			t.Fatal("ASPGATE_REQUIRE_POSTGRES is set but ASPGATE_TEST_POSTGRES is not")
		}
		t.Skip("no PostgreSQL: set ASPGATE_TEST_POSTGRES to a DSN that may create databases (make test starts a cluster)")
	}
	return dsn
}

var dbSeq atomic.Int64

// freshDatabase creates an empty database and returns its DSN; it is dropped when the test ends.
func freshDatabase(t *testing.T) string {
	t.Helper()
	server := serverDSN(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("aspgate_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), server)
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
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

func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{Now: func() time.Time { return storetest.T0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSuite runs the engines' behavioural suite on PostgreSQL: a second handle is a second pool on the
// same database, as a second gateway would have.
func TestSuite(t *testing.T) {
	dsns := map[storetest.Engine]string{}
	storetest.Run(t, storetest.Harness{
		Fresh: func(t *testing.T) storetest.Engine {
			dsn := freshDatabase(t)
			db := open(t, dsn)
			dsns[db] = dsn
			return db
		},
		Another: func(t *testing.T, e storetest.Engine) storetest.Engine { return open(t, dsns[e]) },
	})
}

var _ storetest.Engine = (*postgres.DB)(nil)

// TestPruneLimits: spent counters and stale sign-in guards go, live ones stay.
func TestPruneLimits(t *testing.T) {
	ctx := context.Background()
	db := open(t, freshDatabase(t))
	limit := []account.Limit{{Name: "n", Key: "to:1", Window: time.Minute, Max: 1}}
	if refused, err := db.TakeSend(ctx, storetest.T0, limit); refused != nil || err != nil {
		t.Fatal(refused, err)
	}
	if _, err := db.SignInAttempt(ctx, "ivan|203.0.113.1", storetest.T0, account.SignInRule{Attempts: 5, Period: time.Minute, Block: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PruneLimits(ctx, storetest.T0.Add(30*time.Second), 100); err != nil || n != 0 {
		t.Fatalf("pruned %d live rows: %v", n, err)
	}
	if n, err := db.PruneLimits(ctx, storetest.T0.Add(2*time.Minute), 100); err != nil || n != 2 {
		t.Fatalf("pruned %d of 2 spent rows: %v", n, err)
	}
}
