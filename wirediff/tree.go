package wirediff

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// node is a body as a tree: a JSON value, or an XML element with its children or text.
type node struct {
	name  string // member or element (local) name; "" for the JSON root and array items
	ns    string // XML: the namespace URI
	kind  string // JSON: object, array, string, number, boolean, null; XML: element (children) or text
	null  bool   // XML: i:nil="true"
	xtype string // XML: i:type, its prefix resolved: {uri}local
	value string // JSON scalars, XML text
	kids  []*node
}

type tree struct {
	format string // json, xml, text
	root   *node
}

func parse(contentType string, body []byte) (tree, error) {
	ct := strings.ToLower(contentType)
	text := decodeText(ct, body)
	switch {
	case strings.Contains(ct, "json"):
		n, err := parseJSON(text)
		return tree{"json", n}, err
	case strings.Contains(ct, "xml"):
		n, err := parseXML(text)
		return tree{"xml", n}, err
	}
	return tree{format: "text"}, errors.New("not JSON or XML")
}

func parseJSON(b []byte) (*node, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("empty body")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	n, err := jsonValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("JSON: data after the value")
	}
	return n, nil
}

func jsonValue(d *json.Decoder) (*node, error) {
	t, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	switch v := t.(type) {
	case json.Delim:
		n := &node{kind: "object"}
		if v == '[' {
			n.kind = "array"
		}
		for d.More() {
			name := ""
			if n.kind == "object" {
				k, err := d.Token()
				if err != nil {
					return nil, fmt.Errorf("JSON: %w", err)
				}
				name = k.(string)
			}
			c, err := jsonValue(d)
			if err != nil {
				return nil, err
			}
			c.name = name
			n.kids = append(n.kids, c)
		}
		if _, err := d.Token(); err != nil {
			return nil, fmt.Errorf("JSON: %w", err)
		}
		return n, nil
	case string:
		return &node{kind: "string", value: v}, nil
	case json.Number:
		return &node{kind: "number", value: v.String()}, nil
	case bool:
		return &node{kind: "boolean", value: strconv.FormatBool(v)}, nil
	default:
		return &node{kind: "null"}, nil
	}
}

const xsi = "http://www.w3.org/2001/XMLSchema-instance"

func parseXML(b []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	type frame struct {
		n     *node
		scope map[string]string // prefix -> URI declared on this element
	}
	var stack []frame
	var root *node
	resolve := func(prefix string) string {
		for i := len(stack) - 1; i >= 0; i-- {
			if u, ok := stack[i].scope[prefix]; ok {
				return u
			}
		}
		return ""
	}
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("XML: %w", err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, ns: t.Name.Space, kind: "text"}
			f := frame{n: n, scope: map[string]string{}}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					f.scope[a.Name.Local] = a.Value
				}
			}
			stack = append(stack, f)
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == xsi && a.Name.Local == "nil":
					n.null = a.Value == "true"
				case a.Name.Space == xsi && a.Name.Local == "type":
					p, l, ok := strings.Cut(a.Value, ":")
					if !ok {
						p, l = "", a.Value
					}
					n.xtype = "{" + resolve(p) + "}" + l
				}
			}
			if len(stack) > 1 {
				parent := stack[len(stack)-2].n
				parent.kind = "element"
				parent.kids = append(parent.kids, n)
			} else if root == nil {
				root = n
			} else {
				return nil, errors.New("XML: two roots")
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].n.value += string(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("XML: no root element")
	}
	return root, nil
}

var (
	numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)
)

// valueType is the type a text value shows: DataContract XML writes a member's value by its declared type,
// so a number where text was, or text where a number was, is a changed type.
func valueType(s string) string {
	switch {
	case s == "":
		return "empty"
	case s == "true" || s == "false":
		return "boolean"
	case numberRE.MatchString(s):
		return "number"
	}
	return "text"
}

func (n *node) isXML() bool { return n.kind == "element" || n.kind == "text" }

func diffNode(out *[]Difference, path string, w, g *node, mode Mode) {
	if w.isXML() {
		path += "/" + w.name
		if w.name != g.name {
			*out = append(*out, Difference{Path: path, Kind: "name", Expected: w.name, Received: g.name})
			return
		}
		if w.ns != g.ns {
			*out = append(*out, Difference{Path: path, Kind: "namespace", Expected: w.ns, Received: g.ns})
		}
		if w.null != g.null {
			*out = append(*out, Difference{Path: path, Kind: "nil", Expected: nilText(w.null), Received: nilText(g.null)})
			return
		}
		if w.xtype != g.xtype {
			*out = append(*out, Difference{Path: path, Kind: "type", Expected: "i:type " + w.xtype, Received: "i:type " + g.xtype})
		}
		if w.kind == "text" && g.kind == "text" {
			diffValue(out, path, strings.TrimSpace(w.value), strings.TrimSpace(g.value), mode)
			return
		}
		if w.kind != g.kind {
			*out = append(*out, Difference{Path: path, Kind: "type", Expected: describe(w), Received: describe(g)})
			return
		}
		diffKids(out, path, w, g, mode)
		return
	}
	if w.kind != g.kind {
		*out = append(*out, Difference{Path: orRoot(path), Kind: "type", Expected: w.kind, Received: g.kind})
		return
	}
	switch w.kind {
	case "object", "array":
		diffKids(out, path, w, g, mode)
	case "null":
	default:
		if mode == Exact && w.value != g.value {
			*out = append(*out, Difference{Path: orRoot(path), Kind: "value", Expected: strconv.Quote(w.value), Received: strconv.Quote(g.value)})
		}
	}
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func nilText(b bool) string {
	if b {
		return `i:nil="true"`
	}
	return "a value"
}

func describe(n *node) string {
	if n.kind == "element" {
		return "elements"
	}
	return "text"
}

func diffValue(out *[]Difference, path, w, g string, mode Mode) {
	if mode == Exact {
		if w != g {
			*out = append(*out, Difference{Path: path, Kind: "value", Expected: strconv.Quote(w), Received: strconv.Quote(g)})
		}
		return
	}
	if wt, gt := valueType(w), valueType(g); wt != gt && wt != "empty" && gt != "empty" {
		*out = append(*out, Difference{Path: path, Kind: "type", Expected: wt, Received: gt})
	}
}

// isList tells whether a node's children are items rather than members: a JSON array, or XML children
// that all have one name (a DataContract collection).
func isList(n *node) bool {
	if n.kind == "array" {
		return true
	}
	if n.kind != "element" || len(n.kids) < 2 {
		return false
	}
	for _, k := range n.kids[1:] {
		if k.name != n.kids[0].name || k.ns != n.kids[0].ns {
			return false
		}
	}
	return true
}

func diffKids(out *[]Difference, path string, w, g *node, mode Mode) {
	if isList(w) || isList(g) || (w.kind == "element" && (len(w.kids) == 0 || len(g.kids) == 0)) {
		if mode == Exact && len(w.kids) != len(g.kids) {
			*out = append(*out, Difference{Path: orRoot(path), Kind: "count", Expected: strconv.Itoa(len(w.kids)), Received: strconv.Itoa(len(g.kids))})
		}
		n := min(len(w.kids), len(g.kids))
		if mode == Contract {
			n = min(n, 1) // the items' contract, not their number
		}
		for i := range n {
			p := path
			if w.kind == "array" {
				p += "/" + strconv.Itoa(i)
			} else if i > 0 {
				p += fmt.Sprintf("[%d]", i)
			}
			diffNode(out, p, w.kids[i], g.kids[i], mode)
		}
		return
	}
	// Members: paired by name (and occurrence), so that a changed namespace, a dropped member and a
	// reordering are each named as such.
	key := func(kids []*node) []string {
		seen := map[string]int{}
		keys := make([]string, len(kids))
		for i, k := range kids {
			keys[i] = k.name + "#" + strconv.Itoa(seen[k.name])
			seen[k.name]++
		}
		return keys
	}
	wk, gk := key(w.kids), key(g.kids)
	at := map[string]int{}
	for i, k := range gk {
		at[k] = i
	}
	matched := map[int]bool{}
	last, ordered := -1, true
	for i, k := range wk {
		j, ok := at[k]
		child := memberPath(path, w.kids[i])
		if !ok {
			*out = append(*out, Difference{Path: child, Kind: "missing", Expected: w.kids[i].kindText()})
			continue
		}
		matched[j] = true
		if j < last {
			ordered = false
		}
		last = j
		if w.kids[i].isXML() {
			diffNode(out, path, w.kids[i], g.kids[j], mode)
		} else {
			diffNode(out, child, w.kids[i], g.kids[j], mode)
		}
	}
	for j, k := range g.kids {
		if !matched[j] {
			*out = append(*out, Difference{Path: memberPath(path, k), Kind: "unexpected", Received: k.kindText()})
		}
	}
	if !ordered {
		*out = append(*out, Difference{Path: orRoot(path), Kind: "order", Expected: names(w.kids), Received: names(g.kids)})
	}
}

func memberPath(parent string, n *node) string {
	return parent + "/" + n.name
}

func (n *node) kindText() string {
	if n.isXML() {
		return "element " + n.name + " {" + n.ns + "}"
	}
	return "member " + strconv.Quote(n.name) + " (" + n.kind + ")"
}

func names(kids []*node) string {
	s := make([]string, len(kids))
	for i, k := range kids {
		s[i] = k.name
	}
	return strings.Join(s, ", ")
}
