package verify

import (
	"fmt"
	"strings"

	"aspgate/contracts"
)

// ascCorpus is r7office's corpus: ASC.Api's routing (suffixes, unknown methods, other HTTP methods)
// without a body that signs in, and with writes allowed the sign-in methods themselves in each body
// format and suffix. Every POST to a method is a sign-in attempt (it counts against ONLYOFFICE's
// brute-force rule for that login), so all of them are writes.
func ascCorpus(app *contracts.App) ([]Case, error) {
	var out []Case
	for _, p := range []string{"/" + contracts.ASCBase + "/aspgate-verify/nothing", "/api/2.0/aspgate-verify", "/api/2.0/authentication/setphone/x/y"} {
		for _, m := range []string{"GET", "POST"} {
			out = append(out, Case{Class: "404", Name: fmt.Sprintf("404 %s %s", m, p), Method: m, Target: p})
		}
	}
	for _, r := range contracts.ASCRoutes() {
		path := "/" + strings.ReplaceAll(r.Path(), "{code}", "123456")
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			out = append(out, Case{Class: "405", Name: fmt.Sprintf("method %s %s", m, path), Method: m, Target: path})
		}
		for _, suffix := range []string{"", ".json", ".xml"} {
			for _, f := range []struct{ name, ct, body string }{
				{"json", "application/json", `{"userName":"aspgate-verify@example.invalid","password":"aspgate-verify"}`},
				{"xml", "application/xml", `<request><userName>aspgate-verify@example.invalid</userName><password>aspgate-verify</password></request>`},
				{"form", "application/x-www-form-urlencoded", "userName=aspgate-verify%40example.invalid&password=aspgate-verify"},
				{"malformed json", "application/json", `{"userName":`},
				{"empty", "", ""},
			} {
				c := Case{Class: "action", Name: fmt.Sprintf("action %s%s %s", path, suffix, f.name), Method: "POST",
					Target: path + suffix, Body: []byte(f.body), Writes: true}
				if f.ct != "" {
					c.Header = [][2]string{{"Content-Type", f.ct}}
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}
