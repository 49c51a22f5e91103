// Command importgen writes a CSV file of N users with legacy password hashes for `aspgate user import`,
// for the import benchmark (tools/import-bench.sh). The hashes have the right shape (what an import checks)
// but random contents: no password verifies them. Deterministic for a given -seed.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	n := flag.Int("n", 200_000, "rows")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("o", "users.csv", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rng := rand.New(rand.NewPCG(*seed, 7))
	random := func(k int) []byte {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	b64 := base64.StdEncoding.EncodeToString
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id,uid,username,email,phone,first_name,last_name,is_lazy,user_type,gender,password_format,password_hash,password_salt")
	for i := 1; i <= *n; i++ {
		u := random(16)
		uid := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
		format, hash, salt := "", "", ""
		switch i % 3 {
		case 0: // ASP.NET Core Identity V3, HMAC-SHA256, 10,000 iterations
			h := make([]byte, 13)
			h[0] = 1
			binary.BigEndian.PutUint32(h[1:], 1)
			binary.BigEndian.PutUint32(h[5:], 10000)
			binary.BigEndian.PutUint32(h[9:], 16)
			format, hash = "identity", b64(append(append(h, random(16)...), random(32)...))
		case 1: // SqlMembershipProvider, SHA1
			format, hash, salt = "membership:SHA1", b64(random(20)), b64(random(16))
		case 2: // Identity V2
			format, hash = "identity", b64(append([]byte{0}, random(48)...))
		}
		fmt.Fprintf(w, "%d,%s,user%07d,user%07d@example.com,7%010d,Имя%d,Фамилия%d,%t,%d,%d,%s,%s,%s\n",
			i, uid, i, i, i, i, i, i%2 == 0, i%3, i%2, format, hash, salt)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
