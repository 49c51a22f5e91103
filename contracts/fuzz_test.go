package contracts_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aspgate/contracts"
)

// fuzzContentTypes are the Content-Type values FuzzDecode picks from.
var fuzzContentTypes = []string{
	"application/json",
	"text/json; charset=utf-8",
	"application/json; charset=utf-16",
	"application/xml",
	"text/xml",
	"application/xml; charset=utf-16",
	"application/x-www-form-urlencoded",
	"text/plain",
}

// fuzzContracts lists every contract of every app, in a fixed order.
func fuzzContracts() []*contracts.Contract {
	var cs []*contracts.Contract
	for _, a := range contracts.Apps() {
		cs = append(cs, a.Contracts...)
	}
	return cs
}

func contentTypeIndex(ext string) uint8 {
	switch ext {
	case ".json":
		return 0
	case ".xml":
		return 3
	}
	return 6
}

// FuzzDecode decodes arbitrary bodies as every type and content type: Decode must never panic, and a value
// it binds must encode (or fail to) without panicking, in both formats and in the input form.
func FuzzDecode(f *testing.F) {
	cs := fuzzContracts()
	index := map[*contracts.Contract]uint8{}
	for i, c := range cs {
		index[c] = uint8(i)
	}
	bodies, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "requests", "bodies", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range bodies {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		app := strings.SplitN(filepath.Base(path), "-", 2)[0]
		if app == "r7" {
			app = "r7office"
		}
		for _, c := range cs {
			if c.App.ID == app || app == "empty" {
				f.Add(data, index[c], contentTypeIndex(filepath.Ext(path)))
			}
		}
	}
	for _, c := range cs {
		for _, format := range []string{"json", "xml"} {
			data, err := os.ReadFile(filepath.Join("..", "testdata", "golden", "samples", c.App.ID, c.Name+"."+format))
			if err != nil {
				continue
			}
			f.Add(data, index[c], contentTypeIndex("."+format))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, typ, ct uint8) {
		if len(body) > 64<<10 {
			return // the server refuses larger bodies before decoding
		}
		c := cs[int(typ)%len(cs)]
		v, err := contracts.Decode(c, fuzzContentTypes[int(ct)%len(fuzzContentTypes)], body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if _, err := contracts.AppendInput(nil, c, v); err != nil {
			t.Fatalf("a decoded value cannot be printed: %v", err)
		}
		for _, format := range []string{"json", "xml"} {
			wire, err := contracts.Encode(c, format, v)
			if err != nil || v == nil || c.App.ASCAPI && c.Direction == contracts.Request {
				continue // r7office requests are bound from text, lossy by design
			}
			if c.App.ASCAPI && format == "xml" {
				continue // ASC.Api's XML reads back lossy by design: {} as null, white-space-only text as ""
			}
			// What we write, we read back to a value that we write the same way.
			back, err := contracts.Decode(c, "application/"+format, wire)
			if err != nil {
				t.Fatalf("%s %s: our own output does not decode: %v\n%s", c.Name, format, err, wire)
			}
			again, err := contracts.Encode(c, format, back)
			if err != nil || string(again) != string(wire) {
				t.Fatalf("%s %s: encode, decode, encode differs (%v):\n%q\n%q", c.Name, format, err, wire, again)
			}
		}
	})
}

// FuzzBindForm binds arbitrary form bodies as the Web API pipeline does (BindForm) for each app's request
// type: never a panic; an error is always a *DecodeError (a model error the pipeline answers with 400);
// a bound value encodes as JSON; and the binder agrees with the formatter-level DecodeForm on the value
// whenever both bind without error.
func FuzzBindForm(f *testing.F) {
	var reqs []*contracts.Contract
	for _, a := range contracts.Apps() {
		if a.ASCAPI {
			continue
		}
		for _, c := range a.Contracts {
			if c.Direction == contracts.Request {
				reqs = append(reqs, c)
			}
		}
	}
	for _, s := range []string{"", "UserId=1&Code=c&NewPassword=p", "userid=x", "UserId=&Code=", "model.UserId=4",
		"a=1&a=2", "%zz=1", "Phone=79991234567&Email=e%40x", "=&&==", "ApiKey=k&apiKey=l", "UserId=0x1F", "UserId=+1",
		"RequestFromIdentityServer=TRUE", "Operator=%F0%9F%98%80", "<a>1</a>"} {
		for i := range reqs {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		c := reqs[int(which)%len(reqs)]
		v, err := contracts.BindForm(c, body)
		var de *contracts.DecodeError
		if err != nil && !errors.As(err, &de) && !strings.Contains(err.Error(), "not supported") {
			t.Fatalf("%s: error %T: %v", c.Name, err, err)
		}
		if v != nil {
			if _, err := contracts.EncodeJSON(c, v); err != nil {
				t.Fatalf("%s: the bound value does not encode: %v", c.Name, err)
			}
		}
		if w, err2 := contracts.DecodeForm(c, body); err == nil && err2 == nil && v != nil && w != nil {
			a, _ := contracts.EncodeJSON(c, v)
			b, _ := contracts.EncodeJSON(c, w)
			if string(a) != string(b) {
				t.Fatalf("%s: BindForm %s, DecodeForm %s", c.Name, a, b)
			}
		}
	})
}
