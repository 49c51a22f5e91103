package jsonnet_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"aspgate/contracts/jsonnet"
)

// readTokens reads every token and returns them as "Type:value" strings, or the error.
func readTokens(r *jsonnet.TextReader) ([]string, error) {
	var out []string
	for range 10000 {
		ok, err := r.Read()
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		s := r.Token().String()
		if r.HasValue() {
			s += ":" + r.ValueText()
		}
		out = append(out, s)
	}
	return out, errors.New("does not end")
}

// TestTextReaderTokens reads Json.NET's token stream for inputs Json.NET itself accepts beyond RFC 8259
// (comments, single quotes, unquoted names, trailing commas).
func TestTextReaderTokens(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1,"b":[true,null,"x"]}`, "StartObject PropertyName:a Integer:1 PropertyName:b StartArray Boolean:True Null String:x EndArray EndObject"},
		{`{a:'q',/*c*/ "b":2.5,}`, "StartObject PropertyName:a String:q Comment:c PropertyName:b Float:2.5 EndObject"},
		{`[1,2,]`, "StartArray Integer:1 Integer:2 EndArray"},
		{`"\u00e9\n"`, "String:é\n"},
	} {
		got, err := readTokens(jsonnet.NewTextReader([]byte(tc.in)))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, s, tc.want)
		}
	}
}

// TestTextReaderMessages pins errors to Json.NET 13's own messages, as recorded with the real library
// (testdata/golden/r7bind, json-020 and json-087).
func TestTextReaderMessages(t *testing.T) {
	for in, want := range map[string]string{
		`{"userName":"u","password":}`: "Unexpected character encountered while parsing value: }. Path 'password', line 1, position 27.",
		`{"userName":n}`:               "Unexpected character encountered while parsing value: n. Path 'userName', line 1, position 12.",
	} {
		_, err := readTokens(jsonnet.NewTextReader13([]byte(in)))
		var re *jsonnet.ReaderError
		if !errors.As(err, &re) || re.Msg != want {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// FuzzTextReader reads arbitrary text with both readers (Json.NET 6 and 13): never a panic, always an
// end within a bounded number of reads, every error a *ReaderError, and RFC 8259 JSON read without error
// (within the depth quota).
func FuzzTextReader(f *testing.F) {
	for _, s := range []string{``, `{`, `[`, `"`, `/`, `/*`, `{"a":[1,2,{"b":null}]}`, `'x'`, `{a:1}`, `[1,,2]`,
		`{"a":1 "b":2}`, `1e400`, `-0`, `0x1F`, `017`, `new Date(1)`, `"\ud800"`, `[` + strings.Repeat("[", 70)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range []*jsonnet.TextReader{jsonnet.NewTextReader(data), jsonnet.NewTextReader13(data)} {
			_, err := readTokens(r)
			var re *jsonnet.ReaderError
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("error %T: %v", err, err)
			}
			if err != nil && utf8.Valid(data) && json.Valid(data) && !strings.Contains(err.Error(), "MaxDepth") &&
				!strings.Contains(err.Error(), "too large or too small") && !strings.Contains(err.Error(), "not a valid") {
				t.Fatalf("valid JSON refused: %v\n%q", err, data)
			}
		}
	})
}
