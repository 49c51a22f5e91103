package account_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"

	"aspgate/account"
)

// tfStore is a small in-memory account.TwoFactorStore for the flow tests; the SQLite store has its own
// tests, including the races.
type tfStore struct {
	mu     sync.Mutex
	users  []*account.User
	state  map[int64]*tfState
	codes  []*tfCode
	tokens []*account.APIToken
	macs   map[int64][]byte // token id -> MAC
	sends  sendLog
	outbox []account.Message
	guard  map[string]*tfGuard
	events map[string][]time.Time // limit key/window -> recorded events (a sliding log, not the store's GCRA)
}

type tfGuard struct {
	attempts     []time.Time
	blockedUntil time.Time
}

type tfState struct {
	secret         []byte
	lastStep       int64
	confirmedPhone string
	failures       int
	lockedUntil    time.Time
}

type tfCode struct {
	account.LoginCode
	used, superseded bool
}

func newTFStore(users ...*account.User) *tfStore {
	return &tfStore{users: users, state: map[int64]*tfState{}, macs: map[int64][]byte{},
		guard: map[string]*tfGuard{}, events: map[string][]time.Time{}}
}

func (s *tfStore) UserByUID(_ context.Context, uid [16]byte) (*account.User, error) {
	return s.find(func(u *account.User) bool { return u.UID == uid })
}

// SignInAttempt keeps BruteForceLoginManager's history as a list of times, as ONLYOFFICE's cache does.
func (s *tfStore) SignInAttempt(_ context.Context, key string, now time.Time, rule account.SignInRule) (bool, error) {
	if rule.Attempts <= 0 {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guard[key]
	if g == nil {
		g = &tfGuard{}
		s.guard[key] = g
	}
	if now.Before(g.blockedUntil) {
		return false, nil
	}
	var recent []time.Time
	for _, t := range g.attempts {
		if t.After(now.Add(-rule.Period)) {
			recent = append(recent, t)
		}
	}
	g.attempts = append(recent, now)
	if len(g.attempts) > rule.Attempts {
		g.attempts, g.blockedUntil = nil, now.Add(rule.Block)
		return false, nil
	}
	return true, nil
}

func (s *tfStore) SignInSucceeded(_ context.Context, key string, _ time.Time, rule account.SignInRule) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.guard[key]; g != nil && len(g.attempts) > 0 {
		g.attempts = g.attempts[:len(g.attempts)-1]
	}
	return nil
}

func limitKey(l account.Limit) string { return l.Key + "/" + l.Window.String() }

func (s *tfStore) LimitAllows(_ context.Context, now time.Time, limits []account.Limit) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range limits {
		n := 0
		for _, t := range s.events[limitKey(l)] {
			if t.After(now.Add(-l.Window)) {
				n++
			}
		}
		if l.Max > 0 && n >= l.Max {
			return false, nil
		}
	}
	return true, nil
}

func (s *tfStore) ChargeLimits(_ context.Context, now time.Time, limits []account.Limit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range limits {
		s.events[limitKey(l)] = append(s.events[limitKey(l)], now)
	}
	return nil
}

func (s *tfStore) find(f func(u *account.User) bool) (*account.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if f(u) {
			c := *u
			return &c, nil
		}
	}
	return nil, account.ErrNotFound
}

func (s *tfStore) user(id int64) *account.User {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (s *tfStore) st(id int64) *tfState {
	if s.state[id] == nil {
		s.state[id] = &tfState{}
	}
	return s.state[id]
}

func (s *tfStore) UserByUserName(_ context.Context, name string) (*account.User, error) {
	return s.find(func(u *account.User) bool { return strings.EqualFold(u.UserName, name) })
}

func (s *tfStore) UserByEmail(_ context.Context, email string) (*account.User, error) {
	return s.find(func(u *account.User) bool { return strings.EqualFold(u.Email, email) })
}

func (s *tfStore) TakeSend(_ context.Context, now time.Time, limits []account.Limit) (*account.Limit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sends.take(now, limits), nil
}

func (s *tfStore) CountAttempt(_ context.Context, id int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[id-1]
	c.Attempts++
	return c.Attempts, nil
}

func (s *tfStore) TwoFactorState(_ context.Context, userID int64) (*account.TwoFactorState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(userID)
	if u == nil {
		return nil, account.ErrNotFound
	}
	st := s.st(userID)
	out := &account.TwoFactorState{TOTPSecret: st.secret, TOTPLastStep: st.lastStep, Failures: st.failures,
		LockedUntil: st.lockedUntil}
	if st.confirmedPhone != "" && st.confirmedPhone == u.Phone {
		out.Phone = u.Phone
	}
	return out, nil
}

func (s *tfStore) RecordTwoFactorFailure(_ context.Context, userID int64, now time.Time, lockAfter int, lockFor time.Duration) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st(userID)
	st.failures++
	if st.failures < lockAfter {
		return time.Time{}, nil
	}
	st.failures, st.lockedUntil = 0, now.Add(lockFor)
	return st.lockedUntil, nil
}

func (s *tfStore) SetTOTPSecret(_ context.Context, userID int64, sealed []byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.user(userID) == nil {
		return account.ErrNotFound
	}
	st := s.st(userID)
	st.secret, st.lastStep = sealed, 0
	return nil
}

func (s *tfStore) IssueLoginCode(_ context.Context, c account.NewLoginCode, msg account.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.codes {
		if old.UserID == c.UserID {
			old.superseded = true
		}
	}
	s.codes = append(s.codes, &tfCode{LoginCode: account.LoginCode{Code: account.Code{ID: int64(len(s.codes) + 1),
		UserID: c.UserID, MAC: c.MAC, ExpiresAt: c.ExpiresAt}, Phone: c.Phone}})
	s.outbox = append(s.outbox, msg)
	return nil
}

func (s *tfStore) LiveLoginCode(_ context.Context, userID int64) (*account.LoginCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.codes) - 1; i >= 0; i-- {
		if c := s.codes[i]; c.UserID == userID && !c.used && !c.superseded {
			cc := c.LoginCode
			return &cc, nil
		}
	}
	return nil, account.ErrNotFound
}

func (s *tfStore) locked(userID int64, at time.Time) bool { return at.Before(s.st(userID).lockedUntil) }

func (s *tfStore) CompleteTOTPLogin(_ context.Context, l account.TOTPLogin) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st(l.UserID)
	if !bytes.Equal(st.secret, l.Secret) || l.Step <= st.lastStep || s.locked(l.UserID, l.Token.CreatedAt) {
		return account.ErrAuthFailed
	}
	st.lastStep, st.failures, st.lockedUntil = l.Step, 0, time.Time{}
	s.addToken(l.Token)
	return nil
}

func (s *tfStore) CompleteSMSLogin(_ context.Context, l account.SMSLogin) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[l.CodeID-1]
	if c.used || c.superseded || c.UserID != l.UserID || c.Phone != l.Phone || !l.Token.CreatedAt.Before(c.ExpiresAt) ||
		c.Attempts > l.MaxAttempts || s.locked(l.UserID, l.Token.CreatedAt) {
		return account.ErrAuthFailed
	}
	if l.Phone != "" {
		for _, u := range s.users {
			if u.ID != l.UserID && u.Phone == l.Phone {
				return account.ErrPhoneTaken
			}
		}
		s.user(l.UserID).Phone = l.Phone
		s.st(l.UserID).confirmedPhone = l.Phone
	}
	c.used = true
	st := s.st(l.UserID)
	st.failures, st.lockedUntil = 0, time.Time{}
	s.addToken(l.Token)
	return nil
}

func (s *tfStore) addToken(t account.NewAPIToken) {
	id := int64(len(s.tokens) + 1)
	s.tokens = append(s.tokens, &account.APIToken{ID: id, UserID: t.UserID, UserUID: s.user(t.UserID).UID,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt})
	s.macs[id] = t.MAC
}

func (s *tfStore) IssueAPIToken(_ context.Context, t account.NewAPIToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addToken(t)
	return nil
}

func (s *tfStore) APITokenByMAC(_ context.Context, mac []byte) (*account.APIToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if bytes.Equal(s.macs[t.ID], mac) {
			c := *t
			return &c, nil
		}
	}
	return nil, account.ErrNotFound
}

func (s *tfStore) RevokeAPIToken(_ context.Context, mac []byte, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if bytes.Equal(s.macs[t.ID], mac) && t.RevokedAt.IsZero() {
			t.RevokedAt = now
		}
	}
	return nil
}

func (s *tfStore) RevokeUserAPITokens(_ context.Context, userID int64, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.tokens {
		if t.UserID == userID && t.RevokedAt.IsZero() {
			t.RevokedAt = now
			n++
		}
	}
	return n, nil
}

func (s *tfStore) lastMessage() account.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outbox[len(s.outbox)-1]
}

func (s *tfStore) messages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outbox)
}

func (s *tfStore) UpgradePasswordHash(_ context.Context, userID int64, old, upgraded string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.ID == userID && u.PasswordHash == old {
			u.PasswordHash = upgraded
		}
	}
	return nil
}
