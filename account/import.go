package account

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Importing the legacy user base: `aspgate user import FILE`. A file is CSV with a header row, or JSON
// Lines; its columns (keys) are importColumns. A file is all or nothing: every row is validated, against
// the others and against the database, before anything is written; a file with a bad row writes nothing
// and lists every bad row. Re-importing a file changes nothing ("unchanged"); a row that differs from the
// stored user updates it (ImportStage.Check says which fields), or with NoUpdate is a bad row.

// importColumns are the columns an import file may have; any other is an error (probably a typo).
var importColumns = []string{"id", "uid", "username", "email", "phone", "operator", "first_name", "last_name", "title",
	"is_lazy", "user_type", "shared_data_permission", "gender", "password_format", "password_hash", "password_salt", "history"}

// ImportRow is one valid row of an import file.
type ImportRow struct {
	Line     int
	User     NewUser // PasswordHash in its stored form; UID nil when the file gives none
	UIDGiven bool
	// ImportedHash is what the row's password is compared by on a later import: the legacy hash as the
	// file gave it, or for a clear password the hash it was given at its first import.
	ImportedHash string
}

// ImportProblem is one bad row: its line in the file, the column, and why.
type ImportProblem struct {
	Line   int
	Column string
	Reason string
}

// Error makes a problem that stops the reading (a bad header) an error.
func (p *ImportProblem) Error() string { return p.String() }

func (p ImportProblem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Column, p.Reason)
}

// ImportCounts is what an import did or would do.
type ImportCounts struct {
	Rows      int
	New       int
	Updated   int
	Unchanged int
}

// ImportStage is the storage side of one import: rows are staged, checked together against the database
// and each other, then applied.
type ImportStage interface {
	Add(ctx context.Context, row ImportRow) error
	// Check finds the rows the database cannot take (duplicates in the file, values other users hold,
	// unknown operators, a GUID that would change; with noUpdate, rows that differ from their user), at
	// most limit of them, and counts what Apply would do.
	Check(ctx context.Context, noUpdate bool, limit int) ([]ImportProblem, ImportCounts, error)
	// Apply writes the checked rows, in transactions of a few thousand rows; done reports progress.
	Apply(ctx context.Context, now time.Time, done func(rows int)) (ImportCounts, error)
	Close() error
}

// ImportOptions tune an import.
type ImportOptions struct {
	Format      string // "csv" or "jsonl"
	DryRun      bool   // validate and count, write nothing
	NoUpdate    bool   // a row that differs from its stored user is a bad row
	MaxProblems int    // problems listed (default 1,000; the rest are counted)
	// Progress, when set, is called now and then with the rows read so far and the bytes of the file
	// read (of Size, when known).
	Progress func(p ImportProgress)
	Size     int64
}

// ImportProgress is an import under way.
type ImportProgress struct {
	Phase string // "reading", "checking", "writing"
	Rows  int
	Bytes int64
	Size  int64
}

// ImportReport is the outcome of an import.
type ImportReport struct {
	Counts       ImportCounts
	Problems     []ImportProblem
	MoreProblems int // problems found beyond those listed
	DryRun       bool
	Written      bool
}

// ErrImportRejected is a file with bad rows: nothing was written.
var ErrImportRejected = errors.New("account: the file has bad rows; nothing was imported")

// Import reads one file and imports it (see the top of this file).
func (a *Admin) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportReport, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 1000
	}
	rep := ImportReport{DryRun: opts.DryRun}
	stage, err := a.Store.BeginImport(ctx)
	if err != nil {
		return rep, err
	}
	defer stage.Close()
	cr := &countingReader{r: r}
	var problems problemList
	problems.max = opts.MaxProblems
	progress := func(phase string, rows int) {
		if opts.Progress != nil {
			opts.Progress(ImportProgress{Phase: phase, Rows: rows, Bytes: cr.n.Load(), Size: opts.Size})
		}
	}

	// Rows go from the reader to workers (which hash clear passwords, within the hasher's concurrency) to
	// the one goroutine that stages them.
	raw := make(chan rawRow, 256)
	valid := make(chan ImportRow, 256)
	readErr := make(chan error, 1)
	go func() {
		defer close(raw)
		readErr <- readRows(ctx, cr, opts.Format, raw)
	}()
	var wg sync.WaitGroup
	workers := max(a.Hasher.Slots(), 1)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rr := range raw {
				row, errs := a.validateRow(ctx, rr, opts.DryRun)
				if len(errs) > 0 {
					problems.add(errs...)
					continue
				}
				select {
				case valid <- row:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(valid) }()
	rows := 0
	last := time.Now()
	var stageErr error
	for row := range valid {
		if stageErr == nil {
			stageErr = stage.Add(ctx, row)
		}
		rows++
		if time.Since(last) > 200*time.Millisecond {
			last = time.Now()
			progress("reading", rows+problems.rows())
		}
	}
	if err := <-readErr; err != nil {
		var ip *ImportProblem
		if errors.As(err, &ip) {
			problems.add(*ip)
		} else {
			return rep, err
		}
	}
	if stageErr != nil {
		return rep, stageErr
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	progress("checking", rows+problems.rows())
	more, counts, err := stage.Check(ctx, opts.NoUpdate, opts.MaxProblems)
	if err != nil {
		return rep, err
	}
	problems.add(more...)
	counts.Rows = rows + problems.rows()
	rep.Counts = counts
	rep.Problems, rep.MoreProblems = problems.sorted()
	if len(rep.Problems) > 0 {
		rep.Counts.New, rep.Counts.Updated, rep.Counts.Unchanged = 0, 0, 0
		return rep, ErrImportRejected
	}
	if opts.DryRun {
		return rep, nil
	}
	applied, err := stage.Apply(ctx, a.now(), func(n int) { progress("writing", n) })
	if err != nil {
		return rep, err
	}
	applied.Rows = counts.Rows
	rep.Counts, rep.Written = applied, true
	a.log().InfoContext(ctx, "users imported", "rows", applied.Rows, "new", applied.New, "updated", applied.Updated,
		"unchanged", applied.Unchanged)
	return rep, nil
}

// problemList gathers problems from several goroutines, keeping the first max by line.
type problemList struct {
	mu    sync.Mutex
	max   int
	list  []ImportProblem
	lines map[int]bool
	extra int
}

func (p *problemList) add(ps ...ImportProblem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lines == nil {
		p.lines = map[int]bool{}
	}
	for _, x := range ps {
		if len(p.list) >= p.max {
			p.extra++
			continue
		}
		p.list = append(p.list, x)
		p.lines[x.Line] = true
	}
}

// rows is how many distinct rows the listed problems are on.
func (p *problemList) rows() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

func (p *problemList) sorted() ([]ImportProblem, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	slices.SortStableFunc(p.list, func(a, b ImportProblem) int { return a.Line - b.Line })
	return p.list, p.extra
}

// rawRow is a row as read: each present column's text, and the history (JSON Lines only).
type rawRow struct {
	line    int
	cols    map[string]string
	history []map[string]string
	err     *ImportProblem // the row could not be read at all
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// readRows reads the file's rows into out. A header error (an unknown or repeated column) is returned as
// an *ImportProblem for line 1; a row that cannot be read goes out with its error.
func readRows(ctx context.Context, r io.Reader, format string, out chan<- rawRow) error {
	switch format {
	case "csv":
		return readCSV(ctx, r, out)
	case "jsonl":
		return readJSONL(ctx, r, out)
	}
	return fmt.Errorf("account: unknown import format %q (csv or jsonl)", format)
}

func readCSV(ctx context.Context, r io.Reader, out chan<- rawRow) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return &ImportProblem{Line: 1, Reason: "the file is empty (a CSV file starts with a header row)"}
	}
	if err != nil {
		return &ImportProblem{Line: 1, Reason: "unreadable header: " + err.Error()}
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a byte order mark, as Excel writes
	}
	seen := map[string]bool{}
	for _, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case h == "history":
			return &ImportProblem{Line: 1, Column: h, Reason: "history is a JSON Lines field; CSV cannot carry it"}
		case !slices.Contains(importColumns, h):
			return &ImportProblem{Line: 1, Column: h, Reason: "unknown column (the columns are " + strings.Join(importColumns[:len(importColumns)-1], ", ") + ")"}
		case seen[h]:
			return &ImportProblem{Line: 1, Column: h, Reason: "the column appears twice"}
		}
		seen[h] = true
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var row rawRow
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			row.line = pe.StartLine
			row.err = &ImportProblem{Line: pe.StartLine, Reason: "unreadable CSV: " + pe.Err.Error()}
		case err != nil:
			return err
		case len(rec) == 0:
			continue
		default:
			row.line, _ = cr.FieldPos(0)
			if len(rec) != len(header) {
				row.err = &ImportProblem{Line: row.line, Reason: fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))}
				break
			}
			row.cols = make(map[string]string, len(header))
			for i, h := range header {
				row.cols[strings.TrimSpace(h)] = rec[i]
			}
		}
		select {
		case out <- row:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// maxJSONLine bounds one JSON Lines row (a user with a long history fits many times over).
const maxJSONLine = 1 << 20

func readJSONL(ctx context.Context, r io.Reader, out chan<- rawRow) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := readLine(br, maxJSONLine)
		if err == io.EOF && len(b) == 0 {
			return nil
		}
		if errors.Is(err, errLineTooLong) {
			row := rawRow{line: line, err: &ImportProblem{Line: line, Reason: fmt.Sprintf("longer than %d bytes", maxJSONLine)}}
			select {
			case out <- row:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue // blank lines, as at the end of a file
		}
		row := parseJSONRow(line, b)
		select {
		case out <- row:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line without its end, refusing (and skipping) one longer than max.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max+2 {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			return nil, errLineTooLong
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		buf = bytes.TrimRight(buf, "\r\n")
		return buf, err
	}
}

// parseJSONRow reads one JSON object: every value a string, number, boolean or null (history an array of
// objects), as its text.
func parseJSONRow(line int, b []byte) rawRow {
	row := rawRow{line: line}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		row.err = &ImportProblem{Line: line, Reason: "not a JSON object: " + err.Error()}
		return row
	}
	row.cols = make(map[string]string, len(obj))
	for k, v := range obj {
		if !slices.Contains(importColumns, k) {
			row.err = &ImportProblem{Line: line, Column: k, Reason: "unknown key (the keys are " + strings.Join(importColumns, ", ") + ")"}
			return row
		}
		if k == "history" {
			var hs []map[string]json.RawMessage
			if err := json.Unmarshal(v, &hs); err != nil {
				row.err = &ImportProblem{Line: line, Column: k, Reason: "must be an array of objects with password_format, password_hash, password_salt"}
				return row
			}
			for _, h := range hs {
				m := map[string]string{}
				for hk, hv := range h {
					if hk != "password_format" && hk != "password_hash" && hk != "password_salt" {
						row.err = &ImportProblem{Line: line, Column: "history", Reason: "unknown key " + strconv.Quote(hk)}
						return row
					}
					s, ok := jsonText(hv)
					if !ok {
						row.err = &ImportProblem{Line: line, Column: "history", Reason: hk + " must be a string"}
						return row
					}
					m[hk] = s
				}
				row.history = append(row.history, m)
			}
			continue
		}
		s, ok := jsonText(v)
		if !ok {
			row.err = &ImportProblem{Line: line, Column: k, Reason: "must be a string, a number, a boolean or null"}
			return row
		}
		if s != "" || string(v) != "null" {
			row.cols[k] = s
		}
	}
	return row
}

// jsonText is a JSON scalar as text ("" for null).
func jsonText(v json.RawMessage) (string, bool) {
	switch t := bytes.TrimSpace(v); {
	case len(t) == 0:
		return "", false
	case string(t) == "null":
		return "", true
	case t[0] == '"':
		var s string
		err := json.Unmarshal(t, &s)
		return s, err == nil
	case string(t) == "true", string(t) == "false":
		return string(t), true
	case t[0] == '-' || t[0] >= '0' && t[0] <= '9':
		return string(t), true
	}
	return "", false
}

// validateRow turns a raw row into a valid one, or says what is wrong with it (every bad column).
func (a *Admin) validateRow(ctx context.Context, rr rawRow, dryRun bool) (ImportRow, []ImportProblem) {
	if rr.err != nil {
		return ImportRow{}, []ImportProblem{*rr.err}
	}
	var probs []ImportProblem
	bad := func(col, format string, args ...any) {
		probs = append(probs, ImportProblem{Line: rr.line, Column: col, Reason: fmt.Sprintf(format, args...)})
	}
	row := ImportRow{Line: rr.line}
	u := &row.User
	c := rr.cols
	if s := strings.TrimSpace(c["id"]); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil:
			bad("id", "not an integer: %q", s)
		case n <= 0 || n > 1<<31-1:
			bad("id", "%d is outside 1..2147483647 (the legacy UserId is a 32-bit int)", n)
		default:
			u.ID = n
		}
	}
	if s := strings.TrimSpace(c["uid"]); s != "" {
		if uid, err := ParseUID(s); err != nil {
			bad("uid", "not a GUID: %q", s)
		} else {
			u.UID, row.UIDGiven = &uid, true
		}
	}
	u.UserName, u.Email, u.Phone = c["username"], strings.TrimSpace(c["email"]), strings.TrimSpace(c["phone"])
	opt := func(col string) *string {
		if s := c[col]; s != "" {
			return &s
		}
		return nil
	}
	u.FirstName, u.LastName, u.Title = opt("first_name"), opt("last_name"), opt("title")
	if s := strings.TrimSpace(c["operator"]); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err != nil || n <= 0 {
			bad("operator", "not a positive integer: %q", s)
		} else {
			u.OperatorID = &n
		}
	}
	for _, f := range []struct {
		col string
		dst **int32
	}{{"user_type", &u.UserType}, {"gender", &u.Gender}} {
		if s := strings.TrimSpace(c[f.col]); s != "" {
			if n, err := strconv.ParseInt(s, 10, 32); err != nil {
				bad(f.col, "not a 32-bit integer: %q", s)
			} else {
				v := int32(n)
				*f.dst = &v
			}
		}
	}
	for _, f := range []struct {
		col string
		dst *bool
	}{{"is_lazy", &u.IsLazy}, {"shared_data_permission", &u.SharedDataPermission}} {
		switch s := strings.ToLower(strings.TrimSpace(c[f.col])); s {
		case "", "0", "false":
		case "1", "true":
			*f.dst = true
		default:
			bad(f.col, "not a boolean (true, false, 1, 0): %q", s)
		}
	}
	if err := ValidateUser(u); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			bad(ve.Field, "%s", ve.Reason)
		} else {
			bad("", "%v", err)
		}
	}
	if c["password_format"] == "clear" && len(probs) == 0 {
		// A clear password is hashed anew on every import (a fresh salt), so it is unchanged only if the
		// user it would update still has it: then that user's hashes are kept.
		if cur := a.importMatch(ctx, row); cur != nil && cur.PasswordHash != "" && verifyHash(cur.PasswordHash, c["password_hash"]) {
			u.PasswordHash, row.ImportedHash = cur.PasswordHash, cur.importedHash
		}
	}
	if u.PasswordHash == "" {
		hash, err := a.importHash(ctx, c["password_format"], c["password_hash"], c["password_salt"], dryRun)
		if err != nil {
			probs = append(probs, problemOf(rr.line, err))
		}
		u.PasswordHash, row.ImportedHash = hash, hash
	}
	for i, h := range rr.history {
		if h["password_format"] == "clear" {
			bad("history", "entry %d: a history entry must be a hash, not clear", i+1)
			continue
		}
		hh, err := LegacyHash(h["password_format"], h["password_hash"], h["password_salt"])
		if err != nil {
			bad("history", "entry %d: %v", i+1, err)
			continue
		}
		u.History = append(u.History, hh)
	}
	if len(probs) > 0 {
		return ImportRow{}, probs
	}
	return row, nil
}

// matchedUser is the stored user an import row would update, with its hashes.
type matchedUser struct {
	PasswordHash string
	importedHash string
}

// importMatch finds the user a row would update, as ImportStage.Check matches it: by id, else GUID, else
// e-mail.
func (a *Admin) importMatch(ctx context.Context, row ImportRow) *matchedUser {
	key := UserKey{By: "email", Value: row.User.Email}
	switch {
	case row.User.ID != 0:
		key = UserKey{By: "id", Value: strconv.FormatInt(row.User.ID, 10)}
	case row.UIDGiven:
		key = UserKey{By: "uid", Value: formatUID(*row.User.UID)}
	}
	r, err := a.Store.FindUser(ctx, key)
	if err != nil {
		return nil
	}
	return &matchedUser{PasswordHash: r.PasswordHash, importedHash: r.ImportedHash}
}

// importHash is a row's password in its stored form: a legacy hash checked as it is, or a clear password
// hashed with argon2id (not in a dry run, which only checks it).
func (a *Admin) importHash(ctx context.Context, format, hashValue, salt string, dryRun bool) (string, error) {
	switch {
	case format == "":
		return "", invalid("password_format", "required (identity, membership:ALG, bcrypt, argon2id or clear)")
	case format == "clear":
		if salt != "" {
			return "", invalid("password_salt", "a clear password has no salt")
		}
		if err := checkPassword(hashValue); err != nil {
			return "", invalid("password_hash", "%v", err.(*ValidationError).Reason)
		}
		if dryRun {
			return "", nil
		}
		return a.Hasher.Hash(ctx, hashValue)
	case hashValue == "":
		return "", invalid("password_hash", "required")
	}
	return LegacyHash(format, hashValue, salt)
}

// problemOf turns a hash error ("password_hash: …") into a problem on its column.
func problemOf(line int, err error) ImportProblem {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ImportProblem{Line: line, Column: ve.Field, Reason: ve.Reason}
	}
	msg := err.Error()
	if col, reason, ok := strings.Cut(msg, ": "); ok && slices.Contains(importColumns, col) {
		return ImportProblem{Line: line, Column: col, Reason: reason}
	}
	return ImportProblem{Line: line, Reason: msg}
}
