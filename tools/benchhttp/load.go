package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// staticBody is the reference server's answer: 200 bytes of JSON.
var staticBody = []byte(`{"SessionId":"0123456789abcdef0123456789abcdef","ErrorCode":0,"Message":null,"Padding":"` +
	strings.Repeat("x", 200-len(`{"SessionId":"0123456789abcdef0123456789abcdef","ErrorCode":0,"Message":null,"Padding":""}`)) + `"}`)

// runStatic serves staticBody to every request, printing its address first.
func runStatic(args []string) error {
	fs := flag.NewFlagSet("static", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return (&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(staticBody)
	}), ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
}

// scenario is one endpoint case: the requests its connections cycle through, the status expected, and
// the target ratio (0: none) and p99 bound (0: none) from the issue.
type scenario struct {
	name     string
	requests []request
	status   int
	target   float64
	p99      time.Duration
}

// result is one timed run against one server.
type result struct {
	rps       float64
	p50, p99  time.Duration
	errors    int64
	completed int64
	cpuPerReq time.Duration // the server process's CPU time (user + system) per request; 0 when unknown
}

// cpuTime is a process's user + system CPU time from /proc (which, unlike wall time, a virtual machine's
// stolen time does not inflate); 0 where /proc is not there.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(fields[11], &ut)
	fmt.Sscan(fields[12], &st)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// drive sends the scenario's requests on conns connections for d and measures them; pid is the server's.
func drive(base string, pid int, sc scenario, conns int, d time.Duration) result {
	cpu0 := cpuTime(pid)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		all       []time.Duration
		errs, ok  atomic.Int64
		deadline  = time.Now().Add(d)
		startedAt = time.Now()
	)
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := oneConnClient()
			defer c.CloseIdleConnections()
			lat := make([]time.Duration, 0, 4096)
			for n := i; time.Now().Before(deadline); n++ {
				r := sc.requests[n%len(sc.requests)]
				t0 := time.Now()
				status, _, err := send(c, base, r)
				if err != nil || (sc.status != 0 && status != sc.status && base != "") {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
				ok.Add(1)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(startedAt)
	slices.Sort(all)
	res := result{rps: float64(ok.Load()) / elapsed.Seconds(), errors: errs.Load(), completed: ok.Load()}
	if cpu := cpuTime(pid) - cpu0; cpu > 0 && ok.Load() > 0 {
		res.cpuPerReq = cpu / time.Duration(ok.Load())
	}
	if len(all) > 0 {
		res.p50, res.p99 = all[len(all)/2], all[len(all)*99/100]
	}
	return res
}

func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	bin := fs.String("bin", "bin/aspgate", "the aspgate binary")
	self := fs.String("self", os.Args[0], "this program (for the static server)")
	conns := fs.Int("c", 32, "connections")
	dur := fs.Duration("d", 2*time.Second, "length of one timed run")
	rounds := fs.Int("rounds", 5, "alternating rounds per endpoint (aspgate, static, aspgate, ...); the median ratio is reported")
	only := fs.String("only", "", "run only the scenarios whose name contains this")
	db := fs.String("db", "", "a postgres:// DSN of an empty database to serve from (default: a SQLite file in a temporary folder)")
	profile := fs.String("profile", "", "save a CPU profile of aspgate during each endpoint's first timed round in this folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "benchhttp")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	serverCPU := ""
	if tasksetWorks() {
		serverCPU = "0"
	}
	raised := "1000000000"
	gateArgs := []string{"--dispatch=false", "--limit-recipient-minute", raised, "--limit-recipient-hour", raised,
		"--limit-client-hour", raised}
	if *profile != "" {
		gateArgs = append(gateArgs, "--admin-addr", "127.0.0.1:0", "--admin-pprof")
	}
	g, err := startGate(*bin, dir, serverCPU, *db, gateArgs...)
	if err != nil {
		return err
	}
	defer g.stop()
	var known []request
	for i := range 16 {
		phone := fmt.Sprintf("7999100%04d", i)
		if _, err := g.addUser(fmt.Sprintf("bench%02d", i), fmt.Sprintf("bench%02d@example.com", i), phone); err != nil {
			return err
		}
		known = append(known, request{"POST", "/api/user/RememberMessage", "application/json", "", `{"Phone":` + phone + `}`})
	}
	ereaderID, err := g.addUser("reader", "reader@example.com", "79992000000")
	if err != nil {
		return err
	}
	// A live code for the reader, so that a wrong code is checked against it.
	if _, _, err := send(oneConnClient(), "http://"+g.addr, request{"POST", "/api/user/RememberMessage", "application/json", "", `{"Phone":79992000000}`}); err != nil {
		return err
	}
	var unknown []request
	for i := range 16 {
		unknown = append(unknown, request{"POST", "/api/user/RememberMessage", "application/json", "", fmt.Sprintf(`{"Phone":7999300%04d}`, i)})
	}

	static := pinned(serverCPU, *self, "static")
	out, err := static.StdoutPipe()
	if err != nil {
		return err
	}
	if err := static.Start(); err != nil {
		return err
	}
	defer func() { _ = static.Process.Kill(); _ = static.Wait() }()
	staticAddr, err := readLine(out)
	if err != nil {
		return fmt.Errorf("static server: %w", err)
	}

	const json, xml = "application/json", "application/xml"
	badModel := `{"UserId":"not a number","Code":"1","NewPassword":"x"}`
	badModelXML := `<ResetPasswordBindingModel xmlns="http://schemas.datacontract.org/2004/07/CSAeReader.API.eReaderAPI.Models"><UserId>x</UserId></ResetPasswordBindingModel>`
	scenarios := []scenario{
		{"404 json", []request{{"GET", "/api/nothing/here", "", json, ""}}, 404, 0.8, 10 * time.Millisecond},
		{"404 xml", []request{{"GET", "/api/nothing/here", "", xml, ""}}, 404, 0.6, 10 * time.Millisecond},
		{"405 json", []request{{"GET", "/api/user/RememberMessage", "", json, ""}}, 405, 0.8, 10 * time.Millisecond},
		{"405 xml", []request{{"GET", "/api/user/RememberMessage", "", xml, ""}}, 405, 0.6, 10 * time.Millisecond},
		{"400 model json", []request{{"POST", "/api/Account/ResetPassword", json, json, badModel}}, 400, 0.8, 10 * time.Millisecond},
		{"400 model xml", []request{{"POST", "/api/Account/ResetPassword", xml, xml, badModelXML}}, 400, 0.6, 10 * time.Millisecond},
		{"415 json", []request{{"POST", "/api/user/RememberMessage", "text/plain", json, "x"}}, 415, 0.8, 10 * time.Millisecond},
		{"415 xml", []request{{"POST", "/api/user/RememberMessage", "text/plain", xml, "x"}}, 415, 0.6, 10 * time.Millisecond},
		{"RememberMessage known", known, 200, 0.3, 10 * time.Millisecond},
		{"RememberMessage unknown", unknown, 200, 0.3, 10 * time.Millisecond},
		{"ereader wrong code", []request{{"POST", "/api/Account/ResetPassword", json, json,
			fmt.Sprintf(`{"UserId":%d,"Code":"000000","NewPassword":"Brand-new-pass-1"}`, ereaderID)}}, 400, 0.3, 10 * time.Millisecond},
	}
	pin := "no (taskset unavailable: servers and load share the CPUs)"
	if serverCPU != "" {
		pin = "servers on CPU 0, load on CPU 1"
	}
	fmt.Printf("benchhttp load: %d connections, %d rounds of %v per server, alternating; %s\n\n", *conns, *rounds, *dur, pin)
	fmt.Println("| endpoint | aspgate req/s | static req/s | ratio | target | p50 | p99 | static p99 | CPU/req aspgate | CPU/req static | CPU ratio | errors |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	missed := 0
	for _, sc := range scenarios {
		if *only != "" && !strings.Contains(sc.name, *only) {
			continue
		}
		// Warm both up (connections, caches) before the timed rounds.
		drive("http://"+g.addr, g.cmd.Process.Pid, sc, *conns, *dur/4)
		drive("http://"+staticAddr, static.Process.Pid, scenario{requests: sc.requests}, *conns, *dur/4)
		var ratios []float64
		var gateRes, staticRes []result
		for round := range *rounds {
			var prof chan error
			if *profile != "" && round == 0 {
				prof = make(chan error, 1)
				go func() { prof <- saveProfile(g.admin, *dur-*dur/4, filepath.Join(*profile, slug(sc.name)+".pprof")) }()
			}
			a := drive("http://"+g.addr, g.cmd.Process.Pid, sc, *conns, *dur)
			if prof != nil {
				if err := <-prof; err != nil {
					return err
				}
			}
			s := drive("http://"+staticAddr, static.Process.Pid, scenario{requests: sc.requests}, *conns, *dur)
			gateRes, staticRes = append(gateRes, a), append(staticRes, s)
			ratios = append(ratios, a.rps/s.rps)
		}
		mid := medianIndex(ratios)
		a, s := gateRes[mid], staticRes[mid]
		var errs int64
		for _, r := range gateRes {
			errs += r.errors
		}
		mark := ""
		if ratios[mid] < sc.target || (sc.p99 > 0 && a.p99 >= sc.p99) {
			mark = " (missed)"
			missed++
		}
		cpuRatio := "-"
		if a.cpuPerReq > 0 && s.cpuPerReq > 0 {
			cpuRatio = fmt.Sprintf("%.2f", float64(s.cpuPerReq)/float64(a.cpuPerReq))
		}
		fmt.Printf("| %s | %.0f | %.0f | %.2f%s | ≥ %.1f | %s | %s | %s | %s | %s | %s | %d |\n", sc.name, a.rps, s.rps, ratios[mid], mark,
			sc.target, ms(a.p50), ms(a.p99), ms(s.p99), us(a.cpuPerReq), us(s.cpuPerReq), cpuRatio, errs)
	}
	fmt.Printf("\n%d target(s) missed\n", missed)
	_ = exec.ErrNotFound
	return nil
}

// saveProfile fetches a CPU profile of d from the admin listener's /debug/pprof/profile.
func saveProfile(admin string, d time.Duration, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, max(int(d.Seconds()), 1)))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return err
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

func medianIndex(v []float64) int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	return idx[len(idx)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func us(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}
