package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The user administration: adding, importing, showing, listing, disabling, deleting users, setting their
// password, and the partners' API keys. The CLI parses flags and prints; every rule is here.

// NewUser is a user to add or import, its password already in its stored form (see hashes.go).
type NewUser struct {
	ID                   int64     // the legacy ereader UserId; 0: the next free one
	UID                  *[16]byte // the customer GUID; nil: a fresh random one
	UserName             string
	Email                string
	Phone                string // digits; "" none
	OperatorID           *int64
	FirstName            *string
	LastName             *string
	Title                *string
	Gender               *int32
	UserType             *int32
	IsLazy               bool
	SharedDataPermission bool
	PasswordHash         string
	History              []string // older hashes, newest first (customer's PasswordUsedBefore)
}

// UserRecord is a user as the administration shows it: never a hash, only its scheme.
type UserRecord struct {
	User
	PasswordScheme    string
	Disabled          bool
	DisabledAt        time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	PasswordChangedAt time.Time
	TOTP              bool   // an authenticator app is enrolled
	ConfirmedPhone    string // r7office's confirmed phone, if any
	// ImportedHash is the password hash as the last import gave it ("" if never imported). Like
	// User.PasswordHash, never shown.
	ImportedHash string
}

// UserKey names one user for the administration: by "id", "uid", "username", "email" or "phone".
type UserKey struct {
	By    string
	Value string
}

func (k UserKey) String() string { return k.By + " " + k.Value }

// AdminStore is what the administration needs of the storage. Its lookups see disabled users.
type AdminStore interface {
	// AddUser adds a user and returns its UserId and GUID; *ConflictError for a taken id, GUID, user
	// name, e-mail or phone; ErrNotFound (wrapped) for an unknown operator.
	AddUser(ctx context.Context, u NewUser) (int64, [16]byte, error)
	FindUser(ctx context.Context, key UserKey) (*UserRecord, error) // ErrNotFound
	// ListUsers lists up to limit users with an id above after, by id.
	ListUsers(ctx context.Context, after int64, limit int) ([]UserRecord, error)
	// SetUserDisabled disables (revoking every token) or enables a user; ErrNotFound.
	SetUserDisabled(ctx context.Context, userID int64, disabled bool, now time.Time) error
	// DeleteUser removes the user with its codes, change requests, tokens, history and second factor.
	DeleteUser(ctx context.Context, userID int64) error
	// SetPassword replaces the password (the old one goes to the history; tokens are revoked).
	SetPassword(ctx context.Context, userID int64, hash string, now time.Time) error
	AddOperator(ctx context.Context, id int64, name string) error
	AddAPIKey(ctx context.Context, app, name string, keyMAC []byte) error // *ConflictError
	RevokeAPIKey(ctx context.Context, app, name string) error             // ErrNotFound
	// BeginImport opens a staging area for an import (import.go).
	BeginImport(ctx context.Context) (ImportStage, error)
}

// Admin is the user administration.
type Admin struct {
	Store  AdminStore
	Hasher *Hasher
	Keys   *Keyring
	Log    *slog.Logger
	Now    func() time.Time
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Admin) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// ValidationError is a value the legacy services could never have held.
type ValidationError struct {
	Field  string // the import column / CLI flag name: "email", "phone", "id", …
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// checkText refuses empty, overlong, invalid UTF-8 and control characters.
func checkText(field, s string, maxLen int) error {
	switch {
	case s == "":
		return invalid(field, "must not be empty")
	case len(s) > maxLen:
		return invalid(field, "is longer than %d bytes", maxLen)
	case !utf8.ValidString(s):
		return invalid(field, "is not valid UTF-8")
	case strings.ContainsFunc(s, unicode.IsControl):
		return invalid(field, "contains a control character")
	}
	return nil
}

// ValidateUser checks a user's fields (not its password).
func ValidateUser(u *NewUser) error {
	if err := checkText("username", u.UserName, 256); err != nil {
		return err
	}
	if strings.TrimSpace(u.UserName) != u.UserName {
		return invalid("username", "must not start or end with a space")
	}
	if err := checkText("email", u.Email, 254); err != nil {
		return err
	}
	at := strings.LastIndexByte(u.Email, '@')
	if at <= 0 || at == len(u.Email)-1 || strings.ContainsFunc(u.Email, unicode.IsSpace) {
		return invalid("email", "must be an e-mail address (name@domain, no spaces)")
	}
	if u.Phone != "" && (len(u.Phone) > 20 || strings.ContainsFunc(u.Phone, func(r rune) bool { return r < '0' || r > '9' })) {
		return invalid("phone", "must be 1 to 20 digits, without +, spaces or dashes")
	}
	if u.ID < 0 || u.ID > 1<<31-1 {
		return invalid("id", "must be a positive 32-bit integer (the legacy UserId is an int)")
	}
	for field, p := range map[string]*string{"first_name": u.FirstName, "last_name": u.LastName, "title": u.Title} {
		if p != nil {
			if err := checkText(field, *p, 256); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseUID reads a GUID as .NET's Guid.Parse does in its usual forms: 32 digits with hyphens ("D"),
// optionally in braces ("B") or parentheses ("P"), or without hyphens ("N"); either case.
func ParseUID(s string) ([16]byte, error) {
	var b [16]byte
	t := s
	if len(t) == 38 && (t[0] == '{' && t[37] == '}' || t[0] == '(' && t[37] == ')') {
		t = t[1:37]
	}
	if len(t) == 36 {
		if t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
			return b, invalid("uid", "is not a GUID")
		}
		t = t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:]
	}
	if len(t) != 32 {
		return b, invalid("uid", "is not a GUID")
	}
	for i := range 16 {
		v, err := strconv.ParseUint(t[2*i:2*i+2], 16, 8)
		if err != nil {
			return b, invalid("uid", "is not a GUID")
		}
		b[i] = byte(v)
	}
	return b, nil
}

// AddUser adds a user with a new password (hashed with argon2id).
func (a *Admin) AddUser(ctx context.Context, u NewUser, password string) (int64, [16]byte, error) {
	if err := ValidateUser(&u); err != nil {
		return 0, [16]byte{}, err
	}
	if err := checkPassword(password); err != nil {
		return 0, [16]byte{}, err
	}
	hash, err := a.Hasher.Hash(ctx, password)
	if err != nil {
		return 0, [16]byte{}, err
	}
	u.PasswordHash = hash
	id, uid, err := a.Store.AddUser(ctx, u)
	if errors.Is(err, ErrNotFound) && u.OperatorID != nil {
		return 0, [16]byte{}, invalid("operator", "%d does not exist (add it with aspgate operator add)", *u.OperatorID)
	}
	if err != nil {
		return 0, [16]byte{}, err
	}
	a.log().InfoContext(ctx, "user added", "user_id", id)
	return id, uid, nil
}

// checkPassword is what the administration accepts as a password it sets: not the flows' policy (an
// operator may restore a user's old password), only what no password can be.
func checkPassword(p string) error {
	switch {
	case p == "":
		return invalid("password", "must not be empty")
	case utf8.RuneCountInString(p) > MaxPasswordLength:
		return invalid("password", "is longer than %d characters", MaxPasswordLength)
	case !utf8.ValidString(p):
		return invalid("password", "is not valid UTF-8")
	}
	return nil
}

// ParseUserKey reads a user key from the CLI's --id, --uid, --username, --email, --phone.
func ParseUserKey(by, value string) (UserKey, error) {
	switch by {
	case "id":
		if n, err := strconv.ParseInt(value, 10, 64); err != nil || n <= 0 {
			return UserKey{}, invalid("id", "must be a positive integer")
		}
	case "uid":
		uid, err := ParseUID(value)
		if err != nil {
			return UserKey{}, err
		}
		value = formatUID(uid)
	case "username", "email", "phone":
		if value == "" {
			return UserKey{}, invalid(by, "must not be empty")
		}
	default:
		return UserKey{}, fmt.Errorf("account: unknown user key %q", by)
	}
	return UserKey{By: by, Value: value}, nil
}

// NewUID returns a random (version 4) GUID.
func NewUID() [16]byte {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return b
}

// FormatUID writes a GUID as the customer face answers it (lower-case "D").
func FormatUID(b [16]byte) string { return formatUID(b) }

// ShowUser finds one user, disabled or not.
func (a *Admin) ShowUser(ctx context.Context, key UserKey) (*UserRecord, error) {
	return a.Store.FindUser(ctx, key)
}

// ListUsers lists users by id, after the given one.
func (a *Admin) ListUsers(ctx context.Context, after int64, limit int) ([]UserRecord, error) {
	if limit <= 0 || limit > 10_000 {
		limit = 10_000
	}
	return a.Store.ListUsers(ctx, after, limit)
}

// SetDisabled disables or enables a user. A disabled user is answered on every face exactly as an
// unknown one, and its tokens are revoked; enabling gives back the account as it was (its password, its
// second factor), without the tokens.
func (a *Admin) SetDisabled(ctx context.Context, key UserKey, disabled bool) (*UserRecord, error) {
	u, err := a.Store.FindUser(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := a.Store.SetUserDisabled(ctx, u.ID, disabled, a.now()); err != nil {
		return nil, err
	}
	a.log().InfoContext(ctx, map[bool]string{true: "user disabled", false: "user enabled"}[disabled], "user_id", u.ID)
	return a.Store.FindUser(ctx, UserKey{By: "id", Value: strconv.FormatInt(u.ID, 10)})
}

// DeleteUser removes a user and everything that hangs off it.
func (a *Admin) DeleteUser(ctx context.Context, key UserKey) (*UserRecord, error) {
	u, err := a.Store.FindUser(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := a.Store.DeleteUser(ctx, u.ID); err != nil {
		return nil, err
	}
	a.log().InfoContext(ctx, "user deleted", "user_id", u.ID)
	return u, nil
}

// SetPassword sets a user's password (argon2id): the old one goes to the history, the tokens are revoked.
func (a *Admin) SetPassword(ctx context.Context, key UserKey, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	u, err := a.Store.FindUser(ctx, key)
	if err != nil {
		return err
	}
	hash, err := a.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := a.Store.SetPassword(ctx, u.ID, hash, a.now()); err != nil {
		return err
	}
	a.log().InfoContext(ctx, "password set by the administration", "user_id", u.ID)
	return nil
}

// AddOperator adds a mobile operator (lcmanager's Operator).
func (a *Admin) AddOperator(ctx context.Context, id int64, name string) error {
	if id <= 0 {
		return invalid("id", "must be positive")
	}
	if err := checkText("name", name, 200); err != nil {
		return err
	}
	return a.Store.AddOperator(ctx, id, name)
}

// MinAPIKeyLength is the shortest API key accepted: a partner's existing key may be short, but not a PIN.
const MinAPIKeyLength = 16

// AddAPIKey registers an API key for an app: key "" makes a new one (256 random bits); otherwise the
// partner's existing key is taken as it is. Only its MAC is stored; the key is returned once.
func (a *Admin) AddAPIKey(ctx context.Context, app, name, key string) (string, error) {
	if err := checkText("name", name, 100); err != nil {
		return "", err
	}
	if key == "" {
		key = NewToken(32)
	} else {
		switch {
		case len(key) < MinAPIKeyLength:
			return "", invalid("key", "is shorter than %d characters", MinAPIKeyLength)
		case len(key) > 512:
			return "", invalid("key", "is longer than 512 characters")
		case !utf8.ValidString(key) || strings.ContainsFunc(key, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
			return "", invalid("key", "must be printable, without spaces")
		}
	}
	if err := a.Store.AddAPIKey(ctx, app, name, a.Keys.MAC(macAPIKey, key)); err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) {
			ce.Detail = "the app already has an active api key with this name (revoke it first or pick another name)"
			if slices.Contains(ce.Fields, "key") {
				ce.Detail = "this api key is already registered"
			}
		}
		return "", err
	}
	a.log().InfoContext(ctx, "api key added", "app", app, "name", name)
	return key, nil
}

// RevokeAPIKey revokes an app's active key by name.
func (a *Admin) RevokeAPIKey(ctx context.Context, app, name string) error {
	if err := a.Store.RevokeAPIKey(ctx, app, name); err != nil {
		return err
	}
	a.log().InfoContext(ctx, "api key revoked", "app", app, "name", name)
	return nil
}
