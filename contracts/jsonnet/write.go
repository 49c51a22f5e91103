// Package jsonnet reads and writes JSON text the way Json.NET 6 does: its string escaping (and ASC.Api's
// variant), and a lenient tokenizer with Json.NET's JsonTextReader rules (single quotes, unquoted names,
// comments, a depth limit). It knows nothing of contracts or HTTP.
//
// Strings are Go strings holding UTF-8; a lone UTF-16 surrogate that a client escaped (\ud800) is kept in
// WTF-8 form (ED A0 80), so that two different .NET strings never become the same Go string.
package jsonnet

import "unicode/utf8"

// Escaping selects a string escaping rule.
type Escaping uint8

const (
	// Default is Json.NET's StringEscapeHandling.Default: quote, backslash and control characters escaped
	// (\b \t \n \f \r short), U+0085, U+2028 and U+2029 as \u escapes, everything else raw.
	Default Escaping = iota
	// NonASCII is StringEscapeHandling.EscapeNonAscii: Default plus every character above U+007F as
	// \u escapes of its UTF-16 units.
	NonASCII
	// ASCAPI is ONLYOFFICE ASC.Api's JsonStringConverter: quote, slash and backslash get a backslash;
	// U+0000..U+001F, UTF-16 surrogates (so astral characters as a pair) and U+FFFE/U+FFFF become
	// lower-case \u escapes; everything else raw.
	ASCAPI
)

const lowerHex = "0123456789abcdef"

// plain classifies bytes for AppendString: plainJSON marks the ASCII bytes Json.NET writes as they are,
// plainASCAPI those ASC.Api does (the same less '/'). Bytes of multi-byte UTF-8 sequences are not plain;
// AppendString decodes them. One table lookup per byte instead of a chain of comparisons matters because
// nearly every byte of a response is plain.
const (
	plainJSON = 1 << iota
	plainASCAPI
)

var plain = func() (t [256]uint8) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		switch c {
		case '"', '\\':
		case '/':
			t[c] = plainJSON
		default:
			t[c] = plainJSON | plainASCAPI
		}
	}
	return t
}()

// AppendString appends s as a quoted JSON string.
func AppendString(dst []byte, s string, mode Escaping) []byte {
	mask := uint8(plainJSON)
	if mode == ASCAPI {
		mask = plainASCAPI
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c]&mask != 0 {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			i++
			start = i
			dst = appendASCIIEscape(dst, c, mode)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			if surrogate, ok := SurrogateAt(s, i); ok {
				size = 3
				if mode == Default {
					dst = append(dst, "\uFFFD"...) // what the UTF-8 encoder makes of a lone surrogate
				} else {
					dst = appendU(dst, surrogate)
				}
			} else {
				dst = append(dst, "\uFFFD"...)
			}
			i += size
			start = i
			continue
		}
		escape := false
		switch mode {
		case Default:
			escape = r == 0x85 || r == 0x2028 || r == 0x2029
		case NonASCII:
			escape = true
		case ASCAPI:
			escape = r == 0xFFFE || r == 0xFFFF || r > 0xFFFF
		}
		if !escape {
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		if r > 0xFFFF {
			r -= 0x10000
			dst = appendU(dst, 0xD800+(r>>10))
			dst = appendU(dst, 0xDC00+(r&0x3FF))
		} else {
			dst = appendU(dst, r)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendASCIIEscape(dst []byte, c byte, mode Escaping) []byte {
	if mode == ASCAPI {
		if c == '"' || c == '\\' || c == '/' {
			return append(dst, '\\', c)
		}
		return appendU(dst, rune(c))
	}
	switch c {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\b':
		return append(dst, '\\', 'b')
	case '\t':
		return append(dst, '\\', 't')
	case '\n':
		return append(dst, '\\', 'n')
	case '\f':
		return append(dst, '\\', 'f')
	case '\r':
		return append(dst, '\\', 'r')
	}
	return appendU(dst, rune(c))
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', lowerHex[r>>12&15], lowerHex[r>>8&15], lowerHex[r>>4&15], lowerHex[r&15])
}

// SurrogateAt reports whether s holds a WTF-8 encoded UTF-16 surrogate at byte i, and which.
func SurrogateAt(s string, i int) (rune, bool) {
	if i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), true
	}
	return 0, false
}

// AppendSurrogate appends a lone UTF-16 surrogate in WTF-8 form.
func AppendSurrogate(dst []byte, r rune) []byte {
	return append(dst, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
}
