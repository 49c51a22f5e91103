package xmlns_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"aspgate/xmlns"
)

// mustParse parses doc with the default options or fails the test.
func mustParse(tb testing.TB, doc string) *xmlns.Node {
	tb.Helper()
	n, err := xmlns.Parse([]byte(doc), xmlns.ParseOptions{})
	if err != nil {
		tb.Fatalf("Parse(%q): %v", doc, err)
	}
	return n
}

// mustChild returns the i-th child element of n.
func mustChild(tb testing.TB, n *xmlns.Node, i int) *xmlns.Node {
	tb.Helper()
	if i >= len(n.Children) {
		tb.Fatalf("<%s> has %d children, want at least %d", n.Local, len(n.Children), i+1)
	}
	return n.Children[i]
}

func TestParseNamespaces(t *testing.T) {
	root := mustParse(t, `<x:R xmlns:x="urn:x" xmlns="urn:d" xmlns:i="`+xmlns.Instance+`">`+
		`<x:A>1</x:A><B/><C xmlns="urn:c"><D/></C><E xmlns=""><F/></E><G i:nil="true" x:at="v" plain="p" xml:lang="ru"/>`+
		`</x:R>`)
	if root.Local != "R" || root.NS != "urn:x" {
		t.Errorf("root {%s}%s", root.NS, root.Local)
	}
	want := []struct{ local, ns string }{{"A", "urn:x"}, {"B", "urn:d"}, {"C", "urn:c"}, {"E", ""}, {"G", "urn:d"}}
	for i, w := range want {
		if c := mustChild(t, root, i); c.Local != w.local || c.NS != w.ns {
			t.Errorf("child %d: {%s}%s, want {%s}%s", i, c.NS, c.Local, w.ns, w.local)
		}
	}
	if d := mustChild(t, mustChild(t, root, 2), 0); d.NS != "urn:c" {
		t.Errorf("D inherits %q", d.NS)
	}
	if f := mustChild(t, mustChild(t, root, 3), 0); f.NS != "" {
		t.Errorf(`xmlns="" not inherited: F in %q`, f.NS)
	}
	g := mustChild(t, root, 4)
	wantAttrs := []xmlns.Attr{
		{Local: "nil", NS: xmlns.Instance, Value: "true"},
		{Local: "at", NS: "urn:x", Value: "v"},
		{Local: "plain", NS: "", Value: "p"}, // an unprefixed attribute is in no namespace
		{Local: "lang", NS: "http://www.w3.org/XML/1998/namespace", Value: "ru"},
	}
	if fmt.Sprint(g.Attrs) != fmt.Sprint(wantAttrs) {
		t.Errorf("attributes %v, want %v", g.Attrs, wantAttrs)
	}
	if v, ok := g.AttrValue(xmlns.Instance, "nil"); !ok || v != "true" {
		t.Errorf("AttrValue(i:nil) = %q, %v", v, ok)
	}
	if _, ok := g.AttrValue("", "nil"); ok {
		t.Error("AttrValue ignores the namespace")
	}
	if len(root.Attrs) != 0 {
		t.Errorf("namespace declarations listed as attributes: %v", root.Attrs)
	}
}

// TestParsePrefixScopes rebinds prefixes in nested scopes: each binding ends with its element.
func TestParsePrefixScopes(t *testing.T) {
	root := mustParse(t, `<p:R xmlns:p="u1" xmlns="d1">`+
		`<p:A xmlns:p="u2"><p:A1 xmlns:p="u3"/><p:A2/></p:A>`+
		`<p:B/>`+
		`<C xmlns="d2" xmlns:q="q1"><q:C1/></C>`+
		`<D/>`+
		`</p:R>`)
	a := mustChild(t, root, 0)
	got := []string{root.NS, a.NS, mustChild(t, a, 0).NS, mustChild(t, a, 1).NS, mustChild(t, root, 1).NS,
		mustChild(t, root, 2).NS, mustChild(t, mustChild(t, root, 2), 0).NS, mustChild(t, root, 3).NS}
	want := []string{"u1", "u2", "u3", "u2", "u1", "d2", "q1", "d1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("namespaces %v, want %v", got, want)
	}
	// A prefix declared on a sibling is out of scope.
	if _, err := xmlns.Parse([]byte(`<R><C xmlns:q="q1"/><q:D/></R>`), xmlns.ParseOptions{}); err == nil || !strings.Contains(err.Error(), "'q' is an undeclared prefix") {
		t.Errorf("sibling's prefix: %v", err)
	}
	// Many declarations on one element, used by many attributes.
	var b strings.Builder
	b.WriteString("<R")
	for i := range 100 {
		fmt.Fprintf(&b, ` xmlns:p%d="u%d"`, i, i)
	}
	for i := range 100 {
		fmt.Fprintf(&b, ` p%d:a="%d"`, i, i)
	}
	b.WriteString("><p0:x/><p99:y/></R>")
	r := mustParse(t, b.String())
	if len(r.Attrs) != 100 || r.Attrs[42].NS != "u42" || r.Attrs[42].Value != "42" || r.Children[0].NS != "u0" || r.Children[1].NS != "u99" {
		t.Errorf("many declarations: %d attributes, %+v", len(r.Attrs), r.Attrs[42])
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		name, doc, text string
		hasContent      bool
		selfClosing     bool
	}{
		{"self-closing", `<a/>`, "", false, true},
		{"self-closing with space", `<a />`, "", false, true},
		{"empty pair", `<a></a>`, "", false, false},
		{"space", `<a> </a>`, " ", true, false},
		{"predefined entities", `<a>&lt;&gt;&amp;&quot;&apos;</a>`, `<>&"'`, true, false},
		{"decimal reference", `<a>&#65;&#1103;</a>`, "Aя", true, false},
		{"hex reference", `<a>&#x41;&#x3a;&#x3A;</a>`, "A::", true, false},
		{"control character by reference", `<a>&#x1;&#x1F;&#9;</a>`, "\x01\x1f\t", true, false},
		{"U+FFFE by reference", `<a>&#xFFFE;</a>`, "\uFFFE", true, false},
		{"NUL by reference", `<a>&#0;&#x0;&#;&#x;</a>`, "\x00\x00\x00\x00", true, false}, // the legacy reader's checks are off
		{"astral by reference", `<a>&#x1F600;</a>`, "😀", true, false},
		{"surrogate pair by reference", `<a>&#xD83D;&#xDE00;</a>`, "😀", true, false},
		{"lone high surrogate by reference", `<a>&#xD800;x</a>`, "\xed\xa0\x80x", true, false},
		{"lone low surrogate by reference", `<a>&#xDC00;</a>`, "\xed\xb0\x80", true, false},
		{"reversed surrogates by reference", `<a>&#xDE00;&#xD83D;</a>`, "\xed\xb8\x80\xed\xa0\xbd", true, false},
		{"CDATA", `<a><![CDATA[<&>]]]]></a>`, "<&>]]", true, false},
		{"empty CDATA", `<a><![CDATA[]]></a>`, "", true, false},
		{"CDATA and text", `<a>x<![CDATA[y]]>z</a>`, "xyz", true, false},
		{"CDATA line endings", "<a><![CDATA[1\r\n2\r3\n]]></a>", "1\n2\n3\n", true, false},
		{"line endings", "<a>1\r\n2\r3\n4\r\r\n5</a>", "1\n2\n3\n4\n\n5", true, false},
		{"referenced CR is kept", "<a>1&#xD;&#xA;2&#13;</a>", "1\r\n2\r", true, false},
		{"comment", `<a>x<!-- <b>not an element</b> -->y</a>`, "xy", true, false},
		{"non-ASCII", "<a>Привет 中 😀 \u2028</a>", "Привет 中 😀 \u2028", true, false},
		{"text around children", `<a>x<b>inner</b>y</a>`, "xy", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := mustParse(t, tt.doc)
			if n.Text != tt.text || n.HasContent != tt.hasContent || n.SelfClosing != tt.selfClosing {
				t.Errorf("Text %q HasContent %v SelfClosing %v; want %q %v %v", n.Text, n.HasContent, n.SelfClosing, tt.text, tt.hasContent, tt.selfClosing)
			}
		})
	}
}

func TestParseAttributeNormalization(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"<a v=\"x\ty\r\nz\nw\rq\"/>", "x y z w q"},
		{`<a v='single "quoted"'/>`, `single "quoted"`},
		{`<a v="double 'quoted'"/>`, `double 'quoted'`},
		{`<a v="&lt;&amp;&#xA;&#x9;&#xD;&#x1;"/>`, "<&\n\t\r\x01"},
		{`<a v=""/>`, ""},
		{"<a v = \"spaced\" />", "spaced"},
		{`<a v=">"/>`, ">"},
	}
	for _, tt := range tests {
		n := mustParse(t, tt.doc)
		if v, ok := n.AttrValue("", "v"); !ok || v != tt.want {
			t.Errorf("%q: value %q, want %q", tt.doc, v, tt.want)
		}
	}
}

func TestParseDeclarationAndMisc(t *testing.T) {
	tests := []struct {
		name, doc, encoding string
	}{
		{"declaration", `<?xml version="1.0"?><a/>`, ""},
		{"declaration with encoding", `<?xml version="1.0" encoding="utf-8"?><a/>`, ""},
		{"declaration encoding case", `<?xml version='1.0' encoding='UTF-8' standalone='yes'?><a/>`, ""},
		{"UTF-16 document", `<?xml version="1.0" encoding="utf-16"?><a/>`, "utf-16"},
		{"UTF-16 document as unicode", `<?xml version="1.0" encoding="unicode"?><a/>`, "utf-16"},
		{"comments and space around the root", "\r\n <!-- a --> <a/> <!-- b -->\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := xmlns.Parse([]byte(tt.doc), xmlns.ParseOptions{Encoding: tt.encoding})
			if err != nil || n.Local != "a" {
				t.Errorf("got %v, %v", n, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) }
	var many strings.Builder
	many.WriteString("<a")
	for i := range 40 {
		fmt.Fprintf(&many, ` a%d="%d"`, i, i)
	}
	many.WriteString(` a33="again"/>`)
	tests := []struct {
		name, doc, want string
	}{
		{"empty", ``, "Unexpected end of file."},
		{"only space", " \n", "Unexpected end of file."},
		{"only a comment", `<!-- x -->`, "Unexpected end of file."},
		{"DOCTYPE", `<!DOCTYPE a><a/>`, "DTDs are not supported"},
		{"DOCTYPE with entities", `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, "DTDs are not supported"},
		{"DOCTYPE external", `<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>`, "DTDs are not supported"},
		{"DOCTYPE inside", `<a><!DOCTYPE a></a>`, "DTDs are not supported"},
		{"PI at top", `<?pi data?><a/>`, "Processing instructions"},
		{"PI inside", `<a><?pi data?></a>`, "Processing instructions"},
		{"declaration not first", ` <?xml version="1.0"?><a/>`, "Processing instructions"},
		{"declaration without version", `<?xml encoding="utf-8"?><a/>`, "Malformed XML declaration."},
		{"unterminated declaration", `<?xml version="1.0"`, "parsing the XML declaration"},
		{"declaration naming another encoding", `<?xml version="1.0" encoding="iso-8859-1"?><a/>`, "'iso-8859-1' does not match the encoding of the document 'utf-8'"},
		{"undeclared element prefix", `<p:a/>`, "'p' is an undeclared prefix."},
		{"undeclared attribute prefix", `<a p:v="1"/>`, "'p' is an undeclared prefix."},
		{"empty prefixed namespace", `<a xmlns:p=""/>`, "Cannot use a prefix with an empty namespace."},
		{"mismatched tags", `<a><b></a></b>`, "The 'b' start tag does not match the end tag of 'a'."},
		{"mismatched prefixes", `<p:a xmlns:p="u" xmlns:q="u"></q:a>`, "does not match the end tag"},
		{"unclosed", `<a><b></b>`, "The following elements are not closed: a."},
		{"end tag junk", `<a></a x>`, "Unexpected end tag."},
		{"multiple roots", `<a/><b/>`, "There are multiple root elements."},
		{"text at root", `x<a/>`, "Data at the root level is invalid."},
		{"text after root", `<a/>x`, "Data at the root level is invalid."},
		{"CDATA at root", `<![CDATA[x]]><a/>`, "CData elements not valid at top level"},
		{"raw NUL", "<a>\x00</a>", "hexadecimal value 0x00, is an invalid character."},
		{"raw control character", "<a>x\x01</a>", "hexadecimal value 0x01, is an invalid character."},
		{"raw control character in attribute", "<a v=\"\x1f\"/>", "hexadecimal value 0x1F, is an invalid character."},
		{"raw U+FFFE", "<a>\uFFFE</a>", "Invalid character in the given encoding."},
		{"invalid UTF-8", "<a>\xff</a>", "Invalid character in the given encoding."},
		{"raw surrogate bytes", "<a>\xed\xa0\x80</a>", "Invalid character in the given encoding."},
		{"undeclared entity", `<a>&nbsp;</a>`, "Reference to undeclared entity 'nbsp'."},
		{"reference without semicolon", `<a>&amp</a>`, "An error occurred while parsing EntityName."},
		{"bad hex digit", `<a>&#xZZ;</a>`, "Invalid character reference."},
		{"hex digits in decimal", `<a>&#1F;</a>`, "Invalid character reference."},
		{"reference beyond Unicode", `<a>&#x110000;</a>`, "Invalid character reference."},
		{"reference in attribute", `<a v="&bogus;"/>`, "Reference to undeclared entity 'bogus'."},
		{"lt in attribute", `<a v="<"/>`, "'<', hexadecimal value 0x3C, is an invalid attribute character."},
		{"unquoted attribute", `<a v=1/>`, "There is no Unicode byte order mark"},
		{"attribute without value", `<a v/>`, "'=' is expected"},
		{"unterminated attribute", `<a v="1`, "Unexpected end of file while parsing attribute value."},
		{"duplicate attribute", `<a v="1" v="2"/>`, "'v' is a duplicate attribute name."},
		{"duplicate attribute among many", many.String(), "'a33' is a duplicate attribute name."},
		{"duplicate declaration", `<a xmlns:p="u" xmlns:p="v"/>`, "'p' is a duplicate attribute name."},
		{"CDATA end in text", `<a>]]></a>`, "']]>' is not allowed in character data."},
		{"unterminated comment", `<a><!-- x`, "parsing Comment"},
		{"unterminated top comment", `<!-- x`, "parsing Comment"},
		{"unterminated CDATA", `<a><![CDATA[x`, "parsing CDATA"},
		{"bad name", `<1a/>`, "Name cannot begin with the '1' character"},
		{"empty name", `<>`, "Name cannot begin with the"},
		{"lone lt at end", `<`, "Name cannot begin with the '<' character"},
		{"stray slash", `<a / >`, "Unexpected character '/'."},
		{"unterminated start tag", `<a v="1"`, "Unexpected end of file while parsing Name"},
		{"depth 257", deep(257), "The maximum read depth (256) has been exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := xmlns.Parse([]byte(tt.doc), xmlns.ParseOptions{})
			var se *xmlns.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, %v; want a SyntaxError saying %q", n, err, tt.want)
			}
			if n != nil {
				t.Errorf("a tree with the error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
	if _, err := xmlns.Parse([]byte(deep(256)), xmlns.ParseOptions{}); err != nil {
		t.Errorf("256 levels: %v", err)
	}
	if _, err := xmlns.Parse([]byte(deep(4)), xmlns.ParseOptions{MaxDepth: 3}); err == nil || !strings.Contains(err.Error(), "maximum read depth (3)") {
		t.Errorf("MaxDepth 3: %v", err)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	_, err := xmlns.Parse([]byte("<a>\n  <b></c>\n</a>"), xmlns.ParseOptions{})
	var se *xmlns.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("got %v", err)
	}
	if se.Line != 2 || se.Pos < 3 || se.Pos > 10 {
		t.Errorf("line %d position %d, want line 2 and a position within <b></c>", se.Line, se.Pos)
	}
	if want := fmt.Sprintf("%s Line 2, position %d.", se.Msg, se.Pos); err.Error() != want {
		t.Errorf("%q, want %q", err.Error(), want)
	}
}

// measureAlloc returns the bytes f allocates.
func measureAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestParseLinearCost parses documents made of one construct repeated: comments, CDATA sections,
// attributes and namespace declarations once cost time or copies in proportion to the rest of the input per
// construct. Each must now take time and memory in proportion to the document: four times the size may
// take at most about four times as long (a quadratic cost takes sixteen).
func TestParseLinearCost(t *testing.T) {
	repeat := func(open, unit, end string) func(int) string {
		return func(size int) string {
			return open + strings.Repeat(unit, (size-len(open)-len(end))/len(unit)) + end
		}
	}
	// attrs fills a start tag with first (numbered) up to half the size, then second.
	attrs := func(first, second string) func(int) string {
		return func(size int) string {
			var b strings.Builder
			b.WriteString("<a")
			for i := 0; b.Len() < size/2; i++ {
				fmt.Fprintf(&b, first, i)
			}
			for i := 0; b.Len() < size; i++ {
				fmt.Fprintf(&b, second, i)
			}
			b.WriteString("/>")
			return b.String()
		}
	}
	tests := []struct {
		name string
		doc  func(size int) string
	}{
		{"comments", repeat("<a>", "<!---->", "</a>")},
		{"comments at top level", repeat("<a/>", "<!-- -->", "")},
		{"CDATA sections", repeat("<a>", "<![CDATA[]]>", "</a>")},
		{"attributes", attrs(` a%d=""`, ` b%d=""`)},
		{"namespace declarations used by attributes", attrs(` xmlns:p%d="u"`, ` p0:b%d=""`)},
		{"elements", repeat("<a>", "<b/>", "</a>")},
		{"references", repeat("<a>", "&#x1F600;", "</a>")},
	}
	const small, large = 64 << 10, 256 << 10
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Allocated bytes, not time: deterministic under -race on a busy machine, and a rescan or a
			// growing copy per token shows in them as well.
			cost := func(size int) uint64 {
				data := []byte(tt.doc(size))
				var err error
				alloc := measureAlloc(func() { _, err = xmlns.Parse(data, xmlns.ParseOptions{}) })
				if err != nil {
					t.Fatal(err)
				}
				return alloc
			}
			a1, alloc := cost(small), cost(large)
			t.Logf("%d bytes: %d allocated, %d bytes: %d allocated", small, a1, large, alloc)
			if alloc > 6*a1+64<<10 {
				t.Errorf("4 times the input allocated %.1f times as much", float64(alloc)/float64(a1))
			}
			if alloc > 128*large {
				t.Errorf("allocated %d bytes for %d", alloc, large)
			}
		})
	}
}
