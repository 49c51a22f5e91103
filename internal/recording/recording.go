// Package recording reads the frozen exchanges with the real Web API pipeline that the legacy oracle
// recorded (testdata/golden/requests/*.txt): the oracle's command line, which names the app, method, path,
// headers and body file; then the status line, the response headers, a blank line and the exact body.
package recording

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Exchange is one recorded request and the legacy pipeline's answer.
type Exchange struct {
	Name           string // the file's name, e.g. "59-customer-textxml-body.txt"
	App            string
	Method, Target string      // Target: the path with its query, as sent
	Header         [][2]string // the request headers, in the recorded order
	Body           []byte      // the request body (nil when none was sent)
	StatusLine     string      // "HTTP/1.1 200 OK"
	Status         int
	RespHeader     [][2]string
	RespBody       []byte
}

// ResponseHeader is the recorded response headers as an http.Header.
func (e *Exchange) ResponseHeader() http.Header { return toHeader(e.RespHeader) }

// RequestHeader is the recorded request headers as an http.Header.
func (e *Exchange) RequestHeader() http.Header { return toHeader(e.Header) }

func toHeader(pairs [][2]string) http.Header {
	h := http.Header{}
	for _, p := range pairs {
		h.Add(p[0], p[1])
	}
	return h
}

var argRE = regexp.MustCompile(`'[^']*'|\S+`)

// Read reads one recording; its body file is read from the bodies folder beside it.
func Read(path string) (*Exchange, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	head, body, ok := bytes.Cut(data, []byte("\n\n"))
	lines := strings.Split(string(head), "\n")
	if !ok || len(lines) < 2 {
		return nil, fmt.Errorf("%s: not a recording", path)
	}
	// $ mono bin/oracle.exe request <app> <METHOD> <path> [-H 'h: v']... [--body-file f]
	args := argRE.FindAllString(lines[0], -1)
	for i := range args {
		args[i] = strings.Trim(args[i], "'")
	}
	if len(args) < 7 || args[3] != "request" {
		return nil, fmt.Errorf("%s: command line %q", path, lines[0])
	}
	fields := strings.Fields(lines[1])
	if len(fields) < 2 {
		return nil, fmt.Errorf("%s: status line %q", path, lines[1])
	}
	status, err := strconv.Atoi(fields[1])
	if err != nil {
		return nil, fmt.Errorf("%s: status line %q", path, lines[1])
	}
	e := &Exchange{Name: filepath.Base(path), App: args[4], Method: args[5], Target: args[6], StatusLine: lines[1],
		Status: status, RespBody: bytes.TrimSuffix(body, []byte("\n"))}
	for _, l := range lines[2:] {
		k, v, _ := strings.Cut(l, ": ")
		e.RespHeader = append(e.RespHeader, [2]string{k, v})
	}
	for i := 7; i < len(args); i++ {
		if i+1 >= len(args) {
			return nil, fmt.Errorf("%s: %s without its value", path, args[i])
		}
		switch args[i] {
		case "-H":
			k, v, _ := strings.Cut(args[i+1], ": ")
			e.Header = append(e.Header, [2]string{k, v})
		case "--body-file":
			if e.Body, err = os.ReadFile(filepath.Join(filepath.Dir(path), "bodies", filepath.Base(args[i+1]))); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: unknown argument %q", path, args[i])
		}
		i++
	}
	return e, nil
}

// ReadAll reads every recording in dir, in name order.
func ReadAll(dir string) ([]*Exchange, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Exchange
	for _, f := range files {
		e, err := Read(f)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
