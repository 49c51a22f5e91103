package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"aspgate/contracts"
	"aspgate/verify"
)

// Exit codes of verify (and of the other contract-regression commands).
const (
	exitVerifyDiffer = 1
	exitVerifyUsage  = 2 // also a server that cannot be reached
)

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("aspgate verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "the server under test, e.g. http://legacy.example:8080 (required)")
	appID := fs.String("app", "", "the legacy service it answers as: lcmanager, r7office, customer, ereader, aries (required)")
	reportFile := fs.String("report", "", "write the report as JSON to this file")
	junitFile := fs.String("junit", "", "write the report as JUnit XML to this file")
	allowWrites := fs.Bool("allow-writes", false, "also send the requests that reach the service's action (they may change state or send a code)")
	casesDir := fs.String("cases", "", "compare with the answers recorded in this folder (the recordings' format) instead of the built-in corpus")
	host := fs.String("host", "", "the Host header to send (default: the target's)")
	classes := fs.String("classes", "", "only these case classes, comma-separated (negotiation,404,405,413,415,model-json,model-xml,model-form,binding,action)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitVerifyUsage
	}
	usageErr := func(msg string) int {
		fmt.Fprintln(stderr, "aspgate verify:", msg)
		return exitVerifyUsage
	}
	if fs.NArg() != 0 {
		return usageErr("unexpected arguments " + strings.Join(fs.Args(), " "))
	}
	if err := checkUpstream("--target", *target); err != nil {
		return usageErr(err.Error())
	}
	app, ok := contracts.LookupApp(*appID)
	if !ok {
		return usageErr(fmt.Sprintf("--app %q: one of lcmanager, r7office, customer, ereader, aries", *appID))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	cfg := verify.Config{App: app, Target: strings.TrimSuffix(*target, "/"), AllowWrites: *allowWrites, Host: *host}
	if *casesDir != "" {
		if cfg.Cases, err = verify.LoadCases(*casesDir, app); err != nil {
			return usageErr(err.Error())
		}
	} else {
		if cfg.Cases, err = verify.Corpus(app); err != nil {
			fmt.Fprintln(stderr, "aspgate verify:", err)
			return 1
		}
	}
	if *classes != "" {
		keep := map[string]bool{}
		for _, c := range strings.Split(*classes, ",") {
			keep[strings.TrimSpace(c)] = true
		}
		var cases []verify.Case
		for _, c := range cfg.Cases {
			if keep[c.Class] {
				cases = append(cases, c)
			}
		}
		if len(cases) == 0 {
			return usageErr("--classes keeps no case")
		}
		cfg.Cases = cases
	}
	if *casesDir == "" {
		ref, stopRef, err := startReference(ctx, app)
		if err != nil {
			fmt.Fprintln(stderr, "aspgate verify: the reference:", err)
			return 1
		}
		defer stopRef()
		cfg.Reference = ref
	}
	rep, err := verify.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "aspgate verify:", err)
		return exitVerifyUsage
	}
	rep.Versions, _ = buildVersion()
	if err := rep.WriteText(stdout); err != nil {
		return 1
	}
	for _, out := range []struct {
		file  string
		write func(io.Writer) error
	}{{*reportFile, rep.WriteJSON}, {*junitFile, rep.WriteJUnit}} {
		if out.file == "" {
			continue
		}
		if err := writeFileWith(out.file, out.write); err != nil {
			fmt.Fprintln(stderr, "aspgate verify:", err)
			return 1
		}
	}
	switch {
	case rep.Errors > 0:
		return exitVerifyUsage
	case rep.Differ > 0:
		return exitVerifyDiffer
	}
	return exitOK
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startReference runs aspgate itself as the reference on 127.0.0.1: the app's own listener on an empty
// database in a temporary folder, delivery off (no user exists, so nothing could be sent anyway), the
// default limits (a fresh target with the same limits that gets the same cases in the same order answers
// the same refusals).
func startReference(ctx context.Context, app *contracts.App) (string, func(), error) {
	dir, err := os.MkdirTemp("", "aspgate-verify-")
	if err != nil {
		return "", nil, err
	}
	var cfg serveConfig
	if err := cfg.parse([]string{"--db", filepath.Join(dir, "reference.db"), "--addr", "", "--listen", app.ID + "=127.0.0.1:0",
		"--admin-addr", "", "--dispatch=false", "--log-level", "error"}, io.Discard); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	s, err := openServer(rctx, cfg, io.Discard)
	if err != nil {
		cancel()
		os.RemoveAll(dir)
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- s.serve(rctx) }()
	return "http://" + s.AppAddr(app.ID), func() {
		cancel()
		<-done
		os.RemoveAll(dir)
	}, nil
}
