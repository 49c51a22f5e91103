package contracts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"aspgate/contracts/jsonnet"
)

// The exception's deserialization constructor takes each entry as a JToken and keeps Convert.ToString of
// it: for a date the DateTime's invariant text, for an object or array JToken.ToString(), Json.NET's
// indented JSON. These helpers rebuild both from the tokens read.

// jtoken is one token of a container entry, as JTokenWriter would receive it.
type jtoken struct {
	tok  jsonnet.NetToken
	text string // the value's text for scalars, the name for properties and constructors
	str  bool   // the text is a JSON string
}

func (d *netDecoder) jtokenOf() jtoken {
	r := d.r
	t := jtoken{tok: r.Token()}
	switch t.tok {
	case jsonnet.TokPropertyName, jsonnet.TokString, jsonnet.TokComment, jsonnet.TokStartConstructor:
		t.text, t.str = r.Str(), true
	case jsonnet.TokDate:
		t.text, t.str = netDateJSON(r.Str()), true
	case jsonnet.TokInteger, jsonnet.TokBoolean:
		t.text = strings.ToLower(r.ValueText())
	case jsonnet.TokFloat:
		t.text = floatJSON(r.Float())
	}
	return t
}

// floatJSON is JsonConvert.ToString(double): round-trip digits with a decimal place.
func floatJSON(f float64) string {
	s := jsonnet.FormatDouble(f)
	switch s {
	case "NaN", "Infinity", "-Infinity":
		return s
	}
	s = strconv.FormatFloat(f, 'g', -1, 64)
	if strings.ContainsAny(s, "e") {
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		if sign == '+' {
			s = mant + "E+" + exp
		} else {
			s = mant + "E-" + exp
		}
		return s
	}
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// indentJTokens writes the tokens of one container as JToken.ToString() does (two-space indentation, "\n"
// line breaks as Mono on Linux writes Environment.NewLine). A property added twice to an object, or a
// comment inside one, fails as JObject does.
func indentJTokens(tokens []jtoken) (string, error) {
	var b strings.Builder
	type level struct {
		object bool
		n      int
		names  map[string]bool
	}
	var stack []level
	newline := func() {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", len(stack)))
	}
	item := func() error {
		if len(stack) == 0 {
			return nil
		}
		top := &stack[len(stack)-1]
		if top.n > 0 {
			b.WriteByte(',')
		}
		top.n++
		newline()
		return nil
	}
	afterName := false
	for _, t := range tokens {
		if !afterName && t.tok != jsonnet.TokPropertyName && !isEnd(t.tok) {
			if len(stack) > 0 && stack[len(stack)-1].object {
				return "", fmt.Errorf("Can not add %s to Newtonsoft.Json.Linq.JObject.", jtokenClass(t.tok))
			}
			item()
		}
		afterName = false
		switch t.tok {
		case jsonnet.TokStartObject, jsonnet.TokStartArray, jsonnet.TokStartConstructor:
			switch t.tok {
			case jsonnet.TokStartObject:
				b.WriteByte('{')
			case jsonnet.TokStartArray:
				b.WriteByte('[')
			default:
				b.WriteString("new " + t.text + "(")
			}
			stack = append(stack, level{object: t.tok == jsonnet.TokStartObject, names: map[string]bool{}})
		case jsonnet.TokEndObject, jsonnet.TokEndArray, jsonnet.TokEndConstructor:
			if len(stack) == 0 {
				return "", errors.New("Unexpected end.")
			}
			n := stack[len(stack)-1].n
			stack = stack[:len(stack)-1]
			if n > 0 && t.tok != jsonnet.TokEndConstructor {
				newline()
			}
			switch t.tok {
			case jsonnet.TokEndObject:
				b.WriteByte('}')
			case jsonnet.TokEndArray:
				b.WriteByte(']')
			default:
				b.WriteByte(')')
			}
		case jsonnet.TokPropertyName:
			top := &stack[len(stack)-1]
			if top.names[t.text] {
				return "", fmt.Errorf("Can not add property %s to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.", t.text)
			}
			top.names[t.text] = true
			item()
			b.Write(jsonnet.AppendString(nil, t.text, jsonnet.Default))
			b.WriteString(": ")
			afterName = true
		case jsonnet.TokComment:
			b.WriteString("/*" + t.text + "*/")
		case jsonnet.TokString, jsonnet.TokDate:
			b.Write(jsonnet.AppendString(nil, t.text, jsonnet.Default))
		case jsonnet.TokNull:
			b.WriteString("null")
		case jsonnet.TokUndefined:
			b.WriteString("undefined")
		default:
			b.WriteString(t.text)
		}
	}
	return b.String(), nil
}

func isEnd(t jsonnet.NetToken) bool {
	return t == jsonnet.TokEndObject || t == jsonnet.TokEndArray || t == jsonnet.TokEndConstructor
}

func jtokenClass(t jsonnet.NetToken) string {
	switch t {
	case jsonnet.TokStartObject:
		return "Newtonsoft.Json.Linq.JObject"
	case jsonnet.TokStartArray:
		return "Newtonsoft.Json.Linq.JArray"
	case jsonnet.TokStartConstructor:
		return "Newtonsoft.Json.Linq.JConstructor"
	}
	return "Newtonsoft.Json.Linq.JValue"
}

// parseNetDate reads the date text Json.NET recognized (jsonnet.IsDateText) as DateTimeZoneHandling
// RoundtripKind gives it: a UTC time for "Z" and "/Date(ms)/", the local time (UTC here, the zone the
// servers' clocks are kept in) for an offset, an unspecified time without one.
func parseNetDate(s string) (t time.Time, kind byte, ok bool) {
	if strings.HasPrefix(s, "/Date(") {
		body := strings.TrimSuffix(strings.TrimPrefix(s, "/Date("), ")/")
		ms := body
		offset := ""
		if i := strings.IndexAny(body[1:], "+-"); i >= 0 {
			ms, offset = body[:i+1], body[i+1:]
		}
		x, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			return t, 0, false
		}
		t = time.UnixMilli(x).UTC()
		if offset != "" {
			return t, 'L', true
		}
		return t, 'U', true
	}
	layout := "2006-01-02T15:04:05"
	rest := s[19:]
	frac := ""
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		frac, rest = rest[:i], rest[i:]
	}
	base, err := time.Parse(layout, s[:19])
	if err != nil {
		return t, 0, false
	}
	if frac != "" {
		n, _ := strconv.Atoi((frac[1:] + "0000000")[:7])
		base = base.Add(time.Duration(n) * 100)
	}
	switch {
	case rest == "":
		return base, 'N', true
	case rest == "Z" || rest == "z":
		return base, 'U', true
	case rest[0] != '+' && rest[0] != '-':
		return t, 0, false
	}
	sign := 1
	if rest[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(rest[1:], ":", "")
	if len(digits) != 2 && len(digits) != 4 {
		return t, 0, false
	}
	h, _ := strconv.Atoi(digits[:2])
	m := 0
	if len(digits) == 4 {
		m, _ = strconv.Atoi(digits[2:4])
	}
	return base.Add(-time.Duration(sign) * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)), 'L', true
}

// netDateText is Convert.ToString(DateTime, InvariantCulture): "MM/dd/yyyy HH:mm:ss".
func netDateText(s string) string {
	t, _, ok := parseNetDate(s)
	if !ok {
		return s
	}
	return t.Format("01/02/2006 15:04:05")
}

// netDateJSON is how JsonTextWriter writes that DateTime: ISO 8601 with the fraction's trailing zeros cut,
// "Z" for UTC, the local offset for local times.
func netDateJSON(s string) string {
	t, kind, ok := parseNetDate(s)
	if !ok {
		return s
	}
	out := t.Format("2006-01-02T15:04:05")
	if ns := t.Nanosecond(); ns != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%07d", ns/100), "0")
	}
	switch kind {
	case 'U':
		out += "Z"
	case 'L':
		out += "+00:00"
	}
	return out
}
