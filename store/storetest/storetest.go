// Package storetest is the behavioural suite every storage engine must pass: the same tests, run by the
// SQLite store's tests and by the PostgreSQL store's. They go through the interfaces the domain and the
// dispatcher use, with two handles on one database wherever concurrency matters (two processes, or two
// gateways on one PostgreSQL), and count outcomes rather than time anything.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aspgate/account"
)

// Engine is what the suite needs of a store.
type Engine interface {
	account.Store
	AddUser(ctx context.Context, u account.NewUser) (int64, [16]byte, error)
	SetPassword(ctx context.Context, userID int64, hash string, now time.Time) error
	AddAPIKey(ctx context.Context, app, name string, keyMAC []byte) error
	RevokeAPIKey(ctx context.Context, app, name string) error
	ClaimDue(ctx context.Context, now time.Time, limit int) ([]account.QueuedMessage, error)
	MarkSent(ctx context.Context, id int64, now time.Time) error
	MarkRetry(ctx context.Context, id int64, next time.Time, lastError string) error
	MarkDead(ctx context.Context, id int64, now time.Time, lastError string) error
	ReleaseClaims(ctx context.Context, now time.Time) (int, error)
	Close() error
}

// Harness opens engines: Fresh a new, empty, migrated database; Another a second handle on the database
// of an engine Fresh returned. Both close with the test.
type Harness struct {
	Fresh   func(t *testing.T) Engine
	Another func(t *testing.T, e Engine) Engine
}

// T0 is the suite's clock start.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"Users", testUsers},
		{"Codes", testCodes},
		{"ConcurrentIssue", testConcurrentIssue},
		{"ResetPasswordRace", testResetPasswordRace},
		{"ChangePasswordRace", testChangePasswordRace},
		{"TakeSendRace", testTakeSendRace},
		{"APIKeys", testAPIKeys},
		{"OutboxClaimedOnce", testOutboxClaimedOnce},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, h) })
	}
}

func addUser(t *testing.T, e Engine, name, email, phone string) int64 {
	t.Helper()
	id, _, err := e.AddUser(context.Background(), account.NewUser{UserName: name, Email: email, Phone: phone, PasswordHash: "$legacy$" + name})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func testUsers(t *testing.T, h Harness) {
	ctx := context.Background()
	e := h.Fresh(t)
	id := addUser(t, e, "Ivan", "Ivan@Example.com", "79990000001")
	if id < 1 || id > 1<<31-1 {
		t.Errorf("UserId %d: ereader's UserId is an int32", id)
	}
	for name, get := range map[string]func() (*account.User, error){
		"e-mail ignoring case":    func() (*account.User, error) { return e.UserByEmail(ctx, "ivan@EXAMPLE.com") },
		"user name ignoring case": func() (*account.User, error) { return e.UserByUserName(ctx, "IVAN") },
		"phone":                   func() (*account.User, error) { return e.UserByPhone(ctx, "79990000001") },
		"id":                      func() (*account.User, error) { return e.UserByID(ctx, id) },
	} {
		u, err := get()
		if err != nil || u.ID != id || u.PasswordHash != "$legacy$Ivan" {
			t.Errorf("by %s: %+v %v", name, u, err)
		}
	}
	for name, get := range map[string]func() (*account.User, error){
		"e-mail": func() (*account.User, error) { return e.UserByEmail(ctx, "nobody@example.com") },
		"phone":  func() (*account.User, error) { return e.UserByPhone(ctx, "79990000009") },
		"id":     func() (*account.User, error) { return e.UserByID(ctx, id+1000) },
	} {
		if _, err := get(); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("unknown by %s: %v", name, err)
		}
	}
	var conflict *account.ConflictError
	if _, _, err := e.AddUser(ctx, account.NewUser{UserName: "other", Email: "IVAN@example.COM", PasswordHash: "x"}); !errors.As(err, &conflict) {
		t.Errorf("an e-mail taken in another case: %v", err)
	}
	if _, _, err := e.AddUser(ctx, account.NewUser{UserName: "other", Email: "o@example.com", Phone: "79990000001", PasswordHash: "x"}); !errors.As(err, &conflict) {
		t.Errorf("a taken phone: %v", err)
	}
	// A password change keeps the old hash, newest first.
	for i, h := range []string{"h1", "h2", "h3"} {
		if err := e.SetPassword(ctx, id, h, T0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := e.PasswordHistory(ctx, id, 10)
	if err != nil || fmt.Sprint(hist) != "[h2 h1 $legacy$Ivan]" {
		t.Errorf("history %v %v", hist, err)
	}
	if err := e.UpgradePasswordHash(ctx, id, "h3", "h3-upgraded"); err != nil {
		t.Fatal(err)
	}
	if err := e.UpgradePasswordHash(ctx, id, "stale", "x"); err == nil {
		if u, _ := e.UserByID(ctx, id); u.PasswordHash != "h3-upgraded" {
			t.Errorf("an upgrade of a hash that changed meanwhile replaced it")
		}
	}
	if hist, _ := e.PasswordHistory(ctx, id, 10); len(hist) != 3 {
		t.Errorf("an upgrade went to the history: %v", hist)
	}
}

func message(to string) account.Message {
	return account.Message{App: "lcmanager", Channel: account.SMS, Kind: account.KindCode, To: to, Secret: "123456", ExpiresAt: T0.Add(10 * time.Minute)}
}

func testCodes(t *testing.T, h Harness) {
	ctx := context.Background()
	e := h.Fresh(t)
	id := addUser(t, e, "coder", "coder@example.com", "79990000002")
	for i, mac := range []string{"first", "second"} {
		at := T0.Add(time.Duration(i) * time.Minute)
		if err := e.IssueCode(ctx, account.NewCode{UserID: id, Purpose: "reset", MAC: []byte(mac), CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute)},
			message("79990000002")); err != nil {
			t.Fatal(err)
		}
	}
	c, err := e.LiveCode(ctx, id, "reset")
	if err != nil || string(c.MAC) != "second" || c.Attempts != 0 || !c.ExpiresAt.Equal(T0.Add(11*time.Minute)) {
		t.Fatalf("live code %+v %v: the newest, the first superseded", c, err)
	}
	for want := 1; want <= 3; want++ {
		if n, err := e.CountAttempt(ctx, c.ID); err != nil || n != want {
			t.Errorf("attempt %d counted as %d %v", want, n, err)
		}
	}
	if err := e.ResetPassword(ctx, c.ID, id, "new-hash", T0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.LiveCode(ctx, id, "reset"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("a used code is still live: %v", err)
	}
	if err := e.ResetPassword(ctx, c.ID, id, "again", T0.Add(3*time.Minute)); !errors.Is(err, account.ErrCodeRejected) {
		t.Errorf("a code used twice: %v", err)
	}
	// Decoys write and return nothing anyone reads.
	if err := e.IssueDecoyCode(ctx, account.NewCode{Purpose: "reset", MAC: []byte("decoy"), CreatedAt: T0, ExpiresAt: T0.Add(time.Minute)}, message("79990000099")); err != nil {
		t.Errorf("decoy code: %v", err)
	}
	if err := e.CountDecoyAttempt(ctx, "reset"); err != nil {
		t.Errorf("decoy attempt: %v", err)
	}
	if err := e.IssueDecoyChangeRequest(ctx, account.NewChangeRequest{MAC: []byte("decoy"), CreatedAt: T0, ExpiresAt: T0.Add(time.Minute)},
		account.Message{App: "aries", Channel: account.Email, Kind: account.KindChangeLink, To: "x@example.com", Secret: "s"}); err != nil {
		t.Errorf("decoy change request: %v", err)
	}
	// Two messages were queued for the user's codes, none for the decoys.
	msgs, err := e.ClaimDue(ctx, T0.Add(time.Hour), 100)
	if err != nil || len(msgs) != 2 {
		t.Errorf("claimed %d messages %v, want the 2 codes'", len(msgs), err)
	}
}

// race runs n functions at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func oneWinner(t *testing.T, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("racers %d and %d both won", winner, i)
			}
			winner = i
		case !errors.Is(err, loser):
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("nobody won")
	}
	return winner
}

// testResetPasswordRace: 32 racers on one code through two handles: one wins, its hash is stored, the
// others are refused, the history gains one entry.
func testResetPasswordRace(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Fresh(t)
	dbs := []Engine{a, h.Another(t, a)}
	id := addUser(t, a, "racer", "racer@example.com", "79990000003")
	for round := range 2 {
		at := T0.Add(time.Duration(round) * time.Hour)
		if err := a.IssueCode(ctx, account.NewCode{UserID: id, Purpose: "reset", MAC: []byte{byte(round)}, CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute)},
			message("79990000003")); err != nil {
			t.Fatal(err)
		}
		c, err := dbs[1].LiveCode(ctx, id, "reset")
		if err != nil {
			t.Fatal(err)
		}
		errs := race(32, func(i int) error {
			return dbs[i%2].ResetPassword(ctx, c.ID, id, fmt.Sprintf("hash of racer %d", i), at.Add(time.Second))
		})
		winner := oneWinner(t, errs, account.ErrCodeRejected)
		if u, _ := dbs[1].UserByID(ctx, id); u.PasswordHash != fmt.Sprintf("hash of racer %d", winner) {
			t.Fatalf("round %d: the stored hash is not the winner's", round)
		}
		if hist, _ := a.PasswordHistory(ctx, id, 10); len(hist) != round+1 {
			t.Fatalf("round %d: history of %d", round, len(hist))
		}
	}
}

func testChangePasswordRace(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Fresh(t)
	dbs := []Engine{a, h.Another(t, a)}
	id := addUser(t, a, "changer", "changer@example.com", "")
	if err := a.IssueChangeRequest(ctx, account.NewChangeRequest{UserID: id, MAC: []byte("cr"), CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)},
		account.Message{App: "aries", Channel: account.Email, Kind: account.KindChangeLink, To: "changer@example.com", Secret: "s", LinkBase: "https://x/?id="}); err != nil {
		t.Fatal(err)
	}
	cr, err := dbs[1].ChangeRequestByMAC(ctx, []byte("cr"))
	if err != nil || cr.UserID != id || cr.Used {
		t.Fatalf("%+v %v", cr, err)
	}
	if _, err := a.ChangeRequestByMAC(ctx, []byte("nothing")); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("unknown MAC: %v", err)
	}
	errs := race(32, func(i int) error {
		return dbs[i%2].ChangePassword(ctx, cr.ID, id, fmt.Sprintf("h%d", i), T0.Add(time.Minute), account.Audit{Event: "password_changed", ClientIP: "203.0.113.9"})
	})
	oneWinner(t, errs, account.ErrChangeRequestNotFound)
	if cr, _ := a.ChangeRequestByMAC(ctx, []byte("cr")); !cr.Used {
		t.Errorf("the change request is not used")
	}
}

// testTakeSendRace: bursts of concurrent sends to one recipient through two handles, minute after minute:
// one a minute gets through, five in the hour, then none.
func testTakeSendRace(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Fresh(t)
	dbs := []Engine{a, h.Another(t, a)}
	limits := []account.Limit{
		{Name: "recipient_minute", Key: "to:79990000004", Window: time.Minute, Max: 1},
		{Name: "recipient_hour", Key: "to:79990000004", Window: time.Hour, Max: 5},
		{Name: "client_hour", Key: "ip:198.51.100.7", Window: time.Hour, Max: 60},
	}
	total := 0
	for minute := range 7 {
		at := T0.Add(time.Duration(minute)*time.Minute + time.Duration(minute)*time.Second)
		var granted atomic.Int32
		errs := race(24, func(i int) error {
			refused, err := dbs[i%2].TakeSend(ctx, at.Add(time.Duration(i)*time.Millisecond), limits)
			if err == nil && refused == nil {
				granted.Add(1)
			}
			return err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
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
		t.Fatalf("%d sends in the hour, want 5", total)
	}
	// No limit (Max 0) never refuses.
	if refused, err := a.TakeSend(ctx, T0, []account.Limit{{Key: "k", Window: time.Minute, Max: 0}}); refused != nil || err != nil {
		t.Errorf("Max 0 refused: %v %v", refused, err)
	}
}

func testAPIKeys(t *testing.T, h Harness) {
	ctx := context.Background()
	e := h.Fresh(t)
	if err := e.AddAPIKey(ctx, "aries", "mobile", []byte("mac-1")); err != nil {
		t.Fatal(err)
	}
	var conflict *account.ConflictError
	if err := e.AddAPIKey(ctx, "aries", "mobile", []byte("mac-2")); !errors.As(err, &conflict) {
		t.Errorf("a second active key of one name: %v", err)
	}
	for _, c := range []struct {
		app, mac string
		want     bool
	}{{"aries", "mac-1", true}, {"aries", "mac-2", false}, {"other", "mac-1", false}} {
		if ok, err := e.APIKeyActive(ctx, c.app, []byte(c.mac)); err != nil || ok != c.want {
			t.Errorf("%s %s: %v %v", c.app, c.mac, ok, err)
		}
	}
	if err := e.RevokeAPIKey(ctx, "aries", "mobile"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.APIKeyActive(ctx, "aries", []byte("mac-1")); ok {
		t.Error("a revoked key is active")
	}
	if err := e.RevokeAPIKey(ctx, "aries", "mobile"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("revoking twice: %v", err)
	}
}

// testOutboxClaimedOnce: two dispatchers claiming at once through two handles take disjoint messages,
// every message once; a released claim comes back once.
func testOutboxClaimedOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Fresh(t)
	dbs := []Engine{a, h.Another(t, a)}
	const n = 40
	for i := range n {
		id := addUser(t, a, fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("7999100%04d", i))
		if err := a.IssueCode(ctx, account.NewCode{UserID: id, Purpose: "reset", MAC: []byte{byte(i)}, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)},
			message(fmt.Sprintf("7999100%04d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	errs := race(8, func(i int) error {
		for {
			msgs, err := dbs[i%2].ClaimDue(ctx, T0.Add(time.Minute), 3)
			if err != nil {
				return err
			}
			if len(msgs) == 0 {
				return nil
			}
			mu.Lock()
			for _, m := range msgs {
				seen[m.ID]++
				if m.Attempts != 1 || m.IdempotencyKey == "" || m.Secret != "123456" {
					mu.Unlock()
					return fmt.Errorf("claimed %+v", m)
				}
			}
			mu.Unlock()
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d messages claimed, want %d", len(seen), n)
	}
	ids := make([]int64, 0, n)
	for id, c := range seen {
		if c != 1 {
			t.Errorf("message %d claimed %d times", id, c)
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if err := a.MarkSent(ctx, ids[0], T0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := a.MarkRetry(ctx, ids[1], T0.Add(3*time.Hour), "451 try later"); err != nil {
		t.Fatal(err)
	}
	if err := a.MarkDead(ctx, ids[2], T0.Add(2*time.Minute), "550 no such user"); err != nil {
		t.Fatal(err)
	}
	// A dispatcher starting an hour later releases the claims a dead one left (an engine with several
	// dispatchers releases only claims older than its lease); they come back once each, the retry when due.
	released, err := dbs[1].ReleaseClaims(ctx, T0.Add(time.Hour))
	if err != nil || released != n-3 {
		t.Fatalf("released %d %v, want %d", released, err, n-3)
	}
	again, err := a.ClaimDue(ctx, T0.Add(time.Hour), 100)
	if err != nil || len(again) != n-3 || again[0].Attempts != 2 {
		t.Fatalf("reclaimed %d %v", len(again), err)
	}
	if late, _ := a.ClaimDue(ctx, T0.Add(3*time.Hour), 100); len(late) != 1 || late[0].ID != ids[1] {
		t.Errorf("the retry due later: %+v", late)
	}
}

// testConcurrentIssue: codes issued for one user at once, through two handles, all succeed and leave
// exactly one live code (the last one committed supersedes the others).
func testConcurrentIssue(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Fresh(t)
	dbs := []Engine{a, h.Another(t, a)}
	id := addUser(t, a, "busy", "busy@example.com", "79990000077")
	errs := race(24, func(i int) error {
		at := T0.Add(time.Duration(i) * time.Millisecond)
		if err := dbs[i%2].IssueCode(ctx, account.NewCode{UserID: id, Purpose: "reset", MAC: []byte{byte(i)}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
			message("79990000077")); err != nil {
			return err
		}
		return dbs[i%2].IssueDecoyCode(ctx, account.NewCode{Purpose: "reset", MAC: []byte{byte(i)}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}, message("79990000077"))
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("issuer %d: %v", i, err)
		}
	}
	if _, err := a.LiveCode(ctx, id, "reset"); err != nil {
		t.Fatalf("no live code: %v", err)
	}
	msgs, err := a.ClaimDue(ctx, T0.Add(time.Hour), 100)
	if err != nil || len(msgs) != 24 {
		t.Fatalf("%d messages queued %v, want 24", len(msgs), err)
	}
}
