package verify

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"aspgate/contracts"
)

// TestCorpus: every app has a corpus with unique names, every class, and bodies that are what their
// names say (the invalid JSON, XML and form variants parse as their format; the prefixed and reordered
// XML is well-formed and still the sample's elements).
func TestCorpus(t *testing.T) {
	for _, app := range contracts.Apps() {
		cases, err := Corpus(app)
		if err != nil {
			t.Fatalf("%s: %v", app.ID, err)
		}
		names, classes := map[string]bool{}, map[string]int{}
		for _, c := range cases {
			if names[c.Name] {
				t.Errorf("%s: two cases named %q", app.ID, c.Name)
			}
			names[c.Name] = true
			classes[c.Class]++
			if c.Class == "action" && !c.Writes {
				t.Errorf("%s: %s is not marked as a write", app.ID, c.Name)
			}
		}
		want := []string{"negotiation", "404", "405", "413", "415", "model-json", "model-xml", "model-form", "binding", "action"}
		if app.ASCAPI {
			want = []string{"404", "405", "action"}
		}
		for _, c := range want {
			if classes[c] == 0 {
				t.Errorf("%s: no %s case", app.ID, c)
			}
		}
		if app.ASCAPI {
			continue
		}
		r := contracts.RouteOf(app)
		b, err := bodiesOf(r.Request)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(b.invalid["json"], &v); err != nil || !strings.Contains(string(b.invalid["json"]), `:"x"`) {
			t.Errorf("%s: invalid JSON %s: %v", app.ID, b.invalid["json"], err)
		}
		if q, err := url.ParseQuery(string(b.invalid["form"])); err != nil || len(q) == 0 {
			t.Errorf("%s: invalid form %s", app.ID, b.invalid["form"])
		}
		for name, x := range map[string]string{"invalid": string(b.invalid["xml"]), "prefixed": b.prefixedXML, "reversed": b.reversedXML} {
			if err := xml.Unmarshal([]byte(x), new(any)); err != nil {
				t.Errorf("%s: %s XML %s: %v", app.ID, name, x, err)
			}
		}
		if len(b.prefixedXML) <= len(b.valid["xml"]) || !strings.Contains(b.prefixedXML, "<p:"+r.Request.Name) {
			t.Errorf("%s: prefixed XML %s", app.ID, b.prefixedXML)
		}
		if b.reversedXML == string(b.valid["xml"]) || len(b.reversedXML) != len(b.valid["xml"]) {
			t.Errorf("%s: reversed XML %s", app.ID, b.reversedXML)
		}
	}
}
