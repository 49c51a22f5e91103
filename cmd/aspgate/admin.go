package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"aspgate/account"
	"aspgate/contracts"
	"aspgate/delivery"
	"aspgate/store/sqlite"
)

// exitFailed is an admin command that could not do its work: a refused value, a duplicate, a database error.
const exitFailed = 1

const adminUsage = `usage (every command also takes --db FILE and --hmac-key-file FILE):
  aspgate migrate
  aspgate operator add --id N --name NAME
  aspgate user add --email E --phone DIGITS --username U --password P|- [--operator N] [--first-name S]
                   [--last-name S] [--title S] [--gender N] [--user-type N] [--is-lazy]
                   [--shared-data-permission] [--id N]
  aspgate user import FILE... [--format csv|jsonl] [--dry-run] [--no-update] [--hash-concurrency N] [--json]
  aspgate user list [--json] [--limit N] [--after ID]
  aspgate user show --id N|--uid GUID|--username U|--email E|--phone DIGITS [--json]
  aspgate user disable|enable|delete --id N|--uid GUID|--username U|--email E|--phone DIGITS
  aspgate user set-password --id N|... (reads the password from stdin, never from the command line)
  aspgate apikey add --app aries --name NAME [--key-stdin]
  aspgate apikey revoke --app aries --name NAME
  aspgate outbox list [--status pending|sending|sent|dead|all] [--limit N] [--json]
  aspgate outbox send-once [delivery flags of serve: --smtp-url, --sms-url, ...] [--json]
  aspgate token check TOKEN|-          print the token's introspection (RFC 7662) as JSON
  aspgate token revoke TOKEN|-
  aspgate totp enroll --user NAME|EMAIL [--qr FILE.png] [--issuer R7-Office]
  aspgate totp disable --user NAME|EMAIL`

// adminCommand is one admin command: its flags and what it does once they are parsed.
type adminCommand struct {
	name string // "user add"
	fs   *flag.FlagSet
	st   storageFlags
	run  func(ctx context.Context) error
	// positional is how many arguments besides flags the command takes (token check TOKEN); they may
	// come before, between or after the flags.
	positional int
	args       []string
	log        *slog.Logger // JSON lines on stderr, as serve logs
}

// runAdmin runs the admin commands: migrate, operator add, user add, apikey add|revoke, outbox list|send-once.
func runAdmin(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, rest, err := adminParse(args, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, adminUsage)
		if cmd != nil {
			fmt.Fprintf(stdout, "\naspgate %s flags:\n", cmd.name)
			cmd.fs.SetOutput(stdout)
			cmd.fs.PrintDefaults()
		}
		return exitOK
	}
	if err == nil && cmd.positional < 0 {
		cmd.args = rest // any number of arguments (user import FILE...)
	} else if err == nil && len(rest) > cmd.positional {
		err = usageError{fmt.Sprintf("unexpected argument %q", rest[cmd.positional])}
	} else if err == nil && len(rest) < cmd.positional {
		err = usageError{fmt.Sprintf("aspgate %s needs %d argument(s)", cmd.name, cmd.positional)}
	} else if err == nil {
		cmd.args = rest
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %s\n%s\n", oneLine(err.Error()), adminUsage)
		return exitUsage
	}
	if err := cmd.run(context.Background()); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "error: %s\n%s\n", oneLine(ue.msg), adminUsage)
			return exitUsage
		}
		fmt.Fprintf(stderr, "error: aspgate %s: %s\n", cmd.name, oneLine(err.Error()))
		return exitFailed
	}
	return exitOK
}

// adminParse picks the command named by args and parses its flags.
func adminParse(args []string, stdin io.Reader, stdout, stderr io.Writer) (*adminCommand, []string, error) {
	name := args[0]
	verbs := map[string][]string{"operator": {"add"}, "user": {"add", "import", "list", "show", "disable", "enable", "delete", "set-password"},
		"apikey": {"add", "revoke"}, "outbox": {"list", "send-once"},
		"token": {"check", "revoke"}, "totp": {"enroll", "disable"}}
	if name != "migrate" {
		if len(args) >= 2 && (args[1] == "-h" || args[1] == "-help" || args[1] == "--help" || args[1] == "help") {
			return nil, nil, flag.ErrHelp
		}
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return nil, nil, usageError{name + " needs one of: " + strings.Join(verbs[name], ", ")}
		}
		name += " " + args[1]
		args = args[1:]
	}
	c := &adminCommand{name: name, fs: flag.NewFlagSet("aspgate "+name, flag.ContinueOnError), log: newLogger(stderr, slog.LevelInfo)}
	c.fs.SetOutput(io.Discard)
	c.st.register(c.fs)
	switch name {
	case "migrate":
		c.run = func(ctx context.Context) error { return c.migrate(ctx, stdout) }
	case "operator add":
		c.operatorAdd(stdout)
	case "user add":
		c.userAdd(stdin, stdout)
	case "user import":
		c.userImport(stdout, stderr)
	case "user list":
		c.userList(stdout)
	case "user show":
		c.userShow(stdout)
	case "user disable", "user enable", "user delete":
		c.userState(stdout, name[len("user "):])
	case "user set-password":
		c.userSetPassword(stdin, stdout)
	case "apikey add":
		c.apikeyAdd(stdin, stdout)
	case "apikey revoke":
		c.apikeyRevoke(stdout)
	case "outbox list":
		c.outboxList(stdout)
	case "outbox send-once":
		c.outboxSendOnce(stdout)
	case "token check":
		c.tokenCheck(stdin, stdout)
	case "token revoke":
		c.tokenRevoke(stdin, stdout)
	case "totp enroll":
		c.totpEnroll(stdout)
	case "totp disable":
		c.totpDisable(stdout)
	default:
		verb := name[strings.IndexByte(name, ' ')+1:]
		base := name[:strings.IndexByte(name, ' ')]
		return nil, nil, usageError{fmt.Sprintf("unknown %s command %q (want %s)", base, verb, strings.Join(verbs[base], ", "))}
	}
	// Flags and positional arguments may be mixed: parse up to each argument, keep it, go on after it.
	var rest []string
	for left := args[1:]; ; {
		if err := c.fs.Parse(left); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return c, nil, err
			}
			return nil, nil, usageError{err.Error()}
		}
		if c.fs.NArg() == 0 {
			return c, rest, nil
		}
		rest = append(rest, c.fs.Arg(0))
		left = c.fs.Args()[1:]
	}
}

// withStore opens the database for one command and closes it afterwards.
func (c *adminCommand) withStore(ctx context.Context, fn func(db engine) error) error {
	db, err := openStore(ctx, c.st.db)
	if err != nil {
		return err
	}
	err = fn(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func (c *adminCommand) migrate(ctx context.Context, stdout io.Writer) error {
	if _, err := loadOrCreateKey(c.st.keyPath()); err != nil {
		return err
	}
	return c.withStore(ctx, func(db engine) error {
		ms, err := db.Migrations(ctx)
		if err != nil {
			return err
		}
		version := 0
		if len(ms) > 0 {
			version = ms[len(ms)-1].Version
		}
		fmt.Fprintf(stdout, "%s: schema version %d\n", c.st.db, version)
		return nil
	})
}

func (c *adminCommand) operatorAdd(stdout io.Writer) {
	id := c.fs.Int64("id", 0, "operator `id` (the legacy Operator value, required)")
	name := c.fs.String("name", "", "operator `name` (required)")
	c.run = func(ctx context.Context) error {
		if !flagSet(c.fs, "id") || *name == "" {
			return usageError{"operator add needs --id and --name"}
		}
		return c.withAdmin(ctx, 1, func(a *account.Admin) error {
			if err := a.AddOperator(ctx, *id, *name); err != nil {
				return cliError(err)
			}
			return writeJSONLine(stdout, struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			}{*id, *name})
		})
	}
}

func (c *adminCommand) apikeyAdd(stdin io.Reader, stdout io.Writer) {
	app := c.fs.String("app", "", "client `app` the key is for (aries)")
	name := c.fs.String("name", "", "a `name` for the key, unique among the app's active keys")
	fromStdin := c.fs.Bool("key-stdin", false, "take the partner's existing key from stdin (one line) instead of making a new one")
	c.run = func(ctx context.Context) error {
		appID, err := apikeyFlags(*app, *name)
		if err != nil {
			return err
		}
		given := ""
		if *fromStdin {
			if given, err = readSecretLine(stdin); err != nil {
				return err
			}
			if given == "" {
				return usageError{"--key-stdin: no key on stdin"}
			}
		}
		return c.withAdmin(ctx, 1, func(a *account.Admin) error {
			key, err := a.AddAPIKey(ctx, appID, *name, given)
			if err != nil {
				return cliError(err)
			}
			if *fromStdin {
				_, err = fmt.Fprintf(stdout, "added api key %q of %s\n", *name, appID)
				return err
			}
			// The only time a new key is shown: the database keeps its MAC alone.
			_, err = fmt.Fprintln(stdout, key)
			return err
		})
	}
}

func (c *adminCommand) apikeyRevoke(stdout io.Writer) {
	app := c.fs.String("app", "", "client `app` of the key (aries)")
	name := c.fs.String("name", "", "`name` of the key")
	c.run = func(ctx context.Context) error {
		appID, err := apikeyFlags(*app, *name)
		if err != nil {
			return err
		}
		return c.withAdmin(ctx, 1, func(a *account.Admin) error {
			err := a.RevokeAPIKey(ctx, appID, *name)
			if errors.Is(err, account.ErrNotFound) {
				return fmt.Errorf("no active api key named %q for %s", *name, appID)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "revoked api key %q of %s\n", *name, appID)
			return err
		})
	}
}

// apikeyFlags checks --app (one of the legacy apps, by id or seed number) and --name.
func apikeyFlags(app, name string) (string, error) {
	if app == "" || name == "" {
		return "", usageError{"apikey needs --app and --name"}
	}
	a, ok := contracts.LookupApp(strings.ToLower(app))
	if !ok {
		var ids []string
		for _, a := range contracts.Apps() {
			ids = append(ids, a.ID)
		}
		return "", fmt.Errorf("unknown app %q (want one of %s)", app, strings.Join(ids, ", "))
	}
	return a.ID, nil
}

// outboxMessage is one line of outbox list --json. Code and Link are what the message carries: from the
// outbox row while it waits, from the dev inbox once delivered there (a real delivery leaves no copy).
type outboxMessage struct {
	ID          int64  `json:"id"`
	App         string `json:"app"`
	Channel     string `json:"channel"`
	Kind        string `json:"kind"`
	To          string `json:"to"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	Created     string `json:"created"`
	NextAttempt string `json:"next_attempt,omitempty"`
	Sent        string `json:"sent,omitempty"`
	Dead        string `json:"dead,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	Code        string `json:"code,omitempty"`
	Link        string `json:"link,omitempty"`
	Subject     string `json:"subject,omitempty"` // as delivered to the dev inbox
	Text        string `json:"text,omitempty"`    // as delivered to the dev inbox
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (c *adminCommand) outboxList(stdout io.Writer) {
	asJSON := c.fs.Bool("json", false, "one JSON object per line")
	status := c.fs.String("status", "all", "`state` to list: pending, sending, sent, dead or all")
	limit := c.fs.Int("limit", 100, "list the newest `N` messages (0: all)")
	inbox := c.fs.String("dev-inbox", envString("ASPGATE_DEV_INBOX", ""), "dev inbox `file` (default: the database path + \""+inboxSuffix+"\"; env ASPGATE_DEV_INBOX)")
	c.run = func(ctx context.Context) error {
		var states []string
		switch *status {
		case "all":
		case sqlite.OutboxPending, sqlite.OutboxSending, sqlite.OutboxSent, sqlite.OutboxDead:
			states = []string{*status}
		default:
			return usageError{fmt.Sprintf("--status %q: want pending, sending, sent, dead or all", *status)}
		}
		return c.withStore(ctx, func(db engine) error {
			rows, err := db.ListOutbox(ctx, *limit, states...)
			if err != nil {
				return err
			}
			path := devInboxPath(c.st.db, *inbox)
			entries, err := delivery.ReadInbox(path)
			if err != nil {
				return err
			}
			delivered := map[string]delivery.InboxEntry{} // by idempotency key: ids restart with a new database
			for _, e := range entries {
				delivered[e.IdempotencyKey] = e
			}
			msgs := make([]outboxMessage, 0, len(rows))
			for _, r := range rows {
				m := outboxMessage{ID: r.ID, App: r.App, Channel: string(r.Channel), Kind: string(r.Kind), To: r.To,
					Status: r.Status, Attempts: r.Attempts, Created: rfc3339(r.CreatedAt), Sent: rfc3339(r.SentAt),
					Dead: rfc3339(r.DeadAt), LastError: r.LastError}
				if r.Status == sqlite.OutboxPending {
					m.NextAttempt = rfc3339(r.NextAttemptAt)
				}
				if r.Secret != "" {
					if m.Link = r.Link(); m.Link == "" {
						m.Code = r.Secret
					}
				}
				if e, ok := delivered[r.IdempotencyKey]; ok && r.Status == sqlite.OutboxSent {
					m.Code, m.Link, m.Subject, m.Text = e.Code, e.Link, e.Subject, e.Text
				}
				msgs = append(msgs, m)
			}
			if *asJSON {
				for _, m := range msgs {
					if err := writeJSONLine(stdout, m); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tTRIES\tAPP\tCHANNEL\tKIND\tTO\tCREATED\tCODE OR LINK\tLAST ERROR")
			for _, m := range msgs {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Status, m.Attempts, oneLine(m.App),
					m.Channel, m.Kind, oneLine(m.To), m.Created, oneLine(cmp.Or(m.Code, m.Link, "-")),
					oneLine(cmp.Or(m.LastError, "-")))
			}
			return tw.Flush()
		})
	}
}

// outboxSendOnce delivers what is due now and exits: for cron, beside a server started with --dispatch=false.
func (c *adminCommand) outboxSendOnce(stdout io.Writer) {
	var d deliveryFlags
	d.register(c.fs)
	asJSON := c.fs.Bool("json", false, "print the counts as a JSON object")
	c.run = func(ctx context.Context) error {
		d.fromEnv(c.fs)
		disp, err := d.dispatcher(c.st.db, c.log)
		if err != nil {
			return err
		}
		return c.withStore(ctx, func(db engine) error {
			disp.Outbox, disp.LockPath = db, db.DispatchLockPath()
			r, err := disp.SendOnce(ctx)
			if errors.Is(err, delivery.ErrLocked) {
				return errors.New("a running server is dispatching this outbox (start it with --dispatch=false to use send-once)")
			}
			if err != nil {
				return err
			}
			if *asJSON {
				return writeJSONLine(stdout, map[string]int{"requeued": r.Released, "sent": r.Sent, "retry": r.Failed, "dead": r.Dead})
			}
			_, err = fmt.Fprintf(stdout, "sent %d, to retry %d, dead %d (requeued after a crash: %d)\n", r.Sent, r.Failed, r.Dead, r.Released)
			return err
		})
	}
}

// writeJSONLine writes v as one line of JSON, without HTML escaping.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// stringFlag, int64Flag and int32Flag fill an optional value: nil unless the flag is given.
func stringFlag(p **string) func(string) error {
	return func(s string) error { *p = &s; return nil }
}

func int64Flag(p **int64) func(string) error {
	return func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		*p = &n
		return nil
	}
}

func int32Flag(p **int32) func(string) error {
	return func(s string) error {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return errors.New("not a 32-bit integer")
		}
		v := int32(n)
		*p = &v
		return nil
	}
}
