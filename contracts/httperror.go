package contracts

import (
	"strings"

	"aspgate/contracts/jsonnet"
	"aspgate/xmlns"
)

// HttpError is the body Web API writes for an error response: a message and, for an invalid model, the
// model state (keys in the order the errors were raised, each with its messages).
type HttpError struct {
	Message    string
	ModelState []ModelStateEntry
}

// ModelStateEntry is one model state key and its error messages.
type ModelStateEntry struct {
	Key      string
	Messages []string
}

// Add appends a message under key, keeping the order in which keys first appeared.
func (e *HttpError) Add(key, message string) {
	for i := range e.ModelState {
		if e.ModelState[i].Key == key {
			e.ModelState[i].Messages = append(e.ModelState[i].Messages, message)
			return
		}
	}
	e.ModelState = append(e.ModelState, ModelStateEntry{Key: key, Messages: []string{message}})
}

// AppendJSON writes the error as Json.NET writes HttpError (a dictionary): {"Message":...,"ModelState":
// {"key":["..."]}}; under aries' camelCase resolver every dictionary key is camel-cased as well.
func (e *HttpError) AppendJSON(dst []byte, app *App) []byte {
	name := func(s string) string {
		if app != nil && app.CamelCase {
			return CamelCase(s)
		}
		return s
	}
	dst = append(dst, '{')
	dst = jsonnet.AppendString(dst, name("Message"), jsonnet.Default)
	dst = append(dst, ':')
	dst = jsonnet.AppendString(dst, e.Message, jsonnet.Default)
	if e.ModelState != nil {
		dst = append(dst, ',')
		dst = jsonnet.AppendString(dst, name("ModelState"), jsonnet.Default)
		dst = append(dst, ':', '{')
		for i, entry := range e.ModelState {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonnet.AppendString(dst, name(entry.Key), jsonnet.Default)
			dst = append(dst, ':', '[')
			for j, m := range entry.Messages {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = jsonnet.AppendString(dst, m, jsonnet.Default)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// AppendXML writes the error as HttpError's IXmlSerializable does: <Error>, one element per key
// (XmlConvert.EncodeLocalName), several messages joined by a space. No namespaces, and no resolver: aries'
// XML keeps <Message>.
func (e *HttpError) AppendXML(dst []byte) []byte {
	var w xmlns.Writer
	w.Reset(dst, xmlns.DataContract)
	w.StartElement("", "Error", "")
	w.StartElement("", "Message", "")
	w.Text(e.Message)
	w.EndElement()
	if e.ModelState != nil {
		w.StartElement("", "ModelState", "")
		for _, entry := range e.ModelState {
			w.StartElement("", EncodeLocalName(entry.Key), "")
			w.Text(strings.Join(entry.Messages, " "))
			w.EndElement()
		}
		w.EndElement()
	}
	w.EndElement()
	out, _ := w.Bytes()
	return out
}

// EncodeLocalName is XmlConvert.EncodeLocalName: every character that cannot stand in an NCName (at its
// position) becomes _xHHHH_, and so does an underscore that would read as the start of such an escape.
func EncodeLocalName(s string) string {
	if xmlns.IsNCName(s) && !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		valid := xmlns.IsNCName(string(r)) || i > 0 && xmlns.IsNCName("a"+string(r))
		if r == '_' && strings.HasPrefix(s[i:], "_x") && len(s) >= i+7 && isHex4(s[i+2:i+6]) && s[i+6] == '_' {
			valid = false
		}
		if valid {
			b.WriteRune(r)
			continue
		}
		if r > 0xFFFF {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			b.WriteString("_x" + hex4(hi) + hex4(lo) + "_")
			continue
		}
		b.WriteString("_x" + hex4(r) + "_")
	}
	return b.String()
}

func hex4(r rune) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
}

func isHex4(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := unhex(s[i]); !ok {
			return false
		}
	}
	return len(s) == 4
}
