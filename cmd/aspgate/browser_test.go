package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium: $CHROMIUM, else Debian's chromium (what `make browser-deps` installs).
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH and $CHROMIUM unset; `make browser-deps` installs Debian's chromium (make test runs it)")
}

// artefactDir is where the browser test leaves its screenshots: $ARTEFACT_DIR, else .artefacts/browser
// at the repository root (ignored by git).
func artefactDir(t *testing.T) string {
	dir := os.Getenv("ARTEFACT_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".artefacts")
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHelpPagesInABrowser opens /Help of `aspgate serve` in headless Chromium, follows the link to each
// API page and from there to each model page linked, and checks what a reader sees: the text rendered, and
// the stylesheet applied (computed styles only HelpPage.css gives). Each page is kept as a screenshot.
func TestHelpPagesInABrowser(t *testing.T) {
	chromium, err := chromiumPath()
	if err != nil {
		t.Skip("browser test skipped: " + err.Error())
	}
	r := startServer(t, "--addr", "127.0.0.1:0", "--admin-addr", "", "--db", filepath.Join(t.TempDir(), "a.db"))
	base := "http://" + r.s.Addr()
	shots := artefactDir(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	b := &browser{t: t}
	var cancelTab context.CancelFunc
	b.ctx, cancelTab = chromedp.NewContext(actx)
	defer cancelTab()
	if err := chromedp.Do(b.ctx); err != nil { // starts the browser, on a context without a deadline
		t.Fatalf("starting %s: %v", chromium, err)
	}
	shot := func(name string) {
		png := b.value("screenshot", chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png.([]byte), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	b.do("/Help", chromedp.Navigate(base+"/Help"), chromedp.WaitVisible(chromedp.CSS("h1")))
	text := b.text("body")
	apis := b.strings(`Array.from(document.querySelectorAll('a[href^="/Help/Api/"]')).map(a => a.getAttribute('href'))`)
	shot("index")
	for _, s := range []string{"ASP.NET Web API Help Page", "Introduction", "lcmanager: User", "customer: Customer",
		"ereader: Account", "aries: Account", "POST api/user/RememberMessage"} {
		if !strings.Contains(text, s) {
			t.Errorf("/Help does not show %q", s)
		}
	}
	b.style("/Help", map[string]string{
		`getComputedStyle(document.querySelector('#body.help-page')).color`:           "rgb(51, 51, 51)",
		`getComputedStyle(document.querySelector('#body.help-page')).fontSize`:        "14px",
		`getComputedStyle(document.querySelector('.help-page h1')).fontSize`:          "36px",
		`getComputedStyle(document.querySelector('.help-page-table')).borderCollapse`: "collapse",
	})
	want := []string{"/Help/Api/POST-api-user-RememberMessage", "/Help/Api/POST-api-Customer-PasswordChange",
		"/Help/Api/POST-api-Account-ResetPassword", "/Help/Api/POST-API-Account-ForgotPassword"}
	if strings.Join(apis, " ") != strings.Join(want, " ") {
		t.Fatalf("/Help links %q, want %q", apis, want)
	}
	models := 0
	for _, href := range apis {
		b.do(href, chromedp.Navigate(base+"/Help"), chromedp.WaitVisible(chromedp.CSS("h1")))
		b.follow(href)
		b.do(href, chromedp.WaitVisible(chromedp.CSS(".sample-header")))
		if loc := b.value("location", chromedp.Location()); loc != base+href {
			t.Errorf("the link took the browser to %s, want %s", loc, base+href)
		}
		h1, text := b.text("h1"), b.text("body")
		links := b.strings(`Array.from(new Set(Array.from(document.querySelectorAll('a[href*="ResourceModel"]')).map(a => a.getAttribute('href'))))`)
		shot(strings.TrimPrefix(href, "/Help/Api/"))
		method, path, _ := strings.Cut(strings.TrimPrefix(href, "/Help/Api/"), "-")
		if h1 != method+" "+strings.ReplaceAll(path, "-", "/") {
			t.Errorf("%s: heading %q", href, h1)
		}
		for _, s := range []string{"Request Information", "URI Parameters", "Body Parameters", "Request Formats",
			"application/json, text/json", "application/xml, text/xml", "Sample not available.", "Response Information"} {
			if !strings.Contains(text, s) {
				t.Errorf("%s does not show %q", href, s)
			}
		}
		b.style(href, map[string]string{
			`getComputedStyle(document.querySelector('.sample-header')).backgroundColor`: "rgb(0, 73, 126)",
			`getComputedStyle(document.querySelector('.sample-header')).color`:           "rgb(255, 255, 255)",
			`getComputedStyle(document.querySelector('.sample-header')).display`:         "inline-block",
			`getComputedStyle(document.querySelector('pre.wrapped')).whiteSpace`:         "pre-wrap",
		})
		if len(links) == 0 {
			t.Errorf("%s links no model", href)
		}
		for _, l := range links {
			name := l[strings.Index(l, "modelName=")+len("modelName="):]
			b.do(l, chromedp.Navigate(base+href), chromedp.WaitVisible(chromedp.CSS("h1")))
			b.follow(l)
			b.do(l, chromedp.WaitVisible(chromedp.CSS("h1")))
			if h1 := b.text("h1"); h1 != name {
				t.Errorf("%s: heading %q", l, h1)
			}
			if !strings.Contains(b.text("body"), "Help Page Home") {
				t.Errorf("%s: no link home", l)
			}
			shot("model-" + name)
			models++
		}
	}
	b.do("not found", chromedp.Navigate(base+"/Help/Api/nothing"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if text := b.text("body"); !strings.Contains(text, "No API has the id 'nothing'.") {
		t.Errorf("the unknown id's page says %q", text)
	}
	shot("not-found")
	t.Logf("%d API pages and %d model pages seen; screenshots in %s", len(apis), models, shots)
}

// browser runs the test's actions, each bounded so that a hung browser fails the test instead of the run
// (the test asserts nothing about time).
type browser struct {
	t   *testing.T
	ctx context.Context
}

const browserStep = time.Minute

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// follow clicks the page's link to href and waits for the page it loads, which must be a 200.
func (b *browser) follow(href string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href=%q]`, href))))
	if err != nil {
		b.t.Fatalf("following the link to %s: %v", href, err)
	}
	if res.Status != 200 || !strings.HasSuffix(res.URL, href) {
		b.t.Errorf("the link to %s loaded %s: %d", href, res.URL, res.Status)
	}
}

func (b *browser) value(what string, a any) any {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	var v any
	var err error
	switch a := a.(type) {
	case chromedp.Action[string]:
		v, err = chromedp.Run(ctx, a)
	case chromedp.Action[[]byte]:
		v, err = chromedp.Run(ctx, a)
	case chromedp.Action[[]string]:
		v, err = chromedp.Run(ctx, a)
	default:
		b.t.Fatalf("%s: action of type %T", what, a)
	}
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return b.value(sel, chromedp.Text(chromedp.CSS(sel))).(string)
}

func (b *browser) strings(js string) []string {
	b.t.Helper()
	return b.value(js, chromedp.Evaluate[[]string](js)).([]string)
}

// style checks computed styles that only the stylesheet gives.
func (b *browser) style(page string, want map[string]string) {
	b.t.Helper()
	for js, w := range want {
		if got := b.value(js, chromedp.Evaluate[string](js)).(string); got != w {
			b.t.Errorf("%s: %s = %q, want %q (the stylesheet did not apply)", page, js, got, w)
		}
	}
}
