package contracts

import (
	"errors"
	"reflect"
	"strconv"
)

// The help-page sample generator: the rules of ASP.NET Web API Help Page's ObjectGenerator, as the oracle
// re-implements them. One counter per object, shared by its writable members in reflection order; every
// simple value takes the next number ("sample string N", N, true, a Guid); Nullable<T>, collections and
// nested objects start a fresh counter, so nullable numbers are always 1 and list items are
// "sample string 1", "sample string 2"; collections get two items; an enum takes its first value; a type
// already being built is reused, so both items of a list of objects are the same object.

// sampleGuids are the Guids the seeds show where Guid.NewGuid() ran; later Guids are empty.
var sampleGuids = map[string][]Guid{
	"customer": {{0xdb, 0x29, 0x9a, 0x41, 0xed, 0xb1, 0x47, 0xb7, 0xa7, 0x16, 0x64, 0x63, 0x3a, 0x0d, 0x06, 0x8c}},
}

// ErrNoSample is returned for a format the help page shows no sample in (r7office requests in XML).
var ErrNoSample = errors.New("the help page shows no sample in this format")

// Sample returns the help-page sample value of a contract in the given format ("json" or "xml").
func Sample(c *Contract, format string) (any, error) {
	if c.App.ASCAPI {
		return r7Sample(c, format)
	}
	g := &sampler{guids: sampleGuids[c.App.ID], built: map[*Contract]reflect.Value{}}
	return g.object(c).Interface(), nil
}

type sampler struct {
	guids []Guid
	built map[*Contract]reflect.Value
}

func (g *sampler) object(c *Contract) reflect.Value {
	if v, ok := g.built[c]; ok {
		return v
	}
	v := reflect.New(c.Go)
	g.built[c] = v
	n := int64(0)
	next := func() int64 { n++; return n }
	for i := range c.Members {
		m := &c.Members[i]
		if m.ReadOnly {
			continue
		}
		f := v.Elem().Field(m.index)
		switch m.Kind {
		case String:
			s := "sample string " + strconv.FormatInt(next(), 10)
			f.Set(reflect.ValueOf(&s))
		case Int32, Int64:
			f.SetInt(next())
		case NullableInt32:
			x := int32(1)
			f.Set(reflect.ValueOf(&x))
		case NullableInt64:
			x := int64(1)
			f.Set(reflect.ValueOf(&x))
		case Bool:
			next()
			f.SetBool(true)
		case GuidKind:
			next()
			if len(g.guids) > 0 {
				f.Set(reflect.ValueOf(g.guids[0]))
				g.guids = g.guids[1:]
			}
		case EnumKind:
			f.SetInt(m.Enum.Values[0].Value)
		case StringList:
			a, b := "sample string 1", "sample string 2"
			f.Set(reflect.ValueOf([]*string{&a, &b}))
		case Object:
			f.Set(g.object(m.Elem))
		case ObjectList:
			list := reflect.MakeSlice(f.Type(), 0, 2)
			for j := 0; j < 2; j++ {
				list = reflect.Append(list, g.object(m.Elem))
			}
			f.Set(list)
		case ExceptionKind:
			// Writable public properties of System.Exception in reflection order: HelpLink, Source, HResult.
			help, source := "sample string 1", "sample string 2"
			f.Set(reflect.ValueOf(&Exception{HelpURL: &help, Source: &source, HResult: 3}))
		default:
			panic("contracts: no sample rule for kind")
		}
	}
	return v
}

// r7Sample builds ONLYOFFICE's documentation samples: requests with "some text" everywhere (JSON only), and
// AuthenticationTokenData.GetSample() in an envelope whose count and statusCode are 0.
func r7Sample(c *Contract, format string) (any, error) {
	if c.Direction == Request {
		if format == "xml" {
			return nil, ErrNoSample
		}
		v := reflect.New(c.Go)
		for i := range c.Members {
			s := "some text"
			v.Elem().Field(c.Members[i].index).Set(reflect.ValueOf(&s))
		}
		return v.Interface(), nil
	}
	expires := "2022-10-02T14:03:03.7135419Z"
	if c.Name == "AuthenticationResponse" {
		expires = "2022-10-02T14:03:03.7291114Z"
	}
	d, err := ParseApiDateTime(expires)
	if err != nil {
		return nil, err
	}
	token := "abcde12345"
	return &Envelope{Status: ApiStatusOk, Response: &AuthenticationTokenData{Token: &token, Expires: d}}, nil
}

// Encode writes v in format "json" or "xml".
func Encode(c *Contract, format string, v any) ([]byte, error) {
	switch format {
	case "json":
		return EncodeJSON(c, v)
	case "xml":
		return EncodeXML(c, v)
	}
	return nil, errors.New("format must be json or xml")
}
