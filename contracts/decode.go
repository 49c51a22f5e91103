package contracts

import (
	"errors"
	"fmt"
	"net/url"
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
	mediaType, charset := MediaType(contentType)
	format := FormatOf(mediaType)
	if format == FormatUnsupported {
		return nil, fmt.Errorf("%w: the request entity's media type '%s' is not supported for this resource", ErrUnsupportedMediaType, mediaType)
	}
	if len(body) == 0 {
		return nil, nil
	}
	text, err := Transcode(body, charset)
	if err != nil {
		return nil, &DecodeError{Errors: []FieldError{{Err: err}}}
	}
	if c.App.ASCAPI && c.Direction == Request {
		return bindR7(c, mediaType, text)
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
// utf-16, else UTF-8; a byte order mark picks the encoding and is dropped; bytes that do not decode are an
// error. Lone UTF-16 surrogates are kept in WTF-8 form.
func Transcode(body []byte, charset string) ([]byte, error) {
	switch {
	case len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF:
		body = body[3:]
		charset = "utf-8"
	case len(body) >= 2 && body[0] == 0xFF && body[1] == 0xFE:
		body = body[2:]
		charset = "utf-16"
	}
	if !strings.EqualFold(strings.TrimSpace(charset), "utf-16") {
		if !utf8.Valid(body) {
			return nil, ErrInvalidEncoding
		}
		return body, nil
	}
	if len(body)%2 != 0 {
		return nil, ErrInvalidEncoding
	}
	units := make([]uint16, len(body)/2)
	for i := range units {
		units[i] = uint16(body[2*i]) | uint16(body[2*i+1])<<8
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

// DecodeForm binds application/x-www-form-urlencoded as Web API's jQuery/MVC form formatter does for flat
// types: names ignore case, the first value wins, an empty value binds null, a value that does not convert
// is an error naming it. Two members whose names differ only in case (aries ApiKey/apiKey) make the model
// binder fail as a whole.
func DecodeForm(c *Contract, text []byte) (any, error) {
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
		raw, ok := lookupFirst(pairs, m.Name)
		if !ok {
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
				errs = append(errs, FieldError{Path: m.Name, Err: &ModelError{Msg: "A value is required but was not present in the request."}})
			}
			continue
		}
		if err := setFromText(m, f, raw); err != nil {
			if errors.Is(err, errOverflow) {
				errs = append(errs, FieldError{Path: m.Name, Err: err})
			} else {
				errs = append(errs, FieldError{Path: m.Name, Err: &ModelError{Msg: fmt.Sprintf("The value '%s' is not valid for %s.", raw, m.Name)}})
			}
		}
	}
	if len(errs) > 0 {
		return v.Interface(), &DecodeError{Errors: errs}
	}
	return v.Interface(), nil
}

var errOverflow = errors.New("Value was either too large or too small.")

// setFromText converts form text with the member type's TypeConverter rules.
func setFromText(m *Member, f reflect.Value, raw string) error {
	s := strings.TrimSpace(raw)
	switch m.Kind {
	case String:
		f.Set(reflect.ValueOf(&raw))
	case Int32, NullableInt32, Int64, NullableInt64, EnumKind:
		bits := 32
		if m.Kind == Int64 || m.Kind == NullableInt64 {
			bits = 64
		}
		v, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, bits)
		if err != nil && m.Kind == EnumKind {
			if x, ok := m.Enum.Parse(s, true); ok {
				v, err = x, nil
			}
		}
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return errOverflow
			}
			return err
		}
		switch m.Kind {
		case NullableInt32:
			x := int32(v)
			f.Set(reflect.ValueOf(&x))
		case NullableInt64:
			f.Set(reflect.ValueOf(&v))
		default:
			f.SetInt(v)
		}
	case Bool:
		switch strings.ToLower(s) {
		case "true":
			f.SetBool(true)
		case "false":
			f.SetBool(false)
		default:
			return errors.New("not a boolean")
		}
	case GuidKind:
		g, err := ParseGuid(s)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(g))
	default:
		return errors.New("not a flat member")
	}
	return nil
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

func urlDecode(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

func lookupFirst(pairs []formPair, name string) (string, bool) {
	for _, p := range pairs {
		if strings.EqualFold(p.key, name) {
			return p.value, true
		}
	}
	return "", false
}

// bindR7 binds an r7office request as ASC.Api's ApiArgumentBuilder does: one case-insensitive collection of
// names from the body, first value wins: application/json through Json.NET's JSON-to-XML conversion (so
// every value arrives as text and null as ""), text/xml through XDocument, anything else as form fields.
// Only the root's direct children that hold no elements count.
func bindR7(c *Contract, mediaType string, text []byte) (any, error) {
	var pairs []formPair
	switch mediaType {
	case "application/json":
		r := jsonnet.NewReader(text)
		if err := r.Read(); err != nil {
			return nil, &DecodeError{Errors: []FieldError{{Err: err}}}
		}
		if r.Token != jsonnet.StartObject {
			return nil, &DecodeError{Errors: []FieldError{{Err: errors.New("the JSON root must be an object")}}}
		}
		for {
			if err := r.Read(); err != nil {
				return nil, &DecodeError{Errors: []FieldError{{Err: err}}}
			}
			if r.Token != jsonnet.PropertyName {
				break
			}
			name := r.Value
			if err := r.Read(); err != nil {
				return nil, &DecodeError{Errors: []FieldError{{Err: err}}}
			}
			switch r.Token {
			case jsonnet.String, jsonnet.Integer, jsonnet.Float:
				pairs = append(pairs, formPair{name, r.Value})
			case jsonnet.Boolean:
				pairs = append(pairs, formPair{name, strconv.FormatBool(r.Bool)})
			case jsonnet.Null:
				pairs = append(pairs, formPair{name, ""})
			default:
				if err := r.Skip(); err != nil {
					return nil, &DecodeError{Errors: []FieldError{{Err: err}}}
				}
			}
		}
	case "text/xml":
		leaves, err := xmlLeaves(text)
		if err != nil {
			return nil, &DecodeError{Errors: []FieldError{{Err: err}}}
		}
		for _, l := range leaves {
			pairs = append(pairs, formPair{l[0], l[1]})
		}
	default:
		pairs = parseForm(string(text))
	}
	v := reflect.New(c.Go)
	for i := range c.Members {
		m := &c.Members[i]
		if raw, ok := lookupFirst(pairs, m.Name); ok {
			v.Elem().Field(m.index).Set(reflect.ValueOf(&raw))
		}
	}
	return v.Interface(), nil
}
