package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/store/sqlite"
)

// TestLimiterCostIsFlat shows that a send-limit check costs the same whatever volume is already counted:
// the same allocations per check with 0, 1,000 and 100,000 sends counted, one row per key and window, and
// every statement reaching its row by the full primary key (a count over past sends, as the limiter
// once did, is a range search whose work grows with the volume, and fails the plan check).
func TestLimiterCostIsFlat(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	db := mustOpen(t, path)
	raw := mustRaw(t, path)
	at := t0
	seq := 0
	// Raised limits, as behind a NAT: the client's budget never refuses, every recipient is new.
	limits := func() []account.Limit {
		seq++
		to := fmt.Sprintf("to:%08d", seq)
		return []account.Limit{
			{Name: account.LimitRecipientMinute, Key: to, Window: time.Minute, Max: 1},
			{Name: account.LimitRecipientHour, Key: to, Window: time.Hour, Max: 5},
			{Name: account.LimitClientHour, Key: "ip:203.0.113.9", Window: time.Hour, Max: 1 << 30},
		}
	}
	take := func() {
		at = at.Add(time.Microsecond)
		if refused, err := db.TakeSend(ctx, at, limits()); err != nil || refused != nil {
			t.Fatalf("send %d: %v, %v", seq, refused, err)
		}
	}
	refusedLimits := []account.Limit{{Name: account.LimitRecipientMinute, Key: "to:busy", Window: time.Minute, Max: 1}}
	if refused, err := db.TakeSend(ctx, at, refusedLimits); err != nil || refused != nil {
		t.Fatalf("first send to busy: %v, %v", refused, err)
	}
	refuse := func() {
		if refused, err := db.TakeSend(ctx, at, refusedLimits); err != nil || refused == nil {
			t.Fatalf("second send to busy: %v, %v", refused, err)
		}
	}
	type cost struct{ take, refuse float64 }
	measure := func() cost {
		return cost{testing.AllocsPerRun(500, take), testing.AllocsPerRun(500, refuse)}
	}

	base := measure()
	for range 1000 {
		take()
	}
	at1k := measure()
	// 100,000 counted sends: the client's counter as 100,000 sends would leave it, and 100,000 other keys'
	// rows in the table (recipients not yet expired), written directly rather than one transaction each.
	const volume = 100_000
	if _, err := raw.Exec(`UPDATE rate_limits SET tat = ? WHERE key = 'ip:203.0.113.9'`,
		at.UnixMilli()+volume*max(time.Hour.Milliseconds()>>30, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO rate_limits (key, window_ms, tat) SELECT printf('to:v%08d', i), 3600000, ? FROM n`,
		volume, at.Add(24*time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	at100k := measure()
	t.Logf("allocations per check (take, refuse): 0 counted %v, 1,000 counted %v, 100,000 counted %v", base, at1k, at100k)
	// database/sql's pools and the write batcher make a few allocations come and go with the garbage
	// collector; a check whose work grew with the volume would differ by the volume, not by a handful.
	near := func(a, b float64) bool { slack := max(8, b/10); return a-b <= slack && b-a <= slack }
	for name, c := range map[string]cost{"1,000": at1k, "100,000": at100k} {
		if !near(c.take, base.take) || !near(c.refuse, base.refuse) {
			t.Errorf("with %s sends counted a check allocates %v, with none %v", name, c, base)
		}
	}
	if n := mustCount(t, raw, `SELECT count(*) FROM rate_limits WHERE key = 'ip:203.0.113.9'`); n != 1 {
		t.Errorf("the client's counter is %d rows, want 1", n)
	}
	if n := mustCount(t, raw, `SELECT count(*) FROM rate_limits`); n < volume {
		t.Errorf("%d counters, want at least %d", n, volume)
	}

	// The plans: every counter reached by its full primary key; pruning by the tat index, a bounded batch.
	want := map[string][]string{
		"read": {"MULTI-INDEX OR", "INDEX 1", "SEARCH rate_limits USING PRIMARY KEY (key=? AND window_ms=?)",
			"INDEX 2", "SEARCH rate_limits USING PRIMARY KEY (key=? AND window_ms=?)",
			"INDEX 3", "SEARCH rate_limits USING PRIMARY KEY (key=? AND window_ms=?)"},
		// An UPSERT's conflict search is its primary key's, and not shown: only the rows it reads from are.
		"take":   {"SCAN 3-ROW VALUES CLAUSE"},
		"charge": {"SCAN 3-ROW VALUES CLAUSE"},
		"prune": {"SEARCH rate_limits USING PRIMARY KEY (key=? AND window_ms=?)", "LIST SUBQUERY",
			"SEARCH rate_limits USING COVERING INDEX rate_limits_tat (tat<?)"},
	}
	for name, q := range sqlite.LimiterStatements {
		args := make([]any, strings.Count(q, "?")-strings.Count(q, "?1")-strings.Count(q, "?2")-
			strings.Count(q, "?3")-strings.Count(q, "?4")-strings.Count(q, "?5")+highestNumbered(q))
		for i := range args {
			args[i] = 1
		}
		rows, err := raw.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			got = append(got, detail)
		}
		rows.Close()
		for i, d := range got {
			if strings.HasPrefix(d, "LIST SUBQUERY ") {
				got[i] = "LIST SUBQUERY" // the subquery's number is SQLite's own
			}
		}
		for _, d := range got {
			if strings.HasPrefix(d, "SCAN rate_limits") {
				t.Errorf("%s scans the counters: %q", name, got)
			}
		}
		if !slices.Equal(nonEmpty(got), want[name]) {
			t.Errorf("%s plan %q, want %q", name, got, want[name])
		}
	}
}

// highestNumbered is the highest ?N in q (0 when none).
func highestNumbered(q string) int {
	n := 0
	for i := 1; i <= 9; i++ {
		if strings.Contains(q, fmt.Sprintf("?%d", i)) {
			n = i
		}
	}
	return n
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestRefusalDoesNotWaitForTheWriter holds the write lock from another connection: a check that a limit
// refuses is answered from a read, while one that would record waits for the lock (and, with a short busy
// timeout, fails).
func TestRefusalDoesNotWaitForTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	busy := []account.Limit{{Name: account.LimitRecipientMinute, Key: "to:busy", Window: time.Minute, Max: 1}}
	if refused, err := db.TakeSend(ctx, t0, busy); err != nil || refused != nil {
		t.Fatalf("first send: %v, %v", refused, err)
	}
	raw := mustRaw(t, path)
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	refused, err := db.TakeSend(ctx, t0.Add(time.Second), busy)
	if err != nil || refused == nil || refused.Name != account.LimitRecipientMinute {
		t.Fatalf("refused check under a held write lock: %v, %v", refused, err)
	}
	if ok, err := db.LimitAllows(ctx, t0.Add(time.Second), busy); err != nil || ok {
		t.Fatalf("LimitAllows under a held write lock: %v, %v", ok, err)
	}
	fresh := []account.Limit{{Name: account.LimitRecipientMinute, Key: "to:fresh", Window: time.Minute, Max: 1}}
	if _, err := db.TakeSend(ctx, t0.Add(time.Second), fresh); err == nil {
		t.Fatal("a send was recorded while another connection held the write lock")
	}
}

// TestExhaustedLimitsFromAnotherProcess: a budget spent through one handle is refused by another, first
// from the counter and from then on from memory (even while the write lock is held elsewhere), and
// admits again once the counter has refilled.
func TestExhaustedLimitsFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	a := mustOpen(t, path)
	b, err := sqlite.Open(ctx, path, sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	lim := []account.Limit{{Name: account.LimitRecipientHour, Key: "to:x", Window: time.Hour, Max: 2}}
	for i := range 2 {
		if refused, err := a.TakeSend(ctx, t0, lim); err != nil || refused != nil {
			t.Fatalf("send %d through a: %v, %v", i, refused, err)
		}
	}
	if refused, err := b.TakeSend(ctx, t0.Add(time.Minute), lim); err != nil || refused == nil {
		t.Fatalf("b's first check: %v, %v", refused, err)
	}
	conn, err := mustRaw(t, path).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if refused, err := b.TakeSend(ctx, t0.Add(2*time.Minute), lim); err != nil || refused == nil {
		t.Fatalf("b's second check, with the write lock held elsewhere: %v, %v", refused, err)
	}
	if ok, err := b.LimitAllows(ctx, t0.Add(2*time.Minute), lim); err != nil || ok {
		t.Fatalf("LimitAllows: %v, %v", ok, err)
	}
	conn.ExecContext(ctx, "ROLLBACK")
	conn.Close()
	// Two sends at t0 with an interval of 30 minutes: tat = t0 + 60 min, tolerance 30 min: one admits from
	// t0 + 30 min.
	if refused, err := b.TakeSend(ctx, t0.Add(30*time.Minute-time.Millisecond), lim); err != nil || refused == nil {
		t.Fatalf("just before the refill: %v, %v", refused, err)
	}
	if refused, err := b.TakeSend(ctx, t0.Add(30*time.Minute), lim); err != nil || refused != nil {
		t.Fatalf("at the refill: %v, %v", refused, err)
	}
}
