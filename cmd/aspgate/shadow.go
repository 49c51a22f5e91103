package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"aspgate/shadow"
)

type shadowConfig struct {
	listen, primary, candidate, secondary, db, adminAddr string
	queue, workers                                       int
	maxBody                                              int64
	timeout                                              time.Duration
}

func (c *shadowConfig) parse(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("aspgate shadow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8091", "`address` clients send to")
	fs.StringVar(&c.primary, "primary", "", "the server whose answers clients get, e.g. the legacy host (required)")
	fs.StringVar(&c.candidate, "candidate", "", "the server compared with it, e.g. aspgate serve --no-send (required)")
	fs.StringVar(&c.secondary, "secondary", "", "a second instance of what the primary runs: differences it shows too are noise")
	fs.StringVar(&c.db, "db", "", "SQLite `file` the differences are kept in (required)")
	fs.StringVar(&c.adminAddr, "admin-addr", "127.0.0.1:9091", "`address` of the page of differences and /metrics ('' for none)")
	fs.IntVar(&c.queue, "queue", 1000, "mirrored requests waiting at most; more are dropped and counted, never waited for")
	fs.IntVar(&c.workers, "workers", 4, "mirrored requests in flight")
	fs.Int64Var(&c.maxBody, "max-body", 1<<20, "longest body mirrored; longer exchanges pass unmirrored")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "longest wait for any server's answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %s", strings.Join(fs.Args(), " "))
	}
	for _, u := range []struct{ flag, value string }{{"--primary", c.primary}, {"--candidate", c.candidate}} {
		if err := checkUpstream(u.flag, u.value); err != nil {
			return err
		}
	}
	if c.secondary != "" {
		if err := checkUpstream("--secondary", c.secondary); err != nil {
			return err
		}
	}
	if c.db == "" {
		return errors.New("--db is required")
	}
	if c.queue < 1 || c.workers < 1 || c.maxBody < 1 || c.timeout <= 0 {
		return errors.New("--queue, --workers, --max-body and --timeout must be positive")
	}
	return nil
}

// shadowProxy is a running `aspgate shadow`.
type shadowProxy struct {
	s         *shadow.Shadow
	store     *shadow.Store
	addr      string
	admin     *http.Server
	adminAddr string
	done      chan error
}

func startShadow(cfg shadowConfig, log *slog.Logger) (*shadowProxy, error) {
	st, err := shadow.OpenStore(cfg.db)
	if err != nil {
		return nil, err
	}
	s, err := shadow.New(shadow.Config{Primary: cfg.primary, Candidate: cfg.candidate, Secondary: cfg.secondary, Store: st,
		Queue: cfg.queue, Workers: cfg.workers, MaxBody: cfg.maxBody, Timeout: cfg.timeout, Log: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		st.Close()
		return nil, err
	}
	p := &shadowProxy{s: s, store: st, addr: ln.Addr().String(), done: make(chan error, 1)}
	if cfg.adminAddr != "" {
		aln, err := net.Listen("tcp", cfg.adminAddr)
		if err != nil {
			ln.Close()
			st.Close()
			return nil, err
		}
		p.adminAddr = aln.Addr().String()
		p.admin = &http.Server{Handler: s.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
		go p.admin.Serve(aln)
	}
	go func() { p.done <- s.Serve(ln) }()
	return p, nil
}

func (p *shadowProxy) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := p.s.Shutdown(ctx)
	if serr := <-p.done; err == nil {
		err = serr
	}
	if p.admin != nil {
		p.admin.Close()
	}
	if cerr := p.store.Close(); err == nil {
		err = cerr
	}
	return err
}

func runShadow(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		return runShadowReport(args[1:], stdout, stderr)
	}
	var cfg shadowConfig
	if err := cfg.parse(args, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "aspgate shadow:", err)
		return exitVerifyUsage
	}
	log := newLogger(stderr, slog.LevelInfo)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := startShadow(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "aspgate shadow:", err)
		return 1
	}
	log.Info("shadow: clients get the primary's answers; requests are mirrored", "listen", p.addr, "primary", cfg.primary,
		"candidate", cfg.candidate, "secondary", cfg.secondary, "admin", p.adminAddr, "db", cfg.db)
	<-ctx.Done()
	if err := p.stop(); err != nil {
		fmt.Fprintln(stderr, "aspgate shadow:", err)
		return 1
	}
	st := p.s.Stats()
	log.Info("shadow stopped", "requests", st.Requests, "mirrored", st.Mirrored, "dropped", st.Dropped, "not_mirrored", st.Skipped)
	return exitOK
}

func runShadowReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("aspgate shadow report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the shadow's SQLite `file` (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitVerifyUsage
	}
	if *db == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "aspgate shadow report: --db FILE is required, and nothing else")
		return exitVerifyUsage
	}
	if _, err := os.Stat(*db); err != nil {
		fmt.Fprintln(stderr, "aspgate shadow report:", err)
		return exitVerifyUsage
	}
	st, err := shadow.OpenStore(*db)
	if err != nil {
		fmt.Fprintln(stderr, "aspgate shadow report:", err)
		return 1
	}
	defer st.Close()
	rep, err := st.Report(context.Background())
	if err != nil {
		fmt.Fprintln(stderr, "aspgate shadow report:", err)
		return 1
	}
	if *asJSON {
		if err := writeJSON(stdout, rep); err != nil {
			return 1
		}
	} else {
		var b strings.Builder
		t := rep.Totals
		fmt.Fprintf(&b, "compared %d: %d agree, %d with regressions, %d with noise only, %d candidate errors\n",
			t["compared"], t["agree"], t["regression"], t["noise"], t["candidate_errors"])
		section := func(title string, groups []shadow.Group, requests bool) {
			fmt.Fprintf(&b, "\n%s (%d)\n", title, len(groups))
			endpoint := ""
			for _, g := range groups {
				if g.Endpoint != endpoint {
					endpoint = g.Endpoint
					fmt.Fprintf(&b, "  %s\n", endpoint)
				}
				fmt.Fprintf(&b, "    %6d× %s\n", g.Count, g.Example)
				if requests && g.Request != "" {
					fmt.Fprintf(&b, "            e.g. %s\n", g.Request)
				}
			}
		}
		section("REGRESSIONS", rep.Regressions, true)
		section("noise (the secondary differs there too)", rep.Noise, false)
		if _, err := io.WriteString(stdout, b.String()); err != nil {
			return 1
		}
	}
	if len(rep.Regressions) > 0 {
		return exitVerifyDiffer
	}
	return exitOK
}

func writeJSON(w io.Writer, v any) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	e.SetEscapeHTML(false)
	return e.Encode(v)
}
