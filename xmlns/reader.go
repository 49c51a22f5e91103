package xmlns

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultMaxDepth is the element depth quota Web API gives its XML reader (XmlDictionaryReaderQuotas
// MaxDepth); deeper documents are refused before they cost anything.
const DefaultMaxDepth = 256

// SyntaxError is an XmlException: the text is not XML the legacy reader accepts.
type SyntaxError struct {
	Msg  string
	Line int
	Pos  int
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s Line %d, position %d.", e.Msg, e.Line, e.Pos)
}

// Message is the XmlException's Message: the text and, when the error has a position, " Line n,
// position m.".
func (e *SyntaxError) Message() string {
	if e.Line == 0 {
		return e.Msg
	}
	return e.Error()
}

// Node is an element of a parsed document.
type Node struct {
	Local, NS string
	Attrs     []Attr
	Children  []*Node
	// Text is the character data directly inside the element (text and CDATA, concatenated), with
	// references resolved and line breaks normalized to LF.
	Text string
	// HasContent is false for <a/> and <a></a> alike: nothing at all between the tags.
	HasContent bool
	// SelfClosing tells <a/> from <a></a>.
	SelfClosing bool
}

// Attr is an attribute with its namespace resolved. Namespace declarations are not listed.
type Attr struct {
	Local, NS, Value string
	// ValueNS is, for an i:type attribute, the namespace the prefix of its QName value is bound to.
	ValueNS string
}

// AttrValue returns the value of the attribute named {ns}local.
func (n *Node) AttrValue(ns, local string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Local == local && a.NS == ns {
			return a.Value, true
		}
	}
	return "", false
}

// ParseOptions are the reader quotas and settings.
type ParseOptions struct {
	MaxDepth int
	// Encoding is the document's real encoding ("utf-8" or "utf-16"): an XML declaration naming another is
	// an error, as in XmlDictionaryReader.
	Encoding string
	// AnyEncoding accepts any declared encoding (XDocument.Parse of a string).
	AnyEncoding bool
	// CheckCharacters refuses character references to characters XML does not allow (XmlReader's default,
	// as XDocument reads; XmlDictionaryReader does not check).
	CheckCharacters bool
}

// Parse reads a whole document with the rules of XmlDictionaryReader.CreateTextReader: no DTD and no
// processing instruction other than the XML declaration, the five predefined entities and character
// references only (any character, even a control character or a lone surrogate, as a reference; none raw),
// namespaces resolved for any prefix, a depth quota. It never expands anything and allocates in proportion
// to its input.
func Parse(data []byte, opt ParseOptions) (*Node, error) {
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = DefaultMaxDepth
	}
	if opt.Encoding == "" {
		opt.Encoding = "utf-8"
	}
	p := &parser{data: data, line: 1, opt: opt}
	root, err := p.document()
	if err != nil {
		var se *SyntaxError
		if !errors.As(err, &se) {
			err = p.fail("%s", err.Error())
		}
		return nil, err
	}
	return root, nil
}

// binding is a namespace declaration in scope; shadows is the index in parser.ns of the binding of the same
// prefix that it hides, -1 for none.
type binding struct {
	prefix, uri string
	shadows     int
}

type parser struct {
	data      []byte
	pos       int
	line      int
	lineStart int
	opt       ParseOptions
	ns        []binding
	scope     map[string]int // prefix -> index in ns of its innermost binding, so lookups stay O(1)
	depth     int
}

func (p *parser) fail(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Line: p.line, Pos: p.pos - p.lineStart + 1}
}

func (p *parser) has(s string) bool {
	return bytes.HasPrefix(p.data[p.pos:], []byte(s))
}

func (p *parser) document() (*Node, error) {
	if p.has("<?xml") && len(p.data) > 5 && isXMLSpace(p.data[5]) {
		if err := p.declaration(); err != nil {
			return nil, err
		}
	}
	var root *Node
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			if root == nil {
				return nil, p.fail("Unexpected end of file.")
			}
			return root, nil
		}
		switch {
		case p.has("<!--"):
			if err := p.comment(); err != nil {
				return nil, err
			}
		case p.has("<?"), p.has("<!DOCTYPE"), p.has("<!"):
			if p.has("<![CDATA[") {
				return nil, p.fail("CData elements not valid at top level of an XML document.")
			}
			return nil, p.fail("Processing instructions (other than the XML declaration) and DTDs are not supported.")
		case p.has("<"):
			if root != nil {
				return nil, p.fail("There are multiple root elements.")
			}
			n, err := p.element()
			if err != nil {
				return nil, err
			}
			root = n
		default:
			return nil, p.fail("Data at the root level is invalid.")
		}
	}
}

func (p *parser) declaration() error {
	end := bytes.Index(p.data[p.pos:], []byte("?>"))
	if end < 0 {
		return p.fail("Unexpected end of file while parsing the XML declaration.")
	}
	decl := string(p.data[p.pos+5 : p.pos+end])
	p.pos += end + 2
	// Pseudo-attributes in their fixed order: version (required), encoding, standalone.
	var names, values []string
	rest := decl
	for {
		rest = strings.TrimLeft(rest, " \t\r\n")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return p.fail("Malformed XML declaration.")
		}
		name := strings.TrimRight(rest[:eq], " \t\r\n")
		rest = strings.TrimLeft(rest[eq+1:], " \t\r\n")
		if rest == "" || rest[0] != '"' && rest[0] != '\'' {
			return p.fail("Malformed XML declaration.")
		}
		j := strings.IndexByte(rest[1:], rest[0])
		if j < 0 {
			return p.fail("Malformed XML declaration.")
		}
		names, values = append(names, name), append(values, rest[1:1+j])
		rest = rest[2+j:]
	}
	if len(names) == 0 || names[0] != "version" {
		return p.fail("Malformed XML declaration.") // the legacy reader: "Version not found in XML declaration."
	}
	if values[0] != "1.0" {
		return p.fail("XML version must be '1.0'.")
	}
	for i := 1; i < len(names); i++ {
		switch names[i] {
		case "encoding":
			enc := values[i]
			if !p.opt.AnyEncoding && !strings.EqualFold(enc, p.opt.Encoding) && !(strings.EqualFold(p.opt.Encoding, "utf-16") && strings.EqualFold(enc, "unicode")) {
				return p.fail("The encoding in the declaration '%s' does not match the encoding of the document '%s'.", enc, p.opt.Encoding)
			}
		case "standalone":
			if values[i] != "yes" && values[i] != "no" {
				return p.fail("'standalone' value in declaration must be 'yes' or 'no'.")
			}
		default:
			return p.fail("Malformed XML declaration.")
		}
	}
	return nil
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (p *parser) skipSpace() {
	for p.pos < len(p.data) && isXMLSpace(p.data[p.pos]) {
		if p.data[p.pos] == '\n' {
			p.line++
			p.lineStart = p.pos + 1
		}
		p.pos++
	}
}

func (p *parser) comment() error {
	end := bytes.Index(p.data[p.pos+4:], []byte("-->"))
	if end < 0 {
		return p.fail("Unexpected end of file while parsing Comment has occurred.")
	}
	p.pos += 4 + end + 3
	return nil
}

func (p *parser) name() (prefix, local string, err error) {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if isXMLSpace(c) || c == '>' || c == '/' || c == '=' || c == '<' || c == '"' || c == '\'' {
			break
		}
		p.pos++
	}
	full := string(p.data[start:p.pos])
	prefix, local, found := strings.Cut(full, ":")
	if !found {
		prefix, local = "", full
	}
	if !IsNCName(local) || found && !IsNCName(prefix) {
		return "", "", p.fail("Name cannot begin with the '%s' character.", firstChar(full))
	}
	return prefix, local, nil
}

func firstChar(s string) string {
	if s == "" {
		return "<"
	}
	r, _ := utf8.DecodeRuneInString(s)
	return string(r)
}

func (p *parser) lookup(prefix string) (string, bool) {
	switch prefix {
	case "xml":
		return "http://www.w3.org/XML/1998/namespace", true
	case "xmlns":
		return "http://www.w3.org/2000/xmlns/", true
	}
	if i, ok := p.scope[prefix]; ok {
		return p.ns[i].uri, true
	}
	return "", prefix == ""
}

func (p *parser) bind(prefix, uri string) {
	if p.scope == nil {
		p.scope = make(map[string]int, 4)
	}
	prev, ok := p.scope[prefix]
	if !ok {
		prev = -1
	}
	p.ns = append(p.ns, binding{prefix, uri, prev})
	p.scope[prefix] = len(p.ns) - 1
}

// unbind ends the scope of the bindings from ns[mark] on.
func (p *parser) unbind(mark int) {
	for i := len(p.ns) - 1; i >= mark; i-- {
		if b := p.ns[i]; b.shadows < 0 {
			delete(p.scope, b.prefix)
		} else {
			p.scope[b.prefix] = b.shadows
		}
	}
	p.ns = p.ns[:mark]
}

type rawAttr struct{ prefix, local, value string }

type attrName struct{ prefix, local string }

// isDuplicate reports whether prefix:local is already among raws and records it. A start tag may carry
// thousands of attributes: past a few, a map keeps the check linear.
func isDuplicate(raws []rawAttr, seen *map[attrName]bool, prefix, local string) bool {
	const linear = 16
	if len(raws) < linear {
		for _, r := range raws {
			if r.prefix == prefix && r.local == local {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[attrName]bool, 2*linear)
		for _, r := range raws {
			(*seen)[attrName{r.prefix, r.local}] = true
		}
	}
	k := attrName{prefix, local}
	if (*seen)[k] {
		return true
	}
	(*seen)[k] = true
	return false
}

func (p *parser) element() (*Node, error) {
	p.depth++
	if p.depth > p.opt.MaxDepth {
		return nil, p.fail("The maximum read depth (%d) has been exceeded because XML data being read has more levels of nesting than is allowed by the quota.", p.opt.MaxDepth)
	}
	p.pos++ // '<'
	prefix, local, err := p.name()
	if err != nil {
		return nil, err
	}
	mark := len(p.ns)
	var raws []rawAttr
	var seen map[attrName]bool // the names in raws, once there are too many to compare one by one
	selfClosing := false
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("Unexpected end of file while parsing Name has occurred.")
		}
		c := p.data[p.pos]
		if c == '>' {
			p.pos++
			break
		}
		if c == '/' {
			if !p.has("/>") {
				return nil, p.fail("Unexpected character '/'.")
			}
			p.pos += 2
			selfClosing = true
			break
		}
		ap, al, err := p.name()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '=' {
			return nil, p.fail("'=' is expected after the attribute name.")
		}
		p.pos++
		p.skipSpace()
		v, err := p.attrValue()
		if err != nil {
			return nil, err
		}
		if isDuplicate(raws, &seen, ap, al) {
			return nil, p.fail("'%s' is a duplicate attribute name.", al)
		}
		raws = append(raws, rawAttr{ap, al, v})
		switch {
		case ap == "" && al == "xmlns":
			p.bind("", v)
		case ap == "xmlns":
			if v == "" {
				return nil, p.fail("Cannot use a prefix with an empty namespace.")
			}
			p.bind(al, v)
		}
	}
	n := &Node{Local: local}
	uri, ok := p.lookup(prefix)
	if !ok {
		return nil, p.fail("'%s' is an undeclared prefix.", prefix)
	}
	n.NS = uri
	for _, r := range raws {
		if r.prefix == "xmlns" || r.prefix == "" && r.local == "xmlns" {
			continue
		}
		ns := ""
		if r.prefix != "" {
			if ns, ok = p.lookup(r.prefix); !ok {
				return nil, p.fail("'%s' is an undeclared prefix.", r.prefix)
			}
		}
		a := Attr{Local: r.local, NS: ns, Value: r.value}
		if ns == Instance && r.local == "type" {
			prefix, _, found := strings.Cut(r.value, ":")
			if !found {
				prefix = ""
			}
			a.ValueNS, _ = p.lookup(prefix)
		}
		n.Attrs = append(n.Attrs, a)
	}
	n.SelfClosing = selfClosing
	if !selfClosing {
		if err := p.content(n, prefix, local); err != nil {
			return nil, err
		}
	}
	p.unbind(mark)
	p.depth--
	return n, nil
}

func (p *parser) attrValue() (string, error) {
	if p.pos >= len(p.data) || p.data[p.pos] != '"' && p.data[p.pos] != '\'' {
		return "", p.fail("There is no Unicode byte order mark. Cannot switch to Unicode.")
	}
	q := p.data[p.pos]
	p.pos++
	var buf []byte
	for {
		if p.pos >= len(p.data) {
			return "", p.fail("Unexpected end of file while parsing attribute value.")
		}
		c := p.data[p.pos]
		switch {
		case c == q:
			p.pos++
			return string(buf), nil
		case c == '<':
			return "", p.fail("'<', hexadecimal value 0x3C, is an invalid attribute character.")
		case c == '&':
			var err error
			if buf, err = p.reference(buf); err != nil {
				return "", err
			}
		case c == '\r' || c == '\n' || c == '\t':
			if c == '\r' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '\n' {
				p.pos++
			}
			p.pos++
			buf = append(buf, ' ')
		default:
			var err error
			if buf, err = p.rawChar(buf); err != nil {
				return "", err
			}
		}
	}
}

// rawChar copies one literal character, refusing what XML 1.0 does not allow raw.
func (p *parser) rawChar(buf []byte) ([]byte, error) {
	c := p.data[p.pos]
	if c < utf8.RuneSelf {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return buf, p.fail("'%c', hexadecimal value 0x%02X, is an invalid character.", c, c)
		}
		p.pos++
		return append(buf, c), nil
	}
	r, size := utf8.DecodeRune(p.data[p.pos:])
	if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
		return buf, p.fail("Invalid character in the given encoding.")
	}
	buf = append(buf, p.data[p.pos:p.pos+size]...)
	p.pos += size
	return buf, nil
}

var predefined = map[string]byte{"lt": '<', "gt": '>', "amp": '&', "quot": '"', "apos": '\''}

// reference resolves &name; or &#N; / &#xN;. A character reference may name any code unit, as .NET's
// reader allows with its checks off; surrogates are kept in WTF-8 and paired when adjacent.
func (p *parser) reference(buf []byte) ([]byte, error) {
	limit := 16
	if p.pos+1 < len(p.data) && p.data[p.pos+1] == '#' {
		// A character reference may carry any number of leading zeros.
		i := p.pos + 2
		for i < len(p.data) && (p.data[i] == 'x' || isHexDigit(p.data[i])) {
			i++
		}
		limit = max(limit, i-p.pos+1)
	}
	end := bytes.IndexByte(p.data[p.pos:min(len(p.data), p.pos+limit)], ';')
	if end < 0 {
		return buf, p.fail("An error occurred while parsing EntityName.")
	}
	ref := string(p.data[p.pos+1 : p.pos+end])
	p.pos += end + 1
	if !strings.HasPrefix(ref, "#") {
		c, ok := predefined[ref]
		if !ok {
			return buf, p.fail("Reference to undeclared entity '%s'.", ref)
		}
		return append(buf, c), nil
	}
	digits, base := ref[1:], 10
	if strings.HasPrefix(digits, "x") {
		digits, base = digits[1:], 16
	}
	// The legacy reader takes "&#;", "&#x;" and "&#0;" for U+0000 (its checks are off).
	var r rune
	for _, c := range digits {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case base == 16 && c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return buf, p.fail("Invalid character reference.")
		}
		r = r*rune(base) + d
		if r > utf8.MaxRune {
			return buf, p.fail("Invalid character reference.")
		}
	}
	if p.opt.CheckCharacters && !(r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000) {
		return buf, p.fail("'%c', hexadecimal value 0x%02X, is an invalid character.", r, r)
	}
	if r >= 0xDC00 && r <= 0xDFFF && len(buf) >= 3 {
		// A low surrogate right after a high one: one character, as in a .NET string.
		if hi, ok := surrogateAt(buf, len(buf)-3); ok && hi < 0xDC00 {
			buf = buf[:len(buf)-3]
			return utf8.AppendRune(buf, 0x10000+(hi-0xD800)<<10+(r-0xDC00)), nil
		}
	}
	if r >= 0xD800 && r <= 0xDFFF {
		return append(buf, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F)), nil
	}
	return utf8.AppendRune(buf, r), nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func surrogateAt(b []byte, i int) (rune, bool) {
	if i >= 0 && i+2 < len(b) && b[i] == 0xED && b[i+1] >= 0xA0 && b[i+1] <= 0xBF && b[i+2] >= 0x80 && b[i+2] <= 0xBF {
		return 0xD000 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F), true
	}
	return 0, false
}

func (p *parser) content(n *Node, prefix, local string) error {
	var text []byte
	for {
		if p.pos >= len(p.data) {
			return p.fail("Unexpected end of file has occurred. The following elements are not closed: %s.", local)
		}
		c := p.data[p.pos]
		switch {
		case c == '<':
			switch {
			case p.has("</"):
				p.pos += 2
				ep, el, err := p.name()
				if err != nil {
					return err
				}
				if ep != prefix || el != local {
					return p.fail("The '%s' start tag does not match the end tag of '%s'.", qname(prefix, local), qname(ep, el))
				}
				p.skipSpace()
				if p.pos >= len(p.data) || p.data[p.pos] != '>' {
					return p.fail("Unexpected end tag.")
				}
				p.pos++
				n.Text = string(text)
				return nil
			case p.has("<!--"):
				n.HasContent = true
				if err := p.comment(); err != nil {
					return err
				}
			case p.has("<![CDATA["):
				n.HasContent = true
				end := bytes.Index(p.data[p.pos+9:], []byte("]]>"))
				if end < 0 {
					return p.fail("Unexpected end of file while parsing CDATA has occurred.")
				}
				text = appendNormalized(text, p.data[p.pos+9:p.pos+9+end])
				p.pos += 9 + end + 3
			case p.has("<?"), p.has("<!"):
				return p.fail("Processing instructions (other than the XML declaration) and DTDs are not supported.")
			default:
				n.HasContent = true
				child, err := p.element()
				if err != nil {
					return err
				}
				n.Children = append(n.Children, child)
			}
		case c == '&':
			n.HasContent = true
			var err error
			if text, err = p.reference(text); err != nil {
				return err
			}
		case c == '\r':
			n.HasContent = true
			p.pos++
			if p.pos < len(p.data) && p.data[p.pos] == '\n' {
				p.pos++
			}
			p.line++
			p.lineStart = p.pos
			text = append(text, '\n')
		case c == '\n':
			n.HasContent = true
			p.pos++
			p.line++
			p.lineStart = p.pos
			text = append(text, '\n')
		case c == ']' && p.has("]]>"):
			return p.fail("']]>' is not allowed in character data.")
		default:
			n.HasContent = true
			var err error
			if text, err = p.rawChar(text); err != nil {
				return err
			}
		}
	}
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// appendNormalized copies CDATA content with line breaks normalized to LF.
func appendNormalized(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' {
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			dst = append(dst, '\n')
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}
