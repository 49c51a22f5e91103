package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// gate is a running `aspgate serve`.
type gate struct {
	bin, dir, db string
	addr         string
	admin        string // the admin listener, when started with -admin-addr
	cmd          *exec.Cmd
	log          *os.File
}

// pinned prefixes a command with `taskset -c cpu` when taskset works on this machine.
func pinned(cpu string, name string, args ...string) *exec.Cmd {
	if cpu != "" {
		if path, err := exec.LookPath("taskset"); err == nil && exec.Command(path, "-c", cpu, "true").Run() == nil {
			return exec.Command(path, append([]string{"-c", cpu, name}, args...)...)
		}
	}
	return exec.Command(name, args...)
}

// tasksetWorks reports whether processes can be pinned here.
func tasksetWorks() bool {
	path, err := exec.LookPath("taskset")
	return err == nil && exec.Command(path, "-c", "0", "true").Run() == nil
}

// startGate starts aspgate serve on a free loopback port with a fresh database in dir.
func startGate(bin, dir, cpu, db string, extra ...string) (*gate, error) {
	g := &gate{bin: bin, dir: dir, db: filepath.Join(dir, "bench.db")}
	if db != "" { // a PostgreSQL DSN: the key file lives in dir, named by the environment the commands read
		g.db = db
		key := filepath.Join(dir, "server.key")
		if err := os.WriteFile(key, []byte(strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
			return nil, err
		}
		os.Setenv("ASPGATE_HMAC_KEY_FILE", key)
	}
	if _, err := g.cli("migrate"); err != nil {
		return nil, err
	}
	return g, g.start(cpu, extra...)
}

func (g *gate) start(cpu string, extra ...string) error {
	logPath := filepath.Join(g.dir, "aspgate.log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	g.log = f
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", g.db, "--log-level", "info"}, extra...)
	if !slices.Contains(extra, "--admin-addr") {
		args = append(args, "--admin-addr", "")
	}
	g.cmd = pinned(cpu, g.bin, args...)
	g.cmd.Stdout, g.cmd.Stderr = f, f
	if err := g.cmd.Start(); err != nil {
		return err
	}
	re := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
	adminRE := regexp.MustCompile(`"msg":"admin listening","addr":"([^"]+)"`)
	for range 400 {
		b, _ := os.ReadFile(logPath)
		if m := re.FindSubmatch(b); m != nil {
			g.addr = string(m[1])
			if m := adminRE.FindSubmatch(b); m != nil {
				g.admin = string(m[1])
			}
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	g.stop()
	b, _ := os.ReadFile(logPath)
	return fmt.Errorf("aspgate serve did not start: %s", lastLines(b, 5))
}

func (g *gate) stop() {
	if g.cmd != nil && g.cmd.Process != nil {
		_ = g.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = g.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = g.cmd.Process.Kill()
			<-done
		}
	}
	if g.log != nil {
		g.log.Close()
	}
}

// cli runs an aspgate command on the database and returns its standard output.
func (g *gate) cli(args ...string) (string, error) {
	cmd := exec.Command(g.bin, append(args, "--db", g.db)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("aspgate %s: %v: %s", strings.Join(args, " "), err, lastLines(errOut.Bytes(), 3))
	}
	return out.String(), nil
}

// addUser adds a user and returns its id.
func (g *gate) addUser(name, email, phone string) (int64, error) {
	out, err := g.cli("user", "add", "--username", name, "--email", email, "--phone", phone, "--password", "Old-password-1")
	if err != nil {
		return 0, err
	}
	var u struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		return 0, fmt.Errorf("user add printed %q", out)
	}
	return u.ID, nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// request is one HTTP request of a scenario.
type request struct {
	method, path, contentType, accept, body string
}

func (r request) build(base string) *http.Request {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, _ := http.NewRequestWithContext(context.Background(), r.method, base+r.path, body)
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	return req
}

// send sends one request on the client and returns the status and the body length.
func send(c *http.Client, base string, r request) (int, int, error) {
	res, err := c.Do(r.build(base))
	if err != nil {
		return 0, 0, err
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, int(n), nil
}

// oneConnClient is a client that keeps one connection open to the server.
func oneConnClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1, MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
}

var errStatus = errors.New("unexpected status")

// readLines is for the static server's address line.
func readLine(r io.Reader) (string, error) {
	s := bufio.NewScanner(r)
	if s.Scan() {
		return strings.TrimSpace(s.Text()), nil
	}
	return "", errors.New("no line")
}
