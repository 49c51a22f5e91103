package main

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"

	"aspgate/handlers"
)

// buildVersion is the module version and VCS revision the binary was built from ("(devel)" and "" for a
// `go run` or a build outside a module version; "+dirty" marks uncommitted changes).
func buildVersion() (version, revision string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown", ""
	}
	version = info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && revision != "" {
		revision += "+dirty"
	}
	return version, revision
}

// runVersion prints `aspgate <version> <revision> <go version>`.
func runVersion(stdout io.Writer) int {
	version, revision := buildVersion()
	if revision == "" {
		revision = "unknown-revision"
	}
	fmt.Fprintf(stdout, "aspgate %s %s %s\n", version, revision, runtime.Version())
	return exitOK
}

// newLogger is the log every command writes: JSON lines (slog's JSONHandler: time, level, msg, then the
// record's attributes), each with the request_id of the request that caused it, if any.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(handlers.RequestIDHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}
