// Command aspgate is the account-recovery gateway that answers the legacy ASP.NET endpoints wire for wire,
// and the contract tool that tells whether a server still speaks their contract.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage:
  aspgate contract <types|sample|encode|decode> ...   the legacy wire contract (aspgate contract help)
  aspgate serve [--addr 127.0.0.1:8080] [--db aspgate.db] ...   the gateway (aspgate serve -h)
  aspgate verify --target URL --app APP [--cases DIR] [--report F.json] [--junit F.xml] [--allow-writes]
                                                      does a server still speak the legacy contract?
  aspgate shadow --listen ADDR --primary URL --candidate URL [--secondary URL] --db FILE   mirror live traffic
  aspgate shadow report --db FILE [--json]            the differences a shadow found
  aspgate record --listen ADDR --upstream URL --app APP --out DIR   traffic to verify cases, secrets redacted
  aspgate migrate                                     create or migrate the database (--db, --hmac-key-file)
  aspgate migrate-data --from FILE --to DSN           copy a SQLite database into an empty PostgreSQL one
  aspgate operator add | user add | apikey add|revoke | outbox list|send-once   admin commands (aspgate user -h)
  aspgate token check|revoke TOKEN | totp enroll|disable --user U      r7office tokens and authenticator apps
  aspgate version                                     the module version and VCS revision of this build`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "contract":
		return runContract(args[1:], stdin, stdout, stderr)
	case "serve":
		return runServe(args[1:], stderr)
	case "verify":
		return runVerify(args[1:], stdout, stderr)
	case "record":
		return runRecord(args[1:], stdout, stderr)
	case "shadow":
		return runShadow(args[1:], stdout, stderr)
	case "migrate-data":
		return runMigrateData(args[1:], stdout, stderr)
	case "migrate", "operator", "user", "apikey", "outbox", "token", "totp":
		return runAdmin(args, stdin, stdout, stderr)
	case "version", "--version", "-version":
		return runVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s\n", args[0], usage)
	return exitUsage
}
