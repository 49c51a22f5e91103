package contracts_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"aspgate/contracts"
)

// ascCase is one line of testdata/golden/r7bind/ascapi.jsonl: a request body and what ASC.Api's argument
// builder made of it under Mono with Json.NET 13's converter (tools/ascapi-oracle).
type ascCase struct {
	Name        string  `json:"name"`
	ContentType *string `json:"contentType"`
	Query       string  `json:"query"`
	Body        *string `json:"body"`
	BodyBase64  *string `json:"bodyBase64"`
	Result      struct {
		Params  [][2]json.RawMessage `json:"params"`
		Status  string               `json:"status"`
		Message string               `json:"message"`
		HResult int32                `json:"hresult"`
	} `json:"result"`
}

// knownASCDifferences are recorded cases aspgate answers differently on purpose, each with its reason.
var knownASCDifferences = map[string]string{
	"xml-048": "a DTD with an internal subset is refused: aspgate never expands entities (the legacy reader does)",
}

// TestASCAPIOracle reads every recorded body as ASC.Api does and compares the parameter collection (names,
// null names and values in order) or the error (status, message, HResult) with the oracle's.
func TestASCAPIOracle(t *testing.T) {
	path := filepath.Join("..", "testdata", "golden", "r7bind", "ascapi.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	n, known := 0, 0
	for sc.Scan() {
		var c ascCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		n++
		diff := ascDiff(t, c)
		reason, isKnown := knownASCDifferences[c.Name]
		switch {
		case diff != "" && isKnown:
			known++
		case diff != "":
			t.Errorf("%s: %s", c.Name, diff)
		case isKnown:
			t.Errorf("%s now matches the oracle: remove it from knownASCDifferences (%s)", c.Name, reason)
		}
	}
	if n < 400 {
		t.Fatalf("only %d recorded cases", n)
	}
	t.Logf("%d recorded bodies, %d known differences", n, known)
}

func ascDiff(t *testing.T, c ascCase) string {
	var body []byte
	switch {
	case c.BodyBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*c.BodyBase64)
		if err != nil {
			t.Fatal(err)
		}
		body = b
	case c.Body != nil:
		body = []byte(*c.Body)
	}
	ct, hasCT := "", c.ContentType != nil
	if hasCT {
		ct = *c.ContentType
	}
	var p contracts.ASCParams
	err := contracts.ReadASCRequest(&p, ct, hasCT, c.Query, body)
	if c.Result.Status != "" {
		want := fmt.Sprintf("%s | %s | %d", c.Result.Status, c.Result.Message, c.Result.HResult)
		if err == nil {
			return fmt.Sprintf("bound %v, want %s", p.All(), want)
		}
		got := fmt.Sprintf("%d %s | %s | %d", err.Status, err.Reason, err.Message, err.HResult)
		if got != want {
			return fmt.Sprintf("\n   got %+v\n  want %+v", got, want)
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("failed %d %s %q, want %s", err.Status, err.Reason, err.Message, c.Result.Params)
	}
	var want []contracts.ASCParam
	for _, kv := range c.Result.Params {
		var pr contracts.ASCParam
		if string(kv[0]) == "null" {
			pr.Null = true
		} else if err := json.Unmarshal(kv[0], &pr.Name); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(kv[1], &pr.Values); err != nil {
			t.Fatal(err)
		}
		want = append(want, pr)
	}
	got := p.All()
	if len(got) == 0 && len(want) == 0 {
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("\n   got %+v\n  want %+v", got, want)
	}
	return ""
}

// FuzzReadASCRequest reads arbitrary Content-Types, query strings and bodies as ASC.Api does: it must never
// panic, and an error is always one of ApiHttpHandler's answers. Seeded with the recorded cases.
func FuzzReadASCRequest(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "golden", "r7bind", "ascapi.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		var c ascCase
		if json.Unmarshal(line, &c) != nil {
			continue
		}
		body := []byte(nil)
		if c.Body != nil {
			body = []byte(*c.Body)
		} else if c.BodyBase64 != nil {
			body, _ = base64.StdEncoding.DecodeString(*c.BodyBase64)
		}
		ct := ""
		if c.ContentType != nil {
			ct = *c.ContentType
		}
		f.Add(ct, c.Query, body)
	}
	f.Fuzz(func(t *testing.T, ct, query string, body []byte) {
		var p contracts.ASCParams
		err := contracts.ReadASCRequest(&p, ct, ct != "", query, body)
		if err != nil {
			if err.Status != 400 && err.Status != 500 || err.Message == "" || err.HResult >= 0 {
				t.Fatalf("odd answer %+v", err)
			}
			return
		}
		for _, prm := range p.All() {
			if len(prm.Values) == 0 {
				t.Fatalf("a name without values: %+v", prm)
			}
		}
	})
}
