package contracts_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"aspgate/contracts"
)

// oracleCase is one line of the oracle's random command (and of the recorded edge cases): an input and
// the exact bytes the real serializers wrote for it, or the error they threw.
type oracleCase struct {
	Input     json.RawMessage `json:"input"`
	JSON      *string         `json:"json"`
	XML       *string         `json:"xml"`
	JSONError *string         `json:"jsonError"`
	XMLError  *string         `json:"xmlError"`
}

func readCases(t *testing.T, path string) []oracleCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []oracleCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c oracleCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestOracleGoldens replays every recorded oracle case in both directions: encoding the input gives the
// real serializers' bytes (or their error), and decoding those bytes gives a value that encodes to the
// same bytes again.
func TestOracleGoldens(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "oracle", "*", "*.jsonl"))
	if len(files) == 0 {
		t.Fatal("no oracle goldens found")
	}
	perApp := map[string]int{}
	for _, path := range files {
		app := filepath.Base(filepath.Dir(path))
		typ := strings.SplitN(filepath.Base(path), ".", 2)[0]
		c, err := contracts.Lookup(app, typ)
		if err != nil {
			t.Fatal(err)
		}
		for i, oc := range readCases(t, path) {
			perApp[app]++
			checkCase(t, filepath.Base(path)+"#"+itoa(i+1), c, oc)
		}
	}
	for _, a := range contracts.Apps() {
		if perApp[a.ID] < 40 {
			t.Errorf("%s: only %d recorded cases", a.ID, perApp[a.ID])
		}
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(i)) }

func jsonNum(i int) string { b, _ := json.Marshal(i); return string(b) }

func checkCase(t *testing.T, name string, c *contracts.Contract, oc oracleCase) {
	t.Helper()
	v, err := contracts.ReadInput(c, oc.Input)
	if err != nil {
		t.Errorf("%s: input: %v\n%s", name, err, oc.Input)
		return
	}
	for _, f := range []struct {
		format string
		want   *string
		fail   *string
	}{{"json", oc.JSON, oc.JSONError}, {"xml", oc.XML, oc.XMLError}} {
		got, err := contracts.Encode(c, f.format, v)
		if f.fail != nil {
			if err == nil {
				t.Errorf("%s %s: the oracle failed (%s), we wrote %s", name, f.format, *f.fail, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", name, f.format, err)
			continue
		}
		if f.want == nil {
			continue
		}
		if string(got) != *f.want {
			t.Errorf("%s %s:\n got %q\nwant %q\ninput %s", name, f.format, got, *f.want, oc.Input)
			continue
		}
		roundTrip(t, name, c, f.format, got)
	}
}

// whitespaceText finds an element whose text is white space only.
var whitespaceText = regexp.MustCompile(">[ \t\r\n]+</")

// roundTrip decodes wire bytes and checks that the bound value encodes to the same bytes.
func roundTrip(t *testing.T, name string, c *contracts.Contract, format string, wire []byte) {
	t.Helper()
	contentType := "application/" + format
	if c.App.ASCAPI && c.Direction == contracts.Request {
		// ASC.Api binds every value as text (a JSON null arrives as ""), and its XML binding reads text/xml
		// leaves, not Web API's DataContract XML: reading is lossy by design, so no round trip here
		// (TestR7RequestBinding covers it).
		return
	}
	if c.App.ASCAPI && format == "xml" && bytes.Contains(wire, []byte("<error />")) {
		// Json.NET's XML conversion writes an empty error object ({}) as <error />, the form an empty
		// element takes; reading back (ours and the oracle's deserialize alike) gives null, which ASC.Api
		// leaves out: lossy by design.
		return
	}
	if c.App.ASCAPI && format == "xml" && whitespaceText.Match(wire) {
		// XDocument.Parse drops text of white space only: a string of spaces or line breaks reads back as
		// "" (ours and the oracle's deserialize alike): lossy by design.
		return
	}
	back, err := contracts.Decode(c, contentType, wire)
	if err != nil {
		t.Errorf("%s %s: decode: %v\n%s", name, format, err, wire)
		return
	}
	again, err := contracts.Encode(c, format, back)
	if err != nil {
		t.Errorf("%s %s: re-encode: %v", name, format, err)
		return
	}
	if !bytes.Equal(again, wire) {
		t.Errorf("%s %s: decode then encode differs:\n got %q\nwant %q", name, format, again, wire)
	}
}
