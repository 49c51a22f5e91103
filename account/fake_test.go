package account_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"

	"aspgate/account"
)

// memStore is a small in-memory account.Store for the flow tests; the SQLite store has its own tests.
type memStore struct {
	mu       sync.Mutex
	users    []*account.User
	history  map[int64][]string
	codes    []*memCode
	requests []*memRequest
	apiKeys  map[string][]byte
	sends    sendLog
	outbox   []account.Message
	audits   []account.Audit
}

type memCode struct {
	account.Code
	purpose    string
	used       bool
	superseded bool
}

type memRequest struct {
	account.ChangeRequest
	mac        []byte
	superseded bool
}

// sendLog is the fakes' TakeSend: each limit a GCRA over time.Time values (the store's is over integer
// milliseconds in SQL): Max events at once, then one every Window/Max. The caller holds its store's lock.
type sendLog struct {
	tat    map[string]time.Time // limit key and window -> theoretical arrival time
	decoys int
}

func (l *sendLog) take(now time.Time, limits []account.Limit) *account.Limit {
	if l.tat == nil {
		l.tat = map[string]time.Time{}
	}
	key := func(lim account.Limit) string { return lim.Key + "/" + lim.Window.String() }
	for i, lim := range limits {
		if lim.Max <= 0 {
			continue
		}
		interval := lim.Window / time.Duration(lim.Max)
		if t, ok := l.tat[key(lim)]; ok && t.Sub(now) > lim.Window-interval {
			return &limits[i]
		}
	}
	for _, lim := range limits {
		if lim.Max <= 0 {
			continue
		}
		t := l.tat[key(lim)]
		if t.Before(now) {
			t = now
		}
		l.tat[key(lim)] = t.Add(lim.Window / time.Duration(lim.Max))
	}
	return nil
}

func newMemStore() *memStore {
	return &memStore{history: map[int64][]string{}, apiKeys: map[string][]byte{}}
}

func (s *memStore) find(f func(u *account.User) bool) (*account.User, error) {
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

func (s *memStore) UserByPhone(_ context.Context, phone string) (*account.User, error) {
	return s.find(func(u *account.User) bool { return u.Phone == phone })
}

func (s *memStore) UserByEmail(_ context.Context, email string) (*account.User, error) {
	return s.find(func(u *account.User) bool { return strings.EqualFold(u.Email, email) })
}

func (s *memStore) UserByUserName(_ context.Context, name string) (*account.User, error) {
	return s.find(func(u *account.User) bool { return strings.EqualFold(u.UserName, name) })
}

func (s *memStore) UserByID(_ context.Context, id int64) (*account.User, error) {
	return s.find(func(u *account.User) bool { return u.ID == id })
}

func (s *memStore) PasswordHistory(_ context.Context, userID int64, n int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.history[userID]
	if len(h) > n {
		h = h[:n]
	}
	return append([]string(nil), h...), nil
}

func (s *memStore) APIKeyActive(_ context.Context, app string, mac []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Equal(s.apiKeys[app], mac), nil
}

func (s *memStore) TakeSend(_ context.Context, now time.Time, limits []account.Limit) (*account.Limit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sends.take(now, limits), nil
}

func (s *memStore) decoy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sends.decoys++
	return nil
}

func (s *memStore) IssueDecoyCode(context.Context, account.NewCode, account.Message) error {
	return s.decoy()
}

func (s *memStore) CountDecoyAttempt(context.Context, string) error { return s.decoy() }

func (s *memStore) IssueDecoyChangeRequest(context.Context, account.NewChangeRequest, account.Message) error {
	return s.decoy()
}

func (s *memStore) IssueCode(_ context.Context, c account.NewCode, msg account.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.codes {
		if old.UserID == c.UserID && old.purpose == c.Purpose {
			old.superseded = true
		}
	}
	s.codes = append(s.codes, &memCode{Code: account.Code{ID: int64(len(s.codes) + 1), UserID: c.UserID, MAC: c.MAC, ExpiresAt: c.ExpiresAt}, purpose: c.Purpose})
	s.outbox = append(s.outbox, msg)
	return nil
}

func (s *memStore) LiveCode(_ context.Context, userID int64, purpose string) (*account.Code, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.codes) - 1; i >= 0; i-- {
		c := s.codes[i]
		if c.UserID == userID && c.purpose == purpose && !c.used && !c.superseded {
			cc := c.Code
			return &cc, nil
		}
	}
	return nil, account.ErrNotFound
}

func (s *memStore) CountAttempt(_ context.Context, id int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[id-1]
	c.Attempts++
	return c.Attempts, nil
}

func (s *memStore) setPassword(userID int64, hash string) {
	for _, u := range s.users {
		if u.ID == userID {
			s.history[userID] = append([]string{u.PasswordHash}, s.history[userID]...)
			u.PasswordHash = hash
		}
	}
}

func (s *memStore) ResetPassword(_ context.Context, codeID, userID int64, hash string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[codeID-1]
	if c.used || c.superseded {
		return account.ErrCodeRejected
	}
	c.used = true
	s.setPassword(userID, hash)
	return nil
}

func (s *memStore) IssueChangeRequest(_ context.Context, r account.NewChangeRequest, msg account.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.requests {
		if old.UserID == r.UserID {
			old.superseded = true
		}
	}
	s.requests = append(s.requests, &memRequest{ChangeRequest: account.ChangeRequest{ID: int64(len(s.requests) + 1), UserID: r.UserID, ExpiresAt: r.ExpiresAt}, mac: r.MAC})
	s.outbox = append(s.outbox, msg)
	return nil
}

func (s *memStore) ChangeRequestByMAC(_ context.Context, mac []byte) (*account.ChangeRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.requests {
		if bytes.Equal(r.mac, mac) {
			c := r.ChangeRequest
			c.Used = c.Used || r.superseded
			return &c, nil
		}
	}
	return nil, account.ErrNotFound
}

func (s *memStore) ChangePassword(_ context.Context, requestID, userID int64, hash string, _ time.Time, audit account.Audit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[requestID-1]
	if r.Used || r.superseded {
		return account.ErrChangeRequestNotFound
	}
	r.Used = true
	s.setPassword(userID, hash)
	s.audits = append(s.audits, audit)
	return nil
}

func (s *memStore) lastMessage() account.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outbox[len(s.outbox)-1]
}

func (s *memStore) messages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outbox)
}

func (s *memStore) UpgradePasswordHash(_ context.Context, userID int64, old, upgraded string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.ID == userID && u.PasswordHash == old {
			u.PasswordHash = upgraded
		}
	}
	return nil
}
