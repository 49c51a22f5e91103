package openapi

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"aspgate/xmlns"
)

// An XML document checked against the document's XML schemas: OpenAPI validators do not read XML, so the
// test walks the elements itself. It reads what the xml objects claim (element names, namespaces, the
// prefixes of Arrays items, wrapped arrays, order, i:nil only where null is allowed) and holds them
// against bytes the real DataContractSerializer wrote (the recordings).

type xelem struct {
	space, local, prefix string
	attrs                []xattr
	children             []*xelem
	text                 string
}

type xattr struct{ space, local, value string }

func (e *xelem) attr(space, local string) (string, bool) {
	for _, a := range e.attrs {
		if a.space == space && a.local == local {
			return a.value, true
		}
	}
	return "", false
}

// parseXML reads a document keeping each element's prefix as written (encoding/xml's Token resolves
// prefixes away, so namespaces are resolved here from RawToken).
func parseXML(b []byte) (*xelem, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	type scope map[string]string
	scopes := []scope{{"xml": "http://www.w3.org/XML/1998/namespace"}}
	lookup := func(p string) (string, bool) {
		for i := len(scopes) - 1; i >= 0; i-- {
			if ns, ok := scopes[i][p]; ok {
				return ns, true
			}
		}
		return "", p == ""
	}
	var stack []*xelem
	var root *xelem
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s := scope{}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					s[""] = a.Value
				case a.Name.Space == "xmlns":
					s[a.Name.Local] = a.Value
				}
			}
			scopes = append(scopes, s)
			ns, ok := lookup(t.Name.Space)
			if !ok {
				return nil, fmt.Errorf("undeclared prefix %q", t.Name.Space)
			}
			e := &xelem{space: ns, local: t.Name.Local, prefix: t.Name.Space}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				as := ""
				if a.Name.Space != "" {
					if as, ok = lookup(a.Name.Space); !ok {
						return nil, fmt.Errorf("undeclared prefix %q", a.Name.Space)
					}
				}
				e.attrs = append(e.attrs, xattr{as, a.Name.Local, a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack, scopes = stack[:len(stack)-1], scopes[:len(scopes)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

// xmlChecker checks elements against schemas of the document.
type xmlChecker struct{ doc *node }

// nameOf is the element name and namespace a schema (or a property with its own xml object) gives.
func (c *xmlChecker) nameOf(key string, prop *node) (local, space, prefix string) {
	at := prop.get("xml")
	if at == nil {
		at = c.doc.resolve(prop).get("xml")
	}
	local = key
	if at != nil {
		if n := at.str("name"); n != "" {
			local = n
		}
		space, prefix = at.str("namespace"), at.str("prefix")
	}
	return local, space, prefix
}

// value unwraps anyOf [X, {type: null}] and $ref: the schema of the value and whether null is allowed.
func (c *xmlChecker) value(s *node) (*node, bool) {
	nullable := false
	if any := s.get("anyOf"); any != nil {
		var other *node
		for _, b := range any.list {
			if b.hasType("null") && len(b.types()) == 1 {
				nullable = true
			} else {
				other = b
			}
		}
		s = other
	}
	s = c.doc.resolve(s)
	return s, nullable || s.hasType("null")
}

// root checks a document's root element against a component.
func (c *xmlChecker) root(s *node, e *xelem) error {
	if any := s.get("anyOf"); any != nil { // one of several bodies (ereader's 400: its ApiResult or an HttpError)
		var errs []string
		for _, b := range any.list {
			err := c.root(b, e)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("no alternative fits: %s", strings.Join(errs, "; "))
	}
	local, space, _ := c.nameOf("", s)
	if e.local != local || e.space != space {
		return fmt.Errorf("root {%s}%s, the schema says {%s}%s", e.space, e.local, space, local)
	}
	return c.element(s, e, local)
}

func (c *xmlChecker) element(s *node, e *xelem, path string) error {
	v, nullable := c.value(s)
	if isNil, _ := e.attr(xmlns.Instance, "nil"); isNil == "true" {
		if !nullable {
			return fmt.Errorf("%s: i:nil on a member that cannot be null", path)
		}
		if len(e.children) > 0 {
			return fmt.Errorf("%s: i:nil with content", path)
		}
		return nil
	}
	switch {
	case v.get("properties") != nil:
		return c.object(v, e, path)
	case v.hasType("array"):
		items := v.get("items")
		local, space, prefix := c.nameOf("", items)
		for i, child := range e.children {
			p := fmt.Sprintf("%s[%d]", path, i)
			if child.local != local || child.space != space {
				return fmt.Errorf("%s: item {%s}%s, the schema says {%s}%s", p, child.space, child.local, space, local)
			}
			if prefix != "" && child.prefix != prefix {
				return fmt.Errorf("%s: item prefix %q, the schema says %q", p, child.prefix, prefix)
			}
			if err := c.element(items, child, p); err != nil {
				return err
			}
		}
		return nil
	case v.get("additionalProperties") != nil && v.hasType("object"):
		for _, child := range e.children {
			if len(child.children) > 0 {
				return fmt.Errorf("%s/%s: a nested element where text is expected", path, child.local)
			}
		}
		return nil
	case v.hasType("object"): // a dictionary written as an empty element
		return nil
	}
	if len(e.children) > 0 {
		return fmt.Errorf("%s: elements where a value is expected", path)
	}
	return scalar(v, e.text, nullable, path)
}

func (c *xmlChecker) object(s *node, e *xelem, path string) error {
	props := s.get("properties")
	required := map[string]bool{}
	for _, r := range s.strings("required") {
		required[r] = true
	}
	i := 0
	for _, child := range e.children {
		j := i
		for ; j < len(props.keys); j++ {
			local, space, _ := c.nameOf(props.keys[j], props.vals[props.keys[j]])
			if local == child.local && space == child.space {
				break
			}
		}
		if j == len(props.keys) {
			return fmt.Errorf("%s: element {%s}%s is not where the schema lists it (or not listed)", path, child.space, child.local)
		}
		for k := i; k < j; k++ {
			if required[props.keys[k]] {
				return fmt.Errorf("%s: required %s missing before %s", path, props.keys[k], child.local)
			}
		}
		if err := c.element(props.vals[props.keys[j]], child, path+"/"+child.local); err != nil {
			return err
		}
		i = j + 1
	}
	for k := i; k < len(props.keys); k++ {
		if required[props.keys[k]] {
			return fmt.Errorf("%s: required %s missing", path, props.keys[k])
		}
	}
	return nil
}

// scalar checks an element's text against a value schema.
func scalar(s *node, text string, nullable bool, path string) error {
	fail := func(why string) error { return fmt.Errorf("%s: %q %s", path, text, why) }
	if enum := s.strings("enum"); enum != nil {
		for _, v := range enum {
			if v == text {
				return nil
			}
		}
		return fail("is not one of the enum's names")
	}
	if c := s.str("const"); c != "" && text != c {
		return fail("is not " + c)
	}
	switch {
	case s.hasType("integer"):
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return fail("is not an integer")
		}
		if lo := s.get("minimum"); lo != nil && n < mustInt(lo) {
			return fail("is below the minimum")
		}
		if hi := s.get("maximum"); hi != nil && n > mustInt(hi) {
			return fail("is above the maximum")
		}
	case s.hasType("boolean"):
		if text != "true" && text != "false" {
			return fail("is not a boolean")
		}
	case s.hasType("string"):
		if s.str("format") == "uuid" && !uuidRE.MatchString(text) {
			return fail("is not a uuid")
		}
		if p := s.str("pattern"); p != "" && !regexp.MustCompile(p).MatchString(text) {
			return fail("does not match " + p)
		}
	case s.hasType("null"):
		if !nullable || strings.TrimSpace(text) != "" {
			return fail("where only null is allowed")
		}
	default:
		return fail(fmt.Sprintf("cannot be checked against types %v", s.types()))
	}
	return nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func mustInt(n *node) int64 {
	v, err := strconv.ParseInt(fmt.Sprint(n.val), 10, 64)
	if err != nil {
		panic(err)
	}
	return v
}
