package jsonnet_test

import (
	"testing"

	"aspgate/contracts/jsonnet"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		name, in              string
		def, nonASCII, ascAPI string
	}{
		{"plain", "abc 123", `"abc 123"`, `"abc 123"`, `"abc 123"`},
		{"empty", "", `""`, `""`, `""`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`, `"a\"b\\c"`, `"a\"b\\c"`},
		{"slash", "a/b", `"a/b"`, `"a/b"`, `"a\/b"`},
		{"apostrophe and markup", `'<&>'`, `"'<&>'"`, `"'<&>'"`, `"'<&>'"`},
		{"short escapes", "\b\t\n\f\r", `"\b\t\n\f\r"`, `"\b\t\n\f\r"`, `"\u0008\u0009\u000a\u000c\u000d"`},
		{"CRLF", "a\r\nb", `"a\r\nb"`, `"a\r\nb"`, `"a\u000d\u000ab"`},
		{"other control characters", "\x00\x01\x0b\x1f", `"\u0000\u0001\u000b\u001f"`, `"\u0000\u0001\u000b\u001f"`, `"\u0000\u0001\u000b\u001f"`},
		{"DEL", "\x7f", "\"\x7f\"", "\"\x7f\"", "\"\x7f\""},
		{"Latin and Cyrillic", "éя", `"éя"`, `"\u00e9\u044f"`, `"éя"`},
		{"CJK", "中", `"中"`, `"\u4e2d"`, `"中"`},
		{"U+0085 and line separators", "\u0085\u2028\u2029", `"\u0085\u2028\u2029"`, `"\u0085\u2028\u2029"`, "\"\u0085\u2028\u2029\""},
		{"astral", "😀", `"😀"`, `"\ud83d\ude00"`, `"\ud83d\ude00"`},
		{"U+FFFD", "\uFFFD", "\"\uFFFD\"", `"\ufffd"`, "\"\uFFFD\""},
		{"U+FFFE and U+FFFF", "\uFFFE\uFFFF", "\"\uFFFE\uFFFF\"", `"\ufffe\uffff"`, `"\ufffe\uffff"`},
		{"lone high surrogate in WTF-8", "a\xed\xa0\x80b", "\"a\uFFFDb\"", `"a\ud800b"`, `"a\ud800b"`},
		{"lone low surrogate in WTF-8", "\xed\xbf\xbf", "\"\uFFFD\"", `"\udfff"`, `"\udfff"`},
		{"stray byte", "a\xffb", "\"a\uFFFDb\"", "\"a\uFFFDb\"", "\"a\uFFFDb\""},
		{"truncated sequence", "a\xe4\xb8", "\"a\uFFFD\uFFFD\"", "\"a\uFFFD\uFFFD\"", "\"a\uFFFD\uFFFD\""},
		{"mixed", "x\"y\u2028z/😀\x01", `"x\"y\u2028z/😀\u0001"`, `"x\"y\u2028z/\ud83d\ude00\u0001"`, "\"x\\\"y\u2028z\\/\\ud83d\\ude00\\u0001\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []struct {
				mode jsonnet.Escaping
				name string
				want string
			}{{jsonnet.Default, "Default", tt.def}, {jsonnet.NonASCII, "NonASCII", tt.nonASCII}, {jsonnet.ASCAPI, "ASCAPI", tt.ascAPI}} {
				if got := string(jsonnet.AppendString(nil, tt.in, m.mode)); got != m.want {
					t.Errorf("%s: got %s, want %s", m.name, got, m.want)
				}
			}
		})
	}
	// AppendString appends.
	if got := string(jsonnet.AppendString([]byte(`{"a":`), "b", jsonnet.Default)); got != `{"a":"b"` {
		t.Errorf("append: %s", got)
	}
}

func TestSurrogateAt(t *testing.T) {
	tests := []struct {
		s  string
		i  int
		r  rune
		ok bool
	}{
		{"\xed\xa0\x80", 0, 0xD800, true},
		{"x\xed\xbf\xbf", 1, 0xDFFF, true},
		{"\xed\x9f\xbf", 0, 0, false}, // U+D7FF
		{"\xed\xa0", 0, 0, false},
		{"abc", 0, 0, false},
	}
	for _, tt := range tests {
		r, ok := jsonnet.SurrogateAt(tt.s, tt.i)
		if r != tt.r || ok != tt.ok {
			t.Errorf("SurrogateAt(%q, %d) = %U, %v", tt.s, tt.i, r, ok)
		}
	}
	for _, r := range []rune{0xD800, 0xDBFF, 0xDC00, 0xDFFF} {
		b := jsonnet.AppendSurrogate(nil, r)
		if got, ok := jsonnet.SurrogateAt(string(b), 0); !ok || got != r {
			t.Errorf("AppendSurrogate(%U) = %q, reads back as %U", r, b, got)
		}
	}
}
