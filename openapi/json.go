package openapi

import (
	"bytes"
	"encoding/json"
)

// object is a JSON object that keeps its keys in the order they were set: an OpenAPI document is read by
// people too, and its schemas list members in wire order.
type object struct {
	keys []string
	vals map[string]any
}

// obj builds an object from key, value pairs; a nil value leaves its key out.
func obj(kv ...any) *object {
	o := &object{vals: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.set(kv[i].(string), kv[i+1])
	}
	return o
}

// set adds or replaces a key; nil, "" and an empty slice leave the object as it is.
func (o *object) set(k string, v any) *object {
	switch x := v.(type) {
	case nil:
		return o
	case string:
		if x == "" {
			return o
		}
	case []string:
		if len(x) == 0 {
			return o
		}
	case []any:
		if len(x) == 0 {
			return o
		}
	case json.RawMessage:
		if len(x) == 0 {
			return o
		}
	case *object:
		if x == nil {
			return o
		}
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
	return o
}

func (o *object) get(k string) any { return o.vals[k] }

func (o *object) len() int { return len(o.keys) }

// MarshalJSON writes the keys in order. Strings keep <, > and & as they are: the document holds XML
// samples, which \u003c would make unreadable.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSON(&b, k); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := writeJSON(&b, o.vals[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// marshal writes the document indented by two spaces, with a final newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
