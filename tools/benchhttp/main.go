// Command benchhttp measures aspgate over real HTTP on 127.0.0.1, against a reference run side by side.
//
//	benchhttp load   -bin bin/aspgate   requests/s of each endpoint as a ratio to a static-bytes server,
//	                                    with p50 and p99 (make bench-http)
//	benchhttp timing -bin bin/aspgate   AUC of known against unknown accounts on every face (make bench-timing)
//	benchhttp static -addr ADDR         the static-bytes server itself (started by load)
//
// Both start `aspgate serve` on a fresh database in a temporary folder, with users and an API key added
// through the CLI. When taskset works, the servers run on CPU 0 and the load on CPU 1 (the Makefile pins
// this process). Every request goes to 127.0.0.1; every loop is bounded by a count or a duration.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchhttp load|timing|static [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "load":
		err = runLoad(os.Args[2:])
	case "timing":
		err = runTiming(os.Args[2:])
	case "static":
		err = runStatic(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchhttp:", err)
		os.Exit(1)
	}
}
