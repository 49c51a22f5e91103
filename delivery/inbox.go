package delivery

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
)

// InboxEntry is one line of the dev inbox file.
type InboxEntry struct {
	At             time.Time `json:"at"`
	ID             int64     `json:"id"`
	App            string    `json:"app"`
	Channel        string    `json:"channel"`
	Kind           string    `json:"kind"`
	To             string    `json:"to"`
	Subject        string    `json:"subject,omitempty"`
	Text           string    `json:"text"`
	HTML           string    `json:"html,omitempty"`
	Code           string    `json:"code,omitempty"`
	Link           string    `json:"link,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
}

// Inbox is the sender used when no SMTP server or SMS gateway is configured: it "delivers" by appending
// the rendered message as one JSON line to a file next to the database, so a developer running the server
// with no set-up can read the codes (aspgate outbox list shows them). It is for development only: the file
// holds the codes in clear.
type Inbox struct {
	Path string
	Now  func() time.Time

	mu sync.Mutex
}

// NewInbox is an inbox writing to path.
func NewInbox(path string) *Inbox { return &Inbox{Path: path, Now: time.Now} }

func (in *Inbox) String() string { return "dev inbox " + in.Path }

// Send appends the envelope to the file in one write and syncs it, so a crash never leaves half a line
// that a reader would trip over, and a message recorded as sent is on disk.
func (in *Inbox) Send(ctx context.Context, e Envelope) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	line, err := json.Marshal(InboxEntry{At: in.Now().UTC(), ID: e.ID, App: e.App, Channel: string(e.Channel),
		Kind: string(e.Kind), To: e.To, Subject: e.Subject, Text: e.Text, HTML: e.HTML, Code: e.Code, Link: e.Link, IdempotencyKey: e.IdempotencyKey})
	if err != nil {
		return Permanent(err)
	}
	line = append(line, '\n')
	in.mu.Lock()
	defer in.mu.Unlock()
	f, err := os.OpenFile(in.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("dev inbox: %w", err)
	}
	_, werr := f.Write(line)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("dev inbox: %w", err)
	}
	return nil
}

// ReadInbox reads the entries of a dev inbox file, oldest first; a missing file is an empty inbox. A line
// that does not parse (the file was edited by hand) is skipped, not fatal: the others are still useful.
func ReadInbox(path string) ([]InboxEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readInbox(f)
}

func readInbox(r io.Reader) ([]InboxEntry, error) {
	var out []InboxEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e InboxEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}
