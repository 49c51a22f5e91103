// Package verify checks whether a server still speaks a legacy service's contract: it sends a corpus of
// requests to the target and to a reference that answers as the legacy service (aspgate itself, on an
// empty database, or the answers recorded in a cases folder), and compares the answers by wirediff's
// rules. The corpus is built from the contract tables: every negotiation combination, every error class,
// binding edge cases, and — only when writes are allowed — requests that reach the service's action.
package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"aspgate/contracts"
	"aspgate/wirediff"
)

// Case is one request of the corpus.
type Case struct {
	Name   string // unique within a corpus: class and what varies
	Class  string // negotiation, 404, 405, 413, 415, model-json, model-xml, model-form, malformed, binding, action
	Method string
	Target string // path and query
	Header [][2]string
	Body   []byte
	// Writes marks a request that reaches the service's action: it may change state or send a code or a
	// link. Such cases are sent only with writes allowed. A built-in case whose reference answer shows the
	// action ran is marked too.
	Writes bool
	// Expected is the answer to compare with (a recorded case); nil asks the reference.
	Expected *wirediff.Answer
}

func (c Case) header(k string) string {
	for _, h := range c.Header {
		if strings.EqualFold(h[0], k) {
			return h[1]
		}
	}
	return ""
}

// Built-in corpus limits.
const (
	// MaxBodyProbe is the size of the 413 probe: one byte over aspgate's default request limit.
	MaxBodyProbe = 64<<10 + 1
)

// Corpus is the built-in corpus for an app.
func Corpus(app *contracts.App) ([]Case, error) {
	if app.ASCAPI {
		return ascCorpus(app)
	}
	r := contracts.RouteOf(app)
	if r == nil {
		return nil, fmt.Errorf("verify: %s has no route", app.ID)
	}
	b, err := bodiesOf(r.Request)
	if err != nil {
		return nil, err
	}
	path := "/" + r.Path
	var out []Case
	add := func(c Case) {
		if c.Method == "" {
			c.Method = "POST"
		}
		if c.Target == "" {
			c.Target = path
		}
		out = append(out, c)
	}
	// Negotiation: a body the binder refuses (so the action never runs) in every request format, charset
	// label and Accept: the error's format, charset and bytes are the negotiation's result.
	accepts := []string{"", "application/json", "text/json", "application/xml", "text/xml", "*/*",
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/xml;q=0.5, application/json;q=0.9",
		"image/png", "application/json;q=0"}
	formats := []struct{ name, mediaType string }{{"json", "application/json"}, {"json", "text/json"},
		{"xml", "application/xml"}, {"xml", "text/xml"}, {"form", "application/x-www-form-urlencoded"}}
	for _, f := range formats {
		for _, cs := range []string{"", "utf-8", "utf-16", "windows-1251"} {
			for _, acc := range accepts {
				ct := f.mediaType
				body := b.invalid[f.name]
				if cs != "" {
					ct += "; charset=" + cs
				}
				if cs == "utf-16" {
					body = utf16LE(body)
				}
				c := Case{Class: "negotiation", Name: fmt.Sprintf("negotiation Content-Type=%q Accept=%q", ct, acc), Body: body,
					Header: [][2]string{{"Content-Type", ct}}}
				if acc != "" {
					c.Header = append(c.Header, [2]string{"Accept", acc})
				}
				add(c)
			}
		}
	}
	for _, acc := range []string{"utf-16", "utf-8", "bogus", "utf-16;q=0, utf-8"} {
		add(Case{Class: "negotiation", Name: "negotiation Accept-Charset=" + acc, Body: b.invalid["json"],
			Header: [][2]string{{"Content-Type", "application/json"}, {"Accept-Charset", acc}}})
	}
	// Routing: 404 and 405 (with Allow).
	for _, p := range []string{"/api/aspgate-verify-nothing", path + "/extra", path + "Nothing", "/" + strings.Split(r.Path, "/")[0] + "/"} {
		for _, acc := range []string{"", "application/xml"} {
			c := Case{Class: "404", Name: fmt.Sprintf("404 %s Accept=%q", p, acc), Method: "GET", Target: p}
			if acc != "" {
				c.Header = [][2]string{{"Accept", acc}}
			}
			add(c)
		}
	}
	for _, m := range []string{"GET", "PUT", "DELETE", "PATCH"} {
		for _, acc := range []string{"", "text/xml"} {
			c := Case{Class: "405", Name: fmt.Sprintf("405 %s Accept=%q", m, acc), Method: m}
			if acc != "" {
				c.Header = [][2]string{{"Accept", acc}}
			}
			if m == "PUT" {
				c.Header, c.Body = append(c.Header, [2]string{"Content-Type", "application/json"}), b.valid["json"]
			}
			add(c)
		}
	}
	add(Case{Class: "405", Name: "405 GET path in upper case", Method: "GET", Target: strings.ToUpper(path)})
	// 413: one byte over the request limit.
	big := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), MaxBodyProbe-8)...)
	add(Case{Class: "413", Name: "413 JSON body over the limit", Body: append(big, `"}`...), Header: [][2]string{{"Content-Type", "application/json"}}})
	// 415: no formatter reads the body.
	for _, ct := range []string{"text/plain", "application/octet-stream", "multipart/form-data; boundary=x", ""} {
		for _, acc := range []string{"", "application/xml"} {
			c := Case{Class: "415", Name: fmt.Sprintf("415 Content-Type=%q Accept=%q", ct, acc), Body: b.valid["json"]}
			if ct != "" {
				c.Header = append(c.Header, [2]string{"Content-Type", ct})
			}
			if acc != "" {
				c.Header = append(c.Header, [2]string{"Accept", acc})
			}
			add(c)
		}
	}
	// Model errors and malformed bodies, in each format.
	for name, body := range map[string]string{"empty object": "{}", "null": "null", "array": "[]", "number": "5",
		"truncated": `{"a":`, "trailing garbage": `{} x`, "empty body": "", "wrong type": string(b.invalid["json"]),
		"comment": `/* c */ {}`, "single quotes": `{'a':'b'}`, "deep nesting": strings.Repeat("[", 200) + strings.Repeat("]", 200)} {
		add(Case{Class: "model-json", Name: "model-json " + name, Body: []byte(body), Header: [][2]string{{"Content-Type", "application/json"}}})
	}
	root := b.xmlRoot
	for name, body := range map[string]string{"malformed": "<" + root, "wrong root": "<Nothing/>", "no namespace": "<" + root + "/>",
		"empty body": "", "wrong type": string(b.invalid["xml"]), "DTD": `<!DOCTYPE x [<!ENTITY e "e">]><x/>`,
		"text only": "hello"} {
		for _, acc := range []string{"", "application/xml"} {
			c := Case{Class: "model-xml", Name: fmt.Sprintf("model-xml %s Accept=%q", name, acc), Body: []byte(body), Header: [][2]string{{"Content-Type", "application/xml"}}}
			if acc != "" {
				c.Header = append(c.Header, [2]string{"Accept", acc})
			}
			add(c)
		}
	}
	for name, body := range map[string]string{"empty": "", "wrong type": string(b.invalid["form"]), "empty values": emptyValues(b.valid["form"]),
		"duplicate keys": string(b.invalid["form"]) + "&" + string(b.valid["form"]), "prefixed keys": prefixed(r.Param, b.valid["form"]),
		"not form data": "{}", "upper-case keys": strings.ToUpper(string(b.invalid["form"]))} {
		add(Case{Class: "model-form", Name: "model-form " + name, Body: []byte(body), Header: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}})
	}
	// Binding edge cases that bind: they reach the action.
	add(Case{Class: "binding", Name: "binding JSON names in another case", Body: []byte(strings.ToLower(string(b.valid["json"]))), Header: [][2]string{{"Content-Type", "application/json"}}})
	add(Case{Class: "binding", Name: "binding JSON unknown member", Body: append([]byte(`{"AspgateVerifyUnknown":1,`), b.valid["json"][1:]...), Header: [][2]string{{"Content-Type", "application/json"}}})
	add(Case{Class: "binding", Name: "binding XML other prefix", Body: []byte(b.prefixedXML), Header: [][2]string{{"Content-Type", "application/xml"}}})
	add(Case{Class: "binding", Name: "binding XML out of order", Body: []byte(b.reversedXML), Header: [][2]string{{"Content-Type", "application/xml"}}})
	add(Case{Class: "binding", Name: "binding XML unknown member", Body: []byte(strings.Replace(string(b.valid["xml"]), ">", "><AspgateVerifyUnknown>1</AspgateVerifyUnknown>", 1)), Header: [][2]string{{"Content-Type", "application/xml"}}})
	// The action itself, with the help-page sample values (no real recipient), in each format.
	for _, f := range formats {
		for _, acc := range []string{"", "application/json", "application/xml"} {
			c := Case{Class: "action", Name: fmt.Sprintf("action %s Accept=%q", f.mediaType, acc), Body: b.valid[f.name],
				Header: [][2]string{{"Content-Type", f.mediaType}}, Writes: true}
			if acc != "" {
				c.Header = append(c.Header, [2]string{"Accept", acc})
			}
			add(c)
		}
	}
	return out, nil
}

// bodies are an app request's sample bodies and the variants the corpus derives from them.
type bodies struct {
	valid, invalid           map[string][]byte // by format: json, xml, form
	xmlRoot                  string
	prefixedXML, reversedXML string
}

var numberText = regexp.MustCompile(`>(-?[0-9]+|true|false|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})<`)

func bodiesOf(c *contracts.Contract) (*bodies, error) {
	b := &bodies{valid: map[string][]byte{}, invalid: map[string][]byte{}}
	v, err := contracts.Sample(c, "json")
	if err != nil {
		return nil, err
	}
	if b.valid["json"], err = contracts.EncodeJSON(c, v); err != nil {
		return nil, err
	}
	if v, err = contracts.Sample(c, "xml"); err != nil {
		return nil, err
	}
	if b.valid["xml"], err = contracts.EncodeXML(c, v); err != nil {
		return nil, err
	}
	members, err := orderedMembers(b.valid["json"])
	if err != nil {
		return nil, err
	}
	// The form: the sample's scalar members; the invalid variants: the first non-string member given "x".
	var form, badForm, badJSON []string
	bad := false
	for _, m := range members {
		raw := strings.TrimSpace(string(m.raw))
		if strings.HasPrefix(raw, "{") || strings.HasPrefix(raw, "[") || raw == "null" {
			continue
		}
		val := raw
		if strings.HasPrefix(raw, `"`) {
			_ = json.Unmarshal(m.raw, &val)
		}
		pair := m.name + "=" + formEscape(val)
		form = append(form, pair)
		if !bad && !strings.HasPrefix(raw, `"`) || !bad && guidLike(val) {
			bad = true
			pair = m.name + "=x"
			badJSON = append(badJSON, strconv.Quote(m.name)+`:"x"`)
		} else {
			badJSON = append(badJSON, strconv.Quote(m.name)+":"+raw)
		}
		badForm = append(badForm, pair)
	}
	if !bad {
		return nil, fmt.Errorf("verify: %s has no member a string can fail", c.Name)
	}
	b.valid["form"] = []byte(strings.Join(form, "&"))
	b.invalid["form"] = []byte(strings.Join(badForm, "&"))
	b.invalid["json"] = []byte("{" + strings.Join(badJSON, ",") + "}")
	x := string(b.valid["xml"])
	loc := numberText.FindStringIndex(x)
	if loc == nil {
		return nil, fmt.Errorf("verify: %s's XML sample has no typed value", c.Name)
	}
	b.invalid["xml"] = []byte(x[:loc[0]] + ">x<" + x[loc[1]:])
	b.xmlRoot = c.Name
	b.prefixedXML = reprefix(x)
	b.reversedXML = reverseChildren(x)
	return b, nil
}

func guidLike(s string) bool { return len(s) == 36 && strings.Count(s, "-") == 4 }

type member struct {
	name string
	raw  json.RawMessage
}

func orderedMembers(obj []byte) ([]member, error) {
	d := json.NewDecoder(bytes.NewReader(obj))
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	var out []member
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, member{k.(string), raw})
	}
	return out, nil
}

func formEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func emptyValues(form []byte) string {
	var out []string
	for _, kv := range strings.Split(string(form), "&") {
		k, _, _ := strings.Cut(kv, "=")
		out = append(out, k+"=")
	}
	return strings.Join(out, "&")
}

func prefixed(param string, form []byte) string {
	var out []string
	for _, kv := range strings.Split(string(form), "&") {
		out = append(out, param+"."+kv)
	}
	return strings.Join(out, "&")
}

// reprefix writes the sample's default namespace with a prefix of its own ("p") on every element that
// was in it: the same XML by namespace, other bytes.
func reprefix(x string) string {
	start := strings.Index(x, ` xmlns="`)
	if start < 0 {
		return x
	}
	end := strings.Index(x[start+8:], `"`) + start + 8
	ns := x[start+8 : end]
	x = x[:start] + ` xmlns:p="` + ns + `"` + x[end+1:]
	var b strings.Builder
	for i := 0; i < len(x); i++ {
		b.WriteByte(x[i])
		if x[i] == '<' && i+1 < len(x) && x[i+1] != '/' && x[i+1] != '?' && x[i+1] != '!' {
			if !elementHasOwnXMLNS(x[i:]) {
				b.WriteString("p:")
			}
		} else if x[i] == '<' && i+1 < len(x) && x[i+1] == '/' {
			b.WriteByte('/')
			i++
			if !closingOfOwnNS(x, i) {
				b.WriteString("p:")
			}
		}
	}
	return b.String()
}

func elementHasOwnXMLNS(s string) bool {
	end := strings.IndexByte(s, '>')
	return end > 0 && strings.Contains(s[:end], ` xmlns="`)
}

// closingOfOwnNS reports whether the closing tag at x[i:] (after "</") closes an element that declared
// its own default namespace: the nearest unclosed opening tag of that name tells.
func closingOfOwnNS(x string, i int) bool {
	end := strings.IndexByte(x[i:], '>')
	name := x[i+1 : i+end]
	open := strings.LastIndex(x[:i], "<"+name)
	return open >= 0 && elementHasOwnXMLNS(x[open:])
}

// reverseChildren writes the root's children in reverse order.
func reverseChildren(x string) string {
	open := strings.IndexByte(x, '>') + 1
	closeAt := strings.LastIndex(x, "</")
	if open <= 0 || closeAt < open {
		return x
	}
	var kids []string
	rest := x[open:closeAt]
	for rest != "" {
		n := elementLen(rest)
		if n <= 0 {
			return x
		}
		kids = append(kids, rest[:n])
		rest = rest[n:]
	}
	for i, j := 0, len(kids)-1; i < j; i, j = i+1, j-1 {
		kids[i], kids[j] = kids[j], kids[i]
	}
	return x[:open] + strings.Join(kids, "") + x[closeAt:]
}

// elementLen is the length of the element at the start of s (depth-counted over tags).
func elementLen(s string) int {
	depth := 0
	for i := 0; i < len(s); {
		if s[i] != '<' {
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			return -1
		}
		tag := s[i : i+end+1]
		switch {
		case strings.HasPrefix(tag, "</"):
			depth--
		case strings.HasSuffix(tag, "/>"):
		default:
			depth++
		}
		i += end + 1
		if depth == 0 {
			return i
		}
	}
	return -1
}

func utf16LE(b []byte) []byte {
	u := utf16.Encode([]rune(string(b)))
	out := make([]byte, 0, 2*len(u))
	for _, c := range u {
		out = append(out, byte(c), byte(c>>8))
	}
	return out
}
