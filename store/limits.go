package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"aspgate/account"
)

// sendLogRetention is how long send_log keeps an entry at least; longer windows keep theirs longer.
const sendLogRetention = 24 * time.Hour

// TakeSend checks every limit and, when none is reached, records one send at now for each distinct key,
// in one transaction: concurrent callers cannot both see room for the last send. It returns false, and
// records nothing, when a limit is already reached. Max is taken literally: a limit with Max <= 0 refuses
// every send (to disable a limit, leave it out). Entries older than a day (or than the longest window
// given) are pruned on the way.
func (db *DB) TakeSend(ctx context.Context, now time.Time, limits []account.Limit) (bool, error) {
	ok := true
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		at := ms(now)
		keep := sendLogRetention
		var keys []string
		seen := map[string]bool{}
		for _, l := range limits {
			keep = max(keep, l.Window)
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM send_log WHERE key = ? AND at > ?`,
				l.Key, at-l.Window.Milliseconds()).Scan(&n); err != nil {
				return err
			}
			if n >= l.Max {
				ok = false
				return nil
			}
			if !seen[l.Key] {
				seen[l.Key] = true
				keys = append(keys, l.Key)
			}
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO send_log (key, at) VALUES (?, ?)`, k, at); err != nil {
				return err
			}
		}
		// Pruning rides along: the index on at makes it cheap, and the table stays a day long.
		_, err := tx.ExecContext(ctx, `DELETE FROM send_log WHERE at <= ?`, at-keep.Milliseconds())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: take send: %w", err)
	}
	return ok, nil
}
