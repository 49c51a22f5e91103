package postgres_test

import (
	"context"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/store/postgres"
	"aspgate/store/postgres/pgtest"
	"aspgate/store/storetest"
)

func freshDatabase(t *testing.T) string { return pgtest.Database(t, "aspgate_test") }

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
