package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"
)

// pair is a face's known and unknown request.
type pair struct {
	face           string
	known, unknown request
}

// auc is P(a known request took longer than an unknown one), ties counting one half: 0.5 when timing
// tells nothing.
func auc(known, unknown []time.Duration) float64 {
	var wins float64
	for _, k := range known {
		for _, u := range unknown {
			switch {
			case k > u:
				wins++
			case k == u:
				wins += 0.5
			}
		}
	}
	return wins / float64(len(known)*len(unknown))
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func runTiming(args []string) error {
	fs := flag.NewFlagSet("timing", flag.ContinueOnError)
	bin := fs.String("bin", "bin/aspgate", "the aspgate binary")
	n := fs.Int("n", 200, "requests of each kind (known, unknown) per face, interleaved at random")
	seed := fs.Uint64("seed", 1, "seed of the interleaving")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "benchtiming")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cpu := ""
	if tasksetWorks() {
		cpu = "0"
	}
	// Limits off: a refusal is its own (equal) answer, and would hide the work behind it.
	g, err := startGate(*bin, dir, cpu, "", "--dispatch=false", "--limit-recipient-minute", "0", "--limit-recipient-hour", "0",
		"--limit-client-hour", "0", "--signin-attempts", "0", "--limit-signin-client", "0")
	if err != nil {
		return err
	}
	defer g.stop()
	id, err := g.addUser("ivan", "ivan@example.com", "79991234567")
	if err != nil {
		return err
	}
	if _, err := g.addUser("olga", "olga@example.com", "79997654321"); err != nil {
		return err
	}
	keyOut, err := g.cli("apikey", "add", "--app", "aries", "--name", "bench")
	if err != nil {
		return err
	}
	key := strings.TrimSpace(keyOut)
	base := "http://" + g.addr
	c := oneConnClient()
	// ivan gets a live code; a used change request for customer.
	if _, _, err := send(c, base, request{"POST", "/api/user/RememberMessage", "application/json", "", `{"Phone":79991234567}`}); err != nil {
		return err
	}
	if _, _, err := send(c, base, request{"POST", "/API/Account/ForgotPassword", "application/json", "", `{"userName":"olga","apiKey":"` + key + `"}`}); err != nil {
		return err
	}
	list, err := g.cli("outbox", "list", "--json", "--limit", "1")
	if err != nil {
		return err
	}
	used := list[strings.Index(list, "id=")+3:]
	used = used[:strings.IndexAny(used, `"&`)]
	if _, _, err := send(c, base, request{"POST", "/api/Customer/PasswordChange", "application/json", "",
		`{"ChangeRequestId":"` + used + `","Password":"Brand-new-pass-1"}`}); err != nil {
		return err
	}
	j := func(path, body string) request { return request{"POST", path, "application/json", "", body} }
	f := func(path, body string) request {
		return request{"POST", path, "application/x-www-form-urlencoded", "", body}
	}
	pairs := []pair{
		{"lcmanager RememberMessage (phone)", j("/api/user/RememberMessage", `{"Phone":79997654321}`), j("/api/user/RememberMessage", `{"Phone":79990009999}`)},
		{"lcmanager RememberMessage (e-mail)", j("/api/user/RememberMessage", `{"Email":"olga@example.com"}`), j("/api/user/RememberMessage", `{"Email":"nobody@example.com"}`)},
		{"ereader ResetPassword (wrong code)", j("/api/Account/ResetPassword", fmt.Sprintf(`{"UserId":%d,"Code":"000000","NewPassword":"Brand-new-pass-2"}`, id)),
			j("/api/Account/ResetPassword", `{"UserId":999999,"Code":"000000","NewPassword":"Brand-new-pass-2"}`)},
		{"aries ForgotPassword (user name)", j("/API/Account/ForgotPassword", `{"userName":"ivan","apiKey":"`+key+`"}`),
			j("/API/Account/ForgotPassword", `{"userName":"nobody","apiKey":"`+key+`"}`)},
		{"aries ForgotPassword (e-mail)", j("/API/Account/ForgotPassword", `{"email":"ivan@example.com","apiKey":"`+key+`"}`),
			j("/API/Account/ForgotPassword", `{"email":"nobody@example.com","apiKey":"`+key+`"}`)},
		{"customer PasswordChange (used vs never issued)", j("/api/Customer/PasswordChange", `{"ChangeRequestId":"`+used+`","Password":"Brand-new-pass-3"}`),
			j("/api/Customer/PasswordChange", `{"ChangeRequestId":"never-issued-0123456789abcdef0123456789abcdef","Password":"Brand-new-pass-3"}`)},
		{"r7office authentication (user name)", f("/api/2.0/authentication.json", "userName=ivan&password=wrong"),
			f("/api/2.0/authentication.json", "userName=nobody&password=wrong")},
		{"r7office authentication (e-mail)", f("/api/2.0/authentication.json", "userName=ivan@example.com&password=wrong"),
			f("/api/2.0/authentication.json", "userName=nobody@example.com&password=wrong")},
	}
	rng := rand.New(rand.NewPCG(*seed, 2))
	fmt.Printf("benchhttp timing: %d known and %d unknown requests per face, interleaved at random, one connection\n\n", *n, *n)
	fmt.Println("| face | known p50 | unknown p50 | AUC | within [0.35, 0.65] |")
	fmt.Println("|---|---:|---:|---:|---|")
	out := 0
	for _, p := range pairs {
		order := make([]bool, 0, 2**n)
		for i := range 2 * *n {
			order = append(order, i%2 == 0)
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for range 10 { // warm-up
			send(c, base, p.known)
			send(c, base, p.unknown)
		}
		var known, unknown []time.Duration
		for _, isKnown := range order {
			r := p.unknown
			if isKnown {
				r = p.known
			}
			t0 := time.Now()
			if _, _, err := send(c, base, r); err != nil {
				return err
			}
			d := time.Since(t0)
			if isKnown {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
		a := auc(known, unknown)
		ok := "yes"
		if a < 0.35 || a > 0.65 {
			ok, out = "no", out+1
		}
		fmt.Printf("| %s | %s | %s | %.2f | %s |\n", p.face, ms(median(known)), ms(median(unknown)), a, ok)
	}
	fmt.Printf("\n%d face(s) outside the target\n", out)
	return nil
}
