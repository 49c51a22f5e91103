// Package recorder writes the exchanges a proxy sees as cases in the recordings' format (what `aspgate
// verify --cases` reads), with their secrets replaced by stable placeholders, so that a team can turn its
// real traffic into a regression corpus without keeping a password, code, change request id, token, API
// key or session id.
package recorder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Redactor replaces secrets by placeholders: the same secret always by the same placeholder (within
// one Redactor), and a placeholder of the secret's shape — digits for digits (same length), a GUID for a
// GUID, text otherwise — so that the redacted request still binds as the original did.
type Redactor struct {
	placeholders map[string]string // secret -> placeholder
	counts       map[string]int    // per kind
}

// NewRedactor makes an empty Redactor.
func NewRedactor() *Redactor {
	return &Redactor{placeholders: map[string]string{}, counts: map[string]int{}}
}

// kindOf names the secret a member, field or query key holds, or "" for none. Names are matched ignoring
// case and a prefix (ereader's model.Code, r7office's userName is not secret but password is).
func kindOf(name string) string {
	n := strings.ToLower(name)
	if i := strings.LastIndexAny(n, ".["); i >= 0 {
		n = strings.Trim(n[i+1:], "]")
	}
	switch {
	case strings.Contains(n, "password"), n == "pwd":
		return "password"
	case n == "code", strings.HasSuffix(n, "code") && (strings.Contains(n, "sms") || strings.Contains(n, "auth") || strings.Contains(n, "confirm")):
		return "code"
	case strings.Contains(n, "changerequest"):
		return "changerequestid"
	case strings.HasSuffix(n, "token"):
		return "token"
	case strings.HasSuffix(n, "apikey"), n == "api_key":
		return "apikey"
	case strings.HasSuffix(n, "sessionid"):
		return "sessionid"
	case strings.HasSuffix(n, "secret"):
		return "secret"
	}
	return ""
}

var numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

var guidRE = regexp.MustCompile(`^[{(]?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}[})]?$`)

// placeholder is the stable stand-in for a secret of a kind.
func (r *Redactor) placeholder(kind, secret string) string {
	if p, ok := r.placeholders[secret]; ok {
		return p
	}
	r.counts[kind]++
	n := r.counts[kind]
	var p string
	switch {
	case guidRE.MatchString(secret):
		p = fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	case secret != "" && strings.Trim(secret, "0123456789") == "":
		p = fmt.Sprintf("9%0*d", len(secret)-1, n) // a leading 9: also a valid JSON number
		if len(p) > len(secret) {
			p = strconv.Itoa(n)
		}
	case numberRE.MatchString(secret):
		p = strconv.Itoa(n) // a JSON number stays a number
	default:
		p = fmt.Sprintf("redacted-%s-%d", kind, n)
	}
	r.placeholders[secret] = p
	return p
}

// Body redacts a body of a media type (JSON, XML or form; anything else only by the secrets already seen).
func (r *Redactor) Body(contentType string, body []byte) []byte {
	ct := strings.ToLower(contentType)
	switch {
	case len(body) == 0:
		return body
	case strings.Contains(ct, "json"):
		body = r.json(body)
	case strings.Contains(ct, "xml"):
		body = r.xml(body)
	case strings.Contains(ct, "x-www-form-urlencoded"):
		body = []byte(r.form(string(body)))
	}
	return body
}

// Target redacts a request target: secret query values and r7office's sign-in code in the path.
func (r *Redactor) Target(target string) string {
	path, query, hasQuery := strings.Cut(target, "?")
	const auth = "/api/2.0/authentication/"
	if i := strings.Index(strings.ToLower(path), auth); i >= 0 {
		seg := path[i+len(auth):]
		name, suffix, _ := strings.Cut(seg, ".")
		if name != "" && !strings.Contains(name, "/") && !map[string]bool{"setphone": true, "sendsms": true, "login": true, "register": true}[strings.ToLower(name)] {
			if suffix != "" {
				suffix = "." + suffix
			}
			path = path[:i+len(auth)] + r.placeholder("code", name) + suffix
		}
	}
	if hasQuery {
		path += "?" + r.form(query)
	}
	return path
}

// Text replaces every secret seen so far (of four characters or more: shorter ones are too likely to be
// something else) wherever it still appears, e.g. quoted in an error message.
func (r *Redactor) Text(b []byte) []byte {
	for s, p := range r.placeholders {
		if len(s) >= 4 {
			b = bytes.ReplaceAll(b, []byte(s), []byte(p))
		}
	}
	return b
}

func (r *Redactor) form(q string) string {
	parts := strings.Split(q, "&")
	for i, kv := range parts {
		k, v, ok := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if !ok || err != nil || kindOf(key) == "" {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil || val == "" {
			continue
		}
		parts[i] = k + "=" + url.QueryEscape(r.placeholder(kindOf(key), val))
	}
	return strings.Join(parts, "&")
}

var xmlLeaf = regexp.MustCompile(`<(?:[\w.-]+:)?([\w.-]+)(\s[^>]*)?>([^<]+)</`)

func (r *Redactor) xml(b []byte) []byte {
	return xmlLeaf.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := xmlLeaf.FindSubmatchIndex(m)
		kind := kindOf(string(m[sub[2]:sub[3]]))
		if kind == "" {
			return m
		}
		val := string(m[sub[6]:sub[7]])
		return append(append(append([]byte(nil), m[:sub[6]]...), r.placeholder(kind, val)...), m[sub[7]:]...)
	})
}

// json replaces the scalar values of secret members, leaving every other byte as it was.
func (r *Redactor) json(b []byte) []byte {
	type span struct {
		start, end int
		kind       string
	}
	var spans []span
	d := json.NewDecoder(bytes.NewReader(b))
	var walk func() error
	walk = func() error {
		t, err := d.Token()
		if err != nil {
			return err
		}
		delim, ok := t.(json.Delim)
		if !ok || delim == '}' || delim == ']' {
			return nil
		}
		for d.More() {
			if delim == '{' {
				k, err := d.Token()
				if err != nil {
					return err
				}
				if kind := kindOf(k.(string)); kind != "" {
					keyEnd := int(d.InputOffset())
					var raw json.RawMessage
					if err := d.Decode(&raw); err != nil {
						return err
					}
					end := int(d.InputOffset())
					start := keyEnd + bytes.IndexByte(b[keyEnd:end], ':') + 1
					for start < end && (b[start] == ' ' || b[start] == '\t' || b[start] == '\r' || b[start] == '\n') {
						start++
					}
					spans = append(spans, span{start, end, kind})
					continue
				}
			}
			if err := walk(); err != nil {
				return err
			}
		}
		_, err = d.Token()
		return err
	}
	if walk() != nil {
		return r.Text(b) // not JSON after all: only what is known
	}
	var out []byte
	last := 0
	for _, s := range spans {
		raw := b[s.start:s.end]
		var repl []byte
		switch {
		case raw[0] == '"':
			var v string
			if json.Unmarshal(raw, &v) != nil || v == "" {
				continue
			}
			repl, _ = json.Marshal(r.placeholder(s.kind, v))
		case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
			repl = []byte(r.placeholder(s.kind, string(raw)))
		default:
			continue // null, true, objects: nothing secret to keep out
		}
		out = append(append(out, b[last:s.start]...), repl...)
		last = s.end
	}
	return append(out, b[last:]...)
}
