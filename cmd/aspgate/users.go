package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"

	"aspgate/account"
)

// withAdmin opens the database and the server key and runs fn with the user administration.
func (c *adminCommand) withAdmin(ctx context.Context, hashConcurrency int, fn func(a *account.Admin) error) error {
	key, err := loadOrCreateKey(c.st.keyPath())
	if err != nil {
		return err
	}
	return c.withStore(ctx, func(db engine) error {
		return fn(&account.Admin{Store: db, Hasher: account.NewHasher(account.DefaultArgon2, hashConcurrency),
			Keys: account.NewKeyring(key), Log: c.log})
	})
}

// cliError words a domain error for the operator: a refused value as its flag (--email must be …).
func cliError(err error) error {
	var ve *account.ValidationError
	if errors.As(err, &ve) {
		return errors.New("--" + strings.ReplaceAll(ve.Field, "_", "-") + " " + ve.Reason)
	}
	if errors.Is(err, account.ErrNotFound) {
		return errors.New("no such user")
	}
	return err
}

func (c *adminCommand) userAdd(stdin io.Reader, stdout io.Writer) {
	var u account.NewUser
	var password string
	fs := c.fs
	fs.StringVar(&u.Email, "email", "", "e-mail `address` (required, unique ignoring case)")
	fs.StringVar(&u.Phone, "phone", "", "phone number, `digits` only (unique)")
	fs.StringVar(&u.UserName, "username", "", "user `name` (required, unique ignoring case)")
	fs.StringVar(&password, "password", "", "the initial `password` (required; - reads one line from stdin)")
	fs.Int64Var(&u.ID, "id", 0, "the legacy integer UserId (`N`; default: the next free one)")
	fs.Func("operator", "operator `id` (see operator add)", int64Flag(&u.OperatorID))
	fs.Func("first-name", "first `name`", stringFlag(&u.FirstName))
	fs.Func("last-name", "last `name`", stringFlag(&u.LastName))
	fs.Func("title", "`title`", stringFlag(&u.Title))
	fs.Func("gender", "gender (`N`, the legacy enum value)", int32Flag(&u.Gender))
	fs.Func("user-type", "user type (`N`, the legacy enum value)", int32Flag(&u.UserType))
	fs.BoolVar(&u.IsLazy, "is-lazy", false, "IsLazy of the profile")
	fs.BoolVar(&u.SharedDataPermission, "shared-data-permission", false, "SharedDataPermission of the profile")
	c.run = func(ctx context.Context) error {
		if u.Email == "" || u.UserName == "" || password == "" {
			return usageError{"user add needs --email, --username and --password"}
		}
		if password == "-" {
			var err error
			if password, err = readSecretLine(stdin); err != nil {
				return err
			}
		}
		return c.withAdmin(ctx, 1, func(a *account.Admin) error {
			id, uid, err := a.AddUser(ctx, u, password)
			if err != nil {
				return cliError(err)
			}
			return writeJSONLine(stdout, addedUser{ID: id, UID: account.FormatUID(uid), UserName: u.UserName, Email: u.Email, Phone: u.Phone})
		})
	}
}

// addedUser is what user add prints.
type addedUser struct {
	ID       int64  `json:"id"`
	UID      string `json:"uid"`
	UserName string `json:"username"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
}

// readSecretLine reads one line (a password, an API key) from stdin, which keeps it out of the process
// list and the shell history.
func readSecretLine(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// userKeyFlags are --id, --uid, --username, --email, --phone: exactly one names the user.
type userKeyFlags struct{ id, uid, username, email, phone string }

func (k *userKeyFlags) register(c *adminCommand) {
	c.fs.StringVar(&k.id, "id", "", "the user's legacy UserId")
	c.fs.StringVar(&k.uid, "uid", "", "the user's GUID")
	c.fs.StringVar(&k.username, "username", "", "the user's `name`")
	c.fs.StringVar(&k.email, "email", "", "the user's e-mail `address`")
	c.fs.StringVar(&k.phone, "phone", "", "the user's phone `digits`")
}

func (k *userKeyFlags) key() (account.UserKey, error) {
	var set []account.UserKey
	for _, f := range []struct{ by, v string }{{"id", k.id}, {"uid", k.uid}, {"username", k.username}, {"email", k.email}, {"phone", k.phone}} {
		if f.v != "" {
			set = append(set, account.UserKey{By: f.by, Value: f.v})
		}
	}
	if len(set) != 1 {
		return account.UserKey{}, usageError{"name the user with exactly one of --id, --uid, --username, --email, --phone"}
	}
	key, err := account.ParseUserKey(set[0].By, set[0].Value)
	if err != nil {
		return key, usageError{cliError(err).Error()}
	}
	return key, nil
}

// userView is a user as show and list print it: never a hash.
type userView struct {
	ID                   int64   `json:"id"`
	UID                  string  `json:"uid"`
	UserName             string  `json:"username"`
	Email                string  `json:"email"`
	Phone                string  `json:"phone,omitempty"`
	Operator             *int64  `json:"operator,omitempty"`
	FirstName            *string `json:"first_name,omitempty"`
	LastName             *string `json:"last_name,omitempty"`
	Title                *string `json:"title,omitempty"`
	Gender               *int32  `json:"gender,omitempty"`
	UserType             *int32  `json:"user_type,omitempty"`
	IsLazy               bool    `json:"is_lazy"`
	SharedDataPermission bool    `json:"shared_data_permission"`
	PasswordScheme       string  `json:"password_scheme"`
	Disabled             bool    `json:"disabled"`
	DisabledAt           string  `json:"disabled_at,omitempty"`
	TOTP                 bool    `json:"totp"`
	ConfirmedPhone       string  `json:"confirmed_phone,omitempty"`
	Created              string  `json:"created"`
	Updated              string  `json:"updated"`
	PasswordChanged      string  `json:"password_changed"`
}

func viewOf(r *account.UserRecord) userView {
	return userView{ID: r.ID, UID: account.FormatUID(r.UID), UserName: r.UserName, Email: r.Email, Phone: r.Phone,
		Operator: r.OperatorID, FirstName: r.FirstName, LastName: r.LastName, Title: r.Title, Gender: r.Gender,
		UserType: r.UserType, IsLazy: r.IsLazy, SharedDataPermission: r.SharedDataPermission,
		PasswordScheme: r.PasswordScheme, Disabled: r.Disabled, DisabledAt: rfc3339(r.DisabledAt), TOTP: r.TOTP,
		ConfirmedPhone: r.ConfirmedPhone, Created: rfc3339(r.CreatedAt), Updated: rfc3339(r.UpdatedAt),
		PasswordChanged: rfc3339(r.PasswordChangedAt)}
}

func printUser(w io.Writer, r *account.UserRecord, asJSON bool) error {
	v := viewOf(r)
	if asJSON {
		return writeJSONLine(w, v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	opt := func(p *string) string {
		if p == nil {
			return "-"
		}
		return oneLine(*p)
	}
	num := func(p *int32) string {
		if p == nil {
			return "-"
		}
		return strconv.Itoa(int(*p))
	}
	op := "-"
	if v.Operator != nil {
		op = strconv.FormatInt(*v.Operator, 10)
	}
	for _, kv := range [][2]string{
		{"id", strconv.FormatInt(v.ID, 10)}, {"uid", v.UID}, {"username", oneLine(v.UserName)}, {"email", oneLine(v.Email)},
		{"phone", orDash(v.Phone)}, {"operator", op}, {"first_name", opt(v.FirstName)}, {"last_name", opt(v.LastName)},
		{"title", opt(v.Title)}, {"gender", num(v.Gender)}, {"user_type", num(v.UserType)},
		{"is_lazy", strconv.FormatBool(v.IsLazy)}, {"shared_data_permission", strconv.FormatBool(v.SharedDataPermission)},
		{"password_scheme", v.PasswordScheme}, {"disabled", strconv.FormatBool(v.Disabled) + ifSet(" since ", v.DisabledAt)},
		{"totp", strconv.FormatBool(v.TOTP)}, {"confirmed_phone", orDash(v.ConfirmedPhone)}, {"created", v.Created},
		{"updated", v.Updated}, {"password_changed", v.PasswordChanged},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return oneLine(s)
}

func ifSet(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func (c *adminCommand) userShow(stdout io.Writer) {
	var k userKeyFlags
	k.register(c)
	asJSON := c.fs.Bool("json", false, "print the user as one JSON object")
	c.run = func(ctx context.Context) error {
		key, err := k.key()
		if err != nil {
			return err
		}
		return c.withAdmin(ctx, 1, func(a *account.Admin) error {
			r, err := a.ShowUser(ctx, key)
			if err != nil {
				return cliError(err)
			}
			return printUser(stdout, r, *asJSON)
		})
	}
}

func (c *adminCommand) userList(stdout io.Writer) {
	asJSON := c.fs.Bool("json", false, "one JSON object per line")
	limit := c.fs.Int("limit", 100, "list at most `N` users (at most 10,000)")
	after := c.fs.Int64("after", 0, "list the users whose id is above `ID` (the last id of the previous page)")
	c.run = func(ctx context.Context) error {
		return c.withAdmin(ctx, 1, func(a *account.Admin) error {
			users, err := a.ListUsers(ctx, *after, *limit)
			if err != nil {
				return err
			}
			if *asJSON {
				for i := range users {
					if err := writeJSONLine(stdout, viewOf(&users[i])); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUID\tUSERNAME\tEMAIL\tPHONE\tSCHEME\tDISABLED")
			for i := range users {
				v := viewOf(&users[i])
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%t\n", v.ID, v.UID, oneLine(v.UserName), oneLine(v.Email), orDash(v.Phone),
					v.PasswordScheme, v.Disabled)
			}
			return tw.Flush()
		})
	}
}

// userState is user disable, enable and delete.
func (c *adminCommand) userState(stdout io.Writer, verb string) {
	var k userKeyFlags
	k.register(c)
	c.run = func(ctx context.Context) error {
		key, err := k.key()
		if err != nil {
			return err
		}
		return c.withAdmin(ctx, 1, func(a *account.Admin) error {
			var r *account.UserRecord
			var err error
			switch verb {
			case "disable", "enable":
				r, err = a.SetDisabled(ctx, key, verb == "disable")
			case "delete":
				r, err = a.DeleteUser(ctx, key)
			}
			if err != nil {
				return cliError(err)
			}
			_, err = fmt.Fprintf(stdout, "%sd user %d (%s)\n", verb, r.ID, oneLine(r.UserName))
			return err
		})
	}
}

func (c *adminCommand) userSetPassword(stdin io.Reader, stdout io.Writer) {
	var k userKeyFlags
	k.register(c)
	c.run = func(ctx context.Context) error {
		key, err := k.key()
		if err != nil {
			return err
		}
		password, err := readSecretLine(stdin)
		if err != nil {
			return err
		}
		if password == "" {
			return usageError{"user set-password reads the new password from stdin (one line); it got none"}
		}
		return c.withAdmin(ctx, 1, func(a *account.Admin) error {
			if err := a.SetPassword(ctx, key, password); err != nil {
				return cliError(err)
			}
			_, err := fmt.Fprintln(stdout, "password set; the user's tokens are revoked")
			return err
		})
	}
}

// userImport is user import FILE...: each file all or nothing.
func (c *adminCommand) userImport(stdout, stderr io.Writer) {
	format := c.fs.String("format", "", "csv or jsonl (default: by the file's extension: .csv, .jsonl, .ndjson)")
	dryRun := c.fs.Bool("dry-run", false, "check the files and print what they would do; write nothing")
	noUpdate := c.fs.Bool("no-update", false, "a row that differs from its stored user is a bad row, instead of an update")
	conc := c.fs.Int("hash-concurrency", 0, "clear passwords hashed at once (0: the number of CPUs)")
	maxProblems := c.fs.Int("max-errors", 1000, "bad rows listed per file (the rest are counted)")
	asJSON := c.fs.Bool("json", false, "print each file's summary as one JSON object")
	c.positional = -1
	c.run = func(ctx context.Context) error {
		if len(c.args) == 0 {
			return usageError{"user import needs at least one FILE"}
		}
		rejected := 0
		err := c.withAdmin(ctx, *conc, func(a *account.Admin) error {
			for _, path := range c.args {
				f := *format
				if f == "" {
					switch strings.ToLower(filepath.Ext(path)) {
					case ".csv":
						f = "csv"
					case ".jsonl", ".ndjson":
						f = "jsonl"
					default:
						return usageError{fmt.Sprintf("%s: say --format csv or --format jsonl (the extension does not tell)", path)}
					}
				}
				if f != "csv" && f != "jsonl" {
					return usageError{fmt.Sprintf("--format %q: want csv or jsonl", f)}
				}
				file, err := os.Open(path)
				if err != nil {
					return err
				}
				var size int64
				if fi, err := file.Stat(); err == nil {
					size = fi.Size()
				}
				prog := newProgress(stderr, path, size)
				rep, err := a.Import(ctx, file, account.ImportOptions{Format: f, DryRun: *dryRun, NoUpdate: *noUpdate,
					MaxProblems: *maxProblems, Size: size, Progress: prog.update})
				file.Close()
				prog.done()
				if errors.Is(err, account.ErrImportRejected) {
					rejected++
					for _, p := range rep.Problems {
						fmt.Fprintf(stderr, "%s:%s\n", path, strings.TrimPrefix(p.String(), "line "))
					}
					if rep.MoreProblems > 0 {
						fmt.Fprintf(stderr, "%s: %d more bad rows not listed (--max-errors)\n", path, rep.MoreProblems)
					}
					fmt.Fprintf(stderr, "%s: %d bad rows; nothing was imported from this file\n", path, len(rep.Problems)+rep.MoreProblems)
					continue
				}
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				if err := printImport(stdout, path, rep, prog.elapsed(), *asJSON); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil && rejected > 0 {
			err = fmt.Errorf("%d of %d files had bad rows and were not imported", rejected, len(c.args))
		}
		return err
	}
}

func printImport(w io.Writer, path string, rep account.ImportReport, took time.Duration, asJSON bool) error {
	c := rep.Counts
	if asJSON {
		return writeJSONLine(w, map[string]any{"file": path, "rows": c.Rows, "new": c.New, "updated": c.Updated,
			"unchanged": c.Unchanged, "dry_run": rep.DryRun, "seconds": took.Seconds()})
	}
	verb := "imported"
	if rep.DryRun {
		verb = "would import (dry run)"
	}
	_, err := fmt.Fprintf(w, "%s: %d rows %s: %d new, %d updated, %d unchanged (%.1fs)\n", path, c.Rows, verb, c.New, c.Updated,
		c.Unchanged, took.Seconds())
	return err
}

// progress shows an import under way: a bar redrawn in place on a terminal, a plain line every 5 s
// otherwise.
type progress struct {
	w        io.Writer
	path     string
	size     int64
	tty      bool
	start    time.Time
	lastLine time.Time
	drawn    bool
}

func newProgress(w io.Writer, path string, size int64) *progress {
	p := &progress{w: w, path: path, size: size, start: time.Now(), lastLine: time.Now()}
	if f, ok := w.(*os.File); ok {
		p.tty = isatty.IsTerminal(f.Fd())
	}
	return p
}

func (p *progress) elapsed() time.Duration { return time.Since(p.start) }

func (p *progress) update(u account.ImportProgress) {
	secs := max(time.Since(p.start).Seconds(), 0.001)
	rate := float64(u.Rows) / secs
	frac := -1.0
	if u.Size > 0 && u.Phase == "reading" {
		frac = float64(u.Bytes) / float64(u.Size)
	}
	if p.tty {
		bar := ""
		eta := ""
		if frac >= 0 {
			n := int(frac * 30)
			bar = "[" + strings.Repeat("=", n) + strings.Repeat(" ", 30-n) + "] " + strconv.Itoa(int(frac*100)) + "% "
			if frac > 0 {
				eta = fmt.Sprintf(" ETA %ds", int(secs/frac-secs))
			}
		}
		fmt.Fprintf(p.w, "\r%s: %s%s %d rows, %.0f rows/s%s   ", p.path, bar, u.Phase, u.Rows, rate, eta)
		p.drawn = true
		return
	}
	if time.Since(p.lastLine) >= 5*time.Second {
		p.lastLine = time.Now()
		pct := ""
		if frac >= 0 {
			pct = fmt.Sprintf(" (%d%% of the file)", int(frac*100))
		}
		fmt.Fprintf(p.w, "%s: %s, %d rows%s, %.0f rows/s\n", p.path, u.Phase, u.Rows, pct, rate)
	}
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
