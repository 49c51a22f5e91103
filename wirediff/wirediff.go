// Package wirediff compares two HTTP answers by the legacy contract's rules and names each difference
// precisely: errors byte for byte (status, Content-Type, Allow, body), successes by contract — for XML
// the element names, namespaces (by URI, whatever the prefix), order, i:nil and value types; for JSON
// the member names, order and value types. Business values are not compared in a success.
//
// It is the comparison behind `aspgate verify` and `aspgate shadow`.
package wirediff

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Answer is one HTTP answer.
type Answer struct {
	Status int
	Reason string // the status line's reason phrase, when known ("Server error" is ONLYOFFICE's own)
	Header http.Header
	Body   []byte
}

// Difference is one way a received answer differs from the expected one.
type Difference struct {
	Path     string // "status", "header Content-Type", "body", or a path in the body: "/RememberMessageResponse/ErrorCode", "/ModelState/model.UserId/0"
	Kind     string // status, header, name, namespace, missing, unexpected, nil, type, value, count, body, parse
	Expected string
	Received string
}

func (d Difference) String() string {
	switch d.Kind {
	case "missing":
		return fmt.Sprintf("%s: missing (expected %s)", d.Path, d.Expected)
	case "unexpected":
		return fmt.Sprintf("%s: unexpected %s", d.Path, d.Received)
	}
	return fmt.Sprintf("%s: %s %s expected, %s received", d.Path, d.Kind, show(d.Expected), show(d.Received))
}

func show(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// Mode says how much of an answer is compared.
type Mode int

const (
	// Exact compares status, Content-Type, Allow and the body's bytes; a body that differs is also walked,
	// so that the report names the first member or element that differs.
	Exact Mode = iota
	// Contract compares status, Content-Type and the body's structure, not its values.
	Contract
)

// ModeFor is the rule for an expected answer: an error (4xx, 5xx) must be the same bytes, a success the
// same contract.
func ModeFor(expected Answer) Mode {
	if expected.Status >= 400 {
		return Exact
	}
	return Contract
}

// Compare lists the differences of got from want, by the rule for want (ModeFor).
func Compare(want, got Answer) []Difference { return CompareMode(want, got, ModeFor(want)) }

// CompareMode lists the differences of got from want under a mode.
func CompareMode(want, got Answer, mode Mode) []Difference {
	var out []Difference
	if want.Status != got.Status {
		out = append(out, Difference{Path: "status", Kind: "status", Expected: strconv.Itoa(want.Status), Received: strconv.Itoa(got.Status)})
	} else if want.Reason != "" && got.Reason != "" && want.Reason != got.Reason {
		out = append(out, Difference{Path: "status", Kind: "reason phrase", Expected: strconv.Quote(want.Reason), Received: strconv.Quote(got.Reason)})
	}
	for _, h := range []string{"Content-Type", "Allow"} {
		w, g := want.Header.Get(h), got.Header.Get(h)
		if w != g && (h != "Allow" || w != "" || mode == Exact) {
			out = append(out, Difference{Path: "header " + h, Kind: "header", Expected: w, Received: g})
		}
	}
	if mode == Exact && bytes.Equal(want.Body, got.Body) {
		return out
	}
	wt, werr := parse(want.Header.Get("Content-Type"), want.Body)
	gt, gerr := parse(got.Header.Get("Content-Type"), got.Body)
	switch {
	case werr != nil || gerr != nil || wt.format != gt.format:
		if mode == Exact || werr != nil || (gerr != nil && len(got.Body) > 0) || wt.format != gt.format {
			if mode == Exact {
				out = append(out, bodyBytes(want.Body, got.Body))
			} else if gerr != nil {
				out = append(out, Difference{Path: "body", Kind: "parse", Expected: wt.format, Received: gerr.Error()})
			} else if werr == nil {
				out = append(out, Difference{Path: "body", Kind: "format", Expected: wt.format, Received: gt.format})
			}
		}
		return out
	}
	var tree []Difference
	diffNode(&tree, "", wt.root, gt.root, mode)
	if mode == Exact && len(tree) == 0 {
		tree = append(tree, bodyBytes(want.Body, got.Body)) // same tree, other bytes: spacing, escaping, prefixes
	}
	return append(out, tree...)
}

func bodyBytes(want, got []byte) Difference {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	return Difference{Path: "body", Kind: "body", Expected: fmt.Sprintf("%d bytes, byte %d %s", len(want), i, excerpt(want, i)),
		Received: fmt.Sprintf("%d bytes, byte %d %s", len(got), i, excerpt(got, i))}
}

func excerpt(b []byte, i int) string {
	end := min(len(b), i+24)
	return strconv.Quote(string(b[i:end]))
}

// decodeText turns a body into UTF-8 text as its charset (or byte order mark) says.
func decodeText(contentType string, b []byte) []byte {
	le := bytes.HasPrefix(b, []byte{0xFF, 0xFE})
	be := bytes.HasPrefix(b, []byte{0xFE, 0xFF})
	if !le && !be && !strings.Contains(strings.ToLower(contentType), "utf-16") {
		return bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	}
	if le || be {
		b = b[2:]
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if be {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return []byte(string(utf16.Decode(u)))
}

// Fetch sends req and reads the answer as Compare takes it: status, reason phrase, headers, and the body
// up to limit bytes.
func Fetch(client *http.Client, req *http.Request, limit int64) (Answer, error) {
	res, err := client.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, limit))
	if err != nil {
		return Answer{}, err
	}
	_, reason, _ := strings.Cut(res.Status, " ")
	return Answer{Status: res.StatusCode, Reason: reason, Header: res.Header, Body: body}, nil
}
