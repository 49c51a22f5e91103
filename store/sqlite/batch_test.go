package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestGroupCommit: writes queued while the writer is busy commit together, each in its own savepoint: a
// failing write, a panicking one and one whose context ended before it ran leave nothing, and the rest
// are all kept; every write learns its own outcome.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	db := mustOpen(t, path)
	raw := mustRaw(t, path)
	if _, err := raw.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	insert := func(k int) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, 'x')`, k)
			return err
		}
	}
	before := db.Commits()
	// Hold the writer in a write, then queue the others behind it.
	hold, holding := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			close(holding)
			<-hold
			return insert(0)(ctx, tx)
		})
	}()
	<-holding
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	boom := errors.New("boom")
	writes := map[int]func(ctx context.Context, tx *sql.Tx) error{}
	for k := 1; k <= 40; k++ {
		writes[k] = insert(k)
	}
	writes[7] = func(ctx context.Context, tx *sql.Tx) error { // writes, then fails: rolled back alone
		if err := insert(7)(ctx, tx); err != nil {
			return err
		}
		return boom
	}
	writes[8] = func(ctx context.Context, tx *sql.Tx) error { insert(8)(ctx, tx); panic("write 8") }
	writes[9] = insert(0) // the held write's key: the constraint fails this write only
	var wg sync.WaitGroup
	results := make(map[int]error)
	var mu sync.Mutex
	for k, fn := range writes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ctx
			if k == 10 {
				c = cancelled
			}
			err := db.Write(c, fn)
			mu.Lock()
			results[k] = err
			mu.Unlock()
		}()
	}
	// Let them queue, then release the first.
	deadline := time.Now().Add(10 * time.Second)
	for db.Queued() < len(writes)-1 && time.Now().Before(deadline) { // write 10 may give up before queueing
		time.Sleep(time.Millisecond)
	}
	close(hold)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for k, err := range results {
		switch k {
		case 7:
			if !errors.Is(err, boom) {
				t.Errorf("write 7: %v", err)
			}
		case 8:
			if err == nil || err.Error() != "store: panic in a write: write 8" {
				t.Errorf("write 8: %v", err)
			}
		case 9:
			if err == nil {
				t.Error("write 9 (duplicate key) succeeded")
			}
		case 10:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("write 10: %v", err)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", k, err)
			}
		}
	}
	var got []int
	rows, err := raw.Query(`SELECT k FROM t ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k int
		rows.Scan(&k)
		got = append(got, k)
	}
	rows.Close()
	want := []int{0}
	for k := 1; k <= 40; k++ {
		if k < 7 || k > 10 {
			want = append(want, k)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	if n := db.Commits() - before; n > 2 {
		t.Errorf("%d commits for a held write and %d queued behind it, want 2", n, len(writes))
	}
	mustSound(t, db)
}
