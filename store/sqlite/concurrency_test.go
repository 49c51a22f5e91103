package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/store/sqlite"
)

// TestResetPasswordRace has 16 goroutines, over two handles of one file (as two processes would), consume
// the same code at once: exactly one wins, and the stored hash is the winner's.
func TestResetPasswordRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	dbs := []*sqlite.DB{mustOpen(t, path), mustOpen(t, path)}
	user := mustUser(t, dbs[0], account.NewUser{UserName: "racer", Email: "racer@example.com", Phone: "79990000000"})
	for round := range 3 {
		at := t0.Add(time.Duration(round) * time.Minute)
		if err := dbs[0].IssueCode(ctx, account.NewCode{UserID: user, Purpose: "reset", MAC: []byte{byte(round)},
			CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute)}, account.Message{App: "lcmanager", Channel: account.SMS, Kind: account.KindCode,
			To: "79990000000"}); err != nil {
			t.Fatal(err)
		}
		code, err := dbs[1].LiveCode(ctx, user, "reset")
		if err != nil {
			t.Fatal(err)
		}
		before, _ := dbs[0].UserByID(ctx, user)

		const n = 16
		hashes := make([]string, n)
		for i := range hashes {
			hashes[i] = mustHash(t, fmt.Sprintf("password of racer %d", i))
		}
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = dbs[i%2].ResetPassword(ctx, code.ID, user, hashes[i], at.Add(time.Second))
			}()
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: goroutines %d and %d both won", round, winner, i)
				}
				winner = i
			case !errors.Is(err, account.ErrCodeRejected):
				t.Fatalf("round %d: goroutine %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody won", round)
		}
		u, err := dbs[1].UserByID(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash != hashes[winner] {
			t.Fatalf("round %d: stored hash is not the winner's", round)
		}
		ok, err := account.NewHasher(testArgon2, 1).Verify(ctx, u.PasswordHash, fmt.Sprintf("password of racer %d", winner))
		if err != nil || !ok {
			t.Fatalf("round %d: the winner's password does not verify", round)
		}
		hist, _ := dbs[0].PasswordHistory(ctx, user, 10)
		if len(hist) != round+1 || hist[0] != before.PasswordHash {
			t.Fatalf("round %d: history has %d entries, newest is the previous hash: %v", round, len(hist),
				len(hist) > 0 && hist[0] == before.PasswordHash)
		}
	}
	mustSound(t, dbs[0])
}

// TestTakeSendRace fires bursts of concurrent sends to one recipient through two handles, minute after
// minute: never more than 1 a minute, and after the hour's burst of 5 none until it refills (12 minutes a
// send), get through.
func TestTakeSendRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aspgate.db")
	dbs := []*sqlite.DB{mustOpen(t, path), mustOpen(t, path)}
	limits := []account.Limit{
		{Key: "to:79990000000", Window: time.Minute, Max: 1},
		{Key: "to:79990000000", Window: time.Hour, Max: 5},
		{Key: "ip:198.51.100.7", Window: time.Hour, Max: 60},
	}
	total := 0
	for minute := range 8 {
		at := t0.Add(time.Duration(minute)*time.Minute + time.Duration(minute)*time.Second)
		var granted atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				refused, err := dbs[i%2].TakeSend(ctx, at.Add(time.Duration(i)*time.Millisecond), limits)
				if err != nil {
					t.Error(err)
				}
				if refused == nil {
					granted.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		want := int32(1)
		if minute >= 5 {
			want = 0
		}
		if g := granted.Load(); g != want {
			t.Fatalf("minute %d: %d sends granted, want %d", minute, g, want)
		}
		total += int(granted.Load())
	}
	if total != 5 {
		t.Fatalf("%d sends granted in the hour, want 5", total)
	}
	// The client's counter took the 5 sends and nothing of the refusals: one interval (1 minute) past the
	// last grant, made in minute 4 at 4 m 4 s plus up to 23 ms.
	tat := int64(mustCount(t, mustRaw(t, path), `SELECT tat FROM rate_limits WHERE key = 'ip:198.51.100.7'`))
	if lo := t0.Add(5*time.Minute + 4*time.Second).UnixMilli(); tat < lo || tat > lo+23 {
		t.Fatalf("client's tat %d, want %d..%d", tat, lo, lo+23)
	}
}
