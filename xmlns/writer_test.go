package xmlns_test

import (
	"errors"
	"strings"
	"testing"

	"aspgate/xmlns"
)

// write runs build on a fresh Writer of the flavor and returns the document and the first error.
func write(flavor xmlns.Flavor, build func(w *xmlns.Writer)) (string, error) {
	var w xmlns.Writer
	w.Reset(nil, flavor)
	build(&w)
	b, err := w.Bytes()
	return string(b), err
}

// textIn writes s as the text of <a>.
func textIn(s string) func(w *xmlns.Writer) {
	return func(w *xmlns.Writer) {
		w.StartElement("", "a", "")
		w.Text(s)
		w.EndElement()
	}
}

// attrOn writes s as the value of attribute v on <a />.
func attrOn(s string) func(w *xmlns.Writer) {
	return func(w *xmlns.Writer) {
		w.StartElement("", "a", "")
		w.Attr("", "v", s)
		w.EndElement()
	}
}

func TestWriterEscaping(t *testing.T) {
	tests := []struct {
		name    string
		build   func(w *xmlns.Writer)
		dc, xl  string // DataContract and XLinq output
		xlError rune   // the character XLinq refuses, instead of xl
	}{
		{name: "markup", build: textIn(`<&>`), dc: `<a>&lt;&amp;&gt;</a>`, xl: `<a>&lt;&amp;&gt;</a>`},
		{name: "quotes in text", build: textIn(`"q" 'a'`), dc: `<a>"q" 'a'</a>`, xl: `<a>"q" 'a'</a>`},
		{name: "CDATA end", build: textIn(`]]>`), dc: `<a>]]&gt;</a>`, xl: `<a>]]&gt;</a>`},
		{name: "tab", build: textIn("a\tb"), dc: "<a>a\tb</a>", xl: "<a>a\tb</a>"},
		{name: "LF", build: textIn("a\nb"), dc: "<a>a\r\nb</a>", xl: "<a>a\nb</a>"},
		{name: "CR", build: textIn("a\rb"), dc: "<a>a\r\nb</a>", xl: "<a>a\nb</a>"},
		{name: "CRLF", build: textIn("a\r\nb"), dc: "<a>a\r\nb</a>", xl: "<a>a\nb</a>"},
		{name: "LF CR", build: textIn("a\n\rb"), dc: "<a>a\r\n\r\nb</a>", xl: "<a>a\n\nb</a>"},
		{name: "CR CR LF", build: textIn("\r\r\n"), dc: "<a>\r\n\r\n</a>", xl: "<a>\n\n</a>"},
		{name: "NUL", build: textIn("a\x00b"), dc: `<a>a&#x0;b</a>`, xlError: 0},
		{name: "U+0001", build: textIn("\x01"), dc: `<a>&#x1;</a>`, xlError: 1},
		{name: "U+001F", build: textIn("x\x1f"), dc: `<a>x&#x1F;</a>`, xlError: 0x1F},
		{name: "vertical tab and form feed", build: textIn("\v\f"), dc: `<a>&#xB;&#xC;</a>`, xlError: 0xB},
		{name: "DEL", build: textIn("\x7f"), dc: "<a>\x7f</a>", xl: "<a>\x7f</a>"},
		{name: "U+FFFE", build: textIn("a\uFFFEb"), dc: `<a>a&#xFFFE;b</a>`, xlError: 0xFFFE},
		{name: "U+FFFF", build: textIn("\uFFFF"), dc: `<a>&#xFFFF;</a>`, xlError: 0xFFFF},
		{name: "U+FFFD", build: textIn("\uFFFD"), dc: "<a>\uFFFD</a>", xl: "<a>\uFFFD</a>"},
		{name: "non-ASCII", build: textIn("Привет 中 😀 \u0085\u2028\u2029"), dc: "<a>Привет 中 😀 \u0085\u2028\u2029</a>", xl: "<a>Привет 中 😀 \u0085\u2028\u2029</a>"},
		{name: "lone surrogate", build: textIn("a\xed\xa0\x80b"), dc: "<a>a\uFFFDb</a>", xlError: 0xD800},
		{name: "lone low surrogate", build: textIn("\xed\xbf\xbf"), dc: "<a>\uFFFD</a>", xlError: 0xDFFF},
		{name: "stray byte", build: textIn("a\xffb"), dc: "<a>a\uFFFDb</a>", xl: "<a>a\uFFFDb</a>"},
		{name: "empty text", build: textIn(""), dc: `<a></a>`, xl: `<a></a>`},
		{name: "attribute markup and quotes", build: attrOn(`<&>"'`), dc: `<a v="&lt;&amp;&gt;&quot;'" />`, xl: `<a v="&lt;&amp;&gt;&quot;'" />`},
		{name: "attribute tab", build: attrOn("a\tb"), dc: "<a v=\"a\tb\" />", xl: "<a v=\"a\tb\" />"},
		{name: "attribute control character", build: attrOn("\x02"), dc: `<a v="&#x2;" />`, xlError: 2},
		{name: "attribute U+FFFE", build: attrOn("\uFFFE"), dc: `<a v="&#xFFFE;" />`, xlError: 0xFFFE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := write(xmlns.DataContract, tt.build)
			if err != nil || got != tt.dc {
				t.Errorf("DataContract: %q, %v; want %q", got, err, tt.dc)
			}
			got, err = write(xmlns.XLinq, tt.build)
			if tt.xl != "" {
				if err != nil || got != tt.xl {
					t.Errorf("XLinq: %q, %v; want %q", got, err, tt.xl)
				}
				return
			}
			var ice *xmlns.InvalidCharError
			if !errors.As(err, &ice) || ice.Char != tt.xlError {
				t.Errorf("XLinq: %q, %v; want an InvalidCharError for %U", got, err, tt.xlError)
			}
		})
	}
}

func TestInvalidCharErrorMessage(t *testing.T) {
	_, err := write(xmlns.XLinq, textIn("a\x01b"))
	if err == nil || err.Error() != "'\x01', hexadecimal value 0x01, is an invalid character" {
		t.Errorf("got %v", err)
	}
}

const (
	nsA = "http://schemas.datacontract.org/2004/07/A"
	nsB = "http://schemas.datacontract.org/2004/07/B"
)

func TestWriterStructure(t *testing.T) {
	tests := []struct {
		name  string
		build func(w *xmlns.Writer)
		want  string
	}{
		{"self-closing", func(w *xmlns.Writer) {
			w.StartElement("", "a", "")
			w.EndElement()
		}, `<a />`},
		{"empty text gives an end tag", func(w *xmlns.Writer) {
			w.StartElement("", "a", "")
			w.Text("")
			w.EndElement()
		}, `<a></a>`},
		{"root with the instance prefix", func(w *xmlns.Writer) {
			w.StartElement("", "Root", nsA)
			w.Attr("xmlns", "i", xmlns.Instance)
			w.StartElement("", "Child", nsA)
			w.Raw("1")
			w.EndElement()
			w.EndElement()
		}, `<Root xmlns:i="` + xmlns.Instance + `" xmlns="` + nsA + `"><Child>1</Child></Root>`},
		{"i:nil with the default namespace after it", func(w *xmlns.Writer) {
			w.StartElement("", "Root", nsA)
			w.Attr("xmlns", "i", xmlns.Instance)
			w.StartElement("", "Token", nsB)
			w.Attr("i", "nil", "true")
			w.EndElement()
			w.StartElement("", "Email", nsA)
			w.Attr("i", "nil", "true")
			w.EndElement()
			w.EndElement()
		}, `<Root xmlns:i="` + xmlns.Instance + `" xmlns="` + nsA + `"><Token i:nil="true" xmlns="` + nsB + `" /><Email i:nil="true" /></Root>`},
		{"prefix declaration before i:nil", func(w *xmlns.Writer) {
			w.StartElement("", "List", "")
			w.Attr("xmlns", "d2p1", xmlns.Arrays)
			w.Attr("i", "nil", "true")
			w.EndElement()
		}, `<List xmlns:d2p1="` + xmlns.Arrays + `" i:nil="true" />`},
		{"prefixed items", func(w *xmlns.Writer) {
			w.StartElement("", "List", nsA)
			w.Attr("xmlns", "d2p1", xmlns.Arrays)
			w.StartElement("d2p1", "string", xmlns.Arrays)
			w.Text("x")
			w.EndElement()
			w.StartElement("d2p1", "string", xmlns.Arrays)
			w.Attr("i", "nil", "true")
			w.EndElement()
			w.StartElement("", "After", nsA)
			w.EndElement()
			w.EndElement()
		}, `<List xmlns:d2p1="` + xmlns.Arrays + `" xmlns="` + nsA + `"><d2p1:string>x</d2p1:string><d2p1:string i:nil="true" /><After /></List>`},
		{"namespace switches and back", func(w *xmlns.Writer) {
			w.StartElement("", "R", nsA)
			w.StartElement("", "X", nsB)
			w.StartElement("", "Y", nsB)
			w.EndElement()
			w.EndElement()
			w.StartElement("", "Z", nsA)
			w.EndElement()
			w.EndElement()
		}, `<R xmlns="` + nsA + `"><X xmlns="` + nsB + `"><Y /></X><Z /></R>`},
		{"empty default namespace", func(w *xmlns.Writer) {
			w.StartElement("", "Error", nsA)
			w.StartElement("", "Message", nsA)
			w.Attr("i", "type", "d5p1:string")
			w.DeclareEmptyDefault()
			w.Text("boom")
			w.EndElement()
			w.StartElement("", "Data", nsA)
			w.Attr("i", "nil", "true")
			w.DeclareEmptyDefault()
			w.EndElement()
			w.EndElement()
		}, `<Error xmlns="` + nsA + `"><Message i:type="d5p1:string" xmlns="">boom</Message><Data i:nil="true" xmlns="" /></Error>`},
		{"root without a namespace", func(w *xmlns.Writer) {
			w.StartElement("", "result", "")
			w.StartElement("", "status", "")
			w.Raw("0")
			w.EndElement()
			w.EndElement()
		}, `<result><status>0</status></result>`},
		{"raw bytes", func(w *xmlns.Writer) {
			w.StartElement("", "a", "")
			w.RawBytes([]byte("12"))
			w.Raw("&amp;")
			w.EndElement()
		}, `<a>12&amp;</a>`},
		{"escaped namespace URI", func(w *xmlns.Writer) {
			w.StartElement("", "a", `urn:x?a=1&b="2"`)
			w.EndElement()
		}, `<a xmlns="urn:x?a=1&amp;b=&quot;2&quot;" />`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := write(xmlns.DataContract, tt.build)
			if err != nil || got != tt.want {
				t.Errorf("\n got %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}

func TestWriterAppendsAndResets(t *testing.T) {
	var w xmlns.Writer
	w.Reset([]byte("prefix:"), xmlns.DataContract)
	w.StartElement("", "a", "")
	w.EndElement()
	if b, err := w.Bytes(); err != nil || string(b) != "prefix:<a />" {
		t.Errorf("got %q, %v", b, err)
	}
	w.Reset(nil, xmlns.XLinq)
	w.StartElement("", "b", "")
	w.Text("\n")
	w.EndElement()
	if b, err := w.Bytes(); err != nil || string(b) != "<b>\n</b>" {
		t.Errorf("after Reset: %q, %v", b, err)
	}
}

func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(w *xmlns.Writer)
		want  error // nil: any error
	}{
		{"too deep", func(w *xmlns.Writer) {
			for i := 0; i <= xmlns.MaxDepth; i++ {
				w.StartElement("", "a", "")
			}
		}, xmlns.ErrTooDeep},
		{"attribute outside a start tag", func(w *xmlns.Writer) {
			w.StartElement("", "a", "")
			w.Text("x")
			w.Attr("", "v", "1")
		}, nil},
		{"end without start", func(w *xmlns.Writer) { w.EndElement() }, nil},
		{"caller's failure", func(w *xmlns.Writer) {
			w.StartElement("", "a", "")
			w.Fail(errors.New("first"))
			w.Fail(errors.New("second"))
			w.Text("ignored")
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w xmlns.Writer
			w.Reset(nil, xmlns.DataContract)
			tt.build(&w)
			_, err := w.Bytes()
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if w.Err() != err {
				t.Errorf("Err() %v, Bytes() error %v", w.Err(), err)
			}
		})
	}
	// Nothing is written after the first error, and the first error is kept.
	var w xmlns.Writer
	w.Reset(nil, xmlns.DataContract)
	w.StartElement("", "a", "")
	w.Fail(errors.New("first"))
	w.Text("ignored")
	w.EndElement()
	if b, err := w.Bytes(); string(b) != "<a" || err == nil || err.Error() != "first" {
		t.Errorf("after Fail: %q, %v", b, err)
	}
	// Exactly MaxDepth levels are fine.
	got, err := write(xmlns.DataContract, func(w *xmlns.Writer) {
		for i := 0; i < xmlns.MaxDepth; i++ {
			w.StartElement("", "a", "")
		}
		for i := 0; i < xmlns.MaxDepth; i++ {
			w.EndElement()
		}
	})
	if want := strings.Repeat("<a>", xmlns.MaxDepth-1) + "<a />" + strings.Repeat("</a>", xmlns.MaxDepth-1); err != nil || got != want {
		t.Errorf("MaxDepth levels: %v\n%s", err, got)
	}
}

func TestIsNCName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"_a", true}, {"Привет", true}, {"a1.b-c_d", true}, {"a·b", true},
		{"", false}, {"1a", false}, {"-a", false}, {".a", false}, {"a:b", false}, {"a b", false}, {"a>", false},
	}
	for _, tt := range tests {
		if got := xmlns.IsNCName(tt.name); got != tt.ok {
			t.Errorf("IsNCName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
