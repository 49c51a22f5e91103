package account

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/crypto/bcrypt"
)

// Published vectors of ASP.NET Core's PasswordHasherTest.cs (dotnet/aspnetcore, src/Identity/test/
// Identity.Test): password "my password", salt 00 01 … 0f.
var identityVectors = []struct{ name, b64, scheme string }{
	{"V2 SHA1 1000", "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg==", SchemeIdentityV2},
	{"V2 random salt", "ANXrDknc7fGPpigibZXXZFMX4aoqz44JveK6jQuwY3eH/UyPhvr5xTPeGYEckLxz9A==", SchemeIdentityV2},
	{"V3 SHA256 10000", "AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg+yWU7rLgUwPZb1Itsmra7cbxw2EFpwpVFIEtP+JIuUEw==", SchemeIdentityV3},
	{"V3 SHA512 10000", "AQAAAAIAACcQAAAAEAABAgMEBQYHCAkKCwwNDg9B0Oxwty+PGIDSp95gcCfzeDvA4sGapUIUov8usXfD6A==", SchemeIdentityV3},
	{"V3 SHA512 100000", "AQAAAAIAAYagAAAAEAABAgMEBQYHCAkKCwwNDg/Q8A0WMKbtHQJQ2DHCdoEeeFBrgNlldq6vH4qX/CGqGQ==", SchemeIdentityV3},
}

func TestIdentityVectors(t *testing.T) {
	for _, v := range identityVectors {
		enc, err := LegacyHash("identity", v.b64, "")
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		if s := SchemeOf(enc); s != v.scheme {
			t.Errorf("%s: scheme %s", v.name, s)
		}
		if !verifyHash(enc, "my password") {
			t.Errorf("%s: the right password fails", v.name)
		}
		for _, wrong := range []string{"my passwordx", "My password", "", "my password "} {
			if verifyHash(enc, wrong) {
				t.Errorf("%s: %q verifies", v.name, wrong)
			}
		}
	}
	// System.Web.Helpers' own vector (AspNetWebStack, CryptoTest.cs).
	enc, err := LegacyHash("identity", "ALyuoraY/cIWD1hjo+K81/pf83qo6Q6T+UBYcXN9P3A9WHLvEY10f+lwW5qPG6h9xw==", "")
	if err != nil || !verifyHash(enc, "my-password") {
		t.Fatalf("System.Web.Helpers vector: %v", err)
	}
	// The published failures: each is refused at import or fails to verify.
	for name, b64 := range map[string]string{
		"too short":           "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggE=",
		"extra data after V2": "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJgAAAAAAAAAAAAA=",
		"V3 subkey too short": "AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4A=",
	} {
		if _, err := LegacyHash("identity", b64, ""); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
	wrongSubkey := "AAABAgMEBQYHCAkKCwwNDg+uAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALtH1uJg=="
	if enc, err := LegacyHash("identity", wrongSubkey, ""); err == nil && verifyHash(enc, "my password") {
		t.Error("a wrong subkey verifies")
	}
	// Extra data on V3 is no format error (the subkey is the rest), it just fails.
	extra := mustB64(t, identityVectors[2].b64)
	extra = append(extra, 0, 0, 0)
	if enc, err := LegacyHash("identity", base64.StdEncoding.EncodeToString(extra), ""); err != nil || verifyHash(enc, "my password") {
		t.Errorf("V3 with extra data: %v", err)
	}
}

// TestIdentityHashesComputedIndependently builds V2 and V3 hashes with crypto/pbkdf2 in the test and
// checks both schemes, every PRF, against them.
func TestIdentityHashesComputedIndependently(t *testing.T) {
	salt := []byte("0123456789abcdef0123")
	pw := "пароль — ünïcødé 🔑"
	v2 := append([]byte{0}, salt[:16]...)
	k, _ := pbkdf2.Key(sha1.New, pw, salt[:16], 1000, 32)
	v2 = append(v2, k...)
	for prf, h := range map[uint32]func() hash.Hash{0: sha1.New, 1: sha256.New, 2: sha512.New} {
		for _, iter := range []uint32{1, 1000, 31337} {
			hdr := make([]byte, 13)
			hdr[0] = 1
			binary.BigEndian.PutUint32(hdr[1:], prf)
			binary.BigEndian.PutUint32(hdr[5:], iter)
			binary.BigEndian.PutUint32(hdr[9:], uint32(len(salt)))
			sub, _ := pbkdf2.Key(h, pw, salt, int(iter), 40)
			v3 := append(append(hdr, salt...), sub...)
			enc, err := LegacyHash("identity", base64.StdEncoding.EncodeToString(v3), "")
			if err != nil || !verifyHash(enc, pw) || verifyHash(enc, pw+"x") {
				t.Errorf("V3 prf %d, %d iterations: %v", prf, iter, err)
			}
		}
	}
	enc, err := LegacyHash("identity", base64.StdEncoding.EncodeToString(v2), "")
	if err != nil || !verifyHash(enc, pw) {
		t.Fatalf("V2: %v", err)
	}
}

func TestHostileHashesRefused(t *testing.T) {
	hdr := func(prf, iter, saltLen uint32, rest int) string {
		b := make([]byte, 13+rest)
		b[0] = 1
		binary.BigEndian.PutUint32(b[1:], prf)
		binary.BigEndian.PutUint32(b[5:], iter)
		binary.BigEndian.PutUint32(b[9:], saltLen)
		return base64.StdEncoding.EncodeToString(b)
	}
	for name, c := range map[string][3]string{
		"V3 with 2^32-1 iterations":      {"identity", hdr(1, 1<<32-1, 16, 48), ""},
		"V3 just above the cap":          {"identity", hdr(1, MaxIdentityIterations+1, 16, 48), ""},
		"V3 with 0 iterations":           {"identity", hdr(1, 0, 16, 48), ""},
		"V3 with an unknown PRF":         {"identity", hdr(7, 1000, 16, 48), ""},
		"V3 with a salt longer than all": {"identity", hdr(1, 1000, 1<<31, 48), ""},
		"V3 with a 15-byte salt":         {"identity", hdr(1, 1000, 15, 48), ""},
		"Identity, bad base64":           {"identity", "not*base64", ""},
		"Identity marker 0x02":           {"identity", base64.StdEncoding.EncodeToString(make([]byte, 49)[:0:0]), ""},
		"bcrypt cost 31":                 {"bcrypt", "$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ""},
		"bcrypt garbage":                 {"bcrypt", "$2a$05$short", ""},
		"argon2id 2^40 KiB":              {"argon2id", "$argon2id$v=19$m=1099511627776,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43), ""},
		"argon2id t=100000":              {"argon2id", "$argon2id$v=19$m=1024,t=100000,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43), ""},
		"argon2id v=16":                  {"argon2id", "$argon2id$v=16$m=1024,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43), ""},
		"argon2i":                        {"argon2id", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43), ""},
		"membership without salt":        {"membership:SHA1", "ZJFvF0TnqdQZ2BNqpCZ6DykqGAs=", ""},
		"membership, hash too short":     {"membership:SHA256", "ZJFvF0TnqdQZ2BNqpCZ6DykqGAs=", "AAECAwQFBgcICQoLDA0ODw=="},
		"membership, unknown algorithm":  {"membership:SHA3", "ZJFvF0TnqdQZ2BNqpCZ6DykqGAs=", "AAECAwQFBgcICQoLDA0ODw=="},
		"membership, salt not base64":    {"membership:SHA1", "ZJFvF0TnqdQZ2BNqpCZ6DykqGAs=", "%%%"},
		"unknown format":                 {"md5crypt", "$1$abc$def", ""},
		"clear is not a hash":            {"clear", "secret", ""},
	} {
		if enc, err := LegacyHash(c[0], c[1], c[2]); err == nil {
			t.Errorf("%s: imported as %q", name, enc)
		}
	}
	// verifyHash never runs a hash beyond the caps, even if one was stored by other means.
	if verifyHash(prefixIdentity+hdr(1, 1<<32-1, 16, 48), "x") {
		t.Error("an uncapped V3 hash verified")
	}
}

// membershipRef is SqlMembershipProvider.EncodePassword written again for the test, from its source
// (referencesource SQLMembershipProvider.cs), with the standard library only.
func membershipRef(alg string, salt []byte, pw string) []byte {
	u := utf16.Encode([]rune(pw))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	plain := map[string]func() hash.Hash{"MD5": md5.New, "SHA1": sha1.New, "SHA256": sha256.New, "SHA384": sha512.New384, "SHA512": sha512.New}
	if h, ok := plain[alg]; ok {
		d := h()
		d.Write(append(append([]byte{}, salt...), b...))
		return d.Sum(nil)
	}
	keyed := map[string]struct {
		h func() hash.Hash
		n int
	}{"HMACSHA1": {sha1.New, 64}, "HMACSHA256": {sha256.New, 64}, "HMACSHA384": {sha512.New384, 128}, "HMACSHA512": {sha512.New, 128}}
	k := keyed[alg]
	var key []byte
	switch {
	case len(salt) == k.n:
		key = salt
	case len(salt) > k.n:
		key = salt[:k.n]
	default:
		for len(key) < k.n {
			key = append(key, salt[:min(len(salt), k.n-len(key))]...)
		}
	}
	m := hmac.New(k.h, key)
	m.Write(b)
	return m.Sum(nil)
}

func TestMembershipHashes(t *testing.T) {
	salt := "AAECAwQFBgcICQoLDA0ODw=="
	// Computed vectors of the research notes (Go and Mono agree): password "my password".
	for alg, want := range map[string]string{"SHA1": "ZJFvF0TnqdQZ2BNqpCZ6DykqGAs=",
		"HMACSHA256": "hRcKvhNxvCgksB9q5UhsTEpuZW1zBlmUHwMUYIWVgBk="} {
		enc, err := LegacyHash("membership:"+alg, want, salt)
		if err != nil || !verifyHash(enc, "my password") || verifyHash(enc, "my Password") {
			t.Errorf("%s vector: %v", alg, err)
		}
		if SchemeOf(enc) != "membership:"+alg {
			t.Errorf("%s: scheme %s", alg, SchemeOf(enc))
		}
	}
	// HMAC under the bare 16-byte salt is the known trap: it must not verify.
	bare := hmac.New(sha256.New, mustB64(t, salt))
	bare.Write([]byte{'m', 0, 'y', 0, ' ', 0, 'p', 0, 'a', 0, 's', 0, 's', 0, 'w', 0, 'o', 0, 'r', 0, 'd', 0})
	if enc, _ := LegacyHash("membership:HMACSHA256", base64.StdEncoding.EncodeToString(bare.Sum(nil)), salt); verifyHash(enc, "my password") {
		t.Error("HMAC under the unstretched salt verifies")
	}
	// Every algorithm, salts shorter, equal to and longer than the HMAC key, non-ASCII passwords.
	for _, alg := range []string{"MD5", "SHA1", "SHA256", "SHA384", "SHA512", "HMACSHA1", "HMACSHA256", "HMACSHA384", "HMACSHA512"} {
		for _, n := range []int{16, 64, 100, 128, 200} {
			s := make([]byte, n)
			for i := range s {
				s[i] = byte(i*7 + n)
			}
			pw := "Пароль-𝄞-" + alg
			enc, err := LegacyHash("membership:"+alg, base64.StdEncoding.EncodeToString(membershipRef(alg, s, pw)),
				base64.StdEncoding.EncodeToString(s))
			if err != nil || !verifyHash(enc, pw) || verifyHash(enc, pw[:len(pw)-1]) {
				t.Errorf("%s with a %d-byte salt: %v", alg, n, err)
			}
		}
	}
}

func TestBcryptAndArgon2idImported(t *testing.T) {
	// OpenBSD / Openwall crypt_blowfish test vector.
	enc, err := LegacyHash("bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "")
	if err != nil || !verifyHash(enc, "U*U") || verifyHash(enc, "U*V") || SchemeOf(enc) != SchemeBcrypt {
		t.Fatalf("bcrypt vector: %v", err)
	}
	gen, _ := bcrypt.GenerateFromPassword([]byte("pässword"), 4)
	if enc, err := LegacyHash("bcrypt", string(gen), ""); err != nil || !verifyHash(enc, "pässword") {
		t.Fatalf("generated bcrypt: %v", err)
	}
	h := NewHasher(Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 1)
	a, _ := h.Hash(context.Background(), "pw")
	if enc, err := LegacyHash("argon2id", a, ""); err != nil || !verifyHash(enc, "pw") || NeedsUpgrade(enc) {
		t.Fatalf("argon2id: %v", err)
	}
}

// TestCheckUpgrades: a matching legacy hash comes back with its argon2id replacement, which verifies
// the same password; argon2id hashes and failures are not upgraded.
func TestCheckUpgrades(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 1)
	legacy, _ := LegacyHash("identity", identityVectors[0].b64, "")
	ok, up, err := h.Check(ctx, legacy, "my password")
	if err != nil || !ok || SchemeOf(up) != SchemeArgon2id || !verifyHash(up, "my password") {
		t.Fatalf("upgrade: %v %q %v", ok, up, err)
	}
	if ok, up, _ := h.Check(ctx, legacy, "wrong"); ok || up != "" {
		t.Fatal("a wrong password upgraded")
	}
	if ok, up, _ := h.Check(ctx, up, "my password"); !ok || up != "" {
		t.Fatal("an argon2id hash upgraded again")
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
