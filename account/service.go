package account

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
	macSession   = "session"
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

// sendLimits are the limits of one send: the account's budget when the recipient is a known account
// (one budget whatever its phone or e-mail), else the recipient's; and the client address's. Accounts and
// recipients are keyed by MAC, so the limits table never holds a phone number, an address or an id.
func sendLimits(keys *Keyring, l Limits, u *User, recipient, clientIP string) []Limit {
	out := make([]Limit, 0, 3)
	if u != nil {
		a := "acct:" + hex.EncodeToString(keys.MAC(macRecipient, "account:"+strconv.FormatInt(u.ID, 10)))
		out = append(out, Limit{Name: LimitAccountMinute, Key: a, Window: time.Minute, Max: l.PerRecipientMinute},
			Limit{Name: LimitAccountHour, Key: a, Window: time.Hour, Max: l.PerRecipientHour})
	} else {
		r := "rcpt:" + hex.EncodeToString(keys.MAC(macRecipient, recipient))
		out = append(out, Limit{Name: LimitRecipientMinute, Key: r, Window: time.Minute, Max: l.PerRecipientMinute},
			Limit{Name: LimitRecipientHour, Key: r, Window: time.Hour, Max: l.PerRecipientHour})
	}
	if clientIP != "" {
		out = append(out, Limit{Name: LimitClientHour, Key: "ip:" + clientIP, Window: time.Hour, Max: l.PerClientHour})
	}
	return out
}

// takeSend records a send within the limits, or says which limit refused it.
func takeSend(ctx context.Context, st interface {
	TakeSend(context.Context, time.Time, []Limit) (*Limit, error)
}, now time.Time, limits []Limit) error {
	refused, err := st.TakeSend(ctx, now, limits)
	if err != nil {
		return err
	}
	if refused != nil {
		return limited(refused.Name)
	}
	return nil
}

// CodeRequest asks for a 6-digit code (lcmanager RememberMessage).
type CodeRequest struct {
	App      string
	Phone    string // digits; takes precedence over Email
	Email    string
	ClientIP string
}

// SendCode sends a fresh code by SMS (when a phone is given) or e-mail and returns a new SessionId. An
// unknown phone or e-mail gets the same answer and nothing is sent, at the same cost: one lookup, the send
// limits, one write (the decoy instead of the code). A known account's sends count against the account,
// whichever of its phone or e-mail they go to; an unknown recipient's against the recipient.
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
	var u *User
	var err error
	if channel == SMS {
		u, err = s.Store.UserByPhone(ctx, recipient)
	} else {
		u, err = s.Store.UserByEmail(ctx, recipient)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if err := takeSend(ctx, s.Store, now, sendLimits(s.Keys, s.Config.Limits, u, string(channel)+":"+recipient, r.ClientIP)); err != nil {
		return "", err
	}
	code := NewCode6()
	msg := Message{App: r.App, Channel: channel, Kind: KindCode, To: recipient, Secret: code,
		ExpiresAt: now.Add(s.Config.CodeTTL)}
	var userID int64
	if u != nil {
		userID = u.ID
	}
	c := NewCode{UserID: userID, Purpose: PurposeReset, MAC: s.codeMAC(userID, code), CreatedAt: now, ExpiresAt: now.Add(s.Config.CodeTTL)}
	if u == nil {
		if err := s.Store.IssueDecoyCode(ctx, c, msg); err != nil {
			return "", err
		}
		s.log().InfoContext(ctx, "code requested for an unknown recipient", "app", r.App, "channel", string(channel))
		return sessionID, nil
	}
	if err := s.Store.IssueCode(ctx, c, msg); err != nil {
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
// attempt is counted before the code is checked, and after MaxAttempts even the right code fails. An
// unknown user, or one without a live code, costs what a wrong code costs: the same two reads, and the
// decoy written where the attempt would be counted.
func (s *Service) ResetWithCode(ctx context.Context, userID int64, code, newPassword string) error {
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	var c *Code
	if u != nil {
		c, err = s.Store.LiveCode(ctx, u.ID, PurposeReset)
	} else {
		c, err = s.Store.LiveCode(ctx, 0, PurposeReset) // no user 0: the same read, nothing found
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if u == nil || c == nil {
		if err := s.Store.CountDecoyAttempt(ctx, PurposeReset); err != nil {
			return err
		}
		_ = Equal(s.codeMAC(userID, code), make([]byte, 32)) // the check a live code gets
		s.log().InfoContext(ctx, "code rejected", "user_id", userID, "attempts", 0)
		return ErrCodeRejected
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
// ChangeRequestId. An unknown user gets the same answer and nothing is sent, at the same cost (the same
// lookups, the decoy written instead of the request). The send limits count against the account found, or,
// for an unknown user, against the e-mail given (else the user name): never an arbitrary name in front of a
// real mailbox, so varying the name cannot send one mailbox a fresh link each time.
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
	u, err := s.findUser(ctx, name, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if u != nil && u.Email == "" {
		u = nil
	}
	recipient := "email:" + email
	if email == "" {
		recipient = "name:" + strings.ToLower(name)
	}
	now := s.now()
	if err := takeSend(ctx, s.Store, now, sendLimits(s.Keys, s.Config.Limits, u, recipient, r.ClientIP)); err != nil {
		return err
	}
	id := NewToken(32)
	to, userID := cmp.Or(email, name), int64(0)
	if u != nil {
		to, userID = u.Email, u.ID
	}
	msg := Message{App: r.App, Channel: Email, Kind: KindChangeLink, To: to, Secret: id,
		LinkBase: linkBase(s.Config.LinkBaseURL), ExpiresAt: now.Add(s.Config.ChangeTTL)}
	req := NewChangeRequest{UserID: userID, MAC: s.Keys.MAC(macChange, id), CreatedAt: now, ExpiresAt: now.Add(s.Config.ChangeTTL)}
	if u == nil {
		if err := s.Store.IssueDecoyChangeRequest(ctx, req, msg); err != nil {
			return err
		}
		s.log().InfoContext(ctx, "change link requested for an unknown user", "app", r.App)
		return nil
	}
	if err := s.Store.IssueChangeRequest(ctx, req, msg); err != nil {
		return err
	}
	s.log().InfoContext(ctx, "change link issued", "app", r.App, "user_id", u.ID)
	return nil
}

// findUser finds the user by name, else by e-mail. Both lookups run whenever both are given, so a name
// that matches answers no faster than one that does not.
func (s *Service) findUser(ctx context.Context, name, email string) (*User, error) {
	var byName, byEmail *User
	errName, errEmail := error(ErrNotFound), error(ErrNotFound)
	if name != "" {
		byName, errName = s.Store.UserByUserName(ctx, name)
	}
	if email != "" {
		byEmail, errEmail = s.Store.UserByEmail(ctx, email)
	}
	switch {
	case errName == nil:
		return byName, nil
	case !errors.Is(errName, ErrNotFound):
		return nil, errName
	case errEmail == nil:
		return byEmail, nil
	}
	return nil, errEmail
}

// ChangeInput is a password change by ChangeRequestId (customer PasswordChange).
type ChangeInput struct {
	ChangeRequestID    string
	Password           string
	IPAddress          string
	UserAgent          string
	PermanentSessionID string
	ClientIP           string // the request's client address (limits and audit)
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
	if errors.Is(err, ErrNotFound) {
		return nil, ErrChangeRequestNotFound // the user was disabled or deleted since
	}
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
	same, upgraded, err := s.Hasher.Check(ctx, u.PasswordHash, in.Password)
	if err != nil {
		return nil, err
	}
	if upgraded != "" {
		if err := s.Store.UpgradePasswordHash(ctx, u.ID, u.PasswordHash, upgraded); err != nil {
			return nil, err
		}
	}
	if same {
		return nil, ErrPasswordUsedBefore
	}
	for _, h := range history {
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
	audit := Audit{Event: "password_changed", IPAddress: in.IPAddress, UserAgent: in.UserAgent, ClientIP: in.ClientIP}
	if in.PermanentSessionID != "" {
		audit.PermanentSessionMAC = s.Keys.MAC(macSession, in.PermanentSessionID)
	}
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
