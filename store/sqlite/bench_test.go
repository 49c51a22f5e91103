package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"aspgate/account"
)

// BenchmarkTakeSend is one granted send check (three limits, new recipients, one busy client) with 0 or
// 100,000 sends already counted: the two should run at the same speed (see BENCHMARKS.md).
func BenchmarkTakeSend(b *testing.B) {
	for _, counted := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("counted=%d", counted), func(b *testing.B) {
			db, path := mustTempDB(b)
			ctx := context.Background()
			at := t0
			if counted > 0 {
				raw := mustRaw(b, path)
				if _, err := raw.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
					INSERT INTO rate_limits (key, window_ms, tat) SELECT printf('to:v%08d', i), 3600000, ? FROM n`,
					counted, at.Add(24*time.Hour).UnixMilli()); err != nil {
					b.Fatal(err)
				}
				if _, err := raw.Exec(`INSERT INTO rate_limits (key, window_ms, tat) VALUES ('ip:1', 3600000, ?)`,
					at.UnixMilli()+int64(counted)); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				i++
				at = at.Add(time.Millisecond)
				to := fmt.Sprintf("to:%d", i)
				limits := []account.Limit{
					{Key: to, Window: time.Minute, Max: 1},
					{Key: to, Window: time.Hour, Max: 5},
					{Key: "ip:1", Window: time.Hour, Max: 1 << 30},
				}
				if refused, err := db.TakeSend(ctx, at, limits); err != nil || refused != nil {
					b.Fatal(refused, err)
				}
			}
		})
	}
}

func BenchmarkUserByEmail(b *testing.B) {
	db, _ := mustTempDB(b)
	ctx := context.Background()
	mustUser(b, db, storeUser("bench"))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.UserByEmail(ctx, "BENCH@example.com"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func storeUser(name string) account.NewUser {
	return account.NewUser{UserName: name, Email: name + "@example.com", PasswordHash: "h"}
}
