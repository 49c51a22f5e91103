package account

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters of RFC 6238 as every authenticator app reads them from an otpauth:// URI: SHA1,
// 6 digits, 30-second steps; a code of the step before or after the current one is accepted too.
const (
	totpPeriod = 30
	totpSkew   = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	return s / totpPeriod
}

// matchTOTP finds the time step whose code is code, among the steps within the skew of now, and refuses
// it when it is not above last (the last accepted step): a code works once, and never after a later one
// did. pquerna/otp's Validate answers only true or false, so the codes of the three steps are computed
// here and each is compared in constant time, all three every time. When two steps share the code (one
// chance in a million), the oldest one above last is taken.
func matchTOTP(secret, code string, now time.Time, last int64) (int64, bool, error) {
	code = strings.TrimSpace(code)
	valid := len(code) == 6
	for i := 0; i < len(code); i++ {
		valid = valid && code[i] >= '0' && code[i] <= '9'
	}
	t := totpStep(now)
	var (
		found int64
		ok    bool
	)
	for step := t - totpSkew; step <= t+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false, err
		}
		same := subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
		if same && step > last && !ok {
			found, ok = step, true
		}
	}
	return found, valid && ok, nil
}

// The sealing of TOTP secrets. A TOTP secret must be recoverable to check codes, so it cannot be stored
// as a MAC like the other secrets; it is encrypted instead, with AES-256-GCM under a key derived from the
// server HMAC key (HMAC-SHA256 under that key of a fixed label, the Keyring's MAC). A copy of the database
// alone (a backup, a stolen file) then holds no usable secret, as for codes and tokens; whoever has the
// key file can read them, as they could forge any code. The user's id is the additional data, so a sealed
// secret copied to another user's row does not open. Replacing the HMAC key voids every enrolment.
const (
	sealLabel   = "totp-secret-seal"
	sealVersion = 1
)

var errSealed = errors.New("account: sealed TOTP secret does not open (wrong server key or damaged row)")

func (k *Keyring) totpAEAD() cipher.AEAD {
	block, err := aes.NewCipher(k.MAC(sealLabel, "aes-256-gcm v1"))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

func sealAD(userID int64) []byte { return []byte("aspgate totp user " + strconv.FormatInt(userID, 10)) }

// sealTOTP encrypts a base32 TOTP secret for the user: version byte, 12-byte nonce, ciphertext and tag.
func (k *Keyring) sealTOTP(userID int64, secret string) []byte {
	aead := k.totpAEAD()
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(secret)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		panic(err)
	}
	return aead.Seal(out, out[1:], []byte(secret), sealAD(userID))
}

// openTOTP decrypts what sealTOTP wrote for the same user.
func (k *Keyring) openTOTP(userID int64, sealed []byte) (string, error) {
	aead := k.totpAEAD()
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != sealVersion {
		return "", errSealed
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], sealAD(userID))
	if err != nil {
		return "", errSealed
	}
	return string(plain), nil
}
