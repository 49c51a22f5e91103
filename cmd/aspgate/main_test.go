package main

// These tests drive the CLI in-process through run, so they see exit codes and both output streams without
// building a binary. They are in package main because run is not exported.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"aspgate/contracts"
)

type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line args with stdin and fails the test if it panics.
func runCLI(tb testing.TB, stdin io.Reader, args ...string) (res cliResult) {
	tb.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			tb.Fatalf("aspgate %s panicked: %v", strings.Join(args, " "), p)
		}
	}()
	res.code = run(args, stdin, &stdout, &stderr)
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

// mustReadFile returns the contents of a file under the repository root.
func mustReadFile(tb testing.TB, elem ...string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{"..", ".."}, elem...)...))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// checkOneLineError checks that stderr is exactly one line, starting with prefix and holding want.
func checkOneLineError(tb testing.TB, name, stderr, prefix, want string) {
	tb.Helper()
	if !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		tb.Errorf("%s: stderr is not one line: %q", name, stderr)
	}
	if !strings.HasPrefix(stderr, prefix) {
		tb.Errorf("%s: stderr %q does not start with %q", name, stderr, prefix)
	}
	if !strings.Contains(stderr, want) {
		tb.Errorf("%s: stderr %q does not say %q", name, stderr, want)
	}
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
		tb.Errorf("%s: stderr shows internals: %q", name, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string // first line of stderr holds this
	}{
		{"no arguments", nil, exitUsage, "usage:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"contract alone", []string{"contract"}, exitUsage, "error: no contract command"},
		{"unknown contract command", []string{"contract", "frob", "lcmanager", "RememberMessageRequest", "json"}, exitUsage, "error: unknown contract command frob"},
		{"types with arguments", []string{"contract", "types", "x"}, exitUsage, "error: types takes no arguments"},
		{"sample without format", []string{"contract", "sample", "lcmanager", "RememberMessageRequest"}, exitUsage, "error: sample needs <app> <Type>"},
		{"encode with extra argument", []string{"contract", "encode", "lcmanager", "RememberMessageRequest", "json", "x"}, exitUsage, "error: encode needs <app> <Type>"},
		{"unknown app", []string{"contract", "sample", "nosuchapp", "RememberMessageRequest", "json"}, exitUsage, "error: "},
		{"unknown type", []string{"contract", "sample", "lcmanager", "NoSuchType", "json"}, exitUsage, "error: "},
		{"type of another app", []string{"contract", "sample", "lcmanager", "ApiResultOfstring", "json"}, exitUsage, "error: "},
		{"sample format", []string{"contract", "sample", "lcmanager", "RememberMessageRequest", "yaml"}, exitUsage, "error: format must be json or xml"},
		{"encode format", []string{"contract", "encode", "lcmanager", "RememberMessageRequest", "JSON"}, exitUsage, "error: format must be json or xml"},
		{"decode media type", []string{"contract", "decode", "lcmanager", "RememberMessageRequest", "text/plain"}, exitUsage, "error: unsupported media type"},
		{"decode empty media type", []string{"contract", "decode", "lcmanager", "RememberMessageRequest", ""}, exitUsage, "error: unsupported media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, strings.NewReader("{}"), tt.args...)
			if res.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", res.code, tt.code, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
			first, _, _ := strings.Cut(res.stderr, "\n")
			if !strings.Contains(first, tt.wantErr) {
				t.Errorf("stderr starts %q, want %q", first, tt.wantErr)
			}
			if !strings.Contains(res.stderr, "usage:") {
				t.Errorf("a usage error without the usage: %q", res.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		res := runCLI(t, nil, arg)
		if res.code != exitOK || !strings.HasPrefix(res.stdout, "usage:") || res.stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, res.code, res.stdout, res.stderr)
		}
	}
}

func TestContractTypes(t *testing.T) {
	// What the oracle's types command prints.
	const want = `lcmanager RememberMessageRequest request
lcmanager RememberMessageResponse response
r7office SetPhoneRequest request
r7office SetPhoneResponse response
r7office AuthenticationRequest request
r7office AuthenticationResponse response
customer PasswordChangeRequest request
customer PasswordChangeResponse response
ereader ResetPasswordBindingModel request
ereader ApiResultOfstring response
aries ForgotPasswordRequestViewModel request
aries ForgotPasswordResponseViewModel response
`
	res := runCLI(t, nil, "contract", "types")
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if res.stdout != want {
		t.Errorf("types:\n%s\nwant:\n%s", res.stdout, want)
	}
}

// TestContractSample checks every help-page sample against the oracle's bytes; r7office's help page shows no
// XML sample for its requests, and the command says so.
func TestContractSample(t *testing.T) {
	n := 0
	for _, app := range contracts.Apps() {
		for _, c := range app.Contracts {
			for _, format := range []string{"json", "xml"} {
				name := app.ID + "/" + c.Name + "." + format
				t.Run(name, func(t *testing.T) {
					res := runCLI(t, nil, "contract", "sample", app.ID, c.Name, format)
					if app.ASCAPI && c.Direction == contracts.Request && format == "xml" {
						if res.code != exitInvalid || res.stdout != "" {
							t.Fatalf("exit %d, stdout %q: want exit %d and no output", res.code, res.stdout, exitInvalid)
						}
						checkOneLineError(t, name, res.stderr, "", "the help page shows no sample in this format")
						return
					}
					want := mustReadFile(t, "testdata", "golden", "samples", app.ID, c.Name+"."+format)
					if res.code != exitOK || res.stderr != "" {
						t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
					}
					if res.stdout != string(want) {
						t.Errorf("\n got %q\nwant %q", res.stdout, want)
					}
					n++
				})
			}
		}
	}
	if files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "samples", "*", "*")); len(files) != n {
		t.Errorf("%d samples compared, %d golden files", n, len(files))
	}
	// The type name is matched ignoring case, as the oracle does, and the seed number names the app.
	want := mustReadFile(t, "testdata", "golden", "samples", "lcmanager", "RememberMessageRequest.json")
	if res := runCLI(t, nil, "contract", "sample", "000", "remembermessagerequest", "json"); res.code != exitOK || res.stdout != string(want) {
		t.Errorf("seed number and lower-case type: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

// serializeCase is one recording of the oracle's serialize command.
type serializeCase struct {
	name, input, app, typ, format string
	output                        string
	code                          int
}

var serializeHeader = regexp.MustCompile(`^\$ echo '(.*)' \| mono bin/oracle\.exe serialize (\S+) (\S+) (\S+)$`)
var serializeExit = regexp.MustCompile(`^\(exit (\d+)\)$`)

// mustReadSerializeCase parses a recording: the command line, the output (or error) lines, "(exit N)".
func mustReadSerializeCase(tb testing.TB, path string) serializeCase {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	text := strings.TrimSuffix(string(data), "\n")
	first, rest, ok := strings.Cut(text, "\n")
	i := strings.LastIndexByte(rest, '\n')
	if !ok || i < 0 {
		tb.Fatalf("%s: not a serialize recording", path)
	}
	output, last := rest[:i], rest[i+1:]
	h := serializeHeader.FindStringSubmatch(first)
	e := serializeExit.FindStringSubmatch(last)
	if h == nil || e == nil {
		tb.Fatalf("%s: not a serialize recording", path)
	}
	sc := serializeCase{name: filepath.Base(path), input: h[1], app: h[2], typ: h[3], format: h[4], output: output}
	fmt.Sscan(e[1], &sc.code)
	return sc
}

// exceptionMessage drops the .NET exception type the oracle prints before the message.
var exceptionType = regexp.MustCompile(`^(serializer error|input error): ([A-Za-z]+\.)*[A-Za-z]*Exception: `)

// TestContractEncodeGoldens replays the oracle's serialize recordings: the same bytes, or the same exit
// code and kind of error.
func TestContractEncodeGoldens(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "serialize", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no serialize recordings: %v", err)
	}
	for _, path := range files {
		sc := mustReadSerializeCase(t, path)
		t.Run(sc.name, func(t *testing.T) {
			// echo adds a newline after the input.
			res := runCLI(t, strings.NewReader(sc.input+"\n"), "contract", "encode", sc.app, sc.typ, sc.format)
			if res.code != sc.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", res.code, sc.code, res.stdout, res.stderr)
			}
			switch sc.code {
			case exitOK:
				if res.stderr != "" {
					t.Errorf("stderr %q", res.stderr)
				}
				if res.stdout != sc.output {
					t.Errorf("\n got %q\nwant %q", res.stdout, sc.output)
				}
			case exitSerializer:
				if res.stdout != "" {
					t.Errorf("stdout %q on a serializer error", res.stdout)
				}
				checkOneLineError(t, sc.name, res.stderr, "serializer error: ", "")
				want := strings.TrimSuffix(exceptionType.ReplaceAllString(sc.output, "$1: "), ".")
				if got := strings.TrimSuffix(strings.TrimSuffix(res.stderr, "\n"), "."); got != want {
					t.Errorf("\n got %q\nwant %q", got, want)
				}
			case exitBadInput:
				if res.stdout != "" {
					t.Errorf("stdout %q on an input error", res.stdout)
				}
				checkOneLineError(t, sc.name, res.stderr, "input error: ", "")
			default:
				t.Fatalf("unexpected exit code %d in the recording", sc.code)
			}
		})
	}
}

func TestContractEncodeInputErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"empty", "", "input error: "},
		{"not JSON", "nope", "input error: "},
		{"not an object", "[1]", "input must be a JSON object"},
		{"unknown member", `{"NoSuchMember":1}`, "Could not find member 'NoSuchMember'"},
		{"wrong type", `{"Phone":"x"}`, "input error: "},
		{"unterminated", `{"Phone":1`, "input error: "},
		{"too deep", strings.Repeat("[", 100), "input error: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, strings.NewReader(tt.input), "contract", "encode", "lcmanager", "RememberMessageRequest", "json")
			if res.code != exitBadInput || res.stdout != "" {
				t.Fatalf("exit %d, stdout %q; want exit %d", res.code, res.stdout, exitBadInput)
			}
			checkOneLineError(t, tt.name, res.stderr, "input error: ", tt.want)
		})
	}
}

const lcRequestNS = "http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Request.UserRequest"

// lcXML wraps member elements in an lcmanager RememberMessageRequest root.
func lcXML(inner string) string {
	return `<RememberMessageRequest xmlns="` + lcRequestNS + `">` + inner + `</RememberMessageRequest>`
}

// lcOut is what decode prints for an lcmanager request with only SourceUrl and Phone set.
func lcOut(sourceURL, phone string) string {
	return `{"SourceUrl":` + sourceURL + `,"Phone":` + phone + `,"Email":null,"Operator":null,"Token":null,"SiteCode":null}` + "\n"
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			b = append(b, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
			continue
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

// TestContractDecodeHostile feeds hostile and odd bodies to contract decode: each gets the right exit code
// and either the bound value or one clear line of error, never a panic, and no entity is ever expanded.
func TestContractDecodeHostile(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP-SECRET-MARKER"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretURL := "file://" + filepath.ToSlash(secret)
	const lc, lcType = "lcmanager", "RememberMessageRequest"
	tests := []struct {
		name        string
		app, typ    string // lcmanager RememberMessageRequest when empty
		contentType string
		body        string
		code        int
		stdout      string // exact, for exit 0
		stderr      string // in the one error line, for exit 1
	}{
		{name: "empty body JSON", contentType: "application/json", body: "", stdout: "null\n"},
		{name: "empty body XML", contentType: "application/xml", body: "", stdout: "null\n"},
		{name: "empty body form", contentType: "application/x-www-form-urlencoded", body: "", stdout: "null\n"},
		{name: "JSON null", contentType: "application/json", body: "null", stdout: "null\n"},
		{name: "JSON ok", contentType: "application/json", body: `{"SourceUrl":"u","Phone":5}`, stdout: lcOut(`"u"`, "5")},
		{name: "JSON trailing data ignored", contentType: "application/json", body: `{"Phone":5} {"Phone":6} garbage`, stdout: lcOut("null", "5")},
		{name: "XML ok", contentType: "application/xml", body: lcXML(`<Phone>5</Phone><SourceUrl>u</SourceUrl>`), stdout: lcOut(`"u"`, "5")},

		// Malformed.
		{name: "JSON unterminated object", contentType: "application/json", body: `{"Phone":`, code: exitInvalid, stderr: "Unexpected end"},
		{name: "JSON unterminated string", contentType: "application/json", body: `{"SourceUrl":"abc`, code: exitInvalid, stderr: "Unterminated string"},
		{name: "JSON bad token", contentType: "application/json", body: `{"Phone":@}`, code: exitInvalid, stderr: "Unexpected character"},
		{name: "JSON missing colon", contentType: "application/json", body: `{"Phone" 5}`, code: exitInvalid, stderr: "Expected ':'"},
		{name: "JSON newline in error stays on one line", contentType: "application/json", body: "{\n\"Phone\":\n@}", code: exitInvalid, stderr: "line 3"},
		{name: "XML mismatched tags", contentType: "application/xml", body: `<a><b></a>`, code: exitInvalid, stderr: "does not match the end tag"},
		{name: "XML unclosed", contentType: "application/xml", body: lcXML(`<Phone>5</Phone>`)[:60], code: exitInvalid, stderr: "Unexpected end of file"},
		{name: "XML wrong root", contentType: "application/xml", body: `<Other/>`, code: exitInvalid, stderr: "Expecting element 'RememberMessageRequest'"},
		{name: "XML text at root", contentType: "application/xml", body: `hello`, code: exitInvalid, stderr: "Data at the root level is invalid"},
		{name: "XML two roots", contentType: "application/xml", body: lcXML("") + lcXML(""), code: exitInvalid, stderr: "multiple root elements"},
		{name: "XML bad int", contentType: "application/xml", body: lcXML(`<Phone>x</Phone>`), code: exitInvalid, stderr: "cannot be parsed as the type 'Int64'"},

		// DTDs: refused before anything is declared, let alone expanded or fetched.
		{name: "DOCTYPE internal subset", contentType: "application/xml",
			body: `<!DOCTYPE RememberMessageRequest [<!ENTITY x "expanded">]>` + lcXML(`<SourceUrl>&x;</SourceUrl>`),
			code: exitInvalid, stderr: "DTDs are not supported"},
		{name: "DOCTYPE billion laughs", contentType: "application/xml",
			body: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
				`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
				`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">` +
				`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">` +
				`<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>` +
				lcXML(`<SourceUrl>&lol9;</SourceUrl>`),
			code: exitInvalid, stderr: "DTDs are not supported"},
		{name: "DOCTYPE external entity /etc/passwd", contentType: "application/xml",
			body: `<!DOCTYPE RememberMessageRequest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + lcXML(`<SourceUrl>&xxe;</SourceUrl>`),
			code: exitInvalid, stderr: "DTDs are not supported"},
		{name: "DOCTYPE external entity marker file", contentType: "application/xml",
			body: `<!DOCTYPE RememberMessageRequest [<!ENTITY xxe SYSTEM "` + secretURL + `">]>` + lcXML(`<SourceUrl>&xxe;</SourceUrl>`),
			code: exitInvalid, stderr: "DTDs are not supported"},
		{name: "DOCTYPE external DTD", contentType: "application/xml",
			body: `<!DOCTYPE RememberMessageRequest SYSTEM "http://127.0.0.1:9/evil.dtd">` + lcXML(""),
			code: exitInvalid, stderr: "DTDs are not supported"},
		{name: "DOCTYPE after the root", contentType: "application/xml", body: lcXML("") + `<!DOCTYPE x>`, code: exitInvalid, stderr: "DTDs are not supported"},
		{name: "entity without a DTD", contentType: "application/xml", body: lcXML(`<SourceUrl>&xxe;</SourceUrl>`), code: exitInvalid, stderr: "undeclared entity 'xxe'"},
		{name: "processing instruction", contentType: "application/xml", body: `<?xml-stylesheet href="x"?>` + lcXML(""), code: exitInvalid, stderr: "Processing instructions"},
		{name: "DOCTYPE text/xml for r7office", app: "r7office", typ: "SetPhoneRequest", contentType: "text/xml",
			body: `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r><mobilePhone>&xxe;</mobilePhone></r>`,
			code: exitInvalid, stderr: "DTD is prohibited"},

		// Encodings.
		{name: "invalid UTF-8 in a JSON string", contentType: "application/json", body: "{\"SourceUrl\":\"\xff\"}", code: exitInvalid, stderr: "Unable to translate bytes"},
		{name: "invalid UTF-8 in XML", contentType: "application/xml", body: lcXML("<SourceUrl>\xc3\x28</SourceUrl>"), code: exitInvalid, stderr: "Unable to translate bytes"},
		{name: "overlong UTF-8", contentType: "application/json", body: "{\"SourceUrl\":\"\xc0\xaf\"}", code: exitInvalid, stderr: "Unable to translate bytes"},
		{name: "raw lone surrogate bytes", contentType: "application/json", body: "{\"SourceUrl\":\"\xed\xa0\x80\"}", code: exitInvalid, stderr: "Unable to translate bytes"},
		// The legacy decoder drops a last lone byte: the body reads as if cut there.
		{name: "UTF-16 odd length after the value", contentType: "application/json; charset=utf-16", body: string(utf16le(`{"Phone":5}`)) + "x", stdout: lcOut("null", "5")},
		{name: "UTF-16 odd length inside a string", contentType: "application/json; charset=utf-16", body: string(utf16le(`{"SourceUrl":"ab`)) + "x", code: exitInvalid, stderr: "Unterminated string"},
		{name: "UTF-16 lone surrogate unit", contentType: "application/json; charset=utf-16", body: string(utf16le(`{"SourceUrl":"`)) + "\x00\xd8" + string(utf16le(`"}`)), code: exitInvalid, stderr: "Unable to translate bytes"},
		{name: "UTF-16 ok", contentType: "application/json; charset=utf-16", body: string(utf16le(`{"SourceUrl":"я😀","Phone":5}`)), stdout: lcOut(`"\u044f\ud83d\ude00"`, "5")},
		{name: "UTF-16 BOM without charset", contentType: "application/json", body: "\xff\xfe" + string(utf16le(`{"Phone":5}`)), stdout: lcOut("null", "5")},
		{name: "UTF-8 BOM", contentType: "application/json", body: "\xef\xbb\xbf" + `{"Phone":5}`, stdout: lcOut("null", "5")},
		// Any label but utf-16 is read as UTF-8, as the legacy formatters do (recordings 133-146).
		{name: "unknown charset", contentType: "application/json; charset=klingon", body: `{"Phone":5}`, stdout: lcOut("null", "5")},
		{name: "unknown charset XML", contentType: "application/xml; charset=x-evil", body: lcXML(""), stdout: lcOut("null", "null")},
		{name: "windows-1251 label, windows-1251 bytes", contentType: "application/json; charset=windows-1251", body: "{\"SourceUrl\":\"\xcf\"}", code: exitInvalid, stderr: "Unable to translate bytes"},
		{name: "charset case and quotes", contentType: `application/json; Charset="UTF-8"`, body: `{"Phone":5}`, stdout: lcOut("null", "5")},
		{name: "XML declaration naming another encoding", contentType: "application/xml", body: `<?xml version="1.0" encoding="utf-16"?>` + lcXML(""), code: exitInvalid, stderr: "does not match the encoding"},

		// Surrogates and NUL: bound exactly as the oracle binds them.
		{name: "JSON lone surrogate escapes", contentType: "application/json", body: `{"SourceUrl":"\ud800|\udc00"}`, stdout: lcOut(`"\ufffd|\ufffd"`, "null")},
		{name: "JSON surrogate pair escape", contentType: "application/json", body: `{"SourceUrl":"\ud83d\ude00"}`, stdout: lcOut(`"\ud83d\ude00"`, "null")},
		{name: "XML lone surrogate reference", contentType: "application/xml", body: lcXML(`<SourceUrl>&#xD800;</SourceUrl>`), stdout: lcOut(`"\ud800"`, "null")},
		{name: "XML surrogate pair by reference", contentType: "application/xml", body: lcXML(`<SourceUrl>&#xD83D;&#xDE00;</SourceUrl>`), stdout: lcOut(`"\ud83d\ude00"`, "null")},
		{name: "JSON escaped NUL", contentType: "application/json", body: `{"SourceUrl":"a\u0000b"}`, stdout: lcOut(`"a\u0000b"`, "null")},
		{name: "JSON raw NUL in a string", contentType: "application/json", body: "{\"SourceUrl\":\"a\x00b\"}", stdout: lcOut(`"a\u0000b"`, "null")},
		{name: "JSON raw NUL outside strings", contentType: "application/json", body: "{\x00\"Phone\":5}", stdout: lcOut("null", "5")},
		{name: "XML raw NUL", contentType: "application/xml", body: lcXML("<SourceUrl>a\x00b</SourceUrl>"), code: exitInvalid, stderr: "invalid character"},
		{name: "XML raw control character", contentType: "application/xml", body: lcXML("<SourceUrl>a\x01b</SourceUrl>"), code: exitInvalid, stderr: "hexadecimal value 0x01"},
		{name: "XML control character by reference", contentType: "application/xml", body: lcXML("<SourceUrl>a&#x1;b</SourceUrl>"), stdout: lcOut(`"a\u0001b"`, "null")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, typ := tt.app, tt.typ
			if app == "" {
				app, typ = lc, lcType
			}
			start := time.Now()
			res := runCLI(t, strings.NewReader(tt.body), "contract", "decode", app, typ, tt.contentType)
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, leak := range []string{"TOP-SECRET-MARKER", "root:", "expanded", "lollol"} {
				if strings.Contains(res.stdout+res.stderr, leak) {
					t.Errorf("output shows %q: %q %q", leak, res.stdout, res.stderr)
				}
			}
			if tt.code == exitOK {
				if res.stderr != "" {
					t.Errorf("stderr %q", res.stderr)
				}
				if res.stdout != tt.stdout {
					t.Errorf("\n got %s\nwant %s", res.stdout, tt.stdout)
				}
				return
			}
			if res.stdout != "" {
				t.Errorf("stdout %q on an error", res.stdout)
			}
			checkOneLineError(t, tt.name, res.stderr, "error: ", tt.stderr)
		})
	}
}

// TestContractDecodeDeepNesting sends bodies nested far deeper than the 256-level quota of both legacy
// readers: each is refused at once, allocating little whatever the nesting. A body nested 100,000 deep does
// not even fit in the 64 KiB limit.
func TestContractDecodeDeepNesting(t *testing.T) {
	const lcRoot = `<RememberMessageRequest xmlns="` + lcRequestNS + `">`
	tests := []struct {
		name, app, typ, contentType, body, want string
	}{
		{"JSON root array 20000 deep", "lcmanager", "RememberMessageRequest", "application/json", strings.Repeat("[", 20000), "Cannot deserialize the current JSON array"},
		{"JSON arrays 20000 deep", "lcmanager", "RememberMessageRequest", "application/json", `{"a":` + strings.Repeat("[", 20000), "MaxDepth of 256"},
		{"JSON objects 10000 deep", "lcmanager", "RememberMessageRequest", "application/json", strings.Repeat(`{"a":`, 10000), "MaxDepth of 256"},
		{"JSON objects closed", "ereader", "ResetPasswordBindingModel", "application/json", `{"x":` + strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5001), "MaxDepth of 256"},
		{"XML 15000 deep", "lcmanager", "RememberMessageRequest", "application/xml", lcRoot + strings.Repeat("<a>", 15000), "maximum read depth (256)"},
		{"XML closed", "lcmanager", "RememberMessageRequest", "application/xml", lcRoot + strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000) + "</RememberMessageRequest>", "maximum read depth (256)"},
		// ASC.Api: Json.NET 13 (MaxDepth 64), XDocument (no depth quota: every element is left open).
		{"r7office JSON 20000 deep", "r7office", "SetPhoneRequest", "application/json", `{"a":` + strings.Repeat("[", 20000), "MaxDepth of 64"},
		{"r7office XML 15000 deep", "r7office", "SetPhoneRequest", "text/xml", strings.Repeat("<a>", 15000), "The following elements are not closed: a, a"},
		{"JSON 100000 deep", "lcmanager", "RememberMessageRequest", "application/json", strings.Repeat("[", 100000), "too large"},
		{"JSON objects 100000 deep", "lcmanager", "RememberMessageRequest", "application/json", strings.Repeat(`{"a":`, 100000), "too large"},
		{"XML 100000 deep", "lcmanager", "RememberMessageRequest", "application/xml", lcRoot + strings.Repeat("<a>", 100000), "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res cliResult
			start := time.Now()
			alloc := mustMeasureAlloc(t, func() {
				res = runCLI(t, strings.NewReader(tt.body), "contract", "decode", tt.app, tt.typ, tt.contentType)
			})
			elapsed := time.Since(start)
			if res.code != exitInvalid || res.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d", res.code, res.stdout, res.stderr, exitInvalid)
			}
			checkOneLineError(t, tt.name, res.stderr, "error: ", tt.want)
			t.Logf("%d-byte body refused in %v, %d bytes allocated", len(tt.body), elapsed, alloc)
			if elapsed > time.Second {
				t.Errorf("took %v", elapsed)
			}
			// Reading the body into memory takes about twice the limit; parsing must add little.
			if alloc > 1<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

// endlessReader yields an endless body of one byte and counts what was read.
type endlessReader struct {
	b    byte
	read int64
}

func (r *endlessReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b
	}
	r.read += int64(len(p))
	return len(p), nil
}

// TestContractDecodeTooLarge sends a 10 MB body: decode refuses it after reading just past the limit, and
// never holds more than that.
func TestContractDecodeTooLarge(t *testing.T) {
	for _, ct := range []string{"application/json", "application/xml", "application/x-www-form-urlencoded"} {
		t.Run(ct, func(t *testing.T) {
			body := io.LimitReader(&endlessReader{b: ' '}, 10<<20)
			counting := &countingReader{r: body}
			var res cliResult
			alloc := mustMeasureAlloc(t, func() {
				res = runCLI(t, counting, "contract", "decode", "lcmanager", "RememberMessageRequest", ct)
			})
			if res.code != exitInvalid || res.stdout != "" {
				t.Fatalf("exit %d, stdout %q; want exit %d", res.code, res.stdout, exitInvalid)
			}
			checkOneLineError(t, ct, res.stderr, "error: ", "the body is too large: more than 65536 bytes")
			if counting.n > defaultMaxBody+1 {
				t.Errorf("read %d bytes of the body, want at most %d", counting.n, defaultMaxBody+1)
			}
			if alloc > 1<<20 {
				t.Errorf("allocated %d bytes for a refused body", alloc)
			}
		})
	}
	// An endless stream, with no length at all, is refused the same way.
	endless := &endlessReader{b: '['}
	res := runCLI(t, endless, "contract", "decode", "lcmanager", "RememberMessageRequest", "application/json")
	if res.code != exitInvalid || !strings.Contains(res.stderr, "too large") || endless.read > 1<<20 {
		t.Errorf("endless body: exit %d, stderr %q, %d bytes read", res.code, res.stderr, endless.read)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// mustMeasureAlloc returns the bytes f allocates.
func mustMeasureAlloc(tb testing.TB, f func()) uint64 {
	tb.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestContractDecodeReadError reports a failing stdin as one line, exit 1.
func TestContractDecodeReadError(t *testing.T) {
	res := runCLI(t, io.MultiReader(strings.NewReader("{"), errReader{}), "contract", "decode", "lcmanager", "RememberMessageRequest", "application/json")
	if res.code != exitInvalid || res.stdout != "" {
		t.Fatalf("exit %d, stdout %q", res.code, res.stdout)
	}
	checkOneLineError(t, "read error", res.stderr, "error: ", "disk on fire")
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestContractDecodeEveryType decodes every sample in every format it has, as every type: no panic, and
// the sample of a type binds (or is refused, for a response type read by the request-only r7office binder)
// with exit 0 or a one-line error.
func TestContractDecodeEveryType(t *testing.T) {
	for _, app := range contracts.Apps() {
		for _, c := range app.Contracts {
			for _, format := range []string{"json", "xml"} {
				path := filepath.Join("..", "..", "testdata", "golden", "samples", app.ID, c.Name+"."+format)
				body, err := os.ReadFile(path)
				if err != nil {
					continue
				}
				for _, other := range app.Contracts {
					res := runCLI(t, bytes.NewReader(body), "contract", "decode", app.ID, other.Name, "application/"+format)
					name := app.ID + "/" + c.Name + "." + format + " as " + other.Name
					switch res.code {
					case exitOK:
						if res.stderr != "" || !strings.HasSuffix(res.stdout, "\n") || strings.Count(res.stdout, "\n") != 1 {
							t.Errorf("%s: stdout %q, stderr %q", name, res.stdout, res.stderr)
						}
					case exitInvalid:
						checkOneLineError(t, name, res.stderr, "error: ", "")
					default:
						t.Errorf("%s: exit %d, stderr %q", name, res.code, res.stderr)
					}
					if other == c && res.code != exitOK {
						t.Errorf("%s: its own sample does not decode: %q", name, res.stderr)
					}
				}
			}
		}
	}
}
