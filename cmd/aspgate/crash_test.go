package main

// kill -9 of a server in the middle of a delivery: the next start sends the message once, loses none.
// The server runs as a child process (this test binary re-executed as aspgate) so it can really be killed.

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary run as aspgate itself when ASPGATE_TEST_MAIN=1, for the child processes.
func TestMain(m *testing.M) {
	if os.Getenv("ASPGATE_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is aspgate serve running as a separate process.
type child struct {
	cmd  *exec.Cmd
	base string
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "ASPGATE_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// The child logs its bound address; read it, then keep draining its log so it never blocks on a pipe.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "listening" {
				select {
				case addr <- l.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case a := <-addr:
		return &child{cmd: cmd, base: "http://" + a}
	case <-time.After(30 * time.Second):
		t.Fatal("the child server did not start")
		return nil
	}
}

// kill9 kills the child with SIGKILL: no shutdown code runs.
func (c *child) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
}

func (c *child) post(t *testing.T, path, body string) {
	t.Helper()
	res, err := http.Post(c.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d", path, res.StatusCode)
	}
}

// waitStatus polls the outbox (through the CLI, as an operator would) until every message has status.
func waitStatus(t *testing.T, e *e2e, n int, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		o := e.outbox()
		done := len(o) == n
		for _, m := range o {
			done = done && m.Status == status
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox %+v, want %d messages %s", o, n, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKill9BetweenClaimAndSend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	mail := startSMTP(t)
	mail.Hang(true) // the relay takes the connection and goes silent: the message stays claimed
	db := filepath.Join(t.TempDir(), "aspgate.db")
	flags := []string{"--db", db, "--smtp-url", "smtp://" + mail.Addr + "?tls=none", "--mail-from", "noreply@lc.example"}
	cli := &e2e{t: t, db: db}
	cli.cli("user", "add", "--username", "ivan", "--email", "ivan@example.com", "--phone", "79991234567", "--password", "Old-password-1")

	first := startChild(t, flags...)
	first.post(t, "/api/user/RememberMessage", `{"Email":"ivan@example.com"}`)
	waitStatus(t, cli, 1, "sending")
	first.kill9(t)
	mail.Hang(false)
	if n := len(mail.Messages()); n != 0 {
		t.Fatalf("%d messages delivered before the crash", n)
	}

	second := mustServeDB(t, db, flags[2:]...)
	msgs := mail.Wait(1, 30*time.Second)
	waitStatus(t, second, 1, "sent")
	if len(msgs) != 1 || sixDigits.FindString(msgs[0].Text) == "" {
		t.Fatalf("after the restart: %d messages %+v", len(msgs), msgs)
	}
	if n := len(mail.Messages()); n != 1 {
		t.Fatalf("delivered %d times", n)
	}
}

// The worst moment: the provider took the message but the process died before recording it. The next
// start sends it again, once, with the same idempotency key, so the provider can drop the copy.
func TestKill9BetweenSendAndRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	release := make(chan struct{})
	sms := startHeldSMSGateway(t, release)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	db := filepath.Join(t.TempDir(), "aspgate.db")
	flags := []string{"--db", db, "--sms-url", sms.URL, "--send-timeout", "5s"}
	cli := &e2e{t: t, db: db}
	cli.cli("user", "add", "--username", "ivan", "--email", "ivan@example.com", "--phone", "79991234567", "--password", "Old-password-1")

	first := startChild(t, flags...)
	first.post(t, "/api/user/RememberMessage", `{"Phone":79991234567}`)
	sms.wait(t, 1)
	first.kill9(t)
	close(release)

	second := mustServeDB(t, db, flags[2:]...)
	got := sms.wait(t, 2)
	waitStatus(t, second, 1, "sent")
	got = sms.wait(t, 2)
	if len(got) != 2 || got[0].IdemKey == "" || got[0].IdemKey != got[1].IdemKey || got[0].Text != got[1].Text {
		t.Fatalf("requests %+v", got)
	}
}
