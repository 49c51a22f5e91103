package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"aspgate/contracts"
	"aspgate/internal/recording"
)

func init() {
	// Web API's JsonMediaTypeFormatter reads and writes text/json as JSON; kin-openapi knows only
	// application/json until told.
	openapi3filter.RegisterBodyDecoder("text/json", openapi3filter.JSONBodyDecoder)
}

type loaded struct {
	raw  []byte
	kin  *openapi3.T
	tree *node
}

// load builds the document of apps and has kin-openapi load and validate it. Examples are validated by
// the tests themselves: kin-openapi would hold the XML examples, which OpenAPI writes as strings, against
// the object schemas of the XML bodies.
func load(t *testing.T, apps []*contracts.App) loaded {
	t.Helper()
	b, err := Document(apps, "test")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("kin-openapi: the document is not valid: %v", err)
	}
	tree, err := parseOrdered(b)
	if err != nil {
		t.Fatal(err)
	}
	return loaded{raw: b, kin: doc, tree: tree}
}

func isJSONType(mt string) bool { return mt == "application/json" || mt == "text/json" }
func isXMLType(mt string) bool  { return mt == "application/xml" || mt == "text/xml" }

func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt
}

// TestDocumentValidates loads the document of every app alone and of all together with kin-openapi and
// holds every example against its media type's schema: JSON examples with kin-openapi's JSON Schema
// 2020-12 validator, XML examples with the XML walk.
func TestDocumentValidates(t *testing.T) {
	sets := [][]*contracts.App{contracts.Apps()}
	for _, a := range contracts.Apps() {
		sets = append(sets, []*contracts.App{a})
	}
	for _, apps := range sets {
		d := load(t, apps)
		if d.kin.OpenAPI != "3.1.0" {
			t.Errorf("openapi %q", d.kin.OpenAPI)
		}
		checker := &xmlChecker{doc: d.tree}
		examples := 0
		paths := d.tree.get("paths")
		for _, p := range paths.keys {
			op := paths.vals[p].get("post")
			kinOp := d.kin.Paths.Value(p).Post
			var contents []*node
			var kinContents []openapi3.Content
			contents = append(contents, op.get("requestBody", "content"))
			kinContents = append(kinContents, kinOp.RequestBody.Value.Content)
			for _, status := range op.get("responses").keys {
				contents = append(contents, op.get("responses", status, "content"))
				kinContents = append(kinContents, kinOp.Responses.Value(status).Value.Content)
			}
			for i, content := range contents {
				for _, mt := range content.keys {
					ex := content.get(mt, "examples", "sample")
					if ex == nil {
						continue
					}
					value := d.tree.resolve(ex).get("value")
					where := fmt.Sprintf("%v %s %s", appIDs(apps), p, mt)
					switch {
					case isJSONType(mt):
						v := kinContents[i].Get(mt).Examples["sample"].Value.Value
						if err := kinContents[i].Get(mt).Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
							t.Errorf("%s: the example does not validate: %v", where, err)
						}
					default:
						el, err := parseXML([]byte(value.val.(string)))
						if err == nil {
							err = checker.root(content.get(mt, "schema"), el)
						}
						if err != nil {
							t.Errorf("%s: the XML example does not fit its schema: %v", where, err)
						}
					}
					examples++
				}
			}
		}
		if examples == 0 {
			t.Errorf("%v: no example checked", appIDs(apps))
		}
	}
}

func appIDs(apps []*contracts.App) []string {
	var ids []string
	for _, a := range apps {
		ids = append(ids, a.ID)
	}
	return ids
}

func readRecording(t *testing.T, path string) *recording.Exchange {
	t.Helper()
	rec, err := recording.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// findOperation finds a request's operation as the services route: ignoring case and a trailing slash,
// literal routes before r7office's {code}, and {code}.json or {code}.xml before a bare {code}.
func findOperation(doc *openapi3.T, target string) (string, *openapi3.PathItem, map[string]string) {
	p, _, _ := strings.Cut(target, "?")
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	var templates []string
	for tmpl := range doc.Paths.Map() {
		templates = append(templates, tmpl)
	}
	slices.SortFunc(templates, func(a, b string) int {
		ra, rb := strings.Count(a, "{"), strings.Count(b, "{")
		if ra != rb {
			return ra - rb
		}
		return len(b) - len(a) // {code}.json before {code}
	})
	for _, tmpl := range templates {
		i := strings.Index(tmpl, "{code}")
		if i < 0 {
			if strings.EqualFold(tmpl, p) {
				return tmpl, doc.Paths.Value(tmpl), nil
			}
			continue
		}
		re := regexp.MustCompile(`(?i)^` + regexp.QuoteMeta(tmpl[:i]) + `([^/]+?)` + regexp.QuoteMeta(tmpl[i+len("{code}"):]) + `$`)
		if m := re.FindStringSubmatch(p); m != nil {
			return tmpl, doc.Paths.Value(tmpl), map[string]string{"code": m[1]}
		}
	}
	return "", nil, nil
}

// requestJSON is a recorded request's body as JSON text: UTF-16 as its label says (the formatter reads
// utf-16 labels so), anything else as the bytes are.
func requestJSON(rec *recording.Exchange) []byte {
	return asUTF8(rec.Body, rec.RequestHeader().Get("Content-Type"))
}

// asUTF8 is a body as UTF-8 text when its Content-Type says utf-16 (UTF-16LE, a byte order mark first);
// any other body as it is.
func asUTF8(body []byte, contentType string) []byte {
	_, params, _ := mime.ParseMediaType(contentType)
	if !strings.EqualFold(params["charset"], "utf-16") {
		return body
	}
	b := body
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE {
		b = b[2:]
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return []byte(string(utf16.Decode(u)))
}

// acceptedOffSchema are the recorded JSON requests the legacy pipeline accepted although the document's
// request schemas (what a client should send) refuse them, each for a reason of Json.NET's leniency that
// no JSON Schema describes. The test fails when this list and the recordings disagree either way.
var acceptedOffSchema = map[string]string{
	"16-lcmanager-json-coercions.txt":      "Json.NET converts \"12\" to int, true and 5 to string, 2.5 to long",
	"28-ereader-json-case-insensitive.txt": "member names matched ignoring case (USERID is UserId)",
	"29-ereader-accept-star.txt":           "member names matched ignoring case",
	"30-ereader-accept-q-json.txt":         "member names matched ignoring case",
	"31-ereader-accept-q-xml.txt":          "member names matched ignoring case",
	"32-ereader-accept-tie.txt":            "member names matched ignoring case",
	"33-ereader-accept-textxml.txt":        "member names matched ignoring case",
	"34-ereader-accept-textjson.txt":       "member names matched ignoring case",
	"35-ereader-accept-unknown.txt":        "member names matched ignoring case",
	"36-ereader-accept-browser.txt":        "member names matched ignoring case",
	"41-ereader-accept-charset.txt":        "member names matched ignoring case",
	"42-ereader-json-charset-param.txt":    "member names matched ignoring case",
	"45-ereader-accept-charset-param.txt":  "member names matched ignoring case",
	"55-customer-guid-like-strings.txt":    "Json.NET converts 12345 and true to string",
	"56-customer-json-bool-number.txt":     "Json.NET converts a number to bool",
	"57-customer-json-bool-string.txt":     "Json.NET converts \"true\" to bool",
}

// TestRecordingsValidate holds every recorded exchange against the document: each recorded response body
// (JSON with kin-openapi's response validation, XML with the XML walk) must fit its operation's schema
// for that status and media type, and an error answer on a path with no operation must be Web API's
// HttpError. Each recorded JSON request body is validated with kin-openapi too: a body the schema accepts
// must be one the legacy pipeline accepted (the document never promises what the legacy refuses), and
// the bodies the legacy accepted beyond the schema are exactly acceptedOffSchema.
func TestRecordingsValidate(t *testing.T) {
	d := load(t, contracts.Apps())
	checker := &xmlChecker{doc: d.tree}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "requests", "*.txt"))
	if len(files) < 138 {
		t.Fatalf("%d recordings, want at least 138", len(files))
	}
	offSchema := map[string]string{}
	var requests, responses int
	for _, f := range files {
		rec := readRecording(t, f)
		respType := mediaType(rec.ResponseHeader().Get("Content-Type"))
		tmpl, item, params := findOperation(d.kin, rec.Target)
		if item == nil || rec.Method != http.MethodPost {
			// No operation: Web API's own 404 or 405, an HttpError.
			if len(rec.RespBody) == 0 {
				continue
			}
			app, _ := contracts.LookupApp(rec.App)
			name := "HttpError"
			if app.CamelCase {
				name = "HttpError.camelCase"
			}
			var err error
			switch {
			case isJSONType(respType):
				var v any
				if err = json.Unmarshal(rec.RespBody, &v); err == nil {
					err = d.kin.Components.Schemas[name].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
				}
			case isXMLType(respType):
				var el *xelem
				if el, err = parseXML(rec.RespBody); err == nil {
					err = checker.root(d.tree.get("components", "schemas", "HttpError.xml"), el)
				}
			default:
				err = fmt.Errorf("content type %q", respType)
			}
			if err != nil {
				t.Errorf("%s: the %d body is not %s: %v", rec.Name, rec.Status, name, err)
			}
			responses++
			continue
		}

		req := httptest.NewRequest(rec.Method, "http://localhost"+rec.Target, bytes.NewReader(requestJSON(rec)))
		req.Header = rec.RequestHeader()
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Options: &openapi3filter.Options{MultiError: true},
			Route: &routers.Route{Spec: d.kin, Path: tmpl, PathItem: item, Method: http.MethodPost, Operation: item.Post}}
		if reqType := mediaType(rec.RequestHeader().Get("Content-Type")); isJSONType(reqType) && len(rec.Body) > 0 {
			// RFC 8259: JSON text is UTF-8; a validator that reads other bytes leniently proves nothing.
			err := openapi3filter.ValidateRequest(context.Background(), in)
			if err == nil && !utf8.Valid(requestJSON(rec)) {
				err = fmt.Errorf("not UTF-8")
			}
			accepted := rec.Status/100 == 2
			switch {
			case err == nil && !accepted && rec.App != "r7office":
				t.Errorf("%s: the request schema accepts a body the legacy answered %d", rec.Name, rec.Status)
			case err != nil && accepted:
				offSchema[rec.Name] = err.Error()
			}
			requests++
		}
		if len(rec.RespBody) == 0 {
			continue
		}
		switch {
		case isJSONType(respType):
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Status, Header: rec.ResponseHeader(),
				Body: io.NopCloser(bytes.NewReader(asUTF8(rec.RespBody, rec.ResponseHeader().Get("Content-Type")))), Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true}}
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("%s: the %d response does not validate: %v", rec.Name, rec.Status, err)
			}
		case isXMLType(respType):
			schema := d.tree.get("paths", tmpl, "post", "responses", strconv.Itoa(rec.Status), "content", respType, "schema")
			if schema == nil {
				t.Errorf("%s: no %s answer at %d in the document", rec.Name, respType, rec.Status)
				break
			}
			el, err := parseXML(rec.RespBody)
			if err == nil {
				err = checker.root(schema, el)
			}
			if err != nil {
				t.Errorf("%s: the %d XML response does not fit the schema: %v", rec.Name, rec.Status, err)
			}
		default:
			t.Errorf("%s: response content type %q", rec.Name, respType)
		}
		responses++
	}
	for name, err := range offSchema {
		if acceptedOffSchema[name] == "" {
			t.Errorf("%s: the legacy accepted the body, the request schema refuses it: %s", name, err)
		}
	}
	for name, why := range acceptedOffSchema {
		if _, ok := offSchema[name]; !ok {
			t.Errorf("%s: listed as accepted beyond the schema (%s), but the schema accepts it or it is gone", name, why)
		}
	}
	t.Logf("%d request bodies and %d response bodies validated", requests, responses)
	if requests < 60 || responses < 130 {
		t.Errorf("only %d requests and %d responses validated", requests, responses)
	}
}
