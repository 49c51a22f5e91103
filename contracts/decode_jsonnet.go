package contracts

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"aspgate/contracts/jsonnet"
)

// This file reproduces how Web API's JSON formatter binds a body: Json.NET 6.0.8's JsonSerializerInternalReader
// over its JsonTextReader, with an error handler that logs every error under the reader's path and marks it
// handled, so that Json.NET skips what failed and reads on. The structure follows Json.NET's (Deserialize,
// CreateValueInternal, CreateObject, PopulateObject, PopulateList, CreateISerializable, EnsureType,
// HandleError) because its recovery decides which further errors, and model-state keys, a bad body produces.

// netError is an exception thrown while reading: Json.NET's JsonSerializationException or one it wraps.
type netError struct {
	typ string
	msg string
}

func (e *netError) Error() string { return e.msg }

const serializationException = "Newtonsoft.Json.JsonSerializationException"

// netKind is the CLR type a value is read as.
type netKind struct {
	kind Kind
	elem *Contract // Object, ObjectList
	enum *Enum     // EnumKind
}

func kindOf(m *Member) netKind { return netKind{kind: m.Kind, elem: m.Elem, enum: m.Enum} }

func (k netKind) item() netKind {
	if k.kind == StringList {
		return netKind{kind: String}
	}
	return netKind{kind: Object, elem: k.elem}
}

func (k netKind) isList() bool { return k.kind == StringList || k.kind == ObjectList }

// nullable: can the CLR type hold null (JsonContract.IsNullable).
func (k netKind) nullable() bool {
	switch k.kind {
	case Int32, Int64, Bool, GuidKind, EnumKind:
		return false
	}
	return true
}

func (k netKind) readType() jsonnet.ReadType {
	switch k.kind {
	case ApiDateTimeKind: // a member with a JsonConverter is read token by token
		return jsonnet.ReadPlain
	case String:
		return jsonnet.ReadAsString
	case Int32, NullableInt32:
		return jsonnet.ReadAsInt32
	}
	return jsonnet.ReadPlain
}

// clrName is the type's name as Json.NET's messages print it.
func (k netKind) clrName() string {
	switch k.kind {
	case String:
		return "System.String"
	case Int32:
		return "System.Int32"
	case Int64:
		return "System.Int64"
	case NullableInt32:
		return "System.Nullable`1[System.Int32]"
	case NullableInt64:
		return "System.Nullable`1[System.Int64]"
	case Bool:
		return "System.Boolean"
	case GuidKind:
		return "System.Guid"
	case EnumKind:
		return k.enum.CLRName
	case StringList:
		return "System.Collections.Generic.List`1[System.String]"
	case ObjectList:
		return "System.Collections.Generic.List`1[" + clrClassName(k.elem) + "]"
	case ExceptionKind:
		return "System.Exception"
	case DictKind:
		return "System.Collections.IDictionary"
	case ApiDateTimeKind:
		return "R7Office.Api.Models.ApiDateTime"
	}
	return clrClassName(k.elem)
}

func clrClassName(c *Contract) string {
	if c == nil {
		return "System.Object"
	}
	ns := c.NS
	if i := strings.LastIndex(ns, "/"); i >= 0 {
		ns = ns[i+1:]
	}
	if ns == "" {
		return c.Name
	}
	return ns + "." + c.Name
}

func (k netKind) goType() reflect.Type {
	switch k.kind {
	case Object:
		return reflect.PointerTo(k.elem.Go)
	case ObjectList:
		return reflect.SliceOf(reflect.PointerTo(k.elem.Go))
	case EnumKind:
		return k.enum.Go
	}
	return goTypeOf(&Member{Kind: k.kind})
}

// netDecoder is one Deserialize call.
type netDecoder struct {
	r    *jsonnet.TextReader
	errs []FieldError
	ids  map[string]reflect.Value // $id references
	// strict: no error handler (ToObject of ASC.Api's envelope): the first error ends the read.
	strict bool
}

// strictAbort carries the first error out of a strict read.
type strictAbort struct{}

// DecodeJSON binds a JSON body (UTF-8, without a BOM) to a new value of the contract's type as the app's Web
// API JSON formatter reads it (Json.NET 6 with the formatter's settings and error handler): it returns the
// bound value (nil when the body holds no value or the root failed) and, as a *DecodeError, every error the
// formatter logs, each with its model-state key below the parameter name.
func DecodeJSON(c *Contract, body []byte) (any, error) {
	if c.App.ASCAPI {
		return decodeR7JSON(c, body)
	}
	d := &netDecoder{r: jsonnet.NewTextReader(body)}
	v := d.deserialize(netKind{kind: Object, elem: c})
	if len(d.errs) > 0 {
		return v, &DecodeError{Errors: d.errs}
	}
	return v, nil
}

// decodeR7JSON reads ASC.Api's envelope back as the oracle does: JToken.ReadFrom (no dates, decimals), then
// ToObject with a camelCase resolver and no error handler, so that any error fails the whole body.
func decodeR7JSON(c *Contract, body []byte) (any, error) {
	empty, err := loadJToken(body)
	if err != nil {
		return nil, wholeBody(err)
	}
	if empty {
		return nil, nil
	}
	r := jsonnet.NewTextReader(body)
	r.SetDateParseHandling(false)
	r.SetFloatAsDecimal(true)
	r.SetPreparsed(true) // ToObject reads the JToken's values, parsed before any ReadAs
	d := &netDecoder{r: r, strict: true}
	v := d.deserialize(netKind{kind: Object, elem: c})
	if len(d.errs) > 0 {
		return nil, &DecodeError{Errors: []FieldError{{Err: d.errs[0].Err}}}
	}
	return v, nil
}

// loadJToken is JToken.ReadFrom over the first value of the text: what fails to load is an error. empty
// reports a root that is only a comment (ToObject of it is null).
func loadJToken(body []byte) (empty bool, err error) {
	r := jsonnet.NewTextReader(body)
	r.SetDateParseHandling(false)
	r.SetFloatAsDecimal(true)
	ok, err := r.Read()
	if err != nil {
		return false, err
	}
	if !ok {
		return false, &netError{typ: "Newtonsoft.Json.JsonReaderException", msg: jsonnet.FormatMessage("Error reading JToken from JsonReader.", r.Path(), r.Line(), r.LinePosition())}
	}
	switch r.Token() {
	case jsonnet.TokComment:
		return true, nil
	case jsonnet.TokStartObject, jsonnet.TokStartArray, jsonnet.TokStartConstructor:
	default:
		return false, nil
	}
	// Read to the end of the value: JObject.Load keeps the last of duplicate properties and skips comments.
	if err := r.Skip(); err != nil {
		return false, err
	}
	if r.Token() == jsonnet.TokNone {
		return false, &netError{typ: "Newtonsoft.Json.JsonReaderException", msg: jsonnet.FormatMessage("Unexpected end of content while loading JObject.", r.Path(), r.Line(), r.LinePosition())}
	}
	return false, nil
}

// handled is IsErrorHandled with the formatter's handler: the error is logged under the reader's path.
func (d *netDecoder) handled(err error) {
	d.errs = append(d.errs, FieldError{Path: d.r.Path(), Err: err})
	if d.strict {
		panic(strictAbort{})
	}
}

// serializationError is JsonSerializationException.Create(reader, msg).
func (d *netDecoder) serializationError(format string, args ...any) error {
	return &netError{typ: serializationException, msg: jsonnet.FormatMessage(fmt.Sprintf(format, args...), d.r.Path(), d.r.Line(), d.linePos())}
}

func (d *netDecoder) linePos() int {
	// The position of the last error message is what JsonSerializationException.Create reads from the reader.
	return readerLinePosition(d.r)
}

func (d *netDecoder) deserialize(k netKind) (out any) {
	if d.strict {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(strictAbort); !ok {
					panic(p)
				}
				out = nil
			}
		}()
	}
	v, err := d.deserializeValue(k)
	if err != nil {
		d.handled(err) // HandleError(reader, false, 0): nothing more is read
		return nil
	}
	if !v.IsValid() || v.IsNil() {
		return nil
	}
	return v.Interface()
}

func (d *netDecoder) deserializeValue(k netKind) (reflect.Value, error) {
	ok, err := d.readForType(k)
	if err != nil {
		return reflect.Value{}, err
	}
	if !ok {
		return reflect.Value{}, nil // no content and the type is a class: null
	}
	return d.createValue(k, reflect.Value{})
}

// readForType is ReadForType: the next token read the way the type wants it; false at the end.
func (d *netDecoder) readForType(k netKind) (bool, error) {
	switch k.readType() {
	case jsonnet.ReadAsInt32:
		if err := d.r.ReadAsInt32(); err != nil {
			return false, err
		}
	case jsonnet.ReadAsString:
		if err := d.r.ReadAsString(); err != nil {
			return false, err
		}
	default:
		for {
			ok, err := d.r.Read()
			if err != nil || !ok {
				return false, err
			}
			if d.r.Token() != jsonnet.TokComment {
				return true, nil
			}
		}
	}
	return d.r.Token() != jsonnet.TokNone, nil
}

// read is reader.Read().
func (d *netDecoder) read() (bool, error) { return d.r.Read() }

// checkedRead is CheckedRead.
func (d *netDecoder) checkedRead() error {
	ok, err := d.r.Read()
	if err != nil {
		return err
	}
	if !ok {
		return d.serializationError("Unexpected end when deserializing object.")
	}
	return nil
}

// createValue is CreateValueInternal: the value at the current token, as a reflect.Value of the kind's Go
// type (a zero Value for null).
func (d *netDecoder) createValue(k netKind, existing reflect.Value) (reflect.Value, error) {
	if k.kind == ApiDateTimeKind {
		return d.readApiDateTime()
	}
	for {
		r := d.r
		switch r.Token() {
		case jsonnet.TokStartObject:
			return d.createObject(k, existing)
		case jsonnet.TokStartArray:
			return d.createList(k, existing, "")
		case jsonnet.TokInteger, jsonnet.TokFloat, jsonnet.TokBoolean, jsonnet.TokDate, jsonnet.TokBytes:
			return d.ensureType(k)
		case jsonnet.TokString:
			if r.Str() == "" && k.kind != String && k.nullable() {
				return reflect.Value{}, nil
			}
			return d.ensureType(k)
		case jsonnet.TokStartConstructor:
			return d.ensureType(k)
		case jsonnet.TokNull, jsonnet.TokUndefined:
			return d.ensureType(k)
		case jsonnet.TokComment:
		default:
			return reflect.Value{}, d.serializationError("Unexpected token while deserializing object: %s.", r.Token())
		}
		ok, err := d.read()
		if err != nil {
			return reflect.Value{}, err
		}
		if !ok {
			return reflect.Value{}, d.serializationError("Unexpected end when deserializing object.")
		}
	}
}

// createObject is CreateObject at a StartObject token.
func (d *netDecoder) createObject(k netKind, existing reflect.Value) (reflect.Value, error) {
	if err := d.checkedRead(); err != nil {
		return reflect.Value{}, err
	}
	done, v, id, err := d.readMetadataProperties(k, existing)
	if err != nil || done {
		return v, err
	}
	switch k.kind {
	case Object:
		target := existing
		if !target.IsValid() || target.IsNil() {
			target = reflect.New(k.elem.Go)
		}
		return d.populateObject(target, k.elem, id)
	case ExceptionKind:
		return d.createISerializable(id)
	case DictKind:
		return d.populateDictionary(id)
	case String, Int32, Int64, NullableInt32, NullableInt64, Bool, GuidKind, EnumKind:
		// A primitive may come wrapped as {"$value": ...}.
		if d.r.Token() == jsonnet.TokPropertyName && d.r.Str() == "$value" {
			if err := d.checkedRead(); err != nil {
				return reflect.Value{}, err
			}
			if d.r.Token() == jsonnet.TokStartObject {
				return reflect.Value{}, d.serializationError("Unexpected token when deserializing primitive value: %s.", d.r.Token())
			}
			v, err := d.createValue(k, reflect.Value{})
			if err != nil {
				return reflect.Value{}, err
			}
			return v, d.checkedRead()
		}
	}
	return reflect.Value{}, d.serializationError("Cannot deserialize the current JSON object (e.g. {\"name\":\"value\"}) into type '%s' because the type requires a %s to deserialize correctly.\nTo fix this error either change the JSON to a %[2]s or change the deserialized type so that it is a normal .NET type (e.g. not a primitive type like integer, not a collection type like an array or List<T>) that can be deserialized from a JSON object. JsonObjectAttribute can also be added to the type to force it to deserialize from a JSON object.\n", k.clrName(), expectedDescription(k))
}

func expectedDescription(k netKind) string {
	switch k.kind {
	case Object, ExceptionKind, DictKind:
		return `JSON object (e.g. {"name":"value"})`
	case StringList, ObjectList:
		return "JSON array (e.g. [1,2,3])"
	}
	return "JSON primitive value (e.g. string, number, boolean, null)"
}

// readMetadataProperties is ReadMetadataProperties with the default MetadataPropertyHandling: $ref, $type,
// $id and $values at the start of an object. done reports that the value is complete ($ref, $values).
func (d *netDecoder) readMetadataProperties(k netKind, existing reflect.Value) (done bool, v reflect.Value, id string, err error) {
	r := d.r
	if r.Token() != jsonnet.TokPropertyName {
		return false, v, "", nil
	}
	if name := r.Str(); name == "" || name[0] != '$' {
		return false, v, "", nil
	}
	for {
		switch r.Str() {
		case "$ref":
			if err := d.checkedRead(); err != nil {
				return false, v, id, err
			}
			if r.Token() != jsonnet.TokString && r.Token() != jsonnet.TokNull {
				return false, v, id, d.serializationError("JSON reference $ref property must have a string or null value.")
			}
			ref, isRef := "", r.HasValue()
			if isRef {
				ref = r.ValueText()
			}
			if err := d.checkedRead(); err != nil {
				return false, v, id, err
			}
			if isRef {
				if r.Token() == jsonnet.TokPropertyName {
					return false, v, id, d.serializationError("Additional content found in JSON reference object. A JSON reference object should only have a $ref property.")
				}
				v = d.ids[ref]
				if v.IsValid() && v.Type() != k.goType() {
					return false, reflect.Value{}, id, d.serializationError("Error reading object reference '%s'.", ref)
				}
				return true, v, id, nil
			}
		case "$type":
			if err := d.checkedRead(); err != nil {
				return false, v, id, err
			}
			if !r.HasValue() {
				return false, v, id, &netError{typ: "System.NullReferenceException", msg: "Object reference not set to an instance of an object"}
			}
			if err := d.checkedRead(); err != nil {
				return false, v, id, err
			}
		case "$id":
			if err := d.checkedRead(); err != nil {
				return false, v, id, err
			}
			id = ""
			if r.HasValue() {
				id = r.ValueText()
			}
			if err := d.checkedRead(); err != nil {
				return false, v, id, err
			}
		case "$values":
			if err := d.checkedRead(); err != nil {
				return false, v, id, err
			}
			list, err := d.createList(k, existing, id)
			if err != nil {
				return false, list, id, err
			}
			return true, list, id, d.checkedRead()
		default:
			return false, v, id, nil
		}
		if r.Token() != jsonnet.TokPropertyName {
			return false, v, id, nil
		}
	}
}

// addReference is AddReference for a $id.
func (d *netDecoder) addReference(id string, v reflect.Value) error {
	if id == "" {
		return nil
	}
	if d.ids == nil {
		d.ids = map[string]reflect.Value{}
	}
	if old, ok := d.ids[id]; ok && old.Interface() != v.Interface() {
		return d.serializationError("Error reading object reference '%s'.", id)
	}
	d.ids[id] = v
	return nil
}

// createList is CreateList at a StartArray token (or the value of $values).
func (d *netDecoder) createList(k netKind, existing reflect.Value, id string) (reflect.Value, error) {
	if !k.isList() {
		return reflect.Value{}, d.serializationError("Cannot deserialize the current JSON array (e.g. [1,2,3]) into type '%s' because the type requires a %s to deserialize correctly.\nTo fix this error either change the JSON to a %[2]s or change the deserialized type to an array or a type that implements a collection interface (e.g. ICollection, IList) like List<T> that can be deserialized from a JSON array. JsonArrayAttribute can also be added to the type to force it to deserialize from a JSON array.\n", k.clrName(), expectedDescription(k))
	}
	list := existing
	if !list.IsValid() || list.IsNil() {
		list = reflect.MakeSlice(k.goType(), 0, 0)
	}
	holder := reflect.New(k.goType()).Elem()
	holder.Set(list)
	if err := d.addReference(id, holder); err != nil {
		return reflect.Value{}, err
	}
	err := d.populateList(holder, k)
	return holder, err
}

// populateList is PopulateList: items until EndArray; a failed item is logged, skipped and left out.
func (d *netDecoder) populateList(list reflect.Value, k netKind) error {
	r := d.r
	initialDepth := r.Depth()
	item := k.item()
	prevErrorIndex, hasPrev := 0, false
	finished := false
	for !finished {
		err := func() error {
			ok, err := d.readForType(item)
			if err != nil {
				return err
			}
			if !ok {
				return errBreak
			}
			switch r.Token() {
			case jsonnet.TokEndArray:
				finished = true
			case jsonnet.TokComment:
			default:
				v, err := d.createValue(item, reflect.Value{})
				if err != nil {
					return err
				}
				if !v.IsValid() {
					v = reflect.Zero(list.Type().Elem())
				}
				list.Set(reflect.Append(list, v))
			}
			return nil
		}()
		if err == errBreak {
			break
		}
		if err != nil {
			index := r.PositionIndex(initialDepth)
			d.handled(err)
			if err := d.handleError(true, initialDepth); err != nil {
				return err
			}
			if hasPrev && prevErrorIndex == index {
				return d.serializationError("Infinite loop detected from error handling.")
			}
			prevErrorIndex, hasPrev = index, true
		}
	}
	if !finished {
		d.throwUnexpectedEnd("Unexpected end when deserializing array.")
	}
	return nil
}

var errBreak = errors.New("break")

// throwUnexpectedEnd is ThrowUnexpectedEndException: the error is logged and reading goes on.
func (d *netDecoder) throwUnexpectedEnd(msg string) {
	d.handled(d.serializationError("%s", msg))
}

// handleError is HandleError: skip what failed, then read up to the container the error was caught in.
func (d *netDecoder) handleError(readPastError bool, initialDepth int) error {
	if !readPastError {
		return nil
	}
	if err := d.r.Skip(); err != nil {
		return err
	}
	for d.r.Depth() > initialDepth+1 {
		ok, err := d.read()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
	}
	return nil
}

// populateObject is PopulateObject, the reader at the first token inside the object.
func (d *netDecoder) populateObject(target reflect.Value, c *Contract, id string) (reflect.Value, error) {
	r := d.r
	var presence []uint8 // per jsonOrder member: 0 none, 1 null, 2 value; only for contracts with [Required]
	for _, m := range c.jsonOrder {
		if m.Required && !c.App.CamelCase {
			presence = make([]uint8, len(c.jsonOrder))
			break
		}
	}
	if err := d.addReference(id, target); err != nil {
		return target, err
	}
	initialDepth := r.Depth()
	finished := false
loop:
	for {
		switch r.Token() {
		case jsonnet.TokPropertyName:
			err := func() error {
				m, mi := d.closestMember(c, r)
				if m == nil {
					ok, err := d.read()
					if err != nil {
						return err
					}
					if !ok {
						return errBreak
					}
					return r.Skip() // SetExtensionData without a setter
				}
				k := kindOf(m)
				ok, err := d.readForType(k)
				if err != nil {
					return err
				}
				if !ok {
					return d.serializationError("Unexpected end when setting %s's value.", m.jsonName)
				}
				if presence != nil {
					presence[mi] = 2
					if t := r.Token(); t == jsonnet.TokNull || t == jsonnet.TokUndefined {
						presence[mi] = 1
					}
				}
				return d.setPropertyValue(target.Elem(), m, k)
			}()
			if err == errBreak {
				break
			}
			if err != nil {
				d.handled(err)
				if err := d.handleError(true, initialDepth); err != nil {
					return target, err
				}
			}
		case jsonnet.TokEndObject:
			finished = true
			break loop
		case jsonnet.TokComment:
		default:
			return target, d.serializationError("Unexpected token when deserializing object: %s.", r.Token())
		}
		ok, err := d.read()
		if err != nil {
			return target, err
		}
		if !ok {
			break
		}
	}
	if !finished {
		d.throwUnexpectedEnd("Unexpected end when deserializing object.")
	}
	// EndObject: [Required] members (Required.AllowNull) must have been present. Json.NET 6.0.8 (the
	// oracle's) logs each missing one; the live Web API pipeline logs only the first (recordings 20-22),
	// and the wire follows the pipeline.
	for i, m := range c.jsonOrder {
		if presence != nil && presence[i] == 0 && m.Required {
			d.handled(d.serializationError("Required property '%s' not found in JSON.", m.jsonName))
			if err := d.handleError(true, initialDepth); err != nil {
				return target, err
			}
			break
		}
	}
	return target, nil
}

// closestMember is JsonPropertyCollection.GetClosestMatchProperty: an exact match, then one ignoring case
// (String.Equals with OrdinalIgnoreCase). It returns the member and its index in jsonOrder.
func (d *netDecoder) closestMember(c *Contract, r *jsonnet.TextReader) (*Member, int) {
	name := r.Str()
	for i, m := range c.jsonOrder {
		if m.jsonName == name {
			return m, i
		}
	}
	for i, m := range c.jsonOrder {
		if equalFoldOrdinal(m.jsonName, name) {
			return m, i
		}
	}
	return nil, -1
}

// equalFoldOrdinal is String.Equals(a, b, StringComparison.OrdinalIgnoreCase) as Mono compares: per UTF-16
// unit, equal after ToUpperInvariant, and an ASCII character only ever equal to an ASCII one.
func equalFoldOrdinal(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		a, b = a[na:], b[nb:]
		if ra == rb {
			continue
		}
		if ra > 0xFFFF || rb > 0xFFFF || (ra < utf8.RuneSelf) != (rb < utf8.RuneSelf) || unicode.ToUpper(ra) != unicode.ToUpper(rb) {
			return false // Mono never folds a non-ASCII character onto an ASCII one ("ıd" is not "Id")
		}
	}
	return a == "" && b == ""
}

// setPropertyValue is SetPropertyValue: the value is created (an existing list or object is populated
// further, as ObjectCreationHandling.Auto does) and set; a read-only member is skipped.
func (d *netDecoder) setPropertyValue(obj reflect.Value, m *Member, k netKind) error {
	var current reflect.Value
	useExisting := false
	if t := d.r.Token(); (t == jsonnet.TokStartArray || t == jsonnet.TokStartObject) && !m.ReadOnly {
		current = obj.Field(m.index)
		switch k.kind {
		case StringList, ObjectList, Object, ExceptionKind:
			useExisting = !current.IsNil()
		}
	}
	if m.ReadOnly {
		return d.r.Skip()
	}
	var existing reflect.Value
	if useExisting {
		existing = current
	}
	v, err := d.createValue(k, existing)
	if err != nil {
		return err
	}
	f := obj.Field(m.index)
	if !v.IsValid() {
		f.SetZero()
		return nil
	}
	f.Set(v)
	return nil
}

// ensureType is EnsureType: the current scalar token converted to the kind as Convert.ChangeType,
// Enum.Parse and the other converters Json.NET uses do it.
func (d *netDecoder) ensureType(k netKind) (reflect.Value, error) {
	r := d.r
	tok := r.Token()
	fail := func() (reflect.Value, error) {
		return reflect.Value{}, d.serializationError("Error converting value %s to type '%s'.", d.printValue(), k.clrName())
	}
	isNull := tok == jsonnet.TokNull || tok == jsonnet.TokUndefined
	if isNull {
		if k.nullable() {
			return reflect.Value{}, nil
		}
		return fail()
	}
	switch k.kind {
	case String:
		if tok == jsonnet.TokString || tok == jsonnet.TokStartConstructor || tok == jsonnet.TokDate {
			s := r.Str()
			return reflect.ValueOf(&s), nil
		}
		s := r.ValueText()
		return reflect.ValueOf(&s), nil
	case Int32, NullableInt32, Int64, NullableInt64:
		bits := 64
		if k.kind == Int32 || k.kind == NullableInt32 {
			bits = 32
		}
		x, ok := d.toInteger(bits)
		if !ok {
			return fail()
		}
		switch k.kind {
		case Int32:
			return reflect.ValueOf(int32(x)), nil
		case Int64:
			return reflect.ValueOf(x), nil
		case NullableInt32:
			y := int32(x)
			return reflect.ValueOf(&y), nil
		}
		return reflect.ValueOf(&x), nil
	case Bool:
		switch {
		case tok == jsonnet.TokBoolean:
			return reflect.ValueOf(r.Bool()), nil
		case tok == jsonnet.TokInteger && r.Kind() != jsonnet.ValBig:
			return reflect.ValueOf(r.Int() != 0), nil
		case tok == jsonnet.TokFloat && r.Kind() == jsonnet.ValDouble:
			return reflect.ValueOf(r.Float() != 0), nil
		case tok == jsonnet.TokFloat && r.Kind() == jsonnet.ValDecimal:
			return reflect.ValueOf(strings.Trim(r.Str(), "-0.") != ""), nil
		case tok == jsonnet.TokString || tok == jsonnet.TokStartConstructor:
			switch strings.ToLower(strings.TrimFunc(r.Str(), func(c rune) bool { return c == 0 || isNetSpace(c) })) {
			case "true":
				return reflect.ValueOf(true), nil
			case "false":
				return reflect.ValueOf(false), nil
			}
		}
		return fail()
	case GuidKind:
		if tok == jsonnet.TokString || tok == jsonnet.TokStartConstructor {
			g, err := parseNetGuid(r.Str())
			if err == nil {
				return reflect.ValueOf(g), nil
			}
		}
		return fail()
	case EnumKind:
		var x int64
		switch {
		case tok == jsonnet.TokString || tok == jsonnet.TokStartConstructor:
			v, ok := parseNetEnum(k.enum, r.Str())
			if !ok {
				return fail()
			}
			x = v
		case tok == jsonnet.TokInteger && r.Kind() != jsonnet.ValBig:
			x = int64(int32(r.Int())) // Enum.ToObject(type, long) keeps the low 32 bits
		case tok == jsonnet.TokBoolean:
			if r.Bool() { // Convert.ChangeType(bool, enum)
				x = 1
			}
		default:
			return fail()
		}
		return reflect.ValueOf(x).Convert(k.enum.Go), nil
	}
	// A scalar where an object, a list or an exception belongs.
	return fail()
}

// toInteger converts the current scalar to Int32/Int64 as Convert.ChangeType does.
func (d *netDecoder) toInteger(bits int) (int64, bool) {
	r := d.r
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if bits == 32 {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	switch r.Token() {
	case jsonnet.TokInteger:
		if r.Kind() == jsonnet.ValBig {
			return 0, false
		}
		x := r.Int()
		return x, x >= lo && x <= hi
	case jsonnet.TokFloat:
		if r.Kind() == jsonnet.ValDecimal {
			return jsonnet.DecimalToInt(r.Str(), bits)
		}
		f := r.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		f = math.RoundToEven(f)
		if f < float64(lo) || f >= -float64(lo) {
			return 0, false
		}
		return int64(f), true
	case jsonnet.TokBoolean:
		if r.Bool() {
			return 1, true
		}
		return 0, true
	case jsonnet.TokString, jsonnet.TokStartConstructor:
		return jsonnet.ParseNetInt(r.Str(), bits)
	}
	return 0, false
}

// printValue is MiscellaneousUtils.FormatValueForPrint of the current value.
func (d *netDecoder) printValue() string {
	r := d.r
	switch r.Token() {
	case jsonnet.TokNull, jsonnet.TokUndefined:
		return "{null}"
	case jsonnet.TokString, jsonnet.TokStartConstructor:
		return `"` + r.Str() + `"`
	case jsonnet.TokDate:
		return r.Str()
	}
	return r.ValueText()
}

func isNetSpace(c rune) bool {
	return c == ' ' || c >= '\t' && c <= '\r' || c == 0x85 || c == 0xA0 || c > 0xFF && c <= 0xFFFF && unicode.IsSpace(c)
}

// parseNetGuid is new Guid(string): the "D", "N", "B" and "P" forms (and "X"), white space around.
func parseNetGuid(s string) (Guid, error) {
	t := strings.TrimFunc(s, isNetSpace)
	if strings.HasPrefix(t, "{0x") || strings.HasPrefix(t, "{0X") {
		return parseGuidX(t)
	}
	return ParseGuid(t)
}

// parseGuidX reads {0xdddddddd,0xdddd,0xdddd,{0xdd,0xdd,0xdd,0xdd,0xdd,0xdd,0xdd,0xdd}}.
func parseGuidX(s string) (Guid, error) {
	var g Guid
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}}") {
		return g, errGuidFormat
	}
	parts := strings.Split(strings.NewReplacer("{", "", "}", "").Replace(s), ",")
	if len(parts) != 11 {
		return g, errGuidFormat
	}
	widths := []int{8, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2}
	var hex strings.Builder
	for i, p := range parts {
		if !strings.HasPrefix(p, "0x") && !strings.HasPrefix(p, "0X") {
			return g, errGuidFormat
		}
		p = p[2:]
		if p == "" || len(p) > widths[i] {
			return g, errGuidFormat
		}
		hex.WriteString(strings.Repeat("0", widths[i]-len(p)) + p)
	}
	return ParseGuid(hex.String())
}

// parseNetEnum is Enum.Parse(type, s, ignoreCase: true): a number (kept even when no member has it) or
// member names separated by commas, OR-ed together.
func parseNetEnum(e *Enum, s string) (int64, bool) {
	t := strings.TrimFunc(s, isNetSpace)
	if t == "" {
		return 0, false
	}
	if c := t[0]; c >= '0' && c <= '9' || c == '-' || c == '+' {
		x, ok := jsonnet.ParseNetInt(t, 32)
		return x, ok
	}
	var v int64
	for _, part := range strings.Split(t, ",") {
		x, ok := e.Parse(strings.TrimFunc(part, isNetSpace), true)
		if !ok {
			return 0, false
		}
		v |= x
	}
	return v, true
}

// createISerializable is CreateISerializable for System.Exception: every entry is read as a JToken and the
// exception's deserialization constructor takes the entries it knows.
func (d *netDecoder) createISerializable(id string) (reflect.Value, error) {
	r := d.r
	type entry struct {
		name, text string
		isNull     bool
	}
	var entries []entry
	seen := map[string]bool{}
	finished := false
	for {
		switch r.Token() {
		case jsonnet.TokPropertyName:
			name := r.Str()
			ok, err := d.read()
			if err != nil {
				return reflect.Value{}, err
			}
			if !ok {
				return reflect.Value{}, d.serializationError("Unexpected end when setting %s's value.", name)
			}
			text, isNull, err := d.readJTokenText()
			if err != nil {
				return reflect.Value{}, err
			}
			if seen[name] {
				return reflect.Value{}, &netError{typ: "System.Runtime.Serialization.SerializationException", msg: "Cannot add the same member twice to a SerializationInfo object."}
			}
			seen[name] = true
			entries = append(entries, entry{name, text, isNull})
		case jsonnet.TokComment:
		case jsonnet.TokEndObject:
			finished = true
		default:
			return reflect.Value{}, d.serializationError("Unexpected token when deserializing object: %s.", r.Token())
		}
		if finished {
			break
		}
		ok, err := d.read()
		if err != nil {
			return reflect.Value{}, err
		}
		if !ok {
			break
		}
	}
	if !finished {
		d.throwUnexpectedEnd("Unexpected end when deserializing object.")
	}
	// The deserialization constructor runs once the object is read.
	e := &Exception{HResult: DefaultHResult}
	for _, en := range entries {
		if err := setExceptionEntry(e, en.name, en.text, en.isNull); err != nil {
			return reflect.Value{}, err
		}
	}
	v := reflect.ValueOf(e)
	return v, d.addReference(id, v)
}

// setExceptionEntry is what the exception's deserialization constructor does with one entry: strings as
// Convert.ToString gives them, numbers parsed from that text.
func setExceptionEntry(e *Exception, name, text string, isNull bool) error {
	if p := e.str(name); p != nil {
		if isNull {
			*p = nil
		} else {
			s := text
			*p = &s
		}
		return nil
	}
	if p := e.int(name); p != nil {
		if isNull {
			*p = 0
			return nil
		}
		x, ok := jsonnet.ParseNetInt(text, 32)
		if !ok {
			t := strings.TrimFunc(text, isNetSpace)
			if _, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, 64); err == nil || allDigitsSigned(t) {
				return &netError{typ: "System.OverflowException", msg: "Value was either too large or too small for an Int32."}
			}
			return &netError{typ: "System.FormatException", msg: "Input string was not in a correct format."}
		}
		*p = int32(x)
	}
	return nil
}

func allDigitsSigned(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// readJTokenText is JToken.ReadFrom at the current token followed by the constructor's Str(): the text of a
// scalar as Convert.ToString(value, InvariantCulture) writes it, null for null and undefined. A container is
// read through (with the reader's errors) and given as Json.NET's indented JSON of it.
func (d *netDecoder) readJTokenText() (string, bool, error) {
	r := d.r
	switch t := r.Token(); t {
	case jsonnet.TokNull, jsonnet.TokUndefined:
		return "", true, nil
	case jsonnet.TokString, jsonnet.TokComment:
		return r.Str(), false, nil
	case jsonnet.TokDate:
		return netDateText(r.Str()), false, nil
	case jsonnet.TokInteger, jsonnet.TokFloat, jsonnet.TokBoolean:
		return r.ValueText(), false, nil
	case jsonnet.TokStartObject, jsonnet.TokStartArray, jsonnet.TokStartConstructor:
		start := r.Depth()
		var tokens []jtoken
		tokens = append(tokens, d.jtokenOf())
		for {
			ok, err := d.read()
			if err != nil {
				return "", false, err
			}
			if !ok {
				return "", false, d.readerError("Unexpected end of content while loading %s.", jtokenContainer(t))
			}
			tokens = append(tokens, d.jtokenOf())
			if r.Depth() <= start {
				break
			}
		}
		text, err := indentJTokens(tokens)
		if err != nil {
			return "", false, d.readerError("%s", err.Error())
		}
		return text, false, nil
	}
	return "", false, d.readerError("Error reading JToken from JsonReader. Unexpected token: %s", r.Token())
}

func jtokenContainer(t jsonnet.NetToken) string {
	switch t {
	case jsonnet.TokStartArray:
		return "JArray"
	case jsonnet.TokStartConstructor:
		return "JConstructor"
	}
	return "JObject"
}

func (d *netDecoder) readerError(format string, args ...any) error {
	return &netError{typ: "Newtonsoft.Json.JsonReaderException", msg: jsonnet.FormatMessage(fmt.Sprintf(format, args...), d.r.Path(), d.r.Line(), d.linePos())}
}

func readerLinePosition(r *jsonnet.TextReader) int { return r.LinePosition() }

// readApiDateTime is ASC.Api's ApiDateTimeConverter.ReadJson.
func (d *netDecoder) readApiDateTime() (reflect.Value, error) {
	switch d.r.Token() {
	case jsonnet.TokNull:
		return reflect.Value{}, nil
	case jsonnet.TokString:
		t, err := ParseApiDateTime(d.r.Str())
		if err != nil {
			return reflect.Value{}, &netError{typ: "System.FormatException", msg: err.Error()}
		}
		return reflect.ValueOf(t), nil
	}
	return reflect.Value{}, d.serializationError("expires must be a string or null")
}

// populateDictionary is PopulateDictionary of a non-generic IDictionary (object keys and values): each
// value as Convert.ToString gives it, a key given twice keeps its place and takes the last value.
func (d *netDecoder) populateDictionary(id string) (reflect.Value, error) {
	r := d.r
	dict := Dict{}
	initialDepth := r.Depth()
	finished := false
	for !finished {
		switch r.Token() {
		case jsonnet.TokPropertyName:
			key := r.Str()
			err := func() error {
				ok, err := d.readForType(netKind{kind: Object})
				if err != nil {
					return err
				}
				if !ok {
					return d.serializationError("Unexpected end when deserializing object.")
				}
				text, isNull, err := d.readJTokenText()
				if err != nil {
					return err
				}
				var p *string
				if !isNull {
					p = &text
				}
				for i := range dict {
					if dict[i].Key == key {
						dict[i].Value = p
						return nil
					}
				}
				dict = append(dict, DictEntry{Key: key, Value: p})
				return nil
			}()
			if err != nil {
				d.handled(err)
				if err := d.handleError(true, initialDepth); err != nil {
					return reflect.Value{}, err
				}
			}
		case jsonnet.TokComment:
		case jsonnet.TokEndObject:
			finished = true
			continue
		default:
			return reflect.Value{}, d.serializationError("Unexpected token when deserializing object: %s.", r.Token())
		}
		ok, err := d.read()
		if err != nil {
			return reflect.Value{}, err
		}
		if !ok {
			break
		}
	}
	if !finished {
		d.throwUnexpectedEnd("Unexpected end when deserializing object.")
	}
	v := reflect.ValueOf(&dict)
	return v, d.addReference(id, v)
}
