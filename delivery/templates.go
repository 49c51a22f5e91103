package delivery

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	texttemplate "text/template"
	"time"

	"aspgate/account"
)

// builtinTemplates are the default words of every message, shipped in the binary: templates/<app>/ holds
// an app's own, templates/default/ the rest. A folder given to LoadTemplates overrides them file by file.
//
//go:embed templates
var builtinTemplates embed.FS

// defaultApp is the template folder used when an app has no template of its own.
const defaultApp = "default"

// The template parts: an e-mail has a subject, a text and an HTML part; an SMS is one text.
const (
	partSubject = "subject"
	partText    = "text"
	partHTML    = "html"
	partSMS     = "sms"
)

var (
	allKinds = []account.MessageKind{account.KindCode, account.KindChangeLink, account.KindLoginCode}
	allParts = []string{partSubject, partText, partHTML, partSMS}
)

// TemplateData is what a template sees.
type TemplateData struct {
	App          string
	Kind         string
	To           string
	Code         string // KindCode, KindLoginCode
	Link         string // KindChangeLink
	ExpiresAt    time.Time
	ValidMinutes int // whole minutes from the message's creation to ExpiresAt
}

// executor is a parsed text or HTML template.
type executor interface {
	Execute(w io.Writer, data any) error
}

type templateKey struct {
	app  string
	kind account.MessageKind
	part string
}

// Templates renders outbox messages into envelopes.
type Templates struct {
	set    map[templateKey]executor
	source map[templateKey]string // where each template came from, for errors
}

// LoadTemplates parses the built-in templates and, when dir is not "", the overrides in dir (same layout:
// dir/<app or default>/<kind>.<part>.tmpl). Every template is parsed and rendered once with sample data
// here, so a broken override stops the server at start instead of killing messages later. Unknown files
// in dir are refused: a misspelt name would otherwise be ignored without a word.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{set: map[templateKey]executor{}, source: map[templateKey]string{}}
	sub, err := fs.Sub(builtinTemplates, "templates")
	if err != nil {
		return nil, err
	}
	if err := t.load(sub, "built-in "); err != nil {
		return nil, err
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("templates: %s is not a folder", dir)
		}
		if err := t.load(os.DirFS(dir), dir+string(os.PathSeparator)); err != nil {
			return nil, err
		}
	}
	for _, kind := range allKinds {
		for _, part := range allParts {
			if _, ok := t.set[templateKey{defaultApp, kind, part}]; !ok {
				return nil, fmt.Errorf("templates: no %s/%s.%s.tmpl", defaultApp, kind, part)
			}
		}
	}
	for k := range t.set {
		if _, err := t.render(k.app, k.kind, k.part, sampleData(k.app, k.kind)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Templates) load(fsys fs.FS, origin string) error {
	apps, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	for _, app := range apps {
		if !app.IsDir() {
			if strings.HasPrefix(app.Name(), ".") {
				continue
			}
			return fmt.Errorf("templates: %s%s: want folders named for apps (or %q)", origin, app.Name(), defaultApp)
		}
		files, err := fs.ReadDir(fsys, app.Name())
		if err != nil {
			return fmt.Errorf("templates: %w", err)
		}
		for _, f := range files {
			if strings.HasPrefix(f.Name(), ".") {
				continue
			}
			name := path.Join(app.Name(), f.Name())
			kind, part, ok := parseTemplateName(f.Name())
			if !ok || f.IsDir() {
				return fmt.Errorf("templates: %s%s: want <kind>.<part>.tmpl with kind one of %v and part one of %v",
					origin, name, allKinds, allParts)
			}
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				return fmt.Errorf("templates: %w", err)
			}
			var ex executor
			if part == partHTML {
				h, perr := htmltemplate.New(name).Option("missingkey=error").Parse(string(src))
				ex, err = h, perr
			} else {
				x, perr := texttemplate.New(name).Option("missingkey=error").Parse(string(src))
				ex, err = x, perr
			}
			if err != nil {
				return fmt.Errorf("templates: %s%s: %w", origin, name, err)
			}
			k := templateKey{app.Name(), kind, part}
			t.set[k] = ex
			t.source[k] = origin + name
		}
	}
	return nil
}

func parseTemplateName(name string) (account.MessageKind, string, bool) {
	base, ok := strings.CutSuffix(name, ".tmpl")
	if !ok {
		return "", "", false
	}
	kind, part, ok := strings.Cut(base, ".")
	if !ok {
		return "", "", false
	}
	kindOK, partOK := false, false
	for _, k := range allKinds {
		kindOK = kindOK || string(k) == kind
	}
	for _, p := range allParts {
		partOK = partOK || p == part
	}
	return account.MessageKind(kind), part, kindOK && partOK
}

func sampleData(app string, kind account.MessageKind) TemplateData {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return TemplateData{App: app, Kind: string(kind), To: "someone@example.com", Code: "123456",
		Link: "https://example.com/change?id=abc&x=<\"'>", ExpiresAt: now.Add(10 * time.Minute), ValidMinutes: 10}
}

// render executes the app's template for kind and part, or the default one.
func (t *Templates) render(app string, kind account.MessageKind, part string, data TemplateData) (string, error) {
	k := templateKey{app, kind, part}
	ex, ok := t.set[k]
	if !ok {
		k.app = defaultApp
		if ex, ok = t.set[k]; !ok {
			return "", fmt.Errorf("templates: no template for %s %s.%s", app, kind, part)
		}
	}
	var b bytes.Buffer
	if err := ex.Execute(&b, data); err != nil {
		return "", fmt.Errorf("templates: %s: %w", t.source[k], err)
	}
	s := strings.TrimSpace(b.String())
	switch part {
	case partSubject:
		if strings.ContainsAny(s, "\r\n") {
			return "", fmt.Errorf("templates: %s: a subject is one line", t.source[k])
		}
	case partSMS:
		s = strings.Join(strings.Fields(s), " ") // an SMS is one paragraph; a template's line breaks are layout
	}
	if s == "" && part != partHTML {
		return "", fmt.Errorf("templates: %s renders empty", t.source[k])
	}
	return s, nil
}

// Render turns a claimed outbox message into an envelope for its channel.
func (t *Templates) Render(m account.QueuedMessage) (Envelope, error) {
	e := Envelope{ID: m.ID, App: m.App, Channel: m.Channel, Kind: m.Kind, To: m.To, IdempotencyKey: m.IdempotencyKey}
	if m.Secret == "" {
		return e, errors.New("the message has no secret left to send")
	}
	data := TemplateData{App: m.App, Kind: string(m.Kind), To: m.To, ExpiresAt: m.ExpiresAt}
	switch m.Kind {
	case account.KindChangeLink:
		data.Link = m.Link()
	case account.KindCode, account.KindLoginCode:
		data.Code = m.Secret
	default:
		return e, fmt.Errorf("unknown message kind %q", m.Kind)
	}
	if !m.ExpiresAt.IsZero() && !m.CreatedAt.IsZero() {
		data.ValidMinutes = int(m.ExpiresAt.Sub(m.CreatedAt) / time.Minute)
	}
	e.Code, e.Link = data.Code, data.Link
	var err error
	switch m.Channel {
	case account.SMS:
		e.Text, err = t.render(m.App, m.Kind, partSMS, data)
	case account.Email:
		if e.Subject, err = t.render(m.App, m.Kind, partSubject, data); err != nil {
			break
		}
		if e.Text, err = t.render(m.App, m.Kind, partText, data); err != nil {
			break
		}
		e.HTML, err = t.render(m.App, m.Kind, partHTML, data)
	default:
		err = fmt.Errorf("unknown channel %q", m.Channel)
	}
	return e, err
}
