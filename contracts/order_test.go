package contracts_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"aspgate/contracts"
)

// TestMemberOrderMatchesSeeds checks each table's DataContract order and Json.NET order against the element
// and member order of the seed samples, independently of the encoders.
func TestMemberOrderMatchesSeeds(t *testing.T) {
	elem := regexp.MustCompile(`^<([A-Za-z]+)[ >]`)
	for _, app := range contracts.Apps() {
		for _, c := range app.Contracts {
			if app.ASCAPI && c.Direction == contracts.Response {
				continue // the envelope's seed leaves out default members; covered by the samples test
			}
			if seed, err := os.ReadFile(filepath.Join("..", "testdata", "seeds", app.ID, c.Name+".xml")); err == nil {
				var got []string
				for _, m := range c.XMLMembers() {
					got = append(got, m.Name)
				}
				want := topLevelElements(t, string(seed), elem)
				if !equal(got, want) {
					t.Errorf("%s/%s XML order %v, seed %v", app.ID, c.Name, got, want)
				}
			}
			seed, err := os.ReadFile(filepath.Join("..", "testdata", "seeds", app.ID, c.Name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(seed))
			var keys []string
			depth := 0
			for {
				tok, err := dec.Token()
				if err != nil {
					break
				}
				switch v := tok.(type) {
				case json.Delim:
					if v == '{' || v == '[' {
						depth++
					} else {
						depth--
					}
				case string:
					if depth == 1 {
						keys = append(keys, v)
						// skip the value
						var raw json.RawMessage
						if err := dec.Decode(&raw); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			var got []string
			for _, m := range c.JSONMembers() {
				got = append(got, m.JSONName())
			}
			if !equal(got, keys) {
				t.Errorf("%s/%s JSON order %v, seed %v", app.ID, c.Name, got, keys)
			}
		}
	}
}

// topLevelElements lists the names of the root's child elements in a seed sample.
func topLevelElements(t *testing.T, s string, elem *regexp.Regexp) []string {
	t.Helper()
	var names []string
	depth := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		switch {
		case s[i+1] == '/':
			depth--
		default:
			if depth == 1 {
				if m := elem.FindStringSubmatch(s[i:]); m != nil {
					names = append(names, m[1])
				}
			}
			end := i
			for end < len(s) && s[end] != '>' {
				end++
			}
			if s[end-1] != '/' {
				depth++
			}
		}
	}
	return names
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
