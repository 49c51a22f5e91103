package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"aspgate/account"
)

// The GCRA counters, as the SQLite store keeps them (see its limits.go): one row per (key, window) with
// the theoretical arrival time tat; an event at now fits when tat - now <= tolerance and moves tat to
// max(tat, now) + interval. The take is one INSERT … ON CONFLICT DO UPDATE … WHERE <fits> RETURNING: a
// concurrent taker of the same counter waits for the row lock and re-evaluates the WHERE against the new
// tat, so two gateways can never both take the last event. Rows are written in (key, window) order, so two
// takers of the same counters lock them in the same order and cannot deadlock each other.

func limitTake(n int) string {
	return `INSERT INTO rate_limits AS r (key, window_ms, tat) VALUES ` + limitRows(n) + `
		ON CONFLICT (key, window_ms) DO UPDATE SET tat = greatest(r.tat, $1) + (excluded.tat - $1)
		WHERE greatest(r.tat, $1) - $1 <= excluded.window_ms - (excluded.tat - $1)
		RETURNING key, window_ms, tat`
}

func limitCharge(n int) string {
	return `INSERT INTO rate_limits AS r (key, window_ms, tat) VALUES ` + limitRows(n) + `
		ON CONFLICT (key, window_ms) DO UPDATE SET tat = greatest(r.tat, $1) + (excluded.tat - $1)
		RETURNING key, window_ms, tat`
}

func limitRows(n int) string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf("($%d::text, $%d::bigint, $%d::bigint)", 3*i+2, 3*i+3, 3*i+4)
	}
	return strings.Join(rows, ", ")
}

func gcra(l account.Limit) (interval, tolerance int64) {
	w := l.Window.Milliseconds()
	interval = max(w/int64(l.Max), 1)
	return interval, w - interval
}

// activeLimits keeps the limits that limit, in (key, window) order.
func activeLimits(limits []account.Limit) []account.Limit {
	active := limits[:0:0]
	for _, l := range limits {
		if l.Max > 0 {
			active = append(active, l)
		}
	}
	sort.SliceStable(active, func(i, j int) bool {
		if active[i].Key != active[j].Key {
			return active[i].Key < active[j].Key
		}
		return active[i].Window < active[j].Window
	})
	return active
}

func limitArgs(at int64, limits []account.Limit) []any {
	args := make([]any, 0, 1+3*len(limits))
	args = append(args, at)
	for _, l := range limits {
		interval, _ := gcra(l)
		args = append(args, l.Key, l.Window.Milliseconds(), at+interval)
	}
	return args
}

type limitKey struct {
	key    string
	window int64
}

func keyOf(l account.Limit) limitKey { return limitKey{l.Key, l.Window.Milliseconds()} }

func queryTats(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args []any) (map[limitKey]int64, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tats := map[limitKey]int64{}
	for rows.Next() {
		var k limitKey
		var tat int64
		if err := rows.Scan(&k.key, &k.window, &tat); err != nil {
			return nil, err
		}
		tats[k] = tat
	}
	return tats, rows.Err()
}

// errRefused rolls the take back when a limit refused (what the others took is undone).
type errRefused struct{ limit *account.Limit }

func (errRefused) Error() string { return "refused" }

// TakeSend checks every limit and, when each admits one more send, records it against all of them,
// atomically; otherwise it records nothing and returns the first limit (in the caller's order) that refused.
func (db *DB) TakeSend(ctx context.Context, now time.Time, limits []account.Limit) (*account.Limit, error) {
	active := activeLimits(limits)
	if len(active) == 0 {
		return nil, nil
	}
	at := ms(now)
	if refused := db.exhausted.first(at, limits); refused != nil {
		return refused, nil
	}
	var refused *account.Limit
	var tats map[limitKey]int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		refused = nil
		var err error
		if tats, err = queryTats(ctx, tx, limitTake(len(active)), limitArgs(at, active)); err != nil {
			return err
		}
		for i := range limits {
			if limits[i].Max <= 0 {
				continue
			}
			if _, took := tats[keyOf(limits[i])]; !took {
				refused = &limits[i]
				var tat int64
				if tx.QueryRow(ctx, `SELECT tat FROM rate_limits WHERE key = $1 AND window_ms = $2`, refused.Key,
					refused.Window.Milliseconds()).Scan(&tat) == nil {
					tats = map[limitKey]int64{keyOf(*refused): tat}
				}
				return errRefused{refused}
			}
		}
		return nil
	})
	if _, ok := err.(errRefused); ok {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: take send: %w", err)
	}
	db.exhausted.note(at, active, tats)
	return refused, nil
}

// LimitAllows reports whether one more event fits every limit, recording nothing.
func (db *DB) LimitAllows(ctx context.Context, now time.Time, limits []account.Limit) (bool, error) {
	active := activeLimits(limits)
	if len(active) == 0 {
		return true, nil
	}
	at := ms(now)
	if db.exhausted.first(at, active) != nil {
		return false, nil
	}
	terms := make([]string, len(active))
	args := make([]any, 0, 2*len(active))
	for i, l := range active {
		terms[i] = fmt.Sprintf("(key = $%d AND window_ms = $%d)", 2*i+1, 2*i+2)
		args = append(args, l.Key, l.Window.Milliseconds())
	}
	tats, err := queryTats(ctx, db.pool, `SELECT key, window_ms, tat FROM rate_limits WHERE `+strings.Join(terms, " OR "), args)
	if err != nil {
		return false, fmt.Errorf("store: limits: %w", err)
	}
	db.exhausted.note(at, active, tats)
	for _, l := range active {
		if tat, ok := tats[keyOf(l)]; ok {
			if _, tolerance := gcra(l); tat-at > tolerance {
				return false, nil
			}
		}
	}
	return true, nil
}

// ChargeLimits records one event against every limit, whether or not it fits.
func (db *DB) ChargeLimits(ctx context.Context, now time.Time, limits []account.Limit) error {
	active := activeLimits(limits)
	if len(active) == 0 {
		return nil
	}
	at := ms(now)
	tats, err := queryTats(ctx, db.pool, limitCharge(len(active)), limitArgs(at, active))
	if err != nil {
		return fmt.Errorf("store: limits: %w", err)
	}
	db.exhausted.note(at, active, tats)
	return nil
}

// exhaustedLimits remembers, per process, counters that cannot admit an event before a time: a refusal
// is then answered from memory. Another gateway's takes only make a counter fuller, so a counter known
// to be full stays full at least that long.
type exhaustedLimits struct {
	mu    sync.Mutex
	until map[limitKey]int64
}

const maxExhausted = 100_000

func (e *exhaustedLimits) first(at int64, limits []account.Limit) *account.Limit {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range limits {
		if limits[i].Max <= 0 {
			continue
		}
		if u, ok := e.until[keyOf(limits[i])]; ok {
			if at < u {
				return &limits[i]
			}
			delete(e.until, keyOf(limits[i]))
		}
	}
	return nil
}

func (e *exhaustedLimits) note(at int64, limits []account.Limit, tats map[limitKey]int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range limits {
		tat, ok := tats[keyOf(l)]
		if !ok {
			continue
		}
		_, tolerance := gcra(l)
		if until := tat - tolerance; until > at {
			if e.until == nil {
				e.until = make(map[limitKey]int64)
			}
			if len(e.until) >= maxExhausted {
				for k, u := range e.until {
					if u <= at {
						delete(e.until, k)
					}
				}
				if len(e.until) >= maxExhausted {
					return
				}
			}
			e.until[keyOf(l)] = until
		}
	}
}
