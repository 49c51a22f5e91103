package jsonnet_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"aspgate/contracts/jsonnet"
)

// readAll reads text to its end and lists the tokens as "Kind" or "Kind:Value", with the error, if any.
func readAll(text string) ([]string, error) {
	r := jsonnet.NewReader([]byte(text))
	var toks []string
	for range len(text) + 2 {
		if err := r.Read(); err != nil {
			return toks, err
		}
		if r.Token == jsonnet.None {
			return toks, nil
		}
		switch r.Token {
		case jsonnet.StartObject, jsonnet.EndObject, jsonnet.StartArray, jsonnet.EndArray:
			toks = append(toks, r.Token.String())
		default:
			toks = append(toks, r.Token.String()+":"+r.Value)
		}
	}
	return toks, errors.New("the reader does not move forward")
}

// mustReadAll is readAll failing the test on an error.
func mustReadAll(tb testing.TB, text string) []string {
	tb.Helper()
	toks, err := readAll(text)
	if err != nil {
		tb.Fatalf("%q: %v", text, err)
	}
	return toks
}

// mustReadValue returns the Value of the first scalar token of text, as a String, number or literal.
func mustReadValue(tb testing.TB, text string) (jsonnet.Token, string) {
	tb.Helper()
	r := jsonnet.NewReader([]byte(text))
	if err := r.Read(); err != nil {
		tb.Fatalf("%q: %v", text, err)
	}
	return r.Token, r.Value
}

func TestReaderTokens(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"empty", ``, ``},
		{"white space only", " \t\r\n\v\f\u00a0\u2028", ``},
		{"object", `{"a":1,"b":"x"}`, `StartObject PropertyName:a Integer:1 PropertyName:b String:x EndObject`},
		{"single quotes", `{'a':'b'}`, `StartObject PropertyName:a String:b EndObject`},
		{"single quotes hold double", `{'a':'say "hi"'}`, `StartObject PropertyName:a String:say "hi" EndObject`},
		{"double quotes hold single", `{"a":"it's"}`, `StartObject PropertyName:a String:it's EndObject`},
		{"unquoted names", `{abc:1, _x$9 : 2, Имя:3}`, `StartObject PropertyName:abc Integer:1 PropertyName:_x$9 Integer:2 PropertyName:Имя Integer:3 EndObject`},
		{"empty name", `{"":1}`, `StartObject PropertyName: Integer:1 EndObject`},
		{"literals", `[true,false,null,undefined,NaN,Infinity,-Infinity]`, `StartArray Boolean:true Boolean:false Null:null Undefined:undefined Float:NaN Float:Infinity Float:-Infinity EndArray`},
		{"numbers", `[0,-1,123456789012345678901234567890,1.5,-0.5e-3,1E+3,.5,1.]`, `StartArray Integer:0 Integer:-1 Integer:123456789012345678901234567890 Float:1.5 Float:-0.5e-3 Float:1E+3 Float:.5 Float:1. EndArray`},
		{"block comments", `/*a*/{/*b*/"a":/*c*/1/*d*/,/*e*/"b":[/*f*/2/*g*/]}/*h*/`, `StartObject PropertyName:a Integer:1 PropertyName:b StartArray Integer:2 EndArray EndObject`},
		{"line comments", "// a\n{\"a\": // b\r1 // c\n}", `StartObject PropertyName:a Integer:1 EndObject`},
		{"comment at the end", `{}//`, `StartObject EndObject`},
		{"trailing commas", `{"a":[1,2,],}`, `StartObject PropertyName:a StartArray Integer:1 Integer:2 EndArray EndObject`},
		{"nested", `{"a":{"b":[[],{}]}}`, `StartObject PropertyName:a StartObject PropertyName:b StartArray StartArray EndArray StartObject EndObject EndArray EndObject EndObject`},
		{"duplicate keys", `{"a":1,"a":2}`, `StartObject PropertyName:a Integer:1 PropertyName:a Integer:2 EndObject`},
		{"scalar root", `"s"`, `String:s`},
		{"trailing data ignored", `{"a":1} {"b":2} garbage [`, `StartObject PropertyName:a Integer:1 EndObject`},
		{"trailing data after a scalar", `1 2 3`, `Integer:1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(mustReadAll(t, tt.text), " "); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestReaderStrings(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"plain", `"abc"`, "abc"},
		{"short escapes", `"\b\t\n\f\r\\\/\"\'"`, "\b\t\n\f\r\\/\"'"},
		{"escaped quote in single quotes", `'\''`, "'"},
		{"unicode escapes", `"\u0041\u00e9\u044F\u4E2D"`, "Aéя中"},
		{"NUL escape", `"a\u0000b"`, "a\x00b"},
		{"raw NUL", "\"a\x00b\"", "a\x00b"},
		{"raw control characters and newlines", "\"a\x01\tb\nc\"", "a\x01\tb\nc"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"surrogate pair upper case", `"\uD83D\uDE00"`, "😀"},
		{"raw astral", `"😀"`, "😀"},
		// Json.NET 6 turns an escaped surrogate that is not half of a pair into U+FFFD.
		{"lone high surrogate", `"\ud800"`, "\uFFFD"},
		{"lone high surrogate before text", `"\ud800x"`, "\uFFFDx"},
		{"lone low surrogate", `"\udc00"`, "\uFFFD"},
		{"reversed pair", `"\ude00\ud83d"`, "\uFFFD\uFFFD"},
		{"high surrogate before a non-surrogate escape", `"\ud800\u0041"`, "\uFFFDA"},
		{"two high surrogates then a low", `"\ud800\ud83d\ude00"`, "\uFFFD😀"},
		{"U+FFFE", `"\ufffe"`, "\uFFFE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, v := mustReadValue(t, tt.text)
			if tok != jsonnet.String || v != tt.want {
				t.Errorf("%s %q, want String %q", tok, v, tt.want)
			}
		})
	}
	// A property name is unescaped the same way.
	r := jsonnet.NewReader([]byte(`{"\u0041\ud83d\ude00":1}`))
	if r.Read() != nil || r.Read() != nil || r.Token != jsonnet.PropertyName || r.Value != "A😀" {
		t.Errorf("property name %s %q", r.Token, r.Value)
	}
}

func TestReaderPath(t *testing.T) {
	r := jsonnet.NewReader([]byte(`{"a":[1,{"b.c":2,"d":{"e":[true]}}],'x y':null}`))
	want := []struct {
		tok   jsonnet.Token
		path  string
		depth int
	}{
		{jsonnet.StartObject, "", 0},
		{jsonnet.PropertyName, "a", 1},
		{jsonnet.StartArray, "a", 1},
		{jsonnet.Integer, "a[0]", 2},
		{jsonnet.StartObject, "a[1]", 2},
		{jsonnet.PropertyName, "a[1]['b.c']", 3},
		{jsonnet.Integer, "a[1]['b.c']", 3},
		{jsonnet.PropertyName, "a[1].d", 3},
		{jsonnet.StartObject, "a[1].d", 3},
		{jsonnet.PropertyName, "a[1].d.e", 4},
		{jsonnet.StartArray, "a[1].d.e", 4},
		{jsonnet.Boolean, "a[1].d.e[0]", 5},
		{jsonnet.EndArray, "a[1].d.e", 4},
		{jsonnet.EndObject, "a[1].d", 3},
		{jsonnet.EndObject, "a[1]", 2},
		{jsonnet.EndArray, "a", 1},
		{jsonnet.PropertyName, "['x y']", 1},
		{jsonnet.Null, "['x y']", 1},
		{jsonnet.EndObject, "", 0},
		{jsonnet.None, "", 0},
	}
	for i, w := range want {
		if err := r.Read(); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if r.Token != w.tok || r.Path() != w.path || r.Depth() != w.depth {
			t.Errorf("token %d: %s at %q depth %d, want %s at %q depth %d", i, r.Token, r.Path(), r.Depth(), w.tok, w.path, w.depth)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name, text, want, path string
	}{
		{"unterminated object", `{"a":1`, "Unexpected end when reading JSON.", "a"},
		{"unterminated after name", `{"a":`, "Unexpected end while parsing value.", "a"},
		{"unterminated name", `{"a`, "Unterminated string. Expected delimiter: \".", ""},
		{"unterminated single-quoted string", `['abc`, "Unterminated string. Expected delimiter: '.", ""},
		{"backslash at the end", `"abc\`, "Unterminated string.", ""},
		{"bad escape", `"\x"`, `Bad JSON escape sequence: \x.`, ""},
		{"short unicode escape", `"\u12"`, "Unexpected end while parsing unicode character.", ""},
		{"bad unicode escape", `"\u12G4"`, "Invalid Unicode escape sequence.", ""},
		{"missing colon", `{"a" 1}`, "Invalid character after parsing property name. Expected ':'.", ""},
		{"missing comma", `{"a":1 "b":2}`, "After parsing a value an unexpected character was encountered: \".", "a"},
		{"missing comma in array", `[1 2]`, "After parsing a value an unexpected character was encountered: 2.", "[0]"},
		{"wrong close", `{"a":[1}`, "After parsing a value an unexpected character was encountered: }.", "a[0]"},
		{"bad property name", `{1:2}`, "Invalid property identifier character: 1.", ""},
		{"bad value", `{"a":@}`, "Unexpected character encountered while parsing value: @.", "a"},
		// At the first item of an array the path is still the array's, as JsonReader.Path has it in ArrayStart.
		{"comma for a value", `[,]`, "Unexpected character encountered while parsing value: ,.", ""},
		{"bad literal", `[tru]`, "Unexpected character encountered while parsing value: t.", ""},
		{"lone minus", `[-]`, "Input string '-' is not a valid number.", ""},
		{"bad float", `{"a":1.2.3}`, "Input string '1.2.3' is not a valid number.", "a"},
		{"float out of range", `{"a":1e999}`, "Input string '1e999' is not a valid number.", "a"},
		{"letter after a number", `[1x]`, "Unexpected character encountered while parsing number: x.", "[0]"},
		{"bad comment", `/x{}`, "Error parsing comment. Expected: *, got x.", ""},
		{"unterminated comment", `{/* x`, "Unexpected end while parsing comment.", ""},
		{"slash at the end", `{"a":1/`, "Unexpected end while parsing comment.", "a"},
		{"raw NUL outside strings", "{\x00}", "Invalid property identifier character: \x00.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(tt.text)
			var se *jsonnet.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a SyntaxError saying %q", err, tt.want)
			}
			if !strings.HasPrefix(se.Msg, tt.want) {
				t.Errorf("message %q, want %q", se.Msg, tt.want)
			}
			if se.Path != tt.path {
				t.Errorf("path %q, want %q", se.Path, tt.path)
			}
			if !strings.HasSuffix(err.Error(), ".") || !strings.Contains(err.Error(), "Path '"+tt.path+"', line ") {
				t.Errorf("Error() %q", err.Error())
			}
		})
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	_, err := readAll("{\n  \"a\": 1,\n  \"b\": @\n}")
	var se *jsonnet.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("got %v", err)
	}
	if se.Line != 3 || se.Pos != 7 {
		t.Errorf("line %d position %d, want 3 and 7", se.Line, se.Pos)
	}
	if want := "Unexpected character encountered while parsing value: @. Path 'b', line 3, position 7."; err.Error() != want {
		t.Errorf("%q\nwant %q", err.Error(), want)
	}
}

// TestReaderStopsAtEnd checks that a finished or failed Reader stays put: Read keeps returning None after
// the root value, and the same error after a syntax error, so no caller can loop on one spot.
func TestReaderStopsAtEnd(t *testing.T) {
	r := jsonnet.NewReader([]byte(`{"a":1} {"b":2}`))
	for r.Token != jsonnet.EndObject {
		if err := r.Read(); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := r.Read(); err != nil || r.Token != jsonnet.None {
			t.Fatalf("after the root: %s, %v", r.Token, err)
		}
	}
	r = jsonnet.NewReader([]byte(`{"a":@,"b":1}`))
	var first error
	for range 5 {
		err := r.Read()
		if err == nil {
			continue
		}
		if first == nil {
			first = err
		}
		if err != first {
			t.Fatalf("a second error %v after %v", err, first)
		}
	}
	if first == nil {
		t.Fatal("no error")
	}
	// Skip at the end of the text ends too.
	for _, text := range []string{``, `{"a":`, `[`, `{"a":[1,{`, `{"a":1}`} {
		r := jsonnet.NewReader([]byte(text))
		_ = r.Read()
		_ = r.Read()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 3 {
				_ = r.Skip()
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Skip on %q does not return", text)
		}
	}
}

func TestReaderDepth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	if _, err := readAll(nest(jsonnet.DefaultMaxDepth)); err != nil {
		t.Errorf("%d levels: %v", jsonnet.DefaultMaxDepth, err)
	}
	_, err := readAll(nest(jsonnet.DefaultMaxDepth + 1))
	if err == nil || !strings.Contains(err.Error(), "The reader's MaxDepth of 256 has been exceeded.") {
		t.Errorf("%d levels: %v", jsonnet.DefaultMaxDepth+1, err)
	}
	objects := strings.Repeat(`{"a":`, 300)
	if _, err := readAll(objects); err == nil || !strings.Contains(err.Error(), "MaxDepth of 256") || !strings.Contains(err.Error(), "Path '"+strings.Repeat("a.", 255)+"a'") {
		t.Errorf("objects: %v", err)
	}
	r := jsonnet.NewReader([]byte(nest(3)))
	r.MaxDepth = 2
	var got error
	for range 10 {
		if got = r.Read(); got != nil {
			break
		}
	}
	if got == nil || !strings.Contains(got.Error(), "MaxDepth of 2") {
		t.Errorf("MaxDepth 2: %v", got)
	}
}

func TestReaderSkip(t *testing.T) {
	r := jsonnet.NewReader([]byte(`{"a":{"x":[1,{"y":2}]},"b":[[]],"c":3,"d":4}`))
	mustRead := func() {
		t.Helper()
		if err := r.Read(); err != nil {
			t.Fatal(err)
		}
	}
	mustRead() // {
	mustRead() // "a"
	if err := r.Skip(); err != nil || r.Token != jsonnet.EndObject || r.Path() != "a" {
		t.Fatalf("Skip from a property name: %s at %q, %v", r.Token, r.Path(), err)
	}
	mustRead() // "b"
	mustRead() // [
	if err := r.Skip(); err != nil || r.Token != jsonnet.EndArray || r.Path() != "b" {
		t.Fatalf("Skip from a StartArray: %s at %q, %v", r.Token, r.Path(), err)
	}
	mustRead() // "c"
	mustRead() // 3
	if err := r.Skip(); err != nil || r.Token != jsonnet.Integer {
		t.Fatalf("Skip on a scalar moves: %s, %v", r.Token, err)
	}
	mustRead() // "d"
	if err := r.Skip(); err != nil || r.Token != jsonnet.Integer || r.Value != "4" {
		t.Fatalf("Skip from a name with a scalar value: %s %q, %v", r.Token, r.Value, err)
	}
	mustRead()
	if r.Token != jsonnet.EndObject {
		t.Fatalf("ended on %s", r.Token)
	}
	r = jsonnet.NewReader([]byte(`{"a":[1,{`))
	mustRead()
	mustRead()
	if err := r.Skip(); err == nil {
		t.Error("Skip over an unterminated value succeeded")
	}
}

// TestReaderLinearCost reads 256 KiB of comments and other small tokens: no token may copy or rescan the
// rest of the input.
func TestReaderLinearCost(t *testing.T) {
	const size = 256 << 10
	repeat := func(open, unit, end string) string {
		return open + strings.Repeat(unit, (size-len(open)-len(end))/len(unit)) + end
	}
	tests := []struct{ name, text string }{
		{"block comments", repeat("[", "/**/", "1]")},
		{"line comments", repeat("[", "//\n", "1]")},
		{"items", repeat("[", "1,", "1]")},
		{"names", repeat("{", "a:1,", "b:1}")},
		{"strings", repeat("[", `"\u0041",`, "1]")},
		{"arrays", repeat("[", "[],", "1]")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			r := jsonnet.NewReader([]byte(tt.text))
			tokens := 0
			for ; tokens <= size; tokens++ {
				if err := r.Read(); err != nil {
					t.Fatal(err)
				}
				if r.Token == jsonnet.None {
					break
				}
			}
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d tokens, %v, %d bytes allocated", tokens, elapsed, alloc)
			if alloc > 16*size {
				t.Errorf("allocated %d bytes for %d", alloc, size)
			}
			if elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}
