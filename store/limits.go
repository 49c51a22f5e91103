package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"aspgate/account"
)

// The GCRA counters (table rate_limits, migration 0004): one row per (key, window) holding the theoretical
// arrival time tat. A limit of Max events per Window admits an event at now when tat - now <= tolerance
// (Window - Window/Max), and the event moves tat to max(tat, now) + interval (Window/Max). Every statement
// reaches its row through the primary key (or, for pruning, the tat index), so a check costs the same
// whatever volume the key has counted; limiter_test.go pins the plans.
const (
	// sqlLimitRead reads one counter.
	sqlLimitRead = `SELECT tat FROM rate_limits WHERE key = ? AND window_ms = ?`
	// sqlLimitTake records an event only if it fits, in one statement, so two writers (two processes, or
	// two gateways on another database) cannot both take the last event: no row back means refused.
	sqlLimitTake = `INSERT INTO rate_limits (key, window_ms, tat) VALUES (?1, ?2, ?3 + ?4)
		ON CONFLICT (key, window_ms) DO UPDATE SET tat = max(tat, ?3) + ?4
		WHERE max(tat, ?3) - ?3 <= ?5
		RETURNING tat`
	// sqlLimitCharge records an event whether or not it fits (a failure already made).
	sqlLimitCharge = `INSERT INTO rate_limits (key, window_ms, tat) VALUES (?1, ?2, ?3 + ?4)
		ON CONFLICT (key, window_ms) DO UPDATE SET tat = max(tat, ?3) + ?4`
	// sqlLimitPrune removes a few counters whose tat has passed: such a row says no more than no row.
	sqlLimitPrune = `DELETE FROM rate_limits WHERE (key, window_ms) IN
		(SELECT key, window_ms FROM rate_limits WHERE tat < ? LIMIT ?)`
)

// gcra returns a limit's emission interval and tolerance in milliseconds.
func gcra(l account.Limit) (interval, tolerance int64) {
	w := l.Window.Milliseconds()
	interval = max(w/int64(l.Max), 1)
	return interval, w - interval
}

// activeLimits drops the limits that do not limit (Max <= 0).
func activeLimits(limits []account.Limit) []account.Limit {
	active := limits[:0:0]
	for _, l := range limits {
		if l.Max > 0 {
			active = append(active, l)
		}
	}
	return active
}

// TakeSend checks every limit and, when each admits one more event, records it against all of them, in
// one transaction; otherwise it records nothing and returns the first limit that refused. A limit with
// Max <= 0 does not limit. A refusal is first looked for by a read, which does not wait for the writer;
// the write then re-checks each limit in its own conditional UPSERT (sqlLimitTake).
func (db *DB) TakeSend(ctx context.Context, now time.Time, limits []account.Limit) (*account.Limit, error) {
	active := activeLimits(limits)
	if len(active) == 0 {
		return nil, nil
	}
	if refused, err := db.firstRefusal(ctx, now, active); err != nil || refused != nil {
		return refused, err
	}
	at := ms(now)
	var refused *account.Limit
	err := db.inWriteRollback(ctx, func(tx *sql.Tx) (bool, error) {
		for i := range active {
			l := &active[i]
			interval, tolerance := gcra(*l)
			var tat int64
			err := tx.QueryRowContext(ctx, sqlLimitTake, l.Key, l.Window.Milliseconds(), at, interval, tolerance).Scan(&tat)
			if errors.Is(err, sql.ErrNoRows) {
				refused = l
				return false, nil // roll back what the other limits took
			}
			if err != nil {
				return false, err
			}
		}
		_, err := tx.ExecContext(ctx, sqlLimitPrune, at, pruneBatch)
		return true, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: take send: %w", err)
	}
	return refused, nil
}

// LimitAllows reports whether one more event fits every limit (a limit with Max <= 0 never limits),
// reading only.
func (db *DB) LimitAllows(ctx context.Context, now time.Time, limits []account.Limit) (bool, error) {
	active := activeLimits(limits)
	if len(active) == 0 {
		return true, nil
	}
	refused, err := db.firstRefusal(ctx, now, active)
	return refused == nil && err == nil, err
}

// ChargeLimits records one event against every limit, in one transaction.
func (db *DB) ChargeLimits(ctx context.Context, now time.Time, limits []account.Limit) error {
	active := activeLimits(limits)
	if len(active) == 0 {
		return nil
	}
	at := ms(now)
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		for _, l := range active {
			interval, _ := gcra(l)
			if _, err := tx.ExecContext(ctx, sqlLimitCharge, l.Key, l.Window.Milliseconds(), at, interval); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, sqlLimitPrune, at, pruneBatch)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: limits: %w", err)
	}
	return nil
}

// firstRefusal reads the limits' rows and returns the first that admits no event now.
func (db *DB) firstRefusal(ctx context.Context, now time.Time, limits []account.Limit) (*account.Limit, error) {
	at := ms(now)
	var refused *account.Limit
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		for i := range limits {
			l := &limits[i]
			var tat int64
			err := tx.QueryRowContext(ctx, sqlLimitRead, l.Key, l.Window.Milliseconds()).Scan(&tat)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if _, tolerance := gcra(*l); tat-at > tolerance {
				refused = l
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: limits: %w", err)
	}
	return refused, nil
}
