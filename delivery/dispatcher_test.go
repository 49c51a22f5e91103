package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/delivery"
	"aspgate/store/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// scriptedSender records what it is given and fails as scripted: fail[i] is the error of the i-th send.
type scriptedSender struct {
	mu   sync.Mutex
	name string
	fail []error
	got  []delivery.Envelope // every attempt
	ok   []delivery.Envelope // the accepted ones
}

func (s *scriptedSender) String() string { return s.name }

func (s *scriptedSender) Send(ctx context.Context, e delivery.Envelope) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if n := len(s.got); n < len(s.fail) {
		err = s.fail[n]
	}
	s.got = append(s.got, e)
	if err == nil {
		s.ok = append(s.ok, e)
	}
	return err
}

func (s *scriptedSender) accepted() []delivery.Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery.Envelope(nil), s.ok...)
}

type fixture struct {
	db    *sqlite.DB
	clock *clock
	email *scriptedSender
	sms   *scriptedSender
	disp  *delivery.Dispatcher
	user  int64
	dir   string
}

func mustFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "aspgate.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	uid, _, err := db.AddUser(context.Background(), account.NewUser{UserName: "ivan", Email: "ivan@example.com",
		Phone: "79990000001", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := delivery.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, clock: clk, email: &scriptedSender{name: "email"}, sms: &scriptedSender{name: "sms"}, user: uid, dir: dir}
	f.disp = &delivery.Dispatcher{Outbox: db, Templates: tpl, Email: f.email, SMS: f.sms, Now: clk.Now,
		LockPath: filepath.Join(dir, "aspgate.db.dispatch.lock"), Retention: -1,
		Jitter: func(d time.Duration) time.Duration { return d }}
	return f
}

// queueCode queues an lcmanager code as the recovery flow does.
func (f *fixture) queueCode(t testing.TB, channel account.Channel, to, code string) {
	t.Helper()
	now := f.clock.Now()
	err := f.db.IssueCode(context.Background(), account.NewCode{UserID: f.user, Purpose: "reset", MAC: []byte("mac-" + code),
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)},
		account.Message{App: "lcmanager", Channel: channel, Kind: account.KindCode, To: to, Secret: code, ExpiresAt: now.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) queueLink(t *testing.T, secret string) {
	t.Helper()
	now := f.clock.Now()
	err := f.db.IssueChangeRequest(context.Background(), account.NewChangeRequest{UserID: f.user, MAC: []byte("cr-" + secret),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		account.Message{App: "aries", Channel: account.Email, Kind: account.KindChangeLink, To: "ivan@example.com",
			Secret: secret, LinkBase: "https://reset.example/change?id=", ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) sendOnce(t *testing.T) delivery.Result {
	t.Helper()
	r, err := f.disp.SendOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) rows(t *testing.T) []sqlite.OutboxRow {
	t.Helper()
	rows, err := f.db.ListOutbox(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestDispatcherDeliversAndErasesSecrets(t *testing.T) {
	f := mustFixture(t)
	f.queueCode(t, account.SMS, "79990000001", "123456")
	f.queueLink(t, "a+b/c")
	if r := f.sendOnce(t); r != (delivery.Result{Sent: 2}) {
		t.Fatalf("result %+v", r)
	}
	sms, mail := f.sms.accepted(), f.email.accepted()
	if len(sms) != 1 || len(mail) != 1 {
		t.Fatalf("sms %d, e-mail %d", len(sms), len(mail))
	}
	if want := "Код подтверждения: 123456. Никому не сообщайте этот код."; sms[0].Text != want || sms[0].To != "79990000001" {
		t.Errorf("sms %+v", sms[0])
	}
	link := "https://reset.example/change?id=a%2Bb%2Fc"
	if mail[0].Subject != "Password change" || !strings.Contains(mail[0].Text, link) || !strings.Contains(mail[0].Text, "60 minutes") {
		t.Errorf("e-mail %+v", mail[0])
	}
	// html/template escapes the link inside the attribute and the text, so the HTML stays well formed.
	if !strings.Contains(mail[0].HTML, `href="https://reset.example/change?id=a%2Bb%2Fc"`) {
		t.Errorf("html %s", mail[0].HTML)
	}
	for _, r := range f.rows(t) {
		if r.Status != sqlite.OutboxSent || r.Secret != "" || r.Attempts != 1 || !r.SentAt.Equal(f.clock.Now()) {
			t.Errorf("row %+v", r)
		}
		if r.IdempotencyKey == "" {
			t.Error("no idempotency key")
		}
	}
	if s := f.disp.Stats(); s != (delivery.Stats{Sent: 2}) {
		t.Errorf("stats %+v", s)
	}
	if r := f.sendOnce(t); r != (delivery.Result{}) {
		t.Errorf("second pass %+v", r)
	}
}

func TestDispatcherRetriesTransientFailuresWithBackoff(t *testing.T) {
	f := mustFixture(t)
	f.disp.BackoffBase, f.disp.BackoffMax = 30*time.Second, 2*time.Minute
	f.sms.fail = []error{errors.New("502 bad gateway"), errors.New("timeout"), errors.New("timeout"), errors.New("timeout")}
	f.queueCode(t, account.SMS, "79990000001", "111111")
	waits := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 2 * time.Minute} // doubled, capped
	for i, w := range waits {
		if r := f.sendOnce(t); r != (delivery.Result{Failed: 1}) {
			t.Fatalf("attempt %d: %+v", i+1, r)
		}
		row := f.rows(t)[0]
		if row.Status != sqlite.OutboxPending || row.Attempts != i+1 || row.Secret != "111111" ||
			!row.NextAttemptAt.Equal(f.clock.Now().Add(w)) || row.LastError == "" {
			t.Fatalf("after attempt %d: %+v", i+1, row)
		}
		f.clock.Add(w - time.Second)
		if r := f.sendOnce(t); r != (delivery.Result{}) {
			t.Fatalf("sent before its time: %+v", r)
		}
		f.clock.Add(time.Second)
	}
	if r := f.sendOnce(t); r != (delivery.Result{Sent: 1}) {
		t.Fatalf("final attempt %+v", r)
	}
	if n := len(f.sms.accepted()); n != 1 {
		t.Fatalf("delivered %d times", n)
	}
	if s := f.disp.Stats(); s != (delivery.Stats{Sent: 1, Failed: 4}) {
		t.Errorf("stats %+v", s)
	}
	keys := map[string]bool{}
	for _, e := range f.sms.got {
		keys[e.IdempotencyKey] = true
	}
	if len(keys) != 1 {
		t.Errorf("the idempotency key changed between attempts: %v", keys)
	}
}

func TestDispatcherDeadAfterMaxAttempts(t *testing.T) {
	f := mustFixture(t)
	f.disp.MaxAttempts, f.disp.BackoffBase = 3, time.Second
	f.sms.fail = []error{errors.New("down"), errors.New("down"), errors.New("down"), nil}
	f.queueCode(t, account.SMS, "79990000001", "222222")
	for range 2 {
		f.sendOnce(t)
		f.clock.Add(time.Minute)
	}
	if r := f.sendOnce(t); r != (delivery.Result{Dead: 1}) {
		t.Fatalf("third attempt %+v", r)
	}
	row := f.rows(t)[0]
	if row.Status != sqlite.OutboxDead || row.Secret != "" || row.Attempts != 3 || row.LastError != "down" || row.DeadAt.IsZero() {
		t.Fatalf("row %+v", row)
	}
	f.clock.Add(time.Hour)
	if r := f.sendOnce(t); r != (delivery.Result{}) || len(f.sms.accepted()) != 0 {
		t.Fatalf("a dead message was sent: %+v", r)
	}
}

func TestDispatcherPermanentFailureIsDeadAtOnce(t *testing.T) {
	f := mustFixture(t)
	f.email.fail = []error{delivery.Permanent(errors.New("550 no such user"))}
	f.queueLink(t, "secret-1")
	if r := f.sendOnce(t); r != (delivery.Result{Dead: 1}) {
		t.Fatalf("%+v", r)
	}
	if row := f.rows(t)[0]; row.Status != sqlite.OutboxDead || row.Secret != "" || row.LastError != "550 no such user" {
		t.Fatalf("row %+v", row)
	}
	if s := f.disp.Stats(); s != (delivery.Stats{Failed: 1, Dead: 1}) {
		t.Errorf("stats %+v", s)
	}
}

func TestDispatcherDropsExpiredMessages(t *testing.T) {
	f := mustFixture(t)
	f.queueCode(t, account.Email, "ivan@example.com", "333333")
	f.clock.Add(10 * time.Minute)
	if r := f.sendOnce(t); r != (delivery.Result{Dead: 1}) {
		t.Fatalf("%+v", r)
	}
	if len(f.email.got) != 0 {
		t.Fatal("an expired code was sent")
	}
	if row := f.rows(t)[0]; row.Status != sqlite.OutboxDead || !strings.Contains(row.LastError, "expired") {
		t.Fatalf("row %+v", row)
	}
}

// A dispatcher that died after claiming (kill -9 between claim and send, or between send and record)
// leaves the message "sending"; the next one requeues it and sends it once, with the same key.
func TestDispatcherRecoversClaimsOfADeadDispatcher(t *testing.T) {
	f := mustFixture(t)
	f.queueCode(t, account.SMS, "79990000001", "444444")
	f.queueCode(t, account.Email, "ivan@example.com", "555555")
	claimed, err := f.db.ClaimDue(context.Background(), f.clock.Now(), 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if r := f.sendOnce(t); r != (delivery.Result{Released: 1, Sent: 2}) {
		t.Fatalf("%+v", r)
	}
	if got := f.sms.accepted(); len(got) != 1 || got[0].IdempotencyKey != claimed[0].IdempotencyKey {
		t.Fatalf("sms %+v, claimed %+v", got, claimed[0])
	}
	for _, r := range f.rows(t) {
		if r.Status != sqlite.OutboxSent {
			t.Errorf("row %+v", r)
		}
	}
	if r := f.rows(t)[0]; r.Attempts != 2 {
		t.Errorf("the lost attempt was not counted: %d attempts", r.Attempts)
	}
}

func TestDispatchLockIsExclusive(t *testing.T) {
	f := mustFixture(t)
	lock, err := delivery.Lock(f.disp.LockPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.disp.SendOnce(context.Background()); !errors.Is(err, delivery.ErrLocked) {
		t.Fatalf("SendOnce beside a lock holder: %v", err)
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	f.sendOnce(t)
}

func TestDispatcherRunSendsOnNotifyAndStops(t *testing.T) {
	f := mustFixture(t)
	f.disp.Poll = time.Hour // only Notify can make it send
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.disp.Run(ctx) }()
	for i := range 3 {
		f.queueCode(t, account.SMS, "79990000001", fmt.Sprintf("90000%d", i))
		f.disp.Notify()
		for deadline := time.Now().Add(10 * time.Second); len(f.sms.accepted()) < i+1; {
			if time.Now().After(deadline) {
				t.Fatalf("message %d not sent after Notify", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(f.sms.accepted()); n != 3 {
		t.Fatalf("sent %d", n)
	}
}

func TestDispatcherSendsInParallelEachOnce(t *testing.T) {
	f := mustFixture(t)
	for i := range 70 { // more than one claim batch
		f.queueCode(t, account.SMS, "79990000001", fmt.Sprintf("%06d", i))
	}
	f.disp.Concurrency = 8
	if r := f.sendOnce(t); r.Sent != 70 {
		t.Fatalf("%+v", r)
	}
	seen := map[string]bool{}
	for _, e := range f.sms.accepted() {
		if seen[e.Code] {
			t.Fatalf("code %s sent twice", e.Code)
		}
		seen[e.Code] = true
	}
	if len(seen) != 70 {
		t.Fatalf("%d distinct sends", len(seen))
	}
}

func TestDispatcherPrunesOldMessages(t *testing.T) {
	f := mustFixture(t)
	f.disp.Retention = 24 * time.Hour
	f.queueCode(t, account.SMS, "79990000001", "777777")
	f.sendOnce(t)
	f.clock.Add(25 * time.Hour)
	f.queueCode(t, account.SMS, "79990000001", "888888")
	f.sendOnce(t)
	rows := f.rows(t)
	if len(rows) != 1 || rows[0].Status != sqlite.OutboxSent {
		t.Fatalf("rows %+v", rows)
	}
}

func TestInboxAppendsWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.jsonl")
	in := delivery.NewInbox(path)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := in.Send(context.Background(), delivery.Envelope{ID: int64(i), App: "lcmanager", Channel: account.SMS,
				To: "7999", Text: strings.Repeat("я", 3000), Code: fmt.Sprint(i), IdempotencyKey: fmt.Sprint("k", i)})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := delivery.ReadInbox(path)
	if err != nil || len(got) != 50 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("inbox mode %v: it holds codes", st.Mode().Perm())
	}
	if entries, err := delivery.ReadInbox(filepath.Join(t.TempDir(), "missing")); err != nil || entries != nil {
		t.Errorf("missing inbox: %v %v", entries, err)
	}
}

// BenchmarkDispatch measures a pass over the outbox: claim, render, hand to a sender that accepts at once,
// record; so the cost of the dispatcher and the SQLite bookkeeping per message, without a network.
func BenchmarkDispatch(b *testing.B) {
	f := mustFixture(b)
	const perPass = 200
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := range perPass {
			f.queueCode(b, account.SMS, "79990000001", fmt.Sprintf("%06d", j))
		}
		b.StartTimer()
		if r, err := f.disp.SendOnce(context.Background()); err != nil || r.Sent != perPass {
			b.Fatalf("%+v %v", r, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perPass)/1e3, "µs/msg")
}
