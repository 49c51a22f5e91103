package jsonnet_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"aspgate/contracts/jsonnet"
)

// FuzzReader reads every token of arbitrary text: the reader must never panic or loop (each Read moves
// forward or ends), and JSON that RFC 8259 allows must be read without error.
func FuzzReader(f *testing.F) {
	for _, pattern := range []string{
		filepath.Join("..", "..", "testdata", "golden", "requests", "bodies", "*.json"),
		filepath.Join("..", "..", "testdata", "golden", "samples", "*", "*.json"),
		filepath.Join("..", "..", "testdata", "seeds", "*", "*.json"),
	} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		``, `{`, `[`, `"`, `/`, `/*`, `//`, `-`, `.`, `1e`, `-Infinity`, `NaN`, `undefined`,
		`{a:1,'b':"\ud83d\ude00",c:[1,2,],}`, `{"a":1} trailing`, `[/* c */1 // x` + "\n]",
		`"\ud800\u0041"`, `{"a":{"b":[{"c":null}]}}`, `[1,,2]`, `{"a" 1}`, `{"a":1 "b":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := jsonnet.NewReader(data)
		var err error
		reads := 0
		for {
			if reads > len(data)+2 {
				t.Fatalf("%d reads over %d bytes: the reader does not move forward", reads, len(data))
			}
			reads++
			if err = r.Read(); err != nil {
				var se *jsonnet.SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error %T is not a *SyntaxError: %v", err, err)
				}
				break
			}
			_ = r.Path()
			if r.Depth() < 0 || r.Depth() > r.MaxDepth {
				t.Fatalf("depth %d out of range", r.Depth())
			}
			if r.Token == jsonnet.None {
				break
			}
		}
		if err != nil && utf8.Valid(data) && json.Valid(data) && !strings.Contains(err.Error(), "is not a valid number") &&
			!strings.Contains(err.Error(), "MaxDepth") && len(bytes.TrimSpace(data)) > 0 {
			t.Fatalf("valid JSON refused: %v\n%q", err, data)
		}

		// Skip from the first token must end too.
		r = jsonnet.NewReader(data)
		if r.Read() == nil {
			_ = r.Skip()
		}
	})
}
