package contracts

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"aspgate/contracts/jsonnet"
)

// AppendJSON appends v (a pointer to the contract's Go type) as the app's JSON formatter writes it:
// Json.NET 6, compact, nulls written, members in reflection order; for r7office ASC.Api's envelope writer.
func AppendJSON(dst []byte, c *Contract, v any) ([]byte, error) {
	rv, err := valueOf(c, v)
	if err != nil {
		return dst, err
	}
	return appendJSONObject(dst, c, rv), nil
}

// EncodeJSON returns v as the app's JSON in a new slice. A caller that has a buffer to reuse should call
// AppendJSON instead.
func EncodeJSON(c *Contract, v any) ([]byte, error) {
	return encodeExact(AppendJSON, c, v)
}

// scratch holds the buffers EncodeJSON and EncodeXML write into before copying the document out at its exact
// size: one allocation per call whatever the size (no growing and copying on the way), and no slack capacity
// kept alive by the caller. The pool holds *[]byte because putting a slice itself in an interface allocates.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxScratch bounds the buffers that go back to the pool, so that one huge document does not stay pinned.
const maxScratch = 64 << 10

func encodeExact(appendTo func([]byte, *Contract, any) ([]byte, error), c *Contract, v any) ([]byte, error) {
	p := scratch.Get().(*[]byte)
	b, err := appendTo((*p)[:0], c, v)
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	if cap(b) <= maxScratch {
		*p = b[:0]
		scratch.Put(p)
	}
	return out, err
}

func valueOf(c *Contract, v any) (reflect.Value, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Type().Elem() != c.Go || rv.IsNil() {
		return rv, fmt.Errorf("contracts: %s wants a non-nil *%s, got %T", c.Name, c.Go.Name(), v)
	}
	return rv.Elem(), nil
}

func stringEscaping(c *Contract) jsonnet.Escaping {
	if c.App != nil && c.App.ASCAPI && c.Direction != Request {
		return jsonnet.ASCAPI
	}
	return jsonnet.Default
}

func appendJSONObject(dst []byte, c *Contract, rv reflect.Value) []byte {
	esc := stringEscaping(c)
	dst = append(dst, '{')
	first := true
	for _, m := range c.jsonOrder {
		var f reflect.Value
		if !m.ReadOnly {
			f = rv.Field(m.index)
			if m.OmitDefault && f.IsZero() {
				continue
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, m.jsonKey...)
		if m.ReadOnly {
			dst = strconv.AppendBool(dst, rv.Addr().Interface().(interface{ IsSuccess() bool }).IsSuccess())
			continue
		}
		dst = appendJSONValue(dst, m, f, esc)
	}
	return append(dst, '}')
}

func appendJSONString(dst []byte, p *string, esc jsonnet.Escaping) []byte {
	if p == nil {
		return append(dst, "null"...)
	}
	return jsonnet.AppendString(dst, *p, esc)
}

func appendJSONValue(dst []byte, m *Member, f reflect.Value, esc jsonnet.Escaping) []byte {
	switch m.Kind {
	case String:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		return jsonnet.AppendString(dst, f.Elem().String(), esc)
	case Int32, Int64, EnumKind:
		return strconv.AppendInt(dst, f.Int(), 10)
	case NullableInt32, NullableInt64:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		return strconv.AppendInt(dst, f.Elem().Int(), 10)
	case Bool:
		return strconv.AppendBool(dst, f.Bool())
	case GuidKind:
		g := f.Addr().Interface().(*Guid)
		dst = append(dst, '"')
		dst = g.appendText(dst)
		return append(dst, '"')
	case StringList:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i, p := range *f.Addr().Interface().(*[]*string) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, p, esc)
		}
		return append(dst, ']')
	case Object:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		return appendJSONObject(dst, m.Elem, f.Elem())
	case ObjectList:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i := 0; i < f.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			item := f.Index(i)
			if item.IsNil() {
				dst = append(dst, "null"...)
				continue
			}
			dst = appendJSONObject(dst, m.Elem, item.Elem())
		}
		return append(dst, ']')
	case ExceptionKind:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		return appendJSONException(dst, f.Interface().(*Exception))
	case ApiDateTimeKind:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '"')
		dst = f.Interface().(*ApiDateTime).appendText(dst)
		return append(dst, '"')
	case DictKind:
		if f.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '{')
		for i, e := range *f.Interface().(*Dict) {
			if i > 0 {
				dst = append(dst, ',')
			}
			// Json.NET 6's camelCase resolver renames dictionary keys too.
			dst = jsonnet.AppendString(dst, CamelCase(e.Key), jsonnet.Default)
			dst = append(dst, ':')
			dst = appendJSONString(dst, e.Value, esc)
		}
		return append(dst, '}')
	}
	panic("contracts: unknown kind")
}

// appendJSONException writes the ISerializable entries; their names are not camel-cased even by aries.
func appendJSONException(dst []byte, e *Exception) []byte {
	dst = append(dst, '{')
	for i, entry := range exceptionEntries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, entry.Name...)
		dst = append(dst, '"', ':')
		switch {
		case entry.Name == "ClassName":
			dst = jsonnet.AppendString(dst, exceptionClassName, jsonnet.Default)
		case entry.Kind == 'n':
			dst = append(dst, "null"...)
		case entry.Kind == 'i':
			dst = strconv.AppendInt(dst, int64(*e.int(entry.Name)), 10)
		default:
			dst = appendJSONString(dst, *e.str(entry.Name), jsonnet.Default)
		}
	}
	return append(dst, '}')
}
