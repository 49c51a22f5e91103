package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id's cost parameters. The defaults are OWASP's first recommendation
// (19 MiB, 2 passes, 1 lane).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen int
}

// DefaultArgon2 is OWASP's recommended argon2id configuration.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// Hasher hashes and verifies passwords with argon2id. At most a few hashes run at once: each costs
// 19 MiB and a core, so a flood of password requests waits here (or fails with ErrBusy when the caller's
// context ends) instead of exhausting memory and starving the other endpoints.
type Hasher struct {
	params Argon2Params
	slots  chan struct{}
	dummy  string
	onWait func(time.Duration)
}

// ObserveWait has f told how long each hash or verification waited for a slot (the metrics). Call it
// before the hasher is used.
func (h *Hasher) ObserveWait(f func(time.Duration)) { h.onWait = f }

// InUse is how many hashes run now; Slots how many may run at once.
func (h *Hasher) InUse() int { return len(h.slots) }

// Slots is the hasher's concurrency.
func (h *Hasher) Slots() int { return cap(h.slots) }

// NewHasher returns a hasher that runs at most concurrency hashes at once (0: the number of CPUs).
func NewHasher(p Argon2Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{params: p, slots: make(chan struct{}, concurrency)}
	h.dummy = h.hashNow("aspgate dummy password for unknown accounts")
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		if h.onWait != nil {
			h.onWait(0)
		}
		return nil
	default:
	}
	start := time.Now()
	select {
	case h.slots <- struct{}{}:
		if h.onWait != nil {
			h.onWait(time.Since(start))
		}
		return nil
	case <-ctx.Done():
		return ErrBusy
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of password: $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hashNow(password), nil
}

func (h *Hasher) hashNow(password string) string {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.params.Memory, h.params.Time,
		h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches the stored hash, whatever its scheme (hashes.go), in constant
// time. An argon2id hash's own parameters are used, so hashes made with older parameters keep working.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	ok, _, err := h.check(ctx, encoded, password, false)
	return ok, err
}

// Check is Verify that also upgrades: when a legacy hash (any scheme but argon2id) matches, upgraded is
// the password's argon2id hash, for the caller to store in place of the legacy one. A legacy check also
// spends one argon2id verification, so that it never answers faster than an argon2id account (or an
// unknown one) would.
func (h *Hasher) Check(ctx context.Context, encoded, password string) (ok bool, upgraded string, err error) {
	return h.check(ctx, encoded, password, true)
}

func (h *Hasher) check(ctx context.Context, encoded, password string, upgrade bool) (bool, string, error) {
	if err := h.acquire(ctx); err != nil {
		return false, "", err
	}
	defer h.release()
	if strings.HasPrefix(encoded, "$argon2id$") {
		return verifyPHC(encoded, password), "", nil
	}
	ok := verifyHash(encoded, password)
	if !ok || !upgrade {
		verifyPHC(h.dummy, password)
		return ok, "", nil
	}
	return true, h.hashNow(password), nil
}

// NeedsUpgrade reports whether a stored hash is a legacy one, which Check replaces.
func NeedsUpgrade(encoded string) bool { return !strings.HasPrefix(encoded, "$argon2id$") }

// VerifyDummy spends the time of one verification on nothing, so that an unknown account answers as
// slowly as a known one.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, h.dummy, password)
	return err
}

func verifyPHC(encoded, password string) bool {
	p, err := parsePHC(encoded)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1
}

// Policy limits of a new password.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

var commonPasswords = func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	m := make(map[string]struct{}, len(list))
	for _, p := range list {
		m[p] = struct{}{}
	}
	return m
}()

// CommonPasswordCount is the size of the embedded list of common passwords (zxcvbn's).
func CommonPasswordCount() int { return len(commonPasswords) }

// CheckPolicy refuses a new password that is too short or too long (in characters), equal to the user's
// name or e-mail (ignoring case), or one of the most common passwords (zxcvbn's list of 30,000, compared
// in lower case).
func CheckPolicy(password string, u *User) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return &PolicyError{Reason: fmt.Sprintf("the password must have at least %d characters", MinPasswordLength)}
	case n > MaxPasswordLength:
		return &PolicyError{Reason: fmt.Sprintf("the password must have at most %d characters", MaxPasswordLength)}
	}
	if u != nil {
		for _, s := range []string{u.UserName, u.Email, u.Phone} {
			if s != "" && strings.EqualFold(password, s) {
				return &PolicyError{Reason: "the password must differ from the user name and e-mail"}
			}
		}
	}
	if _, ok := commonPasswords[strings.ToLower(password)]; ok {
		return &PolicyError{Reason: "the password is too common"}
	}
	return nil
}
