package contracts

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Enum describes a CLR enum: its members in Enum.GetValues order (ascending unsigned value), each with the
// name DataContractSerializer writes for that value.
type Enum struct {
	CLRName string       // full CLR name, as the serializer's error message quotes it
	Go      reflect.Type // the Go int32 type that holds it
	Values  []EnumValue
	Aliases []EnumValue // further names of values listed in Values (HttpStatusCode.Ambiguous)
	// NotInFramework are the values the oracle's Mono has and .NET Framework 4.x, the legacy hosts'
	// runtime, lacks: documentation (Help pages, OpenAPI) leaves them out.
	NotInFramework []int64
}

// Name is the enum's CLR name without its namespace, as the Help Page names it.
func (e *Enum) Name() string { return e.CLRName[strings.LastIndexByte(e.CLRName, '.')+1:] }

// Declared lists the enum's names in declaration order, as reflection gives them: each value followed by
// its aliases; framework is .NET Framework 4.x's list (without NotInFramework).
func (e *Enum) Declared(framework bool) []EnumValue {
	var out []EnumValue
	for _, v := range e.Values {
		if framework && slices.Contains(e.NotInFramework, v.Value) {
			continue
		}
		out = append(out, v)
		for _, a := range e.Aliases {
			if a.Value == v.Value {
				out = append(out, a)
			}
		}
	}
	return out
}

// EnumValue is one named member of an enum.
type EnumValue struct {
	Name  string
	Value int64
}

// NameOf returns the name DataContractSerializer writes for v.
func (e *Enum) NameOf(v int64) (string, bool) {
	for _, ev := range e.Values {
		if ev.Value == v {
			return ev.Name, true
		}
	}
	return "", false
}

// Parse reads an enum member name the way Enum.Parse(type, s, ignoreCase) does for Json.NET, or exactly
// (DataContractSerializer) when ignoreCase is false.
func (e *Enum) Parse(s string, ignoreCase bool) (int64, bool) {
	for _, list := range [][]EnumValue{e.Values, e.Aliases} {
		for _, ev := range list {
			if ev.Name == s || ignoreCase && strings.EqualFold(ev.Name, s) {
				return ev.Value, true
			}
		}
	}
	return 0, false
}

// UndefinedEnumError is what DataContractSerializer throws for a value without a name: the CLR default 0
// of an enum that has no 0 member, or an undefined number.
type UndefinedEnumError struct {
	Enum  *Enum
	Value int64
}

func (e *UndefinedEnumError) Error() string {
	return fmt.Sprintf("Enum value '%d' is invalid for type '%s' and cannot be serialized. Ensure that the necessary enum values are present and are marked with EnumMemberAttribute attribute if the type has DataContractAttribute attribute.", e.Value, e.Enum.CLRName)
}

// Guid is a System.Guid, held in the byte order of its "D" text form.
type Guid [16]byte

// String writes the "D" format in lower case, as both formatters do.
func (g Guid) String() string {
	var b [36]byte
	return string(g.appendText(b[:0]))
}

func (g Guid) appendText(dst []byte) []byte {
	const hex = "0123456789abcdef"
	for i, x := range g {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[x>>4], hex[x&15])
	}
	return dst
}

var errGuidFormat = errors.New("Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")

// ParseGuid reads the formats new Guid(string) accepts that clients send: "D", "N", "B" and "P", with
// surrounding white space.
func ParseGuid(s string) (Guid, error) {
	var g Guid
	s = strings.TrimSpace(s)
	switch {
	case len(s) == 38 && (s[0] == '{' && s[37] == '}' || s[0] == '(' && s[37] == ')'):
		s = s[1:37]
		fallthrough
	case len(s) == 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return g, errGuidFormat
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	case len(s) == 32:
	default:
		return g, errGuidFormat
	}
	for i := range g {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return g, errGuidFormat
		}
		g[i] = hi<<4 | lo
	}
	return g, nil
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

// DefaultHResult is COR_E_EXCEPTION, the HResult of a plain System.Exception.
const DefaultHResult int32 = -2146233088

// Exception is a System.Exception as .NET Framework 4.5+ serializes it through ISerializable: twelve
// entries, of which Data, InnerException and WatsonBuckets are always null here (a thrown exception's
// stack is not modelled) and ClassName is always "System.Exception".
type Exception struct {
	Message                *string
	HelpURL                *string
	StackTraceString       *string
	RemoteStackTraceString *string
	RemoteStackIndex       int32
	ExceptionMethod        *string
	HResult                int32
	Source                 *string
}

// NewException returns an exception with a message and the default HResult, as new Exception(message).
func NewException(message string) *Exception {
	return &Exception{Message: &message, HResult: DefaultHResult}
}

// exceptionEntries lists the GetObjectData entries in the order .NET Framework writes them.
var exceptionEntries = []struct {
	Name string
	Kind byte // 's' string, 'i' int, 'n' always null
}{
	{"ClassName", 's'}, {"Message", 's'}, {"Data", 'n'}, {"InnerException", 'n'}, {"HelpURL", 's'},
	{"StackTraceString", 's'}, {"RemoteStackTraceString", 's'}, {"RemoteStackIndex", 'i'},
	{"ExceptionMethod", 's'}, {"HResult", 'i'}, {"Source", 's'}, {"WatsonBuckets", 'n'},
}

const exceptionClassName = "System.Exception"

// ExceptionEntry is one entry System.Exception's GetObjectData writes: its name and the XML Schema type
// its i:type names ("string", "int"; "" for an entry that is always null here).
type ExceptionEntry struct{ Name, XSDType string }

// ExceptionEntries lists the entries in the order .NET Framework writes them, in JSON and XML alike.
func ExceptionEntries() []ExceptionEntry {
	out := make([]ExceptionEntry, len(exceptionEntries))
	for i, e := range exceptionEntries {
		out[i].Name = e.Name
		switch e.Kind {
		case 's':
			out[i].XSDType = "string"
		case 'i':
			out[i].XSDType = "int"
		}
	}
	return out
}

// ExceptionClassName is the ClassName entry of every exception written.
const ExceptionClassName = exceptionClassName

func (e *Exception) str(name string) **string {
	switch name {
	case "Message":
		return &e.Message
	case "HelpURL":
		return &e.HelpURL
	case "StackTraceString":
		return &e.StackTraceString
	case "RemoteStackTraceString":
		return &e.RemoteStackTraceString
	case "ExceptionMethod":
		return &e.ExceptionMethod
	case "Source":
		return &e.Source
	}
	return nil
}

func (e *Exception) int(name string) *int32 {
	switch name {
	case "RemoteStackIndex":
		return &e.RemoteStackIndex
	case "HResult":
		return &e.HResult
	}
	return nil
}

// Dict is a non-generic IDictionary of strings in insertion order; a nil *Dict is null.
type Dict []DictEntry

// DictEntry is one key and its value (nil = null).
type DictEntry struct {
	Key   string
	Value *string
}

func isUpper(r rune) bool   { return unicode.IsUpper(r) }
func toLower(r rune) rune   { return unicode.ToLower(r) }
func itoa(v int64) string   { return strconv.FormatInt(v, 10) }
func quote(s string) string { return strconv.Quote(s) }

// setInteger stores a bound integer in a member of any integer kind: int, long, their Nullable forms and
// enums. Range checks are the reader's.
func setInteger(m *Member, f reflect.Value, v int64) {
	switch m.Kind {
	case NullableInt32:
		x := int32(v)
		f.Set(reflect.ValueOf(&x))
	case NullableInt64:
		f.Set(reflect.ValueOf(&v))
	default:
		f.SetInt(v)
	}
}
