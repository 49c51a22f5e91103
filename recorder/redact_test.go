package recorder

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedaction(t *testing.T) {
	r := NewRedactor()
	for _, c := range []struct {
		name, contentType, in, want string
	}{
		{"JSON, every byte else kept", "application/json", `{"UserId": 5, "Code" :"123456","NewPassword":"Secr3t!pass","nested":{"apiKey":"k-abcdef"}}`,
			`{"UserId": 5, "Code" :"900001","NewPassword":"redacted-password-1","nested":{"apiKey":"redacted-apikey-1"}}`},
		{"the same secret, the same placeholder", "application/json; charset=utf-8", `{"password":"Secr3t!pass","code":123456}`,
			`{"password":"redacted-password-1","code":900001}`},
		{"a GUID stays a GUID", "application/json", `{"ChangeRequestId":"0f8fad5b-d9cb-469f-a165-70867728950e","Token":-42,"SessionId":null}`,
			`{"ChangeRequestId":"00000000-0000-4000-8000-000000000001","Token":1,"SessionId":null}`},
		{"XML with prefixes", "application/xml", `<R xmlns="urn:x"><a:Code xmlns:a="urn:y">654321</a:Code><NewPassword>pw-long-1</NewPassword><UserId>5</UserId></R>`,
			`<R xmlns="urn:x"><a:Code xmlns:a="urn:y">900002</a:Code><NewPassword>redacted-password-2</NewPassword><UserId>5</UserId></R>`},
		{"form, prefixed keys too", "application/x-www-form-urlencoded", "UserId=5&model.Code=777777&NewPassword=p%40ss+word",
			"UserId=5&model.Code=900003&NewPassword=redacted-password-3"},
		{"r7office envelope", "application/json", `{"count":1,"response":{"token":"AbCdEf0123456789","expires":"2027-01-01"}}`,
			`{"count":1,"response":{"token":"redacted-token-2","expires":"2027-01-01"}}`},
		{"not JSON: what is known", "application/json", `{"x": Secr3t!pass`, `{"x": redacted-password-1`},
		{"an error quoting a secret", "text/plain", "The value 'Secr3t!pass' is not valid", "The value 'redacted-password-1' is not valid"},
	} {
		got := string(r.Text(r.Body(c.contentType, []byte(c.in))))
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		if strings.Contains(c.contentType, "json") && json.Valid([]byte(c.in)) && !json.Valid([]byte(got)) {
			t.Errorf("%s: no longer JSON: %s", c.name, got)
		}
	}
	for in, want := range map[string]string{
		"/api/2.0/authentication/123456":        "/api/2.0/authentication/900001",
		"/api/2.0/authentication/654321.json":   "/api/2.0/authentication/900002.json",
		"/api/2.0/authentication/setphone.json": "/api/2.0/authentication/setphone.json",
		"/api/x?apiKey=k-abcdef&b=1":            "/api/x?apiKey=redacted-apikey-1&b=1",
	} {
		if got := r.Target(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
