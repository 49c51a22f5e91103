package contracts

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"aspgate/xmlns"
)

// decodeXMLBody reads the bytes of an XML body as XmlDictionaryReader.CreateTextReader does with the encoding
// the formatter picked from the charset (UTF-16LE for utf-16, else UTF-8): a byte order mark or a first
// character that shows another encoding is an error, as is a declaration naming another.
func decodeXMLBody(c *Contract, body []byte, charset string) (any, error) {
	expected := "utf-8"
	if strings.EqualFold(strings.TrimSpace(charset), "utf-16") {
		expected = "utf-16LE"
	}
	actual := expected
	switch {
	case len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF:
		actual, body = "utf-8", body[3:]
	case len(body) >= 2 && body[0] == 0xFF && body[1] == 0xFE:
		actual, body = "utf-16LE", body[2:]
	case len(body) >= 2 && body[0] == 0xFE && body[1] == 0xFF:
		actual, body = "utf-16BE", body[2:]
	case len(body) >= 2 && body[0] == '<' && body[1] == 0:
		actual = "utf-16LE"
	case len(body) >= 2 && body[0] == 0 && body[1] == '<':
		actual = "utf-16BE"
	case len(body) >= 2 && body[0] == '<' && body[1] != 0:
		actual = "utf-8"
	}
	if actual != expected {
		return nil, wholeBody(fmt.Errorf("The expected encoding '%s' does not match the actual encoding '%s'.", expected, actual))
	}
	cs, enc := "utf-8", "utf-8"
	if expected != "utf-8" {
		cs, enc = "utf-16", "utf-16"
	}
	text, err := Transcode(body, cs)
	if err != nil {
		return nil, wholeBody(err)
	}
	return decodeXML(c, text, enc)
}

// DecodeXML binds an XML body (UTF-8) as Web API's XmlMediaTypeFormatter does with DataContractSerializer:
// the root must be the contract's name in its namespace; members are read in DataContract order, so an
// element that comes after a later member, a repeated one or one in a foreign namespace is skipped; any
// bad value fails the whole body. Prefixes do not matter, only namespace URIs.
func DecodeXML(c *Contract, text []byte) (any, error) {
	return decodeXML(c, text, "utf-8")
}

func decodeXML(c *Contract, text []byte, encoding string) (any, error) {
	root, err := xmlns.Parse(text, xmlns.ParseOptions{Encoding: encoding})
	if err != nil {
		return nil, wholeBody(fmt.Errorf("There was an error deserializing the object of type %s. %w", c.Name, err))
	}
	if root.Local != c.Name || root.NS != c.NS {
		return nil, wholeBody(fmt.Errorf("Error in line 1 position 1. Expecting element '%s' from namespace '%s'.. Encountered 'Element'  with name '%s', namespace '%s'.", c.Name, c.NS, root.Local, root.NS))
	}
	if t, ok := root.AttrValue(xmlns.Instance, "type"); ok {
		// i:type on the root must name the contract itself: a derived one is not known to the serializer.
		if local, ns := resolveQName(root, t); local != c.Name || ns != c.NS {
			return nil, wholeBody(fmt.Errorf("Error in line 1 position 1. Element '%s:%s' contains data of the '%s:%s' data contract. The deserializer has no knowledge of any type that maps to this contract.", c.NS, c.Name, ns, local))
		}
	}
	if _, ok := root.AttrValue(serializationNS, "Ref"); ok {
		return nil, wholeBody(errors.New("Deserialized object with reference id not found in stream."))
	}
	null, err := isNil(root)
	if err != nil {
		return nil, wholeBody(fmt.Errorf("There was an error deserializing the object of type %s. %w", c.Name, err))
	}
	if null {
		return nil, nil
	}
	v := reflect.New(c.Go)
	if err := readDCMembers(c, root, v.Elem()); err != nil {
		return nil, wholeBody(fmt.Errorf("There was an error deserializing the object of type %s. %w", c.Name, err))
	}
	return v.Interface(), nil
}

func wholeBody(err error) error { return &DecodeError{Errors: []FieldError{{Err: err}}} }

// serializationNS holds DataContractSerializer's z:Id and z:Ref attributes.
const serializationNS = "http://schemas.microsoft.com/2003/10/Serialization/"

// isNil reads i:nil: a value that is no XML boolean is an error.
func isNil(n *xmlns.Node) (bool, error) {
	v, ok := n.AttrValue(xmlns.Instance, "nil")
	if !ok {
		return false, nil
	}
	return xmlBool(v)
}

// resolveQName splits the QName of an i:type attribute into its local name and the namespace its prefix is
// bound to.
func resolveQName(n *xmlns.Node, v string) (local, ns string) {
	for _, a := range n.Attrs {
		if a.NS == xmlns.Instance && a.Local == "type" {
			ns = a.ValueNS
		}
	}
	if _, l, found := strings.Cut(v, ":"); found {
		return l, ns
	}
	return v, ns
}

// textContent reports an element whose content holds text other than white space: where the serializer
// expects elements, that is an error.
func textContent(n *xmlns.Node) error {
	if strings.Trim(n.Text, " \t\r\n") != "" {
		return fmt.Errorf("Expecting state 'Element'.. Encountered 'Text'  with name '', namespace ''.")
	}
	return nil
}

func readDCMembers(c *Contract, n *xmlns.Node, rv reflect.Value) error {
	if err := textContent(n); err != nil {
		return err
	}
	next := 0
	for _, child := range n.Children {
		j := next
		for ; j < len(c.xmlOrder); j++ {
			if m := c.xmlOrder[j]; m.Name == child.Local && m.NS == child.NS {
				break
			}
		}
		if j == len(c.xmlOrder) {
			continue // unknown, out of order, repeated or foreign: skipped
		}
		next = j + 1
		m := c.xmlOrder[j]
		if err := readDCValue(m, child, rv.Field(m.index)); err != nil {
			return err
		}
	}
	return nil
}

func readDCValue(m *Member, n *xmlns.Node, f reflect.Value) error {
	null, err := isNil(n)
	if err != nil {
		return err
	}
	if null {
		switch m.Kind {
		case Int32, Int64, Bool, GuidKind, EnumKind:
			return fmt.Errorf("The value '' cannot be parsed as the type '%s'.", clrName(m))
		}
		f.SetZero()
		return nil
	}
	if len(n.Children) > 0 {
		switch m.Kind {
		case StringList, Object, ObjectList, ExceptionKind:
		default:
			return fmt.Errorf("Element '%s' must not contain child elements.", n.Local)
		}
	}
	switch m.Kind {
	case String:
		s := n.Text
		f.Set(reflect.ValueOf(&s))
	case Int32, NullableInt32, Int64, NullableInt64:
		bits := 32
		if m.Kind == Int64 || m.Kind == NullableInt64 {
			bits = 64
		}
		v, err := xmlInt(n.Text, bits)
		if err != nil {
			return err
		}
		setInteger(m, f, v)
	case Bool:
		b, err := xmlBool(n.Text)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case GuidKind:
		g, err := ParseGuid(n.Text)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(g))
	case EnumKind:
		v, ok := m.Enum.Parse(n.Text, false) // exactly a member name: no white space around
		if !ok {
			return fmt.Errorf("Invalid enum value '%s' cannot be deserialized into type '%s'.", n.Text, m.Enum.CLRName)
		}
		f.SetInt(v)
	case StringList:
		if err := textContent(n); err != nil {
			return err
		}
		list := []*string{}
		for _, item := range n.Children {
			if item.Local != "string" || item.NS != xmlns.Arrays {
				continue
			}
			null, err := isNil(item)
			if err != nil {
				return err
			}
			if null {
				list = append(list, nil)
				continue
			}
			if len(item.Children) > 0 {
				return errors.New("a string item must not contain child elements")
			}
			s := item.Text
			list = append(list, &s)
		}
		f.Set(reflect.ValueOf(list))
	case Object:
		v := reflect.New(m.Elem.Go)
		if err := readDCMembers(m.Elem, n, v.Elem()); err != nil {
			return err
		}
		f.Set(v)
	case ObjectList:
		if err := textContent(n); err != nil {
			return err
		}
		list := reflect.MakeSlice(f.Type(), 0, len(n.Children))
		for _, item := range n.Children {
			if item.Local != m.Elem.Name || item.NS != m.Elem.NS {
				continue
			}
			null, err := isNil(item)
			if err != nil {
				return err
			}
			if null {
				list = reflect.Append(list, reflect.Zero(f.Type().Elem()))
				continue
			}
			v := reflect.New(m.Elem.Go)
			if err := readDCMembers(m.Elem, item, v.Elem()); err != nil {
				return err
			}
			list = reflect.Append(list, v)
		}
		f.Set(list)
	case ExceptionKind:
		// The ISerializable entries: typed by i:type (xsd:string, xsd:int), null by i:nil; an entry
		// without either is not taken.
		if err := textContent(n); err != nil {
			return err
		}
		e := &Exception{HResult: DefaultHResult}
		for _, entry := range n.Children {
			null, err := isNil(entry)
			if err != nil {
				return err
			}
			t, typed := entry.AttrValue(xmlns.Instance, "type")
			local, ns := "", ""
			if typed {
				local, ns = resolveQName(entry, t)
			}
			if ns != xsdNS && !null {
				continue
			}
			if p := e.str(entry.Local); p != nil {
				switch {
				case null:
					*p = nil
				case local == "string":
					s := entry.Text
					*p = &s
				case local == "int":
					s := strings.Trim(entry.Text, " \t\r\n")
					*p = &s
				}
			} else if p := e.int(entry.Local); p != nil {
				switch {
				case null:
					*p = 0
				case local == "int" || local == "string":
					v, err := xmlInt(entry.Text, 32)
					if err != nil {
						return err
					}
					*p = int32(v)
				}
			}
		}
		f.Set(reflect.ValueOf(e))
	default:
		panic("contracts: kind not read from DataContract XML")
	}
	return nil
}

const xsdNS = "http://www.w3.org/2001/XMLSchema"

// xmlInt is XmlConvert.ToInt32/ToInt64: white space around, an optional sign, decimal digits.
func xmlInt(s string, bits int) (int64, error) {
	t := strings.Trim(s, " \t\r\n")
	if strings.HasPrefix(t, "+") && len(t) > 1 && t[1] != '-' && t[1] != '+' {
		t = t[1:]
	}
	v, err := strconv.ParseInt(t, 10, bits)
	if err != nil {
		typ := "Int32"
		if bits == 64 {
			typ = "Int64"
		}
		return 0, fmt.Errorf("The value '%s' cannot be parsed as the type '%s'.", s, typ)
	}
	return v, nil
}

// xmlBool is XmlConvert.ToBoolean: "true", "false", "1" or "0" with white space around.
func xmlBool(s string) (bool, error) {
	switch strings.Trim(s, " \t\r\n") {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("The value '%s' cannot be parsed as the type 'Boolean'.", s)
}
