// Package rules holds what both storage engines compute the same way in Go, around their SQL: the GCRA
// arithmetic of the send limits and the per-process memory of exhausted counters, the sign-in guard's
// list of attempts, and the shape of a decoy message. The SQL that stores the results is each engine's.
package rules

import (
	"strconv"
	"strings"
	"sync"

	"aspgate/account"
)

// Key is a limit counter's key: the limit's key and window (milliseconds).
type Key struct {
	Key    string
	Window int64
}

// KeyOf is a limit's counter key.
func KeyOf(l account.Limit) Key { return Key{l.Key, l.Window.Milliseconds()} }

// GCRA returns a limit's emission interval and tolerance in milliseconds: Max events per Window admit one
// at now when tat - now <= tolerance, and each moves tat to max(tat, now) + interval.
func GCRA(l account.Limit) (interval, tolerance int64) {
	w := l.Window.Milliseconds()
	interval = max(w/int64(l.Max), 1)
	return interval, w - interval
}

// Active drops the limits that do not limit (Max <= 0), keeping the caller's order.
func Active(limits []account.Limit) []account.Limit {
	active := limits[:0:0]
	for _, l := range limits {
		if l.Max > 0 {
			active = append(active, l)
		}
	}
	return active
}

// Exhausted remembers, per process, until when a counter cannot admit an event, so that a refusal is
// answered from memory. Another writer's events only make a counter fuller, so a counter known to be full
// stays full at least that long.
type Exhausted struct {
	mu    sync.Mutex
	until map[Key]int64 // ms
}

// maxExhausted bounds the memory: beyond it, new counters are not remembered (refusals then query).
const maxExhausted = 100_000

// First returns the first limit known to be exhausted at at, or nil.
func (e *Exhausted) First(at int64, limits []account.Limit) *account.Limit {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range limits {
		if limits[i].Max <= 0 {
			continue
		}
		if u, ok := e.until[KeyOf(limits[i])]; ok {
			if at < u {
				return &limits[i]
			}
			delete(e.until, KeyOf(limits[i]))
		}
	}
	return nil
}

// Note records the counters' tats as read or written at at.
func (e *Exhausted) Note(at int64, limits []account.Limit, tats map[Key]int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range limits {
		tat, ok := tats[KeyOf(l)]
		if !ok {
			continue
		}
		_, tolerance := GCRA(l)
		if until := tat - tolerance; until > at {
			if e.until == nil {
				e.until = make(map[Key]int64)
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
			e.until[KeyOf(l)] = until
		}
	}
}

// SignInAttempt is ONLYOFFICE's BruteForceLoginManager.Increment on a key's stored attempts (a list of
// times): the attempt at at is added to those within rule.Period, and more than rule.Attempts blocks the
// key until at + rule.Block and forgets the attempts. It returns what to store and whether the attempt is
// allowed. (A key still blocked is the caller's to refuse before it gets here.)
func SignInAttempt(list string, at int64, rule account.SignInRule) (attempts string, blockedUntil, expires int64, allowed bool) {
	var recent []int64
	for _, t := range parseTimes(list) {
		if t > at-rule.Period.Milliseconds() {
			recent = append(recent, t)
		}
	}
	recent = append(recent, at)
	allowed = true
	if len(recent) > rule.Attempts {
		blockedUntil, allowed, recent = at+rule.Block.Milliseconds(), false, nil
	}
	return formatTimes(recent), blockedUntil, max(at+rule.Period.Milliseconds(), blockedUntil), allowed
}

// SignInSucceeded is Decrement: the latest attempt taken back; false when there was none.
func SignInSucceeded(list string) (string, bool) {
	times := parseTimes(list)
	if len(times) == 0 {
		return list, false
	}
	return formatTimes(times[:len(times)-1]), true
}

func parseTimes(s string) []int64 {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		if v, err := strconv.ParseInt(p, 10, 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func formatTimes(ts []int64) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(t, 10))
	}
	return b.String()
}

// DecoyMessage is a message of msg's size that names no one and carries no secret: what a decoy write
// queues where a real one would queue msg.
func DecoyMessage(msg account.Message) account.Message {
	msg.To = strings.Repeat("x", len(msg.To))
	msg.Secret = account.NewHexID((len(msg.Secret) + 1) / 2)[:len(msg.Secret)]
	return msg
}
