package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"aspgate/delivery"
)

// multi is several `aspgate serve` processes on one PostgreSQL database.
type multi struct {
	*e2e // the CLI on the same database
	gw   []*child
}

func startGateways(t *testing.T, n int, extra ...string) *multi {
	t.Helper()
	dsn := onPostgres(t)
	m := &multi{e2e: &e2e{t: t, db: dsn, http: &http.Client{Timeout: time.Minute}}}
	m.cli("migrate")
	for range n {
		m.gw = append(m.gw, startChild(t, append([]string{"--db", dsn, "--admin-addr", ""}, extra...)...))
	}
	return m
}

func (m *multi) postTo(i int, path, ct, body string) (int, string) {
	res, err := m.http.Post(m.gw[i%len(m.gw)].base+path, ct, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestGatewaysOnOnePostgres: three gateways (three processes) on one database.
func TestGatewaysOnOnePostgres(t *testing.T) {
	pgServer(t)
	m := startGateways(t, 3)
	ivan := m.addUser("ivan", "ivan@example.com", "79991112233")

	// 32 racers on one code, through all three gateways: one winner.
	if code, body := m.postTo(0, "/api/user/RememberMessage", "application/json", `{"Phone":79991112233}`); code != 200 || !strings.Contains(body, `"ErrorCode":0`) {
		t.Fatalf("RememberMessage: %d %s", code, body)
	}
	secret := m.lastSecret()
	var wg sync.WaitGroup
	statuses := make([]int, 32)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = m.postTo(i, "/api/Account/ResetPassword", "application/json",
				fmt.Sprintf(`{"UserId":%d,"Code":%q,"NewPassword":"Racer-password-%02d"}`, ivan, secret, i))
		}()
	}
	wg.Wait()
	won := 0
	for i, s := range statuses {
		switch s {
		case 200:
			won++
		case 400:
		default:
			t.Errorf("racer %d: %d", i, s)
		}
	}
	if won != 1 {
		t.Fatalf("%d racers won the code, want 1", won)
	}

	// Concurrent sends to one recipient through the three gateways: one code.
	m.addUser("olga", "olga@example.com", "79994445566")
	answers := make([]string, 24)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, answers[i] = m.postTo(i, "/api/user/RememberMessage", "application/json", `{"Phone":79994445566}`)
		}()
	}
	wg.Wait()
	sent := 0
	for _, a := range answers {
		if strings.Contains(a, `"ErrorCode":0`) {
			sent++
		} else if !strings.Contains(a, `"ErrorCode":2`) {
			t.Errorf("answer %s", a)
		}
	}
	toOlga := 0
	for _, o := range m.outbox() {
		if o.To == "79994445566" {
			toOlga++
		}
	}
	if sent != 1 || toOlga != 1 {
		t.Fatalf("%d sends acknowledged and %d messages queued for one recipient, want 1 and 1", sent, toOlga)
	}

	// Three dispatchers: every message delivered exactly once.
	const users = 12
	for i := range users {
		m.addUser(fmt.Sprintf("user%d", i), fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("7999000%04d", i))
	}
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := m.postTo(i, "/api/user/RememberMessage", "application/json", fmt.Sprintf(`{"Phone":7999000%04d}`, i)); code != 200 || !strings.Contains(body, `"ErrorCode":0`) {
				t.Errorf("user%d: %d %s", i, code, body)
			}
		}()
	}
	wg.Wait()
	total := len(m.outbox())
	waitStatus(t, m.e2e, total, "sent")
	entries, err := delivery.ReadInbox(os.Getenv("ASPGATE_DEV_INBOX"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.IdempotencyKey]++
	}
	if len(seen) != total {
		t.Errorf("%d messages delivered, want %d", len(seen), total)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("message %s delivered %d times", k, n)
		}
	}
}

// TestKill9OneGatewayUnderLoad: one of two gateways is killed with SIGKILL while requests run through
// both; every code a gateway acknowledged is in the database, and the other gateway goes on.
func TestKill9OneGatewayUnderLoad(t *testing.T) {
	pgServer(t)
	m := startGateways(t, 2, "--dispatch=false")
	const users = 30
	for i := range users {
		m.addUser(fmt.Sprintf("load%d", i), fmt.Sprintf("load%d@example.com", i), fmt.Sprintf("7998000%04d", i))
	}
	acknowledged := make([]bool, users)
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := m.postTo(i, "/api/user/RememberMessage", "application/json", fmt.Sprintf(`{"Phone":7998000%04d}`, i))
			acknowledged[i] = code == 200 && strings.Contains(body, `"ErrorCode":0`)
		}()
		if i == users/2 {
			m.gw[0].kill9(t) // mid-load: some of its requests are answered, some never
		}
	}
	wg.Wait()
	queued := map[string]bool{}
	for _, o := range m.outbox() {
		queued[o.To] = true
	}
	acks := 0
	for i, ok := range acknowledged {
		if ok {
			acks++
			if !queued[fmt.Sprintf("7998000%04d", i)] {
				t.Errorf("user %d's code was acknowledged and is not in the database", i)
			}
		}
	}
	if acks < users/2 {
		t.Errorf("only %d requests acknowledged", acks)
	}
	// The survivor still serves.
	if code, body := m.postTo(1, "/api/user/RememberMessage", "application/json", `{"Phone":79980000001}`); code != 200 {
		t.Errorf("the surviving gateway: %d %s", code, body)
	}
}
