package contracts

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"aspgate/contracts/jsonnet"
)

// MediaType splits a Content-Type into its lower-case media type and its charset parameter.
func MediaType(contentType string) (mediaType, charset string) {
	parts := strings.Split(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "charset") {
			charset = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return mediaType, charset
}

// Format is how a body is read.
type Format uint8

// The body formats of the legacy formatters.
const (
	FormatUnsupported Format = iota
	FormatJSON
	FormatXML
	FormatForm
)

// FormatOf is the formatter Web API picks for a request media type.
func FormatOf(mediaType string) Format {
	switch mediaType {
	case "application/json", "text/json":
		return FormatJSON
	case "application/xml", "text/xml":
		return FormatXML
	case "application/x-www-form-urlencoded":
		return FormatForm
	}
	return FormatUnsupported
}

// ErrUnsupportedMediaType is returned for a media type no formatter reads.
var ErrUnsupportedMediaType = errors.New("unsupported media type")

// ErrInvalidEncoding is the legacy StreamReader's DecoderFallbackException: bytes that are not text in
// the body's charset.
var ErrInvalidEncoding = errors.New("Unable to translate bytes from specified code page to Unicode.")

// Decode reads a body as the app's formatter for contentType does and returns the bound value (nil for an
// empty body: the legacy formatters hand the action a null model). The error is a *DecodeError listing
// what the formatter logs, or ErrUnsupportedMediaType.
func Decode(c *Contract, contentType string, body []byte) (any, error) {
	if c.App.ASCAPI && c.Direction == Request {
		return bindASC(c, contentType, body)
	}
	mediaType, charset := MediaType(contentType)
	format := FormatOf(mediaType)
	if format == FormatUnsupported {
		return nil, fmt.Errorf("%w: the request entity's media type '%s' is not supported for this resource", ErrUnsupportedMediaType, mediaType)
	}
	if len(body) == 0 {
		return nil, nil
	}
	if !c.App.ASCAPI {
		switch format {
		case FormatXML:
			// XmlDictionaryReader checks the byte order mark against the expected encoding itself.
			return decodeXMLBody(c, body, charset)
		case FormatForm:
			return DecodeForm(c, formText(body))
		}
	}
	text, err := Transcode(body, charset)
	if err != nil {
		return nil, &DecodeError{Errors: []FieldError{{Err: err}}}
	}
	switch format {
	case FormatJSON:
		return DecodeJSON(c, text)
	case FormatXML:
		if c.App.ASCAPI {
			return decodeR7XML(c, text)
		}
		return DecodeXML(c, text)
	}
	if c.App.ASCAPI {
		return nil, &DecodeError{Errors: []FieldError{{Err: errors.New("form bodies are not read for " + c.Name)}}}
	}
	return DecodeForm(c, text)
}

// Transcode turns a body into UTF-8 as the legacy StreamReader reads it: UTF-16LE when the charset says
// utf-16, else UTF-8. The JSON and XML formatters support only those two (SupportedEncodings): any other
// label (windows-1251, utf-32, us-ascii, an unknown name) is not an error, the body is read as UTF-8
// (recordings 133-146), so a client that labels its UTF-8 wrongly keeps working; a byte order mark picks the encoding and is dropped; bytes that do not decode are an
// error. Lone UTF-16 surrogates are kept in WTF-8 form.
func Transcode(body []byte, charset string) ([]byte, error) {
	bigEndian, wide := false, 2
	switch {
	case len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF:
		body = body[3:]
		charset = "utf-8"
	case len(body) >= 4 && body[0] == 0xFF && body[1] == 0xFE && body[2] == 0 && body[3] == 0:
		body, charset, wide = body[4:], "utf-32", 4
	case len(body) >= 2 && body[0] == 0xFF && body[1] == 0xFE:
		body = body[2:]
		charset = "utf-16"
	case len(body) >= 2 && body[0] == 0xFE && body[1] == 0xFF:
		body, charset, bigEndian = body[2:], "utf-16", true
	case len(body) >= 4 && body[0] == 0 && body[1] == 0 && body[2] == 0xFE && body[3] == 0xFF:
		body, charset, wide, bigEndian = body[4:], "utf-32", 4, true
	}
	if wide == 4 {
		// UTF-32 (the reader's byte order mark detection): what is not a character becomes U+FFFD.
		out := make([]byte, 0, len(body))
		for i := 0; i+4 <= len(body); i += 4 {
			u := rune(body[i]) | rune(body[i+1])<<8 | rune(body[i+2])<<16 | rune(body[i+3])<<24
			if bigEndian {
				u = rune(body[i+3]) | rune(body[i+2])<<8 | rune(body[i+1])<<16 | rune(body[i])<<24
			}
			out = utf8.AppendRune(out, u)
		}
		return out, nil
	}
	if !strings.EqualFold(strings.TrimSpace(charset), "utf-16") {
		if !utf8.Valid(body) {
			return nil, ErrInvalidEncoding
		}
		return body, nil
	}
	// A last odd byte is dropped, as the legacy reader's decoder does at the end of the stream.
	units := make([]uint16, len(body)/2)
	for i := range units {
		units[i] = uint16(body[2*i]) | uint16(body[2*i+1])<<8
		if bigEndian {
			units[i] = uint16(body[2*i+1]) | uint16(body[2*i])<<8
		}
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		if utf16.IsSurrogate(u) {
			if u < 0xDC00 && i+1 < len(units) {
				if r := utf16.DecodeRune(u, rune(units[i+1])); r != utf8.RuneError {
					out = utf8.AppendRune(out, r)
					i++
					continue
				}
			}
			return nil, ErrInvalidEncoding
		}
		out = utf8.AppendRune(out, u)
	}
	return out, nil
}

// formText is how the form formatter reads a body: Encoding.UTF8.GetString whatever the charset, a byte
// order mark kept as a character, every byte that is not UTF-8 as U+FFFD.
func formText(body []byte) []byte {
	if utf8.Valid(body) {
		return body
	}
	out := make([]byte, 0, len(body)+8)
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRune(body[i:])
		out = utf8.AppendRune(out, r)
		i += size
	}
	return out
}

// DecodeForm binds application/x-www-form-urlencoded as Web API's model binders do for flat types (form
// bodies do not go through a formatter's deserializer; recordings 120-132): names ignore case and must be
// the member's name alone (model.UserId does not bind), the first of duplicate keys wins, unknown keys are
// ignored, a body that is not form data binds nothing. An empty value binds null, or for a value type is
// "A value is required."; a value that does not convert is "The value 'x' is not valid for UserId.". A
// [Required] value-type member left unbound (absent, or not converted) is the binder's own "The UserId
// property is required.", after the conversion error under the same key; a [Required] string is left to
// Validate ("The Code field is required."). Two members whose names differ only in case (aries
// ApiKey/apiKey) make the model binder fail as a whole.
func DecodeForm(c *Contract, text []byte) (any, error) { return decodeForm(c, text, false) }

// BindForm is DecodeForm with the model binder's own rules on top, as the Web API pipeline binds a form
// body (DecodeForm alone is what the oracle's formatter-level decode reproduces): a [Required] value type
// it could not bind is "The UserId property is required.", an empty value of a value type "A value is
// required.".
func BindForm(c *Contract, body []byte) (any, error) { return decodeForm(c, formText(body), true) }

// DecodeRequest reads a request body as the Web API pipeline binds it: form bodies through BindForm,
// anything else as Decode.
func DecodeRequest(c *Contract, contentType string, body []byte) (any, error) {
	mediaType, _ := MediaType(contentType)
	if FormatOf(mediaType) == FormatForm && !c.App.ASCAPI && len(body) > 0 {
		return BindForm(c, body)
	}
	return Decode(c, contentType, body)
}

func decodeForm(c *Contract, text []byte, binder bool) (any, error) {
	pairs := parseForm(string(text))
	for i := range c.Members {
		for j := i + 1; j < len(c.Members); j++ {
			if strings.EqualFold(c.Members[i].Name, c.Members[j].Name) && !c.Members[i].ReadOnly && !c.Members[j].ReadOnly {
				return nil, &DecodeError{Errors: []FieldError{{Err: errors.New("An item with the same key has already been added.")}}}
			}
		}
	}
	v := reflect.New(c.Go)
	var errs []FieldError
	for i := range c.Members {
		m := &c.Members[i]
		if m.ReadOnly {
			continue
		}
		// The binder's rule for a [Required] value type it could not bind.
		requiredValue := binder && m.Required && m.Kind != String && m.Kind != NullableInt32 && m.Kind != NullableInt64
		propertyRequired := FieldError{Path: m.Name, Err: &ModelError{Msg: fmt.Sprintf("The %s property is required.", m.Name)}}
		raw, ok := lookupFirst(pairs, m.Name)
		if !ok {
			if requiredValue {
				errs = append(errs, propertyRequired)
			}
			continue
		}
		f := v.Elem().Field(m.index)
		if raw == "" {
			switch m.Kind {
			case String, NullableInt32, NullableInt64:
				f.SetZero()
			case StringList, Object, ObjectList, ExceptionKind:
				return nil, fmt.Errorf("form binding of %s is not supported", c.Name)
			default:
				msg := "A value is required but was not present in the request." // the formatter's
				if binder {
					msg = "A value is required." // the binder's (recording 124)
				}
				errs = append(errs, FieldError{Path: m.Name, Err: &ModelError{Msg: msg}})
			}
			continue
		}
		if err := setFromText(m, f, raw); err != nil {
			if errors.Is(err, errOverflow) {
				errs = append(errs, FieldError{Path: m.Name, Err: err})
			} else {
				errs = append(errs, FieldError{Path: m.Name, Err: &ModelError{Msg: fmt.Sprintf("The value '%s' is not valid for %s.", raw, m.Name)}})
			}
			if requiredValue {
				errs = append(errs, propertyRequired)
			}
		}
	}
	if len(errs) > 0 {
		return v.Interface(), &DecodeError{Errors: errs}
	}
	return v.Interface(), nil
}

var errOverflow = errors.New("Value was either too large or too small.")

// setFromText converts form text with the member type's TypeConverter (Int32Converter, BooleanConverter, ...):
// the text trimmed of white space; numbers in decimal, or hexadecimal after '#', "0x" or "&h".
func setFromText(m *Member, f reflect.Value, raw string) error {
	s := strings.TrimFunc(raw, isNetSpace)
	switch m.Kind {
	case String:
		f.Set(reflect.ValueOf(&raw))
	case Int32, NullableInt32, Int64, NullableInt64, EnumKind:
		bits := 32
		if m.Kind == Int64 || m.Kind == NullableInt64 {
			bits = 64
		}
		var v int64
		var ok bool
		switch {
		case m.Kind == EnumKind:
			v, ok = parseNetEnum(m.Enum, s)
		case strings.HasPrefix(s, "#"):
			v, ok = hexNumber(s[1:], bits)
		case len(s) >= 2 && (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') || s[0] == '&' && (s[1] == 'h' || s[1] == 'H')):
			v, ok = hexNumber(s[2:], bits)
		default:
			v, ok = jsonnet.ParseNetInt(s, bits)
			if !ok && netIntegerSyntax(s) {
				return errOverflow
			}
		}
		if !ok {
			return errors.New("not a number")
		}
		setInteger(m, f, v)
	case Bool:
		switch strings.ToLower(strings.TrimFunc(s, func(c rune) bool { return c == 0 || isNetSpace(c) })) {
		case "true":
			f.SetBool(true)
		case "false":
			f.SetBool(false)
		default:
			return errors.New("not a boolean")
		}
	case GuidKind:
		g, err := parseNetGuid(s)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(g))
	default:
		return errors.New("not a flat member")
	}
	return nil
}

// hexNumber is Convert.ToInt32/ToInt64(s, 16): hexadecimal digits taken as two's complement.
func hexNumber(s string, bits int) (int64, bool) {
	u, err := strconv.ParseUint(s, 16, bits)
	if err != nil || s == "" || s[0] == '+' {
		return 0, false
	}
	if bits == 32 {
		return int64(int32(uint32(u))), true
	}
	return int64(u), true
}

// netIntegerSyntax tells an integer that only overflows from text that is no integer at all.
func netIntegerSyntax(s string) bool {
	t := strings.TrimFunc(s, func(c rune) bool { return c == ' ' || c >= '\t' && c <= '\r' })
	t = strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

type formPair struct{ key, value string }

func parseForm(text string) []formPair {
	var pairs []formPair
	for _, part := range strings.Split(text, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		pairs = append(pairs, formPair{urlDecode(k), urlDecode(v)})
	}
	return pairs
}

// urlDecode is the form formatter's decoding: '+' is a space, then Uri.UnescapeDataString: %XX sequences
// that spell UTF-8 become their characters, any other % stays as it is written.
func urlDecode(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if !strings.Contains(s, "%") {
		return s
	}
	var out []byte
	for i := 0; i < len(s); {
		if s[i] != '%' {
			out = append(out, s[i])
			i++
			continue
		}
		// A run of %XX escapes, decoded as UTF-8 character by character.
		var raw []byte
		var at []int
		j := i
		for j+2 < len(s) && s[j] == '%' && isHex(s[j+1]) && isHex(s[j+2]) {
			b, _ := strconv.ParseUint(s[j+1:j+3], 16, 8)
			raw = append(raw, byte(b))
			at = append(at, j)
			j += 3
		}
		if len(raw) == 0 {
			out = append(out, s[i])
			i++
			continue
		}
		for k := 0; k < len(raw); {
			r, size := utf8.DecodeRune(raw[k:])
			if r == utf8.RuneError && size <= 1 {
				out = append(out, s[at[k]:at[k]+3]...)
				k++
				continue
			}
			out = utf8.AppendRune(out, r)
			k += size
		}
		i = j
	}
	return string(out)
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func lookupFirst(pairs []formPair, name string) (string, bool) {
	for _, p := range pairs {
		if strings.EqualFold(p.key, name) {
			return p.value, true
		}
	}
	return "", false
}

// bindASC binds an r7office request as ASC.Api's ApiArgumentBuilder does (ReadASCRequest): each member
// takes the first value of its name, ignoring case; a body ASC.Api cannot read is a *DecodeError holding
// the *ASCError it answers with.
func bindASC(c *Contract, contentType string, body []byte) (any, error) {
	var params ASCParams
	if err := ReadASCRequest(&params, contentType, contentType != "", "", body); err != nil {
		return nil, &DecodeError{Errors: []FieldError{{Err: err}}}
	}
	v := reflect.New(c.Go)
	for i := range c.Members {
		m := &c.Members[i]
		if raw, ok := params.First(m.Name); ok {
			v.Elem().Field(m.index).Set(reflect.ValueOf(&raw))
		}
	}
	return v.Interface(), nil
}
