package xmlns

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ParseDocument reads text (already decoded) as XDocument.Load(TextReader) does with LoadOptions.None, the
// reader ONLYOFFICE's ASC.Api uses for text/xml bodies: an XmlTextReader with white-space-only text
// ignored (kept inside xml:space="preserve"), processing instructions and comments skipped, namespaces
// resolved, the five predefined entities and character references. Errors are XmlExceptions with
// XmlTextReader's messages and positions (line, and column in UTF-16 units). Unlike the legacy reader it
// refuses a DTD with an internal subset: its entities could expand without bound (a DOCTYPE without one
// is skipped, as an external DTD is never fetched there either). The elements nest as deep as the text
// allows: the caller bounds the text's size.
func ParseDocument(text []byte) (*Node, error) {
	d := &xdoc{data: text, line: 1}
	return d.document()
}

type xdoc struct {
	data      []byte
	pos       int
	line      int
	lineStart int
	ns        []binding
	payloads  []*xpayload // of the open elements that have one, innermost last
}

// failAt is an XmlException at byte offset at (on the current line).
func (d *xdoc) failAt(at int, format string, args ...any) error {
	col := 1
	for i := d.lineStart; i < at && i < len(d.data); {
		r, n := utf8.DecodeRune(d.data[i:])
		if r > 0xFFFF {
			col += 2
		} else {
			col++
		}
		i += n
	}
	if at > len(d.data) {
		col += at - len(d.data)
	}
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Line: d.line, Pos: col}
}

// eof is an error at the end of the text.
func (d *xdoc) eof(format string, args ...any) error { return d.failAt(len(d.data), format, args...) }

func (d *xdoc) has(s string) bool {
	return strings.HasPrefix(string(d.data[d.pos:min(len(d.data), d.pos+len(s))]), s)
}

// newline advances over a line break at pos (CR LF, CR or LF) and reports whether there was one.
func (d *xdoc) newline() bool {
	switch d.data[d.pos] {
	case '\r':
		d.pos++
		if d.pos < len(d.data) && d.data[d.pos] == '\n' {
			d.pos++
		}
	case '\n':
		d.pos++
	default:
		return false
	}
	d.line++
	d.lineStart = d.pos
	return true
}

func (d *xdoc) skipSpace() {
	for d.pos < len(d.data) {
		if c := d.data[d.pos]; c == ' ' || c == '\t' {
			d.pos++
		} else if !d.newline() {
			return
		}
	}
}

// charsLeft counts the characters left, up to limit.
func (d *xdoc) charsLeft(limit int) int {
	n := 0
	for i := d.pos; i < len(d.data) && n < limit; n++ {
		_, size := utf8.DecodeRune(d.data[i:])
		i += size
	}
	return n
}

func (d *xdoc) document() (*Node, error) {
	if d.has("<?xml") && len(d.data) > 5 && isXMLSpace(d.data[5]) {
		if err := d.xmlDecl(); err != nil {
			return nil, err
		}
	}
	var root *Node
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			if root == nil {
				return nil, &SyntaxError{Msg: "Root element is missing."}
			}
			return root, nil
		}
		if d.data[d.pos] != '<' {
			return nil, d.failAt(d.pos, "Data at the root level is invalid.")
		}
		if d.charsLeft(4) < 4 {
			// XmlTextReader wants four characters after a '<' at the top level before it looks at them.
			return nil, d.failAt(d.pos, "Data at the root level is invalid.")
		}
		switch {
		case d.has("<?"):
			if err := d.instruction(); err != nil {
				return nil, err
			}
		case d.has("<!--"):
			if err := d.comment(); err != nil {
				return nil, err
			}
		case d.has("<!DOCTYPE"):
			if root != nil {
				return nil, d.failAt(d.pos+2, "Unexpected DTD declaration.")
			}
			if err := d.doctype(); err != nil {
				return nil, err
			}
		case d.has("<![CDATA["):
			return nil, d.failAt(d.pos+1, "CData elements not valid at top level of an XML document.")
		case d.has("</"):
			return nil, d.failAt(d.pos+2, "Unexpected end tag.")
		case d.has("<!"):
			return nil, d.failAt(d.pos, "Data at the root level is invalid.")
		default:
			if root != nil {
				return nil, d.failAt(d.pos+1, "There are multiple root elements.")
			}
			n, err := d.elements()
			if err != nil {
				return nil, err
			}
			root = n
		}
	}
}

// xmlDecl reads <?xml version="1.0" [encoding="..."] [standalone="yes|no"]?> at the start of the text.
func (d *xdoc) xmlDecl() error {
	d.pos += 5
	first := true
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.eof("Unexpected end of file while parsing XmlDeclaration has occurred.")
		}
		if d.has("?>") {
			if first {
				return d.failAt(d.pos, "Syntax for an XML declaration is invalid.")
			}
			d.pos += 2
			return nil
		}
		nameAt := d.pos
		for d.pos < len(d.data) && isNameByte(d.data[d.pos]) {
			d.pos++
		}
		name := string(d.data[nameAt:d.pos])
		if first && name != "version" || !first && name != "encoding" && name != "standalone" {
			return d.failAt(nameAt, "Syntax for an XML declaration is invalid.")
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '=' {
			return d.failAt(nameAt, "Syntax for an XML declaration is invalid.")
		}
		d.pos++
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' && d.data[d.pos] != '\'' {
			return d.failAt(nameAt, "Syntax for an XML declaration is invalid.")
		}
		q := d.data[d.pos]
		valueAt := d.pos + 1
		end := strings.IndexByte(string(d.data[valueAt:]), q)
		if end < 0 {
			return d.eof("There is an unclosed literal string.")
		}
		value := string(d.data[valueAt : valueAt+end])
		d.pos = valueAt + end + 1
		switch {
		case name == "version" && value != "1.0":
			return d.failAt(valueAt, "Version number '%s' is invalid.", value)
		case name == "standalone" && value != "yes" && value != "no":
			return d.failAt(valueAt, "Syntax for an XML declaration is invalid.")
		}
		first = false
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':' || c >= 0x80
}

// instruction skips <?target data?>; an XML declaration is refused here.
func (d *xdoc) instruction() error {
	nameAt := d.pos + 2
	d.pos = nameAt
	_, target, err := d.qname()
	if err != nil {
		return err
	}
	if strings.EqualFold(target, "xml") {
		return d.failAt(nameAt, "Unexpected XML declaration. The XML declaration must be the first node in the document, and no white space characters are allowed to appear before it.")
	}
	for {
		if d.pos >= len(d.data) {
			return d.eof("Unexpected end of file while parsing PI has occurred.")
		}
		if d.has("?>") {
			d.pos += 2
			return nil
		}
		if !d.newline() {
			d.pos++
		}
	}
}

// comment skips <!-- ... -->; "--" may not appear inside.
func (d *xdoc) comment() error {
	d.pos += 4
	for {
		if d.pos >= len(d.data) {
			return d.eof("Unexpected end of file while parsing Comment has occurred.")
		}
		if d.has("--") {
			if d.has("-->") {
				d.pos += 3
				return nil
			}
			return d.failAt(d.pos, "An XML comment cannot contain '--', and '-' cannot be the last character.")
		}
		if !d.newline() {
			d.pos++
		}
	}
}

// doctype skips a DOCTYPE without an internal subset and refuses one with it.
func (d *xdoc) doctype() error {
	for i := d.pos; i < len(d.data); i++ {
		switch d.data[i] {
		case '[':
			return d.failAt(d.pos+2, "For security reasons DTD is prohibited in this XML document. To enable DTD processing set the DtdProcessing property on XmlReaderSettings to Parse.")
		case '>':
			for d.pos <= i {
				if !d.newline() {
					d.pos++
				}
			}
			return nil
		}
	}
	return d.eof("Unexpected end of file while parsing DOCTYPE has occurred.")
}

// qname reads a name at pos: prefix and local part.
func (d *xdoc) qname() (prefix, local string, err error) {
	start, colon, end, err := d.qnameSpan()
	if err != nil {
		return "", "", err
	}
	if colon < 0 {
		return "", string(d.data[start:end]), nil
	}
	return string(d.data[start:colon]), string(d.data[colon+1 : end]), nil
}

// charText is how an XmlException shows a character: NUL as '.'.
func charText(r rune) string {
	if r == 0 {
		return "."
	}
	return string(r)
}

type xattrRaw struct {
	prefix, local, value string
	nameAt, quoteAt      int
	line, lineStart      int
}

// xframe is an element whose start tag has been read and whose end tag has not. It is kept small: its
// name is a span of the text, and what only some elements have (attributes, text, children, a namespace)
// sits in a payload made when first needed, so a text of a hundred thousand unclosed tags costs one
// slice of a few megabytes, not a hundred thousand allocations.
type xframe struct {
	start, end      int32 // the name: data[start:end]
	p               int32 // 1 + the index of its payload in xdoc.payloads; 0 for none
	preserve, segWS bool  // (with the int32s: 16 bytes a frame)
}

type xpayload struct {
	ns       string
	nsMark   int // len(xdoc.ns) before the element's own declarations, when it has any
	declares bool
	attrs    []Attr
	text     []byte
	segStart int
	children []*Node
}

// payload is the frame's payload, made on first use.
func (d *xdoc) payload(f *xframe) *xpayload {
	if f.p == 0 {
		d.payloads = append(d.payloads, &xpayload{})
		f.p = int32(len(d.payloads))
	}
	return d.payloads[f.p-1]
}

// pop ends a frame: its namespace declarations go out of scope and its payload slot is freed.
func (d *xdoc) pop(f *xframe) *xpayload {
	if f.p == 0 {
		return nil
	}
	p := d.payloads[f.p-1]
	if p.declares {
		d.ns = d.ns[:p.nsMark]
	}
	if int(f.p) == len(d.payloads) {
		d.payloads[f.p-1] = nil
		d.payloads = d.payloads[:f.p-1]
	}
	return p
}

func (f *xframe) prefix(data []byte) []byte {
	name := data[f.start:f.end]
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		return name[:i]
	}
	return nil
}

func (f *xframe) local(data []byte) []byte {
	name := data[f.start:f.end]
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// node makes the element's node once it is closed, and pops it.
func (d *xdoc) node(f *xframe, selfClosing bool) *Node {
	n := &Node{Local: string(f.local(d.data)), SelfClosing: selfClosing, HasContent: !selfClosing}
	if p := d.pop(f); p != nil {
		n.NS, n.Attrs, n.Children, n.Text = p.ns, p.attrs, p.children, string(p.text)
	}
	return n
}

// qnameSpan reads a name at pos and returns its span and its colon's offset (-1 for none).
func (d *xdoc) qnameSpan() (start, colon, end int, err error) {
	start, colon = d.pos, -1
	if d.pos >= len(d.data) {
		return 0, 0, 0, d.eof("Unexpected end of file while parsing Name has occurred.")
	}
	r, size := utf8.DecodeRune(d.data[d.pos:])
	if !isNameChar(r, true) {
		return 0, 0, 0, d.failAt(d.pos, "Name cannot begin with the '%s' character, hexadecimal value 0x%02X.", charText(r), r)
	}
	d.pos += size
	for {
		if d.pos >= len(d.data) {
			return 0, 0, 0, d.eof("Unexpected end of file while parsing Name has occurred.")
		}
		r, size := utf8.DecodeRune(d.data[d.pos:])
		if r == ':' && colon < 0 {
			colon = d.pos
			d.pos += size
			continue
		}
		if !isNameChar(r, false) {
			break
		}
		d.pos += size
	}
	if colon >= 0 && colon == d.pos-1 {
		return 0, 0, 0, d.failAt(colon, "The ':' character, hexadecimal value 0x3A, cannot be included in a name.")
	}
	return start, colon, d.pos, nil
}

// elements reads the root element at '<' and everything in it, without recursion.
func (d *xdoc) elements() (*Node, error) {
	// No element nests deeper than the tags the text has: sized once, the frames are never copied.
	frames := make([]xframe, 0, bytes.Count(d.data[d.pos:], []byte("<")))
	var root *Node
	// attach gives a closed element to its parent, or makes it the root.
	attach := func(n *Node) {
		if len(frames) == 0 {
			root = n
			return
		}
		p := d.payload(&frames[len(frames)-1])
		p.children = append(p.children, n)
	}
	open := func(preserve bool) error {
		f, selfClosing, err := d.startTag(frames, preserve)
		if err != nil {
			return err
		}
		if selfClosing {
			attach(d.node(&f, true))
			return nil
		}
		f.segWS = true
		frames = append(frames, f)
		return nil
	}
	if err := open(false); err != nil {
		return nil, err
	}
	for len(frames) > 0 {
		closed, err := d.content(&frames)
		if err != nil {
			return nil, err
		}
		if closed != nil {
			attach(closed)
			continue
		}
		if err := open(frames[len(frames)-1].preserve); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// startTag reads a start tag at '<': the name, the attributes, the namespace declarations. frames are the
// elements open around it.
func (d *xdoc) startTag(frames []xframe, preserve bool) (f xframe, selfClosing bool, err error) {
	f = xframe{preserve: preserve}
	nsMark := len(d.ns)
	nameLine, nameLineStart := d.line, d.lineStart
	d.pos++
	start, _, end, err := d.qnameSpan()
	if err != nil {
		return f, false, err
	}
	f.start, f.end = int32(start), int32(end)
	var raws []xattrRaw
	for {
		spaced := d.pos < len(d.data) && isXMLSpace(d.data[d.pos])
		d.skipSpace()
		if d.pos >= len(d.data) {
			return f, false, d.notClosed(frames)
		}
		c := d.data[d.pos]
		if c == '>' {
			d.pos++
			break
		}
		if c == '/' {
			if d.pos+1 >= len(d.data) {
				return f, false, d.notClosed(frames)
			}
			if d.data[d.pos+1] != '>' {
				return f, false, d.failAt(d.pos, "'/' is an unexpected token. The expected token is '>'.")
			}
			d.pos += 2
			selfClosing = true
			break
		}
		if !spaced {
			r, _ := utf8.DecodeRune(d.data[d.pos:])
			return f, false, d.failAt(d.pos, "'%s' is an unexpected token. Expecting white space.", charText(r))
		}
		a := xattrRaw{nameAt: d.pos, line: d.line, lineStart: d.lineStart}
		if a.prefix, a.local, err = d.qname(); err != nil {
			return f, false, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return f, false, d.eof("Unexpected end of file has occurred.")
		}
		if d.data[d.pos] != '=' {
			r, _ := utf8.DecodeRune(d.data[d.pos:])
			return f, false, d.failAt(d.pos, "'%s' is an unexpected token. The expected token is '='.", charText(r))
		}
		d.pos++
		d.skipSpace()
		if d.pos >= len(d.data) {
			return f, false, d.eof("Unexpected end of file has occurred.")
		}
		q := d.data[d.pos]
		if q != '"' && q != '\'' {
			r, _ := utf8.DecodeRune(d.data[d.pos:])
			return f, false, d.failAt(d.pos, `'%s' is an unexpected token. The expected token is '"' or '''.`, charText(r))
		}
		a.quoteAt = d.pos
		d.pos++
		if a.value, err = d.attrValue(q); err != nil {
			return f, false, err
		}
		for _, b := range raws {
			if b.prefix == a.prefix && b.local == a.local {
				return f, false, d.failAtLine(a.line, a.lineStart, a.nameAt, "'%s' is a duplicate attribute name.", qname(a.prefix, a.local))
			}
		}
		raws = append(raws, a)
	}
	// Namespace declarations first, then the names that use them.
	for _, a := range raws {
		switch {
		case a.prefix == "" && a.local == "xmlns":
			d.ns = append(d.ns, binding{prefix: "", uri: a.value})
		case a.prefix == "xmlns":
			switch {
			case a.local == "xml" && a.value != xmlNamespace:
				return f, false, d.failAtLine(a.line, a.lineStart, a.nameAt, `Prefix "xml" is reserved for use by XML and can be mapped only to namespace name "http://www.w3.org/XML/1998/namespace".`)
			case a.local == "xmlns":
				return f, false, d.failAtLine(a.line, a.lineStart, a.nameAt, `Prefix "xmlns" is reserved for use by XML.`)
			case a.value == "":
				return f, false, d.failAtLine(a.line, a.lineStart, a.quoteAt, "Invalid namespace declaration.")
			}
			d.ns = append(d.ns, binding{prefix: a.local, uri: a.value})
		case a.prefix == "xml" && a.local == "space":
			f.preserve = a.value == "preserve"
		}
	}
	if len(d.ns) > nsMark {
		p := d.payload(&f)
		p.nsMark, p.declares = nsMark, true
	}
	uri, ok := d.lookup(f.prefix(d.data))
	if !ok {
		return f, false, d.failAtLine(nameLine, nameLineStart, start, "'%s' is an undeclared prefix.", f.prefix(d.data))
	}
	if uri != "" {
		d.payload(&f).ns = uri
	}
	for _, a := range raws {
		if a.prefix == "xmlns" || a.prefix == "" && a.local == "xmlns" {
			continue
		}
		ns := ""
		if a.prefix != "" {
			if ns, ok = d.lookup([]byte(a.prefix)); !ok {
				return f, false, d.failAtLine(a.line, a.lineStart, a.nameAt, "'%s' is an undeclared prefix.", a.prefix)
			}
		}
		p := d.payload(&f)
		p.attrs = append(p.attrs, Attr{Local: a.local, NS: ns, Value: a.value})
	}
	return f, selfClosing, nil
}

// lineCol finds the line and column of byte offset at, scanning from the start (for an error message).
func (d *xdoc) lineCol(at int) (line, col int) {
	line, lineStart := 1, 0
	for i := 0; i < at; i++ {
		switch d.data[i] {
		case '\r':
			if i+1 < at && d.data[i+1] == '\n' {
				i++
			}
			line, lineStart = line+1, i+1
		case '\n':
			line, lineStart = line+1, i+1
		}
	}
	return line, d.column(lineStart, at)
}

// column is the 1-based column (in UTF-16 units) of byte offset at on the line that starts at lineStart.
func (d *xdoc) column(lineStart, at int) int {
	col := 1
	for i := lineStart; i < at; {
		r, n := utf8.DecodeRune(d.data[i:])
		if r > 0xFFFF {
			col += 2
		} else {
			col++
		}
		i += n
	}
	return col
}

func (d *xdoc) failAtLine(line, lineStart, at int, format string, args ...any) error {
	saveLine, saveStart := d.line, d.lineStart
	d.line, d.lineStart = line, lineStart
	err := d.failAt(at, format, args...)
	d.line, d.lineStart = saveLine, saveStart
	return err
}

func (d *xdoc) lookup(prefix []byte) (string, bool) {
	for i := len(d.ns) - 1; i >= 0; i-- {
		if d.ns[i].prefix == string(prefix) {
			return d.ns[i].uri, true
		}
	}
	switch string(prefix) {
	case "":
		return "", true
	case "xml":
		return xmlNamespace, true
	case "xmlns":
		return "http://www.w3.org/2000/xmlns/", true
	}
	return "", false
}

const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// notClosed is the error at the end of the text inside open elements (innermost first). The message is
// built in one buffer: a deep hostile document lists thousands of names.
func (d *xdoc) notClosed(frames []xframe) error {
	const prefix = "Unexpected end of file has occurred. The following elements are not closed: "
	size := len(prefix) + 1
	for _, f := range frames {
		size += int(f.end-f.start) + 2
	}
	var msg strings.Builder
	msg.Grow(size)
	msg.WriteString(prefix)
	for i := len(frames) - 1; i >= 0; i-- {
		if i < len(frames)-1 {
			msg.WriteString(", ")
		}
		msg.Write(d.data[frames[i].start:frames[i].end])
	}
	if len(frames) > 0 {
		msg.WriteString(".")
	}
	return &SyntaxError{Msg: msg.String(), Line: d.line, Pos: d.column(d.lineStart, len(d.data))}
}

// attrValue reads an attribute value after its opening quote q.
func (d *xdoc) attrValue(q byte) (string, error) {
	var buf []byte
	for {
		if d.pos >= len(d.data) {
			return "", d.eof("There is an unclosed literal string.")
		}
		c := d.data[d.pos]
		switch {
		case c == q:
			d.pos++
			return string(buf), nil
		case c == '<':
			return "", d.failAt(d.pos, "'<', hexadecimal value 0x3C, is an invalid attribute character.")
		case c == '&':
			var err error
			if buf, err = d.reference(buf); err != nil {
				return "", err
			}
		case c == '\r' || c == '\n' || c == '\t':
			d.newline()
			if c == '\t' {
				d.pos++
			}
			buf = append(buf, ' ')
		default:
			var err error
			if buf, err = d.char(buf); err != nil {
				return "", err
			}
		}
	}
}

// char copies one character of text, refusing what XML does not allow.
func (d *xdoc) char(buf []byte) ([]byte, error) {
	r, size := utf8.DecodeRune(d.data[d.pos:])
	if !isXMLChar(r) {
		return nil, d.failAt(d.pos, "'%s', hexadecimal value 0x%02X, is an invalid character.", charText(r), r)
	}
	buf = append(buf, d.data[d.pos:d.pos+size]...)
	d.pos += size
	return buf, nil
}

func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// reference reads &name; or a character reference at '&'.
func (d *xdoc) reference(buf []byte) ([]byte, error) {
	amp := d.pos
	if d.pos+1 < len(d.data) && d.data[d.pos+1] == '#' {
		hex := d.pos+2 < len(d.data) && d.data[d.pos+2] == 'x'
		digitsAt := d.pos + 2
		if hex {
			digitsAt++
		}
		var v rune
		i := digitsAt
		for ; i < len(d.data) && d.data[i] != ';'; i++ {
			c := d.data[i]
			switch {
			case c >= '0' && c <= '9':
				v = v*radix(hex) + rune(c-'0')
			case hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
				v = v*16 + hexValue(c)
			default:
				if hex {
					return nil, d.failAt(i, "Invalid syntax for hexadecimal numeric entity reference.")
				}
				return nil, d.failAt(i, "Invalid syntax for a decimal numeric entity reference.")
			}
			if v > 0x10FFFF {
				v = 0x110000
			}
		}
		if i >= len(d.data) {
			return nil, d.eof("Unexpected end of file has occurred.")
		}
		if i == digitsAt {
			if hex {
				return nil, d.failAt(i, "Invalid syntax for hexadecimal numeric entity reference.")
			}
			return nil, d.failAt(i, "Invalid syntax for a decimal numeric entity reference.")
		}
		if !isXMLChar(v) {
			return nil, d.failAt(digitsAt, "'%s', hexadecimal value 0x%02X, is an invalid character.", charText(v), v)
		}
		d.pos = i + 1
		return utf8.AppendRune(buf, v), nil
	}
	nameAt := amp + 1
	i := nameAt
	for i < len(d.data) {
		r, size := utf8.DecodeRune(d.data[i:])
		if !isNameChar(r, i == nameAt) {
			break
		}
		i += size
	}
	if i == nameAt {
		if i >= len(d.data) {
			return nil, d.eof("Unexpected end of file has occurred.")
		}
		return nil, d.failAt(nameAt, "An error occurred while parsing EntityName.")
	}
	if i >= len(d.data) {
		return nil, d.eof("Unexpected end of file has occurred.")
	}
	if d.data[i] != ';' {
		r, _ := utf8.DecodeRune(d.data[i:])
		return nil, d.failAt(i, "'%s' is an unexpected token. The expected token is ';'.", charText(r))
	}
	name := string(d.data[nameAt:i])
	var s string
	switch name {
	case "amp":
		s = "&"
	case "lt":
		s = "<"
	case "gt":
		s = ">"
	case "quot":
		s = `"`
	case "apos":
		s = "'"
	default:
		return nil, d.failAt(nameAt, "Reference to undeclared entity '%s'.", name)
	}
	d.pos = i + 1
	return append(buf, s...), nil
}

func radix(hex bool) rune {
	if hex {
		return 16
	}
	return 10
}

func hexValue(c byte) rune {
	switch {
	case c >= 'a':
		return rune(c-'a') + 10
	case c >= 'A':
		return rune(c-'A') + 10
	}
	return rune(c - '0')
}

// content reads the innermost open element's content: it returns that element's node when its end tag
// comes (and pops it), or nil with pos on the '<' of a child's start tag. White-space-only text runs are
// dropped unless preserved.
func (d *xdoc) content(frames *[]xframe) (*Node, error) {
	f := &(*frames)[len(*frames)-1]
	flush := func() {
		if f.p == 0 {
			f.segWS = true
			return
		}
		p := d.payload(f)
		if f.segWS && !f.preserve {
			p.text = p.text[:p.segStart]
		}
		p.segStart, f.segWS = len(p.text), true
	}
	for {
		if d.pos >= len(d.data) {
			return nil, d.notClosed(*frames)
		}
		c := d.data[d.pos]
		switch {
		case c == '<':
			flush()
			if d.pos+1 >= len(d.data) {
				return nil, d.notClosed(*frames)
			}
			switch {
			case d.has("</"):
				nameAt := d.pos + 2
				d.pos = nameAt
				// XmlTextReader compares the expected name: a text that ends within it is cut in a name,
				// one that ends right after it leaves the element open.
				want := d.data[f.start:f.end]
				if rest := d.data[nameAt:]; len(rest) < len(want) && string(want[:len(rest)]) == string(rest) {
					return nil, d.eof("Unexpected end of file while parsing Name has occurred.")
				}
				start, _, end, err := d.qnameSpan()
				if err != nil {
					if len(d.data)-nameAt >= len(want) && string(d.data[nameAt:nameAt+len(want)]) == string(want) {
						return nil, d.notClosed(*frames)
					}
					return nil, err
				}
				if string(d.data[start:end]) != string(want) {
					line, col := d.lineCol(int(f.start))
					return nil, d.failAt(nameAt, "The '%s' start tag on line %d position %d does not match the end tag of '%s'.",
						want, line, col, d.data[start:end])
				}
				d.skipSpace()
				if d.pos >= len(d.data) {
					return nil, d.notClosed(*frames)
				}
				if d.data[d.pos] != '>' {
					r, _ := utf8.DecodeRune(d.data[d.pos:])
					return nil, d.failAt(d.pos, "'%s' is an unexpected token. The expected token is '>'.", charText(r))
				}
				d.pos++
				n := d.node(f, false)
				*frames = (*frames)[:len(*frames)-1]
				return n, nil
			case d.has("<!--"):
				if err := d.comment(); err != nil {
					return nil, err
				}
			case d.has("<![CDATA["):
				d.pos += 9
				for {
					if d.pos >= len(d.data) {
						return nil, d.eof("Unexpected end of file while parsing CDATA has occurred.")
					}
					if d.has("]]>") {
						d.pos += 3
						break
					}
					p := d.payload(f)
					if d.newline() {
						p.text = append(p.text, '\n')
						continue
					}
					var err error
					if p.text, err = d.char(p.text); err != nil {
						return nil, err
					}
				}
				p := d.payload(f)
				p.segStart = len(p.text)
			case d.has("<?"):
				if err := d.instruction(); err != nil {
					return nil, err
				}
			case d.has("<!"):
				return nil, d.failAt(d.pos+1, "Unexpected DTD declaration.")
			default:
				return nil, nil // a child element
			}
		case c == '&':
			p := d.payload(f)
			at := len(p.text)
			var err error
			if p.text, err = d.reference(p.text); err != nil {
				return nil, err
			}
			// A character reference to white space keeps the run ignorable; any other reference does not.
			if len(p.text) != at+1 || !isXMLSpace(p.text[at]) {
				f.segWS = false
			}
		case c == '\r' || c == '\n':
			d.newline()
			p := d.payload(f)
			p.text = append(p.text, '\n')
		case c == ']' && d.has("]]>"):
			return nil, d.failAt(d.pos, "']]>' is not allowed in character data.")
		default:
			if !isXMLSpace(c) {
				f.segWS = false
			}
			p := d.payload(f)
			var err error
			if p.text, err = d.char(p.text); err != nil {
				return nil, err
			}
		}
	}
}
