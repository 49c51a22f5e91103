package jsonnet

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// TextReader is a port of Json.NET 6.0.8's JsonTextReader (with its JsonReader base): the same states, the
// same tokens and, above all, the same position and state after an error, because Json.NET's serializer
// goes on reading after an error and what it reads next decides which further errors (and model-state keys)
// the legacy formatter logs. Reader is the simpler tokenizer the input form uses; TextReader is for bodies.
//
// Text is UTF-8 (the legacy StreamReader has decoded the body before); characters are classified as .NET
// classifies UTF-16 units, so a character outside the BMP is never white space, a letter or a digit. Values
// are materialized only when asked for, and positions deeper than maxKept levels are kept as bits, so that
// skipping a hostile, deeply nested body allocates nothing per level.
type TextReader struct {
	data []byte
	pos  int

	lineNumber   int
	lineStartPos int
	// linePosition's last count: the UTF-16 units from lineStartPos up to byte lpPos, so that many errors
	// on one long line do not each rescan it from its start.
	lpLine, lpPos, lpCount int

	token    NetToken
	state    readState
	readType ReadType
	quote    byte

	val value

	current  position
	stack    []position
	deepBits []uint8 // container types of the levels past maxKept, four 2-bit types a byte
	deep     int     // levels held in deepBits

	// MaxDepth is the reader's quota (Web API sets 256); 0 means none.
	MaxDepth       int
	exceededDepth  bool
	dateParse      bool // DateParseHandling.DateTime (the default); false is DateParseHandling.None
	floatAsDecimal bool // FloatParseHandling.Decimal
	preparsed      bool // numbers parsed as plain reads whatever the read type (a JTokenReader's values)
	v13            bool // Json.NET 13.0.1's messages and positions where they differ from 6.0.8's (NewTextReader13)
	scratch        []byte
}

// maxKept is how many container levels keep their index and property name for paths. Deeper levels only
// keep their type: Json.NET stops at MaxDepth (256) with an error anyway, and a path past this many levels
// is only needed for a second error inside a hostile document.
const maxKept = 320

// NetToken is Json.NET's JsonToken.
type NetToken uint8

// The JsonToken values, in Json.NET's order.
const (
	TokNone NetToken = iota
	TokStartObject
	TokStartArray
	TokStartConstructor
	TokPropertyName
	TokComment
	TokRaw
	TokInteger
	TokFloat
	TokString
	TokBoolean
	TokNull
	TokUndefined
	TokEndObject
	TokEndArray
	TokEndConstructor
	TokDate
	TokBytes
)

var netTokenNames = [...]string{"None", "StartObject", "StartArray", "StartConstructor", "PropertyName", "Comment",
	"Raw", "Integer", "Float", "String", "Boolean", "Null", "Undefined", "EndObject", "EndArray", "EndConstructor",
	"Date", "Bytes"}

func (t NetToken) String() string { return netTokenNames[t] }

// IsStart is JsonReader.IsStartToken.
func (t NetToken) IsStart() bool {
	return t == TokStartObject || t == TokStartArray || t == TokStartConstructor
}

// IsPrimitive is JsonReader.IsPrimitiveToken.
func (t NetToken) IsPrimitive() bool {
	switch t {
	case TokInteger, TokFloat, TokString, TokBoolean, TokUndefined, TokNull, TokDate, TokBytes:
		return true
	}
	return false
}

type readState uint8

const (
	stStart readState = iota
	stComplete
	stProperty
	stObjectStart
	stObject
	stArrayStart
	stArray
	stClosed
	stPostValue
	stConstructorStart
	stConstructor
	stError
	stFinished
)

// ReadType is how the next value is wanted (Json.NET's internal ReadType).
type ReadType uint8

// The read types the serializer uses.
const (
	ReadPlain ReadType = iota
	ReadAsInt32
	ReadAsBytes
	ReadAsString
	ReadAsDecimal
	ReadAsDateTime
)

type containerType uint8

const (
	ctNone containerType = iota
	ctObject
	ctArray
	ctConstructor
)

// position is JsonPosition: a container and where the reader is in it.
type position struct {
	typ         containerType
	nameDecoded bool
	index       int32
	// The property name: a span of the text, or (escaped names) a decoded string.
	nameStart, nameEnd int32
	nameText           string
}

func (p *position) hasIndex() bool { return p.typ == ctArray || p.typ == ctConstructor }

// ValueKind tells which Go value a token carries.
type ValueKind uint8

// The value kinds of tokens.
const (
	ValNull    ValueKind = iota // no value (null, undefined, containers)
	ValString                   // String, PropertyName, Comment, StartConstructor (the name), Date (its text)
	ValInt32                    // Integer read as Int32
	ValInt64                    // Integer
	ValBig                      // Integer beyond Int64 (System.Numerics.BigInteger): its digits
	ValDouble                   // Float
	ValDecimal                  // Float under FloatParseHandling.Decimal: its text
	ValBool                     // Boolean
)

type value struct {
	kind ValueKind
	// string values: a span of the text, or a decoded string
	start, end int
	text       string
	decoded    bool
	i          int64
	f          float64
	b          bool
}

// ReaderError is an exception the reader throws: a JsonReaderException with Json.NET's message, or (Type
// says which) a .NET exception that escapes it unwrapped.
type ReaderError struct {
	Type string // "Newtonsoft.Json.JsonReaderException", "System.FormatException", "System.OverflowException"
	Msg  string // the message with Json.NET's " Path '...', line n, position m." for reader exceptions
	Path string
	// Inner is the exception the reader's one wraps, when it wraps one (Convert.ToInt64's for a hex or
	// octal number): what ASC.Api's ErrorWrapper reports, as it unwraps to the innermost exception.
	Inner *ReaderError
}

func (e *ReaderError) Error() string { return e.Msg }

const readerException = "Newtonsoft.Json.JsonReaderException"

// NewTextReader reads UTF-8 text with Json.NET's defaults (dates parsed, floats as doubles) and Web API's
// depth quota.
func NewTextReader(data []byte) *TextReader {
	return &TextReader{data: data, lineNumber: 1, MaxDepth: DefaultMaxDepth, dateParse: true, current: position{index: -1}}
}

// NewTextReader13 reads as Json.NET 13.0.1's JsonTextReader does under JsonConvert's defaults (ONLYOFFICE's
// ASC.Api pins that version): a MaxDepth of 64, and the messages and error positions 13.0.1 changed. A
// literal cut short ("tru", "-Inf") ends the text ("Unexpected end when reading JSON.") or fails where it
// stops matching; a \u escape takes exactly four hex digits. Token reading is otherwise the same code.
func NewTextReader13(data []byte) *TextReader {
	r := NewTextReader(data)
	r.MaxDepth, r.v13 = 64, true
	return r
}

// SetDateParseHandling chooses DateParseHandling.DateTime (true, the default) or None.
func (r *TextReader) SetDateParseHandling(parse bool) { r.dateParse = parse }

// SetFloatAsDecimal chooses FloatParseHandling.Decimal.
func (r *TextReader) SetFloatAsDecimal(dec bool) { r.floatAsDecimal = dec }

// SetPreparsed makes numbers parse as a plain Read does whatever is asked for, as the values of a JToken
// were parsed before ToObject reads them.
func (r *TextReader) SetPreparsed(p bool) { r.preparsed = p }

// Token is the current token.
func (r *TextReader) Token() NetToken { return r.token }

// Kind is the kind of the current value.
func (r *TextReader) Kind() ValueKind { return r.val.kind }

// HasValue reports whether the token carries a value (JsonReader.Value != null).
func (r *TextReader) HasValue() bool { return r.val.kind != ValNull }

// Str is the current string value (String, PropertyName, Date text, constructor name, comment), the digits
// of a BigInteger or the text of a decimal.
func (r *TextReader) Str() string {
	v := &r.val
	if !v.decoded {
		v.text = string(r.data[v.start:v.end])
		v.decoded = true
	}
	return v.text
}

// Int is the current Int32 or Int64 value.
func (r *TextReader) Int() int64 { return r.val.i }

// Float is the current double value.
func (r *TextReader) Float() float64 { return r.val.f }

// Bool is the current Boolean value.
func (r *TextReader) Bool() bool { return r.val.b }

// LinePosition is IJsonLineInfo.LinePosition (UTF-16 units).
func (r *TextReader) LinePosition() int { return r.linePosition() }

// PositionIndex is JsonReader.GetPosition(depth).Position: the item index of the container at that depth.
func (r *TextReader) PositionIndex(depth int) int {
	if depth < len(r.stack) {
		return int(r.stack[depth].index)
	}
	return int(r.current.index)
}

// Line is IJsonLineInfo.LineNumber.
func (r *TextReader) Line() int {
	if r.state == stStart && r.linePosition() == 0 {
		return 0
	}
	return r.lineNumber
}

func (r *TextReader) linePosition() int {
	from := r.lineStartPos
	if from < 0 {
		from = 0
	}
	if from > r.pos {
		return r.pos - r.lineStartPos
	}
	i, n := from, 0
	if r.lpLine == r.lineStartPos && r.lpPos >= from && r.lpPos <= r.pos {
		i, n = r.lpPos, r.lpCount
	}
	for i < r.pos {
		c, size := utf8.DecodeRune(r.data[i:r.pos])
		i += size
		n++
		if c > 0xFFFF {
			n++
		}
	}
	r.lpLine, r.lpPos, r.lpCount = r.lineStartPos, r.pos, n
	return n + (from - r.lineStartPos)
}

// Depth is JsonReader.Depth.
func (r *TextReader) Depth() int {
	d := len(r.stack) + r.deep
	if r.token.IsStart() || r.current.typ == ctNone {
		return d
	}
	return d + 1
}

// Path is JsonReader.Path.
func (r *TextReader) Path() string {
	if r.current.typ == ctNone {
		return ""
	}
	inside := r.state != stArrayStart && r.state != stConstructorStart && r.state != stObjectStart
	var b strings.Builder
	for i := range r.stack {
		r.writePosition(&b, &r.stack[i])
	}
	if r.deep > 0 {
		// Levels past maxKept keep only their type: the path is cut there.
		b.WriteString("...")
		return b.String()
	}
	if inside {
		r.writePosition(&b, &r.current)
	}
	return b.String()
}

func (r *TextReader) positionName(p *position) string {
	if p.nameDecoded {
		return p.nameText
	}
	return string(r.data[p.nameStart:p.nameEnd])
}

// writePosition is JsonPosition.WriteTo of Json.NET 6: a dot before every property name but the first,
// names holding one of ". []()" in ['...'].
func (r *TextReader) writePosition(b *strings.Builder, p *position) {
	switch p.typ {
	case ctObject:
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		name := r.positionName(p)
		if strings.ContainsAny(name, ". []()") {
			b.WriteString("['")
			b.WriteString(name)
			b.WriteString("']")
		} else {
			b.WriteString(name)
		}
	case ctArray, ctConstructor:
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(int(p.index)))
		b.WriteByte(']')
	}
}

// fail makes a JsonReaderException at the current position.
func (r *TextReader) fail(format string, args ...any) error {
	return r.exception(readerException, fmt.Sprintf(format, args...))
}

func (r *TextReader) exception(typ, msg string) error {
	path := r.Path()
	if typ != readerException {
		return &ReaderError{Type: typ, Msg: msg, Path: path}
	}
	return &ReaderError{Type: typ, Msg: FormatMessage(msg, path, r.Line(), r.linePosition()), Path: path}
}

// FormatMessage is JsonPosition.FormatMessage: the message, then " Path '...', line n, position m.".
func FormatMessage(msg, path string, line, pos int) string {
	msg = strings.TrimSpace(msg)
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg + fmt.Sprintf(" Path '%s', line %d, position %d.", path, line, pos)
}

// charAt returns the character at i, 0 past the end (Json.NET's buffer ends with a '\0'), and its size.
func (r *TextReader) charAt(i int) (rune, int) {
	if i >= len(r.data) {
		return 0, 0
	}
	c := r.data[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRune(r.data[i:])
}

func (r *TextReader) at(i int) rune {
	c, _ := r.charAt(i)
	return c
}

// ensureChars is EnsureChars: are there relative+1 more characters from pos on.
func (r *TextReader) ensureChars(relative int) bool {
	i := r.pos
	for k := 0; k <= relative; k++ {
		if i >= len(r.data) {
			return false
		}
		_, n := r.charAt(i)
		i += n
	}
	return true
}

// The .NET character classes, for UTF-16 units: a character outside the BMP is a surrogate pair there.
func isWhiteSpace(c rune) bool {
	if c < utf8.RuneSelf {
		return c == ' ' || c >= '\t' && c <= '\r'
	}
	return c <= 0xFFFF && (c == 0x85 || c == 0xA0 || unicode.Is(unicode.Zs, c) || c == 0x2028 || c == 0x2029)
}

func isLetterOrDigit(c rune) bool {
	return c <= 0xFFFF && (unicode.IsLetter(c) || unicode.IsDigit(c))
}

func isNumber(c rune) bool { return c <= 0xFFFF && unicode.IsNumber(c) }

func isDigit(c rune) bool { return c <= 0xFFFF && unicode.IsDigit(c) }

// Read is JsonTextReader.Read.
func (r *TextReader) Read() (bool, error) {
	r.readType = ReadPlain
	ok, err := r.readInternal()
	if err != nil {
		return false, err
	}
	if !ok {
		r.setToken(TokNone, value{}, true)
		return false, nil
	}
	return true, nil
}

func (r *TextReader) readInternal() (bool, error) {
	for {
		switch r.state {
		case stStart, stProperty, stArray, stArrayStart, stConstructor, stConstructorStart:
			return r.parseValue()
		case stObject, stObjectStart:
			return r.parseObject()
		case stPostValue:
			ok, err := r.parsePostValue()
			if err != nil || ok {
				return ok, err
			}
		case stFinished:
			if r.ensureChars(0) {
				r.eatWhitespace()
				if r.pos >= len(r.data) {
					return false, nil
				}
				if r.at(r.pos) == '/' {
					return true, r.parseComment()
				}
				return false, r.fail("Additional text encountered after finished reading JSON content: %c.", r.at(r.pos))
			}
			return false, nil
		default:
			return false, r.fail("Unexpected state: %d.", r.state)
		}
	}
}

func (r *TextReader) parseValue() (bool, error) {
	for {
		c, size := r.charAt(r.pos)
		switch c {
		case 0:
			if r.pos >= len(r.data) {
				return false, nil
			}
			r.pos++
		case '"', '\'':
			return true, r.parseString(byte(c))
		case 't':
			return true, r.parseLiteral("true", TokBoolean, value{kind: ValBool, b: true}, "Error parsing boolean value.")
		case 'f':
			return true, r.parseLiteral("false", TokBoolean, value{kind: ValBool}, "Error parsing boolean value.")
		case 'n':
			if !r.ensureChars(1) {
				if r.v13 {
					r.pos++
					return true, r.fail("Unexpected end when reading JSON.")
				}
				return true, r.fail("Unexpected end.")
			}
			switch r.at(r.pos + 1) {
			case 'u':
				return true, r.parseLiteral("null", TokNull, value{}, "Error parsing null value.")
			case 'e':
				return true, r.parseConstructor()
			}
			return true, r.fail("Unexpected character encountered while parsing value: %c.", c)
		case 'N':
			return true, r.parseLiteral("NaN", TokFloat, value{kind: ValDouble, f: math.NaN()}, "Error parsing NaN value.")
		case 'I':
			msg := "Error parsing positive infinity value."
			if r.v13 {
				msg = "Error parsing Infinity value."
			}
			return true, r.parseLiteral("Infinity", TokFloat, value{kind: ValDouble, f: math.Inf(1)}, msg)
		case '-':
			if r.ensureChars(1) && r.at(r.pos+1) == 'I' {
				msg := "Error parsing negative infinity value."
				if r.v13 {
					msg = "Error parsing -Infinity value."
				}
				return true, r.parseLiteral("-Infinity", TokFloat, value{kind: ValDouble, f: math.Inf(-1)}, msg)
			}
			return true, r.parseNumber()
		case '/':
			return true, r.parseComment()
		case 'u':
			return true, r.parseLiteral("undefined", TokUndefined, value{}, "Error parsing undefined value.")
		case '{':
			r.pos++
			return true, r.setToken(TokStartObject, value{}, true)
		case '[':
			r.pos++
			return true, r.setToken(TokStartArray, value{}, true)
		case ']':
			r.pos++
			return true, r.setToken(TokEndArray, value{}, true)
		case ',':
			// Not consumed: the next read handles the comma (multiple empty values).
			return true, r.setToken(TokUndefined, value{}, true)
		case ')':
			r.pos++
			return true, r.setToken(TokEndConstructor, value{}, true)
		case '\r':
			r.processCR()
		case '\n':
			r.processLF()
		case ' ', '\t':
			r.pos++
		default:
			if isWhiteSpace(c) {
				r.pos += size
				continue
			}
			if isNumber(c) || c == '-' || c == '.' {
				return true, r.parseNumber()
			}
			return true, r.fail("Unexpected character encountered while parsing value: %c.", c)
		}
	}
}

func (r *TextReader) processLF() {
	r.pos++
	r.onNewLine(r.pos)
}

func (r *TextReader) processCR() {
	r.pos++
	if r.ensureChars(0) && r.at(r.pos) == '\n' {
		r.pos++
	}
	r.onNewLine(r.pos)
}

func (r *TextReader) onNewLine(pos int) {
	r.lineNumber++
	r.lineStartPos = pos - 1
	if r.v13 {
		// 13.0.1 starts the next line at the character after the break, so its positions there are
		// one less than 6.0.8's.
		r.lineStartPos = pos
	}
}

func (r *TextReader) eatWhitespace() {
	for {
		c, size := r.charAt(r.pos)
		switch {
		case c == 0:
			if r.pos >= len(r.data) {
				return
			}
			r.pos++
		case c == '\r':
			r.processCR()
		case c == '\n':
			r.processLF()
		case isWhiteSpace(c):
			r.pos += size
		default:
			return
		}
	}
}

func (r *TextReader) parseObject() (bool, error) {
	for {
		c, size := r.charAt(r.pos)
		switch c {
		case 0:
			if r.pos >= len(r.data) {
				return false, nil
			}
			r.pos++
		case '}':
			if err := r.setToken(TokEndObject, value{}, true); err != nil {
				return true, err
			}
			r.pos++
			return true, nil
		case '/':
			return true, r.parseComment()
		case '\r':
			r.processCR()
		case '\n':
			r.processLF()
		case ' ', '\t':
			r.pos++
		default:
			if isWhiteSpace(c) {
				r.pos += size
				continue
			}
			return r.parseProperty()
		}
	}
}

func (r *TextReader) parseProperty() (bool, error) {
	first := r.at(r.pos)
	var quote byte
	var name value
	switch {
	case first == '"' || first == '\'':
		r.pos++
		quote = byte(first)
		v, err := r.readStringIntoBuffer(quote)
		if err != nil {
			return true, err
		}
		name = v
	case validIdentifierChar(first):
		v, err := r.parseUnquotedProperty()
		if err != nil {
			return true, err
		}
		name = v
	default:
		return true, r.fail("Invalid property identifier character: %c.", r.at(r.pos))
	}
	r.eatWhitespace()
	if c := r.at(r.pos); c != ':' {
		return true, r.fail("Invalid character after parsing property name. Expected ':' but got: %c.", c)
	}
	r.pos++
	name.kind = ValString
	if err := r.setToken(TokPropertyName, name, true); err != nil {
		return true, err
	}
	r.quote = quote
	return true, nil
}

func validIdentifierChar(c rune) bool { return isLetterOrDigit(c) || c == '_' || c == '$' }

func (r *TextReader) parseUnquotedProperty() (value, error) {
	start := r.pos
	for {
		c, size := r.charAt(r.pos)
		if c == 0 {
			if r.pos >= len(r.data) {
				return value{}, r.fail("Unexpected end while parsing unquoted property name.")
			}
			return value{kind: ValString, start: start, end: r.pos}, nil
		}
		if validIdentifierChar(c) {
			r.pos += size
			continue
		}
		if isWhiteSpace(c) || c == ':' {
			return value{kind: ValString, start: start, end: r.pos}, nil
		}
		return value{}, r.fail("Invalid JavaScript property identifier character: %c.", c)
	}
}

func (r *TextReader) parsePostValue() (bool, error) {
	for {
		c, size := r.charAt(r.pos)
		switch c {
		case 0:
			if r.pos >= len(r.data) {
				r.state = stFinished
				return false, nil
			}
			r.pos++
		case '}':
			r.pos++
			return true, r.setToken(TokEndObject, value{}, true)
		case ']':
			r.pos++
			return true, r.setToken(TokEndArray, value{}, true)
		case ')':
			r.pos++
			return true, r.setToken(TokEndConstructor, value{}, true)
		case '/':
			return true, r.parseComment()
		case ',':
			r.pos++
			return false, r.setStateBasedOnCurrent()
		case ' ', '\t':
			r.pos++
		case '\r':
			r.processCR()
		case '\n':
			r.processLF()
		default:
			if isWhiteSpace(c) {
				r.pos += size
				continue
			}
			return false, r.fail("After parsing a value an unexpected character was encountered: %c.", c)
		}
	}
}

// readStringIntoBuffer reads a string after its opening quote: the value spans the text when it has no
// escapes, else it is decoded into a new string.
func (r *TextReader) readStringIntoBuffer(quote byte) (value, error) {
	start := r.pos
	var buf []byte
	escaped := false
	last := start // buf holds the text up to last
	i := r.pos
	for {
		if i >= len(r.data) {
			r.pos = i
			return value{}, r.fail("Unterminated string. Expected delimiter: %c.", quote)
		}
		c := r.data[i]
		switch c {
		case '\\':
			escStart := i
			i++
			r.pos = i
			if i >= len(r.data) {
				return value{}, r.fail("Unterminated string. Expected delimiter: %c.", quote)
			}
			if !escaped {
				buf = r.scratch[:0]
				escaped = true
			}
			buf = append(buf, r.data[last:escStart]...)
			e := r.data[i]
			var w rune
			switch e {
			case 'b':
				i++
				w = '\b'
			case 't':
				i++
				w = '\t'
			case 'n':
				i++
				w = '\n'
			case 'f':
				i++
				w = '\f'
			case 'r':
				i++
				w = '\r'
			case '\\', '"', '\'', '/':
				i++
				w = rune(e)
			case 'u':
				i++
				r.pos = i
				u, err := r.parseUnicode()
				if err != nil {
					return value{}, err
				}
				w = u
				if u >= 0xDC00 && u <= 0xDFFF {
					w = utf8.RuneError // a low surrogate with no high one before it
				} else if u >= 0xD800 && u <= 0xDBFF {
					for {
						another := false
						if r.ensureChars(2) && r.at(r.pos) == '\\' && r.at(r.pos+1) == 'u' {
							high := w
							r.pos += 2
							u2, err := r.parseUnicode()
							if err != nil {
								return value{}, err
							}
							w = u2
							switch {
							case u2 >= 0xDC00 && u2 <= 0xDFFF:
								// a pair: written below as one character
							case u2 >= 0xD800 && u2 <= 0xDBFF:
								high = utf8.RuneError
								another = true
							default:
								high = utf8.RuneError
							}
							if high == utf8.RuneError {
								buf = utf8.AppendRune(buf, utf8.RuneError)
							} else {
								w = utf16.DecodeRune(high, u2)
							}
						} else {
							w = utf8.RuneError
						}
						if !another {
							break
						}
					}
				}
				i = r.pos
			default:
				i++
				r.pos = i
				return value{}, r.fail("Bad JSON escape sequence: \\%c.", rune(e))
			}
			buf = utf8.AppendRune(buf, w)
			last = i
		case '\r':
			i++
			if i < len(r.data) && r.data[i] == '\n' {
				i++
			}
			r.onNewLine(i)
		case '\n':
			i++
			r.onNewLine(i)
		case '"', '\'':
			if c != quote {
				i++
				continue
			}
			r.pos = i + 1
			if !escaped {
				return value{kind: ValString, start: start, end: i}, nil
			}
			buf = append(buf, r.data[last:i]...)
			r.scratch = buf
			return value{kind: ValString, text: string(buf), decoded: true}, nil
		default:
			i++
		}
	}
}

// parseUnicode reads the four hex digits of a \u escape as int.Parse(NumberStyles.HexNumber) does: white
// space around them is allowed, anything else is a FormatException.
func (r *TextReader) parseUnicode() (rune, error) {
	if r.v13 {
		return r.parseUnicode13()
	}
	if !r.ensureChars(3) {
		return 0, r.fail("Unexpected end while parsing unicode character.")
	}
	i := r.pos
	var units []rune
	for k := 0; k < 4; k++ {
		c, n := r.charAt(i)
		units = append(units, c)
		i += n
	}
	s := strings.TrimFunc(string(units), func(c rune) bool { return c == ' ' || c >= '\t' && c <= '\r' })
	if s == "" {
		return 0, r.exception("System.FormatException", "Input string was not in a correct format.")
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return 0, r.exception("System.FormatException", "Input string was not in a correct format.")
	}
	r.pos = i
	return rune(v), nil
}

// parseUnicode13 is 13.0.1's ConvertUnicode: exactly four hex digits, else "Invalid Unicode escape
// sequence" quoting the four characters as read.
func (r *TextReader) parseUnicode13() (rune, error) {
	if !r.ensureChars(3) {
		return 0, r.fail("Unexpected end while parsing Unicode escape sequence.")
	}
	i := r.pos
	var v rune
	ok := true
	var text []rune
	for k := 0; k < 4; k++ {
		c, n := r.charAt(i)
		text = append(text, c)
		i += n
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			ok = false
		}
	}
	if !ok {
		return 0, r.fail("Invalid Unicode escape sequence: \\u%s.", string(text))
	}
	r.pos = i
	return v, nil
}

func (r *TextReader) parseString(quote byte) error {
	r.pos++
	v, err := r.readStringIntoBuffer(quote)
	if err != nil {
		return err
	}
	r.setPostValueState(true)
	if r.readType != ReadAsString && r.readType != ReadAsBytes && r.dateParse {
		r.val = v
		if IsDateText(r.Str()) {
			v = r.val
			r.token = TokDate
			r.val = v
			return nil
		}
	}
	r.token, r.val = TokString, v
	r.quote = quote
	return nil
}

// IsDateText reports whether Json.NET's DateTimeUtils.TryParseDateTime would read s as a date under
// DateParseHandling.DateTime: the ISO 8601 forms it accepts or "/Date(ticks)/".
func IsDateText(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '/' {
		return strings.HasPrefix(s, "/Date(") && strings.HasSuffix(s, ")/") && isMicrosoftDate(s[6:len(s)-2])
	}
	if len(s) >= 19 && len(s) <= 40 && s[0] >= '0' && s[0] <= '9' && s[10] == 'T' {
		return isISODate(s)
	}
	return false
}

func isMicrosoftDate(s string) bool {
	// ticks, then an optional +hhmm / -hhmm offset
	i := strings.IndexAny(s[1:], "+-")
	ticks := s
	if i >= 0 {
		ticks, s = s[:i+1], s[i+1:]
		if len(s) != 5 || !allDigits(s[1:]) {
			return false
		}
	}
	_, err := strconv.ParseInt(ticks, 10, 64)
	return err == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isISODate is DateTimeParser.Parse of Json.NET 6: yyyy-MM-ddTHH:mm:ss, optional fraction (1-7 digits),
// then nothing, Z or an offset (+hh, +hhmm or +hh:mm), with a valid calendar date and time.
func isISODate(s string) bool {
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for k := i; k < i+n; k++ {
			if s[k] < '0' || s[k] > '9' {
				return 0, false
			}
			v = v*10 + int(s[k]-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	se, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return false
	}
	if y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || se > 59 {
		return false
	}
	i := 19
	if i < len(s) && s[i] == '.' {
		i++
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 7 {
			i++
			n++
		}
		if n == 0 {
			return false
		}
	}
	if i == len(s) {
		return true
	}
	switch s[i] {
	case 'Z', 'z':
		return i+1 == len(s)
	case '+', '-':
		i++
		oh, ok := num(i, 2)
		if !ok || oh > 99 {
			return false
		}
		i += 2
		if i == len(s) {
			return true
		}
		if s[i] == ':' {
			i++
		}
		_, ok = num(i, 2)
		return ok && i+2 == len(s)
	}
	return false
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func (r *TextReader) parseNumber() error {
	first := r.at(r.pos)
	start := r.pos
	if err := r.readNumberIntoBuffer(); err != nil {
		return err
	}
	// The state is PostValue already, so that the reader can go on after a bad number.
	r.setPostValueState(true)
	text := string(r.data[start:r.pos])
	units := utf8.RuneCountInString(text)
	singleDigit := isDigit(first) && units == 1
	nonBase10 := first == '0' && units > 1 && text[1] != '.' && text[1] != 'e' && text[1] != 'E'

	var v value
	var tok NetToken
	readType := r.readType
	if r.preparsed {
		readType = ReadPlain
	}
	switch {
	case readType == ReadAsInt32:
		tok = TokInteger
		switch {
		case singleDigit:
			v = value{kind: ValInt32, i: int64(first - '0')}
		case nonBase10:
			x, err := convertRadix(text, 32)
			if err != nil {
				return r.fail("Input string '%s' is not a valid integer.", text)
			}
			v = value{kind: ValInt32, i: x}
		default:
			x, res := parseInteger(text, 32)
			switch res {
			case parseOK:
				v = value{kind: ValInt32, i: x}
			case parseOverflow:
				return r.fail("JSON integer %s is too large or small for an Int32.", text)
			default:
				return r.fail("Input string '%s' is not a valid integer.", text)
			}
		}
	case readType == ReadAsDecimal:
		tok = TokFloat
		switch {
		case singleDigit:
			v = value{kind: ValDecimal, text: string(first), decoded: true}
		case nonBase10:
			x, err := convertRadix(text, 64)
			if err != nil {
				return r.fail("Input string '%s' is not a valid decimal.", text)
			}
			v = value{kind: ValDecimal, text: strconv.FormatInt(x, 10), decoded: true}
		default:
			d, ok := ParseDecimal(text, true)
			if !ok {
				return r.fail("Input string '%s' is not a valid decimal.", text)
			}
			v = value{kind: ValDecimal, text: d, decoded: true}
		}
	default:
		switch {
		case singleDigit:
			tok, v = TokInteger, value{kind: ValInt64, i: int64(first - '0')}
		case nonBase10:
			x, err := convertRadix(text, 64)
			if err != nil {
				e := r.fail("Input string '%s' is not a valid number.", text)
				e.(*ReaderError).Inner = radixError(text)
				return e
			}
			tok, v = TokInteger, value{kind: ValInt64, i: x}
		default:
			x, res := parseInteger(text, 64)
			switch res {
			case parseOK:
				tok, v = TokInteger, value{kind: ValInt64, i: x}
			case parseOverflow:
				if len(text) > 380 {
					return r.fail("JSON integer %s is too large to parse.", text)
				}
				tok, v = TokInteger, value{kind: ValBig, text: text, decoded: true}
			default:
				tok = TokFloat
				if r.floatAsDecimal {
					d, ok := ParseDecimal(text, true)
					if !ok {
						return r.fail("Input string '%s' is not a valid decimal.", text)
					}
					v = value{kind: ValDecimal, text: d, decoded: true}
				} else {
					f, ok := ParseDouble(text)
					if !ok {
						return r.fail("Input string '%s' is not a valid number.", text)
					}
					v = value{kind: ValDouble, f: f}
				}
			}
		}
	}
	r.token, r.val = tok, v
	return nil
}

func (r *TextReader) readNumberIntoBuffer() error {
	for {
		c, size := r.charAt(r.pos)
		switch {
		case c == 0:
			return nil
		case c == '-' || c == '+' || c == '.' || c == 'x' || c == 'X' || c >= '0' && c <= '9' ||
			c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			r.pos += size
		default:
			if isWhiteSpace(c) || c == ',' || c == '}' || c == ']' || c == ')' || c == '/' {
				return nil
			}
			return r.fail("Unexpected character encountered while parsing number: %c.", c)
		}
	}
}

type parseResult uint8

const (
	parseInvalid parseResult = iota
	parseOK
	parseOverflow
)

// parseInteger is ConvertUtils.Int32TryParse / Int64TryParse: an optional '-', then ASCII digits only; an
// invalid character anywhere wins over overflow.
func parseInteger(s string, bits int) (int64, parseResult) {
	if s == "" {
		return 0, parseInvalid
	}
	neg := s[0] == '-'
	digits := s
	if neg {
		if len(s) == 1 {
			return 0, parseInvalid
		}
		digits = s[1:]
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, parseInvalid
		}
	}
	v, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, parseOverflow
	}
	return v, parseOK
}

// convertRadix is Convert.ToInt32/ToInt64(s, 16 or 8) for a number starting with 0: hexadecimal after
// "0x", octal otherwise; the bits are taken as two's complement.
func convertRadix(s string, bits int) (int64, error) {
	base := 8
	digits := s
	if len(s) > 1 && (s[1] == 'x' || s[1] == 'X') {
		base, digits = 16, s[2:]
	}
	if digits == "" {
		return 0, strconv.ErrSyntax
	}
	u, err := strconv.ParseUint(digits, base, bits)
	if err != nil {
		return 0, err
	}
	if bits == 32 {
		return int64(int32(uint32(u))), nil
	}
	return int64(u), nil
}

// radixError is the exception Convert.ToInt64(s, 16 or 8) throws for a number convertRadix refuses.
func radixError(s string) *ReaderError {
	base, digits := 8, s
	if len(s) > 1 && (s[1] == 'x' || s[1] == 'X') {
		base, digits = 16, s[2:]
	}
	valid := func(c byte) bool {
		if base == 16 {
			return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		}
		return c >= '0' && c <= '7'
	}
	switch {
	case digits == "" || !valid(digits[0]):
		return &ReaderError{Type: "System.FormatException", Msg: "Could not find any recognizable digits."}
	case strings.IndexFunc(digits, func(c rune) bool { return c > 0x7F || !valid(byte(c)) }) >= 0:
		return &ReaderError{Type: "System.FormatException", Msg: "Additional non-parsable characters are at the end of the string."}
	}
	return &ReaderError{Type: "System.OverflowException", Msg: "Value was either too large or too small for a UInt64."}
}

// ParseDouble is double.TryParse(s, NumberStyles.Float | AllowThousands, InvariantCulture) for the characters
// a JSON number can hold: sign, digits, one point, an exponent; false for anything else or an overflow.
func ParseDouble(s string) (float64, bool) {
	t := strings.TrimFunc(s, func(c rune) bool { return c == ' ' || c >= '\t' && c <= '\r' })
	if !isDecimalSyntax(t) {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && (math.IsInf(f, 0) || f == 0 && !strings.ContainsAny(t, "eE")) {
		return 0, false
	}
	if math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// isDecimalSyntax accepts [sign](digits[.digits*]|.digits)([eE][sign]digits)?, thousands separators
// included.
func isDecimalSyntax(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intDigits, fracDigits := 0, 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == ',' && intDigits > 0) {
		if s[i] != ',' {
			intDigits++
		}
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			fracDigits++
			i++
		}
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			exp++
			i++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// ParseDecimal is decimal.TryParse(s, NumberStyles.Number | AllowExponent (exp), InvariantCulture): the
// value as System.Decimal prints it (trailing zeros of the fraction kept, up to 28 of them), or false.
func ParseDecimal(s string, exp bool) (string, bool) {
	t := strings.TrimFunc(s, func(c rune) bool { return c == ' ' || c >= '\t' && c <= '\r' })
	if !isDecimalSyntax(t) || !exp && strings.ContainsAny(t, "eE") {
		return "", false
	}
	t = strings.ReplaceAll(t, ",", "")
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimLeft(t, "+-")
	mant, e := t, 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		x, err := strconv.Atoi(t[i+1:])
		if err != nil {
			return "", false
		}
		mant, e = t[:i], x
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	scale := len(frac) - e
	if digits == "" {
		digits, scale = "0", 0
	}
	if len(digits)-scale > 29 {
		return "", false // beyond System.Decimal's range
	}
	if scale < 0 {
		digits += strings.Repeat("0", -scale)
		scale = 0
	}
	if scale > 28 {
		// rounded to 28 fraction digits
		cut := scale - 28
		if cut > len(digits) {
			digits = "0"
		} else {
			keep, next := digits[:len(digits)-cut], digits[len(digits)-cut]
			if keep == "" {
				keep = "0"
			}
			bi, _ := new(big.Int).SetString(keep, 10)
			if next >= '5' {
				bi.Add(bi, big.NewInt(1))
			}
			digits = bi.String()
		}
		scale = 28
	}
	bi, _ := new(big.Int).SetString(digits, 10)
	if bi.BitLen() > 96 {
		return "", false
	}
	for len(digits) <= scale {
		digits = "0" + digits
	}
	out := digits
	if scale > 0 {
		out = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, true
}

func (r *TextReader) parseComment() error {
	r.pos++ // '/'
	// 13.0.1 wants a character after the "/*" or "//" (EnsureChars(1)); an empty comment at the end fails.
	if !r.ensureChars(0) || r.v13 && !r.ensureChars(1) {
		return r.fail("Unexpected end while parsing comment.")
	}
	var single bool
	switch c := r.at(r.pos); c {
	case '*':
	case '/':
		single = true
	default:
		return r.fail("Error parsing comment. Expected: *, got %c.", c)
	}
	r.pos++
	start := r.pos
	end := -1
	for end < 0 {
		c, size := r.charAt(r.pos)
		switch c {
		case 0:
			if r.pos >= len(r.data) {
				if !single {
					return r.fail("Unexpected end while parsing comment.")
				}
				end = r.pos
				continue
			}
			r.pos++
		case '*':
			r.pos++
			if !single && r.ensureChars(0) && r.at(r.pos) == '/' {
				end = r.pos - 1
				r.pos++
			}
		case '\r':
			if single {
				end = r.pos
			}
			r.processCR()
		case '\n':
			if single {
				end = r.pos
			}
			r.processLF()
		default:
			r.pos += size
		}
	}
	return r.setToken(TokComment, value{kind: ValString, start: start, end: end}, true)
}

// matchValueWithTrailingSeparator matches a literal and checks that a separator (or the end) follows.
func (r *TextReader) matchValueWithTrailingSeparator(lit string) bool {
	if r.v13 {
		// 13.0.1's MatchValue: the position moves to where the text stops matching.
		for i := 0; i < len(lit); i++ {
			if r.pos+i >= len(r.data) || r.data[r.pos+i] != lit[i] {
				r.pos += i
				return false
			}
		}
	} else if !bytes.HasPrefix(r.data[r.pos:], []byte(lit)) {
		return false
	}
	r.pos += len(lit)
	if !r.ensureChars(0) {
		return true
	}
	c := r.at(r.pos)
	return r.isSeparator(c) || c == 0
}

func (r *TextReader) isSeparator(c rune) bool {
	switch c {
	case '}', ']', ',':
		return true
	case '/':
		if !r.ensureChars(1) {
			return false
		}
		n := r.at(r.pos + 1)
		return n == '*' || n == '/'
	case ')':
		return r.state == stConstructor || r.state == stConstructorStart
	case ' ', '\t', '\n', '\r':
		return true
	}
	return isWhiteSpace(c)
}

func (r *TextReader) parseLiteral(lit string, tok NetToken, v value, msg string) error {
	if r.v13 && !r.ensureChars(utf8.RuneCountInString(lit)-1) {
		// Not enough text left for the literal: 13.0.1 reports the end of the text.
		r.pos = len(r.data)
		return r.fail("Unexpected end when reading JSON.")
	}
	if !r.matchValueWithTrailingSeparator(lit) {
		return r.fail("%s", msg)
	}
	return r.setToken(tok, v, true)
}

func (r *TextReader) parseConstructor() error {
	if !r.matchValueWithTrailingSeparator("new") {
		return r.fail("Unexpected content while parsing JSON.")
	}
	r.eatWhitespace()
	start := r.pos
	end := -1
	for end < 0 {
		c, size := r.charAt(r.pos)
		switch {
		case c == 0:
			if r.pos >= len(r.data) {
				return r.fail("Unexpected end while parsing constructor.")
			}
			end = r.pos
			r.pos++
		case isLetterOrDigit(c):
			r.pos += size
		case c == '\r':
			end = r.pos
			r.processCR()
		case c == '\n':
			end = r.pos
			r.processLF()
		case isWhiteSpace(c):
			end = r.pos
			r.pos += size
		case c == '(':
			end = r.pos
		default:
			return r.fail("Unexpected character while parsing constructor: %c.", c)
		}
	}
	name := value{kind: ValString, start: start, end: end}
	r.eatWhitespace()
	if c := r.at(r.pos); c != '(' {
		return r.fail("Unexpected character while parsing constructor: %c.", c)
	}
	r.pos++
	return r.setToken(TokStartConstructor, name, true)
}

// setToken is JsonReader.SetToken.
func (r *TextReader) setToken(tok NetToken, v value, updateIndex bool) error {
	r.token, r.val = tok, v
	switch tok {
	case TokStartObject:
		r.state = stObjectStart
		return r.push(ctObject)
	case TokStartArray:
		r.state = stArrayStart
		return r.push(ctArray)
	case TokStartConstructor:
		r.state = stConstructorStart
		return r.push(ctConstructor)
	case TokEndObject:
		return r.validateEnd(TokEndObject)
	case TokEndArray:
		return r.validateEnd(TokEndArray)
	case TokEndConstructor:
		return r.validateEnd(TokEndConstructor)
	case TokPropertyName:
		r.state = stProperty
		r.current.nameDecoded = v.decoded
		r.current.nameText = v.text
		r.current.nameStart, r.current.nameEnd = int32(v.start), int32(v.end)
	case TokUndefined, TokInteger, TokFloat, TokBoolean, TokNull, TokDate, TokString, TokRaw, TokBytes:
		r.setPostValueState(updateIndex)
	}
	return nil
}

func (r *TextReader) setPostValueState(updateIndex bool) {
	if r.current.typ != ctNone {
		r.state = stPostValue
	} else {
		r.state = stFinished
	}
	if updateIndex && r.current.hasIndex() {
		r.current.index++
	}
}

func (r *TextReader) push(t containerType) error {
	if r.current.hasIndex() {
		r.current.index++
	}
	if r.current.typ == ctNone {
		r.current = position{typ: t, index: -1}
		return nil
	}
	if len(r.stack) < maxKept {
		r.stack = append(r.stack, r.current)
	} else {
		if r.deep%4 == 0 {
			r.deepBits = append(r.deepBits, 0)
		}
		r.deepBits[r.deep/4] |= uint8(r.current.typ) << (2 * (r.deep % 4))
		r.deep++
	}
	r.current = position{typ: t, index: -1}
	if r.MaxDepth > 0 && r.Depth()+1 > r.MaxDepth && !r.exceededDepth {
		r.exceededDepth = true
		return r.fail("The reader's MaxDepth of %d has been exceeded.", r.MaxDepth)
	}
	return nil
}

func (r *TextReader) pop() containerType {
	old := r.current.typ
	switch {
	case r.deep > 0:
		r.deep--
		i, shift := r.deep/4, 2*(r.deep%4)
		r.current = position{typ: containerType(r.deepBits[i]>>shift) & 3, index: -1}
		r.deepBits[i] &^= 3 << shift
		if r.deep%4 == 0 {
			r.deepBits = r.deepBits[:i]
		}
	case len(r.stack) > 0:
		r.current = r.stack[len(r.stack)-1]
		r.stack = r.stack[:len(r.stack)-1]
	default:
		r.current = position{index: -1}
	}
	if r.MaxDepth > 0 && r.Depth() <= r.MaxDepth {
		r.exceededDepth = false
	}
	return old
}

// Deep reports whether the reader is past the levels that keep their paths: a path read there is not
// Json.NET's.
func (r *TextReader) Deep() bool { return r.deep > 0 }

func closeType(t NetToken) containerType {
	switch t {
	case TokEndObject:
		return ctObject
	case TokEndArray:
		return ctArray
	}
	return ctConstructor
}

var containerNames = [...]string{"None", "Object", "Array", "Constructor"}

func (r *TextReader) validateEnd(end NetToken) error {
	cur := r.pop()
	if closeType(end) != cur {
		return r.fail("JsonToken %s is not valid for closing JsonType %s.", end, containerNames[cur])
	}
	if r.current.typ != ctNone {
		r.state = stPostValue
	} else {
		r.state = stFinished
	}
	return nil
}

func (r *TextReader) setStateBasedOnCurrent() error {
	switch r.current.typ {
	case ctObject:
		r.state = stObject
	case ctArray:
		r.state = stArray
	case ctConstructor:
		r.state = stConstructor
	default:
		r.state = stFinished
	}
	return nil
}

// Skip is JsonReader.Skip: after a property name it reads the value, and skips a container to its end.
func (r *TextReader) Skip() error {
	if r.token == TokPropertyName {
		if _, err := r.Read(); err != nil {
			return err
		}
	}
	if r.token.IsStart() {
		depth := r.Depth()
		for {
			ok, err := r.Read()
			if err != nil {
				return err
			}
			if !ok || depth >= r.Depth() {
				return nil
			}
		}
	}
	return nil
}

// readAs runs the loop the ReadAs methods share: the next token that is not a comment; false at the end.
func (r *TextReader) readAs(t ReadType) (bool, error) {
	r.readType = t
	for {
		ok, err := r.readInternal()
		if err != nil {
			return false, err
		}
		if !ok {
			r.setToken(TokNone, value{}, true)
			return false, nil
		}
		if r.token != TokComment {
			return true, nil
		}
	}
}

// ReadAsInt32 is JsonReader.ReadAsInt32Internal: the token becomes an Int32 Integer, Null, EndArray or None.
func (r *TextReader) ReadAsInt32() error {
	ok, err := r.readAs(ReadAsInt32)
	if err != nil || !ok {
		return err
	}
	switch r.token {
	case TokInteger, TokFloat:
		if r.val.kind != ValInt32 {
			x, err := r.toInt32()
			if err != nil {
				return err
			}
			r.token, r.val = TokInteger, value{kind: ValInt32, i: x}
		}
		return nil
	case TokNull, TokEndArray:
		return nil
	case TokString:
		s := r.Str()
		if s == "" {
			return r.setToken(TokNull, value{}, false)
		}
		x, ok := ParseNetInt(s, 32)
		if !ok {
			return r.fail("Could not convert string to integer: %s.", s)
		}
		r.token, r.val = TokInteger, value{kind: ValInt32, i: x}
		return nil
	}
	return r.fail("Error reading integer. Unexpected token: %s.", r.token)
}

// toInt32 is Convert.ToInt32(Value) for a number token.
func (r *TextReader) toInt32() (int64, error) {
	overflow := func() error {
		return r.exception("System.OverflowException", "Value was either too large or too small for an Int32.")
	}
	switch r.val.kind {
	case ValInt64:
		if r.val.i < math.MinInt32 || r.val.i > math.MaxInt32 {
			return 0, overflow()
		}
		return r.val.i, nil
	case ValDouble:
		f := r.val.f
		if math.IsNaN(f) {
			return 0, overflow()
		}
		f = math.RoundToEven(f)
		if f < math.MinInt32 || f > math.MaxInt32 {
			return 0, overflow()
		}
		return int64(f), nil
	case ValDecimal:
		x, ok := DecimalToInt(r.Str(), 32)
		if !ok {
			return 0, overflow()
		}
		return x, nil
	case ValBig:
		return 0, overflow()
	}
	return r.val.i, nil
}

// DecimalToInt is Convert.ToInt32/ToInt64(decimal): rounded half to even, false on overflow.
func DecimalToInt(text string, bits int) (int64, bool) {
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return 0, false
	}
	n := new(big.Int).Quo(r.Num(), r.Denom()) // truncated
	rem := new(big.Rat).Sub(r, new(big.Rat).SetInt(n))
	half := big.NewRat(1, 2)
	switch rem.Abs(rem).Cmp(half) {
	case 1:
		n.Add(n, big.NewInt(int64(r.Sign())))
	case 0:
		if n.Bit(0) == 1 {
			n.Add(n, big.NewInt(int64(r.Sign())))
		}
	}
	if !n.IsInt64() {
		return 0, false
	}
	x := n.Int64()
	if bits == 32 && (x < math.MinInt32 || x > math.MaxInt32) {
		return 0, false
	}
	return x, true
}

// ParseNetInt is int.TryParse / long.TryParse with NumberStyles.Integer and the invariant culture: white
// space around, one leading sign, ASCII digits.
func ParseNetInt(s string, bits int) (int64, bool) {
	t := strings.TrimFunc(s, func(c rune) bool { return c == ' ' || c >= '\t' && c <= '\r' })
	if t == "" {
		return 0, false
	}
	neg := false
	switch t[0] {
	case '-':
		neg, t = true, t[1:]
	case '+':
		t = t[1:]
	}
	if t == "" || !allDigits(t) {
		return 0, false
	}
	if neg {
		t = "-" + t
	}
	x, err := strconv.ParseInt(t, 10, bits)
	return x, err == nil
}

// ReadAsString is JsonReader.ReadAsStringInternal: a primitive value becomes its text.
func (r *TextReader) ReadAsString() error {
	ok, err := r.readAs(ReadAsString)
	if err != nil || !ok {
		return err
	}
	switch r.token {
	case TokString, TokNull:
		return nil
	}
	if r.token.IsPrimitive() && r.val.kind != ValNull {
		s := r.ValueText()
		r.token, r.val = TokString, value{kind: ValString, text: s, decoded: true}
		return nil
	}
	if r.token == TokEndArray {
		return nil
	}
	return r.fail("Error reading string. Unexpected token: %s.", r.token)
}

// ValueText is the current value as .NET's ToString(null, InvariantCulture) writes it.
func (r *TextReader) ValueText() string {
	switch r.val.kind {
	case ValInt32, ValInt64:
		return strconv.FormatInt(r.val.i, 10)
	case ValDouble:
		return FormatDouble(r.val.f)
	case ValBool:
		if r.val.b {
			return "True"
		}
		return "False"
	}
	return r.Str()
}

// FormatDouble prints a double as .NET Framework's Double.ToString() does: 15 significant digits, no
// negative zero.
func FormatDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		return "0"
	}
	s := strconv.FormatFloat(v, 'G', 15, 64)
	if i := strings.IndexByte(s, 'E'); i >= 0 {
		mant, exp := s[:i], s[i+1:]
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		for len(exp) < 2 {
			exp = "0" + exp
		}
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
		}
		s = mant + "E" + string(sign) + exp
	} else if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
