// Package handlers serves the legacy endpoints over Echo: routing, content negotiation, binding and error
// bodies exactly as ASP.NET Web API 2 (and ONLYOFFICE's ASC.Api for r7office) answered them.
package handlers

import (
	"sort"
	"strconv"
	"strings"

	"aspgate/contracts"
)

// Negotiated is the formatter and Content-Type Web API picks for a response.
type Negotiated struct {
	XML       bool   // the XML formatter (DataContractSerializer); else Json.NET
	MediaType string // application/json, text/json, application/xml or text/xml
	UTF16     bool   // charset utf-16: UTF-16LE with a byte order mark; else UTF-8 without one
}

// ContentType is the response's Content-Type header.
func (n Negotiated) ContentType() string {
	if n.UTF16 {
		return n.MediaType + "; charset=utf-16"
	}
	return n.MediaType + "; charset=utf-8"
}

// The media types each writing formatter supports, in formatter order: Json.NET first, then XML.
var writers = []struct {
	xml   bool
	types []string
}{
	{false, []string{"application/json", "text/json"}},
	{true, []string{"application/xml", "text/xml"}},
}

type matchKind int

const (
	noMatch matchKind = iota
	onCanWriteType
	onRequestMediaType
	onAcceptAllRange
	onAcceptSubtypeRange
	onAcceptLiteral
)

type match struct {
	writer    int
	mediaType string
	quality   float64
	kind      matchKind
}

type mediaRange struct {
	typ, sub string
	quality  float64
	order    int
}

// Negotiate is Web API 5.2.3's DefaultContentNegotiator for a type both formatters can write. accept and
// acceptCharset are the request's headers (joined with commas when repeated); requestContentType is the
// request body's Content-Type ("" when there is none).
//
// Each formatter matches on the first Accept range (by descending quality; q=0 ranges are dropped, not
// excluded) that covers one of its media types, else on the request's media type, else on being able to
// write the type at all. The best Accept match wins (literal over subtype range over */*, a higher quality
// over all; ties go to the first formatter, Json.NET); then a request media type match; then Json.NET.
func Negotiate(accept, acceptCharset, requestContentType string) Negotiated {
	ranges := parseAccept(accept)
	reqType, reqCharset := contracts.MediaType(requestContentType)
	var matches []match
	for i, w := range writers {
		m := match{writer: i}
		for _, r := range ranges {
			if r.quality <= 0 {
				continue
			}
			for _, t := range w.types {
				typ, sub, _ := strings.Cut(t, "/")
				switch {
				case r.typ == "*" && r.sub == "*":
					m = match{i, t, r.quality, onAcceptAllRange}
				case r.typ == typ && r.sub == "*":
					m = match{i, t, r.quality, onAcceptSubtypeRange}
				case r.typ == typ && r.sub == sub:
					m = match{i, t, r.quality, onAcceptLiteral}
				default:
					continue
				}
				break
			}
			if m.kind != noMatch {
				break
			}
		}
		if m.kind == noMatch && reqType != "" {
			for _, t := range w.types {
				if t == reqType {
					m = match{i, t, 1, onRequestMediaType}
				}
			}
		}
		if m.kind == noMatch {
			m = match{i, w.types[0], 1, onCanWriteType}
		}
		matches = append(matches, m)
	}
	best := selectMatch(matches)
	return Negotiated{
		XML:       writers[best.writer].xml,
		MediaType: best.mediaType,
		UTF16:     selectUTF16(acceptCharset, reqCharset),
	}
}

func selectMatch(matches []match) match {
	var literal, subtype, all, request, onType *match
	better := func(cur *match, m *match) *match {
		if cur == nil || m.quality > cur.quality {
			return m
		}
		return cur
	}
	for i := range matches {
		m := &matches[i]
		switch m.kind {
		case onAcceptLiteral:
			literal = better(literal, m)
		case onAcceptSubtypeRange:
			subtype = better(subtype, m)
		case onAcceptAllRange:
			all = better(all, m)
		case onRequestMediaType:
			if request == nil {
				request = m
			}
		case onCanWriteType:
			if onType == nil {
				onType = m
			}
		}
	}
	var accept *match
	for _, m := range []*match{literal, subtype, all} {
		if m != nil && (accept == nil || m.quality > accept.quality) {
			accept = m
		}
	}
	switch {
	case accept != nil:
		return *accept
	case request != nil:
		return *request
	case onType != nil:
		return *onType
	}
	return matches[0]
}

// selectUTF16 is SelectResponseCharacterEncoding with the formatters' encodings (UTF-8, then UTF-16):
// the first acceptable Accept-Charset entry by quality, else the request body's charset, else UTF-8.
func selectUTF16(acceptCharset, requestCharset string) bool {
	type cs struct {
		name    string
		quality float64
		order   int
	}
	var list []cs
	for i, part := range strings.Split(acceptCharset, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		list = append(list, cs{name, quality(params), i})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].quality > list[j].quality })
	for _, c := range list {
		if c.quality <= 0 {
			continue
		}
		switch c.name {
		case "utf-8", "*":
			return false
		case "utf-16":
			return true
		}
	}
	return strings.EqualFold(strings.TrimSpace(requestCharset), "utf-16")
}

// parseAccept reads an Accept header into ranges sorted by descending quality, more specific ranges first
// among equals (MediaTypeWithQualityHeaderValueComparer), header order otherwise.
func parseAccept(accept string) []mediaRange {
	var out []mediaRange
	for i, part := range strings.Split(accept, ",") {
		mt, params, _ := strings.Cut(part, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok || typ == "" || sub == "" {
			continue
		}
		out = append(out, mediaRange{typ: typ, sub: sub, quality: quality(params), order: i})
	}
	specificity := func(r mediaRange) int {
		switch {
		case r.typ == "*":
			return 0
		case r.sub == "*":
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].quality != out[j].quality {
			return out[i].quality > out[j].quality
		}
		return specificity(out[i]) > specificity(out[j])
	})
	return out
}

// quality reads the q parameter of a header element's parameters; absent or malformed means 1.
func quality(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 1
		}
		return q
	}
	return 1
}
