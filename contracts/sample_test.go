package contracts_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"aspgate/contracts"
)

// normalize removes whitespace between JSON tokens or between XML tags, as the oracle's samples --check does.
func normalize(s, format string) string {
	s = strings.TrimSpace(s)
	if format == "xml" {
		return regexp.MustCompile(`>\s+<`).ReplaceAllString(s, "><")
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in:
			b.WriteByte(c)
			if c == '\\' {
				i++
				b.WriteByte(s[i])
			} else if c == '"' {
				in = false
			}
		case c == '"':
			in = true
			b.WriteByte(c)
		case c != ' ' && c != '\t' && c != '\r' && c != '\n':
			b.WriteByte(c)
		}
	}
	return b.String()
}

// TestSamples checks every help-page sample against the oracle's bytes and the seed page's text.
func TestSamples(t *testing.T) {
	n := 0
	for _, app := range contracts.Apps() {
		for _, c := range app.Contracts {
			for _, format := range []string{"json", "xml"} {
				name := app.ID + "/" + c.Name + "." + format
				want, err := os.ReadFile(filepath.Join("..", "testdata", "golden", "samples", app.ID, c.Name+"."+format))
				v, serr := contracts.Sample(c, format)
				if errors.Is(serr, contracts.ErrNoSample) {
					if err == nil {
						t.Errorf("%s: the oracle has a sample, we have none", name)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if serr != nil {
					t.Fatalf("%s: %v", name, serr)
				}
				got, err := contracts.Encode(c, format, v)
				if err != nil {
					t.Fatalf("%s: encode: %v", name, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s:\n got %s\nwant %s", name, got, want)
				}
				seed, err := os.ReadFile(filepath.Join("..", "testdata", "seeds", app.ID, c.Name+"."+format))
				if err != nil {
					t.Fatalf("%s: no seed sample: %v", name, err)
				}
				if normalize(string(seed), format) != normalize(string(got), format) {
					t.Errorf("%s: differs from the seed page:\n got %s\nseed %s", name, got, seed)
				}
				n++
			}
		}
	}
	if n != 22 {
		t.Errorf("checked %d samples, want 22", n)
	}
}
