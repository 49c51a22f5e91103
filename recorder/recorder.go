package recorder

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"aspgate/wireproxy"
)

// Recorder writes each exchange as a case file in Dir: NNNN-<app>-<method>-<status>.txt, its request body
// in Dir/bodies. Exchanges whose bodies were too long to keep whole, or that the upstream never answered,
// are counted and not written.
type Recorder struct {
	Dir string
	App string

	mu                sync.Mutex
	red               *Redactor
	seq               int
	Written, Skipped  int
	droppedHeaderKeys map[string]int
}

// Request headers a case keeps: what negotiation and binding read, and the Host a 404 quotes. Others
// (Authorization, Cookie, User-Agent, ...) are left out: some carry secrets, none changes the answer.
var keptRequestHeaders = []string{"Host", "Content-Type", "Accept", "Accept-Charset", "Accept-Language", "X-HTTP-Method-Override"}

// Response headers a case does not keep: per-exchange, per-connection, or secret.
var droppedResponseHeaders = map[string]bool{"Date": true, "Content-Length": true, "Connection": true, "Keep-Alive": true,
	"Transfer-Encoding": true, "Set-Cookie": true}

// New prepares dir (created if needed); numbering goes on after the cases already there.
func New(dir, app string) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Join(dir, "bodies"), 0o755); err != nil {
		return nil, err
	}
	existing, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	return &Recorder{Dir: dir, App: app, red: NewRedactor(), seq: len(existing), droppedHeaderKeys: map[string]int{}}, nil
}

// Observe is the proxy's observer.
func (r *Recorder) Observe(ex *wireproxy.Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ex.Err != nil || ex.Truncated {
		r.Skipped++
		return
	}
	if err := r.write(ex); err != nil {
		r.Skipped++
	}
}

func (r *Recorder) write(ex *wireproxy.Exchange) error {
	red := r.red
	reqCT := ex.Header.Get("Content-Type")
	// Requests first: the secrets they send are then known when the answer quotes them.
	body := red.Text(red.Body(reqCT, ex.Body))
	target := red.Target(ex.Target)
	respBody := red.Text(red.Body(ex.RespHeader.Get("Content-Type"), ex.RespBody))
	body, target = red.Text(body), string(red.Text([]byte(target)))

	r.seq++
	name := fmt.Sprintf("%04d-%s-%s-%d", r.seq, r.App, strings.ToLower(ex.Method), ex.Status)
	var line strings.Builder
	fmt.Fprintf(&line, "$ aspgate record request %s %s %s", r.App, ex.Method, target)
	for _, k := range keptRequestHeaders {
		v := ex.Header.Get(k)
		if k == "Host" {
			v = ex.Host
		}
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, "'\r\n") {
			r.droppedHeaderKeys[k]++ // the format quotes values in '…'
			continue
		}
		fmt.Fprintf(&line, " -H '%s: %s'", k, v)
	}
	if len(body) > 0 {
		bodyFile := filepath.Join("bodies", name+".bin")
		if err := os.WriteFile(filepath.Join(r.Dir, bodyFile), body, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&line, " --body-file %s", bodyFile)
	}
	var out bytes.Buffer
	out.WriteString(line.String())
	fmt.Fprintf(&out, "\nHTTP/1.1 %d %s\n", ex.Status, ex.Reason)
	keys := make([]string, 0, len(ex.RespHeader))
	for k := range ex.RespHeader {
		if !droppedResponseHeaders[http.CanonicalHeaderKey(k)] {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { // Content-Type first, as the recordings have it
		if (keys[i] == "Content-Type") != (keys[j] == "Content-Type") {
			return keys[i] == "Content-Type"
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		for _, v := range ex.RespHeader[k] {
			fmt.Fprintf(&out, "%s: %s\n", k, v)
		}
	}
	out.WriteString("\n")
	out.Write(respBody)
	out.WriteString("\n")
	if err := os.WriteFile(filepath.Join(r.Dir, name+".txt"), out.Bytes(), 0o644); err != nil {
		return err
	}
	r.Written++
	return nil
}
