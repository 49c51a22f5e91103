package shadow

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the shadow's own SQLite file
)

// Store keeps what the shadow found, in its own SQLite file: differences grouped by endpoint, path and
// kind with a count and the first example, the noise learned from the secondary, and running totals.
// Its size is bounded by the number of distinct groups, not by the traffic.
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS diff_groups (
	endpoint TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL,
	count INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
	example TEXT NOT NULL, example_request TEXT NOT NULL,
	PRIMARY KEY (endpoint, path, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS noise (
	endpoint TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL,
	count INTEGER NOT NULL, example TEXT NOT NULL,
	PRIMARY KEY (endpoint, path, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`

// OpenStore opens (creating) the shadow database at path.
func OpenStore(path string) (*Store, error) {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite3", "file:"+p+"?"+url.Values{"_journal_mode": {"WAL"}, "_synchronous": {"NORMAL"},
		"_busy_timeout": {"5000"}, "_txlock": {"immediate"}}.Encode())
	if err != nil {
		return nil, fmt.Errorf("shadow: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; the workers take turns
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("shadow: open %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Finding is one difference to store.
type Finding struct {
	Endpoint, Path, Kind string
	Example              string // the difference as the report words it
	Request              string // the request that showed it, secrets redacted
}

// compared records one mirrored request: the noise the secondary showed, the candidate's differences,
// and the totals to add — in one transaction.
func (s *Store) compared(ctx context.Context, noise, found []Finding, totals map[string]int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UTC().Format(time.RFC3339)
	for _, n := range noise {
		if _, err := tx.Exec(`INSERT INTO noise VALUES (?, ?, ?, 1, ?)
			ON CONFLICT (endpoint, path, kind) DO UPDATE SET count = count + 1`, n.Endpoint, n.Path, n.Kind, n.Example); err != nil {
			return err
		}
	}
	for _, f := range found {
		if _, err := tx.Exec(`INSERT INTO diff_groups VALUES (?, ?, ?, 1, ?, ?, ?, ?)
			ON CONFLICT (endpoint, path, kind) DO UPDATE SET count = count + 1, last_seen = excluded.last_seen`,
			f.Endpoint, f.Path, f.Kind, now, now, f.Example, f.Request); err != nil {
			return err
		}
	}
	for k, v := range totals {
		if v == 0 {
			continue
		}
		if _, err := tx.Exec(`INSERT INTO totals VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`, k, v); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// noiseKeys loads the noise learned so far (a restarted shadow keeps what it learned).
func (s *Store) noiseKeys(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT endpoint, path, kind FROM noise`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var e, p, k string
		if err := rows.Scan(&e, &p, &k); err != nil {
			return nil, err
		}
		out[noiseKey(e, p, k)] = true
	}
	return out, rows.Err()
}

func noiseKey(endpoint, path, kind string) string { return endpoint + "\x00" + path + "\x00" + kind }

// Group is one kind of difference at one place of one endpoint.
type Group struct {
	Endpoint  string `json:"endpoint"`
	Path      string `json:"path"`
	Kind      string `json:"kind"`
	Count     int64  `json:"count"`
	FirstSeen string `json:"firstSeen,omitempty"`
	LastSeen  string `json:"lastSeen,omitempty"`
	Example   string `json:"example"`
	Request   string `json:"request,omitempty"`
}

// Report is what the shadow found so far.
type Report struct {
	Totals      map[string]int64 `json:"totals"`
	Regressions []Group          `json:"regressions"` // candidate differences the secondary never showed
	Noise       []Group          `json:"noise"`       // candidate differences also seen between primary and secondary
	Learned     []Group          `json:"learnedNoise"`
}

// Report reads the findings: a candidate group is noise when the secondary has shown the same
// difference at the same place (even if it learned that later than the candidate showed it).
func (s *Store) Report(ctx context.Context) (*Report, error) {
	r := &Report{Totals: map[string]int64{}, Regressions: []Group{}, Noise: []Group{}, Learned: []Group{}}
	rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM totals ORDER BY name`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, err
		}
		r.Totals[k] = v
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT g.endpoint, g.path, g.kind, g.count, g.first_seen, g.last_seen, g.example, g.example_request,
		n.endpoint IS NOT NULL FROM diff_groups g LEFT JOIN noise n USING (endpoint, path, kind) ORDER BY g.endpoint, g.count DESC, g.path`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var g Group
		var noise bool
		if err := rows.Scan(&g.Endpoint, &g.Path, &g.Kind, &g.Count, &g.FirstSeen, &g.LastSeen, &g.Example, &g.Request, &noise); err != nil {
			rows.Close()
			return nil, err
		}
		if noise {
			r.Noise = append(r.Noise, g)
		} else {
			r.Regressions = append(r.Regressions, g)
		}
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT endpoint, path, kind, count, example FROM noise ORDER BY endpoint, count DESC, path`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.Endpoint, &g.Path, &g.Kind, &g.Count, &g.Example); err != nil {
			return nil, err
		}
		r.Learned = append(r.Learned, g)
	}
	return r, rows.Err()
}
