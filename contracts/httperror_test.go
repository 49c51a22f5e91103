package contracts_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aspgate/contracts"
	"aspgate/xmlns"
)

// TestHttpErrorRecordings rebuilds the error body of every recorded Web API error response and checks that
// writing it gives the recorded bytes.
func TestHttpErrorRecordings(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "requests", "*.txt"))
	n := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		head, body, _ := bytes.Cut(data, []byte("\n\n"))
		lines := strings.Split(string(head), "\n")
		if strings.Contains(lines[0], " r7office ") || strings.HasPrefix(lines[1], "HTTP/1.1 200") || strings.HasPrefix(lines[1], "HTTP/1.1 201") {
			continue
		}
		body = body[:len(body)-1]
		app, _ := contracts.LookupApp(strings.Fields(lines[0])[4])
		var e contracts.HttpError
		var got []byte
		switch {
		case strings.Contains(lines[2], "json"):
			dec := json.NewDecoder(bytes.NewReader(body))
			tok := func() json.Token { t, _ := dec.Token(); return t }
			tok() // {
			tok() // Message
			e.Message = tok().(string)
			if dec.More() {
				tok() // ModelState
				tok() // {
				for dec.More() {
					key := tok().(string)
					tok() // [
					for dec.More() {
						e.Add(key, tok().(string))
					}
					tok() // ]
				}
			}
			got = e.AppendJSON(nil, app)
		default:
			root, err := xmlns.Parse(body, xmlns.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			e.Message = root.Children[0].Text
			if len(root.Children) > 1 {
				for _, c := range root.Children[1].Children {
					e.Add(c.Local, c.Text)
				}
			}
			got = e.AppendXML(nil)
		}
		if !bytes.Equal(got, body) {
			t.Errorf("%s:\n got %s\nwant %s", filepath.Base(f), got, body)
		}
		n++
	}
	if n < 40 {
		t.Errorf("only %d error recordings", n)
	}
}

func TestEncodeLocalName(t *testing.T) {
	for in, want := range map[string]string{
		"model.Code":            "model.Code",
		"model.errors[0].level": "model.errors_x005B_0_x005D_.level",
		"":                      "",
		"1a":                    "_x0031_a",
		"a b":                   "a_x0020_b",
		"_x0041_":               "_x005F_x0041_",
	} {
		if got := contracts.EncodeLocalName(in); got != want {
			t.Errorf("EncodeLocalName(%q) = %q, want %q", in, got, want)
		}
	}
}
