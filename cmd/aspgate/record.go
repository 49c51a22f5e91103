package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"aspgate/contracts"
	"aspgate/recorder"
	"aspgate/wireproxy"
)

type recordConfig struct {
	listen, upstream, out, app string
	maxBody                    int64
}

func (c *recordConfig) parse(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("aspgate record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8090", "`address` clients send to")
	fs.StringVar(&c.upstream, "upstream", "", "the server that answers, e.g. http://legacy.example (required)")
	fs.StringVar(&c.out, "out", "", "`folder` the cases are written to (required; numbering goes on after the cases in it)")
	fs.StringVar(&c.app, "app", "", "the legacy service behind --upstream: lcmanager, r7office, customer, ereader, aries (required)")
	fs.Int64Var(&c.maxBody, "max-body", 1<<20, "longest request or answer body kept; longer exchanges pass but are not recorded")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %s", strings.Join(fs.Args(), " "))
	}
	if err := checkUpstream("--upstream", c.upstream); err != nil {
		return err
	}
	if _, ok := contracts.LookupApp(c.app); !ok {
		return fmt.Errorf("--app %q: one of lcmanager, r7office, customer, ereader, aries", c.app)
	}
	if c.out == "" {
		return errors.New("--out is required")
	}
	return nil
}

// checkUpstream accepts an http(s) URL without a path.
func checkUpstream(flagName, raw string) error {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("%s must be an http(s) URL without a path, e.g. http://127.0.0.1:8080", flagName)
	}
	return nil
}

// recordProxy is a running `aspgate record`.
type recordProxy struct {
	proxy *wireproxy.Proxy
	rec   *recorder.Recorder
	addr  string
	done  chan error
}

func startRecording(cfg recordConfig) (*recordProxy, error) {
	rec, err := recorder.New(cfg.out, cfg.app)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return nil, err
	}
	p := &wireproxy.Proxy{Upstream: strings.TrimSuffix(cfg.upstream, "/"), Observe: rec.Observe, MaxBody: cfg.maxBody,
		Log: newLogger(os.Stderr, 0)}
	r := &recordProxy{proxy: p, rec: rec, addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() { r.done <- p.Serve(ln) }()
	return r, nil
}

func (r *recordProxy) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.proxy.Shutdown(ctx)
	if serr := <-r.done; err == nil {
		err = serr
	}
	return err
}

func runRecord(args []string, stdout, stderr io.Writer) int {
	var cfg recordConfig
	if err := cfg.parse(args, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "aspgate record:", err)
		return exitVerifyUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := startRecording(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "aspgate record:", err)
		return 1
	}
	fmt.Fprintf(stderr, "aspgate record: listening on %s, forwarding to %s, writing %s cases to %s (secrets redacted)\n", r.addr, cfg.upstream, cfg.app, cfg.out)
	<-ctx.Done()
	err = r.stop()
	fmt.Fprintf(stdout, "%d cases written to %s, %d exchanges not recorded (unanswered or over --max-body)\n", r.rec.Written, cfg.out, r.rec.Skipped)
	if err != nil {
		fmt.Fprintln(stderr, "aspgate record:", err)
		return 1
	}
	return exitOK
}
