package contracts

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"aspgate/contracts/jsonnet"
)

// FieldError is one error that a legacy formatter logs into model state: Path is the Json.NET path of
// the offending value below the bound parameter ("UserId", "errors[0].level"; "" for the whole body).
type FieldError struct {
	Path string
	Err  error
}

func (e FieldError) Error() string { return e.Err.Error() }

// DecodeError carries every error a body produced, in the order the legacy reader raised them.
type DecodeError struct{ Errors []FieldError }

func (e *DecodeError) Error() string {
	if len(e.Errors) == 0 {
		return "invalid body"
	}
	return e.Errors[0].Err.Error()
}

// jsonBinder populates Go values from a Json.NET token stream with Json.NET's conversion rules. It reads
// the input form (ReadInput); request and response bodies go through DecodeJSON's emulation of Json.NET's
// serializer (decode_jsonnet.go).
type jsonBinder struct {
	r    *jsonnet.Reader
	errs []FieldError
	// input: the contract CLI's input form: unknown members are an error, Name@Class sets a shadowed
	// member, and numbers are read as decimals (no float rounding).
	input  bool
	broken bool // a syntax error stopped the reader
}

func (b *jsonBinder) fail(err error) {
	var se *jsonnet.SyntaxError
	if errors.As(err, &se) {
		b.broken = true
		b.errs = append(b.errs, FieldError{Path: se.Path, Err: err})
		return
	}
	b.errs = append(b.errs, FieldError{Path: b.r.Path(), Err: fmt.Errorf("%w Path '%s'.", err, b.r.Path())})
}

func (b *jsonBinder) read() bool {
	if b.broken {
		return false
	}
	if err := b.r.Read(); err != nil {
		b.fail(err)
		return false
	}
	return true
}

func (b *jsonBinder) describe() string {
	switch b.r.Token {
	case jsonnet.String:
		return quote(b.r.Value)
	case jsonnet.Null:
		return "{null}"
	case jsonnet.StartObject, jsonnet.StartArray:
		return b.r.Token.String()
	}
	return b.r.Value
}

func (b *jsonBinder) skip() {
	if b.broken {
		return
	}
	if err := b.r.Skip(); err != nil {
		b.fail(err)
	}
}

// findMember matches a JSON property name: exactly first, then ignoring case (Json.NET's
// GetClosestMatchProperty). In the input form "Name@Class" names a shadowed member.
func (b *jsonBinder) findMember(c *Contract, name string) *Member {
	if b.input {
		if at := strings.IndexByte(name, '@'); at >= 0 {
			n, class := name[:at], name[at+1:]
			for i := range c.Members {
				m := &c.Members[i]
				if strings.EqualFold(m.jsonName, n) && strings.EqualFold(m.Class, class) && !m.ReadOnly {
					return m
				}
			}
			return nil
		}
	}
	for _, m := range c.jsonOrder {
		if m.jsonName == name {
			return m
		}
	}
	for _, m := range c.jsonOrder {
		if strings.EqualFold(m.jsonName, name) {
			return m
		}
	}
	return nil
}

func (b *jsonBinder) object(c *Contract, rv reflect.Value) {
	var seen uint64
	for b.read() {
		switch b.r.Token {
		case jsonnet.EndObject:
			b.checkRequired(c, seen)
			return
		case jsonnet.PropertyName:
			m := b.findMember(c, b.r.Value)
			if m == nil || m.ReadOnly {
				if b.input && m == nil {
					b.fail(fmt.Errorf("Could not find member '%s' on object of type '%s'.", b.r.Value, c.Name))
				}
				b.skip()
				continue
			}
			if !b.read() {
				return
			}
			ok, midNumber := b.value(m, rv.Field(m.index))
			if ok {
				for i, jm := range c.jsonOrder {
					if jm == m {
						seen |= 1 << i
					}
				}
			}
			if midNumber && b.recoverMidNumber(c, seen) {
				return
			}
		}
	}
}

// checkRequired reports the first [Required] member the object lacked: Json.NET throws for it, so the
// rest are never checked.
func (b *jsonBinder) checkRequired(c *Contract, seen uint64) {
	if b.input {
		return // the input form is read without Web API's resolver, which is what makes [Required] required
	}
	for i, m := range c.jsonOrder {
		if m.Required && seen&(1<<i) == 0 {
			b.errs = append(b.errs, FieldError{Path: b.parentPath(), Err: fmt.Errorf("Required property '%s' not found in JSON.", m.jsonName)})
			return
		}
	}
}

// recoverMidNumber reproduces Json.NET's recovery after JsonTextReader failed inside a number (an Int32
// out of range, or not integral): the reader still stands on the property name, so the error handler's
// Skip reads one token too far. When that token is the object's end, the loop then reads past it
// ("Unexpected end", keyed at the object; true is returned); when it is the next property name, that
// property's value arrives where a name is expected ("Unexpected token", keyed at that property) and is lost.
func (b *jsonBinder) recoverMidNumber(c *Contract, seen uint64) bool {
	if !b.read() {
		return true
	}
	switch b.r.Token {
	case jsonnet.EndObject:
		b.errs = append(b.errs, FieldError{Path: b.parentPath(), Err: errors.New("Unexpected end when deserializing object.")})
		b.checkRequired(c, seen)
		return true
	case jsonnet.PropertyName:
		if !b.read() {
			return true
		}
		b.errs = append(b.errs, FieldError{Path: b.r.Path(), Err: fmt.Errorf("Unexpected token when deserializing object: %s.", b.r.Token)})
		b.skip()
	}
	return false
}

// parentPath is the path of the object whose end was just read.
func (b *jsonBinder) parentPath() string {
	p := b.r.Path()
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

// value converts the current token into f; false (with the error logged and the value skipped) when it
// does not convert.
// value converts the current token into f. On failure the error is logged and the value skipped;
// midNumber tells that the failure was inside JsonTextReader's number parsing.
func (b *jsonBinder) value(m *Member, f reflect.Value) (ok, midNumber bool) {
	err := b.convert(m, f)
	if err == nil {
		return true, false
	}
	var mid *midNumberError
	midNumber = errors.As(err, &mid)
	b.fail(err)
	b.skip()
	return false, midNumber
}

// midNumberError is an error JsonTextReader.ReadAsInt32 throws while parsing a number token.
type midNumberError struct{ msg string }

func (e *midNumberError) Error() string { return e.msg }

var errNull = errors.New("null")

func (b *jsonBinder) convert(m *Member, f reflect.Value) error {
	r := b.r
	isNull := r.Token == jsonnet.Null || r.Token == jsonnet.Undefined
	switch m.Kind {
	case String:
		if isNull {
			f.SetZero()
			return nil
		}
		s, err := b.scalarText()
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(&s))
	case Int32, NullableInt32, Int64, NullableInt64, EnumKind:
		v, err := b.integer(m)
		if err == errNull {
			if m.Kind == NullableInt32 || m.Kind == NullableInt64 {
				f.SetZero()
				return nil
			}
			return fmt.Errorf("Error converting value {null} to type '%s'.", clrName(m))
		}
		if err != nil {
			return err
		}
		setInteger(m, f, v)
	case Bool:
		v, err := b.boolean()
		if err != nil {
			return err
		}
		f.SetBool(v)
	case GuidKind:
		if r.Token != jsonnet.String {
			return fmt.Errorf("Error converting value %s to type 'System.Guid'.", b.describe())
		}
		g, err := ParseGuid(r.Value)
		if err != nil {
			return fmt.Errorf("Error converting value %s to type 'System.Guid'.", quote(r.Value))
		}
		f.Set(reflect.ValueOf(g))
	case StringList:
		if isNull {
			f.SetZero()
			return nil
		}
		if r.Token != jsonnet.StartArray {
			return fmt.Errorf("Error converting value %s to type 'System.Collections.Generic.List`1[System.String]'.", b.describe())
		}
		list := []*string{}
		for b.read() && r.Token != jsonnet.EndArray {
			if r.Token == jsonnet.Null || r.Token == jsonnet.Undefined {
				list = append(list, nil)
				continue
			}
			s, err := b.scalarText()
			if err != nil {
				b.fail(err)
				b.skip()
				continue
			}
			list = append(list, &s)
		}
		f.Set(reflect.ValueOf(list))
	case Object:
		if isNull {
			f.SetZero()
			return nil
		}
		if r.Token != jsonnet.StartObject {
			return fmt.Errorf("Error converting value %s to type '%s'.", b.describe(), m.Elem.Name)
		}
		v := reflect.New(m.Elem.Go)
		b.object(m.Elem, v.Elem())
		f.Set(v)
	case ObjectList:
		if isNull {
			f.SetZero()
			return nil
		}
		if r.Token != jsonnet.StartArray {
			return fmt.Errorf("Error converting value %s to type 'List<%s>'.", b.describe(), m.Elem.Name)
		}
		list := reflect.MakeSlice(f.Type(), 0, 4)
		for b.read() && r.Token != jsonnet.EndArray {
			switch r.Token {
			case jsonnet.Null, jsonnet.Undefined:
				list = reflect.Append(list, reflect.Zero(f.Type().Elem()))
			case jsonnet.StartObject:
				v := reflect.New(m.Elem.Go)
				b.object(m.Elem, v.Elem())
				list = reflect.Append(list, v)
			default:
				b.fail(fmt.Errorf("Error converting value %s to type '%s'.", b.describe(), m.Elem.Name))
				b.skip()
			}
		}
		f.Set(list)
	case ExceptionKind:
		if isNull {
			f.SetZero()
			return nil
		}
		if r.Token != jsonnet.StartObject {
			return fmt.Errorf("Error converting value %s to type 'System.Exception'.", b.describe())
		}
		e := &Exception{HResult: DefaultHResult}
		b.exception(e)
		f.Set(reflect.ValueOf(e))
	case ApiDateTimeKind:
		if isNull {
			f.SetZero()
			return nil
		}
		if r.Token != jsonnet.String {
			return errors.New("expires must be a string or null.")
		}
		d, err := ParseApiDateTime(r.Value)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(d))
	case DictKind:
		if isNull {
			f.SetZero()
			return nil
		}
		if r.Token != jsonnet.StartObject {
			return fmt.Errorf("Error converting value %s to type 'System.Collections.IDictionary'.", b.describe())
		}
		d := Dict{}
		for b.read() && r.Token == jsonnet.PropertyName {
			key := r.Value
			if !b.read() {
				break
			}
			if r.Token == jsonnet.Null {
				d = append(d, DictEntry{Key: key})
				continue
			}
			s, err := b.scalarText()
			if err != nil {
				b.fail(err)
				b.skip()
				continue
			}
			d = append(d, DictEntry{Key: key, Value: &s})
		}
		f.Set(reflect.ValueOf(&d))
	default:
		panic("contracts: kind not read from JSON")
	}
	return nil
}

func clrName(m *Member) string {
	switch m.Kind {
	case Int32, NullableInt32:
		return "System.Int32"
	case Int64, NullableInt64:
		return "System.Int64"
	case EnumKind:
		return m.Enum.CLRName
	}
	return m.Name
}

// scalarText is JsonReader.ReadAsString: strings as they are, numbers as .NET prints them, booleans as
// "True"/"False".
func (b *jsonBinder) scalarText() (string, error) {
	r := b.r
	switch r.Token {
	case jsonnet.String:
		return r.Value, nil
	case jsonnet.Integer:
		if v, err := strconv.ParseInt(r.Value, 10, 64); err == nil {
			return strconv.FormatInt(v, 10), nil
		}
		if bi, ok := new(big.Int).SetString(r.Value, 10); ok {
			return bi.String(), nil
		}
		return r.Value, nil
	case jsonnet.Float:
		if b.input {
			return r.Value, nil
		}
		v, _ := strconv.ParseFloat(r.Value, 64)
		return jsonnet.FormatDouble(v), nil
	case jsonnet.Boolean:
		if r.Bool {
			return "True", nil
		}
		return "False", nil
	}
	return "", fmt.Errorf("Unexpected token when reading string: %s.", r.Token)
}

// integer reads an integer member (or an enum) with Json.NET's coercions: numeric strings, floats rounded
// half to even, booleans as 0/1 for long; errNull for null or an empty string.
func (b *jsonBinder) integer(m *Member) (int64, error) {
	r := b.r
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	is64 := m.Kind == Int64 || m.Kind == NullableInt64
	if is64 {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	target := clrName(m)
	switch r.Token {
	case jsonnet.Null, jsonnet.Undefined:
		return 0, errNull
	case jsonnet.Integer:
		v, err := strconv.ParseInt(r.Value, 10, 64)
		if err != nil || v < lo || v > hi {
			if !is64 && m.Kind != EnumKind {
				return 0, &midNumberError{fmt.Sprintf("JSON integer %s is too large or small for an Int32.", r.Value)}
			}
			return 0, fmt.Errorf("Error converting value %s to type '%s'.", r.Value, target)
		}
		return v, nil
	case jsonnet.Float:
		if !is64 && m.Kind != EnumKind {
			// ReadAsInt32 parses the number text as an integer: 2.5 and 3.0 alike fail.
			return 0, &midNumberError{fmt.Sprintf("Input string '%s' is not a valid integer.", r.Value)}
		}
		if m.Kind == EnumKind {
			return 0, fmt.Errorf("Error converting value %s to type '%s'.", r.Value, target)
		}
		f, err := strconv.ParseFloat(r.Value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("Error converting value %s to type '%s'.", r.Value, target)
		}
		f = math.RoundToEven(f)
		if f < float64(lo) || f >= -float64(lo) {
			return 0, fmt.Errorf("Value was either too large or too small for %s.", target)
		}
		return int64(f), nil
	case jsonnet.Boolean:
		if !is64 {
			return 0, fmt.Errorf("Error reading integer. Unexpected token: Boolean.")
		}
		if r.Bool {
			return 1, nil
		}
		return 0, nil
	case jsonnet.String:
		s := strings.TrimSpace(r.Value)
		if s == "" {
			return 0, errNull
		}
		if m.Kind == EnumKind {
			if v, ok := m.Enum.Parse(s, true); ok {
				return v, nil
			}
		}
		v, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
		if err != nil || v < lo || v > hi || strings.HasPrefix(s, "+-") || strings.HasPrefix(s, "+") && strings.HasPrefix(s[1:], "+") {
			if m.Kind == EnumKind {
				return 0, fmt.Errorf("Error converting value %s to type '%s'.", quote(r.Value), target)
			}
			return 0, fmt.Errorf("Could not convert string to integer: %s.", r.Value)
		}
		return v, nil
	}
	return 0, fmt.Errorf("Error reading integer. Unexpected token: %s.", r.Token)
}

func (b *jsonBinder) boolean() (bool, error) {
	r := b.r
	switch r.Token {
	case jsonnet.Boolean:
		return r.Bool, nil
	case jsonnet.Integer:
		v, ok := new(big.Int).SetString(r.Value, 10)
		return ok && v.Sign() != 0, nil
	case jsonnet.Float:
		f, _ := strconv.ParseFloat(r.Value, 64)
		return f != 0, nil
	case jsonnet.String:
		switch strings.ToLower(strings.TrimSpace(r.Value)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, fmt.Errorf("Error converting value %s to type 'System.Boolean'.", quote(r.Value))
	}
	return false, fmt.Errorf("Error converting value %s to type 'System.Boolean'.", b.describe())
}

// exception reads the ISerializable entries of a System.Exception by their exact names.
func (b *jsonBinder) exception(e *Exception) {
	r := b.r
	for b.read() && r.Token == jsonnet.PropertyName {
		name := r.Value
		if !b.read() {
			return
		}
		if p := e.str(name); p != nil {
			if r.Token == jsonnet.Null {
				*p = nil
				continue
			}
			s, err := b.scalarText()
			if err != nil {
				b.fail(err)
				b.skip()
				continue
			}
			*p = &s
			continue
		}
		if p := e.int(name); p != nil {
			if r.Token == jsonnet.Null {
				*p = 0
				continue
			}
			v, err := b.integer(&Member{Kind: Int32})
			if err != nil && err != errNull {
				b.fail(err)
				b.skip()
				continue
			}
			*p = int32(v)
			continue
		}
		b.skip()
	}
}
