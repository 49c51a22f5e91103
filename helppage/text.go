package helppage

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"aspgate/contracts/jsonnet"
)

// htmlEncode is Razor's @x: WebUtility.HtmlEncode, which writes < > " ' & as &lt; &gt; &quot; &#39; &amp;
// and every character from U+00A0 to U+00FF as a decimal entity; everything else, Cyrillic included,
// passes through.
func htmlEncode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == '&':
			b.WriteString("&amp;")
		case r >= 0xA0 && r <= 0xFF:
			b.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IndentJSON is what the Help Page shows of a JSON sample: JsonConvert.SerializeObject(
// JsonConvert.DeserializeObject(s), Formatting.Indented), two spaces a level, "name": value. The samples
// hold no date-like strings, which the re-parse would turn into dates.
func IndentJSON(compact []byte) (string, error) {
	r := jsonnet.NewTextReader(compact)
	r.SetDateParseHandling(false)
	var b strings.Builder
	depth := 0
	// first says whether the container being written has no item yet; afterName whether a property name
	// was just written (its value follows on the same line).
	first := []bool{true}
	afterName := false
	newline := func() {
		b.WriteString("\n")
		b.WriteString(strings.Repeat("  ", depth))
	}
	item := func() {
		if afterName {
			afterName = false
			return
		}
		if !first[len(first)-1] {
			b.WriteString(",")
		}
		first[len(first)-1] = false
		if depth > 0 {
			newline()
		}
	}
	for {
		ok, err := r.Read()
		if err != nil {
			return "", err
		}
		if !ok {
			return b.String(), nil
		}
		switch t := r.Token(); t {
		case jsonnet.TokStartObject, jsonnet.TokStartArray:
			item()
			if t == jsonnet.TokStartObject {
				b.WriteString("{")
			} else {
				b.WriteString("[")
			}
			depth++
			first = append(first, true)
		case jsonnet.TokEndObject, jsonnet.TokEndArray:
			empty := first[len(first)-1]
			first = first[:len(first)-1]
			depth--
			if !empty {
				newline()
			}
			if t == jsonnet.TokEndObject {
				b.WriteString("}")
			} else {
				b.WriteString("]")
			}
		case jsonnet.TokPropertyName:
			item()
			b.Write(jsonnet.AppendString(nil, r.Str(), jsonnet.Default))
			b.WriteString(": ")
			afterName = true
		case jsonnet.TokString:
			item()
			b.Write(jsonnet.AppendString(nil, r.Str(), jsonnet.Default))
		case jsonnet.TokNull:
			item()
			b.WriteString("null")
		case jsonnet.TokBoolean:
			item()
			b.WriteString(strconv.FormatBool(r.Bool()))
		case jsonnet.TokInteger, jsonnet.TokFloat:
			item()
			b.WriteString(r.ValueText())
		default:
			return "", fmt.Errorf("helppage: unexpected JSON token %s", t)
		}
	}
}

// IndentXML is what the Help Page shows of an XML sample: XDocument.Parse(s).ToString(), two spaces a
// level, an element with text alone on one line, an empty one as <X a="v" /> (a space before the slash),
// attributes and namespace declarations as written, no XML declaration.
func IndentXML(compact []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(compact))
	var toks []xml.Token
	for {
		t, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.ProcInst, xml.Comment, xml.Directive:
			continue
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue // insignificant white space: XDocument.Parse drops it
			}
			toks = append(toks, t.Copy())
		default:
			toks = append(toks, xml.CopyToken(t))
		}
	}
	var b strings.Builder
	depth := 0
	name := func(n xml.Name) string {
		if n.Space != "" {
			return n.Space + ":" + n.Local
		}
		return n.Local
	}
	for i := 0; i < len(toks); i++ {
		switch t := toks[i].(type) {
		case xml.StartElement:
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(strings.Repeat("  ", depth))
			b.WriteString("<" + name(t.Name))
			for _, a := range t.Attr {
				b.WriteString(" " + name(a.Name) + `="` + escapeXMLAttr(a.Value) + `"`)
			}
			switch next := peek(toks, i+1).(type) {
			case xml.EndElement:
				b.WriteString(" />")
				i++
			case xml.CharData:
				if _, ok := peek(toks, i+2).(xml.EndElement); ok {
					b.WriteString(">" + escapeXMLText(string(next)) + "</" + name(t.Name) + ">")
					i += 2
					continue
				}
				b.WriteString(">")
				depth++
			default:
				b.WriteString(">")
				depth++
			}
		case xml.EndElement:
			depth--
			b.WriteString("\n" + strings.Repeat("  ", depth) + "</" + name(t.Name) + ">")
		case xml.CharData:
			b.WriteString("\n" + strings.Repeat("  ", depth) + escapeXMLText(string(t)))
		}
	}
	return b.String(), nil
}

func peek(toks []xml.Token, i int) xml.Token {
	if i < len(toks) {
		return toks[i]
	}
	return nil
}

// escapeXMLText and escapeXMLAttr escape as XmlWriter does: & < > in text; & < " and the line breaks and
// tab in attribute values.
func escapeXMLText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func escapeXMLAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;").Replace(s)
}
