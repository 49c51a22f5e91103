package delivery_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/delivery"
)

func queued(app string, ch account.Channel, kind account.MessageKind, secret string) account.QueuedMessage {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	return account.QueuedMessage{ID: 7, CreatedAt: at, IdempotencyKey: "k7", Message: account.Message{App: app, Channel: ch,
		Kind: kind, To: "ivan@example.com", Secret: secret, LinkBase: "https://x.example/c?id=", ExpiresAt: at.Add(15 * time.Minute)}}
}

func TestBuiltinTemplates(t *testing.T) {
	tpl, err := delivery.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	e, err := tpl.Render(queued("lcmanager", account.Email, account.KindCode, "123456"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Subject != "Код подтверждения" || !strings.HasPrefix(e.Text, "Ваш код подтверждения: 123456.") ||
		!strings.Contains(e.Text, "15 мин") || !strings.Contains(e.HTML, ">123456</p>") || e.Code != "123456" {
		t.Errorf("lcmanager e-mail %+v", e)
	}
	// An app without templates of its own gets the defaults.
	e, err = tpl.Render(queued("ereader", account.SMS, account.KindCode, "654321"))
	if err != nil || e.Text != "Your confirmation code: 654321. Valid for 15 min. Do not share it." || e.Subject != "" {
		t.Errorf("default sms %+v %v", e, err)
	}
	e, err = tpl.Render(queued("r7office", account.SMS, account.KindLoginCode, "000111"))
	if err != nil || !strings.HasPrefix(e.Text, "R7-Office: код для входа 000111.") {
		t.Errorf("r7office sms %+v %v", e, err)
	}
	if _, err := tpl.Render(queued("aries", account.Email, account.KindChangeLink, "")); err == nil {
		t.Error("a message without its secret rendered")
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTemplateOverrides(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"aries/change-link.subject.tmpl": "Reset your ARIES password\n",
		"default/code.sms.tmpl":          "Code {{.Code}}\nfor {{.App}}\n",
	})
	tpl, err := delivery.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := tpl.Render(queued("aries", account.Email, account.KindChangeLink, "s/1"))
	if err != nil || e.Subject != "Reset your ARIES password" || !strings.Contains(e.Text, "https://x.example/c?id=s%2F1") {
		t.Errorf("aries %+v %v", e, err)
	}
	e, err = tpl.Render(queued("ereader", account.SMS, account.KindCode, "1"))
	if err != nil || e.Text != "Code 1 for ereader" {
		t.Errorf("sms %q %v", e.Text, err)
	}
	// lcmanager's own built-in SMS still wins over an overridden default.
	e, _ = tpl.Render(queued("lcmanager", account.SMS, account.KindCode, "2"))
	if !strings.HasPrefix(e.Text, "Код подтверждения: 2.") {
		t.Errorf("lcmanager sms %q", e.Text)
	}
}

func TestTemplateOverridesRefused(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"parse error":      {"default/code.sms.tmpl": "{{.Code"},
		"unknown field":    {"default/code.sms.tmpl": "{{.Password}}"},
		"misspelt kind":    {"default/cod.sms.tmpl": "x"},
		"misspelt part":    {"default/code.body.tmpl": "x"},
		"no extension":     {"default/code.sms": "x"},
		"file at the root": {"code.sms.tmpl": "x"},
		"two-line subject": {"default/code.subject.tmpl": "a\n{{.Code}}"},
		"empty sms":        {"default/code.sms.tmpl": "  \n"},
	} {
		if _, err := delivery.LoadTemplates(writeFiles(t, files)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := delivery.LoadTemplates(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing folder loaded")
	}
}
