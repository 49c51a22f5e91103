// Command cases prints the request bodies testdata/golden/r7bind is recorded from: JSON lines of
// {"name", "contentType", "query", "body" | "bodyBase64"} for tools/ascapi-oracle. The set is fixed (no
// randomness) so that a re-recording changes only what the oracle says.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

type bodyCase struct {
	Name        string  `json:"name"`
	ContentType *string `json:"contentType"`
	Query       string  `json:"query,omitempty"`
	Body        *string `json:"body,omitempty"`
	BodyBase64  *string `json:"bodyBase64,omitempty"`
}

var out = json.NewEncoder(os.Stdout)

func emit(name, contentType, query string, body []byte) {
	c := bodyCase{Name: name, Query: query}
	if contentType != "\x00" {
		c.ContentType = &contentType
	}
	if utf8.Valid(body) && !strings.ContainsRune(string(body), 0) {
		s := string(body)
		c.Body = &s
	} else {
		s := base64.StdEncoding.EncodeToString(body)
		c.BodyBase64 = &s
	}
	out.SetEscapeHTML(false)
	if err := out.Encode(c); err != nil {
		panic(err)
	}
}

const jsonCT = "application/json"

func main() {
	good := `{"userName":"u","password":"Passw0rd-long-1","provider":"email","mobilePhone":"+7 (999) 000-11-22"}`
	// JSON bodies: what binds, and what ASC.Api refuses with 400 "Invalid arguments".
	jsonBodies := []string{
		good, `{}`, `null`, ``, `   `, "\t\r\n", `[]`, `[1,2]`, `"text"`, `1`, `true`,
		`{"userName":"u","password":"p"`, `{"userName":"u","password":"p",`, `{"userName":"u","password":`,
		`{"userName":"u","password"`, `{"userName":"u","pass`, `{"userName":"u`, `{"userName`, `{`, `{"a":{"b":1`,
		`{"userName":"u","password":}`, `{"userName":"u",}`, `{"userName":"u"}}`, `{"userName":"u"} x`,
		`{"userName":"u"} /* c */`, `{"userName":"u"} // c`, `{"userName":"u"}[]`, `{"userName":"u"}{}`,
		`{userName:"u",password:'p'}`, `{'userName':'u'}`, `{"userName":"u" "password":"p"}`,
		`{"user name":"u","password":"p"}`, `{"user:name":"u"}`, `{"a:userName":"u"}`, `{":userName":"u"}`,
		`{"@xmlns:a":"urn:x","a:userName":"u","password":"p"}`, `{"@xmlns":"urn:x","userName":"u"}`,
		`{"@id":"1","userName":"u"}`, `{"userName":"u","@id":"1"}`, `{"$id":"1","userName":"u"}`, `{"$type":"x","userName":"u"}`,
		`{"$values":[1],"userName":"u"}`, `{"#text":"t","userName":"u"}`, `{"userName":"u","#text":"t"}`,
		`{"#cdata-section":"c","userName":"u"}`, `{"?xml":{"@version":"1.0"},"userName":"u"}`, `{"!DOCTYPE":{"@name":"x"},"userName":"u"}`,
		`{"1userName":"u"}`, `{"":"u"}`, `{"user<name":"u"}`, `{"userName":"u","userName":"v"}`, `{"USERNAME":"U","userName":"u"}`,
		`{"userName":["u","v"]}`, `{"userName":[]}`, `{"userName":[["u"]]}`, `{"userName":[{"a":1},"u"]}`, `{"userName":{"a":"b"}}`,
		`{"userName":{"#text":"u"}}`, `{"userName":{"@a":"b"}}`, `{"userName":{"@a":"b","#text":"u"}}`, `{"userName":{}}`,
		`{"userName":null,"password":null}`, `{"userName":undefined}`, `{"userName":1,"password":2.5}`,
		`{"userName":123456789012345678901234567890,"password":"p"}`, `{"userName":-9223372036854775809}`,
		`{"userName":1e400}`, `{"userName":1.0}`, `{"userName":1e5}`, `{"userName":0.1}`, `{"userName":-0.0}`,
		`{"userName":0x1F}`, `{"userName":0x}`, `{"userName":017}`, `{"userName":09}`, `{"userName":1.2.3}`, `{"userName":--1}`,
		`{"userName":NaN}`, `{"userName":Infinity}`, `{"userName":-Infinity}`, `{"userName":Infinit}`, `{"userName":-Inf}`, `{"userName":Na}`,
		`{"userName":true,"password":false}`, `{"userName":tru}`, `{"userName":nul}`, `{"userName":n`, `{"userName":n}`,
		`{"userName":"2012-03-21T05:40:12.123Z"}`, `{"userName":"2012-03-21T05:40:12+03:00"}`, `{"userName":"2012-03-21T05:40:12"}`,
		`{"userName":"\/Date(1332308412123)\/"}`, `{"userName":new Date(1)}`, `{"userName":new Date(}`,
		`{"userName":"a\u0041\n\t\"b"}`, `{"userName":"\u004"}`, `{"userName":"\u00zz"}`, `{"userName":"\u 041"}`, `{"userName":"\x41"}`,
		`{"userName":"\ud800"}`, `{"userName":"\u0000"}`, `{"userName":"a` + "\x01" + `b"}`, `{"userName":"line` + "\n" + `break"}`,
		`{"userName":"u"/*c*/,"password":"p"}`, `{/*c*/"userName":"u"}`, `{"userName":"u"/c}`, `{"userName":"u",/*`,
		`{"userName":"u",,"password":"p"}`, `{"userName":,"password":"p"}`, `{,"userName":"u"}`,
		`{"userName":"u"]`, `{"userName":["u"}`, `{"userName":"u",]`, `{"a":[1,,2],"userName":"u"}`, `{"a":[,1],"userName":"u"}`,
		`{"userName":"Пользователь","password":"пароль"}`, `{"userName":"😀"}`, `{"😀":"u"}`, `{"userName":"u"` + "\n}",
		"{\r\n  \"userName\": \"u\",\r\n  \"password\": }",
		`{"userName":"u","a":{"b":{"c":1}},"password":"p"}`, `{"a":{"userName":"u"}}`,
	}
	for i, b := range jsonBodies {
		emit(fmt.Sprintf("json-%03d", i), jsonCT, "", []byte(b))
	}
	// Numbers Json.NET reads as hex or octal, and numbers it refuses.
	for i, v := range []string{"0xFFFFFFFFFFFFFFFFF", "0x8000000000000000", "0xFFFFFFFFFFFFFFFF", "0x1G", "0x-1", "08", "0X1f",
		"0777777777777777777777777", "019", "0x1e5", "-0x1", "-01", "00", "0.5e", "1e", "1e+", ".5", "-.5", "1.", "5-", "1-2", "+1", "-"} {
		emit(fmt.Sprintf("json-number-%02d", i), jsonCT, "", []byte(`{"a":`+v+`,"userName":"u"}`))
	}
	// Comments cut by the end of the text.
	for i, b := range []string{`{/*`, `{/`, `{"a":1/*`, `{"a":1/*x`, `{"a":1/*x*`, `{"a":1//`, `{"a":1/`, `{"a":1,/*`, `/*`, `/`, `{"a":/*`} {
		emit(fmt.Sprintf("json-comment-eof-%02d", i), jsonCT, "", []byte(b))
	}
	// What the converter refuses inside elements.
	for i, b := range []string{
		`{"a":{"#text":null},"userName":"u"}`, `{"@xmlns:a":null,"userName":"u"}`, `{"@xmlns:xmlns":"urn:x"}`, `{"@xmlns:xml":"urn:x"}`,
		`{"a":{"?pi":"d"},"userName":"u"}`, `{"a":{"?pi":null}}`, `{"a":{"?xml":"x"},"userName":"u"}`, `{"a":{"?xml":{"@foo":"1"}}}`,
		`{"a":{"!DOCTYPE":{"@name":"x"}}}`, `{"a":{"!DOCTYPE":{}}}`, `{"a":{"@b":null}}`, `{"a":{"@b":1,"@b":2}}`, `{"a":{"@b":{"c":1}}}`,
		`{"a":{"@b":1},"a":"2"}`, `{"a":{"$type":{}}}`, `{"a":{"$id":"1","$id":"2"}}`, `{"a":{"@xmlns":"urn:x","b":"1"},"b":"2"}`,
		`{"a":{"@xmlns:p":"urn:p","p:b":"1"},"p:c":"2"}`, `{"p:a":"1","@xmlns:p":"urn:p"}`, `{"a":[[1,2],[3]]}`, `{"a":[[]]}`,
		`{"a":[{"b":1},{"b":2}]}`, `{"userName":"u","a":{"b":[1,{"c":2}]}}`, `{"a":new Date(1, 2),"userName":"u"}`, `{"a":{"?":"x"}}`,
		`{"a":{"@":"x"}}`, `{"a":{"$":"x"}}`, `{"a":{"#text":["x","y"]}}`, `{"a":{"#whitespace":" ","#significant-whitespace":"	"}}`,
		`{"userName":{"#cdata-section":"<u>"}}`, `{"a:":"1"}`, `{"a::b":"1"}`, `{"xml:lang":"en","userName":"u"}`, `{"xmlns:p":"1"}`,
	} {
		emit(fmt.Sprintf("json-node-%02d", i), jsonCT, "", []byte(b))
	}

	// Nesting around MaxDepth 64.
	for _, depth := range []int{62, 63, 64, 65, 200} {
		emit(fmt.Sprintf("json-depth-%d", depth), jsonCT, "", []byte(strings.Repeat(`{"a":`, depth)+`1`+strings.Repeat(`}`, depth)))
		emit(fmt.Sprintf("json-depth-array-%d", depth), jsonCT, "", []byte(`{"a":`+strings.Repeat(`[`, depth)+strings.Repeat(`]`, depth)+`}`))
	}
	// Every prefix of a good body: truncated objects bind what was read.
	for i := 1; i < len(good); i++ {
		emit(fmt.Sprintf("json-trunc-%03d", i), jsonCT, "", []byte(good[:i]))
	}
	// Encodings: StreamReader detects a byte order mark, else reads UTF-8; the charset parameter is ignored.
	emit("json-bom-utf8", jsonCT, "", append([]byte{0xEF, 0xBB, 0xBF}, good...))
	emit("json-bom-utf16le", jsonCT, "", append([]byte{0xFF, 0xFE}, utf16le(good)...))
	emit("json-bom-utf16be", jsonCT, "", append([]byte{0xFE, 0xFF}, utf16be(good)...))
	emit("json-nobom-utf16le", jsonCT+"; charset=utf-16", "", utf16le(good))
	emit("json-nobom-utf16le-plain", jsonCT, "", utf16le(good))
	emit("json-invalid-utf8", jsonCT, "", []byte("{\"userName\":\"u\xff\xfe\",\"password\":\"p\"}"))
	emit("json-cp1251-label", jsonCT+"; charset=windows-1251", "", []byte(`{"userName":"Пользователь"}`))
	emit("json-latin1-bytes", jsonCT, "", []byte("{\"userName\":\"caf\xe9\"}"))
	emit("json-nul-inside", jsonCT, "", []byte("{\"userName\":\"u\",\x00\"password\":\"p\"}"))

	// Content types: the media type is compared exactly (case kept), and only urlencoded or multipart
	// bodies are read as forms.
	form := "userName=u&password=Passw0rd-long-1"
	for i, ct := range []string{
		"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8", "application/json ; charset=utf-8",
		"Application/JSON", "APPLICATION/JSON", "application/json; foo", "application/json;", " application/json",
		"text/json", "text/xml", "Text/XML", "application/xml", "text/plain", "", "\x00", "garbage", "application/", "/json",
		"application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
		"application/x-www-form-urlencodedX", "application/json, text/plain", "application/json; charset=\"utf-8\"",
		"application/json; charset=", "application/json; a=b; c", "application/json\t", "multipart/mixed",
	} {
		emit(fmt.Sprintf("ct-json-%02d", i), ct, "", []byte(`{"userName":"u","password":"Passw0rd-long-1"}`))
		emit(fmt.Sprintf("ct-form-%02d", i), ct, "", []byte(form))
	}

	// text/xml: XDocument.Load of the body read as text.
	const xmlCT = "text/xml"
	xmlBodies := []string{
		`<request><userName>u</userName><password>Passw0rd-long-1</password></request>`,
		`<r xmlns="urn:x"><userName>u</userName></r>`, `<a:r xmlns:a="urn:a"><a:userName>u</a:userName><b:password xmlns:b="urn:b">p</b:password></a:r>`,
		`<r><userName>u</userName><userName>v</userName></r>`, `<r><USERNAME>U</USERNAME><userName>u</userName></r>`,
		`<r><userName><x>1</x></userName><password>p</password></r>`, `<r><userName><x>1</x></userName><userName>u</userName></r>`,
		`<r><a><b>1</b></a><a><b>2</b></a></r>`, `<r><a><b><c>1</c></b></a></r>`, `<r><userName/><password></password></r>`,
		`<r><userName>  </userName></r>`, `<r><userName> u </userName></r>`, `<r><userName><![CDATA[u<>]]></userName></r>`,
		`<r><userName>a&amp;b&lt;&#65;&#x42;</userName></r>`, `<r><userName>u<!--c-->v</userName></r>`, `<r><userName>u<?pi x?>v</userName></r>`,
		`<?xml version="1.0"?><r><userName>u</userName></r>`, `<?xml version="1.0" encoding="utf-16"?><r><userName>u</userName></r>`,
		`<?xml version="1.0" encoding="windows-1251"?><r><userName>u</userName></r>`, `<?pi?><r><userName>u</userName></r>`,
		`<!-- c --><r><userName>u</userName></r>`, `<r><userName>u</userName></r><!-- c -->`, `  <r><userName>u</userName></r>  `,
		`<r><userName>u</userName></r><r/>`, `<r><userName>u</userName></r>x`, `x<r/>`, ``, `   `, `<`, `<r>`, `<r><userName>u</userName>`,
		`<r><userName>u</username></r>`, `<r><userName>u</r>`, `</r>`, `<r attr=1/>`, `<r a="1" a="2"/>`, `<r><a:b>u</a:b></r>`,
		`<r xmlns:a=""><a:b/></r>`, `<r>&undefined;</r>`, `<r>&#0;</r>`, `<r>&#xD800;</r>`, `<r>` + "\x01" + `</r>`, `<r><1a/></r>`,
		`<r><userName>u</userName>]]></r>`, `<r><![CDATA[x</r>`, `<r><!-- x</r>`, `<?xml version="2.0"?><r/>`, `<?xml encoding="utf-8"?><r/>`,
		`<!DOCTYPE r [<!ENTITY e "u">]><r><userName>&e;</userName></r>`, `<!DOCTYPE r><r/>`, `<r><userName>Пользователь</userName></r>`,
		`<r xml:lang="en"><userName xml:space="preserve"> u </userName></r>`, `<r><userName>u</userName><password>p<b/></password></r>`,
		"<r>\r\n  <userName>u</userName>\r\n</r>", `<r><userName a="1">u</userName></r>`, `<r><x:userName xmlns:x="urn:x">u</x:userName><userName>v</userName></r>`,
	}
	for i, b := range xmlBodies {
		emit(fmt.Sprintf("xml-%03d", i), xmlCT, "", []byte(b))
	}
	for i, b := range []string{
		"<r>", "<ab>", "<abc>", "<abcd>", "<r/", "<r/>", "<r>x", "<r>xy", "<r><", " <r>", "<r ", "<r a", "<r a=", "<r a=\"", "<r a=\"1\"",
		"<r a=\"1\">", "<r></", "<r></r", "<a><b>", "<a><b></b>", "<a>x</a", "<a>x</a ", "<a>x</b>", "<a><b>x</c></a>", "<a></a >",
		"<a></ a>", "<a>x</a> <b", "<?pi?><r/>", "<?pi data?><r/>", "<? pi?><r/>", "<?xml version=\"1.0\"?> <?xml version=\"1.0\"?><r/>",
		" <?xml version=\"1.0\"?><r/>", "<r><?xml x?></r>", "<r>&#0;</r>", "<r>&#x0;</r>", "<r>&#65</r>", "<r>&amp</r>", "<r>&;</r>",
		"<r>& </r>", "<r a=\"&#1;\"/>", "<r a=\"<\"/>", "<r><![CDATA[a]]]></r>", "<r><!--a--b--></r>", "<r><!--a-></r>", "<r>a<b/>c</r>",
		"<r xmlns:a=\"urn:a\"><a:b/></r>", "<r xmlns:xml=\"urn:x\"/>", "<r xmlns=\"\"/>", "<r a=\"1\"b=\"2\"/>", "<r/ >", "<r>\n<a>\n</b></r>",
		"<r>\r\n<userName>u</userName>\r\n<a>&bad;</a></r>", "<r><a>  <![CDATA[ x ]]>  </a></r>", "<r><a>&#32;</a></r>",
		"<r xml:space=\"preserve\"><a>  </a></r>", "<r><a xml:space=\"preserve\"> </a><b> </b></r>", "<r><a>x</a>\n\n", "<r>\n<a>x</a", "<r><a>x</b:a></r>",
		"<r><p:a xmlns:p=\"urn:p\">x</p:a><a>y</a></r>", "<r><a:b xmlns:a=\"urn:a\"/><a:c/></r>", "<r><![CDATA[x]]></r>", "<r>😀<a>😀</a>&#xFFFE;</r>",
	} {
		emit(fmt.Sprintf("xml-probe-%02d", i), xmlCT, "", []byte(b))
	}
	goodXML := xmlBodies[0]
	for i := 1; i < len(goodXML); i += 3 {
		emit(fmt.Sprintf("xml-trunc-%03d", i), xmlCT, "", []byte(goodXML[:i]))
	}
	emit("xml-bom-utf8", xmlCT, "", append([]byte{0xEF, 0xBB, 0xBF}, goodXML...))
	emit("xml-bom-utf16le", xmlCT, "", append([]byte{0xFF, 0xFE}, utf16le(goodXML)...))
	emit("xml-nobom-utf16le", xmlCT+"; charset=utf-16", "", utf16le(goodXML))
	emit("xml-invalid-utf8", xmlCT, "", []byte("<r><userName>u\xff</userName></r>"))
	emit("xml-deep", xmlCT, "", []byte(strings.Repeat("<a>", 300)+strings.Repeat("</a>", 300)))

	// application/x-www-form-urlencoded as Mono's HttpRequest reads it.
	const formCT = "application/x-www-form-urlencoded"
	formBodies := []string{
		form, "userName=u&USERNAME=v&password=p", "userName=a+b%20c", "userName=%zz&password=%", "userName=%u0041%u04", "userName=%D0%9F",
		"userName=%D0", "userName=a=b=c", "userName", "userName&password=p", "=u&userName=v", "&&userName=u&&", "userName=u;password=p",
		"user%4Eame=u", "userName=u&password=p&", "userName=%2B%26%3D", "userName=+", "", " userName=u", "userName =u",
	}
	for i, b := range formBodies {
		emit(fmt.Sprintf("form-%03d", i), formCT, "", []byte(b))
	}
	emit("form-cp1251", formCT+"; charset=windows-1251", "", []byte("userName=\xcf\xf0\xe8\xe2\xe5\xf2&password=p"))
	emit("form-cp1251-escaped", formCT+"; charset=windows-1251", "", []byte("userName=%CF%F0%E8&password=p"))
	emit("form-cp1251-nospace", formCT+";charset=windows-1251", "", []byte("userName=%CF%F0%E8&password=p"))
	emit("form-utf8-escaped-cp1251-label", formCT+"; charset=windows-1251", "", []byte("userName=%D0%9F"))
	emit("form-unknown-charset", formCT+"; charset=x-unknown", "", []byte("userName=%D0%9F"))
	emit("form-koi8r", formCT+"; charset=koi8-r", "", []byte("userName=\xf0\xd2\xc9"))
	emit("form-utf16-label", formCT+"; charset=utf-16", "", utf16le("userName=u&password=p"))
	emit("form-invalid-utf8", formCT, "", []byte("userName=u\xff&password=p"))

	// multipart/form-data as Mono's HttpMultipart reads it: the boundary only from "; boundary=".
	part := func(boundary string, fields ...string) []byte {
		var b strings.Builder
		for i := 0; i+1 < len(fields); i += 2 {
			b.WriteString("--" + boundary + "\r\n")
			b.WriteString(fields[i] + "\r\n\r\n" + fields[i+1] + "\r\n")
		}
		b.WriteString("--" + boundary + "--\r\n")
		return []byte(b.String())
	}
	const bnd = "----aspgate7MA4YWxk"
	mp := "multipart/form-data; boundary=" + bnd
	emit("multipart-000", mp, "", part(bnd, `Content-Disposition: form-data; name="userName"`, "u", `Content-Disposition: form-data; name="password"`, "Passw0rd-long-1"))
	emit("multipart-001", mp, "", part(bnd, `Content-Disposition: form-data; name="USERNAME"`, "U", `Content-Disposition: form-data; name="userName"`, "u"))
	emit("multipart-002", mp, "", part(bnd, `Content-Disposition: form-data; name="userName"; filename="a.txt"`+"\r\nContent-Type: text/plain", "u", `Content-Disposition: form-data; name="password"`, "p"))
	emit("multipart-003", mp, "", part(bnd, `Content-Disposition: form-data; name=userName`, "u"))
	emit("multipart-004", mp, "", part(bnd, `content-disposition: form-data; name="userName"`, "u"))
	emit("multipart-005", mp, "", part(bnd, `Content-Disposition: form-data; name="userName"`, "line1\r\nline2"))
	emit("multipart-006", mp, "", part(bnd, `Content-Disposition: form-data; name="userName"`, "Пользователь"))
	emit("multipart-007", "multipart/form-data;boundary="+bnd, "", part(bnd, `Content-Disposition: form-data; name="userName"`, "u"))
	emit("multipart-008", `multipart/form-data; boundary="`+bnd+`"`, "", part(bnd, `Content-Disposition: form-data; name="userName"`, "u"))
	emit("multipart-009", "multipart/form-data", "", part(bnd, `Content-Disposition: form-data; name="userName"`, "u"))
	emit("multipart-010", mp, "", []byte("--"+bnd+"\r\nContent-Disposition: form-data; name=\"userName\"\r\n\r\nu"))
	emit("multipart-011", mp, "", []byte("garbage"))
	emit("multipart-012", mp+"; charset=windows-1251", "", part(bnd, `Content-Disposition: form-data; name="userName"`, "\xcf\xf0\xe8"))
	emit("multipart-013", "Multipart/Form-Data; boundary="+bnd, "", part(bnd, `Content-Disposition: form-data; name="userName"`, "u"))
	emit("multipart-014", mp, "", part(bnd, `Content-Disposition: form-data; name="userName"`, ""))
	emit("multipart-015", mp, "", part(bnd, "X-Other: 1\r\n"+`Content-Disposition: form-data; name="userName"`, "u"))
	emit("multipart-016", mp, "", append([]byte("preamble\r\n"), part(bnd, `Content-Disposition: form-data; name="userName"`, "u")...))

	// More content types: comments, quoted strings, characters the MIME parser refuses.
	for i, ct := range []string{
		"application/json (comment)", "application/json (unclosed", "application/json; charset=\"utf-8", "application/json; charset=\"u\\\"8\"",
		"application/json;;", "application/json; ;charset=utf-8", "application/json;charset", "application/json\r\n", "application/json x",
		"application/jsön", "appli cation/json", "application/json; charset=utf-8 (c)", "text/xml;charset=utf-8", "text/xml; charset=\"utf-8\"",
		"application/x-www-form-urlencoded(c)", "application/json/x", "application//json", "*/*", "application/*",
	} {
		emit(fmt.Sprintf("ct2-json-%02d", i), ct, "", []byte(`{"userName":"u","password":"Passw0rd-long-1"}`))
	}

	// Query strings come before the body; names ignore case and the first value wins.
	for i, q := range []string{
		"userName=q&password=p", "userName=q&USERNAME=x", "USERNAME=x&userName=q", "userName=a;b&password=p%", "userName=%zz",
		"userName=%u0041", "userName=a+b", "userName", "=x", "&userName=q&", "userName=q&userName=r", "userName=%D0%9F", "userName=%FF",
		"a=1;userName=q", "userName=q#frag",
	} {
		emit(fmt.Sprintf("query-%02d", i), jsonCT, q, []byte(`{"userName":"u","password":"p"}`))
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16be(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}
