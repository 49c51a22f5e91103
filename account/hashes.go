package account

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// The password hash schemes. argon2id is the only one aspgate writes; the others are the legacy
// services' hashes, imported as they are and replaced by argon2id at the first successful check
// (Hasher.Check). A stored hash names its scheme by its prefix:
//
//	argon2id             $argon2id$v=19$m=…,t=…,p=…$salt$hash              (PHC)
//	bcrypt               $2a$NN$…, $2b$, $2y$                                (as bcrypt writes it)
//	identity-v2, -v3     $aspnet-identity$<base64 as ASP.NET Identity stores it>
//	membership:ALG       $aspnet-membership$ALG$<salt base64>$<hash base64>
//
// Every scheme is verified here and nowhere else (verifyHash), in constant time, and every imported hash
// is checked here first (checkHash): a hash that could not verify, or that would make a sign-in do
// unbounded work, is refused at import.
const (
	SchemeArgon2id   = "argon2id"
	SchemeBcrypt     = "bcrypt"
	SchemeIdentityV2 = "identity-v2"
	SchemeIdentityV3 = "identity-v3"
	schemeMembership = "membership:" // + the .NET algorithm name
)

const (
	prefixIdentity   = "$aspnet-identity$"
	prefixMembership = "$aspnet-membership$"
)

// Work caps: a crafted header may ask for any amount of work, and an imported hash is run at sign-in.
const (
	MaxIdentityIterations = 1_000_000
	maxBcryptCost         = 16
	maxArgon2Memory       = 1 << 22 // KiB (4 GiB)
	maxArgon2Time         = 64
)

// membershipAlgs are SqlMembershipProvider's hashAlgorithmType values: the hash, and for the keyed ones the
// length of .NET's default key, which the salt is stretched or cut to (KeyedHashAlgorithm.Key).
var membershipAlgs = map[string]struct {
	new    func() hash.Hash
	keyLen int // 0: not keyed, H(salt ‖ password)
}{
	"MD5": {md5.New, 0}, "SHA1": {sha1.New, 0}, "SHA256": {sha256.New, 0}, "SHA384": {sha512.New384, 0}, "SHA512": {sha512.New, 0},
	"HMACSHA1": {sha1.New, 64}, "HMACSHA256": {sha256.New, 64}, "HMACSHA384": {sha512.New384, 128}, "HMACSHA512": {sha512.New, 128},
}

// SchemeOf names a stored hash's scheme ("argon2id", "identity-v3", "membership:SHA1", …; "unknown" for
// anything else). It reads the prefix and, for Identity, the marker byte; never the hash itself.
func SchemeOf(encoded string) string {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return SchemeArgon2id
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return SchemeBcrypt
	case strings.HasPrefix(encoded, prefixIdentity):
		b, err := base64.StdEncoding.DecodeString(encoded[len(prefixIdentity):])
		if err == nil && len(b) > 0 && b[0] == 0 {
			return SchemeIdentityV2
		}
		if err == nil && len(b) > 0 && b[0] == 1 {
			return SchemeIdentityV3
		}
	case strings.HasPrefix(encoded, prefixMembership):
		alg, _, _ := strings.Cut(encoded[len(prefixMembership):], "$")
		if _, ok := membershipAlgs[alg]; ok {
			return schemeMembership + alg
		}
	}
	return "unknown"
}

// LegacyHash builds the stored form of an imported hash from an import file's password_format,
// password_hash and password_salt, checking it (see checkHash). format is "identity",
// "membership:ALG", "bcrypt" or "argon2id"; "clear" is not a hash and is the caller's to hash.
func LegacyHash(format, hashValue, salt string) (string, error) {
	var encoded string
	switch {
	case format == "identity":
		if salt != "" {
			return "", errors.New("password_salt: an Identity hash carries its own salt")
		}
		encoded = prefixIdentity + hashValue
	case strings.HasPrefix(format, schemeMembership):
		alg := format[len(schemeMembership):]
		if _, ok := membershipAlgs[alg]; !ok {
			return "", fmt.Errorf("password_format: unknown Membership algorithm %q (SHA1, SHA256, SHA384, SHA512, MD5, HMACSHA1, HMACSHA256, HMACSHA384, HMACSHA512)", alg)
		}
		if salt == "" {
			return "", errors.New("password_salt: a Membership hash needs its salt")
		}
		encoded = prefixMembership + alg + "$" + salt + "$" + hashValue
	case format == "bcrypt", format == "argon2id":
		if salt != "" {
			return "", fmt.Errorf("password_salt: a %s hash carries its own salt", format)
		}
		encoded = hashValue
		if SchemeOf(encoded) != format {
			return "", fmt.Errorf("password_hash: not a %s hash", format)
		}
	default:
		return "", fmt.Errorf("password_format: unknown format %q (identity, membership:ALG, bcrypt, argon2id, clear)", format)
	}
	if err := checkHash(encoded); err != nil {
		return "", err
	}
	return encoded, nil
}

// checkHash reports why a stored hash could never verify, or would cost a sign-in too much.
func checkHash(encoded string) error {
	switch scheme := SchemeOf(encoded); {
	case scheme == SchemeArgon2id:
		if _, err := parsePHC(encoded); err != nil {
			return err
		}
	case scheme == SchemeBcrypt:
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil {
			return fmt.Errorf("password_hash: not a bcrypt hash: %v", err)
		}
		if cost > maxBcryptCost {
			return fmt.Errorf("password_hash: bcrypt cost %d is above %d", cost, maxBcryptCost)
		}
	case strings.HasPrefix(encoded, prefixIdentity):
		_, err := parseIdentity(encoded[len(prefixIdentity):])
		return err
	case strings.HasPrefix(encoded, prefixMembership):
		_, _, _, err := parseMembership(encoded[len(prefixMembership):])
		return err
	default:
		return errors.New("password_hash: unknown scheme")
	}
	return nil
}

// verifyHash reports whether password matches the stored hash, whatever its scheme; a hash it cannot
// read matches nothing. The comparison is constant-time.
func verifyHash(encoded, password string) bool {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return verifyPHC(encoded, password)
	case SchemeOf(encoded) == SchemeBcrypt:
		if cost, err := bcrypt.Cost([]byte(encoded)); err != nil || cost > maxBcryptCost {
			return false
		}
		return bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil
	case strings.HasPrefix(encoded, prefixIdentity):
		id, err := parseIdentity(encoded[len(prefixIdentity):])
		if err != nil {
			return false
		}
		got, err := pbkdf2.Key(id.prf, password, id.salt, id.iterations, len(id.subkey))
		return err == nil && subtle.ConstantTimeCompare(got, id.subkey) == 1
	case strings.HasPrefix(encoded, prefixMembership):
		alg, salt, want, err := parseMembership(encoded[len(prefixMembership):])
		if err != nil {
			return false
		}
		return subtle.ConstantTimeCompare(membershipHash(alg, salt, password), want) == 1
	}
	return false
}

// identityHash is a decoded ASP.NET Identity hash.
type identityHash struct {
	prf        func() hash.Hash
	iterations int
	salt       []byte
	subkey     []byte
}

// parseIdentity reads Identity's base64: V2 (0x00 ‖ salt[16] ‖ PBKDF2-HMAC-SHA1 1000 subkey[32]) or
// V3 (0x01 ‖ prf ‖ iterations ‖ salt length, each a big-endian uint32 ‖ salt ‖ subkey), with the checks
// of ASP.NET Core's PasswordHasher, and the iteration cap.
func parseIdentity(b64 string) (identityHash, error) {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return identityHash{}, errors.New("password_hash: not base64")
	}
	if len(b) == 0 {
		return identityHash{}, errors.New("password_hash: empty")
	}
	switch b[0] {
	case 0x00:
		if len(b) != 1+16+32 {
			return identityHash{}, fmt.Errorf("password_hash: an Identity V2 hash has 49 bytes, this one %d", len(b))
		}
		return identityHash{prf: sha1.New, iterations: 1000, salt: b[1:17], subkey: b[17:]}, nil
	case 0x01:
		if len(b) < 13 {
			return identityHash{}, errors.New("password_hash: an Identity V3 header is 13 bytes")
		}
		prf, iterations, saltLen := binary.BigEndian.Uint32(b[1:]), binary.BigEndian.Uint32(b[5:]), binary.BigEndian.Uint32(b[9:])
		h := identityHash{}
		switch prf {
		case 0:
			h.prf = sha1.New
		case 1:
			h.prf = sha256.New
		case 2:
			h.prf = sha512.New
		default:
			return identityHash{}, fmt.Errorf("password_hash: unknown Identity V3 PRF %d", prf)
		}
		if iterations == 0 || iterations > MaxIdentityIterations {
			return identityHash{}, fmt.Errorf("password_hash: Identity V3 iteration count %d is outside 1..%d", iterations, MaxIdentityIterations)
		}
		if saltLen < 16 || uint64(saltLen) > uint64(len(b)-13) {
			return identityHash{}, fmt.Errorf("password_hash: Identity V3 salt length %d does not fit", saltLen)
		}
		h.iterations, h.salt, h.subkey = int(iterations), b[13:13+saltLen], b[13+saltLen:]
		if len(h.subkey) < 16 {
			return identityHash{}, errors.New("password_hash: Identity V3 subkey shorter than 16 bytes")
		}
		return h, nil
	}
	return identityHash{}, fmt.Errorf("password_hash: unknown Identity format marker 0x%02x", b[0])
}

// parseMembership reads ALG$salt$hash: the salt and the hash in base64, the hash as long as ALG's output.
func parseMembership(s string) (alg string, salt, sum []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 3 {
		return "", nil, nil, errors.New("password_hash: malformed Membership hash")
	}
	a, ok := membershipAlgs[parts[0]]
	if !ok {
		return "", nil, nil, fmt.Errorf("password_format: unknown Membership algorithm %q", parts[0])
	}
	if salt, err = base64.StdEncoding.DecodeString(parts[1]); err != nil || len(salt) == 0 {
		return "", nil, nil, errors.New("password_salt: not base64")
	}
	if sum, err = base64.StdEncoding.DecodeString(parts[2]); err != nil {
		return "", nil, nil, errors.New("password_hash: not base64")
	}
	if n := a.new().Size(); len(sum) != n {
		return "", nil, nil, fmt.Errorf("password_hash: a %s hash has %d bytes, this one %d", parts[0], n, len(sum))
	}
	return parts[0], salt, sum, nil
}

// membershipHash is SqlMembershipProvider.EncodePassword for PasswordFormat Hashed: the password as
// UTF-16LE (Encoding.Unicode); H(salt ‖ password), or for a keyed algorithm HMAC under the salt made
// the length of .NET's default key (cut when longer, repeated when shorter).
func membershipHash(alg string, salt []byte, password string) []byte {
	a := membershipAlgs[alg]
	units := utf16.Encode([]rune(password))
	pw := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(pw[2*i:], u)
	}
	if a.keyLen == 0 {
		h := a.new()
		h.Write(salt)
		h.Write(pw)
		return h.Sum(nil)
	}
	key := salt
	if len(salt) != a.keyLen {
		key = make([]byte, a.keyLen)
		for i := 0; i < len(key); i += copy(key[i:], salt) {
		}
	}
	m := hmac.New(a.new, key)
	m.Write(pw)
	return m.Sum(nil)
}

// phc is a parsed argon2id PHC string.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC reads $argon2id$v=19$m=…,t=…,p=…$salt$hash within the work caps.
func parsePHC(encoded string) (phc, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, errors.New("password_hash: not an argon2id v19 PHC string")
	}
	var p phc
	var m, t, th uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, errors.New("password_hash: bad argon2id parameters")
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			th = n
		default:
			return phc{}, errors.New("password_hash: bad argon2id parameters")
		}
	}
	if m == 0 || t == 0 || th == 0 || th > 255 || m > maxArgon2Memory || t > maxArgon2Time {
		return phc{}, errors.New("password_hash: argon2id parameters out of range")
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(th)
	b64 := base64.RawStdEncoding
	var err1, err2 error
	p.salt, err1 = b64.DecodeString(parts[4])
	p.key, err2 = b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(p.key) < 16 || len(p.key) > 128 || len(p.salt) < 8 {
		return phc{}, errors.New("password_hash: bad argon2id salt or hash")
	}
	return p, nil
}
