package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/store"
)

func BenchmarkTakeSend(b *testing.B) {
	db, _ := mustTempDB(b)
	ctx := context.Background()
	at := t0
	i := 0
	for b.Loop() {
		i++
		at = at.Add(time.Millisecond)
		limits := []account.Limit{
			{Key: fmt.Sprintf("to:%d", i%1000), Window: time.Minute, Max: 1},
			{Key: fmt.Sprintf("to:%d", i%1000), Window: time.Hour, Max: 5},
			{Key: "ip:1", Window: time.Hour, Max: 1 << 30},
		}
		if _, err := db.TakeSend(ctx, at, limits); err != nil {
			b.Fatal(err)
		}
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

func storeUser(name string) store.NewUser {
	return store.NewUser{UserName: name, Email: name + "@example.com", PasswordHash: "h"}
}
