package handlers_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
	"aspgate/handlers"
	"aspgate/helppage"
)

// helpServer is a listener of apps ("" for the combined one) with the Help face in front, as serve mounts it.
func helpServer(t *testing.T, app string, apps ...*contracts.App) (*helpListener, *handlers.Help) {
	t.Helper()
	help, err := handlers.NewHelp(app, apps, "test")
	if err != nil {
		t.Fatal(err)
	}
	l := &helpListener{Echo: echo.New()}
	l.Use(handlers.AccessLog(slog.New(slog.DiscardHandler), l, nil))
	(&handlers.WebAPI{App: app, Endpoints: stubEndpoints(), Others: []handlers.Face{help}, NotFoundApp: apps[0]}).Register(l.Echo)
	return l, help
}

// helpListener is a listener that keeps what the access log was told of the last request.
type helpListener struct {
	*echo.Echo
	last handlers.RequestInfo
}

func (l *helpListener) ObserveRequest(app, endpoint, format string, _ int, outcome, _ string, _ time.Duration) {
	l.last = handlers.RequestInfo{App: app, Endpoint: endpoint, Format: format, Outcome: account.Outcome(outcome)}
}

type helpAnswer struct {
	status int
	header http.Header
	body   []byte
	info   handlers.RequestInfo
}

func askHelp(l *helpListener, method, target string) helpAnswer {
	req := httptest.NewRequest(method, target, nil)
	w := httptest.NewRecorder()
	l.ServeHTTP(w, req)
	return helpAnswer{w.Code, w.Header(), w.Body.Bytes(), l.last}
}

// recordedHeaders reads the header block of a recorded Help page.
func recordedHeaders(t *testing.T, path string) http.Header {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // status line
	for sc.Scan() && sc.Text() != "" {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		h.Add(k, v)
	}
	return h
}

// TestHelpRoutes: every recorded page is served at the path it was recorded at (and with the id's and
// action's case changed), with the status and the ASP.NET headers of the recording and the Windows
// host's Content-Type; the body is the page the helppage package renders (compared with the recordings
// byte for byte there).
func TestHelpRoutes(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "helppages", "*"))
	served := 0
	for _, dir := range dirs {
		app, _ := contracts.LookupApp(filepath.Base(dir))
		e, _ := helpServer(t, app.ID, app)
		site := helppage.New([]*contracts.App{app})
		files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".txt")
			var target string
			var want helppage.Page
			switch {
			case name == "Help":
				target, want = "/Help", site.Index()
			case strings.HasPrefix(name, "Help_Api_"):
				id := strings.TrimPrefix(name, "Help_Api_")
				target, want = "/Help/Api/"+id, must(site.API(id))
			default:
				m := strings.TrimPrefix(name, "Help_ResourceModel_modelName=")
				target, want = "/Help/ResourceModel?modelName="+m, must(site.Model(m))
			}
			rec := recordedHeaders(t, f)
			for _, tg := range []string{target, strings.ToLower(target), strings.ToUpper(target[:5]) + target[5:]} {
				got := askHelp(e, http.MethodGet, tg)
				if got.status != http.StatusOK || !bytes.Equal(got.body, want.Body) {
					t.Errorf("%s %s: %d, body equal to the page: %v", app.ID, tg, got.status, bytes.Equal(got.body, want.Body))
				}
				for _, k := range []string{"X-AspNetMvc-Version", "X-AspNet-Version", "Cache-Control"} {
					if got.header.Get(k) != rec.Get(k) {
						t.Errorf("%s %s: %s %q, recorded %q", app.ID, tg, k, got.header.Get(k), rec.Get(k))
					}
				}
				if ct := got.header.Get("Content-Type"); ct != rec.Get("Content-Type")+"; charset=utf-8" {
					t.Errorf("%s %s: Content-Type %q, the Windows host sends the recorded %q with charset=utf-8", app.ID, tg, ct, rec.Get("Content-Type"))
				}
				if got.info.App != app.ID || got.info.Endpoint != handlers.HelpEndpoint || got.info.Outcome != account.OutcomeDocument {
					t.Errorf("%s %s: logged as %+v", app.ID, tg, got.info)
				}
				served++
			}
		}
	}
	if served != 3*24 {
		t.Errorf("%d pages served, want %d", served, 3*24)
	}
}

func must(p helppage.Page, ok bool) helppage.Page {
	if !ok {
		panic("no such page")
	}
	return p
}

// TestHelpScenarios: what is not a recorded page.
func TestHelpScenarios(t *testing.T) {
	lcm, _ := contracts.LookupApp("lcmanager")
	r7, _ := contracts.LookupApp("r7office")
	single, _ := helpServer(t, "lcmanager", lcm)
	combined, _ := helpServer(t, "", contracts.Apps()...)
	r7only, _ := helpServer(t, "r7office", r7)
	type scenario struct {
		name           string
		e              *helpListener
		method, target string
		status         int
		header         map[string]string
		contains       []string // in the body, in order
		absent         []string
		outcome        account.Outcome
	}
	html := map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "private"}
	for _, s := range []scenario{
		{name: "index with a slash", e: single, method: "GET", target: "/help/", status: 200, header: html,
			contains: []string{">User</h2>", `href="/Help/Api/POST-api-user-RememberMessage"`}, outcome: account.OutcomeDocument},
		{name: "Index action", e: single, method: "GET", target: "/Help/Index", status: 200, contains: []string{"ASP.NET Web API Help Page"}, outcome: account.OutcomeDocument},
		{name: "MVC actions answer any method", e: single, method: "POST", target: "/Help", status: 200, contains: []string{"RememberMessage"}, outcome: account.OutcomeDocument},
		{name: "HEAD has no body", e: single, method: "HEAD", target: "/Help", status: 200, header: html, absent: []string{"<"}, outcome: account.OutcomeDocument},
		{name: "unknown id", e: single, method: "GET", target: "/Help/Api/POST-api-user-Nothing", status: 404, header: html,
			contains: []string{`href="/Help"`, "<h1>Not found</h1>", "No API has the id &#39;POST-api-user-Nothing&#39;."}, outcome: account.OutcomeRouteNotFound},
		{name: "hostile id is encoded", e: single, method: "GET", target: "/Help/Api/%3Cscript%3E", status: 404,
			contains: []string{"&lt;script&gt;"}, absent: []string{"<script>"}, outcome: account.OutcomeRouteNotFound},
		{name: "unknown model", e: single, method: "GET", target: "/Help/ResourceModel?modelName=Nope", status: 404,
			contains: []string{"No model is named &#39;Nope&#39;."}, outcome: account.OutcomeRouteNotFound},
		{name: "another app's model", e: single, method: "GET", target: "/Help/ResourceModel?modelName=ResetPasswordRequest", status: 404, outcome: account.OutcomeRouteNotFound},
		{name: "model name ignores case", e: single, method: "GET", target: "/Help/ResourceModel?modelName=rememberMESSAGErequest", status: 200, contains: []string{"<h1>RememberMessageRequest</h1>"}, outcome: account.OutcomeDocument},
		{name: "modelName key ignores case, first wins", e: single, method: "GET", target: "/Help/ResourceModel?MODELNAME=RememberMessageResponse&modelName=Nope", status: 200, contains: []string{"<h1>RememberMessageResponse</h1>"}, outcome: account.OutcomeDocument},
		{name: "unknown action", e: single, method: "GET", target: "/Help/Values", status: 404, contains: []string{"no page named &#39;Values&#39;"}, outcome: account.OutcomeRouteNotFound},
		{name: "deeper than the area route", e: single, method: "GET", target: "/Help/Api/a/b", status: 404, header: map[string]string{"Content-Type": "application/json; charset=utf-8"},
			contains: []string{"No HTTP resource was found"}, outcome: account.OutcomeRouteNotFound},
		{name: "stylesheet", e: single, method: "GET", target: "/areas/helppage/HELPPAGE.css", status: 200, header: map[string]string{"Content-Type": "text/css"},
			contains: []string{".sample-header", "#00497E"}, outcome: account.OutcomeDocument},
		{name: "stylesheet refuses POST", e: single, method: "POST", target: "/Areas/HelpPage/HelpPage.css", status: 405, header: map[string]string{"Allow": "GET, HEAD"}, outcome: account.OutcomeMethodNotAllowed},
		{name: "openapi on an app's listener", e: single, method: "GET", target: "/Help/openapi.json", status: 200, header: map[string]string{"Content-Type": "application/json; charset=utf-8"},
			contains: []string{`"openapi": "3.1.0"`, `"/api/user/RememberMessage"`}, absent: []string{"ResetPassword", "authentication"}, outcome: account.OutcomeDocument},
		{name: "openapi refuses POST", e: single, method: "POST", target: "/help/OPENAPI.json", status: 405, header: map[string]string{"Allow": "GET, HEAD"}, outcome: account.OutcomeMethodNotAllowed},
		{name: "combined index groups by app", e: combined, method: "GET", target: "/Help", status: 200,
			contains: []string{">lcmanager: User</h2>", ">customer: Customer</h2>", ">ereader: Account</h2>", ">aries: Account</h2>"}, absent: []string{"r7office"}, outcome: account.OutcomeDocument},
		{name: "combined API page", e: combined, method: "GET", target: "/Help/Api/post-api-account-resetpassword", status: 200, contains: []string{"ApiResultOfString"}, outcome: account.OutcomeDocument},
		{name: "combined openapi has every app", e: combined, method: "GET", target: "/Help/openapi.json", status: 200,
			contains: []string{`"/api/user/RememberMessage"`, `"/api/2.0/authentication/setphone.xml"`, `"/API/Account/ForgotPassword"`}, outcome: account.OutcomeDocument},
		{name: "r7office has no Help page", e: r7only, method: "GET", target: "/Help", status: 404, contains: []string{"No HTTP resource"}, outcome: account.OutcomeRouteNotFound},
		{name: "r7office has no stylesheet", e: r7only, method: "GET", target: "/Areas/HelpPage/HelpPage.css", status: 404, outcome: account.OutcomeRouteNotFound},
		{name: "r7office has OpenAPI", e: r7only, method: "GET", target: "/Help/openapi.json", status: 200, contains: []string{`"/api/2.0/authentication/{code}.json"`}, absent: []string{"RememberMessage"}, outcome: account.OutcomeDocument},
	} {
		t.Run(s.name, func(t *testing.T) {
			got := askHelp(s.e, s.method, s.target)
			if got.status != s.status {
				t.Errorf("status %d, want %d: %.300s", got.status, s.status, got.body)
			}
			for k, v := range s.header {
				if got.header.Get(k) != v {
					t.Errorf("%s %q, want %q", k, got.header.Get(k), v)
				}
			}
			rest := string(got.body)
			for _, c := range s.contains {
				i := strings.Index(rest, c)
				if i < 0 {
					t.Errorf("body lacks %q (in order): %.400s", c, got.body)
					break
				}
				rest = rest[i+len(c):]
			}
			for _, a := range s.absent {
				if strings.Contains(string(got.body), a) {
					t.Errorf("body has %q", a)
				}
			}
			if got.info.Outcome != s.outcome {
				t.Errorf("outcome %q, want %q", got.info.Outcome, s.outcome)
			}
		})
	}
}

// TestOpenAPIServedIsValidJSON: the served document is the one the openapi package validates, for every
// listener choice.
func TestOpenAPIServedIsValidJSON(t *testing.T) {
	for _, app := range contracts.Apps() {
		e, help := helpServer(t, app.ID, app)
		got := askHelp(e, http.MethodGet, "/Help/openapi.json")
		var doc map[string]any
		if err := json.Unmarshal(got.body, &doc); err != nil || !bytes.Equal(got.body, help.OpenAPI) {
			t.Errorf("%s: %v", app.ID, err)
		}
		etag := got.header.Get("ETag")
		req := httptest.NewRequest(http.MethodGet, "/Help/openapi.json", nil)
		req.Header.Set("If-None-Match", etag)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if etag == "" || w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("%s: ETag %q, revalidated %d with %d bytes", app.ID, etag, w.Code, w.Body.Len())
		}
	}
}

// TestHelpMatchAllocatesNothing: the Help face looks at every request of its listener first.
func TestHelpMatchAllocatesNothing(t *testing.T) {
	help, err := handlers.NewHelp("", contracts.Apps(), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/user/RememberMessage", "/Help/Api/POST-api-user-RememberMessage", "/help/openapi.json"} {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		if n := testing.AllocsPerRun(100, func() { help.Match(req) }); n != 0 {
			t.Errorf("%s: %v allocations per Match", path, n)
		}
	}
}
