package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. Every write transaction of the store goes through one batcher goroutine, which runs the
// writes queued at that moment in a single SQLite transaction, each inside its own SAVEPOINT: a write that
// fails (or decides to keep nothing) is rolled back to its savepoint alone, and the others commit together.
// The writes are serialized exactly as they would be one transaction each (each sees the ones before it);
// what is shared is the cost of BEGIN and COMMIT, the WAL frames of the pages they touch, and with
// Options.Durable the fsync. Under load that is most of a write's cost; alone, a write is a batch of one.
//
// A write reports its outcome only once the batch is committed, so no caller learns of a result that a
// failed COMMIT could still undo.

// maxBatch bounds a batch, so one COMMIT never waits for an unbounded queue.
const maxBatch = 64

// write is one queued write transaction.
type write struct {
	ctx   context.Context
	fn    func(ctx context.Context, tx *sql.Tx) (bool, error) // false: keep nothing
	done  chan error
	start time.Time
	quiet bool // not reported to Options.ObserveTx (the store's own maintenance)
}

// batcher owns the writer connection's transactions.
type batcher struct {
	db    *DB
	queue chan *write
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	// commits counts the SQLite transactions committed (for tests: writes per commit).
	commits atomic.Int64
	// The savepoint statements, prepared once: sqlite3_exec would compile them for every write.
	savepoint, rollbackTo, release *sql.Stmt
}

var errClosed = errors.New("store: closed")

func newBatcher(db *DB) (*batcher, error) {
	b := &batcher{db: db, queue: make(chan *write, 4*maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	for _, s := range []struct {
		stmt **sql.Stmt
		sql  string
	}{{&b.savepoint, "SAVEPOINT w"}, {&b.rollbackTo, "ROLLBACK TO w"}, {&b.release, "RELEASE w"}} {
		st, err := db.write.Prepare(s.sql)
		if err != nil {
			return nil, fmt.Errorf("store: prepare %s: %w", s.sql, err)
		}
		*s.stmt = st
	}
	go b.run()
	return b, nil
}

// close stops the batcher after the writes already queued.
func (b *batcher) close() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	for _, st := range []*sql.Stmt{b.savepoint, b.rollbackTo, b.release} {
		_ = st.Close()
	}
}

// submit queues fn and waits for its batch to commit.
func (b *batcher) submit(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) (bool, error)) error {
	return b.submitWrite(&write{ctx: ctx, fn: fn, done: make(chan error, 1), start: time.Now()})
}

func (b *batcher) submitWrite(w *write) error {
	ctx := w.ctx
	select {
	case b.queue <- w:
	case <-b.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the write is waited for even if ctx ends: it may be in a batch being committed.
	return <-w.done
}

func (b *batcher) run() {
	defer close(b.done)
	batch := make([]*write, 0, maxBatch)
	for {
		select {
		case w := <-b.queue:
			batch = append(batch[:0], w)
		case <-b.stop:
			// Drain what was queued before close.
			for {
				select {
				case w := <-b.queue:
					b.commit([]*write{w})
				default:
					return
				}
			}
		}
		// Let the goroutines that are about to write queue first: on a busy server (and always on one CPU)
		// that turns a batch of one into a batch of many, for one yield.
		runtime.Gosched()
	fill:
		for len(batch) < maxBatch {
			select {
			case w := <-b.queue:
				batch = append(batch, w)
			default:
				break fill
			}
		}
		b.commit(batch)
	}
}

// commit runs a batch in one transaction and tells each write its outcome.
func (b *batcher) commit(batch []*write) {
	errs := make([]error, len(batch))
	finish := func(commitErr error) {
		for i, w := range batch {
			err := errs[i]
			if err == nil && commitErr != nil {
				err = commitErr
			}
			if !w.quiet {
				b.db.timeTx(true, w.start)
			}
			w.done <- err
		}
	}
	// The batch's context: one that never ends, since the transaction belongs to every write in it; each
	// write's own context is honoured before it runs.
	ctx := context.Background()
	tx, err := b.db.write.BeginTx(ctx, nil)
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("store: begin: %w", err)
		}
		finish(nil)
		return
	}
	savepoint, rollbackTo, release := tx.StmtContext(ctx, b.savepoint), tx.StmtContext(ctx, b.rollbackTo), tx.StmtContext(ctx, b.release)
	kept := 0
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := savepoint.ExecContext(ctx); err != nil {
			errs[i] = err
			continue
		}
		keep, err := runWrite(w, tx)
		if err != nil || !keep {
			errs[i] = err
			if _, rerr := rollbackTo.ExecContext(ctx); rerr != nil {
				// The transaction is in an unknown state: give every write that error.
				_ = tx.Rollback()
				for j := range errs {
					if errs[j] == nil {
						errs[j] = fmt.Errorf("store: rollback to savepoint: %w", rerr)
					}
				}
				finish(nil)
				return
			}
		} else {
			kept++
		}
		if _, err := release.ExecContext(ctx); err != nil && errs[i] == nil {
			errs[i] = err
		}
	}
	if kept == 0 {
		_ = tx.Rollback()
		finish(nil)
		return
	}
	if err := tx.Commit(); err != nil {
		finish(fmt.Errorf("store: commit: %w", err))
		return
	}
	b.commits.Add(1)
	finish(nil)
}

// runWrite runs one write's function, turning a panic into its error so the batch goes on.
func runWrite(w *write, tx *sql.Tx) (keep bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			keep, err = false, fmt.Errorf("store: panic in a write: %v", r)
		}
	}()
	return w.fn(context.WithoutCancel(w.ctx), tx)
}

// checkpointInterval is how often the checkpointer copies the WAL into the database file. The WAL restarts
// from its beginning once a checkpoint has copied all of it, so between two it grows by what was written
// in checkpointInterval.
const checkpointInterval = 250 * time.Millisecond

// pruneEvery and pruneBatch pace the pruning of stale limit counters and sign-in guards: up to 2,000 rows a
// second, which keeps the tables at the size of their live keys under any load a single writer takes.
const (
	pruneEvery = time.Second
	pruneBatch = 2000
)

// checkpointer runs PASSIVE checkpoints on its own connection: they copy what no reader still needs and
// never wait for the writer, which goes on meanwhile. Every pruneEvery it also prunes the limit counters
// and sign-in guards that say nothing any more, a batch at a time, rather than on every request's way.
type checkpointer struct {
	db   *DB
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newCheckpointer(db *DB) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		var lastPrune time.Time
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				_, _ = c.db.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)")
				if now := c.db.now(); now.Sub(lastPrune) >= pruneEvery {
					lastPrune = now
					c.prune(now)
				}
			}
		}
	}()
	return c
}

// prune removes stale counters and guards when there are any (looked for on the checkpointer's own
// connection), as a quiet write: the store's housekeeping is not a transaction of the gateway's traffic.
func (c *checkpointer) prune(now time.Time) {
	var stale bool
	if err := c.db.ckpt.QueryRow(`SELECT EXISTS (SELECT 1 FROM rate_limits WHERE tat < ?1)
		OR EXISTS (SELECT 1 FROM signin_guard WHERE expires_at < ?1)`, ms(now)).Scan(&stale); err != nil || !stale {
		return
	}
	_ = c.db.batch.submitWrite(&write{ctx: context.Background(), done: make(chan error, 1), start: time.Now(), quiet: true,
		fn: func(ctx context.Context, tx *sql.Tx) (bool, error) {
			_, err := pruneLimits(ctx, tx, now, pruneBatch)
			return err == nil, err
		}})
}

func (c *checkpointer) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}
