// Package contracts holds the request and response types of the legacy endpoints and their wire metadata:
// one declarative member table per type, from which the DataContract XML and Json.NET JSON encoders and
// decoders, the input form of the contract CLI and the help-page sample generator are all driven, so that
// they cannot drift apart.
//
// A table lists a type's members in CLR reflection order (derived class first, each class in declaration
// order), because that is the order Json.NET writes and the help page numbers. DataContractSerializer's
// order (base class first, ordinal by name inside each class) is derived from the same rows by the rule the
// serializer itself applies, and asserted against the seed samples by the tests.
package contracts

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"aspgate/contracts/jsonnet"
)

// Kind is the CLR shape of a member, which decides how each format writes and reads it.
type Kind uint8

const (
	String          Kind = iota + 1 // string: Go *string, nil = null
	Int32                           // int: Go int32
	Int64                           // long: Go int64
	NullableInt32                   // int?: Go *int32
	NullableInt64                   // long?: Go *int64
	Bool                            // bool: Go bool
	GuidKind                        // System.Guid: Go Guid
	EnumKind                        // an enum: a Go int32 type, named by Member.Enum
	StringList                      // List<string>: Go []*string, nil = null
	Object                          // a class: Go *T, named by Member.Elem
	ObjectList                      // List<T>: Go []*T
	ExceptionKind                   // System.Exception (ISerializable): Go *Exception
	ApiDateTimeKind                 // ASC.Specific.ApiDateTime: Go *ApiDateTime
	DictKind                        // IDictionary (Exception.Data in ASC.Api's error wrapper): Go *Dict
)

// Direction tells whether a type is bound from a request body or written in a response.
type Direction string

const (
	Request  Direction = "request"
	Response Direction = "response"
)

// Member is one property of a contract.
type Member struct {
	Name     string    // CLR property name: the XML element name, and the JSON name of non-camelCase apps
	Field    string    // Go struct field, when it differs from Name
	Class    string    // the CLR class that declares it
	Level    int       // 0 for the root base class, then 1, 2, ... down to the type itself
	NS       string    // DataContract namespace of the declaring class
	Kind     Kind      //
	Enum     *Enum     // for EnumKind
	Elem     *Contract // for Object and ObjectList
	Required bool      // [Required]: Web API makes Json.NET require it (Required.AllowNull) and validates it
	ReadOnly bool      // getter only: Json.NET writes it, DataContractSerializer does not (ereader IsSuccess)
	Shadowed bool      // hidden in JSON by a more derived member with the same JSON name; XML only

	// ASC.Api's [DataMember(EmitDefaultValue = false)]: zero, false and null are left out (r7office).
	OmitDefault bool

	// Doc is the member's <summary> in the service's XML documentation, as its Help Page shows it (the
	// seeds hold them; only lcmanager documented its members).
	Doc string

	index    int    // Go field index
	jsonName string // resolved JSON name
	jsonKey  []byte // jsonName quoted and followed by ':', made once for the encoder
}

// JSONName is the member's name in the app's JSON.
func (m *Member) JSONName() string { return m.jsonName }

// InputKey is the member's key in the input form: its JSON name, or Name@Class for a shadowed member.
func (m *Member) InputKey() string {
	if m.Shadowed {
		return m.jsonName + "@" + m.Class
	}
	return m.jsonName
}

// Contract is the wire metadata of one CLR type.
type Contract struct {
	App       *App
	Name      string // DataContract name: the XML root or item element, the CLI's <Type>
	NS        string // DataContract namespace of the type itself
	Direction Direction
	Go        reflect.Type // the Go struct (not a pointer)
	Members   []Member     // CLR reflection order
	// Ordered marks a [DataContract] whose [DataMember(Order)] attributes fix the wire order: the table is
	// already in that order, for JSON and XML alike (ASC.Api's envelope).
	Ordered bool
	// HelpName is the name the Help Page gives the type when it differs from Name: its ModelNameHelper
	// names ApiResult<string> "ApiResultOfString" where the serializer says "ApiResultOfstring".
	HelpName string

	xmlOrder  []*Member // DataContractSerializer order, read-only members left out
	jsonOrder []*Member // Json.NET order, shadowed members left out
}

// ModelName is the type's name on the Help Page.
func (c *Contract) ModelName() string {
	if c.HelpName != "" {
		return c.HelpName
	}
	return c.Name
}

// XMLMembers returns the members in DataContractSerializer order.
func (c *Contract) XMLMembers() []*Member { return c.xmlOrder }

// JSONMembers returns the members in Json.NET order.
func (c *Contract) JSONMembers() []*Member { return c.jsonOrder }

// New returns a pointer to a new zero value of the contract's Go type.
func (c *Contract) New() any { return reflect.New(c.Go).Interface() }

// App is one legacy service and the way its formatters are configured.
type App struct {
	ID        string // lcmanager, r7office, customer, ereader, aries
	Seed      string // 000..004, the seed page number
	CamelCase bool   // JSON names through Json.NET's CamelCasePropertyNamesContractResolver
	// ASCAPI marks ONLYOFFICE's ASC.Api (r7office): responses are an envelope written by Json.NET with
	// ASC.Api's own string escaping, XML converted from that JSON.
	ASCAPI    bool
	Contracts []*Contract
}

// Type finds a contract of the app by name, ignoring case as the oracle does.
func (a *App) Type(name string) (*Contract, bool) {
	for _, c := range a.Contracts {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return nil, false
}

// Apps lists the legacy services in seed order.
func Apps() []*App { return apps }

// LookupApp finds an app by id or seed number.
func LookupApp(id string) (*App, bool) {
	for _, a := range apps {
		if a.ID == id || a.Seed == id {
			return a, true
		}
	}
	return nil, false
}

// Lookup finds an app's contract.
func Lookup(app, typ string) (*Contract, error) {
	a, ok := LookupApp(app)
	if !ok {
		ids := make([]string, len(apps))
		for i, a := range apps {
			ids[i] = a.ID
		}
		return nil, fmt.Errorf("unknown app %q; known: %s", app, strings.Join(ids, ", "))
	}
	c, ok := a.Type(typ)
	if !ok {
		names := make([]string, len(a.Contracts))
		for i, c := range a.Contracts {
			names[i] = c.Name
		}
		return nil, fmt.Errorf("unknown type %q for %s; known: %s", typ, a.ID, strings.Join(names, ", "))
	}
	return c, nil
}

var apps []*App

func init() {
	sort.SliceStable(apps, func(i, j int) bool { return apps[i].Seed < apps[j].Seed })
	for _, a := range apps {
		for _, c := range a.Contracts {
			resolve(c)
		}
	}
}

// register resolves the tables of an app once, at start-up, and panics on a table that does not fit its Go
// type: that is a programming error caught by any test.
func register(a *App, cs ...*Contract) *App {
	for _, c := range cs {
		c.App = a
		a.Contracts = append(a.Contracts, c)
	}
	apps = append(apps, a)
	return a
}

// resolve is called once all contracts exist, since members refer to element contracts of other tables.
func resolve(c *Contract) {
	if c.xmlOrder != nil || c.jsonOrder != nil {
		return
	}
	for i := range c.Members {
		m := &c.Members[i]
		field := m.Field
		if field == "" {
			field = m.Name
		}
		if m.ReadOnly {
			m.index = -1
		} else {
			f, ok := c.Go.FieldByName(field)
			if !ok || len(f.Index) != 1 {
				panic(fmt.Sprintf("contracts: %s.%s has no Go field %s", c.Name, m.Name, field))
			}
			if want := goTypeOf(m); want != nil && f.Type != want {
				panic(fmt.Sprintf("contracts: %s.%s is %s in Go, want %s", c.Name, m.Name, f.Type, want))
			}
			m.index = f.Index[0]
		}
		m.jsonName = m.Name
		if c.App != nil && (c.App.CamelCase || c.App.ASCAPI) {
			m.jsonName = CamelCase(m.Name)
		}
		m.jsonKey = append(jsonnet.AppendString(nil, m.jsonName, jsonnet.Default), ':')
		if m.Elem != nil && m.Elem.App == nil {
			m.Elem.App = c.App
		}
		if m.Elem != nil {
			resolve(m.Elem)
		}
	}
	for i := range c.Members {
		m := &c.Members[i]
		if !m.Shadowed {
			c.jsonOrder = append(c.jsonOrder, m)
		}
		if !m.ReadOnly {
			c.xmlOrder = append(c.xmlOrder, m)
		}
	}
	if c.Ordered {
		return
	}
	sort.SliceStable(c.xmlOrder, func(i, j int) bool {
		a, b := c.xmlOrder[i], c.xmlOrder[j]
		if a.Level != b.Level {
			return a.Level < b.Level
		}
		return a.Name < b.Name // Go compares bytes: String.CompareOrdinal for these ASCII names
	})
}

var (
	tString    = reflect.TypeFor[*string]()
	tInt32     = reflect.TypeFor[int32]()
	tInt64     = reflect.TypeFor[int64]()
	tNInt32    = reflect.TypeFor[*int32]()
	tNInt64    = reflect.TypeFor[*int64]()
	tBool      = reflect.TypeFor[bool]()
	tGuid      = reflect.TypeFor[Guid]()
	tStrings   = reflect.TypeFor[[]*string]()
	tException = reflect.TypeFor[*Exception]()
	tDate      = reflect.TypeFor[*ApiDateTime]()
	tDict      = reflect.TypeFor[*Dict]()
)

func goTypeOf(m *Member) reflect.Type {
	switch m.Kind {
	case String:
		return tString
	case Int32:
		return tInt32
	case Int64:
		return tInt64
	case NullableInt32:
		return tNInt32
	case NullableInt64:
		return tNInt64
	case Bool:
		return tBool
	case GuidKind:
		return tGuid
	case StringList:
		return tStrings
	case ExceptionKind:
		return tException
	case ApiDateTimeKind:
		return tDate
	case DictKind:
		return tDict
	case Object:
		return reflect.PointerTo(m.Elem.Go)
	case ObjectList:
		return reflect.SliceOf(reflect.PointerTo(m.Elem.Go))
	case EnumKind:
		return m.Enum.Go
	}
	return nil
}

// CamelCase is Json.NET 6's StringUtils.ToCamelCase: the leading run of upper-case letters is lowered,
// except the last one when a lower-case letter follows it ("IPAddress" -> "ipAddress").
func CamelCase(s string) string {
	r := []rune(s)
	if len(r) == 0 || !isUpper(r[0]) {
		return s
	}
	for i := range r {
		if i > 0 && i+1 < len(r) && !isUpper(r[i+1]) {
			break
		}
		r[i] = toLower(r[i])
	}
	return string(r)
}

// Ptr returns a pointer to v: a convenience for the nullable members of the DTOs.
func Ptr[T any](v T) *T { return &v }
