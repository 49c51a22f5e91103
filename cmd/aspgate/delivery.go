package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"aspgate/delivery"
	"aspgate/store/postgres"
)

// Suffixes of the files kept next to the database.
const (
	inboxSuffix    = ".inbox.jsonl"   // the dev inbox
	dispatchSuffix = ".dispatch.lock" // the SQLite engine's dispatch lock beside the database (gitignored)
)

// deliveryFlags are the settings of message delivery, which serve and outbox send-once take. Flags that
// may hold secrets (the SMTP URL's password, the SMS gateway's key in a header or in its URL) take their
// environment value after parsing instead of as the flag's default, so --help never prints it.
type deliveryFlags struct {
	smtpURL     string
	mailFrom    string
	smsURL      string
	smsMethod   string
	smsHeaders  headerFlags
	smsBody     string
	smsTimeout  time.Duration
	templates   string
	inbox       string
	maxAttempts int
	backoff     time.Duration
	backoffMax  time.Duration
	poll        time.Duration
	sendTimeout time.Duration
	concurrency int
	retention   time.Duration
	noSend      bool
}

// headerFlags collects repeated --sms-header 'Name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string { return "" } // never print a value: it may be an API key

func (h *headerFlags) Set(v string) error {
	*h = append(*h, v)
	return nil
}

func (d *deliveryFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.smtpURL, "smtp-url", "", "SMTP server `URL`: smtp://user:pass@host:587?tls=starttls, tls=implicit, "+
		"or tls=none for a relay on loopback; none: e-mail goes to the dev inbox (env ASPGATE_SMTP_URL)")
	fs.StringVar(&d.mailFrom, "mail-from", envString("ASPGATE_MAIL_FROM", ""),
		"From `address` of e-mail, e.g. 'Example <noreply@example.com>' (env ASPGATE_MAIL_FROM)")
	fs.StringVar(&d.smsURL, "sms-url", "", "SMS gateway webhook `URL`; none: SMS go to the dev inbox (env ASPGATE_SMS_URL)")
	fs.StringVar(&d.smsMethod, "sms-method", envString("ASPGATE_SMS_METHOD", "POST"), "HTTP `method` of the SMS webhook (env ASPGATE_SMS_METHOD)")
	fs.Var(&d.smsHeaders, "sms-header", "`'Name: value'` header sent to the SMS webhook, e.g. an API key (repeatable; "+
		"env ASPGATE_SMS_HEADERS, one per line)")
	fs.StringVar(&d.smsBody, "sms-body", envString("ASPGATE_SMS_BODY", ""), "SMS webhook body `template` with {{.To}} and {{.Text}} "+
		`(default {"to":"{{.To}}","text":"{{.Text}}"}; env ASPGATE_SMS_BODY)`)
	fs.DurationVar(&d.smsTimeout, "sms-timeout", envDuration("ASPGATE_SMS_TIMEOUT", 10*time.Second), "SMS webhook timeout (env ASPGATE_SMS_TIMEOUT)")
	fs.StringVar(&d.templates, "templates", envString("ASPGATE_TEMPLATES", ""), "`folder` of message templates overriding the "+
		"built-in ones: <app or default>/<kind>.<subject|text|html|sms>.tmpl (env ASPGATE_TEMPLATES)")
	fs.StringVar(&d.inbox, "dev-inbox", envString("ASPGATE_DEV_INBOX", ""), "dev inbox `file` (default: the database path + \""+
		inboxSuffix+"\"; env ASPGATE_DEV_INBOX)")
	fs.IntVar(&d.maxAttempts, "outbox-max-attempts", envInt("ASPGATE_OUTBOX_MAX_ATTEMPTS", delivery.DefaultMaxAttempts),
		"delivery attempts before a message is dead (env ASPGATE_OUTBOX_MAX_ATTEMPTS)")
	fs.DurationVar(&d.backoff, "outbox-backoff", envDuration("ASPGATE_OUTBOX_BACKOFF", delivery.DefaultBackoffBase),
		"wait after a message's first failed attempt, doubled after each next one, with jitter (env ASPGATE_OUTBOX_BACKOFF)")
	fs.DurationVar(&d.backoffMax, "outbox-backoff-max", envDuration("ASPGATE_OUTBOX_BACKOFF_MAX", delivery.DefaultBackoffMax),
		"longest wait between attempts (env ASPGATE_OUTBOX_BACKOFF_MAX)")
	fs.DurationVar(&d.poll, "outbox-poll", envDuration("ASPGATE_OUTBOX_POLL", delivery.DefaultPoll),
		"how often the dispatcher looks for due retries (new messages go out at once; env ASPGATE_OUTBOX_POLL)")
	fs.DurationVar(&d.sendTimeout, "send-timeout", envDuration("ASPGATE_SEND_TIMEOUT", delivery.DefaultSendTimeout),
		"longest one delivery attempt may take (env ASPGATE_SEND_TIMEOUT)")
	fs.IntVar(&d.concurrency, "send-concurrency", envInt("ASPGATE_SEND_CONCURRENCY", delivery.DefaultConcurrency),
		"deliveries in flight at once (env ASPGATE_SEND_CONCURRENCY)")
	fs.BoolVar(&d.noSend, "no-send", envBool("ASPGATE_NO_SEND"), "never deliver: every code and link is discarded as if sent "+
		"(for a shadow's candidate or secondary; env ASPGATE_NO_SEND)")
	fs.DurationVar(&d.retention, "outbox-retention", envDuration("ASPGATE_OUTBOX_RETENTION", delivery.DefaultRetention),
		"sent and dead messages are deleted after this long; negative: never (env ASPGATE_OUTBOX_RETENTION)")
}

// fromEnv fills the secret-bearing settings not given as flags from the environment.
func (d *deliveryFlags) fromEnv(fs *flag.FlagSet) {
	if !flagSet(fs, "smtp-url") {
		d.smtpURL = os.Getenv("ASPGATE_SMTP_URL")
	}
	if !flagSet(fs, "sms-url") {
		d.smsURL = os.Getenv("ASPGATE_SMS_URL")
	}
	if !flagSet(fs, "sms-header") {
		for _, l := range strings.Split(os.Getenv("ASPGATE_SMS_HEADERS"), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				d.smsHeaders = append(d.smsHeaders, l)
			}
		}
	}
}

// dispatcher builds the dispatcher of the database at dbPath (its Outbox is set by the caller).
func (d *deliveryFlags) dispatcher(dbPath string, log *slog.Logger) (*delivery.Dispatcher, error) {
	tpl, err := delivery.LoadTemplates(d.templates)
	if err != nil {
		return nil, err
	}
	inboxPath := devInboxPath(dbPath, d.inbox)
	var inbox delivery.Sender = delivery.NewInbox(inboxPath)
	disp := &delivery.Dispatcher{
		Templates: tpl, Email: inbox, SMS: inbox, // LockPath: the engine's, set once it is open
		MaxAttempts: d.maxAttempts, BackoffBase: d.backoff, BackoffMax: d.backoffMax, Poll: d.poll,
		SendTimeout: d.sendTimeout, Concurrency: d.concurrency, Retention: d.retention, Log: log,
	}
	if d.maxAttempts < 1 {
		return nil, errors.New("--outbox-max-attempts must be at least 1")
	}
	if d.smtpURL != "" {
		cfg, err := delivery.ParseSMTPURL(d.smtpURL)
		if err != nil {
			return nil, fmt.Errorf("--smtp-url: %w", err)
		}
		if d.mailFrom == "" {
			return nil, errors.New("--mail-from is required with --smtp-url")
		}
		s, err := delivery.NewSMTPSender(cfg, d.mailFrom)
		if err != nil {
			return nil, fmt.Errorf("--smtp-url: %w", err)
		}
		disp.Email = s
	}
	if d.smsURL != "" {
		s, err := delivery.NewSMSSender(delivery.SMSConfig{URL: d.smsURL, Method: d.smsMethod, Headers: d.smsHeaders,
			Body: d.smsBody, Timeout: d.smsTimeout}, nil)
		if err != nil {
			return nil, fmt.Errorf("--sms-url: %w", err)
		}
		disp.SMS = s
	} else if len(d.smsHeaders) > 0 || d.smsBody != "" {
		return nil, errors.New("--sms-header and --sms-body need --sms-url")
	}
	if d.noSend {
		disp.Email, disp.SMS = delivery.Discard{}, delivery.Discard{}
	}
	return disp, nil
}

// logDelivery says in one line where messages go.
func logDelivery(log *slog.Logger, d *delivery.Dispatcher) {
	_, mailInbox := d.Email.(*delivery.Inbox)
	_, smsInbox := d.SMS.(*delivery.Inbox)
	_, discard := d.Email.(delivery.Discard)
	switch {
	case discard:
		log.Warn("--no-send: codes and links are discarded, never delivered (a shadow's candidate or secondary)")
	case mailInbox && smsInbox:
		log.Warn("no SMTP server or SMS gateway configured: messages go to the dev inbox; read them with `aspgate outbox list`",
			"inbox", d.Email.(*delivery.Inbox).Path)
	case mailInbox || smsInbox:
		// Half configured: one channel's messages would only reach a file, which in production means never.
		log.Warn("delivery: one channel goes to the dev inbox only", "email", d.Email.String(), "sms", d.SMS.String())
	default:
		log.Info("delivery", "email", d.Email.String(), "sms", d.SMS.String())
	}
}

// devInboxPath is the dev inbox: the configured file, else the database path + ".inbox.jsonl", or for a
// PostgreSQL database "aspgate.inbox.jsonl" in the working directory (there is no file to sit beside).
func devInboxPath(db, configured string) string {
	switch {
	case configured != "":
		return configured
	case postgres.IsDSN(db):
		return "aspgate" + inboxSuffix
	}
	return db + inboxSuffix
}
