// Package openapi writes the OpenAPI 3.1 document of the legacy faces from the contract tables (routes,
// members, enums, samples): the same tables the wire codecs and the Help pages are driven by, so the
// document cannot drift from what aspgate answers. It describes what no generic OpenAPI tool gets right
// about these services: DataContract XML with a namespace per member (a base class's members in their
// own namespace), the serializer's element order and prefixes, i:nil, the Arrays namespace; Json.NET's
// names and order; Web API's negotiation and HttpError bodies; and ASC.Api's envelope and suffixes.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"aspgate/contracts"
	"aspgate/helppage"
)

// Media types a Web API action reads and answers (XmlMediaTypeFormatter, JsonMediaTypeFormatter, and the
// form binder for requests).
var (
	jsonTypes = []string{"application/json", "text/json"}
	xmlTypes  = []string{"application/xml", "text/xml"}
)

// Document is the OpenAPI document of apps: their Web API actions and, when r7office is one of them, its
// ASC.Api methods. version is aspgate's, the document's info.version.
func Document(apps []*contracts.App, version string) ([]byte, error) {
	if version == "" {
		version = "dev"
	}
	s := newSchemas()
	paths := obj()
	var tags []any
	var ids []string
	for _, app := range apps {
		ids = append(ids, app.ID)
		if app.ASCAPI {
			tags = append(tags, obj("name", app.ID, "description", "R7-Office (ONLYOFFICE ASC.Api) two-factor sign-in. "+
				"Not ASP.NET Web API: answers are ASC.Api's envelope, JSON unless the path ends in .xml (or .tml) "+
				"and the body is not application/json; the Accept header is not read."))
			for _, r := range contracts.ASCRoutes() {
				for _, suffix := range []string{"", ".json", ".xml"} {
					paths.set("/"+r.Path()+suffix, obj("post", ascOperation(s, app, r, suffix)))
				}
			}
			continue
		}
		r := contracts.RouteOf(app)
		if r == nil {
			continue
		}
		tags = append(tags, obj("name", app.ID, "description", "ASP.NET Web API 5.2.3 ("+r.Controller+
			" controller). The answer's format follows the Accept header (JSON when none matches), the request's by its Content-Type."))
		op, err := webAPIOperation(s, r)
		if err != nil {
			return nil, err
		}
		paths.set("/"+r.Path, obj("post", op))
	}
	doc := obj(
		"openapi", "3.1.0",
		"info", obj(
			"title", "Legacy account recovery: "+strings.Join(ids, ", "),
			"version", version,
			"description", infoText),
		"tags", tags,
		"paths", paths,
		"components", obj("schemas", s.all, "examples", s.examples),
	)
	return marshal(doc)
}

const infoText = `The account-recovery endpoints of the legacy ASP.NET services, as aspgate answers them: byte for byte what the legacy hosts answered.

* Paths are matched ignoring case, a trailing slash allowed; only POST is served.
* Request bodies: JSON (Json.NET 6: member names ignoring case, unknown members ignored), DataContract XML (elements in the documented order and namespaces), or application/x-www-form-urlencoded (Web API's model binder: keys ignoring case, the first of duplicate keys wins). A charset label other than utf-16 is read as UTF-8, as the legacy formatters read it.
* Answers: the first media type of the Accept header the service can write (JSON when none), in UTF-8 (charset=utf-8), or in UTF-16LE with a byte order mark (charset=utf-16) when the first acceptable Accept-Charset entry is utf-16 or, without one, the request's body was labelled utf-16. Errors are Web API's HttpError: {"Message": …, "ModelState": {…}}.
* For each type there are two schemas: <app>.<Type> (JSON) and <app>.<Type>.xml (DataContract XML, with xml.name, xml.namespace, xml.prefix per member as the serializer writes them).`

// webAPIOperation is one Web API action: its body in every format it binds, its answers at every status.
func webAPIOperation(s *schemas, r *contracts.Route) (*object, error) {
	reqJSON, reqXML := s.JSON(r.Request, contracts.Request), s.XML(r.Request, contracts.Request, 2)
	jsonEx, xmlEx, err := examples(r.Request)
	if err != nil {
		return nil, err
	}
	reqName := componentName(r.Request)
	jsonSample, xmlSample := s.sample(reqName, jsonEx), s.sample(reqName+".xml", xmlEx)
	body := obj()
	for _, t := range jsonTypes {
		body.set(t, obj("schema", reqJSON, "examples", jsonSample))
	}
	for _, t := range xmlTypes {
		body.set(t, obj("schema", reqXML, "examples", xmlSample))
	}
	body.set("application/x-www-form-urlencoded", obj("schema", obj("$ref", str(reqJSON.get("$ref")),
		"description", "Bound by Web API's model binders, not a formatter: keys ignoring case, the first of duplicate keys wins, "+
			"keys prefixed with the parameter name are not bound; an empty value is an error for a value type.")))

	resJSON, resXML := s.JSON(r.Response, contracts.Response), s.XML(r.Response, contracts.Response, 2)
	okJSON, okXML, err := examples(r.Response)
	if err != nil {
		return nil, err
	}
	errJSON, errXML := s.httpError(r.App, false), s.httpError(r.App, true)
	responses := obj()
	resName := componentName(r.Response)
	responses.set("200", obj("description", or(r.ReturnsDoc, "The action's answer."),
		"content", content(resJSON, resXML, s.sample(resName, okJSON), s.sample(resName+".xml", okXML))))
	errorStatuses := []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusInternalServerError}
	statuses := append(append([]int(nil), errorStatuses...), r.ReplyStatuses...)
	for _, status := range sortedUnique(statuses) {
		isError, isReply := contains(errorStatuses, status), contains(r.ReplyStatuses, status)
		j, x := errJSON, errXML
		switch {
		case isError && isReply:
			j, x = obj("anyOf", []any{resJSON, errJSON}), obj("anyOf", []any{resXML, errXML})
		case isReply:
			j, x = resJSON, resXML
		}
		var exJSON, exXML *object
		if ex := errorExamples(r.App, status); ex != nil && !isReply {
			name := str(errJSON.get("$ref"))[len(ref):] + "." + fmt.Sprint(status)
			exJSON, exXML = s.sample(name, ex.json), s.sample("HttpError.xml."+fmt.Sprint(status), ex.xml)
		}
		responses.set(fmt.Sprint(status), obj("description", statusText(status, isError, isReply),
			"content", content(j, x, exJSON, exXML)))
	}
	return obj(
		"tags", []string{r.App.ID},
		"operationId", r.HelpID(),
		"summary", r.Doc,
		"description", "Help page: /Help/Api/"+r.HelpID()+". Model state keys start with the parameter name \""+r.Param+"\".",
		"requestBody", obj("description", r.ParamDoc, "required", true, "content", body),
		"responses", responses,
	), nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func sortedUnique(v []int) []int {
	var out []int
	for _, x := range v {
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func statusText(status int, isError, isReply bool) string {
	var parts []string
	if isReply {
		parts = append(parts, "The action's answer with this status.")
	}
	if isError {
		switch status {
		case http.StatusBadRequest:
			parts = append(parts, "The body could not be bound or is invalid: HttpError with the model state.")
		case http.StatusRequestEntityTooLarge:
			parts = append(parts, "The body is longer than the gateway accepts (aspgate's --max-body).")
		case http.StatusUnsupportedMediaType:
			parts = append(parts, "The body's media type is none the service reads, or a body came without a Content-Type.")
		case http.StatusInternalServerError:
			parts = append(parts, "The action failed: \""+contracts.HiddenErrorMessage+"\"")
		}
	}
	return strings.Join(parts, " ")
}

// content is a response's content in the four negotiated media types.
func content(j, x *object, jsonEx, xmlEx *object) *object {
	c := obj()
	for _, t := range jsonTypes {
		c.set(t, obj("schema", j, "examples", jsonEx))
	}
	for _, t := range xmlTypes {
		c.set(t, obj("schema", x, "examples", xmlEx))
	}
	return c
}

// examples are a contract's Help Page samples (the seeds'), JSON as a value and XML indented as text.
func examples(c *contracts.Contract) (jsonEx json.RawMessage, xmlEx any, err error) {
	v, err := contracts.Sample(c, "json")
	if err != nil {
		return nil, nil, err
	}
	b, err := contracts.EncodeJSON(c, v)
	if err != nil {
		return nil, nil, fmt.Errorf("openapi: the JSON sample of %s: %w", c.Name, err)
	}
	jsonEx = b
	v, err = contracts.Sample(c, "xml")
	if err == contracts.ErrNoSample {
		return jsonEx, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if b, err = contracts.EncodeXML(c, v); err != nil {
		return nil, nil, fmt.Errorf("openapi: the XML sample of %s: %w", c.Name, err)
	}
	text, err := helppage.IndentXML(b)
	if err != nil {
		return nil, nil, err
	}
	return jsonEx, text, nil
}

type errorExample struct {
	json json.RawMessage
	xml  string
}

// errorExamples are the exact bodies of the errors whose text does not depend on the request.
func errorExamples(app *contracts.App, status int) *errorExample {
	var e contracts.HttpError
	switch status {
	case http.StatusInternalServerError:
		e.Message = contracts.HiddenErrorMessage
	case http.StatusRequestEntityTooLarge:
		e.Message = "The request entity is too large."
	default:
		return nil
	}
	return &errorExample{json: e.AppendJSON(nil, app), xml: string(e.AppendXML(nil))}
}

// ascOperation is one of r7office's ASC.Api methods at one suffix.
func ascOperation(s *schemas, app *contracts.App, r *contracts.ASCRoute, suffix string) *object {
	reqJSON, reqXML := s.JSON(r.Request, contracts.Request), s.XML(r.Request, contracts.Request, 0)
	jsonEx, _, _ := examples(r.Request)
	resJSON, resXML := s.JSON(r.Response, contracts.Response), s.XML(r.Response, contracts.Response, 0)
	okJSON, okXML, _ := examples(r.Response)

	name := strings.Trim(r.Name, "{}")
	if name == "" {
		name = "authenticate"
	}
	var params []any
	if r.Name == "{code}" {
		params = append(params, obj("name", "code", "in", "path", "required", true, "description", r.CodeDoc,
			"schema", obj("type", "string")))
	}
	form := obj("schema", reqJSON)
	body := obj(
		"application/json", obj("schema", reqJSON, "examples", s.sample(componentName(r.Request), jsonEx)),
		"text/xml", obj("schema", reqXML),
		"application/x-www-form-urlencoded", form,
		"multipart/form-data", form,
	)
	answers := func(j, x *object, jsonEx, xmlEx *object) *object {
		c := obj()
		if suffix == ".xml" {
			c.set("text/xml", obj("schema", x, "examples", xmlEx))
			c.set("application/json", obj("schema", obj("$ref", str(j.get("$ref")), "description", "When the request's body is application/json."),
				"examples", jsonEx))
		} else {
			c.set("application/json", obj("schema", j, "examples", jsonEx))
		}
		return c
	}
	resName := componentName(r.Response)
	failed := ascFailure(r.Response)
	desc := "The format of the answer: " + map[string]string{
		"":      "JSON.",
		".json": "JSON.",
		".xml":  "XML (the same with .tml), unless the request's body is application/json.",
	}[suffix] + " Parameters come from the route, then the query string, then the body, the first value of a name winning."
	return obj(
		"tags", []string{app.ID},
		"operationId", "r7office-"+name+strings.ReplaceAll(suffix, ".", "-"),
		"summary", r.Doc,
		"description", desc,
		"parameters", params,
		"requestBody", obj("required", false, "content", body),
		"responses", obj(
			"201", obj("description", or(r.ReturnsDoc, "Created: the envelope with the method's answer."),
				"content", answers(resJSON, resXML, s.sample(resName, okJSON), s.sample(resName+".xml", okXML))),
			"400", obj("description", "Invalid arguments: a body ASC.Api cannot read, or a missing argument (status line \"400 Invalid arguments\").",
				"content", answers(resJSON, resXML, nil, nil)),
			"500", obj("description", "Server error: the sign-in failed (status line \"500 Server error\"); the envelope's error holds the message.",
				"content", answers(resJSON, resXML, s.sample(resName+".failed", failed.json), s.sample(resName+".failed.xml", failed.xml))),
		),
	)
}

// ascFailure is the envelope of a failed sign-in, the answer to most refusals.
func ascFailure(c *contracts.Contract) errorExample {
	msg := contracts.R7AuthFailed
	env := &contracts.Envelope{Status: contracts.ApiStatusError, StatusCode: http.StatusInternalServerError,
		Error: &contracts.ErrorWrapper{Message: &msg, HResult: contracts.HResultSystem, Data: &contracts.Dict{}}}
	j, _ := contracts.EncodeJSON(c, env)
	x, _ := contracts.EncodeXML(c, env)
	text, _ := helppage.IndentXML(x)
	return errorExample{json: j, xml: text}
}
