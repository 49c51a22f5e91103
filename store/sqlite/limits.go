package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"aspgate/account"
	"aspgate/store/internal/rules"
)

// The GCRA counters (table rate_limits, migration 0004): one row per (key, window) holding the theoretical
// arrival time tat. A limit of Max events per Window admits an event at now when tat - now <= tolerance
// (Window - Window/Max), and the event moves tat to max(tat, now) + interval (Window/Max). A check of n
// limits is one statement that reaches each row through the primary key, so it costs the same whatever
// volume the keys have counted; limiter_test.go pins the plans.

// limitRead is the read of n counters: ?1, ?2 the first key and window, and so on. An OR of primary-key
// equalities, which SQLite answers with one primary-key search per term (a row-value IN would scan).
func limitRead(n int) string {
	return limitSQL.get(n, func() string {
		terms := make([]string, n)
		for i := range terms {
			terms[i] = fmt.Sprintf("(key = ?%d AND window_ms = ?%d)", 2*i+1, 2*i+2)
		}
		return `SELECT key, window_ms, tat FROM rate_limits WHERE ` + strings.Join(terms, " OR ")
	})
}

// limitTake records one event at ?1 against n counters, each only where it fits: the rows are (key,
// window_ms, now + interval), and an existing counter is moved on only when max(tat, now) - now is within
// its tolerance (window - interval). The rows RETURNING gives back are the counters that took the event,
// so two writers (two processes, or two gateways on another database) can never both take the last one.
func limitTake(n int) string {
	return limitSQL.get(-n, func() string {
		return `INSERT INTO rate_limits (key, window_ms, tat) VALUES ` + limitRows(n) + `
			ON CONFLICT (key, window_ms) DO UPDATE SET tat = max(tat, ?1) + (excluded.tat - ?1)
			WHERE max(tat, ?1) - ?1 <= excluded.window_ms - (excluded.tat - ?1)
			RETURNING key, window_ms, tat`
	})
}

// limitCharge records one event at ?1 against n counters whether or not it fits (a failure already made).
func limitCharge(n int) string {
	return limitSQL.get(1000+n, func() string {
		return `INSERT INTO rate_limits (key, window_ms, tat) VALUES ` + limitRows(n) + `
			ON CONFLICT (key, window_ms) DO UPDATE SET tat = max(tat, ?1) + (excluded.tat - ?1)
			RETURNING key, window_ms, tat`
	})
}

func limitRows(n int) string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf("(?%d, ?%d, ?%d)", 3*i+2, 3*i+3, 3*i+4)
	}
	return strings.Join(rows, ", ")
}

// sqlLimitPrune removes counters whose tat has passed (such a row says no more than no row), a batch at a
// time, by the tat index.
const sqlLimitPrune = `DELETE FROM rate_limits WHERE (key, window_ms) IN
	(SELECT key, window_ms FROM rate_limits WHERE tat < ? LIMIT ?)`

// sqlCache keeps the generated statements, one per shape.
type sqlCache struct{ m sync.Map }

var limitSQL sqlCache

func (c *sqlCache) get(k int, build func() string) string {
	if s, ok := c.m.Load(k); ok {
		return s.(string)
	}
	s, _ := c.m.LoadOrStore(k, build())
	return s.(string)
}

// limitArgs are the arguments of limitTake and limitCharge: now, then each limit's key, window and
// now + interval.
func limitArgs(at int64, limits []account.Limit) []any {
	args := make([]any, 0, 1+3*len(limits))
	args = append(args, at)
	for _, l := range limits {
		interval, _ := rules.GCRA(l)
		args = append(args, l.Key, l.Window.Milliseconds(), at+interval)
	}
	return args
}

// TakeSend checks every limit and, when each admits one more event, records it against all of them, in
// one transaction; otherwise it records nothing and returns the first limit that refused. A limit with
// Max <= 0 does not limit. A limit known to be exhausted (rules.Exhausted) refuses from memory, without a
// query; otherwise the write checks every limit in the statement that records the event (limitTake).
func (db *DB) TakeSend(ctx context.Context, now time.Time, limits []account.Limit) (*account.Limit, error) {
	active := rules.Active(limits)
	if len(active) == 0 {
		return nil, nil
	}
	at := ms(now)
	if refused := db.exhausted.First(at, active); refused != nil {
		return refused, nil
	}
	var refused *account.Limit
	var tats map[rules.Key]int64
	err := db.inWriteRollback(ctx, func(ctx context.Context, tx *sql.Tx) (bool, error) {
		var err error
		if tats, err = queryTats(ctx, tx, limitTake(len(active)), limitArgs(at, active)); err != nil {
			return false, err
		}
		for i := range active {
			if _, took := tats[rules.KeyOf(active[i])]; !took {
				refused = &active[i]
				// Read the counter that refused, to know how long it stays exhausted.
				var tat int64
				if err := tx.QueryRowContext(ctx, limitRead(1), refused.Key, refused.Window.Milliseconds()).Scan(new(string), new(int64), &tat); err == nil {
					tats = map[rules.Key]int64{rules.KeyOf(*refused): tat}
				}
				return false, nil // roll back what the other limits took
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: take send: %w", err)
	}
	db.exhausted.Note(at, active, tats)
	return refused, nil
}

// queryTats runs a statement that returns (key, window_ms, tat) rows.
func queryTats(ctx context.Context, tx reader, q string, args []any) (map[rules.Key]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tats := make(map[rules.Key]int64, 4)
	for rows.Next() {
		var k rules.Key
		var tat int64
		if err := rows.Scan(&k.Key, &k.Window, &tat); err != nil {
			return nil, err
		}
		tats[k] = tat
	}
	return tats, rows.Err()
}

// LimitAllows reports whether one more event fits every limit (a limit with Max <= 0 never limits),
// reading only: from memory for a limit known to be exhausted, else from the counters.
func (db *DB) LimitAllows(ctx context.Context, now time.Time, limits []account.Limit) (bool, error) {
	active := rules.Active(limits)
	if len(active) == 0 {
		return true, nil
	}
	at := ms(now)
	if db.exhausted.First(at, active) != nil {
		return false, nil
	}
	var tats map[rules.Key]int64
	err := db.inRead(ctx, func(tx reader) error {
		args := make([]any, 0, 2*len(active))
		for _, l := range active {
			args = append(args, l.Key, l.Window.Milliseconds())
		}
		var err error
		tats, err = queryTats(ctx, tx, limitRead(len(active)), args)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: limits: %w", err)
	}
	db.exhausted.Note(at, active, tats)
	for _, l := range active {
		if tat, ok := tats[rules.KeyOf(l)]; ok {
			if _, tolerance := rules.GCRA(l); tat-at > tolerance {
				return false, nil
			}
		}
	}
	return true, nil
}

// ChargeLimits records one event against every limit, in one transaction.
func (db *DB) ChargeLimits(ctx context.Context, now time.Time, limits []account.Limit) error {
	active := rules.Active(limits)
	if len(active) == 0 {
		return nil
	}
	at := ms(now)
	var tats map[rules.Key]int64
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		tats, err = queryTats(ctx, tx, limitCharge(len(active)), limitArgs(at, active))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: limits: %w", err)
	}
	db.exhausted.Note(at, active, tats)
	return nil
}

// PruneLimits removes up to n counters and sign-in guards that say nothing any more at now (the
// maintenance loop calls it; a counter left a little longer only costs its row), and says how many went.
func (db *DB) PruneLimits(ctx context.Context, now time.Time, n int) (int, error) {
	var pruned int
	err := db.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		pruned, err = pruneLimits(ctx, tx, now, n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune limits: %w", err)
	}
	return pruned, nil
}

func pruneLimits(ctx context.Context, tx *sql.Tx, now time.Time, n int) (int, error) {
	res, err := tx.ExecContext(ctx, sqlLimitPrune, ms(now), n)
	if err != nil {
		return 0, err
	}
	a, _ := res.RowsAffected()
	res, err = tx.ExecContext(ctx, `DELETE FROM signin_guard WHERE key IN
		(SELECT key FROM signin_guard WHERE expires_at < ? LIMIT ?)`, ms(now), n)
	if err != nil {
		return 0, err
	}
	b, _ := res.RowsAffected()
	return int(a + b), nil
}
