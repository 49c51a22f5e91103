// Command conformance compares aspgate's encoders and decoders with the legacy oracle live: for every type
// the oracle lists, it asks the oracle for random instances (`random <app> <Type> --seed S --count N`),
// encodes each input with contracts.Encode and compares the bytes with the oracle's JSON and XML (or
// expects an error where the oracle's serializer threw), then decodes our bytes and encodes the result
// again, which must give the same bytes, and (-decode, the default) compares our reading of those bytes
// with the oracle's `deserialize` of them. r7office request types skip both readings: ASC.Api binds them
// from text, lossy by design.
//
//	go run ./tools/conformance -oracle .oracle/bin/oracle.exe -n 500 [-seed S] [-app A] [-type T]
//
// Each instance counts once: passed when every check of it passed. The last line is "N passed, M failed";
// the exit status is 1 when M > 0.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"aspgate/contracts"
)

// oracleCase is one line of the oracle's random command.
type oracleCase struct {
	Input     json.RawMessage `json:"input"`
	JSON      *string         `json:"json"`
	XML       *string         `json:"xml"`
	JSONError *string         `json:"jsonError"`
	XMLError  *string         `json:"xmlError"`
}

type runner struct {
	mono, oracle string
	out          io.Writer
	maxReports   int // failure reports printed per type
	reported     int
	decode       bool // also compare our reading of each body with the oracle's
}

func main() {
	oracle := flag.String("oracle", "", "path to the legacy oracle's oracle.exe (required)")
	mono := flag.String("mono", "mono", "the Mono runtime")
	n := flag.Int("n", 500, "random instances per type")
	seed := flag.Uint64("seed", 0, "the oracle's random seed (default: from the time)")
	app := flag.String("app", "", "only this app")
	typ := flag.String("type", "", "only this type")
	reports := flag.Int("reports", 5, "failures reported in detail per type")
	decode := flag.Bool("decode", true, "also compare our reading of the oracle's bytes with its deserialize")
	flag.Parse()
	if *oracle == "" || flag.NArg() != 0 || *n <= 0 {
		flag.Usage()
		os.Exit(64)
	}
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano()%1_000_000_000) + 1
	}
	fmt.Printf("seed %d (repeat with -seed %d), %d instances per type\n", s, s, *n)
	r := &runner{mono: *mono, oracle: *oracle, out: os.Stdout, maxReports: *reports, decode: *decode}
	types, err := r.types()
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	}
	passed, failed := 0, 0
	for _, t := range types {
		if *app != "" && t[0] != *app || *typ != "" && !strings.EqualFold(t[1], *typ) {
			continue
		}
		p, f, err := r.runType(t[0], t[1], s, *n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			os.Exit(2)
		}
		fmt.Printf("%s %s: %d passed, %d failed\n", t[0], t[1], p, f)
		passed += p
		failed += f
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// types lists app and type as the oracle's types command prints them.
func (r *runner) types() ([][2]string, error) {
	out, err := exec.Command(r.mono, r.oracle, "types").Output()
	if err != nil {
		return nil, fmt.Errorf("oracle types: %w", err)
	}
	var list [][2]string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			list = append(list, [2]string{f[0], f[1]})
		}
	}
	if len(list) == 0 {
		return nil, errors.New("the oracle lists no types")
	}
	return list, nil
}

func (r *runner) runType(app, typ string, seed uint64, n int) (passed, failed int, err error) {
	c, err := contracts.Lookup(app, typ)
	if err != nil {
		// A type the oracle has and we do not: every instance fails.
		fmt.Fprintf(r.out, "FAIL %s %s: %v\n", app, typ, err)
		return 0, n, nil
	}
	out, err := exec.Command(r.mono, r.oracle, "random", app, typ, "--seed", strconv.FormatUint(seed, 10), "--count", strconv.Itoa(n)).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("oracle random %s %s: %w", app, typ, err)
	}
	var cases []oracleCase
	for i, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var oc oracleCase
		if err := json.Unmarshal(line, &oc); err != nil {
			return 0, 0, fmt.Errorf("oracle random %s %s line %d: %v", app, typ, i+1, err)
		}
		cases = append(cases, oc)
	}
	if len(cases) != n {
		return 0, 0, fmt.Errorf("oracle random %s %s gave %d lines, want %d", app, typ, len(cases), n)
	}
	// How the oracle reads back the bytes it wrote, to compare with our reading of the same bytes.
	readings := map[string][]string{}
	if r.decode && !(c.App.ASCAPI && c.Direction == contracts.Request) {
		for _, format := range []string{"json", "xml"} {
			if readings[format], err = r.oracleReadings(app, typ, format, cases); err != nil {
				return 0, 0, err
			}
		}
	}
	r.reported = 0
	for i, oc := range cases {
		reading := map[string]string{}
		for format, lines := range readings {
			if lines[i] != "" {
				reading[format] = lines[i]
			}
		}
		if r.check(c, i+1, oc, reading) {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed, nil
}

// oracleReadings runs the oracle's deserialize over the bodies of one format ("" where the serializer threw
// and there is no body): one output line per case.
func (r *runner) oracleReadings(app, typ, format string, cases []oracleCase) ([]string, error) {
	var in bytes.Buffer
	var index []int
	for i, oc := range cases {
		body := oc.JSON
		if format == "xml" {
			body = oc.XML
		}
		if body == nil {
			continue
		}
		line, err := json.Marshal(*body)
		if err != nil {
			return nil, err
		}
		in.Write(line)
		in.WriteByte('\n')
		index = append(index, i)
	}
	cmd := exec.Command(r.mono, r.oracle, "deserialize", app, typ, "application/"+format, "--each")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("oracle deserialize %s %s %s: %w", app, typ, format, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(index) == 0 {
		lines = nil
	}
	if len(lines) != len(index) {
		return nil, fmt.Errorf("oracle deserialize %s %s %s gave %d lines for %d bodies", app, typ, format, len(lines), len(index))
	}
	readings := make([]string, len(cases))
	for k, i := range index {
		readings[i] = lines[k]
	}
	return readings, nil
}

// check runs every comparison of one instance and reports the failures. reading holds, per format, the
// oracle's deserialize output for its own bytes.
func (r *runner) check(c *contracts.Contract, i int, oc oracleCase, reading map[string]string) bool {
	ok := true
	fail := func(format, what string) {
		ok = false
		if r.reported < r.maxReports {
			fmt.Fprintf(r.out, "FAIL %s %s #%d %s: %s\n  input %s\n", c.App.ID, c.Name, i, format, what, oc.Input)
		}
		r.reported++
		if r.reported == r.maxReports+1 {
			fmt.Fprintf(r.out, "  (further failures of %s %s are counted, not shown)\n", c.App.ID, c.Name)
		}
	}
	v, err := contracts.ReadInput(c, oc.Input)
	if err != nil {
		fail("input", err.Error())
		return false
	}
	for _, f := range []struct {
		format    string
		want, thr *string
	}{{"json", oc.JSON, oc.JSONError}, {"xml", oc.XML, oc.XMLError}} {
		got, err := contracts.Encode(c, f.format, v)
		switch {
		case f.thr != nil:
			if err == nil {
				fail(f.format, fmt.Sprintf("the oracle's serializer threw (%s), we wrote %q", *f.thr, clip(got, 200)))
			}
			continue
		case f.want == nil:
			fail(f.format, "the oracle gave neither text nor error")
			continue
		case err != nil:
			fail(f.format, fmt.Sprintf("we failed (%v), the oracle wrote %q", err, clip([]byte(*f.want), 200)))
			continue
		}
		if d := diff(got, []byte(*f.want)); d != "" {
			fail(f.format, d)
			continue
		}
		if d := roundTrip(c, f.format, got); d != "" {
			fail(f.format+" round trip", d)
		}
		if want, ok := reading[f.format]; ok {
			if d := compareReading(c, f.format, got, want); d != "" {
				fail(f.format+" reading", d)
			}
		}
	}
	return ok
}

// whitespaceText finds an element whose text is white space only.
var whitespaceText = regexp.MustCompile(">[ \t\r\n]+</")

// roundTrip decodes our wire bytes and encodes the value again; "" when the bytes come back unchanged.
func roundTrip(c *contracts.Contract, format string, wire []byte) string {
	if c.App.ASCAPI && c.Direction == contracts.Request {
		// ASC.Api binds every value as text (a JSON null arrives as "") and reads text/xml leaves, not
		// Web API's DataContract XML: lossy by design (as in contracts/golden_test.go).
		return ""
	}
	if c.App.ASCAPI && format == "xml" && bytes.Contains(wire, []byte("<error />")) {
		// An empty error object is written as <error /> and read back as null: lossy by design.
		return ""
	}
	if c.App.ASCAPI && format == "xml" && whitespaceText.Match(wire) {
		// XDocument.Parse drops text of white space only, so such a string reads back as "": lossy by design.
		return ""
	}
	back, err := contracts.Decode(c, "application/"+format, wire)
	if err != nil {
		return fmt.Sprintf("decoding our bytes failed: %v", err)
	}
	again, err := contracts.Encode(c, format, back)
	if err != nil {
		return fmt.Sprintf("encoding the decoded value failed: %v", err)
	}
	if d := diff(again, wire); d != "" {
		return "decode then encode: " + d
	}
	return ""
}

// compareReading decodes the bytes and compares the bound value, in the input form, with the oracle's
// deserialize output for the same bytes (or expects an error where the oracle's reading failed).
func compareReading(c *contracts.Contract, format string, wire []byte, want string) string {
	v, err := contracts.Decode(c, "application/"+format, wire)
	if strings.HasPrefix(want, "error:") {
		if err == nil {
			return "the oracle's reading failed (" + want + "), ours did not"
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("our reading failed (%v), the oracle read %s", err, want)
	}
	got, err := contracts.AppendInput(nil, c, v)
	if err != nil {
		return err.Error()
	}
	return diff(got, []byte(want))
}

// diff describes the first difference of got from want: the byte offset and a window of both.
func diff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	at := 0
	for at < len(got) && at < len(want) && got[at] == want[at] {
		at++
	}
	from := max(0, at-40)
	return fmt.Sprintf("differs at byte %d (ours %d bytes, oracle %d)\n  ours   ...%q\n  oracle ...%q",
		at, len(got), len(want), window(got, from, at+40), window(want, from, at+40))
}

func window(b []byte, from, to int) []byte {
	if from > len(b) {
		return nil
	}
	return b[from:min(len(b), to)]
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
