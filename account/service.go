package account

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Service runs the recovery flows.
type Service struct {
	Store  Store
	Hasher *Hasher
	Keys   *Keyring
	Config Config
	Now    func() time.Time // injected clock
	Log    *slog.Logger
}

// MAC purposes: a secret of one kind can never match a stored secret of another.
const (
	macCode      = "code"
	macChange    = "change"
	macAPIKey    = "apikey"
	macRecipient = "recipient"
)

// PurposeReset is the purpose of the codes RememberMessage sends and ResetPassword consumes.
const PurposeReset = "reset"

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// APIKeyMAC is how an API key is stored.
func (s *Service) APIKeyMAC(key string) []byte { return s.Keys.MAC(macAPIKey, key) }

func (s *Service) limits(channel Channel, recipient, clientIP string) []Limit {
	// Recipients are keyed by their MAC, so the send log never holds a phone number or an address.
	r := "rcpt:" + hex.EncodeToString(s.Keys.MAC(macRecipient, string(channel)+":"+recipient))
	l := s.Config.Limits
	out := []Limit{
		{Key: r, Window: time.Minute, Max: l.PerRecipientMinute},
		{Key: r, Window: time.Hour, Max: l.PerRecipientHour},
	}
	if clientIP != "" {
		out = append(out, Limit{Key: "ip:" + clientIP, Window: time.Hour, Max: l.PerClientHour})
	}
	return out
}

// CodeRequest asks for a 6-digit code (lcmanager RememberMessage).
type CodeRequest struct {
	App      string
	Phone    string // digits; takes precedence over Email
	Email    string
	ClientIP string
}

// SendCode sends a fresh code by SMS (when a phone is given) or e-mail and returns a new SessionId. An
// unknown phone or e-mail gets the same answer and nothing is sent; the send limits count it all the same.
func (s *Service) SendCode(ctx context.Context, r CodeRequest) (string, error) {
	sessionID := NewHexID(16)
	channel, recipient := SMS, strings.TrimSpace(r.Phone)
	if recipient == "" {
		channel, recipient = Email, strings.ToLower(strings.TrimSpace(r.Email))
	}
	if recipient == "" {
		return "", ErrNoRecipient
	}
	now := s.now()
	ok, err := s.Store.TakeSend(ctx, now, s.limits(channel, recipient, r.ClientIP))
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrRateLimited
	}
	var u *User
	if channel == SMS {
		u, err = s.Store.UserByPhone(ctx, recipient)
	} else {
		u, err = s.Store.UserByEmail(ctx, recipient)
	}
	if errors.Is(err, ErrNotFound) {
		s.log().InfoContext(ctx, "code requested for an unknown recipient", "app", r.App, "channel", string(channel))
		return sessionID, nil
	}
	if err != nil {
		return "", err
	}
	code := NewCode6()
	msg := Message{App: r.App, Channel: channel, Kind: KindCode, To: recipient, Secret: code,
		ExpiresAt: now.Add(s.Config.CodeTTL)}
	err = s.Store.IssueCode(ctx, NewCode{
		UserID: u.ID, Purpose: PurposeReset, MAC: s.codeMAC(u.ID, code),
		CreatedAt: now, ExpiresAt: now.Add(s.Config.CodeTTL),
	}, msg)
	if err != nil {
		return "", err
	}
	s.log().InfoContext(ctx, "code issued", "app", r.App, "channel", string(channel), "user_id", u.ID)
	return sessionID, nil
}

func (s *Service) codeMAC(userID int64, code string) []byte {
	return s.Keys.MAC(macCode, fmt.Sprintf("%d:%s", userID, code))
}

// ResetWithCode consumes a code sent by SendCode and sets a new password. Every way a code can fail
// (unknown user, no code, wrong, expired, used, superseded, too many attempts) is ErrCodeRejected; an
// attempt is counted before the code is checked, and after MaxAttempts even the right code fails.
func (s *Service) ResetWithCode(ctx context.Context, userID int64, code, newPassword string) error {
	u, err := s.Store.UserByID(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return ErrCodeRejected
	}
	if err != nil {
		return err
	}
	c, err := s.Store.LiveCode(ctx, u.ID, PurposeReset)
	if errors.Is(err, ErrNotFound) {
		return ErrCodeRejected
	}
	if err != nil {
		return err
	}
	attempts, err := s.Store.CountAttempt(ctx, c.ID)
	if err != nil {
		return err
	}
	now := s.now()
	if attempts > s.Config.MaxAttempts || !now.Before(c.ExpiresAt) || !Equal(s.codeMAC(u.ID, code), c.MAC) {
		s.log().InfoContext(ctx, "code rejected", "user_id", u.ID, "attempts", attempts)
		return ErrCodeRejected
	}
	if err := CheckPolicy(newPassword, u); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	if err := s.Store.ResetPassword(ctx, c.ID, u.ID, hash, s.now()); err != nil {
		return err
	}
	s.log().InfoContext(ctx, "password reset with a code", "user_id", u.ID)
	return nil
}

// LinkRequest asks for a password-change link (aries ForgotPassword).
type LinkRequest struct {
	App      string
	APIKey   string
	UserName string
	Email    string
	ClientIP string
}

// SendChangeLink checks the client application's API key and e-mails a link carrying a fresh
// ChangeRequestId. An unknown user gets the same answer and nothing is sent.
func (s *Service) SendChangeLink(ctx context.Context, r LinkRequest) error {
	if r.APIKey == "" {
		return ErrInvalidAPIKey
	}
	ok, err := s.Store.APIKeyActive(ctx, r.App, s.APIKeyMAC(r.APIKey))
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidAPIKey
	}
	name := strings.TrimSpace(r.UserName)
	email := strings.ToLower(strings.TrimSpace(r.Email))
	key := "user:" + strings.ToLower(name)
	if name == "" {
		key = email
	}
	now := s.now()
	if ok, err := s.Store.TakeSend(ctx, now, s.limits(Email, key, r.ClientIP)); err != nil {
		return err
	} else if !ok {
		return ErrRateLimited
	}
	u, err := s.findUser(ctx, name, email)
	if errors.Is(err, ErrNotFound) || err == nil && u.Email == "" {
		s.log().InfoContext(ctx, "change link requested for an unknown user", "app", r.App)
		return nil
	}
	if err != nil {
		return err
	}
	id := NewToken(32)
	msg := Message{App: r.App, Channel: Email, Kind: KindChangeLink, To: u.Email, Secret: id,
		LinkBase: linkBase(s.Config.LinkBaseURL), ExpiresAt: now.Add(s.Config.ChangeTTL)}
	err = s.Store.IssueChangeRequest(ctx, NewChangeRequest{
		UserID: u.ID, MAC: s.Keys.MAC(macChange, id), CreatedAt: now, ExpiresAt: now.Add(s.Config.ChangeTTL),
	}, msg)
	if err != nil {
		return err
	}
	s.log().InfoContext(ctx, "change link issued", "app", r.App, "user_id", u.ID)
	return nil
}

func (s *Service) findUser(ctx context.Context, name, email string) (*User, error) {
	if name != "" {
		u, err := s.Store.UserByUserName(ctx, name)
		if !errors.Is(err, ErrNotFound) || email == "" {
			return u, err
		}
	}
	if email == "" {
		return nil, ErrNotFound
	}
	return s.Store.UserByEmail(ctx, email)
}

// ChangeInput is a password change by ChangeRequestId (customer PasswordChange).
type ChangeInput struct {
	ChangeRequestID    string
	Password           string
	IPAddress          string
	UserAgent          string
	PermanentSessionID string
}

// ChangePassword consumes a ChangeRequestId and sets the password, refusing one equal to the current
// password or to one of the last HistoryDepth ones (nothing changes then). It returns the user.
func (s *Service) ChangePassword(ctx context.Context, in ChangeInput) (*User, error) {
	if in.ChangeRequestID == "" {
		return nil, ErrChangeRequestNotFound
	}
	r, err := s.Store.ChangeRequestByMAC(ctx, s.Keys.MAC(macChange, in.ChangeRequestID))
	if errors.Is(err, ErrNotFound) || err == nil && r.Used {
		return nil, ErrChangeRequestNotFound
	}
	if err != nil {
		return nil, err
	}
	if !s.now().Before(r.ExpiresAt) {
		return nil, ErrChangeRequestExpired
	}
	u, err := s.Store.UserByID(ctx, r.UserID)
	if err != nil {
		return nil, err
	}
	if err := CheckPolicy(in.Password, u); err != nil {
		return nil, err
	}
	history, err := s.Store.PasswordHistory(ctx, u.ID, s.Config.HistoryDepth)
	if err != nil {
		return nil, err
	}
	for _, h := range append([]string{u.PasswordHash}, history...) {
		same, err := s.Hasher.Verify(ctx, h, in.Password)
		if err != nil {
			return nil, err
		}
		if same {
			return nil, ErrPasswordUsedBefore
		}
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	audit := Audit{Event: "password_changed", IPAddress: in.IPAddress, UserAgent: in.UserAgent, PermanentSessionID: in.PermanentSessionID}
	if err := s.Store.ChangePassword(ctx, r.ID, u.ID, hash, s.now(), audit); err != nil {
		return nil, err
	}
	s.log().InfoContext(ctx, "password changed with a change request", "user_id", u.ID)
	return u, nil
}

// linkBase is the change page's URL ready for the ChangeRequestId: URL?id= (or URL&id= when the URL
// already has a query).
func linkBase(page string) string {
	if strings.Contains(page, "?") {
		return page + "&id="
	}
	return page + "?id="
}
