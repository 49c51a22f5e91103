package contracts_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"aspgate/contracts"
)

// mustLookup returns a contract or fails the test.
func mustLookup(tb testing.TB, app, typ string) *contracts.Contract {
	tb.Helper()
	c, err := contracts.Lookup(app, typ)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// measure runs f once and returns how long it took and how many bytes and objects it allocated.
func measure(f func()) (time.Duration, uint64, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return elapsed, after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// TestDecodeDeepNesting sends documents nested 100,000 deep to every reader: each is refused at the
// 256-level quota, at once, with a few hundred allocations at most. (Json.NET's reader goes on reading
// after the quota error, so the JSON path keeps a byte per level past it: memory stays within the size of
// the body, never an object per level.)
func TestDecodeDeepNesting(t *testing.T) {
	const deep = 100000
	lcXML := `<RememberMessageRequest xmlns="http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Request.UserRequest">`
	tests := []struct {
		name, app, typ, contentType, body, want string
	}{
		{"JSON arrays", "lcmanager", "RememberMessageRequest", "application/json", `{"a":` + strings.Repeat("[", deep), "MaxDepth of 256"},
		{"JSON objects", "lcmanager", "RememberMessageRequest", "application/json", strings.Repeat(`{"a":`, deep), "MaxDepth of 256"},
		{"JSON closed arrays", "ereader", "ResetPasswordBindingModel", "application/json", `{"x":` + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "}", "MaxDepth of 256"},
		{"JSON nested member objects", "aries", "ForgotPasswordResponseViewModel", "application/json", `{"errors":[{"error":` + strings.Repeat(`{"Data":`, deep), "MaxDepth of 256"},
		{"XML", "lcmanager", "RememberMessageRequest", "application/xml", lcXML + strings.Repeat("<a>", deep), "maximum read depth (256)"},
		{"XML closed", "lcmanager", "RememberMessageRequest", "application/xml", lcXML + strings.Repeat("<a>", deep) + strings.Repeat("</a>", deep) + "</RememberMessageRequest>", "maximum read depth (256)"},
		{"XML prefixed with declarations", "lcmanager", "RememberMessageRequest", "application/xml", strings.Repeat(`<p:a xmlns:p="u">`, deep), "maximum read depth (256)"},
		// ASC.Api reads JSON with Json.NET 13 (MaxDepth 64) and XML with XDocument, which has no depth quota:
		// the text ends with every element open, and the request's body limit bounds how many.
		{"r7office JSON", "r7office", "SetPhoneRequest", "application/json", `{"mobilePhone":` + strings.Repeat("[", deep), "MaxDepth of 64"},
		{"r7office XML", "r7office", "SetPhoneRequest", "text/xml", strings.Repeat("<a>", deep), "The following elements are not closed: a, a, a"},
		{"r7office response XML", "r7office", "SetPhoneResponse", "application/xml", strings.Repeat("<a>", deep), "maximum read depth (256)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLookup(t, tt.app, tt.typ)
			body := []byte(tt.body)
			var err error
			elapsed, bytes, objects := measure(func() { _, err = contracts.Decode(c, tt.contentType, body) })
			var de *contracts.DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a DecodeError saying %q", err, tt.want)
			}
			t.Logf("%v, %d bytes in %d allocations", elapsed, bytes, objects)
			if elapsed > time.Second {
				t.Errorf("took %v to refuse", elapsed)
			}
			limit := 2*uint64(len(body)) + 64<<10
			if tt.app == "r7office" && tt.contentType == "text/xml" {
				// XDocument has no depth quota, so the open elements are kept: a few dozen bytes each.
				limit = 32 * uint64(len(body))
			}
			if bytes > limit {
				t.Errorf("allocated %d bytes to refuse a %d-byte body", bytes, len(body))
			}
			if objects > 5000 {
				t.Errorf("%d allocations to refuse it", objects)
			}
		})
	}
}

// TestDecodeCharsets: the charsets clients send are read as the legacy formatters read them (UTF-16 for
// utf-16, UTF-8 for every other label, even a name that is no charset at all); bytes that are not UTF-8
// then fail the whole body.
func TestDecodeCharsets(t *testing.T) {
	c := mustLookup(t, "lcmanager", "RememberMessageRequest")
	tests := []struct {
		contentType, body string
		ok                bool
	}{
		{"application/json", `{"Phone":1}`, true},
		{"application/json; charset=utf-8", `{"Phone":1}`, true},
		{"application/json; charset=UTF8", `{"Phone":1}`, true},
		{`application/json; charset="us-ascii"`, `{"Phone":1}`, true},
		{"application/json; charset=ISO-8859-1", `{"Phone":1}`, true},
		{"application/json; charset=windows-1252", `{"Phone":1}`, true},
		{"application/json; charset=utf-16", "{\x00}\x00", true},
		// Any other label is read as UTF-8, as the legacy formatters do (recordings 133-146): not an error.
		{"application/json; charset=klingon", `{"Phone":1}`, true},
		{"application/json; charset=utf-7", `{"Phone":1}`, true},
		{"application/json; charset=windows-1251", `{"Phone":1}`, true},
		{"application/x-www-form-urlencoded; charset=x-unknown", `Phone=1`, true},
		{"application/json; charset=klingon", ``, true}, // an empty body is never read
		// Bytes that are not UTF-8 then fail the whole body, whatever the label said.
		{"application/json; charset=windows-1251", "{\"Email\":\"\xcf\xf0\xe8\"}", false},
		{"application/json; charset=iso-8859-1", "{\"Email\":\"\xe9\"}", false},
	}
	for _, tt := range tests {
		_, err := contracts.Decode(c, tt.contentType, []byte(tt.body))
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", tt.contentType, err)
			}
			continue
		}
		var de *contracts.DecodeError
		if !errors.As(err, &de) || len(de.Errors) != 1 || !errors.Is(de.Errors[0].Err, contracts.ErrInvalidEncoding) {
			t.Errorf("%s: %v, want the whole body refused as not UTF-8", tt.contentType, err)
		}
	}
}

// TestDecodeManyErrorsLinear decodes bodies on one line that make the binder log an error per item. Each
// error's message carries the line position, which was once counted from the start of the line for every
// error: a 64 KiB body then took seconds. Eight times the body may allocate about eight times as much,
// not sixty-four (the benchmarks measure the time).
func TestDecodeManyErrorsLinear(t *testing.T) {
	tests := []struct {
		name, app, typ string
		body           func(n int) string
	}{
		{"list items of the wrong type", "aries", "ForgotPasswordResponseViewModel", func(n int) string {
			return `{"errors":[` + strings.Repeat(`1,`, n/2) + `1]}`
		}},
		{"repeated members that do not convert", "lcmanager", "RememberMessageRequest", func(n int) string {
			return `{` + strings.Repeat(`"Phone":"x",`, n/12) + `"Phone":"x"}`
		}},
		{"string list items of the wrong type", "customer", "PasswordChangeResponse", func(n int) string {
			return `{"WarningMessageList":[` + strings.Repeat(`{},`, n/3) + `1]}`
		}},
	}
	// Allocated bytes, not time, are compared: they are deterministic, unlike timings under -race on a
	// busy CI machine, and a quadratic path (a rescan, a growing copy per error) shows in them as well.
	const small, large = 8 << 10, 64 << 10
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLookup(t, tt.app, tt.typ)
			cost := func(n int) uint64 {
				body := []byte(tt.body(n))
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				if _, err := contracts.Decode(c, "application/json", body); err == nil {
					t.Fatal("no error")
				}
				runtime.ReadMemStats(&after)
				return after.TotalAlloc - before.TotalAlloc
			}
			b1, b8 := cost(small), cost(large)
			t.Logf("%d bytes: %d allocated, %d bytes: %d allocated", small, b1, large, b8)
			if b8 > 12*b1+64<<10 {
				t.Errorf("eight times the body allocated %.1f times as much", float64(b8)/float64(b1))
			}
		})
	}
}
