package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/big"
)

// Keyring holds the server key under which codes, ChangeRequestIds, SessionIds and API keys are stored as
// HMAC-SHA256: a database leak does not reveal a usable secret.
type Keyring struct{ key []byte }

// NewKeyring uses key (at least 32 bytes) as the HMAC key.
func NewKeyring(key []byte) *Keyring { return &Keyring{key: append([]byte(nil), key...)} }

// MAC returns HMAC-SHA256(key, purpose || 0 || secret): the purpose keeps a code from ever matching an
// API key with the same text.
func (k *Keyring) MAC(purpose, secret string) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// Equal compares two MACs in constant time.
func Equal(a, b []byte) bool { return hmac.Equal(a, b) }

// NewCode6 returns a uniformly random 6-digit code.
func NewCode6() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	s := n.String()
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}

// NewToken returns n random bytes as unpadded base64url (ChangeRequestIds, API keys, tokens).
func NewToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewHexID returns n random bytes in hex (SessionIds).
func NewHexID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// NewKey returns a fresh 32-byte server key.
func NewKey() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}
