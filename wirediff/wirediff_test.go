package wirediff

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"aspgate/internal/recording"
)

func recorded(t *testing.T, name string) Answer {
	t.Helper()
	rec, err := recording.Read(filepath.Join("..", "testdata", "golden", "requests", name))
	if err != nil {
		t.Fatal(err)
	}
	return Answer{Status: rec.Status, Header: rec.ResponseHeader(), Body: rec.RespBody}
}

// edit returns a with its body changed by replacing old with new (once, which must be found), or its
// header h set to v.
func edit(t *testing.T, a Answer, old, new string) Answer {
	t.Helper()
	if !strings.Contains(string(a.Body), old) {
		t.Fatalf("%q is not in the body", old)
	}
	a.Body = []byte(strings.Replace(string(a.Body), old, new, 1))
	return a
}

func header(a Answer, h, v string) Answer {
	a.Header = a.Header.Clone()
	if v == "" {
		a.Header.Del(h)
	} else {
		a.Header.Set(h, v)
	}
	return a
}

const abstractions = "http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Abstractions"

// TestDifferencesAreNamed: each break of a recorded legacy answer is found and named as the report shows
// it; what the rules do not compare (a success's values, a prefix) is not reported.
func TestDifferencesAreNamed(t *testing.T) {
	xmlOK := recorded(t, "02-lcmanager-accept-xml.txt")
	jsonOK := recorded(t, "01-lcmanager-json-ok.txt")
	e405 := recorded(t, "03-lcmanager-405-get.txt")
	aries := recorded(t, "61-aries-ok-xml.txt")
	model := recorded(t, "21-ereader-missing-required.txt")
	for _, c := range []struct {
		name      string
		want, got Answer
		report    []string // each difference's String(), in order
	}{
		{"same XML", xmlOK, xmlOK, nil},
		{"a success's values", xmlOK, edit(t, edit(t, xmlOK, ">0<", ">2<"), `"Phone":79991234567`, `"Phone":1`), nil},
		{"another prefix for the same namespace", xmlOK, edit(t, edit(t, xmlOK, `<ErrorCode xmlns="`+abstractions+`">0</ErrorCode>`,
			`<a:ErrorCode xmlns:a="`+abstractions+`">0</a:ErrorCode>`), "", ""), nil},
		{"namespace changed", xmlOK, edit(t, xmlOK, `<ErrorCode xmlns="`+abstractions+`"`, `<ErrorCode xmlns="`+abstractions+`2"`),
			[]string{"/RememberMessageResponse/ErrorCode: namespace " + abstractions + " expected, " + abstractions + "2 received"}},
		{"member reordered", xmlOK, edit(t, edit(t, xmlOK, `<ErrorCode xmlns="`+abstractions+`">0</ErrorCode>`, ""),
			"</SessionId>", `</SessionId><ErrorCode xmlns="`+abstractions+`">0</ErrorCode>`),
			[]string{"/RememberMessageResponse: order ErrorCode, Message, SessionId expected, Message, SessionId, ErrorCode received"}},
		{"i:nil dropped", xmlOK, edit(t, xmlOK, `<Message i:nil="true" xmlns="`+abstractions+`" />`, `<Message xmlns="`+abstractions+`" />`),
			[]string{`/RememberMessageResponse/Message: nil i:nil="true" expected, a value received`}},
		{"member dropped", xmlOK, edit(t, xmlOK, `<ErrorCode xmlns="`+abstractions+`">0</ErrorCode>`, ""),
			[]string{"/RememberMessageResponse/ErrorCode: missing (expected element ErrorCode {" + abstractions + "})"}},
		{"value type changed", xmlOK, edit(t, xmlOK, ">0<", ">none<"), []string{"/RememberMessageResponse/ErrorCode: type number expected, text received"}},
		{"charset changed", xmlOK, header(xmlOK, "Content-Type", "application/xml; charset=utf-16"),
			[]string{"header Content-Type: header application/xml; charset=utf-8 expected, application/xml; charset=utf-16 received",
				"body: parse xml expected, XML: no root element received"}},
		{"JSON member renamed", jsonOK, edit(t, jsonOK, `"ErrorCode"`, `"errorCode"`),
			[]string{`/ErrorCode: missing (expected member "ErrorCode" (number))`, `/errorCode: unexpected member "errorCode" (number)`}},
		{"JSON null became a string", jsonOK, edit(t, jsonOK, `"Message":null`, `"Message":"x"`), []string{"/Message: type null expected, string received"}},
		{"JSON value in a success", jsonOK, edit(t, jsonOK, `"ErrorCode":0`, `"ErrorCode":7`), nil},
		{"405 without Allow", e405, header(e405, "Allow", ""), []string{"header Allow: header POST expected, (none) received"}},
		{"error message changed", e405, edit(t, e405, "'GET'", "'get'"),
			[]string{`/Message: value "The requested resource does not support http method 'GET'." expected, "The requested resource does not support http method 'get'." received`}},
		{"error spacing changed", e405, edit(t, e405, `{"Message":`, `{"Message": `),
			[]string{`body: body 72 bytes, byte 11 "\"The requested resource " expected, 73 bytes, byte 11 " \"The requested resource" received`}},
		{"status changed", e405, Answer{Status: 404, Header: e405.Header, Body: e405.Body}, []string{"status: status 405 expected, 404 received"}},
		{"ModelState key changed", model, edit(t, model, `"model.NewPassword"`, `"model.newPassword"`),
			[]string{`/ModelState/model.NewPassword: missing (expected member "model.NewPassword" (array))`, `/ModelState/model.newPassword: unexpected member "model.newPassword" (array)`}},
		{"hidden member's namespace", aries, edit(t, aries, `<Status xmlns="http://schemas.datacontract.org/2004/07/ARIES.Alacrity.Services.Models">`, `<Status>`),
			[]string{"/ForgotPasswordResponseViewModel/Status: namespace http://schemas.datacontract.org/2004/07/ARIES.Alacrity.Services.Models expected, " +
				"http://schemas.datacontract.org/2004/07/ARIES.Alacrity.Services.Areas.Account.Models received"}},
		{"not XML at all", xmlOK, Answer{Status: 200, Header: xmlOK.Header, Body: []byte("<html>")},
			[]string{"body: parse xml expected, XML: XML syntax error on line 1: unexpected EOF received"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, d := range Compare(c.want, c.got) {
				got = append(got, d.String())
			}
			if strings.Join(got, "\n") != strings.Join(c.report, "\n") {
				t.Errorf("report\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.report, "\n"))
			}
		})
	}
}

// TestEveryRecordingAgreesWithItself: no recorded answer differs from itself, under either rule, and each
// parses (the walk covers every shape the legacy services answer).
func TestEveryRecordingAgreesWithItself(t *testing.T) {
	recs, err := recording.ReadAll(filepath.Join("..", "testdata", "golden", "requests"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		a := Answer{Status: r.Status, Header: r.ResponseHeader(), Body: r.RespBody}
		for _, m := range []Mode{Exact, Contract} {
			if d := CompareMode(a, a, m); len(d) != 0 {
				t.Errorf("%s: %v", r.Name, d)
			}
		}
		if len(a.Body) > 0 && r.Method != http.MethodHead {
			if _, err := parse(a.Header.Get("Content-Type"), a.Body); err != nil {
				t.Errorf("%s: %v", r.Name, err)
			}
		}
	}
}
