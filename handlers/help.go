package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
	"aspgate/helppage"
	"aspgate/openapi"
)

// Endpoint names the documentation requests are counted under.
const (
	HelpEndpoint    = "Help"
	OpenAPIEndpoint = "Help/openapi.json"
	OpenAPIPath     = "/Help/openapi.json"
)

// Help serves what integrators read: the Help Page area of the listener's Web API apps (the index, the
// API and model pages, the stylesheet) and the OpenAPI document of all its apps. An r7office listener
// has no Help Page (ASC.Api has none) and serves the OpenAPI document only.
//
// The pages follow the MVC area route "Help/{action}/{apiId}": actions and ids match ignoring case, and
// like the MVC actions (which carry no verb attribute) they answer any method, HEAD without a body. The
// stylesheet and the document are static files: GET and HEAD, else 405 with Allow.
type Help struct {
	App     string // the listener's app, "" on the combined listener (for the access log)
	Site    *helppage.Site
	OpenAPI []byte // the document; nil serves none
}

// Match claims the Help Page's paths: /Help with at most two more segments, the stylesheet, and the
// OpenAPI document. Deeper paths are not the area route's and get the listener's 404.
func (h *Help) Match(r *http.Request) bool {
	// Every request of the listener passes here first: no allocation.
	p := r.URL.Path
	if h.OpenAPI != nil && strings.EqualFold(strings.TrimSuffix(p, "/"), OpenAPIPath) {
		return true
	}
	if h.Site == nil || h.Site.Empty() {
		return false
	}
	if strings.EqualFold(p, helppage.StylesheetPath) {
		return true
	}
	if len(p) < len("/help") || !strings.EqualFold(p[:len("/help")], "/help") {
		return false
	}
	rest := strings.TrimSuffix(p[len("/help"):], "/")
	return (rest == "" || rest[0] == '/' && strings.Count(rest, "/") <= 2) && !strings.HasSuffix(p, "//")
}

// Serve answers a documentation request.
func (h *Help) Serve(c echo.Context) error {
	r := c.Request()
	info := Info(r.Context())
	info.App, info.Outcome = h.App, account.OutcomeDocument
	p := strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))
	switch {
	case p == strings.ToLower(OpenAPIPath):
		info.Endpoint, info.Format = OpenAPIEndpoint, "json"
		return serveStatic(c, "application/json; charset=utf-8", h.OpenAPI)
	case p == strings.ToLower(helppage.StylesheetPath):
		info.Endpoint = HelpEndpoint
		return serveStatic(c, "text/css", helppage.Stylesheet)
	}
	info.Endpoint, info.Format = HelpEndpoint, "html"
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	action := "index"
	if len(segs) > 1 {
		action = strings.ToLower(segs[1])
	}
	var page helppage.Page
	switch action {
	case "index": // an apiId after it is bound to nothing: MVC renders the index all the same
		page = h.Site.Index()
	case "api":
		id := ""
		if len(segs) > 2 {
			id = segs[2]
		}
		page, _ = h.Site.API(id)
	case "resourcemodel":
		page, _ = h.Site.Model(modelName(r))
	default:
		page = h.Site.NoAction(segs[1])
	}
	if page.Status != http.StatusOK {
		info.Outcome = account.OutcomeRouteNotFound
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "private")
	hd.Set("X-AspNetMvc-Version", "5.2")
	hd.Set("X-AspNet-Version", "4.0.30319")
	hd.Set("Content-Length", strconv.Itoa(len(page.Body)))
	if r.Method == http.MethodHead {
		hd.Set("Content-Type", helppage.ContentType)
		c.Response().WriteHeader(page.Status)
		return nil
	}
	return c.Blob(page.Status, helppage.ContentType, page.Body)
}

// modelName is the query's modelName, the key matched ignoring case as MVC's value providers match it,
// the first one in the query winning.
func modelName(r *http.Request) string {
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(k); err != nil || !strings.EqualFold(k, "modelName") {
			continue
		}
		if v, err := url.QueryUnescape(v); err == nil {
			return v
		}
	}
	return ""
}

// started stamps the static files' Last-Modified: they are part of the binary, new with each start.
var started = time.Now().UTC().Truncate(time.Second)

// serveStatic answers a file built into the binary as IIS's static file handler does: GET and HEAD,
// an ETag and Last-Modified, conditional requests answered 304.
func serveStatic(c echo.Context, contentType string, body []byte) error {
	r, w := c.Request(), c.Response()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		Info(r.Context()).Outcome = account.OutcomeMethodNotAllowed
		w.Header().Set("Allow", "GET, HEAD")
		return c.NoContent(http.StatusMethodNotAllowed)
	}
	sum := sha256.Sum256(body)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(w, r, "", started, bytes.NewReader(body))
	return nil
}

// NewHelp builds the documentation of apps for a listener of app ("" for the combined listener).
func NewHelp(app string, apps []*contracts.App, version string) (*Help, error) {
	doc, err := openapi.Document(apps, version)
	if err != nil {
		return nil, err
	}
	return &Help{App: app, Site: helppage.New(apps), OpenAPI: doc}, nil
}
