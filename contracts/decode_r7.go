package contracts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"aspgate/contracts/jsonnet"
	"aspgate/xmlns"
)

// ASC.Api (r7office) reads request bodies into one name/value collection, and the oracle reads the envelope
// back from its JSON or its converted XML. This file reproduces both the way the real code paths do.

// xmlDouble is XmlConvert.ToString(double): round-trip digits, INF, -INF, NaN.
func xmlDouble(f float64) string {
	switch s := jsonnet.FormatDouble(f); s {
	case "Infinity":
		return "INF"
	case "-Infinity":
		return "-INF"
	case "NaN":
		return s
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if mant, exp, ok := strings.Cut(s, "e"); ok {
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		s = mant + "E" + string(sign) + exp
	}
	return s
}

// checkXMLName is what XName.Get checks of an element name (an optional prefix, then an NCName).
func checkXMLName(name string) error {
	if name == "" {
		return errors.New("XmlNodeConverter cannot convert JSON with an empty property name to XML.")
	}
	local := name
	if i := strings.IndexByte(name, ':'); i >= 0 {
		local = name[i+1:]
	}
	for i, c := range local {
		if c == ':' || !(isNameStart(c) || i > 0 && isNameChar(c)) {
			if i == 0 {
				return fmt.Errorf("Name cannot begin with the '%c' character, hexadecimal value 0x%02X.", c, c)
			}
			return fmt.Errorf("The '%c' character, hexadecimal value 0x%02X, cannot be included in a name.", c, c)
		}
	}
	if local == "" {
		return errors.New("The empty string '' is not a valid local name.")
	}
	return nil
}

func isNameStart(c rune) bool {
	return c == '_' || unicode.IsLetter(c) || c > 0xFFFF
}

func isNameChar(c rune) bool {
	return isNameStart(c) || c == '-' || c == '.' || unicode.IsDigit(c) || c == 0xB7 || unicode.Is(unicode.Mn, c) || unicode.Is(unicode.Mc, c)
}

// decodeR7XML reads the envelope back from its converted XML as the oracle does: the XML turned into the JSON
// it came from (an element with child elements is an object, an empty one null, any other its text; the
// `data` dictionary's keys XmlConvert-decoded), then read like the envelope's JSON.
func decodeR7XML(c *Contract, text []byte) (any, error) {
	root, err := xmlns.Parse(text, xmlns.ParseOptions{AnyEncoding: true, CheckCharacters: true})
	if err != nil {
		return nil, wholeBody(err)
	}
	json := appendR7JSON(nil, c, root)
	return decodeR7JSON(c, json)
}

// appendR7JSON writes an element's known children as a JSON object (later duplicates replace earlier ones).
func appendR7JSON(dst []byte, c *Contract, n *xmlns.Node) []byte {
	type prop struct {
		name  string
		value []byte
	}
	var props []prop
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
		var v []byte
		switch {
		case m.Kind == DictKind:
			v = append(v, '{')
			for i, k := range child.Children {
				if i > 0 {
					v = append(v, ',')
				}
				v = jsonnet.AppendString(v, decodeXMLName(k.Local), jsonnet.Default)
				v = append(v, ':')
				if k.SelfClosing {
					v = append(v, "null"...)
				} else {
					v = jsonnet.AppendString(v, allText(k), jsonnet.Default)
				}
			}
			v = append(v, '}')
		case len(child.Children) > 0:
			if m.Elem != nil {
				v = appendR7JSON(nil, m.Elem, child)
			} else {
				v = []byte("{}")
			}
		case child.SelfClosing:
			v = []byte("null")
		default:
			v = jsonnet.AppendString(nil, xdocText(child.Text), jsonnet.Default)
		}
		replaced := false
		for i := range props {
			if props[i].name == child.Local {
				props[i].value, replaced = v, true
			}
		}
		if !replaced {
			props = append(props, prop{child.Local, v})
		}
	}
	dst = append(dst, '{')
	for i, p := range props {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonnet.AppendString(dst, p.name, jsonnet.Default)
		dst = append(dst, ':')
		dst = append(dst, p.value...)
	}
	return append(dst, '}')
}

// xdocText is an element's text as XDocument.Parse keeps it: text of white space only is dropped
// (LoadOptions.None).
func xdocText(s string) string {
	if strings.Trim(s, " \t\r\n") == "" {
		return ""
	}
	return s
}

// allText is XElement.Value: the text of the element and its descendants.
func allText(n *xmlns.Node) string {
	if len(n.Children) == 0 {
		return xdocText(n.Text)
	}
	var b strings.Builder
	b.WriteString(xdocText(n.Text))
	for _, c := range n.Children {
		b.WriteString(allText(c))
	}
	return b.String()
}

// decodeXMLName is XmlConvert.DecodeName: _xHHHH_ and _xHHHHHHHH_ escapes back to their characters.
func decodeXMLName(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "_x") {
			for _, n := range []int{4, 8} {
				if i+2+n < len(s) && s[i+2+n] == '_' {
					if v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil && utf8.ValidRune(rune(v)) {
						b.WriteRune(rune(v))
						i += 3 + n
						goto next
					}
				}
			}
		}
		b.WriteByte(s[i])
		i++
	next:
	}
	return b.String()
}
