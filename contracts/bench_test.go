package contracts_test

import (
	"errors"
	"testing"
	"time"

	"aspgate/contracts"
)

// The benchmarks cover every type of every app in both formats, with two values each:
//
//   - the help-page sample (contracts.Sample; for r7office requests, which have no XML sample, the JSON one),
//   - a realistic value (realValues): what the endpoint sends or receives on a good day.
//
// Families (leaf names are <app>/<Type>/<format>):
//
//	Encode          AppendJSON/AppendXML of the realistic value into a reused buffer: the server path, with a
//	                pooled response buffer
//	EncodeSample    the same for the help-page sample
//	EncodeAlloc     EncodeJSON/EncodeXML of the realistic value: a new buffer per call
//	Decode          contracts.Decode of the realistic value's wire bytes
//	DecodeSample    contracts.Decode of the sample's wire bytes
//
// SetBytes is the wire size, so MB/s compares types of different sizes.

var formats = []string{"json", "xml"}

// realValues builds one realistic value per contract, keyed by app/Type.
func realValues() map[string]any {
	s := contracts.Ptr[string]
	i32 := contracts.Ptr[int32]
	i64 := contracts.Ptr[int64]
	userID, _ := contracts.ParseGuid("3f2b9c1e-7a4d-4e8b-9c61-0d5e2f8a7b34")
	expires := contracts.NewApiDateTime(time.Date(2024, 3, 14, 9, 26, 53, 589793200, time.UTC), 3*time.Hour)
	return map[string]any{
		"lcmanager/RememberMessageRequest": &contracts.RememberMessageRequest{
			SourceUrl: s("https://lk.example.ru/account/remember"), Phone: i64(79161234567),
			Operator: i32(3), SiteCode: s("lk-main"),
		},
		"lcmanager/RememberMessageResponse": &contracts.RememberMessageResponse{
			SessionId: s("9f86d081884c7d659a2feaa0c55ad015"), ErrorCode: 0, Message: nil,
		},
		"r7office/SetPhoneRequest": &contracts.SetPhoneRequest{
			UserName: s("ivan.petrov@example.ru"), Password: s("Tr0ub4dor&3"), MobilePhone: s("+79161234567"),
		},
		"r7office/SetPhoneResponse": &contracts.Envelope{
			Count: 1, Status: contracts.ApiStatusOk, StatusCode: 201,
			Response: &contracts.AuthenticationTokenData{Sms: true, PhoneNoise: s("+7 916 ***-**-67"), Expires: expires},
		},
		"r7office/AuthenticationRequest": &contracts.AuthenticationRequest{
			UserName: s("ivan.petrov@example.ru"), Password: s("Tr0ub4dor&3"), CodeOAuth: s("482913"),
		},
		"r7office/AuthenticationResponse": &contracts.Envelope{
			Count: 1, Status: contracts.ApiStatusOk, StatusCode: 201,
			Response: &contracts.AuthenticationTokenData{
				Token:   s("8Ekt2ViMhX2kGcvQaK9zBjL7fQ1bN0sPq3RyT5uVw6xYz4AcDe9FgHi0JkLm1NoPq2RsTu3Vw4Xy5Z=="),
				Expires: expires,
			},
		},
		"customer/PasswordChangeRequest": &contracts.PasswordChangeRequest{
			Password: s("N3w-Passw0rd!"), ChangeRequestId: s("b1946ac92492d2347c6235b4d2611184"),
			IPAddress: s("203.0.113.42"), UserAgent: s("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"),
			PermanentSessionId: s("6f1ed002ab5595859014ebf0951522d9"),
		},
		"customer/PasswordChangeResponse": &contracts.PasswordChangeResponse{
			Email: s("anna.smirnova@example.ru"), UserId: userID, FirstName: s("Анна"), LastName: s("Смирнова"),
			UserType: i32(1), SharedDataPermission: true, Gender: i32(2), Code: contracts.PasswordChanged,
			ExceptionMessageList: []*string{}, ReturnUrl: s("https://portal.example.ru/profile?tab=security&lang=ru"),
			IsValid: true, Success: true, InformationMessageList: []*string{s("Your password has been changed.")},
		},
		"ereader/ResetPasswordBindingModel": &contracts.ResetPasswordBindingModel{
			UserId: 48213, Code: s("739102"), NewPassword: s("c0rrect-h0rse"),
		},
		"ereader/ApiResultOfstring": &contracts.ApiResultOfstring{
			Result: s("Password has been reset."), StatusCode: contracts.StatusOK,
		},
		"aries/ForgotPasswordRequestViewModel": &contracts.ForgotPasswordRequestViewModel{
			UserName: s("jdoe"), Email: s("john.doe@example.com"), ApiKey: s("e3b0c44298fc1c149afbf4c8996fb924"),
			IPAddress: s("198.51.100.7"), ApplicationId: s("alacrity-web"), VersionId: s("4.12.0"), ClientConfigVersion: 17,
		},
		"aries/ForgotPasswordResponseViewModel": &contracts.ForgotPasswordResponseViewModel{
			Status: contracts.ForgotSuccess, Errors: []*contracts.ServiceErrorViewModel{}, BaseStatus: contracts.ResponseSuccess,
		},
	}
}

type benchCase struct {
	name string // app/Type/format
	c    *contracts.Contract
	v    any
	fmt  string
	wire []byte // v encoded
}

// benchCases lists every contract in both formats with the realistic value (sample false) or the help-page
// sample (sample true).
func benchCases(b testing.TB, sample bool) []benchCase {
	b.Helper()
	values := realValues()
	var cases []benchCase
	for _, app := range contracts.Apps() {
		for _, c := range app.Contracts {
			for _, format := range formats {
				key := app.ID + "/" + c.Name
				var v any
				if sample {
					var err error
					v, err = contracts.Sample(c, format)
					if errors.Is(err, contracts.ErrNoSample) {
						v, err = contracts.Sample(c, "json")
					}
					if err != nil {
						b.Fatalf("%s: %v", key, err)
					}
				} else if v = values[key]; v == nil {
					b.Fatalf("%s: no realistic value", key)
				}
				wire, err := contracts.Encode(c, format, v)
				if err != nil {
					b.Fatalf("%s %s: %v", key, format, err)
				}
				cases = append(cases, benchCase{name: key + "/" + format, c: c, v: v, fmt: format, wire: wire})
			}
		}
	}
	return cases
}

// TestBenchValues checks the benchmark inputs: Append* after other bytes adds exactly what Encode* returns,
// and decoding the wire bytes gives a value that encodes to them again (r7office requests excepted: ASC.Api
// binds them lossily, see roundTrip).
func TestBenchValues(t *testing.T) {
	for _, sample := range []bool{false, true} {
		for _, bc := range benchCases(t, sample) {
			got, err := appendFunc(bc.fmt)([]byte("prefix"), bc.c, bc.v)
			if err != nil || string(got) != "prefix"+string(bc.wire) {
				t.Errorf("%s: append gave %q, %v; want prefix%q", bc.name, got, err, bc.wire)
			}
			if bc.c.App.ASCAPI && bc.c.Direction == contracts.Request {
				continue
			}
			back, err := contracts.Decode(bc.c, contentType(bc.c, bc.fmt), bc.wire)
			if err != nil {
				t.Errorf("%s: decode: %v", bc.name, err)
				continue
			}
			if again, err := contracts.Encode(bc.c, bc.fmt, back); err != nil || string(again) != string(bc.wire) {
				t.Errorf("%s: decode then encode gave %q, %v; want %q", bc.name, again, err, bc.wire)
			}
		}
	}
}

func appendFunc(format string) func([]byte, *contracts.Contract, any) ([]byte, error) {
	if format == "json" {
		return contracts.AppendJSON
	}
	return contracts.AppendXML
}

func encodeFunc(format string) func(*contracts.Contract, any) ([]byte, error) {
	if format == "json" {
		return contracts.EncodeJSON
	}
	return contracts.EncodeXML
}

func benchAppend(b *testing.B, sample bool) {
	for _, bc := range benchCases(b, sample) {
		b.Run(bc.name, func(b *testing.B) {
			appendTo := appendFunc(bc.fmt)
			buf := make([]byte, 0, 4096)
			b.SetBytes(int64(len(bc.wire)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = appendTo(buf[:0], bc.c, bc.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode appends the realistic values to a reused buffer.
func BenchmarkEncode(b *testing.B) { benchAppend(b, false) }

// BenchmarkEncodeSample appends the help-page samples to a reused buffer.
func BenchmarkEncodeSample(b *testing.B) { benchAppend(b, true) }

// BenchmarkEncodeAlloc encodes the realistic values into a new buffer each time.
func BenchmarkEncodeAlloc(b *testing.B) {
	for _, bc := range benchCases(b, false) {
		b.Run(bc.name, func(b *testing.B) {
			encode := encodeFunc(bc.fmt)
			b.SetBytes(int64(len(bc.wire)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encode(bc.c, bc.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// contentType is the request Content-Type a client sends the format with. ASC.Api (r7office requests)
// reads XML as text/xml; application/xml would go to its form reader.
func contentType(c *contracts.Contract, format string) string {
	if format == "xml" && c.App.ASCAPI && c.Direction == contracts.Request {
		return "text/xml"
	}
	return "application/" + format
}

func benchDecode(b *testing.B, sample bool) {
	for _, bc := range benchCases(b, sample) {
		b.Run(bc.name, func(b *testing.B) {
			ct := contentType(bc.c, bc.fmt)
			if _, err := contracts.Decode(bc.c, ct, bc.wire); err != nil {
				b.Fatalf("%v\n%s", err, bc.wire)
			}
			b.SetBytes(int64(len(bc.wire)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := contracts.Decode(bc.c, ct, bc.wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode decodes the wire bytes of the realistic values.
func BenchmarkDecode(b *testing.B) { benchDecode(b, false) }

// BenchmarkDecodeSample decodes the wire bytes of the help-page samples.
func BenchmarkDecodeSample(b *testing.B) { benchDecode(b, true) }
