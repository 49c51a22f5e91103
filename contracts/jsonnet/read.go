package jsonnet

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token is the kind of the current token of a Reader.
type Token uint8

// The tokens of JsonTextReader that requests can produce.
const (
	None Token = iota
	StartObject
	EndObject
	StartArray
	EndArray
	PropertyName
	String
	Integer
	Float
	Boolean
	Null
	Undefined
)

var tokenNames = [...]string{"None", "StartObject", "EndObject", "StartArray", "EndArray", "PropertyName",
	"String", "Integer", "Float", "Boolean", "Null", "Undefined"}

func (t Token) String() string { return tokenNames[t] }

// DefaultMaxDepth is Web API's FormattingUtilities.DefaultMaxDepth, which its JSON formatter sets on the reader.
const DefaultMaxDepth = 256

// SyntaxError is a JsonReaderException: the text is not JSON that Json.NET reads. After one, the Reader
// cannot go on.
type SyntaxError struct {
	Msg  string
	Path string
	Line int
	Pos  int
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s Path '%s', line %d, position %d.", e.Msg, e.Path, e.Line, e.Pos)
}

type scope struct {
	array bool
	index int    // array: index of the current item, -1 before the first
	name  string // object: the current property name
}

// Reader is a pull tokenizer with JsonTextReader's leniency: strings in double or single quotes,
// unquoted property names, /* */ and // comments, undefined, NaN and Infinity. Text must be valid UTF-8
// (the legacy StreamReader rejects anything else before parsing).
type Reader struct {
	data  []byte
	pos   int
	Token Token
	// Value is the text of a String or PropertyName (unescaped) or of a number (as written).
	Value    string
	Bool     bool
	MaxDepth int

	stack      []scope
	afterValue bool // a value or property name was just read in the current container
	line       int
	lineStart  int
	scratch    []byte
	err        error // the first syntax error: every later Read returns it
	done       bool  // Token None was returned at the end of the root value or of the text
}

// NewReader returns a Reader over data with the default depth limit.
func NewReader(data []byte) *Reader {
	return &Reader{data: data, MaxDepth: DefaultMaxDepth, line: 1}
}

// Depth is the nesting depth of the current token, as JsonReader.Depth counts it.
func (r *Reader) Depth() int {
	d := len(r.stack)
	if r.Token == StartObject || r.Token == StartArray {
		d--
	}
	return d
}

// Path is JsonReader.Path: the location of the current token ("errors[0].level").
func (r *Reader) Path() string {
	var b strings.Builder
	n := len(r.stack)
	if r.Token == StartObject || r.Token == StartArray {
		n-- // the container just opened is not part of its own path
	}
	for i := 0; i < n; i++ {
		s := r.stack[i]
		if s.array {
			if s.index >= 0 {
				b.WriteString("[" + strconv.Itoa(s.index) + "]")
			}
			continue
		}
		if s.name == "" && i == n-1 && r.Token != PropertyName && !r.afterValue {
			continue
		}
		if needsBracket(s.name) {
			b.WriteString("['" + s.name + "']")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
	}
	return b.String()
}

func needsBracket(name string) bool {
	return strings.ContainsAny(name, ".[]() '\"\t\n\r")
}

func (r *Reader) fail(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Path: r.Path(), Line: r.line, Pos: r.pos - r.lineStart}
}

// Read moves to the next token. At the end of the root value or of the text it returns with Token None,
// and keeps doing so; after a syntax error it keeps returning that error, so no caller can loop on one spot.
func (r *Reader) Read() error {
	if r.err != nil {
		return r.err
	}
	if r.done {
		r.Token, r.Value = None, ""
		return nil
	}
	if err := r.read(); err != nil {
		r.err = err
		return err
	}
	r.done = r.Token == None
	return nil
}

func (r *Reader) read() error {
	if err := r.skipSpace(); err != nil {
		return err
	}
	if len(r.stack) > 0 && r.Token == PropertyName {
		return r.readValue()
	}
	if len(r.stack) == 0 {
		if r.Token != None {
			// Json.NET stops after the root value; trailing text is not read.
			r.Token = None
			return nil
		}
		if r.pos >= len(r.data) {
			r.Token = None
			return nil
		}
		return r.readValue()
	}
	top := &r.stack[len(r.stack)-1]
	if r.pos >= len(r.data) {
		return r.fail("Unexpected end when reading JSON.")
	}
	c := r.data[r.pos]
	if top.array {
		if c == ']' {
			r.pos++
			r.pop(EndArray)
			return nil
		}
		if r.afterValue {
			if c != ',' {
				return r.fail("After parsing a value an unexpected character was encountered: %c.", c)
			}
			r.pos++
			if err := r.skipSpace(); err != nil {
				return err
			}
			if r.pos < len(r.data) && r.data[r.pos] == ']' {
				r.pos++
				r.pop(EndArray)
				return nil
			}
		}
		top.index++
		return r.readValue()
	}
	if c == '}' {
		r.pos++
		r.pop(EndObject)
		return nil
	}
	if r.afterValue {
		if c != ',' {
			return r.fail("After parsing a value an unexpected character was encountered: %c.", c)
		}
		r.pos++
		if err := r.skipSpace(); err != nil {
			return err
		}
		if r.pos < len(r.data) && r.data[r.pos] == '}' {
			r.pos++
			r.pop(EndObject)
			return nil
		}
	}
	return r.readPropertyName()
}

func (r *Reader) pop(t Token) {
	r.stack = r.stack[:len(r.stack)-1]
	r.Token = t
	r.Value = ""
	r.afterValue = true
}

func (r *Reader) push(array bool) error {
	if len(r.stack) >= r.MaxDepth {
		return r.fail("The reader's MaxDepth of %d has been exceeded.", r.MaxDepth)
	}
	r.stack = append(r.stack, scope{array: array, index: -1})
	r.afterValue = false
	return nil
}

func (r *Reader) readPropertyName() error {
	if r.pos >= len(r.data) {
		return r.fail("Unexpected end while parsing object.")
	}
	c := r.data[r.pos]
	var name string
	switch {
	case c == '"' || c == '\'':
		s, err := r.readString(c)
		if err != nil {
			return err
		}
		name = s
	case isIdentStart(c):
		start := r.pos
		for r.pos < len(r.data) && isIdentPart(r.data[r.pos]) {
			r.pos++
		}
		name = string(r.data[start:r.pos])
	default:
		return r.fail("Invalid property identifier character: %c.", c)
	}
	if err := r.skipSpace(); err != nil {
		return err
	}
	if r.pos >= len(r.data) || r.data[r.pos] != ':' {
		return r.fail("Invalid character after parsing property name. Expected ':'.")
	}
	r.pos++
	r.stack[len(r.stack)-1].name = name
	r.Token, r.Value = PropertyName, name
	r.afterValue = false
	return nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func (r *Reader) readValue() error {
	if err := r.skipSpace(); err != nil {
		return err
	}
	if r.pos >= len(r.data) {
		if len(r.stack) == 0 {
			r.Token = None
			return nil
		}
		return r.fail("Unexpected end while parsing value.")
	}
	c := r.data[r.pos]
	r.afterValue = true
	switch {
	case c == '{':
		r.pos++
		if err := r.push(false); err != nil {
			return err
		}
		r.Token, r.Value = StartObject, ""
		return nil
	case c == '[':
		r.pos++
		if err := r.push(true); err != nil {
			return err
		}
		r.Token, r.Value = StartArray, ""
		return nil
	case c == '"' || c == '\'':
		s, err := r.readString(c)
		if err != nil {
			return err
		}
		r.Token, r.Value = String, s
		return nil
	case c == '-' || c >= '0' && c <= '9' || c == '.':
		return r.readNumber()
	}
	for _, lit := range []struct {
		text string
		tok  Token
		b    bool
	}{{"true", Boolean, true}, {"false", Boolean, false}, {"null", Null, false}, {"undefined", Undefined, false},
		{"NaN", Float, false}, {"Infinity", Float, false}} {
		if strings.HasPrefix(string(r.data[r.pos:min(len(r.data), r.pos+len(lit.text))]), lit.text) {
			r.pos += len(lit.text)
			r.Token, r.Bool, r.Value = lit.tok, lit.b, lit.text
			return nil
		}
	}
	if c == ']' || c == '}' || c == ',' {
		return r.fail("Unexpected character encountered while parsing value: %c.", c)
	}
	return r.fail("Unexpected character encountered while parsing value: %c.", c)
}

func (r *Reader) readNumber() error {
	start := r.pos
	if r.data[r.pos] == '-' {
		r.pos++
		if strings.HasPrefix(string(r.data[r.pos:min(len(r.data), r.pos+8)]), "Infinity") {
			r.pos += 8
			r.Token, r.Value = Float, "-Infinity"
			return nil
		}
	}
	isFloat := false
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		if c >= '0' && c <= '9' {
			r.pos++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' || (c == '+' || c == '-') && r.pos > start && (r.data[r.pos-1] == 'e' || r.data[r.pos-1] == 'E') {
			isFloat = true
			r.pos++
			continue
		}
		break
	}
	text := string(r.data[start:r.pos])
	if isFloat {
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return r.fail("Input string '%s' is not a valid number.", text)
		}
		r.Token, r.Value = Float, text
	} else {
		if text == "-" || text == "" {
			return r.fail("Input string '%s' is not a valid number.", text)
		}
		r.Token, r.Value = Integer, text
	}
	if r.pos < len(r.data) {
		if c := r.data[r.pos]; !(c == ',' || c == '}' || c == ']' || c == '/' || isSpace(c)) {
			return r.fail("Unexpected character encountered while parsing number: %c.", c)
		}
	}
	return nil
}

func (r *Reader) readString(quote byte) (string, error) {
	r.pos++
	buf := r.scratch[:0]
	for {
		if r.pos >= len(r.data) {
			return "", r.fail("Unterminated string. Expected delimiter: %c.", quote)
		}
		c := r.data[r.pos]
		switch {
		case c == quote:
			r.pos++
			r.scratch = buf
			return string(buf), nil
		case c == '\\':
			r.pos++
			if r.pos >= len(r.data) {
				return "", r.fail("Unterminated string. Expected delimiter: %c.", quote)
			}
			e := r.data[r.pos]
			r.pos++
			switch e {
			case 'b':
				buf = append(buf, '\b')
			case 't':
				buf = append(buf, '\t')
			case 'n':
				buf = append(buf, '\n')
			case 'f':
				buf = append(buf, '\f')
			case 'r':
				buf = append(buf, '\r')
			case '\\', '/', '"', '\'':
				buf = append(buf, e)
			case 'u':
				u, err := r.hex4()
				if err != nil {
					return "", err
				}
				if u >= 0xD800 && u < 0xDC00 && r.pos+6 <= len(r.data) && r.data[r.pos] == '\\' && r.data[r.pos+1] == 'u' {
					save := r.pos
					r.pos += 2
					lo, err := r.hex4()
					if err == nil && lo >= 0xDC00 && lo < 0xE000 {
						buf = utf8.AppendRune(buf, 0x10000+(u-0xD800)<<10+(lo-0xDC00))
						continue
					}
					r.pos = save
				}
				if u >= 0xD800 && u < 0xE000 {
					// Json.NET 6 replaces an escaped surrogate that is not part of a pair with U+FFFD.
					u = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, u)
			default:
				return "", r.fail("Bad JSON escape sequence: \\%c.", e)
			}
		default:
			if c == '\n' {
				r.line++
				r.lineStart = r.pos + 1
			}
			buf = append(buf, c)
			r.pos++
		}
	}
}

func (r *Reader) hex4() (rune, error) {
	if r.pos+4 > len(r.data) {
		return 0, r.fail("Unexpected end while parsing unicode character.")
	}
	var u rune
	for _, c := range r.data[r.pos : r.pos+4] {
		d, ok := unhex(c)
		if !ok {
			return 0, r.fail("Invalid Unicode escape sequence.")
		}
		u = u<<4 | rune(d)
	}
	r.pos += 4
	return u, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// skipSpace passes over white space (char.IsWhiteSpace, as Json.NET) and comments.
func (r *Reader) skipSpace() error {
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '\n':
			r.pos++
			r.line++
			r.lineStart = r.pos
		case isSpace(c) || c == '\v' || c == '\f':
			r.pos++
		case c == '/':
			if r.pos+1 >= len(r.data) {
				return r.fail("Unexpected end while parsing comment.")
			}
			switch r.data[r.pos+1] {
			case '*':
				end := bytes.Index(r.data[r.pos+2:], []byte("*/"))
				if end < 0 {
					return r.fail("Unexpected end while parsing comment.")
				}
				r.pos += 2 + end + 2
			case '/':
				r.pos += 2
				for r.pos < len(r.data) && r.data[r.pos] != '\n' && r.data[r.pos] != '\r' {
					r.pos++
				}
			default:
				return r.fail("Error parsing comment. Expected: *, got %c.", r.data[r.pos+1])
			}
		case c >= utf8.RuneSelf:
			ru, size := utf8.DecodeRune(r.data[r.pos:])
			if !unicode.IsSpace(ru) {
				return nil
			}
			r.pos += size
		default:
			return nil
		}
	}
	return nil
}

// Skip passes over the current value: after a PropertyName it reads and skips the property's value; on a
// StartObject or StartArray it skips to the matching end.
func (r *Reader) Skip() error {
	if r.Token == PropertyName {
		if err := r.Read(); err != nil {
			return err
		}
	}
	if r.Token != StartObject && r.Token != StartArray {
		return nil
	}
	depth := len(r.stack)
	for {
		if err := r.Read(); err != nil {
			return err
		}
		if len(r.stack) < depth {
			return nil
		}
		if r.Token == None {
			return r.fail("Unexpected end when reading JSON.")
		}
	}
}
