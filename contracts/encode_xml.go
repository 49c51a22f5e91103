package contracts

import (
	"reflect"
	"strconv"

	"aspgate/xmlns"
)

// AppendXML appends v (a pointer to the contract's Go type) as the app's XML formatter writes it:
// DataContractSerializer for the Web API apps; for r7office the XML that ASC.Api converts from its JSON.
func AppendXML(dst []byte, c *Contract, v any) ([]byte, error) {
	rv, err := valueOf(c, v)
	if err != nil {
		return dst, err
	}
	var w xmlns.Writer
	if c.App.ASCAPI && c.Direction == Response {
		w.Reset(dst, xmlns.XLinq)
		w.StartElement("", r7Root, "")
		writeR7Members(&w, c, rv)
		w.EndElement()
		return w.Bytes()
	}
	w.Reset(dst, xmlns.DataContract)
	w.StartElement("", c.Name, c.NS)
	w.Attr("xmlns", "i", xmlns.Instance)
	if err := writeDCMembers(&w, c, rv, 2); err != nil {
		return dst, err
	}
	w.EndElement()
	return w.Bytes()
}

// EncodeXML returns v as the app's XML in a new slice. A caller that has a buffer to reuse should call
// AppendXML instead.
func EncodeXML(c *Contract, v any) ([]byte, error) {
	return encodeExact(AppendXML, c, v)
}

// arrayPrefixes are the prefixes DataContractSerializer makes up for a namespace first declared at depth
// N: "d" + N + "p1". schemaTypes are the i:type values of ISerializable entries at depth N, made once so
// that writing an exception concatenates nothing.
var arrayPrefixes, schemaTypes = func() ([]string, []struct{ str, int string }) {
	p := make([]string, xmlns.MaxDepth+1)
	t := make([]struct{ str, int string }, len(p))
	for i := range p {
		p[i] = "d" + strconv.Itoa(i) + "p1"
		t[i].str, t[i].int = p[i]+":string", p[i]+":int"
	}
	return p, t
}()

const systemNS = xmlns.DataContractPrefix + "System"

// writeDCMembers writes the members of an object whose own element is at depth-1.
func writeDCMembers(w *xmlns.Writer, c *Contract, rv reflect.Value, depth int) error {
	var num [40]byte
	for _, m := range c.xmlOrder {
		f := rv.Field(m.index)
		w.StartElement("", m.Name, m.NS)
		switch m.Kind {
		case String:
			if f.IsNil() {
				w.Attr("i", "nil", "true")
			} else {
				w.Text(f.Elem().String())
			}
		case Int32, Int64:
			w.RawBytes(strconv.AppendInt(num[:0], f.Int(), 10))
		case NullableInt32, NullableInt64:
			if f.IsNil() {
				w.Attr("i", "nil", "true")
			} else {
				w.RawBytes(strconv.AppendInt(num[:0], f.Elem().Int(), 10))
			}
		case Bool:
			if f.Bool() {
				w.Raw("true")
			} else {
				w.Raw("false")
			}
		case GuidKind:
			w.RawBytes(f.Addr().Interface().(*Guid).appendText(num[:0]))
		case EnumKind:
			name, ok := m.Enum.NameOf(f.Int())
			if !ok {
				return &UndefinedEnumError{Enum: m.Enum, Value: f.Int()}
			}
			w.Raw(name)
		case StringList:
			prefix := arrayPrefixes[depth]
			w.Attr("xmlns", prefix, xmlns.Arrays)
			if f.IsNil() {
				w.Attr("i", "nil", "true")
				break
			}
			for _, p := range *f.Addr().Interface().(*[]*string) {
				w.StartElement(prefix, "string", "")
				if p == nil {
					w.Attr("i", "nil", "true")
				} else {
					w.Text(*p)
				}
				w.EndElement()
			}
		case Object:
			if f.IsNil() {
				w.Attr("i", "nil", "true")
				break
			}
			if err := writeDCMembers(w, m.Elem, f.Elem(), depth+1); err != nil {
				return err
			}
		case ObjectList:
			if f.IsNil() {
				w.Attr("i", "nil", "true")
				break
			}
			for i := 0; i < f.Len(); i++ {
				item := f.Index(i)
				w.StartElement("", m.Elem.Name, m.Elem.NS)
				if item.IsNil() {
					w.Attr("i", "nil", "true")
				} else if err := writeDCMembers(w, m.Elem, item.Elem(), depth+2); err != nil {
					return err
				}
				w.EndElement()
			}
		case ExceptionKind:
			w.Attr("xmlns", arrayPrefixes[depth], systemNS)
			if f.IsNil() {
				w.Attr("i", "nil", "true")
				break
			}
			writeDCException(w, f.Interface().(*Exception), depth+1)
		default:
			panic("contracts: kind not written as DataContract XML")
		}
		w.EndElement()
	}
	return w.Err()
}

// writeDCException writes the ISerializable entries: each in no namespace, typed with i:type.
func writeDCException(w *xmlns.Writer, e *Exception, depth int) {
	var num [12]byte
	prefix, types := arrayPrefixes[depth], schemaTypes[depth]
	for _, entry := range exceptionEntries {
		w.StartElement("", entry.Name, "")
		switch {
		case entry.Name == "ClassName":
			writeSchemaType(w, prefix, types.str)
			w.Text(exceptionClassName)
		case entry.Kind == 'n':
			w.Attr("i", "nil", "true")
		case entry.Kind == 'i':
			writeSchemaType(w, prefix, types.int)
			w.RawBytes(strconv.AppendInt(num[:0], int64(*e.int(entry.Name)), 10))
		default:
			if p := *e.str(entry.Name); p == nil {
				w.Attr("i", "nil", "true")
			} else {
				writeSchemaType(w, prefix, types.str)
				w.Text(*p)
			}
		}
		w.EndElement()
	}
}

// writeSchemaType declares the XML Schema namespace under prefix and types the open element with it.
func writeSchemaType(w *xmlns.Writer, prefix, typ string) {
	w.Attr("xmlns", prefix, xmlns.Schema)
	w.Attr("i", "type", typ)
}

// writeR7Members writes an ASC.Api object as Json.NET's XmlNodeConverter turns its JSON into elements:
// the JSON names, numbers and booleans as their JSON text, null as an empty element.
func writeR7Members(w *xmlns.Writer, c *Contract, rv reflect.Value) {
	var num [40]byte
	for _, m := range c.jsonOrder {
		f := rv.Field(m.index)
		if m.OmitDefault && f.IsZero() {
			continue
		}
		w.StartElement("", m.jsonName, "")
		switch m.Kind {
		case String:
			if !f.IsNil() {
				w.Text(f.Elem().String())
			}
		case Int32, Int64, EnumKind:
			w.RawBytes(strconv.AppendInt(num[:0], f.Int(), 10))
		case NullableInt64:
			if !f.IsNil() {
				w.RawBytes(strconv.AppendInt(num[:0], f.Elem().Int(), 10))
			}
		case Bool:
			w.Raw(strconv.FormatBool(f.Bool()))
		case ApiDateTimeKind:
			if !f.IsNil() {
				w.RawBytes(f.Interface().(*ApiDateTime).appendText(num[:0]))
			}
		case Object:
			if !f.IsNil() {
				writeR7Members(w, m.Elem, f.Elem())
			}
		case DictKind:
			if !f.IsNil() {
				for _, e := range *f.Interface().(*Dict) {
					name := CamelCase(e.Key)
					if !xmlns.IsNCName(name) {
						w.Fail(&xmlns.InvalidNameError{Name: name})
						return
					}
					w.StartElement("", name, "")
					if e.Value != nil {
						w.Text(*e.Value)
					}
					w.EndElement()
				}
			}
		default:
			panic("contracts: kind not written by ASC.Api")
		}
		w.EndElement()
	}
}
