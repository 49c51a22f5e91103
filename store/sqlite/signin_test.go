package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"aspgate/account"
)

// TestSignInGuard is BruteForceLoginManager as ONLYOFFICE keeps it: failures within the period counted,
// a success taking its attempt back, a block once there are too many, lifted after the block time.
func TestSignInGuard(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "g.db"))
	rule := account.SignInRule{Attempts: 3, Period: time.Minute, Block: 2 * time.Minute}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	attempt := func(key string) bool {
		t.Helper()
		ok, err := db.SignInAttempt(ctx, key, now, rule)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := range 3 {
		if !attempt("k") {
			t.Fatalf("attempt %d refused", i+1)
		}
		now = now.Add(time.Second)
	}
	// The third was a success: it takes its attempt back, so one more is allowed...
	if err := db.SignInSucceeded(ctx, "k", now, rule); err != nil {
		t.Fatal(err)
	}
	if !attempt("k") {
		t.Fatal("attempt after a success")
	}
	// ...and the next one, the fourth counted in the period, blocks the key.
	if attempt("k") {
		t.Fatal("too many attempts allowed")
	}
	if !attempt("other") {
		t.Fatal("another key is blocked")
	}
	now = now.Add(2*time.Minute - time.Millisecond)
	if attempt("k") {
		t.Fatal("allowed during the block")
	}
	now = now.Add(time.Millisecond)
	if !attempt("k") {
		t.Fatal("still blocked after the block time")
	}
	// Attempts older than the period are forgotten.
	now = now.Add(time.Hour)
	for i := range 10 {
		if !attempt("slow") {
			t.Fatalf("slow attempt %d refused", i+1)
		}
		now = now.Add(21 * time.Second)
	}
	// Attempts 0 turns the rule off.
	if ok, err := db.SignInAttempt(ctx, "k", now, account.SignInRule{}); !ok || err != nil {
		t.Fatalf("rule off: %v, %v", ok, err)
	}
}

// TestSignInGuardConcurrent races attempts on one key: exactly Attempts of them get through.
func TestSignInGuardConcurrent(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "g.db"))
	rule := account.SignInRule{Attempts: 5, Period: time.Minute, Block: time.Minute}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := db.SignInAttempt(ctx, "race", now, rule)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != rule.Attempts { // the sixth attempt blocks, the rest find the block
		t.Fatalf("%d attempts allowed, want %d", allowed, rule.Attempts)
	}
}

// TestLimitCounters is the GCRA counter: Max at once, then one every Window/Max; reading never records.
func TestLimitCounters(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "l.db"))
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	limits := []account.Limit{{Key: "ip:192.0.2.1", Window: time.Hour, Max: 4}}
	allows := func() bool {
		t.Helper()
		ok, err := db.LimitAllows(ctx, now, limits)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := range 4 {
		if !allows() || !allows() {
			t.Fatalf("event %d refused", i+1)
		}
		if err := db.ChargeLimits(ctx, now, limits); err != nil {
			t.Fatal(err)
		}
	}
	if allows() {
		t.Fatal("a fifth event at once allowed")
	}
	now = now.Add(15*time.Minute - time.Millisecond)
	if allows() {
		t.Fatal("allowed before a quarter of the window")
	}
	now = now.Add(time.Millisecond)
	if !allows() {
		t.Fatal("refused after a quarter of the window")
	}
	if ok, err := db.LimitAllows(ctx, now, []account.Limit{{Key: "other", Window: time.Hour, Max: 1}}); !ok || err != nil {
		t.Fatalf("another key: %v, %v", ok, err)
	}
	if ok, err := db.LimitAllows(ctx, now, nil); !ok || err != nil {
		t.Fatalf("no limits: %v, %v", ok, err)
	}
}
