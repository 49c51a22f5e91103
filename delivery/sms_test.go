package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"aspgate/account"
	"aspgate/delivery"
)

// Values that must never appear in an error text or in String.
const (
	smsAPIKey   = "hdr-secret-7f3a9c"
	smsQueryKey = "query-secret-51be"
	smsCode     = "482913"
)

// smsEnvelope is an SMS whose text holds the things that break naive templating: quotes, a backslash,
// a newline and Cyrillic, plus the code that errors must not leak.
func smsEnvelope() delivery.Envelope {
	return delivery.Envelope{
		ID:             7,
		App:            `lc"manager`,
		Channel:        account.SMS,
		Kind:           account.KindCode,
		To:             "+7 900 123-45-67",
		Text:           "Код восстановления: " + smsCode + "\n\"не сообщайте\" \\ никому & <b>",
		IdempotencyKey: "sms-7-3f9c",
	}
}

// smsRequest is what the test gateway saw of one request.
type smsRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// smsGateway is an httptest server that records requests and answers with status.
type smsGateway struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []smsRequest
}

func newSMSGateway(tb testing.TB, status int) *smsGateway {
	tb.Helper()
	g := &smsGateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.reqs = append(g.reqs, smsRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		g.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprint(w, `{"status":"whatever"}`)
	}))
	tb.Cleanup(g.Close)
	return g
}

// last returns the only request the gateway received.
func (g *smsGateway) only(tb testing.TB) smsRequest {
	tb.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reqs) != 1 {
		tb.Fatalf("gateway received %d requests, want 1", len(g.reqs))
	}
	return g.reqs[0]
}

func mustSMSSender(tb testing.TB, cfg delivery.SMSConfig, client *http.Client) *delivery.SMSSender {
	tb.Helper()
	s, err := delivery.NewSMSSender(cfg, client)
	if err != nil {
		tb.Fatalf("NewSMSSender: %v", err)
	}
	return s
}

// assertNoSecrets fails if text contains a header value, the code, or the URL query.
func assertNoSecrets(tb testing.TB, text string) {
	tb.Helper()
	for _, secret := range []string{smsAPIKey, smsQueryKey, smsCode, "api_key", "?"} {
		if strings.Contains(text, secret) {
			tb.Errorf("text leaks %q: %s", secret, text)
		}
	}
}

func TestSMSSendRendersJSON(t *testing.T) {
	e := smsEnvelope()
	tests := []struct {
		name    string
		headers []string
		body    string
		want    map[string]any
	}{
		{
			name: "default body",
			want: map[string]any{"to": e.To, "text": e.Text},
		},
		{
			name: "every field",
			body: `{"sender":"Ёлка","message":{"phone":"{{.To}}","body":"{{.Text}}"},` +
				`"id":{{.ID}},"app":"{{.App}}","key":"{{.IdempotencyKey}}"}`,
			want: map[string]any{
				"sender":  "Ёлка",
				"message": map[string]any{"phone": e.To, "body": e.Text},
				"id":      float64(e.ID), "app": e.App, "key": e.IdempotencyKey,
			},
		},
		{
			name:    "vendor JSON media type",
			headers: []string{"Content-Type: application/vnd.gateway+json; charset=utf-8"},
			body:    `{"text":"{{.Text}}"}`,
			want:    map[string]any{"text": e.Text},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newSMSGateway(t, http.StatusOK)
			s := mustSMSSender(t, delivery.SMSConfig{URL: g.URL + "/send", Headers: tt.headers, Body: tt.body}, nil)
			if err := s.Send(context.Background(), e); err != nil {
				t.Fatalf("Send: %v", err)
			}
			req := g.only(t)
			if !json.Valid(req.Body) {
				t.Fatalf("body is not valid JSON: %s", req.Body)
			}
			var got map[string]any
			if err := json.Unmarshal(req.Body, &got); err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("gateway got\n%s\nwant\n%s", gotJSON, wantJSON)
			}
			if ct := req.Header.Get("Content-Type"); tt.headers == nil && ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
}

func TestSMSSendMethodAndHeaders(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		headers    []string
		wantMethod string
		wantHeader map[string][]string
	}{
		{
			name:       "defaults",
			wantMethod: http.MethodPost,
			wantHeader: map[string][]string{"Idempotency-Key": {"sms-7-3f9c"}, "Content-Type": {"application/json"}},
		},
		{
			name:       "custom method and repeated headers",
			method:     http.MethodPut,
			headers:    []string{"X-Api-Key: " + smsAPIKey, "x-tag: one", "X-Tag:two", "Authorization:  Bearer " + smsAPIKey + " "},
			wantMethod: http.MethodPut,
			wantHeader: map[string][]string{
				"X-Api-Key":       {smsAPIKey},
				"X-Tag":           {"one", "two"},
				"Authorization":   {"Bearer " + smsAPIKey},
				"Idempotency-Key": {"sms-7-3f9c"},
			},
		},
		{
			name:       "configured Idempotency-Key wins",
			headers:    []string{"idempotency-key: fixed"},
			wantMethod: http.MethodPost,
			wantHeader: map[string][]string{"Idempotency-Key": {"fixed"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newSMSGateway(t, http.StatusAccepted)
			s := mustSMSSender(t, delivery.SMSConfig{URL: g.URL + "/v1/sms", Method: tt.method, Headers: tt.headers}, nil)
			if err := s.Send(context.Background(), smsEnvelope()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			req := g.only(t)
			if req.Method != tt.wantMethod || req.Path != "/v1/sms" {
				t.Errorf("got %s %s, want %s /v1/sms", req.Method, req.Path, tt.wantMethod)
			}
			for name, want := range tt.wantHeader {
				if got := req.Header.Values(name); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestSMSSendForm(t *testing.T) {
	g := newSMSGateway(t, http.StatusOK)
	s := mustSMSSender(t, delivery.SMSConfig{
		URL:     g.URL + "/send",
		Headers: []string{"Content-Type: application/x-www-form-urlencoded"},
		Body:    `to={{.To}}&text={{.Text}}&ref={{.ID}}&api_key=` + smsQueryKey,
	}, nil)
	e := smsEnvelope()
	e.Text += " a=b&c=d+e%20"
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := g.only(t)
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(req.Body)))
	r.Header.Set("Content-Type", req.Header.Get("Content-Type"))
	if err := r.ParseForm(); err != nil {
		t.Fatalf("body does not parse as a form: %v", err)
	}
	for name, want := range map[string]string{"to": e.To, "text": e.Text, "ref": "7", "api_key": smsQueryKey} {
		if got := r.PostForm[name]; len(got) != 1 || got[0] != want {
			t.Errorf("form %s = %q, want %q", name, got, want)
		}
	}
}

func TestSMSSendRawBody(t *testing.T) {
	g := newSMSGateway(t, http.StatusOK)
	s := mustSMSSender(t, delivery.SMSConfig{
		URL:     g.URL,
		Headers: []string{"Content-Type: text/plain; charset=utf-8"},
		Body:    "{{.To}}\n{{.Text}}",
	}, nil)
	e := smsEnvelope()
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, want := string(g.only(t).Body), e.To+"\n"+e.Text; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func TestSMSSendStatus(t *testing.T) {
	tests := []struct {
		status    int
		wantErr   bool
		permanent bool
	}{
		{status: http.StatusOK},
		{status: http.StatusCreated},
		{status: http.StatusNoContent},
		{status: http.StatusBadRequest, wantErr: true, permanent: true},
		{status: http.StatusUnauthorized, wantErr: true, permanent: true},
		{status: http.StatusNotFound, wantErr: true, permanent: true},
		{status: http.StatusRequestTimeout, wantErr: true},
		{status: http.StatusTooManyRequests, wantErr: true},
		{status: http.StatusInternalServerError, wantErr: true},
		{status: http.StatusBadGateway, wantErr: true},
		{status: http.StatusServiceUnavailable, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			g := newSMSGateway(t, tt.status)
			s := mustSMSSender(t, delivery.SMSConfig{
				URL:     g.URL + "/send?api_key=" + smsQueryKey,
				Headers: []string{"X-Api-Key: " + smsAPIKey},
			}, nil)
			err := s.Send(context.Background(), smsEnvelope())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			if got := delivery.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			msg := err.Error()
			for _, want := range []string{fmt.Sprint(tt.status), "POST", g.URL + "/send"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			assertNoSecrets(t, msg)
			if g.only(t).Header.Get("X-Api-Key") != smsAPIKey {
				t.Error("the gateway did not get the API key header")
			}
		})
	}
}

func TestSMSSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	// Cleanups run last-in first-out: the handler is released before Close waits for it.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	s := mustSMSSender(t, delivery.SMSConfig{
		URL:     srv.URL + "/send?api_key=" + smsQueryKey,
		Headers: []string{"X-Api-Key: " + smsAPIKey},
		Timeout: 50 * time.Millisecond,
	}, nil)
	err := s.Send(context.Background(), smsEnvelope())
	if err == nil {
		t.Fatal("Send succeeded against a gateway that never answers")
	}
	if delivery.IsPermanent(err) {
		t.Errorf("a timeout is permanent: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	assertNoSecrets(t, err.Error())
}

func TestSMSSendContextCanceled(t *testing.T) {
	g := newSMSGateway(t, http.StatusOK)
	s := mustSMSSender(t, delivery.SMSConfig{URL: g.URL + "/send?api_key=" + smsQueryKey}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, smsEnvelope())
	if err == nil || delivery.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a canceled context = %v, want a retryable context.Canceled", err)
	}
	if err != nil {
		assertNoSecrets(t, err.Error())
	}
}

func TestSMSSendConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/send?api_key=" + smsQueryKey
	srv.Close()
	s := mustSMSSender(t, delivery.SMSConfig{URL: url, Headers: []string{"X-Api-Key: " + smsAPIKey}}, nil)
	err := s.Send(context.Background(), smsEnvelope())
	if err == nil || delivery.IsPermanent(err) {
		t.Fatalf("Send to a closed port = %v, want a retryable error", err)
	}
	assertNoSecrets(t, err.Error())
}

func TestSMSSendRedirect(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			target := newSMSGateway(t, http.StatusOK)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/elsewhere?token="+smsQueryKey, status)
			}))
			t.Cleanup(srv.Close)

			// A caller's client that follows redirects must not make the sender follow them, and must not
			// be changed by NewSMSSender.
			client := &http.Client{}
			s := mustSMSSender(t, delivery.SMSConfig{URL: srv.URL + "/send?api_key=" + smsQueryKey}, client)
			err := s.Send(context.Background(), smsEnvelope())
			if !delivery.IsPermanent(err) {
				t.Fatalf("Send through a %d = %v, want a permanent error", status, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(status)) {
				t.Errorf("error %q does not say the status", err)
			}
			assertNoSecrets(t, err.Error())
			target.mu.Lock()
			n := len(target.reqs)
			target.mu.Unlock()
			if n != 0 {
				t.Errorf("the redirect was followed %d times", n)
			}
			if client.CheckRedirect != nil {
				t.Error("NewSMSSender changed the caller's client")
			}
		})
	}
}

func TestNewSMSSenderErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  delivery.SMSConfig
		want string // a fragment of the error
	}{
		{"empty URL", delivery.SMSConfig{}, "URL"},
		{"relative URL", delivery.SMSConfig{URL: "/send?api_key=" + smsQueryKey}, "URL"},
		{"ftp URL", delivery.SMSConfig{URL: "ftp://sms.example/send?api_key=" + smsQueryKey}, "URL"},
		{"URL without host", delivery.SMSConfig{URL: "https:///send"}, "URL"},
		{"URL that does not parse", delivery.SMSConfig{URL: "https://sms.example/%zz?api_key=" + smsQueryKey}, "URL"},
		{"bad method", delivery.SMSConfig{URL: "https://sms.example", Method: "PO ST"}, "method"},
		{"negative timeout", delivery.SMSConfig{URL: "https://sms.example", Timeout: -time.Second}, "timeout"},
		{"header without colon", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{smsAPIKey}}, "header line 1"},
		{"header name with space", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{"X-Ok: 1", "X Api Key: " + smsAPIKey}}, "header line 2"},
		{"empty header name", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{": " + smsAPIKey}}, "header line 1"},
		{"header with CRLF", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{"X-Api-Key: " + smsAPIKey + "\r\nX-Evil: 1"}}, "line break"},
		{"header with LF", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{"X-Api-Key: " + smsAPIKey + "\n"}}, "line break"},
		{"header with control character", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{"X-Api-Key: " + smsAPIKey + "\x00"}}, "control character"},
		{"Content-Length header", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{"Content-Length: 5"}}, "Content-Length"},
		{"two Content-Types", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{"Content-Type: text/plain", "Content-Type: application/json"}}, "Content-Type"},
		{"bad Content-Type", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{"Content-Type: /"}}, "Content-Type"},
		{"template does not parse", delivery.SMSConfig{URL: "https://sms.example", Body: `{"to":"{{.To"}`}, "template"},
		{"template with unknown field", delivery.SMSConfig{URL: "https://sms.example", Body: `{"to":"{{.Phone}}"}`}, "template"},
		{"unquoted string in JSON", delivery.SMSConfig{URL: "https://sms.example", Body: `{"to":{{.To}},"text":"{{.Text}}"}`}, "JSON"},
		{"JSON that is not JSON", delivery.SMSConfig{URL: "https://sms.example", Body: `to={{.To}}`}, "JSON"},
		{"key in an invalid JSON body", delivery.SMSConfig{URL: "https://sms.example", Body: `{"key":"` + smsAPIKey + `",}`}, "JSON"},
		{"invalid form body", delivery.SMSConfig{URL: "https://sms.example", Headers: []string{"Content-Type: application/x-www-form-urlencoded"}, Body: `to={{.To}}&bad=%zz`}, "form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := delivery.NewSMSSender(tt.cfg, nil)
			if err == nil {
				t.Fatalf("NewSMSSender succeeded: %v", s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			assertNoSecrets(t, err.Error())
		})
	}
}

func TestSMSSenderString(t *testing.T) {
	tests := []struct {
		cfg  delivery.SMSConfig
		want string
	}{
		{
			delivery.SMSConfig{URL: "https://user:" + smsAPIKey + "@sms.example/send?api_key=" + smsQueryKey + "#frag",
				Headers: []string{"X-Api-Key: " + smsAPIKey, "Authorization: Bearer " + smsAPIKey}},
			"POST https://sms.example/send (2 headers)",
		},
		{
			delivery.SMSConfig{URL: "http://10.0.0.5:8080/api/sms", Method: "PUT", Headers: []string{"X-Api-Key: " + smsAPIKey}},
			"PUT http://10.0.0.5:8080/api/sms (1 header)",
		},
		{delivery.SMSConfig{URL: "https://sms.example"}, "POST https://sms.example (0 headers)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := mustSMSSender(t, tt.cfg, nil).String()
			if got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			assertNoSecrets(t, got)
		})
	}
}

func TestSMSSendConcurrent(t *testing.T) {
	g := newSMSGateway(t, http.StatusOK)
	s := mustSMSSender(t, delivery.SMSConfig{
		URL:     g.URL + "/send",
		Headers: []string{"X-Api-Key: " + smsAPIKey},
		Body:    `{"to":"{{.To}}","text":"{{.Text}}","id":{{.ID}}}`,
	}, nil)

	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			e := smsEnvelope()
			e.ID = int64(i)
			e.To = fmt.Sprintf("+7900000%04d", i)
			e.Text = fmt.Sprintf("Код %d \"%d\"", i, i)
			e.IdempotencyKey = fmt.Sprintf("sms-%d", i)
			errs <- s.Send(context.Background(), e)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reqs) != n {
		t.Fatalf("gateway received %d requests, want %d", len(g.reqs), n)
	}
	seen := make(map[int64]bool)
	for _, req := range g.reqs {
		var got struct {
			To, Text string
			ID       int64
		}
		if err := json.Unmarshal(req.Body, &got); err != nil {
			t.Fatalf("body %s: %v", req.Body, err)
		}
		i := got.ID
		if got.To != fmt.Sprintf("+7900000%04d", i) || got.Text != fmt.Sprintf("Код %d \"%d\"", i, i) ||
			req.Header.Get("Idempotency-Key") != fmt.Sprintf("sms-%d", i) || req.Header.Get("X-Api-Key") != smsAPIKey {
			t.Errorf("request %d mixed up: %s %v", i, req.Body, req.Header)
		}
		seen[i] = true
	}
	if len(seen) != n {
		t.Errorf("got %d distinct messages, want %d", len(seen), n)
	}
}
