// Package archtest holds the test that keeps the imports one way (DEVELOPERS' guide, design notes): cmd
// wires everything; handlers translate HTTP to the domain; the domain (account) imports no package of
// ours; the storage engines and delivery import only the domain; the wire packages know nothing of HTTP or
// storage; nothing imports handlers or cmd. A new edge fails here until it is added below on purpose.
package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed lists, for every package of the module (tools aside), the packages of the module it may import.
var allowed = map[string][]string{
	"account":               nil,
	"contracts":             {"contracts/jsonnet", "xmlns"},
	"contracts/jsonnet":     nil,
	"xmlns":                 nil,
	"delivery":              {"account"},
	"metrics":               {"account"},
	"health":                nil,
	"listen":                nil,
	"store/sqlite":          {"account", "store/internal/rules"},
	"store/postgres":        {"account", "store/internal/rules"},
	"store/internal/rules":  {"account"},
	"store/postgres/pgtest": nil,
	"store/storetest":       {"account"},
	"handlers":              {"account", "contracts", "helppage", "openapi"},
	"helppage":              {"contracts", "contracts/jsonnet"},
	"openapi":               {"contracts", "helppage", "xmlns"},
	"wirediff":              nil,
	"wireproxy":             nil,
	"recorder":              {"wireproxy"},
	"shadow":                {"contracts", "recorder", "wirediff", "wireproxy"},
	"verify":                {"contracts", "internal/recording", "wirediff"},
	"internal/recording":    nil,
	"internal/smtptest":     nil,
	"internal/archtest":     nil,
	"cmd/aspgate": {"account", "contracts", "delivery", "handlers", "health", "listen", "metrics", "openapi", "recorder", "shadow",
		"store/postgres", "store/sqlite", "verify", "wireproxy"},
}

func TestImportsGoOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "aspgate/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], "aspgate/")
		if strings.HasPrefix(pkg, "tools/") {
			continue // the benchmark and oracle programs drive the binary; they are not part of it
		}
		seen[pkg] = true
		want, ok := allowed[pkg]
		if !ok {
			t.Errorf("%s is new: say in allowed which packages of ours it may import", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, "aspgate/") {
				continue
			}
			imp = strings.TrimPrefix(imp, "aspgate/")
			if !slices.Contains(want, imp) {
				t.Errorf("%s imports %s, which the one-way rule does not allow", pkg, imp)
			}
		}
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("allowed names %s, which no longer exists", pkg)
		}
	}
}
