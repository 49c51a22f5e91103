// Package helppage renders the ASP.NET Web API Help Page area (Microsoft.AspNet.WebApi.HelpPage 5.2.3) of
// the legacy services from the contract tables: the index, one page per API, one per model, and the
// stylesheet. The markup is the package's Razor views' output, byte for byte as a Windows host sends it
// (CRLF line ends, WebUtility.HtmlEncode, the samples indented as the sample generator indents them):
// the golden tests compare every page with the recordings of the real Help Page area.
package helppage

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"aspgate/contracts"
)

// An API is one route with its page; a model one Help Page model description.
type api struct {
	Route *contracts.Route
}

// model is a type the Help Page describes: a complex type (its rows), an enum (its values), or a
// framework type aspgate knows the shape of (System.Exception).
type model struct {
	Name string
	Doc  string
	Rows []row                 // complex types
	Enum []contracts.EnumValue // enums
	enum bool
}

// row is one line of a parameters table.
type row struct {
	Name     string
	Doc      string
	Type     template.HTML // the type cell's content, with its own line breaks and indentation
	Required bool
}

// Site is the Help pages of a set of apps: one app on its own listener, or all on the combined one.
type Site struct {
	routes []*contracts.Route
	models map[string]*model // by lower-case name
	index  []group
}

type group struct {
	ID, Name string
	APIs     []*contracts.Route
}

// New builds the Help pages of the Web API apps among apps (r7office, ASC.Api, has none). With one app the
// index groups its APIs by controller, as the legacy host's did; with several, by app.
func New(apps []*contracts.App) *Site {
	s := &Site{models: map[string]*model{}}
	for _, a := range apps {
		if r := contracts.RouteOf(a); r != nil {
			s.routes = append(s.routes, r)
		}
	}
	for _, r := range s.routes {
		name, id := r.Controller, r.Controller
		if len(s.routes) > 1 {
			name, id = r.App.ID+": "+r.Controller, r.App.ID
		}
		s.index = append(s.index, group{ID: id, Name: name, APIs: []*contracts.Route{r}})
		s.describe(r.Request)
		s.describe(r.Response)
	}
	return s
}

// Empty reports whether the site has no page (an r7office listener).
func (s *Site) Empty() bool { return len(s.routes) == 0 }

func (s *Site) add(m *model) bool {
	key := strings.ToLower(m.Name)
	if _, ok := s.models[key]; ok {
		return false
	}
	s.models[key] = m
	return true
}

// describe adds the model description of a contract and of every type it refers to.
func (s *Site) describe(c *contracts.Contract) {
	m := &model{Name: c.ModelName()}
	if !s.add(m) {
		return
	}
	for i := range c.Members {
		mem := &c.Members[i]
		m.Rows = append(m.Rows, row{Name: mem.Name, Doc: mem.Doc, Type: s.typeCell(mem), Required: mem.Required})
	}
}

func (s *Site) describeEnum(e *contracts.Enum) {
	s.add(&model{Name: e.Name(), Enum: e.Declared(true), enum: true})
}

// exceptionModel is System.Exception as the Help Page describes it: its public instance properties in
// reflection order.
func (s *Site) describeException() {
	link := func(name string) template.HTML { return simpleCell(modelLink(name)) }
	s.add(&model{Name: "Exception", Rows: []row{
		{Name: "Message", Type: simpleCell("string")},
		{Name: "Data", Type: simpleCell("Dictionary of             Object\n [key]\nand             Object\n [value]")},
		{Name: "InnerException", Type: link("Exception")},
		{Name: "TargetSite", Type: link("MethodBase")},
		{Name: "StackTrace", Type: simpleCell("string")},
		{Name: "HelpLink", Type: simpleCell("string")},
		{Name: "Source", Type: simpleCell("string")},
		{Name: "HResult", Type: simpleCell("integer")},
	}})
}

func modelLink(name string) string {
	n := htmlEncode(name)
	return `<a href="/Help/ResourceModel?modelName=` + n + `">` + n + `</a>`
}

// simpleCell and collectionCell are the type cell's two layouts in ModelDescriptionLink.cshtml.
func simpleCell(text string) template.HTML {
	return template.HTML("                        " + text + "\n")
}

func collectionCell(text string) template.HTML {
	return template.HTML("                                Collection of " + text + "\n\n")
}

// typeCell is the Type column of a member, describing the types it refers to on the way.
func (s *Site) typeCell(m *contracts.Member) template.HTML {
	switch m.Kind {
	case contracts.String:
		return simpleCell("string")
	case contracts.Int32, contracts.Int64, contracts.NullableInt32, contracts.NullableInt64:
		return simpleCell("integer")
	case contracts.Bool:
		return simpleCell("boolean")
	case contracts.GuidKind:
		return simpleCell("globally unique identifier")
	case contracts.EnumKind:
		s.describeEnum(m.Enum)
		return simpleCell(modelLink(m.Enum.Name()))
	case contracts.Object:
		s.describe(m.Elem)
		return simpleCell(modelLink(m.Elem.ModelName()))
	case contracts.ObjectList:
		s.describe(m.Elem)
		return collectionCell(modelLink(m.Elem.ModelName()))
	case contracts.StringList:
		return collectionCell("string")
	case contracts.ExceptionKind:
		s.describeException()
		return simpleCell(modelLink("Exception"))
	}
	return simpleCell("Object")
}

// ContentType is the pages' Content-Type, as IIS and ASP.NET send it.
const ContentType = "text/html; charset=utf-8"

// Page is a rendered page: its status and its body (CRLF line ends, as the Windows host sends them).
type Page struct {
	Status int
	Body   []byte
}

// Index is GET /Help.
func (s *Site) Index() Page {
	return s.render("ASP.NET Web API Help Page", indexTmpl, s.index)
}

// API is GET /Help/Api/{id}; the id is compared ignoring case, as the Help Page compares it.
func (s *Site) API(id string) (Page, bool) {
	for _, r := range s.routes {
		if strings.EqualFold(r.HelpID(), id) {
			return s.render(r.Method+" "+r.Path, apiTmpl, s.apiData(r)), true
		}
	}
	return s.notFound(fmt.Sprintf("No API has the id '%s'.", id)), false
}

// Model is GET /Help/ResourceModel?modelName=X, the name compared ignoring case.
func (s *Site) Model(name string) (Page, bool) {
	m, ok := s.models[strings.ToLower(name)]
	if !ok {
		return s.notFound(fmt.Sprintf("No model is named '%s'.", name)), false
	}
	return s.render("", modelTmpl, m), true
}

// NoAction is the page for /Help/{action} with an action the Help controller does not have (MVC answers
// 404 there with the host's own error page).
func (s *Site) NoAction(action string) Page {
	return s.notFound(fmt.Sprintf("The Help Page has no page named '%s'.", action))
}

// notFound is aspgate's page for an unknown API id or model name: the Help Page would render the
// application's own Error view (not part of the package, different in every app) with status 200; aspgate
// answers 404 with a page that says what was not found and links back to the index.
func (s *Site) notFound(msg string) Page {
	p := s.render("Help Page: not found", notFoundTmpl, msg)
	p.Status = 404
	return p
}

// apiPage is what apiTmpl renders.
type apiPage struct {
	Route             *contracts.Route
	Request, Response *model
	RequestSamples    []sample
	ResponseSamples   []sample
}

// sample is one group of media types showing the same sample text.
type sample struct {
	MediaTypes string
	Text       string // "" for "Sample not available."
}

func (s *Site) apiData(r *contracts.Route) apiPage {
	p := apiPage{Route: r, Request: s.models[strings.ToLower(r.Request.ModelName())],
		Response: s.models[strings.ToLower(r.Response.ModelName())]}
	p.RequestSamples = append(samples(r.Request), sample{MediaTypes: "application/x-www-form-urlencoded"})
	p.ResponseSamples = samples(r.Response)
	return p
}

// samples are the JSON and XML samples of a contract, as the Help Page indents them.
func samples(c *contracts.Contract) []sample {
	var out []sample
	for _, f := range []struct{ format, media string }{{"json", "application/json, text/json"}, {"xml", "application/xml, text/xml"}} {
		v, err := contracts.Sample(c, f.format)
		if err != nil {
			continue
		}
		var text string
		if f.format == "json" {
			b, err := contracts.EncodeJSON(c, v)
			if err == nil {
				text, err = IndentJSON(b)
			}
			if err != nil {
				panic(fmt.Sprintf("helppage: the JSON sample of %s: %v", c.Name, err)) // a table mistake
			}
		} else {
			b, err := contracts.EncodeXML(c, v)
			if err == nil {
				text, err = IndentXML(b)
			}
			if err != nil {
				panic(fmt.Sprintf("helppage: the XML sample of %s: %v", c.Name, err))
			}
		}
		out = append(out, sample{MediaTypes: f.media, Text: text})
	}
	return out
}

var funcs = template.FuncMap{
	// enc is Razor's @x: the template engine's own escaping is not .NET's (&#34; for ", no entities for
	// U+00A0-U+00FF), so values go in encoded.
	"enc":   func(s string) template.HTML { return template.HTML(htmlEncode(s)) },
	"link":  func(name string) template.HTML { return template.HTML(modelLink(name)) },
	"docOr": docOr,
}

func docOr(doc string) template.HTML {
	if doc == "" {
		return "No documentation available."
	}
	return template.HTML(htmlEncode(doc))
}

func (s *Site) render(title string, t *template.Template, data any) Page {
	var body bytes.Buffer
	if err := t.Execute(&body, data); err != nil {
		panic(err) // the templates and their data are the package's own
	}
	var out bytes.Buffer
	if err := layoutTmpl.Execute(&out, struct {
		Title template.HTML
		Body  template.HTML
	}{template.HTML(htmlEncode(title)), template.HTML(body.String())}); err != nil {
		panic(err)
	}
	return Page{Status: 200, Body: bytes.ReplaceAll(out.Bytes(), []byte("\n"), []byte("\r\n"))}
}

// homeTop opens the API, model and not-found pages: the stylesheet and the link home (Api.cshtml and
// ResourceModel.cshtml begin alike).
const homeTop = `<link type="text/css" href="/Areas/HelpPage/HelpPage.css" rel="stylesheet" />
<div id="body" class="help-page">
    <section class="featured">
        <div class="content-wrapper">
            <p>
                <a href="/Help">Help Page Home</a>
            </p>
        </div>
    </section>
`

// The views: _Layout.cshtml, Index.cshtml with ApiGroup.cshtml, Api.cshtml with HelpPageApiModel.cshtml,
// Parameters.cshtml and Samples.cshtml, ResourceModel.cshtml with the model display templates; their
// output with Razor's indentation, LF here (CRLF on the wire).
var (
	layoutTmpl = template.Must(template.New("layout").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width" />
    <title>{{.Title}}</title>
    
</head>
<body>
    {{.Body}}
</body>
</html>`))

	indexTmpl = template.Must(template.New("index").Funcs(funcs).Parse(`

<link type="text/css" href="/Areas/HelpPage/HelpPage.css" rel="stylesheet" />
<header class="help-page">
    <div class="content-wrapper">
        <div class="float-left">
            <h1>ASP.NET Web API Help Page</h1>
        </div>
    </div>
</header>
<div id="body" class="help-page">
    <section class="featured">
        <div class="content-wrapper">
            <h2>Introduction</h2>
            <p>
                Provide a general description of your APIs here.
            </p>
        </div>
    </section>
    <section class="content-wrapper main-content clear-fix">
{{range .}}

<h2 id="{{enc .ID}}">{{enc .Name}}</h2>
<table class="help-page-table">
    <thead>
        <tr><th>API</th><th>Description</th></tr>
    </thead>
    <tbody>
{{range .APIs}}        <tr>
            <td class="api-name"><a href="/Help/Api/{{enc .HelpID}}">{{enc .Method}} {{enc .Path}}</a></td>
            <td class="api-documentation">
                <p>{{docOr .Doc}}</p>
            </td>
        </tr>
{{end}}    </tbody>
</table>{{end}}    </section>
</div>
`))

	paramsTmpl = `{{define "params"}}    <table class="help-page-table">
        <thead>
            <tr><th>Name</th><th>Description</th><th>Type</th><th>Additional information</th></tr>
        </thead>
        <tbody>
{{range .Rows}}                <tr>
                    <td class="parameter-name">{{enc .Name}}</td>
                    <td class="parameter-documentation">
                        <p>{{enc .Doc}}</p>
                    </td>
                    <td class="parameter-type">
{{.Type}}                    </td>
                    <td class="parameter-annotations">
{{if .Required}}                                <p>Required</p>
{{else}}                            <p>None.</p>
{{end}}                    </td>
                </tr>
{{end}}        </tbody>
    </table>
{{end}}{{define "samples"}}
<div>
{{range .}}        <h4 class="sample-header">{{enc .MediaTypes}}</h4>
        <div class="sample-content">
            <span><b>Sample:</b></span>
{{if .Text}}<pre class="wrapped">
{{enc .Text}}
</pre>
{{else}}    <p>Sample not available.</p>

{{end}}        </div>
{{end}}</div>
{{end}}`

	apiTmpl = template.Must(template.New("api").Funcs(funcs).Parse(paramsTmpl + `

` + homeTop + `    <section class="content-wrapper main-content clear-fix">
        
<h1>{{enc .Route.Method}} {{enc .Route.Path}}</h1>
<div>
    <p>{{enc .Route.Doc}}</p>

    <h2>Request Information</h2>

    <h3>URI Parameters</h3>
        <p>None.</p>



    <h3>Body Parameters</h3>

    <p>{{enc .Route.ParamDoc}}</p>

{{link .Request.Name}}{{template "params" .Request}}

        <h3>Request Formats</h3>
{{template "samples" .RequestSamples}}    <h2>Response Information</h2>

    <h3>Resource Description</h3>

    <p>{{enc .Route.ReturnsDoc}}</p>

{{link .Response.Name}}{{template "params" .Response}}

        <h3>Response Formats</h3>
{{template "samples" .ResponseSamples}}</div>
    </section>
</div>
`))

	modelTmpl = template.Must(template.New("model").Funcs(funcs).Parse(paramsTmpl + homeTop + `    <h1>{{enc .Name}}</h1>
    <p>{{enc .Doc}}</p>
    <section class="content-wrapper main-content clear-fix">
{{if .Enum}}        <p>Possible enumeration values:</p>

<table class="help-page-table">
    <thead>
        <tr><th>Name</th><th>Value</th><th>Description</th></tr>
    </thead>
    <tbody>
{{range .Enum}}            <tr>
                <td class="enum-name"><b>{{enc .Name}}</b></td>
                <td class="enum-value">
                    <p>{{.Value}}</p>
                </td>
                <td class="enum-description">
                    <p></p>
                </td>
            </tr>
{{end}}    </tbody>
</table>
{{else}}        {{template "params" .}}

{{end}}    </section>
</div>
`))

	notFoundTmpl = template.Must(template.New("notfound").Funcs(funcs).Parse(homeTop + `    <section class="content-wrapper main-content clear-fix">
        <h1>Not found</h1>
        <p>{{enc .}}</p>
    </section>
</div>
`))
)
