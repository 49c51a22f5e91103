package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"aspgate/account"
)

// TestServiceOnSQLite runs the domain's flows on the real store: both flows end to end, a race of 16
// resets with the right code, and password history.
func TestServiceOnSQLite(t *testing.T) {
	ctx := context.Background()
	db, _ := mustTempDB(t)
	now := t0
	var mu sync.Mutex
	svc := &account.Service{
		Store:  db,
		Hasher: account.NewHasher(testArgon2, 4),
		Keys:   account.NewKeyring(bytes.Repeat([]byte{1}, 32)),
		Config: account.DefaultConfig(),
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
	}
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	hash, _ := svc.Hasher.Hash(ctx, "Original-Passphrase-1")
	id, _, err := db.AddUser(ctx, account.NewUser{UserName: "Walrus", Email: "walrus@example.com", Phone: "79995550000", PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	lastSecret := func() string {
		t.Helper()
		rows, err := db.PendingOutbox(ctx)
		if err != nil || len(rows) == 0 {
			t.Fatalf("outbox: %d rows, %v", len(rows), err)
		}
		return rows[len(rows)-1].Secret
	}

	// Code flow, with 16 racers holding the right code.
	if _, err := svc.SendCode(ctx, account.CodeRequest{App: "lcmanager", Phone: "79995550000", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	code := lastSecret()
	passwords := make([]string, 16)
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for i := range passwords {
		passwords[i] = fmt.Sprintf("Racing-Walrus-%02d-Tusk", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = svc.ResetWithCode(ctx, id, code, passwords[i])
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("racers %d and %d both won", winner, i)
			}
			winner = i
		} else if !errors.Is(err, account.ErrCodeRejected) {
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer won")
	}
	u, _ := db.UserByID(ctx, id)
	if ok, _ := svc.Hasher.Verify(ctx, u.PasswordHash, passwords[winner]); !ok {
		t.Fatal("the stored password is not the winner's")
	}
	if err := svc.ResetWithCode(ctx, id, code, "Another-Walrus-Password"); !errors.Is(err, account.ErrCodeRejected) {
		t.Fatalf("replayed code: %v", err)
	}

	// Link flow.
	apiKey := account.NewToken(32)
	if err := db.AddAPIKey(ctx, "aries", "test", svc.APIKeyMAC(apiKey)); err != nil {
		t.Fatal(err)
	}
	if err := svc.SendChangeLink(ctx, account.LinkRequest{App: "aries", APIKey: "wrong", UserName: "walrus"}); !errors.Is(err, account.ErrInvalidAPIKey) {
		t.Fatalf("wrong api key: %v", err)
	}
	advance(2 * time.Minute)
	if err := svc.SendChangeLink(ctx, account.LinkRequest{App: "aries", APIKey: apiKey, UserName: "walrus", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	changeID := lastSecret()
	in := account.ChangeInput{ChangeRequestID: changeID, Password: "Original-Passphrase-1", IPAddress: "192.0.2.1", UserAgent: "test"}
	if _, err := svc.ChangePassword(ctx, in); !errors.Is(err, account.ErrPasswordUsedBefore) {
		t.Fatalf("an earlier password: %v", err)
	}
	in.Password = "Brand-New-Walrus-Pass"
	got, err := svc.ChangePassword(ctx, in)
	if err != nil || got.ID != id {
		t.Fatalf("ChangePassword = %+v, %v", got, err)
	}
	if _, err := svc.ChangePassword(ctx, in); !errors.Is(err, account.ErrChangeRequestNotFound) {
		t.Fatalf("replayed change request: %v", err)
	}
	hist, _ := db.PasswordHistory(ctx, id, 5)
	if len(hist) != 2 {
		t.Fatalf("history has %d entries, want 2", len(hist))
	}
	if ok, _ := svc.Hasher.Verify(ctx, hist[0], passwords[winner]); !ok {
		t.Fatal("the newest history entry is not the winner's password")
	}
	if ok, _ := svc.Hasher.Verify(ctx, hist[1], "Original-Passphrase-1"); !ok {
		t.Fatal("the oldest history entry is not the original password")
	}

	// An expired change request.
	advance(2 * time.Minute)
	if err := svc.SendChangeLink(ctx, account.LinkRequest{App: "aries", APIKey: apiKey, Email: "WALRUS@example.com", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	in.ChangeRequestID, in.Password = lastSecret(), "Later-Walrus-Password"
	advance(time.Hour)
	if _, err := svc.ChangePassword(ctx, in); !errors.Is(err, account.ErrChangeRequestExpired) {
		t.Fatalf("expired change request: %v", err)
	}
	mustSound(t, db)
}
