package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"aspgate/account"
)

// Defaults of the dispatcher's settings.
const (
	DefaultMaxAttempts = 8
	DefaultBackoffBase = 30 * time.Second
	DefaultBackoffMax  = time.Hour
	DefaultPoll        = time.Second
	DefaultSendTimeout = 30 * time.Second
	DefaultConcurrency = 4
	DefaultRetention   = 30 * 24 * time.Hour
	// DefaultScrubInterval bounds how long an erased secret may stay in the database's older pages.
	DefaultScrubInterval = time.Second
	defaultBatch         = 32
	maxErrorText         = 500
)

// Dispatcher delivers the outbox: it claims due messages, renders and sends them, and records each
// outcome. Delivery is at least once: a message is marked sending before it is sent and sent after, so a
// crash in between sends it again (once: the claim counts an attempt, and the idempotency key travels with
// both sends so the provider can drop the second).
type Dispatcher struct {
	Outbox    Outbox
	Templates *Templates
	Email     Sender // account.Email messages
	SMS       Sender // account.SMS messages
	// LockPath is the dispatch lock file (see DispatchLock); "" dispatches without one, for tests that
	// own their outbox.
	LockPath string

	MaxAttempts int           // attempts before a message is dead (DefaultMaxAttempts)
	BackoffBase time.Duration // wait after the first failure, doubled after each next one (DefaultBackoffBase)
	BackoffMax  time.Duration // longest wait between attempts (DefaultBackoffMax)
	Poll        time.Duration // how often Run looks for due messages when not woken (DefaultPoll)
	SendTimeout time.Duration // longest a single send may take (DefaultSendTimeout)
	Concurrency int           // sends in flight at once (DefaultConcurrency)
	Retention   time.Duration // sent and dead messages older than this are deleted (DefaultRetention; <0 keeps them)
	// ScrubInterval is the least time between two scrubs of an Outbox that is a Scrubber (DefaultScrubInterval).
	ScrubInterval time.Duration

	Now    func() time.Time
	Jitter func(d time.Duration) time.Duration // the wait actually used for a backoff of d; default: uniform in [d/2, d]
	Log    *slog.Logger

	wakeOnce sync.Once
	wake     chan struct{}
	stats    counters
	erased   atomic.Bool // a secret was erased since the last complete scrub
}

// Stats are the dispatcher's counters since it was made.
type Stats struct {
	Sent   uint64 // messages delivered
	Failed uint64 // attempts that failed (each retry and each final failure)
	Dead   uint64 // messages given up on
}

type counters struct{ sent, failed, dead atomic.Uint64 }

// Stats returns the counters, safe to call at any time.
func (d *Dispatcher) Stats() Stats {
	return Stats{Sent: d.stats.sent.Load(), Failed: d.stats.failed.Load(), Dead: d.stats.dead.Load()}
}

// Result is what one pass over the outbox did.
type Result struct {
	Released int // messages a dead dispatcher had claimed, requeued
	Sent     int
	Failed   int // failed attempts that will be retried
	Dead     int
}

func (d *Dispatcher) String() string {
	return fmt.Sprintf("e-mail: %s; sms: %s", d.Email, d.SMS)
}

// Notify wakes Run so a message queued just now goes out at once instead of at the next poll. It never
// blocks; wake-ups that arrive while one is pending merge.
func (d *Dispatcher) Notify() {
	select {
	case d.wakeChan() <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) wakeChan() chan struct{} {
	d.wakeOnce.Do(func() { d.wake = make(chan struct{}, 1) })
	return d.wake
}

// Run dispatches until ctx ends. When another process holds the dispatch lock it waits, retrying now and
// then, and takes over when that process goes away. Sends in flight when ctx ends are allowed to finish
// (up to SendTimeout) and recorded.
func (d *Dispatcher) Run(ctx context.Context) error {
	lock, err := d.lock()
	if errors.Is(err, ErrLocked) {
		d.log().Warn("another process is dispatching this outbox; this one waits to take over", "lock", d.LockPath)
	}
	for errors.Is(err, ErrLocked) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(10 * d.poll()):
		}
		lock, err = d.lock()
	}
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if err := d.release(ctx); err != nil {
		return err
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	var lastPrune, lastScrub time.Time
	for {
		select {
		case <-ctx.Done():
			d.scrub(context.WithoutCancel(ctx))
			return nil
		case <-timer.C:
		case <-d.wakeChan():
		}
		if _, err := d.drain(ctx); err != nil && ctx.Err() == nil {
			d.log().Error("outbox", "err", err)
		}
		if now := d.now(); now.Sub(lastScrub) >= d.scrubInterval() && d.erased.Load() {
			lastScrub = now
			d.scrub(ctx)
		}
		if now := d.now(); now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			d.prune(ctx)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(d.poll())
	}
}

// SendOnce takes the dispatch lock, requeues what a dead dispatcher left claimed, sends every message due
// now and returns; for a cron job, or for a server started with dispatching off. ErrLocked means a
// running server is dispatching this outbox already.
func (d *Dispatcher) SendOnce(ctx context.Context) (Result, error) {
	lock, err := d.lock()
	if err != nil {
		return Result{}, err
	}
	defer lock.Unlock()
	released, err := d.Outbox.ReleaseClaims(ctx, d.now())
	if err != nil {
		return Result{}, err
	}
	r, err := d.drain(ctx)
	r.Released = released
	d.prune(ctx)
	d.scrub(ctx)
	return r, err
}

func (d *Dispatcher) scrubInterval() time.Duration {
	if d.ScrubInterval > 0 {
		return d.ScrubInterval
	}
	return DefaultScrubInterval
}

// scrub asks a Scrubber outbox to make the secrets erased so far unrecoverable.
func (d *Dispatcher) scrub(ctx context.Context) {
	s, ok := d.Outbox.(Scrubber)
	if !ok || !d.erased.Swap(false) {
		return
	}
	if err := s.Scrub(ctx); err != nil {
		d.erased.Store(true) // try again
		d.log().Warn("outbox scrub", "err", err)
	}
}

func (d *Dispatcher) lock() (*DispatchLock, error) {
	if d.LockPath == "" {
		return nil, nil
	}
	return Lock(d.LockPath)
}

func (d *Dispatcher) release(ctx context.Context) error {
	n, err := d.Outbox.ReleaseClaims(ctx, d.now())
	if err != nil {
		return err
	}
	if n > 0 {
		d.log().Warn("requeued messages claimed by a dispatcher that stopped before recording their outcome; they are sent again with their idempotency keys", "messages", n)
	}
	return nil
}

func (d *Dispatcher) prune(ctx context.Context) {
	if d.Retention < 0 {
		return
	}
	keep := d.Retention
	if keep == 0 {
		keep = DefaultRetention
	}
	if n, err := d.Outbox.PruneOutbox(ctx, d.now().Add(-keep)); err != nil {
		d.log().Error("outbox prune", "err", err)
	} else if n > 0 {
		d.log().Info("outbox pruned", "messages", n)
	}
}

// drain sends batches of due messages until none is due.
func (d *Dispatcher) drain(ctx context.Context) (Result, error) {
	var (
		r  Result
		mu sync.Mutex
	)
	conc := d.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	for ctx.Err() == nil {
		batch, err := d.Outbox.ClaimDue(ctx, d.now(), defaultBatch)
		if err != nil || len(batch) == 0 {
			return r, err
		}
		sem := make(chan struct{}, conc)
		var wg sync.WaitGroup
		for _, m := range batch {
			sem <- struct{}{}
			wg.Add(1)
			go func(m account.QueuedMessage) {
				defer func() { <-sem; wg.Done() }()
				o := d.deliver(ctx, m)
				mu.Lock()
				switch o {
				case outcomeSent:
					r.Sent++
				case outcomeRetry:
					r.Failed++
				case outcomeDead:
					r.Dead++
				}
				mu.Unlock()
			}(m)
		}
		wg.Wait()
	}
	return r, nil
}

type outcome int

const (
	outcomeSent outcome = iota
	outcomeRetry
	outcomeDead
)

// deliver sends one claimed message and records the outcome. Recording uses a context that outlives ctx:
// a send that happened must be recorded even while the server shuts down.
func (d *Dispatcher) deliver(ctx context.Context, m account.QueuedMessage) outcome {
	rec := context.WithoutCancel(ctx)
	log := d.log().With("message", m.ID, "app", m.App, "channel", string(m.Channel), "kind", string(m.Kind),
		"to", MaskRecipient(m.To), "attempt", m.Attempts)
	now := d.now()
	if !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt) {
		d.dead(rec, log, m, "expired before it could be delivered")
		return outcomeDead
	}
	env, err := d.Templates.Render(m)
	var sender Sender
	if err == nil {
		switch m.Channel {
		case account.Email:
			sender = d.Email
		case account.SMS:
			sender = d.SMS
		}
		if sender == nil {
			err = fmt.Errorf("no sender for channel %q", m.Channel)
		}
	}
	if err != nil {
		d.stats.failed.Add(1)
		d.dead(rec, log, m, err.Error())
		return outcomeDead
	}
	timeout := d.SendTimeout
	if timeout <= 0 {
		timeout = DefaultSendTimeout
	}
	sctx, cancel := context.WithTimeout(rec, timeout)
	err = sender.Send(sctx, env)
	cancel()
	if err == nil {
		d.stats.sent.Add(1)
		if rerr := d.Outbox.MarkSent(rec, m.ID, d.now()); rerr != nil {
			log.Error("message sent but not recorded; it will be sent again with the same idempotency key", "err", rerr)
		} else {
			d.erased.Store(true)
			log.Info("message sent", "via", sender.String())
		}
		return outcomeSent
	}
	d.stats.failed.Add(1)
	max := d.MaxAttempts
	if max <= 0 {
		max = DefaultMaxAttempts
	}
	if IsPermanent(err) || m.Attempts >= max {
		d.dead(rec, log, m, err.Error())
		return outcomeDead
	}
	next := d.now().Add(d.backoff(m.Attempts))
	if rerr := d.Outbox.MarkRetry(rec, m.ID, next, errorText(err.Error())); rerr != nil {
		log.Error("outbox", "err", rerr)
	}
	log.Warn("message not sent; will retry", "err", err, "next_attempt_at", next)
	return outcomeRetry
}

func (d *Dispatcher) dead(ctx context.Context, log *slog.Logger, m account.QueuedMessage, why string) {
	d.stats.dead.Add(1)
	if err := d.Outbox.MarkDead(ctx, m.ID, d.now(), errorText(why)); err != nil {
		log.Error("outbox", "err", err)
	} else {
		d.erased.Store(true)
	}
	log.Error("message dead", "err", why)
}

// backoff is the wait after the given failed attempt: BackoffBase doubled per earlier failure, capped at
// BackoffMax, jittered so messages that failed together (a provider outage) do not retry together.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	base, max := d.BackoffBase, d.BackoffMax
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if max <= 0 {
		max = DefaultBackoffMax
	}
	w := base
	for i := 1; i < attempt && w < max; i++ {
		w *= 2
	}
	w = min(w, max)
	if d.Jitter != nil {
		return d.Jitter(w)
	}
	return w/2 + rand.N(w/2+1)
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) poll() time.Duration {
	if d.Poll > 0 {
		return d.Poll
	}
	return DefaultPoll
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

func errorText(s string) string {
	if len(s) > maxErrorText {
		s = s[:maxErrorText]
		for !utf8.ValidString(s) { // do not cut a character in two
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// MaskRecipient hides most of an address for logs: "iv***@example.com", "*******0001".
func MaskRecipient(to string) string {
	if user, domain, ok := strings.Cut(to, "@"); ok {
		keep := min(2, len(user))
		return user[:keep] + "***@" + domain
	}
	if len(to) <= 4 {
		return strings.Repeat("*", len(to))
	}
	return strings.Repeat("*", len(to)-4) + to[len(to)-4:]
}
