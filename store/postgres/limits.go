package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"aspgate/account"
	"aspgate/store/internal/rules"
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

// activeLimits keeps the limits that limit, in (key, window) order.
func activeLimits(limits []account.Limit) []account.Limit {
	active := rules.Active(limits)
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
		interval, _ := rules.GCRA(l)
		args = append(args, l.Key, l.Window.Milliseconds(), at+interval)
	}
	return args
}

func queryTats(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args []any) (map[rules.Key]int64, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tats := map[rules.Key]int64{}
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
	if refused := db.exhausted.First(at, limits); refused != nil {
		return refused, nil
	}
	var refused *account.Limit
	var tats map[rules.Key]int64
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
			if _, took := tats[rules.KeyOf(limits[i])]; !took {
				refused = &limits[i]
				var tat int64
				if tx.QueryRow(ctx, `SELECT tat FROM rate_limits WHERE key = $1 AND window_ms = $2`, refused.Key,
					refused.Window.Milliseconds()).Scan(&tat) == nil {
					tats = map[rules.Key]int64{rules.KeyOf(*refused): tat}
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
	db.exhausted.Note(at, active, tats)
	return refused, nil
}

// LimitAllows reports whether one more event fits every limit, recording nothing.
func (db *DB) LimitAllows(ctx context.Context, now time.Time, limits []account.Limit) (bool, error) {
	active := activeLimits(limits)
	if len(active) == 0 {
		return true, nil
	}
	at := ms(now)
	if db.exhausted.First(at, active) != nil {
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
	db.exhausted.Note(at, active, tats)
	return nil
}
