package contracts

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"aspgate/contracts/jsonnet"
)

// The input form is the neutral text the contract CLI and the oracle exchange member values in: a JSON
// object with the app's JSON member names (matched ignoring case), enums as numbers or names, Guids as
// strings, an exception as an object keyed by its ISerializable entry names, and "Name@Class" for a member
// that a more derived one shadows in JSON ("apiKey@ApiKeyRequestViewModel"). Missing members keep their
// CLR default; unknown members are an error.

// ReadInput builds a value of the contract's type from the input form.
func ReadInput(c *Contract, text []byte) (any, error) {
	b := &jsonBinder{r: jsonnet.NewReader(text), input: true}
	b.r.MaxDepth = 64
	if !b.read() {
		return nil, &DecodeError{Errors: b.errs}
	}
	if b.r.Token != jsonnet.StartObject {
		return nil, fmt.Errorf("input must be a JSON object, got %s", b.r.Token)
	}
	v := reflect.New(c.Go)
	b.object(c, v.Elem())
	if len(b.errs) > 0 {
		return nil, &DecodeError{Errors: b.errs}
	}
	return v.Interface(), nil
}

// AppendInput appends v in the input form as the oracle's deserialize command prints it: every settable
// member in reflection order, shadowed ones as Name@Class, enums as numbers, non-ASCII escaped. A nil v
// is "null".
func AppendInput(dst []byte, c *Contract, v any) ([]byte, error) {
	if v == nil || reflect.ValueOf(v).IsNil() {
		return append(dst, "null"...), nil
	}
	rv, err := valueOf(c, v)
	if err != nil {
		return dst, err
	}
	return appendInputObject(dst, c, rv), nil
}

func appendInputObject(dst []byte, c *Contract, rv reflect.Value) []byte {
	dst = append(dst, '{')
	var used []string
	first := true
	for i := range c.Members {
		m := &c.Members[i]
		if m.ReadOnly {
			continue
		}
		key := m.jsonName
		for _, u := range used {
			if strings.EqualFold(u, key) {
				key = m.jsonName + "@" + m.Class
				break
			}
		}
		used = append(used, m.jsonName)
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonnet.AppendString(dst, key, jsonnet.NonASCII)
		dst = append(dst, ':')
		dst = appendInputValue(dst, m, rv.Field(m.index))
	}
	return append(dst, '}')
}

func appendInputString(dst []byte, p *string) []byte {
	if p == nil {
		return append(dst, "null"...)
	}
	return jsonnet.AppendString(dst, *p, jsonnet.NonASCII)
}

func appendInputValue(dst []byte, m *Member, f reflect.Value) []byte {
	switch m.Kind {
	case String:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		return jsonnet.AppendString(dst, f.Elem().String(), jsonnet.NonASCII)
	case StringList:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i, p := range f.Interface().([]*string) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendInputString(dst, p)
		}
		return append(dst, ']')
	case Object:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		return appendInputObject(dst, m.Elem, f.Elem())
	case ObjectList:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i := 0; i < f.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			if f.Index(i).IsNil() {
				dst = append(dst, "null"...)
			} else {
				dst = appendInputObject(dst, m.Elem, f.Index(i).Elem())
			}
		}
		return append(dst, ']')
	case ExceptionKind:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		e := f.Interface().(*Exception)
		dst = append(dst, '{')
		first := true
		for _, entry := range exceptionEntries {
			if entry.Kind == 'n' || entry.Name == "ClassName" {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, '"')
			dst = append(dst, entry.Name...)
			dst = append(dst, '"', ':')
			if entry.Kind == 'i' {
				dst = strconv.AppendInt(dst, int64(*e.int(entry.Name)), 10)
			} else {
				dst = appendInputString(dst, *e.str(entry.Name))
			}
		}
		return append(dst, '}')
	case DictKind:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '{')
		for i, e := range *f.Interface().(*Dict) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonnet.AppendString(dst, e.Key, jsonnet.NonASCII)
			dst = append(dst, ':')
			dst = appendInputString(dst, e.Value)
		}
		return append(dst, '}')
	}
	// Scalars print as their JSON.
	return appendJSONValue(dst, m, f, jsonnet.NonASCII)
}
