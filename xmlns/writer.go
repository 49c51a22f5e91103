// Package xmlns writes and reads XML the way the legacy .NET stacks do: DataContractSerializer over an
// XmlWriter configured like ASP.NET Web API's XmlMediaTypeFormatter, and System.Xml.Linq's XDocument.ToString
// (used by ONLYOFFICE's ASC.Api). It knows nothing of HTTP, of the legacy apps or of their DTOs: callers
// drive it element by element.
//
// encoding/xml cannot do this job: it cannot write i:nil or choose prefixes, it escapes quotes, never
// self-closes and, when reading, rejects character references such as &#x1; that DataContractSerializer
// itself writes for control characters. So the writer is a byte buffer with a namespace scope stack, and the
// reader (reader.go) is a small tokenizer with the legacy reader's rules and hard limits.
package xmlns

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Well-known namespaces of DataContract XML.
const (
	// Instance is the XML Schema instance namespace, bound to the prefix "i" on every root element.
	Instance = "http://www.w3.org/2001/XMLSchema-instance"
	// Schema is the XML Schema namespace, used for i:type on ISerializable entries.
	Schema = "http://www.w3.org/2001/XMLSchema"
	// Arrays is the namespace of primitive collection items (<d2p1:string>).
	Arrays = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
	// DataContractPrefix starts the default namespace of a CLR namespace without [DataContract].
	DataContractPrefix = "http://schemas.datacontract.org/2004/07/"
)

// Flavor selects the text rules of the XmlWriter being reproduced.
type Flavor uint8

const (
	// DataContract is Web API's XmlMediaTypeFormatter on a Windows host: CheckCharacters off (control
	// characters become &#x1;), every line break written as CR LF.
	DataContract Flavor = iota
	// XLinq is XDocument.ToString(SaveOptions.DisableFormatting) under Mono on Linux: characters that XML
	// cannot hold are an error, every line break written as LF.
	XLinq
)

// MaxDepth bounds how deep a Writer can nest. The legacy contracts are at most six levels deep.
const MaxDepth = 32

// ErrTooDeep is returned when elements nest deeper than MaxDepth.
var ErrTooDeep = errors.New("xmlns: elements nested deeper than the writer supports")

// InvalidCharError reports a character that the XLinq flavor cannot write, as .NET's XmlWriter with
// CheckCharacters on refuses it.
type InvalidCharError struct{ Char rune }

func (e *InvalidCharError) Error() string {
	return fmt.Sprintf("'%c', hexadecimal value 0x%02X, is an invalid character", e.Char, e.Char)
}

// frame is an open element. Its qualified name is kept as a position in the buffer, where the start tag
// wrote it, rather than as strings: the end tag copies it from there, and a frame of ints is smaller (a
// Writer is zeroed on every document) and costs no GC write barriers when stored.
type frame struct {
	nameAt, nameLen int
	defaultNS       string
}

// Writer appends XML to a byte slice. The zero value is not usable; call Reset. A Writer is small enough to
// live on the stack, so encoding allocates only the output buffer.
//
// Namespace declarations follow XmlWriter: attributes appear in the order they are written, and the default
// namespace declaration that StartElement implies comes after them, when the start tag is closed. That is why
// DataContractSerializer writes <Token i:nil="true" xmlns="..." /> but <List xmlns:d2p1="..." i:nil="true" />.
type Writer struct {
	buf       []byte
	flavor    Flavor
	depth     int
	stack     [MaxDepth]frame
	open      bool   // the last start tag is not closed yet
	pendingNS string // default namespace to declare when the open start tag closes
	pending   bool
	err       error
	// plainNS is the last namespace declared that needed no escaping. Sibling elements of a base class
	// declare their namespace one after another, so this spares most of the scans of long URIs.
	plainNS string
}

// Reset starts a new document that is appended to buf.
func (w *Writer) Reset(buf []byte, flavor Flavor) {
	w.buf = buf
	w.flavor = flavor
	w.depth = 0
	w.open = false
	w.pending = false
	w.err = nil
}

// Bytes returns the document written so far and the first error met.
func (w *Writer) Bytes() ([]byte, error) { return w.buf, w.err }

// Err returns the first error met.
func (w *Writer) Err() error { return w.err }

// StartElement opens <prefix:local>. When prefix is empty and ns differs from the default namespace in
// scope, the element declares xmlns="ns" after its attributes. A prefixed element never changes the default
// namespace; its prefix must have been declared by the caller.
func (w *Writer) StartElement(prefix, local, ns string) {
	if w.err != nil {
		return
	}
	if w.depth == MaxDepth {
		w.err = ErrTooDeep
		return
	}
	w.closeStart()
	inScope := ""
	if w.depth > 0 {
		inScope = w.stack[w.depth-1].defaultNS
	}
	w.pending = false
	if prefix == "" && (ns != inScope || w.depth == 0 && ns != "") {
		inScope = ns
		w.pendingNS = ns
		w.pending = true
	}
	w.buf = append(w.buf, '<')
	at := len(w.buf)
	w.appendName(prefix, local)
	w.stack[w.depth] = frame{nameAt: at, nameLen: len(w.buf) - at, defaultNS: inScope}
	w.depth++
	w.open = true
}

// DeclareEmptyDefault makes the open element declare xmlns="" (after its attributes), as
// DataContractSerializer does for the entries of an ISerializable object.
func (w *Writer) DeclareEmptyDefault() {
	if w.err != nil || !w.open {
		return
	}
	w.stack[w.depth-1].defaultNS = ""
	w.pendingNS = ""
	w.pending = true
}

// Attr writes an attribute on the open start tag. Namespace declarations are attributes too
// (Attr("xmlns", "d2p1", uri)).
func (w *Writer) Attr(prefix, local, value string) {
	if w.err != nil {
		return
	}
	if !w.open {
		w.err = errors.New("xmlns: attribute written outside a start tag")
		return
	}
	w.buf = append(w.buf, ' ')
	w.appendName(prefix, local)
	w.buf = append(w.buf, '=', '"')
	w.escape(value, true)
	w.buf = append(w.buf, '"')
}

// Text writes character data. Even an empty string closes the start tag, so the element is written as
// <a></a>, as XmlWriter does after WriteString("").
func (w *Writer) Text(s string) {
	if w.err != nil {
		return
	}
	w.closeStart()
	w.escape(s, false)
}

// Raw appends bytes that are already valid XML text (numbers, enum names, "true").
func (w *Writer) Raw(s string) {
	if w.err != nil {
		return
	}
	w.closeStart()
	w.buf = append(w.buf, s...)
}

// RawBytes is Raw for a byte slice.
func (w *Writer) RawBytes(b []byte) {
	if w.err != nil {
		return
	}
	w.closeStart()
	w.buf = append(w.buf, b...)
}

// Fail records an error found by the caller; nothing more is written.
func (w *Writer) Fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// EndElement closes the innermost element: " />" when nothing was written inside it, else an end tag.
func (w *Writer) EndElement() {
	if w.err != nil {
		return
	}
	if w.depth == 0 {
		w.err = errors.New("xmlns: end element without a start")
		return
	}
	w.depth--
	f := w.stack[w.depth]
	if w.open {
		w.flushNS()
		w.buf = append(w.buf, ' ', '/', '>')
		w.open = false
		return
	}
	w.buf = append(w.buf, '<', '/')
	w.buf = append(w.buf, w.buf[f.nameAt:f.nameAt+f.nameLen]...)
	w.buf = append(w.buf, '>')
}

func (w *Writer) closeStart() {
	if !w.open {
		return
	}
	w.flushNS()
	w.buf = append(w.buf, '>')
	w.open = false
}

func (w *Writer) flushNS() {
	if !w.pending {
		return
	}
	w.buf = append(w.buf, ` xmlns="`...)
	if w.pendingNS == w.plainNS {
		w.buf = append(w.buf, w.pendingNS...)
	} else if w.escape(w.pendingNS, true) {
		w.plainNS = w.pendingNS
	}
	w.buf = append(w.buf, '"')
	w.pending = false
}

func (w *Writer) appendName(prefix, local string) {
	if prefix != "" {
		w.buf = append(w.buf, prefix...)
		w.buf = append(w.buf, ':')
	}
	w.buf = append(w.buf, local...)
}

const hexDigits = "0123456789ABCDEF"

// plain classifies bytes for escape: plainText marks the ASCII bytes a text node copies as they are,
// plainAttr those an attribute value copies (the same less '"'). Bytes of multi-byte UTF-8 sequences are
// not plain; escape decodes them. A table lookup per byte is what keeps escape off the top of the encode
// profiles: most of the text written is namespace URIs and ASCII values with nothing to escape.
const (
	plainText = 1 << iota
	plainAttr
)

var plain = func() (t [256]uint8) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		switch c {
		case '<', '>', '&':
		case '"':
			t[c] = plainText
		default:
			t[c] = plainText | plainAttr
		}
	}
	return t
}()

// escape appends s with the flavor's text rules. Strings may carry lone UTF-16 surrogates in WTF-8 form
// (see DecodeWTF8); like the legacy writers' UTF-8 encoder they come out as U+FFFD, and so does any byte
// that is not UTF-8. Runs of characters written as they are, non-ASCII ones included, are copied in one
// append. It reports whether s was copied unchanged.
func (w *Writer) escape(s string, attr bool) (verbatim bool) {
	mask := uint8(plainText)
	if attr {
		mask = plainAttr
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c]&mask != 0 {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			w.buf = append(w.buf, s[start:i]...)
			i++
			switch c {
			case '<':
				w.buf = append(w.buf, "&lt;"...)
			case '>':
				w.buf = append(w.buf, "&gt;"...)
			case '&':
				w.buf = append(w.buf, "&amp;"...)
			case '"':
				w.buf = append(w.buf, "&quot;"...)
			case '\t':
				w.buf = append(w.buf, '\t')
			case '\r', '\n':
				if c == '\r' && i < len(s) && s[i] == '\n' {
					i++
				}
				if w.flavor == XLinq {
					w.buf = append(w.buf, '\n')
				} else {
					w.buf = append(w.buf, '\r', '\n')
				}
			default:
				w.invalid(rune(c))
			}
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// A lone surrogate (WTF-8: ED A0..BF xx) or a stray byte.
			w.buf = append(w.buf, s[start:i]...)
			if IsSurrogateAt(s, i) {
				if w.flavor == XLinq {
					w.invalid(rune(0xD800 | (rune(s[i+1])&0x3F)<<6 | rune(s[i+2])&0x3F))
				}
				size = 3
			}
			w.buf = append(w.buf, "\uFFFD"...)
			start = i + size
		case r == 0xFFFE || r == 0xFFFF:
			w.buf = append(w.buf, s[start:i]...)
			w.invalid(r)
			start = i + size
		}
		i += size
	}
	w.buf = append(w.buf, s[start:]...)
	return start == 0 // start moves only past a character that was not copied as it is
}

// invalid handles a character XML cannot carry: a character reference for DataContract, an error for XLinq.
func (w *Writer) invalid(r rune) {
	if w.flavor == XLinq {
		if w.err == nil {
			w.err = &InvalidCharError{Char: r}
		}
		return
	}
	w.buf = append(w.buf, '&', '#', 'x')
	started := false
	for shift := 12; shift >= 0; shift -= 4 {
		d := (r >> uint(shift)) & 0xF
		if d == 0 && !started && shift > 0 {
			continue
		}
		started = true
		w.buf = append(w.buf, hexDigits[d])
	}
	w.buf = append(w.buf, ';')
}

// IsSurrogateAt reports whether s holds a WTF-8 encoded UTF-16 surrogate (U+D800..U+DFFF) at byte i.
func IsSurrogateAt(s string, i int) bool {
	return i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF
}

// InvalidNameError reports a name that is not an XML NCName, which XLinq refuses as an element name.
type InvalidNameError struct{ Name string }

func (e *InvalidNameError) Error() string {
	return fmt.Sprintf("The '%c' character, hexadecimal value 0x%X, cannot be included in a name.", firstBadNameChar(e.Name), firstBadNameChar(e.Name))
}

func firstBadNameChar(s string) rune {
	for i, r := range s {
		if !isNameChar(r, i == 0) {
			return r
		}
	}
	return 0
}

// IsNCName reports whether s is a non-colonized XML name (letters, digits, '.', '-', '_' and combining
// characters; not starting with a digit, '.' or '-').
func IsNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !isNameChar(r, i == 0) {
			return false
		}
	}
	return true
}

func isNameChar(r rune, first bool) bool {
	switch {
	case r == '_' || unicode.IsLetter(r):
		return true
	case first:
		return false
	case r == '-' || r == '.' || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Nl) || r == 0xB7:
		return true
	}
	return false
}
