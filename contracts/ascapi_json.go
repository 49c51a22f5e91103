package contracts

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"aspgate/contracts/jsonnet"
)

// ASC.Api reads a JSON body with JsonConvert.DeserializeXNode(body, "request", false) of Json.NET 13.0.1 and
// binds the root's child elements. This file follows XmlNodeConverter's reading path (DeserializeNode,
// ReadElement, ReadAttributeElements, CreateElement) over the Json.NET 13 token reader, building only what
// the binding looks at: elements with their namespace, local name and text.

// jsonNamespace is XmlNodeConverter's namespace for $id, $ref, $type, $value and $values.
const jsonNamespace = "http://james.newtonking.com/projects/json"

const (
	xmlNamespace   = "http://www.w3.org/XML/1998/namespace"
	xmlnsNamespace = "http://www.w3.org/2000/xmlns/"
)

// xelem is an XElement as far as the binding sees it.
type xelem struct {
	ns, local string
	elems     []*xelem
	text      []byte // the element's own text nodes (text, CDATA, white space), in order
	attrs     []string
}

// readASCJSON binds a JSON body: nothing for an empty one or null, ASC.Api's 400 for one Json.NET refuses.
func readASCJSON(params *ASCParams, body []byte) *ASCError {
	// new StreamReader(stream): UTF-8, or what a byte order mark says.
	c := &xconv{r: jsonnet.NewTextReader13(decodeBytes(body)), ns: newNSManager()}
	root, err := c.document()
	if err != nil {
		return err
	}
	if root != nil {
		fillCollection(params, root.elems, "")
	}
	return nil
}

type xconv struct {
	r  *jsonnet.TextReader
	ns *nsManager
	// cur is the current token: a Read that finds the end of the text inside an object leaves Json.NET's
	// TokenType as it was.
	cur jsonnet.NetToken
}

// document is JsonConvert.DeserializeObject(body, typeof(XDocument), converter) with CheckAdditionalContent.
func (c *xconv) document() (*xelem, *ASCError) {
	ok, err := c.read()
	if err != nil || !ok {
		return nil, err // no content: a null document
	}
	var root *xelem
	switch c.tok() {
	case jsonnet.TokNull:
	case jsonnet.TokStartObject:
		doc := &xelem{}
		if err := c.readElement(doc, "request"); err != nil {
			return nil, err
		}
		if len(doc.elems) > 0 {
			root = doc.elems[0]
		}
	default:
		return nil, c.fail("XmlNodeConverter can only convert JSON that begins with an object.")
	}
	for {
		ok, err := c.read()
		if err != nil {
			return nil, err
		}
		if !ok {
			return root, nil
		}
		if c.tok() != jsonnet.TokComment {
			return nil, c.fail("Additional text found in JSON string after finished deserializing object.")
		}
	}
}

// read is JsonReader.Read; a reader exception becomes ASC.Api's answer for the innermost exception.
func (c *xconv) read() (bool, *ASCError) {
	ok, err := c.r.Read()
	if err != nil {
		return false, readerFailure(err)
	}
	if ok {
		c.cur = c.r.Token()
	}
	return ok, nil
}

func readerFailure(err error) *ASCError {
	var re *jsonnet.ReaderError
	if !errors.As(err, &re) {
		return jsonError(err.Error(), HResultException)
	}
	for re.Inner != nil {
		re = re.Inner
	}
	switch re.Type {
	case "System.FormatException":
		return jsonError(re.Msg, HResultFormat)
	case "System.OverflowException":
		return jsonError(re.Msg, -2146233066)
	}
	return jsonError(re.Msg, HResultException)
}

// readAndAssert is JsonReader.ReadAndAssert.
func (c *xconv) readAndAssert() *ASCError {
	ok, err := c.read()
	if err != nil {
		return err
	}
	if !ok {
		return c.fail("Unexpected end when reading JSON.")
	}
	return nil
}

// fail is JsonSerializationException.Create(reader, msg): the message with the reader's path and position.
func (c *xconv) fail(msg string) *ASCError {
	return jsonError(jsonnet.FormatMessage(msg, c.r.Path(), c.r.Line(), c.r.LinePosition()), HResultException)
}

func (c *xconv) tok() jsonnet.NetToken { return c.cur }

// deserializeNode reads the properties of an object (the reader on the first one) into parent.
func (c *xconv) deserializeNode(parent *xelem) *ASCError {
	for {
		switch c.tok() {
		case jsonnet.TokPropertyName:
			name := c.r.Str()
			if err := c.readAndAssert(); err != nil {
				return err
			}
			if c.tok() == jsonnet.TokStartArray {
				for {
					ok, err := c.read()
					if err != nil {
						return err
					}
					if !ok || c.tok() == jsonnet.TokEndArray {
						break
					}
					if err := c.deserializeValue(parent, name); err != nil {
						return err
					}
				}
			} else if err := c.deserializeValue(parent, name); err != nil {
				return err
			}
		case jsonnet.TokStartConstructor:
			name := c.r.Str()
			for {
				ok, err := c.read()
				if err != nil {
					return err
				}
				if !ok || c.tok() == jsonnet.TokEndConstructor {
					break
				}
				if err := c.deserializeValue(parent, name); err != nil {
					return err
				}
			}
		case jsonnet.TokComment:
			// a comment node: no text, no element
		case jsonnet.TokEndObject, jsonnet.TokEndArray:
			return nil
		default:
			return c.fail("Unexpected JsonToken when deserializing node: " + c.tok().String())
		}
		ok, err := c.read()
		if err != nil {
			return err
		}
		if !ok {
			return nil // the text ends inside the object: what was read so far stands
		}
	}
}

// deserializeValue reads one value of a property into parent.
func (c *xconv) deserializeValue(parent *xelem, name string) *ASCError {
	switch name {
	case "#text", "#cdata-section", "#whitespace", "#significant-whitespace":
		v, isNull, err := c.xmlValue()
		if err != nil {
			return err
		}
		if isNull {
			return argumentNull("value")
		}
		parent.text = append(parent.text, v...)
		return nil
	}
	if strings.HasPrefix(name, "?") {
		return c.instruction(name)
	}
	if strings.EqualFold(name, "!DOCTYPE") {
		return c.documentType()
	}
	if c.tok() == jsonnet.TokStartArray {
		// an array in an array: one element holding an element per item
		el, err := c.newElement(name, prefixOf(name))
		if err != nil {
			return err
		}
		parent.elems = append(parent.elems, el)
		for {
			ok, err := c.read()
			if err != nil {
				return err
			}
			if !ok || c.tok() == jsonnet.TokEndArray {
				return nil
			}
			if err := c.deserializeValue(el, name); err != nil {
				return err
			}
		}
	}
	return c.readElement(parent, name)
}

// shouldReadInto reports whether the value token may start attributes (anything but a primitive).
func (c *xconv) shouldReadInto() bool {
	switch c.tok() {
	case jsonnet.TokString, jsonnet.TokNull, jsonnet.TokBoolean, jsonnet.TokInteger, jsonnet.TokFloat,
		jsonnet.TokDate, jsonnet.TokBytes, jsonnet.TokStartConstructor:
		return false
	}
	return true
}

type xattr struct {
	name, value string
	null        bool
}

// readElement is XmlNodeConverter.ReadElement: the leading @ and $ properties of an object become
// attributes, an @ or $ property itself an attribute of parent, anything else an element.
func (c *xconv) readElement(parent *xelem, name string) *ASCError {
	if name == "" {
		return c.fail("XmlNodeConverter cannot convert JSON with an empty property name to XML.")
	}
	var attrs []xattr
	if c.shouldReadInto() {
		var err *ASCError
		if attrs, err = c.readAttributes(); err != nil {
			return err
		}
	}
	prefix := prefixOf(name)
	if strings.HasPrefix(name, "@") {
		return c.addAttribute(parent, name[1:], prefixOf(name[1:]))
	}
	if strings.HasPrefix(name, "$") {
		switch name {
		case "$values":
			p, _ := c.ns.lookupPrefix(jsonNamespace)
			return c.createElement(parent, "values", p, attrs)
		case "$id", "$ref", "$type", "$value":
			p, _ := c.ns.lookupPrefix(jsonNamespace)
			return c.addAttribute(parent, name[1:], p)
		}
	}
	return c.createElement(parent, name, prefix, attrs)
}

// readAttributes is ReadAttributeElements: it reads properties while they are attributes, leaving the
// reader on the first one that is not (or on the end of the object).
func (c *xconv) readAttributes() ([]xattr, *ASCError) {
	var attrs []xattr
	add := func(name, value string, null bool) *ASCError {
		for _, a := range attrs {
			if a.name == name {
				return &ASCError{Status: 400, Reason: "Invalid arguments", HResult: HResultArgument,
					Message: "An item with the same key has already been added. Key: " + name}
			}
		}
		attrs = append(attrs, xattr{name, value, null})
		return nil
	}
	for {
		ok, err := c.read()
		if err != nil {
			return nil, err
		}
		if !ok {
			return attrs, nil
		}
		switch c.tok() {
		case jsonnet.TokEndObject, jsonnet.TokComment:
			return attrs, nil
		case jsonnet.TokPropertyName:
		default:
			return nil, c.fail("Unexpected JsonToken: " + c.tok().String())
		}
		name := c.r.Str()
		switch {
		case strings.HasPrefix(name, "@"):
			name = name[1:]
			if err := c.readAndAssert(); err != nil {
				return nil, err
			}
			v, isNull, err := c.xmlValue()
			if err != nil {
				return nil, err
			}
			if err := add(name, v, isNull); err != nil {
				return nil, err
			}
			if p, ok := namespaceAttribute(name); ok {
				if isNull {
					return nil, argumentNull("uri")
				}
				if err := c.ns.add(p, v); err != nil {
					return nil, err
				}
			}
		case name == "$values" || name == "$id" || name == "$ref" || name == "$type" || name == "$value":
			p, ok := c.ns.lookupPrefix(jsonNamespace)
			if !ok {
				i := ""
				for n := 0; ; n++ {
					if _, taken := c.ns.lookup("json" + i); !taken {
						break
					}
					i = strconv.Itoa(n + 1)
				}
				p = "json" + i
				if err := add("xmlns:"+p, jsonNamespace, false); err != nil {
					return nil, err
				}
				if err := c.ns.add(p, jsonNamespace); err != nil {
					return nil, err
				}
			}
			if name == "$values" {
				return attrs, nil
			}
			if err := c.readAndAssert(); err != nil {
				return nil, err
			}
			switch c.tok() {
			case jsonnet.TokInteger, jsonnet.TokFloat, jsonnet.TokString, jsonnet.TokBoolean, jsonnet.TokUndefined,
				jsonnet.TokNull, jsonnet.TokDate, jsonnet.TokBytes:
			default:
				return nil, c.fail("Unexpected JsonToken: " + c.tok().String())
			}
			if err := add(p+":"+name[1:], c.r.ValueText(), false); err != nil {
				return nil, err
			}
		default:
			return attrs, nil
		}
	}
}

// namespaceAttribute reports whether an attribute name declares a namespace, and its prefix.
func namespaceAttribute(name string) (string, bool) {
	switch {
	case name == "xmlns":
		return "", true
	case strings.HasPrefix(name, "xmlns:"):
		return name[6:], true
	}
	return "", false
}

// createElement adds the element named name to parent, with its attributes, and reads its content.
func (c *xconv) createElement(parent *xelem, name, prefix string, attrs []xattr) *ASCError {
	el, err := c.newElement(name, prefix)
	if err != nil {
		return err
	}
	parent.elems = append(parent.elems, el)
	for _, a := range attrs {
		if err := c.setAttribute(el, EncodeXMLName(a.name), prefixOf(a.name), a.null); err != nil {
			return err
		}
	}
	switch c.tok() {
	case jsonnet.TokString, jsonnet.TokInteger, jsonnet.TokFloat, jsonnet.TokBoolean, jsonnet.TokDate, jsonnet.TokBytes:
		v, _, err := c.xmlValue()
		if err != nil {
			return err
		}
		el.text = append(el.text, v...)
	case jsonnet.TokNull:
	case jsonnet.TokEndObject:
		c.ns.removeDefault()
	default:
		c.ns.push()
		err := c.deserializeNode(el)
		c.ns.pop()
		if err != nil {
			return err
		}
		c.ns.removeDefault()
	}
	return nil
}

// newElement is XmlNodeConverter.CreateElement: the name XmlConvert.EncodeName'd, in the namespace of its
// prefix (or the default one), checked as XName checks it.
func (c *xconv) newElement(name, prefix string) (*xelem, *ASCError) {
	encoded := EncodeXMLName(name)
	var ns string
	if prefix == "" {
		ns = c.ns.defaultNS()
	} else {
		ns, _ = c.ns.lookup(prefix)
	}
	local := encoded
	if ns != "" {
		local = localOf(encoded)
	}
	if err := verifyNCName(local); err != nil {
		return nil, err
	}
	return &xelem{ns: ns, local: local}, nil
}

// addAttribute is XmlNodeConverter.AddAttribute: the current value as an attribute of parent.
func (c *xconv) addAttribute(parent *xelem, name, prefix string) *ASCError {
	_, isNull, err := c.xmlValue()
	if err != nil {
		return err
	}
	return c.setAttribute(parent, EncodeXMLName(name), prefix, isNull)
}

// setAttribute adds an attribute as XAttribute and XElement.Add check it: a valid name and a value, no
// duplicate.
func (c *xconv) setAttribute(el *xelem, encoded, prefix string, null bool) *ASCError {
	if encoded == "" {
		return &ASCError{Status: 400, Reason: "Invalid arguments", Message: "'' is an invalid expanded name.", HResult: HResultArgument}
	}
	key := encoded
	if prefix != "" {
		ns, _ := c.ns.lookup(prefix)
		local := localOf(encoded)
		if err := verifyNCName(local); err != nil {
			return err
		}
		key = "{" + ns + "}" + local
	} else if err := verifyNCName(encoded); err != nil {
		return err
	}
	if null {
		return argumentNull("value")
	}
	for _, a := range el.attrs {
		if a == key {
			return &ASCError{Status: 400, Reason: "Invalid arguments", Message: "Duplicate attribute.", HResult: -2146233079}
		}
	}
	el.attrs = append(el.attrs, key)
	return nil
}

// instruction is CreateInstruction: "?xml" reads a declaration (which an element ignores), any other "?"
// name a processing instruction. Neither adds text.
func (c *xconv) instruction(name string) *ASCError {
	if name == "?xml" {
		for {
			ok, err := c.read()
			if err != nil {
				return err
			}
			if !ok || c.tok() == jsonnet.TokEndObject {
				return nil
			}
			switch c.r.ValueText() {
			case "@version", "@encoding", "@standalone":
				if err := c.readAndAssert(); err != nil {
					return err
				}
				if _, _, err := c.xmlValue(); err != nil {
					return err
				}
			default:
				return c.fail("Unexpected property name encountered while deserializing XmlDeclaration: " + c.r.ValueText())
			}
		}
	}
	v, isNull, err := c.xmlValue()
	if err != nil {
		return err
	}
	target := name[1:]
	if err := verifyNCName(target); err != nil {
		return err
	}
	if strings.EqualFold(target, "xml") {
		return &ASCError{Status: 400, Reason: "Invalid arguments", HResult: HResultArgument,
			Message: fmt.Sprintf("'%s' is an invalid name for processing instructions.", target)}
	}
	if isNull {
		return argumentNull("data")
	}
	_ = v
	return nil
}

// documentType is CreateDocumentType: its properties are read, then XElement refuses the node.
func (c *xconv) documentType() *ASCError {
	var name string
	hasName := false
	for {
		ok, err := c.read()
		if err != nil {
			return err
		}
		if !ok || c.tok() == jsonnet.TokEndObject {
			break
		}
		switch p := c.r.ValueText(); p {
		case "@name", "@public", "@system", "@internalSubset":
			if err := c.readAndAssert(); err != nil {
				return err
			}
			v, isNull, err := c.xmlValue()
			if err != nil {
				return err
			}
			if p == "@name" {
				name, hasName = v, !isNull
			}
		default:
			return c.fail("Unexpected property name encountered while deserializing XmlDeclaration: " + p)
		}
	}
	if !hasName {
		return argumentNull("name")
	}
	if err := verifyName(name); err != nil {
		return err
	}
	return &ASCError{Status: 400, Reason: "Invalid arguments", HResult: HResultArgument,
		Message: "A node of type DocumentType cannot be added to content."}
}

// xmlValue is ConvertTokenToXmlValue: a primitive as XmlConvert writes it; isNull for null.
func (c *xconv) xmlValue() (v string, isNull bool, err *ASCError) {
	r := c.r
	switch c.tok() {
	case jsonnet.TokString:
		return r.Str(), false, nil
	case jsonnet.TokInteger:
		if r.Kind() == jsonnet.ValBig {
			n, ok := new(big.Int).SetString(r.ValueText(), 10)
			if ok {
				return n.String(), false, nil
			}
			return r.ValueText(), false, nil
		}
		return strconv.FormatInt(r.Int(), 10), false, nil
	case jsonnet.TokFloat:
		f := r.Float()
		if f == 0 && math.Signbit(f) {
			f = 0 // Mono's XmlConvert writes negative zero as "0"
		}
		return xmlDouble(f), false, nil
	case jsonnet.TokBoolean:
		return strconv.FormatBool(r.Bool()), false, nil
	case jsonnet.TokDate:
		return netDateJSON(r.Str()), false, nil
	case jsonnet.TokNull:
		return "", true, nil
	}
	return "", false, c.fail(fmt.Sprintf("Cannot get an XML string value from token type '%s'.", c.tok()))
}

// argumentNull is an ArgumentNullException from LINQ to XML, as Mono words it.
func argumentNull(param string) *ASCError {
	return &ASCError{Status: 400, Reason: "Invalid arguments", HResult: HResultArgumentNull,
		Message: "Value cannot be null.\nParameter name: " + param}
}

// prefixOf and localOf are MiscellaneousUtils.GetQualifiedNameParts: a colon neither first nor last splits.
func prefixOf(name string) string {
	i := strings.IndexByte(name, ':')
	if i <= 0 || i == len(name)-1 {
		return ""
	}
	return name[:i]
}

func localOf(name string) string {
	i := strings.IndexByte(name, ':')
	if i <= 0 || i == len(name)-1 {
		return name
	}
	return name[i+1:]
}

// fillCollection is ApiArgumentBuilder.FillCollectionFromXElement: elements grouped by name in the order
// each name first appears; a single leaf adds its value under its local name, several leaves each add
// theirs, an element with children adds its descendants under bracketed names.
func fillCollection(params *ASCParams, elems []*xelem, prefix string) {
	type group struct {
		ns, local string
		items     []*xelem
	}
	var groups []*group
	for _, e := range elems {
		var g *group
		for _, cand := range groups {
			if cand.ns == e.ns && cand.local == e.local {
				g = cand
				break
			}
		}
		if g == nil {
			g = &group{ns: e.ns, local: e.local}
			groups = append(groups, g)
		}
		g.items = append(g.items, e)
	}
	for _, g := range groups {
		switch {
		case len(g.items) == 1:
			e := g.items[0]
			if len(e.elems) == 0 {
				addElement(params, prefix, e)
			} else {
				fillCollection(params, e.elems, prefix+"."+e.local)
			}
		case allLeaves(g.items):
			for _, e := range g.items {
				addElement(params, prefix, e)
			}
		default:
			// The group's XName as a string: "{ns}local", or the local name alone.
			key := g.local
			if g.ns != "" {
				key = "{" + g.ns + "}" + g.local
			}
			for i, e := range g.items {
				fillCollection(params, e.elems, prefix+"."+key+"["+strconv.Itoa(i)+"]")
			}
		}
	}
}

func allLeaves(items []*xelem) bool {
	for _, e := range items {
		if len(e.elems) > 0 {
			return false
		}
	}
	return true
}

// addElement adds a leaf: its local name at the top, else "first[second][third][local]" from the prefix.
func addElement(params *ASCParams, prefix string, e *xelem) {
	if prefix == "" {
		params.Add(e.local, string(e.text))
		return
	}
	parts := strings.Split(strings.TrimLeft(prefix, "."), ".")
	var b strings.Builder
	b.WriteString(parts[0])
	for _, p := range parts[1:] {
		if at := strings.IndexByte(p, '['); at >= 0 {
			b.WriteString("[" + p[:at] + "]" + p[at:])
		} else {
			b.WriteString("[" + p + "]")
		}
	}
	b.WriteString("[" + e.local + "]")
	params.Add(b.String(), string(e.text))
}

// nsManager is the XmlNamespaceManager XmlNodeConverter keeps while it reads.
type nsManager struct {
	scopes [][]nsBinding
}

type nsBinding struct{ prefix, uri string }

func newNSManager() *nsManager { return &nsManager{scopes: [][]nsBinding{nil}} }

func (m *nsManager) push() { m.scopes = append(m.scopes, nil) }

func (m *nsManager) pop() {
	if len(m.scopes) > 1 {
		m.scopes = m.scopes[:len(m.scopes)-1]
	}
}

// add is AddNamespace in the current scope, with its checks of the reserved prefixes.
func (m *nsManager) add(prefix, uri string) *ASCError {
	switch {
	case prefix == "xml" && uri != xmlNamespace:
		return &ASCError{Status: 400, Reason: "Invalid arguments", HResult: HResultArgument,
			Message: `Prefix "xml" is reserved for use by XML and can be mapped only to namespace name "http://www.w3.org/XML/1998/namespace".`}
	case prefix == "xmlns":
		return &ASCError{Status: 400, Reason: "Invalid arguments", HResult: HResultArgument,
			Message: `Prefix "xmlns" is reserved for use by XML.`}
	}
	top := len(m.scopes) - 1
	for i, b := range m.scopes[top] {
		if b.prefix == prefix {
			m.scopes[top][i].uri = uri
			return nil
		}
	}
	m.scopes[top] = append(m.scopes[top], nsBinding{prefix, uri})
	return nil
}

func (m *nsManager) lookup(prefix string) (string, bool) {
	for i := len(m.scopes) - 1; i >= 0; i-- {
		s := m.scopes[i]
		for j := len(s) - 1; j >= 0; j-- {
			if s[j].prefix == prefix {
				return s[j].uri, true
			}
		}
	}
	switch prefix {
	case "xml":
		return xmlNamespace, true
	case "xmlns":
		return xmlnsNamespace, true
	case "":
		return "", true
	}
	return "", false
}

func (m *nsManager) defaultNS() string {
	ns, _ := m.lookup("")
	return ns
}

// lookupPrefix is LookupPrefix: the innermost prefix bound to uri that no later binding hides.
func (m *nsManager) lookupPrefix(uri string) (string, bool) {
	for i := len(m.scopes) - 1; i >= 0; i-- {
		s := m.scopes[i]
		for j := len(s) - 1; j >= 0; j-- {
			if s[j].uri == uri {
				if got, _ := m.lookup(s[j].prefix); got == uri {
					return s[j].prefix, true
				}
			}
		}
	}
	return "", false
}

// removeDefault is RemoveNamespace("", DefaultNamespace): the current scope forgets its default namespace.
func (m *nsManager) removeDefault() {
	def := m.defaultNS()
	top := len(m.scopes) - 1
	s := m.scopes[top]
	for i, b := range s {
		if b.prefix == "" && b.uri == def {
			m.scopes[top] = append(s[:i:i], s[i+1:]...)
			return
		}
	}
}

// EncodeXMLName is XmlConvert.EncodeName: every character that may not stand where it is in an XML name
// (by the XML 1.0 fourth edition's classes; a colon is allowed) becomes _xHHHH_ (_xHHHHHHHH_ for a
// character outside the BMP), and so does the '_' of a text that already reads as such an escape.
func EncodeXMLName(name string) string {
	if name == "" {
		return name
	}
	units := utf16.Encode([]rune(name))
	// The escapes already in the text: '_' followed by [Xx] and 4 or 8 hex digits and '_'.
	escapeAt := map[int]bool{}
	for i := range units {
		if units[i] != '_' || i+1 >= len(units) || (units[i+1] != 'x' && units[i+1] != 'X') {
			continue
		}
		for _, n := range []int{8, 4} {
			end := i + 2 + n
			if end < len(units) && units[end] == '_' && allHexUnits(units[i+2:end]) {
				escapeAt[i] = true
				break
			}
		}
	}
	var b strings.Builder
	changed := false
	for i := 0; i < len(units); i++ {
		u := units[i]
		ok := false
		if i == 0 {
			ok = u == ':' || isNameStart4e(rune(u))
		} else {
			ok = u == ':' || isNameChar4e(rune(u))
		}
		if ok && !escapeAt[i] {
			if utf16.IsSurrogate(rune(u)) {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteRune(rune(u))
			}
			continue
		}
		changed = true
		if utf16.IsSurrogate(rune(u)) && u < 0xDC00 && i+1 < len(units) && units[i+1] >= 0xDC00 && units[i+1] <= 0xDFFF {
			fmt.Fprintf(&b, "_x%08X_", utf16.DecodeRune(rune(u), rune(units[i+1])))
			i++
			continue
		}
		fmt.Fprintf(&b, "_x%04X_", u)
	}
	if !changed {
		return name
	}
	return b.String()
}

func allHexUnits(us []uint16) bool {
	for _, u := range us {
		if u > 0x7F || !isHex(byte(u)) {
			return false
		}
	}
	return true
}

// isNameStart4e and isNameChar4e approximate the XML 1.0 fourth edition's Appendix B classes with the
// Unicode categories it names (Ll, Lu, Lo, Lt, Nl start a name; Mc, Me, Mn, Lm, Nd may follow). The exact
// tables matter only for the names of elements no parameter has.
func isNameStart4e(c rune) bool {
	if c < 0x80 {
		return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
	}
	if c >= 0xF900 && c <= 0xFFFE || utf16.IsSurrogate(c) {
		return false
	}
	return unicode.In(c, unicode.Ll, unicode.Lu, unicode.Lo, unicode.Lt, unicode.Nl)
}

func isNameChar4e(c rune) bool {
	if c < 0x80 {
		return isNameStart4e(c) || c == '-' || c == '.' || c >= '0' && c <= '9'
	}
	if c == 0xB7 {
		return true
	}
	if c >= 0xF900 && c <= 0xFFFE || utf16.IsSurrogate(c) {
		return false
	}
	return isNameStart4e(c) || unicode.In(c, unicode.Mc, unicode.Me, unicode.Mn, unicode.Lm, unicode.Nd)
}

// verifyNCName is XmlConvert.VerifyNCName as XName calls it: a name without a colon.
func verifyNCName(name string) *ASCError {
	if name == "" {
		return &ASCError{Status: 400, Reason: "Invalid arguments", HResult: HResultArgumentNull,
			Message: "The empty string '' is not a valid local name.\nParameter name: name"}
	}
	for i, c := range name {
		if c != ':' && (i == 0 && isNameStart(c) || i > 0 && isNameChar(c)) {
			continue
		}
		msg := fmt.Sprintf("The '%c' character, hexadecimal value 0x%02X, cannot be included in a name.", c, c)
		if i == 0 {
			msg = fmt.Sprintf("Name cannot begin with the '%c' character, hexadecimal value 0x%02X.", c, c)
		}
		return &ASCError{Status: 400, Reason: "Invalid arguments", Message: msg, HResult: HResultXML}
	}
	return nil
}

// verifyName is XmlConvert.VerifyName (a colon allowed).
func verifyName(name string) *ASCError {
	return verifyNCName(strings.ReplaceAll(name, ":", "_"))
}
