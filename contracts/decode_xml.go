package contracts

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"aspgate/xmlns"
)

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
	if isNil(root) {
		return nil, nil
	}
	v := reflect.New(c.Go)
	if err := readDCMembers(c, root, v.Elem()); err != nil {
		return nil, wholeBody(fmt.Errorf("There was an error deserializing the object of type %s. %w", c.Name, err))
	}
	return v.Interface(), nil
}

func wholeBody(err error) error { return &DecodeError{Errors: []FieldError{{Err: err}}} }

func isNil(n *xmlns.Node) bool {
	v, ok := n.AttrValue(xmlns.Instance, "nil")
	if !ok {
		return false
	}
	b, err := xmlBool(v)
	return err == nil && b
}

func readDCMembers(c *Contract, n *xmlns.Node, rv reflect.Value) error {
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
	if isNil(n) {
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
		v, ok := m.Enum.Parse(strings.Trim(n.Text, " \t\r\n"), false)
		if !ok {
			return fmt.Errorf("Invalid enum value '%s' cannot be deserialized into type '%s'.", n.Text, m.Enum.CLRName)
		}
		f.SetInt(v)
	case StringList:
		list := []*string{}
		for _, item := range n.Children {
			if item.Local != "string" || item.NS != xmlns.Arrays {
				continue
			}
			if isNil(item) {
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
		list := reflect.MakeSlice(f.Type(), 0, len(n.Children))
		for _, item := range n.Children {
			if item.Local != m.Elem.Name || item.NS != m.Elem.NS {
				continue
			}
			if isNil(item) {
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
		e := &Exception{HResult: DefaultHResult}
		for _, entry := range n.Children {
			if p := e.str(entry.Local); p != nil {
				if isNil(entry) {
					*p = nil
				} else {
					s := entry.Text
					*p = &s
				}
			} else if p := e.int(entry.Local); p != nil && !isNil(entry) {
				v, err := xmlInt(entry.Text, 32)
				if err != nil {
					return err
				}
				*p = int32(v)
			}
		}
		f.Set(reflect.ValueOf(e))
	default:
		panic("contracts: kind not read from DataContract XML")
	}
	return nil
}

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

// decodeR7XML reads an ASC.Api envelope back from its converted XML: an element with child elements is an
// object, an empty element null, any other its text.
func decodeR7XML(c *Contract, text []byte) (any, error) {
	root, err := xmlns.Parse(text, xmlns.ParseOptions{})
	if err != nil {
		return nil, wholeBody(err)
	}
	v := reflect.New(c.Go)
	if err := readR7Members(c, root, v.Elem()); err != nil {
		return nil, wholeBody(err)
	}
	return v.Interface(), nil
}

func readR7Members(c *Contract, n *xmlns.Node, rv reflect.Value) error {
	for _, child := range n.Children {
		var m *Member
		for _, cand := range c.jsonOrder {
			if cand.jsonName == child.Local {
				m = cand
			}
		}
		if m == nil {
			continue
		}
		f := rv.Field(m.index)
		empty := !child.HasContent
		switch m.Kind {
		case String:
			if child.SelfClosing {
				f.SetZero()
				continue
			}
			s := child.Text
			f.Set(reflect.ValueOf(&s))
		case Int32, Int64, EnumKind, NullableInt64:
			if empty {
				f.SetZero()
				continue
			}
			x, err := xmlInt(child.Text, 64)
			if err != nil {
				return err
			}
			if m.Kind == NullableInt64 {
				f.Set(reflect.ValueOf(&x))
			} else {
				f.SetInt(x)
			}
		case Bool:
			b, err := xmlBool(child.Text)
			if err != nil && !empty {
				return err
			}
			f.SetBool(b)
		case ApiDateTimeKind:
			if empty {
				f.SetZero()
				continue
			}
			d, err := ParseApiDateTime(child.Text)
			if err != nil {
				return err
			}
			f.Set(reflect.ValueOf(d))
		case Object:
			if len(child.Children) == 0 {
				f.SetZero()
				continue
			}
			v := reflect.New(m.Elem.Go)
			if err := readR7Members(m.Elem, child, v.Elem()); err != nil {
				return err
			}
			f.Set(v)
		case DictKind:
			d := Dict{}
			for _, e := range child.Children {
				if e.SelfClosing {
					d = append(d, DictEntry{Key: e.Local})
					continue
				}
				s := e.Text
				d = append(d, DictEntry{Key: e.Local, Value: &s})
			}
			f.Set(reflect.ValueOf(&d))
		}
	}
	return nil
}

// xmlLeaves lists the root's direct children that hold no elements, with their text (ASC.Api's binder).
func xmlLeaves(text []byte) ([][2]string, error) {
	root, err := xmlns.Parse(text, xmlns.ParseOptions{})
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, c := range root.Children {
		if len(c.Children) == 0 {
			out = append(out, [2]string{c.Local, c.Text})
		}
	}
	return out, nil
}
