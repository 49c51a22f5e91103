package openapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"aspgate/contracts"
	"aspgate/xmlns"
)

// The schemas. Every contract has two components: "<app>.<Type>" for JSON (Json.NET's names and order)
// and "<app>.<Type>.xml" for XML (DataContractSerializer's elements, namespaces and order), since the two
// formats disagree on names (aries' camelCase), on members (a read-only member is JSON only, a hidden
// base-class member XML only) and on order. Request schemas say what a client sends; response schemas
// say exactly what the legacy service writes (every member, nothing else).

const ref = "#/components/schemas/"

// schemas collects the components while the operations are written.
type schemas struct {
	all      *object
	examples *object
	depth    map[*contracts.Contract]int // the XML element depth of a contract's members
}

func newSchemas() *schemas {
	return &schemas{all: obj(), examples: obj(), depth: map[*contracts.Contract]int{}}
}

// sample registers an example component (once per name) and returns a media type's examples naming it;
// nil for no example.
func (s *schemas) sample(name string, v any) *object {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
	case json.RawMessage:
		if len(x) == 0 {
			return nil
		}
	}
	if s.examples.get(name) == nil {
		s.examples.set(name, obj("value", v))
	}
	return obj("sample", obj("$ref", "#/components/examples/"+name))
}

// componentName is a contract's component name: the Help Page's model name (ApiResultOfString), or for
// ASC.Api's nested objects, named on the wire after the member that holds them, the CLR class.
func componentName(c *contracts.Contract) string {
	name := c.ModelName()
	if c.App.ASCAPI && c.Direction == "" {
		name = c.Go.Name()
	}
	return c.App.ID + "." + name
}

func refTo(name string) *object { return obj("$ref", ref+name) }

// orNull is a schema that also allows null.
func orNull(s *object) *object { return obj("anyOf", []any{s, obj("type", "null")}) }

// describe joins the non-empty parts of a description.
func describe(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// enumText lists an enum's names and values for people: "0 = Success, 1 = Failure".
func enumText(e *contracts.Enum) string {
	var parts []string
	for _, v := range e.Declared(true) {
		parts = append(parts, strconv.FormatInt(v.Value, 10)+" = "+v.Name)
	}
	return e.CLRName + ": " + strings.Join(parts, ", ") + "."
}

// enumValues are the enum's distinct values and the first name of each, as .NET Framework 4.x has them.
func enumValues(e *contracts.Enum) (values []any, names []string) {
	for _, v := range e.Values {
		if slices.Contains(e.NotInFramework, v.Value) {
			continue
		}
		values = append(values, v.Value)
		names = append(names, v.Name)
	}
	return values, names
}

// int32Schema and int64Schema are CLR int and long.
func int32Schema() *object {
	return obj("type", "integer", "format", "int32", "minimum", int64(-1<<31), "maximum", int64(1<<31-1))
}

func int64Schema() *object {
	return obj("type", "integer", "format", "int64", "minimum", int64(-1<<63), "maximum", int64(1<<63-1))
}

func nullableType(t string) []string { return []string{t, "null"} }

// apiDateTime is ASC.Specific.ApiDateTime's text.
func apiDateTime() *object {
	return obj("type", "string", "pattern", `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}(Z|[+-]\d{2}:\d{2})$`,
		"description", "ASC.Specific.ApiDateTime: the tenant's wall-clock time with seven fraction digits, then Z or the tenant's UTC offset.")
}

// JSON returns the reference to a contract's JSON schema, writing the component on first use.
func (s *schemas) JSON(c *contracts.Contract, dir contracts.Direction) *object {
	name := componentName(c)
	if s.all.get(name) == nil {
		s.all.set(name, obj()) // reserved: a contract that refers to itself stops here
		s.all.set(name, s.jsonObject(c, dir))
	}
	return refTo(name)
}

func (s *schemas) jsonObject(c *contracts.Contract, dir contracts.Direction) *object {
	props := obj()
	var required []string
	for _, m := range c.JSONMembers() {
		props.set(m.JSONName(), s.jsonMember(m, dir))
		switch {
		case dir == contracts.Request && m.Required:
			required = append(required, m.JSONName())
		case dir != contracts.Request && !m.OmitDefault:
			required = append(required, m.JSONName())
		}
	}
	desc := "Json.NET writes the members in this order."
	if dir == contracts.Request {
		desc = "Names are matched ignoring case; members not listed are ignored; a member may be left out unless required."
		if c.App.ASCAPI {
			desc = "ASC.Api reads the body as parameters by name (ignoring case), after the route value and the query string: " +
				"the first value of a name wins."
		}
	}
	o := obj("type", "object", "title", c.ModelName(), "description", desc, "properties", props, "required", required)
	if dir != contracts.Request {
		o.set("additionalProperties", false)
	}
	return o
}

func (s *schemas) jsonMember(m *contracts.Member, dir contracts.Direction) *object {
	var o *object
	required := dir == contracts.Request && m.Required
	switch m.Kind {
	case contracts.String:
		if required {
			// [Required] refuses null, "" and white space (RequiredAttribute.AllowEmptyStrings is false).
			o = obj("type", "string", "minLength", 1, "pattern", `\S`)
		} else if m.OmitDefault {
			o = obj("type", "string")
		} else {
			o = obj("type", nullableType("string"))
		}
	case contracts.Int32:
		o = int32Schema()
	case contracts.Int64:
		o = int64Schema()
	case contracts.NullableInt32:
		o = int32Schema().set("type", nullableType("integer"))
	case contracts.NullableInt64:
		o = int64Schema().set("type", nullableType("integer"))
	case contracts.Bool:
		o = obj("type", "boolean")
	case contracts.GuidKind:
		o = obj("type", "string", "format", "uuid")
	case contracts.EnumKind:
		// Json.NET writes an enum as its number (no StringEnumConverter in these services); it reads a name too.
		values, names := enumValues(m.Enum)
		o = obj("type", "integer", "format", "int32", "enum", values, "x-enum-varnames", names,
			"description", enumText(m.Enum))
	case contracts.StringList:
		o = obj("type", nullableType("array"), "items", obj("type", nullableType("string")))
	case contracts.Object:
		if m.OmitDefault {
			o = s.JSON(m.Elem, dir)
		} else {
			o = orNull(s.JSON(m.Elem, dir))
		}
	case contracts.ObjectList:
		o = obj("type", nullableType("array"), "items", orNull(s.JSON(m.Elem, dir)))
	case contracts.ExceptionKind:
		o = orNull(s.exceptionJSON())
	case contracts.ApiDateTimeKind:
		o = apiDateTime()
	case contracts.DictKind:
		o = obj("type", "object", "description", "The exception's Data dictionary (empty outside DEBUG builds).")
	default:
		panic(fmt.Sprintf("openapi: %s has a kind the document cannot describe", m.Name))
	}
	if m.Doc != "" {
		o.set("description", describe(m.Doc, str(o.get("description"))))
	}
	return o
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// exceptionJSON is System.Exception as Json.NET writes an ISerializable: GetObjectData's entries by their
// own names (a camelCase resolver does not rename them).
func (s *schemas) exceptionJSON() *object {
	const name = "System.Exception"
	if s.all.get(name) == nil {
		props := obj()
		var required []string
		for _, e := range contracts.ExceptionEntries() {
			props.set(e.Name, exceptionEntry(e))
			required = append(required, e.Name)
		}
		s.all.set(name, obj("type", "object", "title", "Exception",
			"description", "System.Exception as .NET Framework serializes it (ISerializable): its GetObjectData entries in this order.",
			"properties", props, "required", required, "additionalProperties", false))
	}
	return refTo(name)
}

func exceptionEntry(e contracts.ExceptionEntry) *object {
	switch {
	case e.Name == "ClassName":
		return obj("type", "string", "const", contracts.ExceptionClassName)
	case e.XSDType == "int":
		return int32Schema()
	case e.XSDType == "string":
		return obj("type", nullableType("string"))
	}
	return obj("type", "null")
}

// XML returns the reference to a contract's DataContract XML schema, writing the component on first use.
// depth is the element depth of the contract's members (2 for a body's root type): the serializer names
// the prefixes it declares after it.
func (s *schemas) XML(c *contracts.Contract, dir contracts.Direction, depth int) *object {
	name := componentName(c) + ".xml"
	if d, ok := s.depth[c]; ok {
		if d != depth {
			// One component cannot say two prefixes: the tables have no type reached at two depths.
			panic(fmt.Sprintf("openapi: %s is written at depths %d and %d", c.Name, d, depth))
		}
		return refTo(name)
	}
	s.depth[c] = depth
	s.all.set(name, obj())
	if c.App.ASCAPI {
		s.all.set(name, s.ascXMLObject(c, dir))
	} else {
		s.all.set(name, s.xmlObject(c, dir, depth))
	}
	return refTo(name)
}

func (s *schemas) xmlObject(c *contracts.Contract, dir contracts.Direction, depth int) *object {
	props := obj()
	var required []string
	for _, m := range c.XMLMembers() {
		key := m.Name
		if m.Shadowed {
			key = m.Name + "@" + m.Class // the same element name twice: a base class's member hidden by `new`
		}
		props.set(key, s.xmlMember(m, dir, depth))
		if dir == contracts.Request && m.Required || dir != contracts.Request {
			required = append(required, key)
		}
	}
	desc := "DataContractSerializer writes the elements in this order: base classes first, each class's members " +
		"ordinally by name; a null member is written as an empty element with i:nil=\"true\" (i = " + xmlns.Instance + ")."
	if dir == contracts.Request {
		desc = "DataContractSerializer reads the elements in this order only: an element out of order, or in another " +
			"namespace, is not read; any may be left out unless required; i:nil=\"true\" (i = " + xmlns.Instance + ") is null."
	}
	return obj("type", "object", "title", c.Name, "description", desc,
		"xml", obj("name", c.Name, "namespace", c.NS), "properties", props, "required", required)
}

func (s *schemas) xmlMember(m *contracts.Member, dir contracts.Direction, depth int) *object {
	at := obj("name", m.Name, "namespace", m.NS)
	var o *object
	nillable := false
	switch m.Kind {
	case contracts.String:
		o, nillable = obj("type", nullableType("string")), true
		if dir == contracts.Request && m.Required {
			o = obj("type", "string", "minLength", 1, "pattern", `\S`)
		}
	case contracts.Int32:
		o = int32Schema()
	case contracts.Int64:
		o = int64Schema()
	case contracts.NullableInt32:
		o, nillable = int32Schema().set("type", nullableType("integer")), true
	case contracts.NullableInt64:
		o, nillable = int64Schema().set("type", nullableType("integer")), true
	case contracts.Bool:
		o = obj("type", "boolean")
	case contracts.GuidKind:
		o = obj("type", "string", "format", "uuid")
	case contracts.EnumKind:
		var names []any
		for _, v := range m.Enum.Declared(true) {
			names = append(names, v.Name)
		}
		o = obj("type", "string", "enum", names, "description", "DataContractSerializer writes the member's name. "+enumText(m.Enum))
	case contracts.StringList:
		at.set("wrapped", true)
		o, nillable = obj("type", nullableType("array"), "items", obj("type", nullableType("string"),
			"xml", obj("name", "string", "namespace", xmlns.Arrays, "prefix", prefixAt(depth)))), true
	case contracts.Object:
		o, nillable = orNull(s.XML(m.Elem, dir, depth+1)), true
	case contracts.ObjectList:
		at.set("wrapped", true)
		o, nillable = obj("type", nullableType("array"), "items", s.XML(m.Elem, dir, depth+2)), true
	case contracts.ExceptionKind:
		o, nillable = orNull(s.exceptionXML(depth+1)), true
		o.set("description", "The element declares xmlns:"+prefixAt(depth)+"=\"http://schemas.datacontract.org/2004/07/System\".")
	default:
		panic(fmt.Sprintf("openapi: %s has a kind the document cannot describe in XML", m.Name))
	}
	o.set("xml", at)
	if nillable {
		o.set("description", describe(str(o.get("description")), "Null is written <"+m.Name+" i:nil=\"true\" />."))
	}
	if m.Doc != "" {
		o.set("description", describe(m.Doc, str(o.get("description"))))
	}
	return o
}

// prefixAt is the prefix DataContractSerializer makes up for a namespace it first declares on an element
// at depth (the root element is depth 1): "d3p1" for the Arrays items of a member of a member of the root.
func prefixAt(depth int) string { return "d" + strconv.Itoa(depth) + "p1" }

// exceptionXML is System.Exception's ISerializable entries as DataContractSerializer writes them.
func (s *schemas) exceptionXML(depth int) *object {
	const name = "System.Exception.xml"
	if s.all.get(name) == nil {
		props := obj()
		var required []string
		for _, e := range contracts.ExceptionEntries() {
			p := exceptionEntry(e)
			p.set("xml", obj("name", e.Name))
			if e.XSDType != "" {
				p.set("description", "Typed i:type=\""+prefixAt(depth)+":"+e.XSDType+"\", the prefix declared on the element for "+xmlns.Schema+".")
			} else {
				p.set("description", "Always i:nil=\"true\".")
			}
			props.set(e.Name, p)
			required = append(required, e.Name)
		}
		s.all.set(name, obj("type", "object", "title", "Exception",
			"description", "System.Exception's GetObjectData entries in this order, each in no namespace (xmlns=\"\").",
			"properties", props, "required", required))
	}
	return refTo(name)
}

// ascXMLObject is an ASC.Api object in XML: Json.NET's XmlNodeConverter turns the JSON into elements of the
// same names, in no namespace, null as an empty element, under <result> for the envelope.
func (s *schemas) ascXMLObject(c *contracts.Contract, dir contracts.Direction) *object {
	props := obj()
	var required []string
	for _, m := range c.JSONMembers() {
		p := s.jsonMember(m, dir)
		switch m.Kind {
		case contracts.Object:
			p = s.XML(m.Elem, dir, 0)
		}
		p.set("xml", obj("name", m.JSONName()))
		props.set(m.JSONName(), p)
		if dir != contracts.Request && !m.OmitDefault {
			required = append(required, m.JSONName())
		}
	}
	name := c.Name
	if c.Direction == contracts.Response {
		name = "result"
	}
	desc := "The JSON answer converted to XML (Json.NET's XmlNodeConverter): the same names and order, no namespace, null as an empty element."
	if dir == contracts.Request {
		name = "request"
		desc = "Any root element: ASC.Api reads its child elements by local name, ignoring case."
	}
	return obj("type", "object", "title", c.ModelName(), "description", desc, "xml", obj("name", name),
		"properties", props, "required", required)
}

// httpError is Web API's error body: {"Message":…, "ModelState":{key: [messages]}}, camel-cased throughout
// by aries' resolver; XML <Error> with one element per model state key.
func (s *schemas) httpError(app *contracts.App, xml bool) *object {
	name, msg, ms := "HttpError", "Message", "ModelState"
	if app.CamelCase {
		name, msg, ms = "HttpError.camelCase", "message", "modelState"
	}
	if xml {
		name, msg, ms = "HttpError.xml", "Message", "ModelState"
	}
	if s.all.get(name) == nil {
		var o *object
		if xml {
			o = obj("type", "object", "title", "HttpError",
				"description", "Web API's HttpError as its IXmlSerializable writes it, in no namespace.",
				"xml", obj("name", "Error"),
				"properties", obj(
					msg, obj("type", "string", "xml", obj("name", msg)),
					ms, obj("type", "object", "xml", obj("name", ms),
						"description", "One element per model state key (XmlConvert.EncodeLocalName of the key), its messages joined by a space.",
						"additionalProperties", obj("type", "string"))),
				"required", []string{msg})
		} else {
			desc := "Web API's HttpError: a message and, for an invalid body, the model state: each key (the parameter name, " +
				"then the member path) with its messages."
			if app.CamelCase {
				desc += " The camelCase resolver renames every key, model state keys too."
			}
			o = obj("type", "object", "title", "HttpError", "description", desc,
				"properties", obj(
					msg, obj("type", "string"),
					ms, obj("type", "object", "additionalProperties", obj("type", "array", "items", obj("type", "string")))),
				"required", []string{msg}, "additionalProperties", false)
		}
		s.all.set(name, o)
	}
	return refTo(name)
}
