package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// node is a decoded JSON value that keeps object keys in order (kin-openapi's model holds properties in
// maps): the XML checks need the order the document lists members in.
type node struct {
	keys []string
	vals map[string]*node
	list []*node
	val  any // a scalar
	obj  bool
}

func parseOrdered(b []byte) (*node, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return readNode(d)
}

func readNode(d *json.Decoder) (*node, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{obj: true, vals: map[string]*node{}}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := readNode(d)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
				n.vals[k.(string)] = v
			}
			_, err := d.Token()
			return n, err
		case '[':
			n := &node{}
			for d.More() {
				v, err := readNode(d)
				if err != nil {
					return nil, err
				}
				n.list = append(n.list, v)
			}
			_, err := d.Token()
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return &node{val: t}, nil
	}
}

func (n *node) get(path ...string) *node {
	for _, p := range path {
		if n == nil || !n.obj {
			return nil
		}
		n = n.vals[p]
	}
	return n
}

func (n *node) str(path ...string) string {
	v := n.get(path...)
	if v == nil {
		return ""
	}
	s, _ := v.val.(string)
	return s
}

// types is a schema's "type", as a list.
func (n *node) types() []string {
	t := n.get("type")
	switch {
	case t == nil:
		return nil
	case t.list != nil:
		var out []string
		for _, x := range t.list {
			out = append(out, x.val.(string))
		}
		return out
	}
	return []string{t.val.(string)}
}

func (n *node) hasType(t string) bool {
	for _, x := range n.types() {
		if x == t {
			return true
		}
	}
	return false
}

func (n *node) strings(key string) []string {
	var out []string
	if v := n.get(key); v != nil {
		for _, x := range v.list {
			out = append(out, fmt.Sprint(x.val))
		}
	}
	return out
}

// resolve follows a $ref within the document.
func (doc *node) resolve(n *node) *node {
	for n != nil && n.get("$ref") != nil {
		ref := n.str("$ref")
		n = doc.get(strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
	}
	return n
}
