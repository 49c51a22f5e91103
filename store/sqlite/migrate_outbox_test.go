package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/store/sqlite"
)

// A database made by the first version (schema 1) holds messages whose text, secret included, is in
// subject/body. Migration 0002 turns them into facts the templates render: pending ones are still sent
// (a code as a code, a change link with its base), and no text with a secret is left behind.
func TestMigrationFromSchema1KeepsPendingMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	raw := mustRaw(t, path)
	v1, err := os.ReadFile(filepath.Join("migrations", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC).UnixMilli()
	for _, q := range []string{
		string(v1),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, '0001_init', 0)`,
		// As the first version wrote them: lcmanager's SMS code, aries' e-mailed link, one already sent.
		`INSERT INTO outbox (app, channel, to_addr, subject, body, secret, status, created_at, next_attempt_at, idempotency_key)
			VALUES ('lcmanager', 'sms', '79990000001', '', 'Код подтверждения: 123456. Никому не сообщайте этот код.', '123456', 'pending', ` + itoa(t0) + `, ` + itoa(t0) + `, 'k1')`,
		`INSERT INTO outbox (app, channel, to_addr, subject, body, secret, status, created_at, next_attempt_at, idempotency_key)
			VALUES ('aries', 'email', 'a@example.com', 'Password change',
			'A password change was requested for your account. Open this link within the hour to choose a new password:' || char(10) ||
			'https://reset.example/change?id=ab%2Bc' || char(10) || 'If you did not ask for it, ignore this message.',
			'ab+c', 'pending', ` + itoa(t0) + `, ` + itoa(t0) + `, 'k2')`,
		`INSERT INTO outbox (app, channel, to_addr, subject, body, secret, status, created_at, next_attempt_at, idempotency_key)
			VALUES ('lcmanager', 'email', 'b@example.com', 'Код подтверждения', 'Код подтверждения: 654321.', '654321', 'sent', ` + itoa(t0) + `, ` + itoa(t0) + `, 'k3')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	raw.Close()

	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.ListOutbox(context.Background(), 0)
	if err != nil || len(rows) != 3 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	code, link, sent := rows[0], rows[1], rows[2]
	if code.Kind != account.KindCode || code.Secret != "123456" || code.Status != sqlite.OutboxPending ||
		!code.ExpiresAt.Equal(time.UnixMilli(t0).Add(10*time.Minute)) {
		t.Errorf("code %+v", code)
	}
	if link.Kind != account.KindChangeLink || link.Link() != "https://reset.example/change?id=ab%2Bc" ||
		!link.ExpiresAt.Equal(time.UnixMilli(t0).Add(time.Hour)) {
		t.Errorf("link %+v (link %q)", link, link.Link())
	}
	if sent.Secret != "" {
		t.Errorf("a sent message kept its secret: %+v", sent)
	}
	n := mustCount(t, mustRaw(t, path), `SELECT count(*) FROM pragma_table_info('outbox') WHERE name IN ('subject', 'body')`)
	if n != 0 {
		t.Errorf("the text columns are still there")
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
