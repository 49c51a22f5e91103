package contracts

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// ONLYOFFICE's ASC.Api (r7office) does not bind through Web API's formatters. Its ApiArgumentBuilder puts
// the route values, the query string and the body into one NameValueCollection and hands each method
// parameter the first value of its name. The body is read by media type, compared exactly as Mono's
// System.Net.Mime.ContentType keeps it: application/json through Json.NET 13's JSON-to-XML conversion,
// text/xml through XDocument, anything else as form fields when it is urlencoded or multipart form data.
// The facts come from ONLYOFFICE/CommunityServer (module/ASC.Api/ASC.Api/Impl/ApiArgumentBuilder.cs) and
// are pinned by testdata/golden/r7bind, which tools/ascapi-oracle records with the real libraries.

// ASCParams is the NameValueCollection ASC.Api binds from: names compared ignoring case, each with its
// values in the order they were added.
type ASCParams struct {
	names  []string
	null   []bool // a query part without '=' has a null name, which no parameter matches
	values [][]string
}

// Add appends a value under name.
func (p *ASCParams) Add(name, value string) { p.add(name, false, value) }

func (p *ASCParams) add(name string, null bool, value string) {
	for i := range p.names {
		if p.null[i] == null && (null || strings.EqualFold(p.names[i], name)) {
			p.values[i] = append(p.values[i], value)
			return
		}
	}
	p.names = append(p.names, name)
	p.null = append(p.null, null)
	p.values = append(p.values, []string{value})
}

// First is the value ASC.Api passes for a parameter: the first one added under the name.
func (p *ASCParams) First(name string) (string, bool) {
	for i := range p.names {
		if !p.null[i] && strings.EqualFold(p.names[i], name) {
			return p.values[i][0], true
		}
	}
	return "", false
}

// ASCParam is one name of an ASCParams with its values; Null marks the null name.
type ASCParam struct {
	Name   string
	Null   bool
	Values []string
}

// All lists the names in the order they were first added.
func (p *ASCParams) All() []ASCParam {
	out := make([]ASCParam, len(p.names))
	for i := range p.names {
		out[i] = ASCParam{Name: p.names[i], Null: p.null[i], Values: p.values[i]}
	}
	return out
}

// ASCError is how ASC.Api answers a body it cannot read: ApiHttpHandler's status and reason phrase, and the
// innermost exception's message and HResult, which ErrorWrapper reports.
type ASCError struct {
	Status  int    // 400 or 500
	Reason  string // "Invalid arguments" or "Server error"
	Message string
	HResult int32
}

func (e *ASCError) Error() string { return e.Message }

// HResults of the exceptions ASC.Api's binding can end in.
const (
	HResultException       int32 = -2146233088 // COR_E_EXCEPTION: Exception, JsonReaderException, JsonSerializationException
	HResultXML             int32 = -2146232000 // XmlException
	HResultFormat          int32 = -2146233033 // FormatException
	HResultIndexOutOfRange int32 = -2146233080
	HResultArgument        int32 = -2147024809 // ArgumentException
	HResultArgumentNull    int32 = -2147467261 // ArgumentNullException (E_POINTER)
	HResultMethodAccess    int32 = -2146233072 // MethodAccessException
	HResultSecurity        int32 = -2146233078 // SecurityException
)

// jsonError is an unreadable JSON body: ApiArgumentBuilder wraps the exception in ArgumentException("Unable
// to deserialize json") inside a TargetInvocationException, which ApiHttpHandler answers 400.
func jsonError(msg string, hresult int32) *ASCError {
	return &ASCError{Status: 400, Reason: "Invalid arguments", Message: msg, HResult: hresult}
}

// serverError is any other exception while the arguments are built: 500 "Server error".
func serverError(msg string, hresult int32) *ASCError {
	return &ASCError{Status: 500, Reason: "Server error", Message: msg, HResult: hresult}
}

// ReadASCRequest builds ASC.Api's parameter collection from a request's query string (as sent, without
// the '?') and body; route values are the caller's to add first. An error is the answer ASC.Api gives.
func ReadASCRequest(params *ASCParams, contentType string, hasContentType bool, rawQuery string, body []byte) *ASCError {
	addQuery(params, rawQuery)
	mediaType := "text/plain"
	if hasContentType && contentType != "" {
		mt, err := ASCMediaType(contentType)
		if err != nil {
			return err
		}
		mediaType = mt
	}
	switch mediaType {
	case "text/xml":
		return readASCXML(params, body)
	case "application/json":
		return readASCJSON(params, body)
	}
	switch {
	case hasPrefixFold(contentType, "multipart/form-data"):
		readMultipart(params, contentType, body)
	case hasPrefixFold(contentType, "application/x-www-form-urlencoded"):
		readURLEncoded(params, contentType, body)
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// ASCMediaType is new ContentType(header).MediaType as .NET's System.Net.Mime parses it (Mono uses the
// same code): a token, '/', a token, then "; name=value" parameters with white space and (comments)
// allowed between the parts; the case is kept. Anything else is a FormatException ("The specified content
// type is invalid."), and a header that ends right after the '/' an IndexOutOfRangeException.
func ASCMediaType(header string) (string, *ASCError) {
	invalid := serverError("The specified content type is invalid.", HResultFormat)
	// The header is read as Latin-1: each byte a character, and none above 0x7F is allowed.
	s := header
	i := 0
	typ, ok := mimeToken(s, &i)
	if !ok || i >= len(s) || s[i] != '/' {
		return "", invalid
	}
	i++
	if i >= len(s) {
		return "", serverError("Index was outside the bounds of the array.", HResultIndexOutOfRange)
	}
	sub, ok := mimeToken(s, &i)
	if !ok {
		return "", invalid
	}
	for {
		more, ok := skipCFWS(s, &i)
		if !ok {
			return "", invalid
		}
		if !more {
			break
		}
		if s[i] != ';' {
			return "", invalid
		}
		i++
		if more, ok = skipCFWS(s, &i); !ok {
			return "", invalid
		} else if !more {
			break
		}
		if _, ok := mimeToken(s, &i); !ok {
			return "", invalid
		}
		if i >= len(s) || s[i] != '=' {
			return "", invalid
		}
		i++
		if more, ok = skipCFWS(s, &i); !ok || !more {
			return "", invalid
		}
		if s[i] == '"' {
			if !mimeQuoted(s, &i) {
				return "", invalid
			}
		} else if _, ok := mimeToken(s, &i); !ok {
			return "", invalid
		}
	}
	return typ + "/" + sub, nil
}

// mimeToken is MailBnfHelper.ReadToken: at least one character that is printable ASCII and no tspecial.
func mimeToken(s string, i *int) (string, bool) {
	start := *i
	for *i < len(s) {
		c := s[*i]
		if c > 0x7E || c <= ' ' || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			if c >= 0x80 {
				return "", false
			}
			break
		}
		*i++
	}
	return s[start:*i], *i > start
}

// skipCFWS is MailBnfHelper.SkipCFWS: white space and (nested (comments)); it reports whether text
// remains. A comment left open runs to the end.
func skipCFWS(s string, i *int) (more, ok bool) {
	depth := 0
	for ; *i < len(s); *i++ {
		c := s[*i]
		if c >= 0x80 {
			return false, false
		}
		switch {
		case c == '\\' && depth > 0:
			*i++
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return false, false
			}
		case depth == 0 && c != ' ' && c != '\t':
			return true, true
		}
	}
	return false, true
}

// mimeQuoted is MailBnfHelper.ReadQuotedString (no Unicode): a quoted string with backslash escapes.
func mimeQuoted(s string, i *int) bool {
	*i++
	for ; *i < len(s); *i++ {
		switch c := s[*i]; {
		case c >= 0x80:
			return false
		case c == '\\':
			*i++
		case c == '"':
			*i++
			return true
		}
	}
	return false
}

// addQuery is HttpUtility.ParseQueryString with UTF-8: parts split at '&', each at its first '=' (a part
// without one is a value under the null name), both sides URL-decoded as Mono decodes them.
func addQuery(params *ASCParams, raw string) {
	if raw == "" {
		return
	}
	for _, part := range strings.Split(raw, "&") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			params.add("", true, monoURLDecode(part, nil))
			continue
		}
		params.Add(monoURLDecode(name, nil), monoURLDecode(value, nil))
	}
}

// readURLEncoded is Mono's HttpRequest.LoadWwwForm: the body decoded in the request's charset, split at
// '&' and at the first '=' of each part, both sides URL-decoded; the end of the body always adds the pair
// being read, an empty one too.
func readURLEncoded(params *ASCParams, contentType string, body []byte) {
	enc := requestEncoding(contentType)
	text := decodeText(body, enc)
	var key, value strings.Builder
	add := func() {
		params.Add(monoURLDecode(key.String(), enc), monoURLDecode(value.String(), enc))
		key.Reset()
		value.Reset()
	}
	for i := 0; i < len(text); {
		c := text[i]
		i++
		switch c {
		case '=':
			value.Reset()
			for i < len(text) && text[i] != '&' {
				value.WriteByte(text[i])
				i++
			}
			if i >= len(text) {
				add()
				return
			}
			i++
			add()
		case '&':
			add()
		default:
			key.WriteByte(c)
		}
	}
	add()
}

// requestEncoding is HttpRequest.ContentEncoding: the charset written after exactly "; charset=" (a
// quoted value, or up to the next space), known to .NET; UTF-8 otherwise. nil means UTF-8.
func requestEncoding(contentType string) encoding.Encoding {
	name, ok := monoParameter(contentType, "; charset=")
	if !ok {
		return nil
	}
	switch strings.ToLower(name) {
	case "utf-8", "utf8":
		return nil
	case "utf-16", "unicode":
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	}
	e, err := htmlindex.Get(name)
	if err != nil || e == encoding.Replacement {
		return nil
	}
	return e
}

// monoParameter is Mono's HttpRequest.GetParameter: the text after attr, up to a closing quote when it
// starts with one, else up to the next space.
func monoParameter(header, attr string) (string, bool) {
	at := strings.Index(header, attr)
	if at < 0 {
		return "", false
	}
	at += len(attr)
	if at >= len(header) {
		return "", false
	}
	if header[at] == '"' {
		end := strings.IndexByte(header[at+1:], '"')
		if end < 0 {
			return "", false
		}
		return header[at+1 : at+1+end], true
	}
	end := strings.IndexByte(header[at+1:], ' ')
	if end < 0 {
		return header[at:], true
	}
	// Mono returns from the character after the first one: GetParameter skips the opening character
	// whether or not it is a quote.
	return header[at+1 : at+1+end], true
}

// decodeText reads bytes as a StreamReader with the given encoding does (UTF-8 when nil): a byte order mark
// picks the encoding, undecodable bytes become U+FFFD.
func decodeText(b []byte, enc encoding.Encoding) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return toValidUTF8(b[3:])
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		return utf32Text(b[4:], false)
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		return utf32Text(b[4:], true)
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}) && !bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		return utf16Text(b[2:], false)
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return utf16Text(b[2:], true)
	}
	if enc == nil {
		return toValidUTF8(b)
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return toValidUTF8(b)
	}
	return string(out)
}

// decodeBytes is decodeText with UTF-8 (a StreamReader's default) that hands back valid UTF-8 without a
// byte order mark as it is, uncopied.
func decodeBytes(b []byte) []byte {
	if len(b) > 0 && b[0] < 0x80 && utf8.Valid(b) {
		return b
	}
	return []byte(decodeText(b, nil))
}

func utf32Text(b []byte, bigEndian bool) string {
	var out strings.Builder
	for i := 0; i+3 < len(b); i += 4 {
		var u uint32
		if bigEndian {
			u = uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		} else {
			u = uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24
		}
		r := rune(u)
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		out.WriteRune(r)
	}
	if len(b)%4 != 0 {
		out.WriteRune(utf8.RuneError)
	}
	return out.String()
}

// toValidUTF8 decodes UTF-8 as .NET's decoder does with its replacement fallback: U+FFFD for each byte
// that is not part of a valid sequence.
func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			out = append(out, "\uFFFD"...)
			b = b[1:]
			continue
		}
		out = append(out, b[:size]...)
		b = b[size:]
	}
	return string(out)
}

func utf16Text(b []byte, bigEndian bool) string {
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if bigEndian {
			units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
		} else {
			units = append(units, uint16(b[i])|uint16(b[i+1])<<8)
		}
	}
	s := string(utf16.Decode(units))
	if len(b)%2 == 1 {
		s += "\uFFFD"
	}
	return s
}

// monoURLDecode is Mono's HttpUtility.UrlDecode(s, e): '+' is a space, %XX a byte and %uXXXX a UTF-16 unit;
// a '%' that starts neither stays as written. The bytes are decoded with e (UTF-8 when nil).
func monoURLDecode(s string, enc encoding.Encoding) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var out []byte  // the decoded text
	var pend []byte // bytes waiting to be decoded with enc
	flush := func() {
		if len(pend) > 0 {
			out = append(out, decodeText(pend, enc)...)
			pend = pend[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			flush()
			out = append(out, ' ')
		case c == '%' && i+5 < len(s)+0 && s[i+1] == 'u' && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]):
			flush()
			var u rune
			for _, h := range s[i+2 : i+6] {
				u = u<<4 | hexVal(byte(h))
			}
			if u >= 0xD800 && u <= 0xDFFF {
				u = utf8.RuneError
			}
			out = utf8.AppendRune(out, u)
			i += 5
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			pend = append(pend, byte(hexVal(s[i+1])<<4|hexVal(s[i+2])))
			i += 2
		default:
			flush()
			out = append(out, c)
		}
	}
	flush()
	return string(out)
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	}
	return rune(c - 'A' + 10)
}

// readMultipart is Mono's HttpRequest.LoadMultiPart: the boundary only from "; boundary=", each part with
// a Content-Disposition name and no filename a form field, its bytes decoded in the request's charset.
// Parts after the closing boundary, or a body without one, add nothing more.
func readMultipart(params *ASCParams, contentType string, body []byte) {
	boundary, ok := monoParameter(contentType, "; boundary=")
	if !ok || boundary == "" {
		return
	}
	enc := requestEncoding(contentType)
	delim := []byte("--" + boundary)
	// The first boundary line.
	i := bytes.Index(body, delim)
	if i < 0 {
		return
	}
	i += len(delim)
	for {
		// After a boundary: "--" ends the body, else the rest of the line is skipped.
		if bytes.HasPrefix(body[i:], []byte("--")) {
			return
		}
		nl := bytes.IndexByte(body[i:], '\n')
		if nl < 0 {
			return
		}
		i += nl + 1
		// Headers up to an empty line.
		var name string
		var hasName, isFile bool
		for {
			nl := bytes.IndexByte(body[i:], '\n')
			if nl < 0 {
				return
			}
			line := strings.TrimRight(string(body[i:i+nl]), "\r")
			i += nl + 1
			if line == "" {
				break
			}
			h, v, ok := strings.Cut(line, ":")
			if ok && strings.EqualFold(strings.TrimSpace(h), "Content-Disposition") {
				name, hasName = dispositionAttr(v, "name")
				_, isFile = dispositionAttr(v, "filename")
			}
		}
		// The content runs to CRLF before the next boundary.
		end := bytes.Index(body[i:], append([]byte("\r\n"), delim...))
		if end < 0 {
			return
		}
		if hasName && !isFile {
			params.Add(name, decodeText(body[i:i+end], enc))
		}
		i += end + 2 + len(delim)
	}
}

// dispositionAttr finds attr="value" (or attr=value up to ';') in a Content-Disposition value.
func dispositionAttr(v, attr string) (string, bool) {
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), attr) {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		return val, true
	}
	return "", false
}
