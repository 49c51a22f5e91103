package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"aspgate/account"
	"aspgate/contracts"
	"aspgate/delivery"
	"aspgate/handlers"
	"aspgate/health"
	"aspgate/listen"
	"aspgate/metrics"
	"aspgate/store/postgres"
	"aspgate/store/sqlite"
)

// serveConfig is everything `aspgate serve` can be told, by flag or by ASPGATE_* variable.
type serveConfig struct {
	storage         storageFlags
	engine          engineFlags
	addr            string
	linkBaseURL     string
	durable         bool
	busyTimeout     time.Duration
	maxBody         int64
	hashConcurrency int
	limits          account.Limits
	shutdownTimeout time.Duration
	logLevel        string
	notFoundApp     string
	listen          listenFlags // app=addr: a listener answering one app only, as its own legacy host did
	delivery        deliveryFlags
	dispatch        bool // run the outbox dispatcher in this process
	tenantOffset    string
	require2FA      bool
	tokenTTL        time.Duration
	totpIssuer      string
	introspect      string // the introspection client secret
	signIn          account.SignInRule
	failuresPerIP   int
	r7Culture       string
	apps            string // --apps: the apps the combined listener answers ("" all)
	adminAddr       string
	proxies         proxyFlags
	proxyHeader     string
	tlsCert         string
	tlsKey          string
	shutdownDelay   time.Duration
	adminPprof      bool
}

// proxyFlags collects repeated --trusted-proxy flags.
type proxyFlags []netip.Prefix

func (p *proxyFlags) String() string { return "" }

func (p *proxyFlags) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		pre, err := handlers.ParseProxy(part)
		if err != nil {
			return fmt.Errorf("want a CIDR range or an address, got %q", part)
		}
		*p = append(*p, pre)
	}
	return nil
}

// listenFlags collects repeated --listen app=addr flags.
type listenFlags []appListen

type appListen struct{ app, addr string }

func (l *listenFlags) String() string { return "" }

func (l *listenFlags) Set(v string) error {
	app, addr, ok := strings.Cut(v, "=")
	if !ok || addr == "" {
		return fmt.Errorf("want app=address, got %q", v)
	}
	if _, ok := contracts.LookupApp(app); !ok {
		return fmt.Errorf("unknown app %q", app)
	}
	*l = append(*l, appListen{app, addr})
	return nil
}

func envString(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(os.Getenv(name))
	return v
}

func envBoolDefault(name string, def bool) bool {
	if v, err := strconv.ParseBool(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func (c *serveConfig) parse(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.storage.register(fs)
	c.engine.register(fs)
	def := account.DefaultConfig()
	fs.StringVar(&c.addr, "addr", envString("ASPGATE_ADDR", "127.0.0.1:8080"),
		"listen `address` of the combined listener, answering every app (or --apps); empty: none, only --listen (env ASPGATE_ADDR)")
	fs.StringVar(&c.apps, "apps", envString("ASPGATE_APPS", ""),
		"comma-separated `apps` the combined listener answers (lcmanager, r7office, customer, ereader, aries); empty: all (env ASPGATE_APPS)")
	fs.StringVar(&c.adminAddr, "admin-addr", envString("ASPGATE_ADMIN_ADDR", "127.0.0.1:9090"),
		"`address` of the admin listener (/healthz, /readyz, /metrics), never on a legacy listener; empty: none (env ASPGATE_ADMIN_ADDR)")
	fs.BoolVar(&c.adminPprof, "admin-pprof", envBool("ASPGATE_ADMIN_PPROF"),
		"also serve Go's profiler at /debug/pprof/ on the admin listener (env ASPGATE_ADMIN_PPROF)")
	fs.Var(&c.proxies, "trusted-proxy", "`CIDR` range (or address) of a reverse proxy whose forwarding header gives the client address "+
		"for limits, logs and audit (repeatable, or comma-separated in env ASPGATE_TRUSTED_PROXY); none: the peer is the client")
	fs.StringVar(&c.proxyHeader, "proxy-header", envString("ASPGATE_PROXY_HEADER", "X-Forwarded-For"),
		"the forwarding `header` the trusted proxies set: X-Forwarded-For or Forwarded (only that one is read; env ASPGATE_PROXY_HEADER)")
	fs.StringVar(&c.tlsCert, "tls-cert", envString("ASPGATE_TLS_CERT", ""),
		"PEM certificate chain `file`: the legacy listeners speak TLS 1.2+ only (with --tls-key; reloaded on SIGHUP; env ASPGATE_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", envString("ASPGATE_TLS_KEY", ""), "PEM private key `file` of --tls-cert (env ASPGATE_TLS_KEY)")
	fs.DurationVar(&c.shutdownDelay, "shutdown-delay", envDuration("ASPGATE_SHUTDOWN_DELAY", 0),
		"after SIGINT/SIGTERM, how long /readyz says 503 while requests are still served, before the listeners close "+
			"(let a load balancer notice; env ASPGATE_SHUTDOWN_DELAY)")
	fs.StringVar(&c.linkBaseURL, "link-base-url", envString("ASPGATE_LINK_BASE_URL", def.LinkBaseURL),
		"`URL` of the password-change page; links are URL?id=<ChangeRequestId> (env ASPGATE_LINK_BASE_URL)")
	fs.BoolVar(&c.durable, "durable", envBool("ASPGATE_DURABLE"),
		"synchronous=FULL: committed changes survive a power loss, at some cost in speed (env ASPGATE_DURABLE)")
	fs.DurationVar(&c.busyTimeout, "busy-timeout", envDuration("ASPGATE_BUSY_TIMEOUT", 5*time.Second),
		"how long to wait for a database lock held by another process (env ASPGATE_BUSY_TIMEOUT)")
	fs.Int64Var(&c.maxBody, "max-body", int64(envInt("ASPGATE_MAX_BODY", handlers.DefaultMaxBody)),
		"largest request body in `bytes`; larger ones get 413 (env ASPGATE_MAX_BODY)")
	fs.IntVar(&c.hashConcurrency, "hash-concurrency", envInt("ASPGATE_HASH_CONCURRENCY", 0),
		"argon2id hashes run at once (0: the number of CPUs; env ASPGATE_HASH_CONCURRENCY)")
	fs.IntVar(&c.limits.PerRecipientMinute, "limit-recipient-minute", envInt("ASPGATE_LIMIT_RECIPIENT_MINUTE", def.Limits.PerRecipientMinute),
		"codes and links per account (its phone and e-mail together), or per unknown phone or e-mail, per minute; 0: no limit (env ASPGATE_LIMIT_RECIPIENT_MINUTE)")
	fs.IntVar(&c.limits.PerRecipientHour, "limit-recipient-hour", envInt("ASPGATE_LIMIT_RECIPIENT_HOUR", def.Limits.PerRecipientHour),
		"codes and links per account, or per unknown phone or e-mail, per hour; 0: no limit (env ASPGATE_LIMIT_RECIPIENT_HOUR)")
	fs.IntVar(&c.limits.PerClientHour, "limit-client-hour", envInt("ASPGATE_LIMIT_CLIENT_HOUR", def.Limits.PerClientHour),
		"codes and links requested per client address per hour; 0: no limit (env ASPGATE_LIMIT_CLIENT_HOUR)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", envDuration("ASPGATE_SHUTDOWN_TIMEOUT", 30*time.Second),
		"how long in-flight requests may take to finish after SIGINT/SIGTERM (env ASPGATE_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.notFoundApp, "not-found-app", envString("ASPGATE_NOT_FOUND_APP", "lcmanager"),
		"whose 404 body --addr gives for unknown paths (aries answers in camelCase; env ASPGATE_NOT_FOUND_APP)")
	fs.Var(&c.listen, "listen", "`app=address`: also listen on address for one app only, with that app's own 404s (repeatable)")
	fs.StringVar(&c.logLevel, "log-level", envString("ASPGATE_LOG_LEVEL", "info"), "debug, info, warn or error (env ASPGATE_LOG_LEVEL)")
	fs.BoolVar(&c.dispatch, "dispatch", envBoolDefault("ASPGATE_DISPATCH", true),
		"deliver the outbox from this process; false leaves it to `aspgate outbox send-once` or another server (env ASPGATE_DISPATCH)")
	c.delivery.register(fs)
	tf := account.DefaultTwoFactorConfig()
	fs.StringVar(&c.tenantOffset, "tenant-utc-offset", envString("ASPGATE_TENANT_UTC_OFFSET", "Z"),
		"r7office: the tenant's UTC `offset` its dates are written in, Z or ±hh:mm (env ASPGATE_TENANT_UTC_OFFSET)")
	fs.BoolVar(&c.require2FA, "require-2fa", envBool("ASPGATE_REQUIRE_2FA"),
		"r7office: users without a second factor must set a phone before they get a token (env ASPGATE_REQUIRE_2FA)")
	fs.DurationVar(&c.tokenTTL, "token-ttl", envDuration("ASPGATE_TOKEN_TTL", tf.TokenTTL),
		"r7office: lifetime of the API tokens a sign-in issues; 0: one calendar year, ONLYOFFICE's default (env ASPGATE_TOKEN_TTL)")
	fs.StringVar(&c.totpIssuer, "totp-issuer", envString("ASPGATE_TOTP_ISSUER", tf.Issuer),
		"issuer shown by authenticator apps (env ASPGATE_TOTP_ISSUER)")
	fs.IntVar(&c.signIn.Attempts, "signin-attempts", envInt("ASPGATE_SIGNIN_ATTEMPTS", tf.SignIn.Attempts),
		"r7office: failed sign-ins per login and client address within --signin-period that block it (ONLYOFFICE's "+
			"LoginSettings.AttemptCount); successes do not count; 0: no limit (env ASPGATE_SIGNIN_ATTEMPTS)")
	fs.DurationVar(&c.signIn.Period, "signin-period", envDuration("ASPGATE_SIGNIN_PERIOD", tf.SignIn.Period),
		"r7office: the period --signin-attempts counts in (CheckPeriod; env ASPGATE_SIGNIN_PERIOD)")
	fs.DurationVar(&c.signIn.Block, "signin-block", envDuration("ASPGATE_SIGNIN_BLOCK", tf.SignIn.Block),
		"r7office: how long a blocked login stays blocked from that address (BlockTime; env ASPGATE_SIGNIN_BLOCK)")
	fs.IntVar(&c.failuresPerIP, "limit-signin-client", envInt("ASPGATE_LIMIT_SIGNIN_CLIENT", tf.FailuresPerIP),
		"r7office: failed sign-ins per client address per hour, whatever the login, before its sign-ins are refused "+
			"unhashed (aspgate's addition); 0: no limit (env ASPGATE_LIMIT_SIGNIN_CLIENT)")
	fs.StringVar(&c.r7Culture, "r7office-culture", envString("ASPGATE_R7OFFICE_CULTURE", "ru"),
		"r7office: the language of ONLYOFFICE's own error messages, ru or en (env ASPGATE_R7OFFICE_CULTURE)")
	fs.StringVar(&c.introspect, "introspect-secret", "", fmt.Sprintf("client `secret` of POST %s, at least %d characters; "+
		"none: no introspection endpoint (env ASPGATE_INTROSPECT_SECRET)", handlers.IntrospectPath, handlers.MinIntrospectSecret))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !flagSet(fs, "trusted-proxy") {
		if v := os.Getenv("ASPGATE_TRUSTED_PROXY"); v != "" {
			if err := c.proxies.Set(v); err != nil {
				return fmt.Errorf("ASPGATE_TRUSTED_PROXY: %w", err)
			}
		}
	}
	if !strings.EqualFold(c.proxyHeader, "X-Forwarded-For") && !strings.EqualFold(c.proxyHeader, "Forwarded") {
		return fmt.Errorf("--proxy-header %q: want X-Forwarded-For or Forwarded", c.proxyHeader)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if _, err := c.appSet(); err != nil {
		return err
	}
	if c.addr == "" && len(c.listen) == 0 {
		return errors.New("no listener: give --addr or --listen app=address")
	}
	if c.shutdownDelay < 0 {
		return errors.New("--shutdown-delay must not be negative")
	}
	if err := c.engine.check(); err != nil {
		return err
	}
	if postgres.IsDSN(c.storage.db) && c.storage.keyFile == "" {
		return errKeyFileForDSN
	}
	if c.delivery.noSend && !c.dispatch {
		// Without this process's (discarding) dispatcher the messages would wait in the outbox for one
		// that delivers.
		return errors.New("--no-send needs --dispatch: this process discards the messages")
	}
	for _, l := range c.limitValues() {
		if l.v < 0 {
			return fmt.Errorf("--%s must be 0 (no limit) or more", l.name)
		}
	}
	c.delivery.fromEnv(fs)
	if !flagSet(fs, "introspect-secret") {
		c.introspect = os.Getenv("ASPGATE_INTROSPECT_SECRET")
	}
	if c.introspect != "" && len(c.introspect) < handlers.MinIntrospectSecret {
		return fmt.Errorf("--introspect-secret must be at least %d characters", handlers.MinIntrospectSecret)
	}
	if _, err := handlers.ParseUTCOffset(c.tenantOffset); err != nil {
		return fmt.Errorf("--tenant-utc-offset: %w", err)
	}
	if c.tokenTTL != 0 && c.tokenTTL < time.Minute {
		return errors.New("--token-ttl must be 0 (one year) or at least 1m")
	}
	if c.signIn.Attempts < 0 || c.signIn.Attempts > 0 && (c.signIn.Period <= 0 || c.signIn.Block <= 0) {
		return errors.New("--signin-attempts must be 0 or more, with a positive --signin-period and --signin-block")
	}
	if c.failuresPerIP < 0 {
		return errors.New("--limit-signin-client must be 0 or more")
	}
	if _, err := handlers.ParseR7Culture(c.r7Culture); err != nil {
		return fmt.Errorf("--r7office-culture: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// appSet is --apps as a set (nil: every app).
func (c *serveConfig) appSet() (map[*contracts.App]bool, error) {
	if strings.TrimSpace(c.apps) == "" {
		return nil, nil
	}
	set := map[*contracts.App]bool{}
	for _, id := range strings.Split(c.apps, ",") {
		app, ok := contracts.LookupApp(strings.TrimSpace(id))
		if !ok {
			return nil, fmt.Errorf("--apps: unknown app %q", strings.TrimSpace(id))
		}
		set[app] = true
	}
	return set, nil
}

type limitValue struct {
	name string
	v    int
}

func (c *serveConfig) limitValues() []limitValue {
	return []limitValue{{"limit-recipient-minute", c.limits.PerRecipientMinute}, {"limit-recipient-hour", c.limits.PerRecipientHour},
		{"limit-client-hour", c.limits.PerClientHour}}
}

// server is the running gateway: the wiring of config -> store -> account -> handlers -> echo.
type server struct {
	cfg       serveConfig
	log       *slog.Logger
	db        engine
	disp      *delivery.Dispatcher // nil with --dispatch=false
	listeners []*listener          // the legacy listeners: --addr (when set) first, then --listen
	admin     *adminListener       // nil with --admin-addr ""
	cert      *listen.Certificate  // nil without --tls-cert
	hup       chan os.Signal
	logOut    *bufferedLog
}

// listener is one bound address and the HTTP server answering on it.
type listener struct {
	app  string // "" for all apps
	ln   net.Listener
	http *http.Server
}

// adminListener is the --admin-addr listener.
type adminListener struct {
	ln     net.Listener
	http   *http.Server
	health *health.Admin
}

// openServer builds the server and binds its addresses; serve then answers until ctx ends.
func openServer(ctx context.Context, cfg serveConfig, logOut io.Writer) (*server, error) {
	out := newBufferedLog(logOut)
	s, err := buildServer(ctx, cfg, out)
	if err != nil {
		out.Close()
		return nil, err
	}
	return s, nil
}

// buildServer is openServer with the log output made.
func buildServer(ctx context.Context, cfg serveConfig, logOut *bufferedLog) (*server, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	notFound, ok := contracts.LookupApp(cfg.notFoundApp)
	if !ok {
		return nil, fmt.Errorf("unknown app %q for --not-found-app", cfg.notFoundApp)
	}
	apps, err := cfg.appSet()
	if err != nil {
		return nil, err
	}
	if apps != nil && !apps[notFound] {
		return nil, fmt.Errorf("--not-found-app %s is not one of --apps", notFound.ID)
	}
	log := newLogger(logOut, level)
	key, err := loadOrCreateKey(cfg.storage.keyPath())
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: log, logOut: logOut}
	if cfg.tlsCert != "" {
		if s.cert, err = listen.LoadCertificate(cfg.tlsCert, cfg.tlsKey); err != nil {
			return nil, err
		}
	}
	version, revision := buildVersion()
	m := metrics.New(metrics.Labels{Apps: appIDs(), Endpoints: endpointNames()}, version, revision)
	disp, err := cfg.delivery.dispatcher(cfg.storage.db, log)
	if err != nil {
		return nil, err
	}
	// A mirrored request (aspgate shadow) is answered only where no message can reach a person: with
	// --no-send, or a dispatcher that writes to the dev inbox only.
	_, mailInbox := disp.Email.(*delivery.Inbox)
	_, smsInbox := disp.SMS.(*delivery.Inbox)
	acceptMirrors := cfg.delivery.noSend || cfg.dispatch && mailInbox && smsInbox
	opts := engineOptions{sqlite: sqlite.Options{Durable: cfg.durable, BusyTimeout: cfg.busyTimeout, ObserveTx: m.ObserveTx}, postgres: cfg.engine}
	if cfg.dispatch {
		opts.onEnqueue = disp.Notify
	} else {
		disp = nil
	}
	db, err := openEngine(ctx, cfg.storage.db, key, opts)
	if err != nil {
		return nil, err
	}
	s.db = db
	if disp != nil {
		disp.Outbox, disp.LockPath = db, db.DispatchLockPath()
		s.disp = disp
		m.WatchDelivery(func() (uint64, uint64, uint64) { st := disp.Stats(); return st.Sent, st.Failed, st.Dead })
	}
	m.WatchOutbox(db.OutboxBacklog, time.Now)
	acfg := account.DefaultConfig()
	acfg.LinkBaseURL = cfg.linkBaseURL
	acfg.Limits = cfg.limits
	hasher, keys := account.NewHasher(account.DefaultArgon2, cfg.hashConcurrency), account.NewKeyring(key)
	hasher.ObserveWait(m.ObserveHashWait)
	m.WatchHasher(hasher)
	svc := &account.Service{Store: db, Hasher: hasher, Keys: keys, Config: acfg, Log: log}
	faces := handlers.Faces(svc)
	tfcfg := account.DefaultTwoFactorConfig()
	tfcfg.Require2FA, tfcfg.TokenTTL, tfcfg.Issuer, tfcfg.Limits = cfg.require2FA, cfg.tokenTTL, cfg.totpIssuer, cfg.limits
	tfcfg.SignIn, tfcfg.FailuresPerIP = cfg.signIn, cfg.failuresPerIP
	twoFactor := &account.TwoFactor{Store: db, Hasher: hasher, Keys: keys, Config: tfcfg, Log: log}
	offset, _ := handlers.ParseUTCOffset(cfg.tenantOffset) // checked by parse
	culture, _ := handlers.ParseR7Culture(cfg.r7Culture)   // checked by parse
	r7 := &handlers.R7Office{Auth: twoFactor, Offset: offset, Culture: culture, MaxBody: cfg.maxBody, Log: log}
	introspect := &handlers.Introspect{Tokens: twoFactor, Secret: cfg.introspect, MaxBody: cfg.maxBody, Log: log}
	proxies := &handlers.Proxies{Ranges: cfg.proxies, Header: cfg.proxyHeader}
	var tlsConfig *tls.Config
	if s.cert != nil {
		tlsConfig = s.cert.TLSConfig()
	}
	bind := func(app string, addr string, endpoints []handlers.Endpoint, others []handlers.Face, notFound *contracts.App) error {
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		e.Logger.SetOutput(io.Discard)
		e.Use(handlers.AccessLog(log, m, proxies))
		e.Use(handlers.MirrorGuard(acceptMirrors, log))
		(&handlers.WebAPI{App: app, Endpoints: endpoints, Others: others, NotFoundApp: notFound, MaxBody: cfg.maxBody, Log: log}).Register(e)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		s.listeners = append(s.listeners, &listener{app: app, ln: listen.Wrap(ln, tlsConfig), http: &http.Server{
			Handler:           e,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}})
		return nil
	}
	if cfg.addr != "" {
		var eps []handlers.Endpoint
		for _, ep := range faces {
			if apps == nil || apps[ep.App] {
				eps = append(eps, ep)
			}
		}
		var served []*contracts.App
		for _, a := range contracts.Apps() {
			if apps == nil || apps[a] {
				served = append(served, a)
			}
		}
		var help *handlers.Help
		if help, err = handlers.NewHelp("", served, version); err == nil {
			others := []handlers.Face{help}
			if apps == nil || apps[contracts.R7Office] {
				others = append(others, r7, introspect)
			}
			err = bind("", cfg.addr, eps, others, notFound)
		}
	}
	for _, l := range cfg.listen {
		if err != nil {
			break
		}
		app, _ := contracts.LookupApp(l.app)
		var eps []handlers.Endpoint
		for _, ep := range faces {
			if ep.App == app {
				eps = append(eps, ep)
			}
		}
		var help *handlers.Help
		if help, err = handlers.NewHelp(app.ID, []*contracts.App{app}, version); err != nil {
			break
		}
		others := []handlers.Face{help}
		if app == contracts.R7Office {
			others = append(others, r7, introspect)
		}
		err = bind(app.ID, l.addr, eps, others, app)
	}
	if err == nil && cfg.adminAddr != "" {
		err = s.bindAdmin(m, key)
	}
	if err != nil {
		s.closeListeners()
		db.Close()
		return nil, err
	}
	if s.cert != nil {
		// Registered before serve runs, so that a SIGHUP never meets the default action (exit).
		s.hup = make(chan os.Signal, 1)
		signal.Notify(s.hup, syscall.SIGHUP)
	}
	return s, nil
}

// bindAdmin binds --admin-addr: liveness, readiness (the database answers at this program's schema
// version; the HMAC key is loaded; not shutting down) and the metrics.
func (s *server) bindAdmin(m *metrics.Metrics, key []byte) error {
	ln, err := net.Listen("tcp", s.cfg.adminAddr)
	if err != nil {
		return fmt.Errorf("--admin-addr: %w", err)
	}
	h := &health.Admin{Metrics: m.Handler(), Checks: []health.Check{
		{Name: "database", Check: s.db.Ready},
		{Name: "key", Check: func(context.Context) error {
			if len(key) < minKeyBytes {
				return errors.New("not loaded")
			}
			return nil
		}},
	}}
	if s.cfg.adminPprof {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		h.Debug = mux
	}
	s.admin = &adminListener{ln: ln, health: h, http: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}}
	return nil
}

func (s *server) closeListeners() {
	for _, l := range s.listeners {
		l.ln.Close()
	}
	if s.admin != nil {
		s.admin.ln.Close()
	}
}

// Addr is the bound --addr (useful with port 0); "" when there is none.
func (s *server) Addr() string {
	for _, l := range s.listeners {
		if l.app == "" {
			return l.ln.Addr().String()
		}
	}
	return ""
}

// AppAddr is the bound address of an app's own listener ("" when there is none).
func (s *server) AppAddr(app string) string {
	for _, l := range s.listeners {
		if l.app == app {
			return l.ln.Addr().String()
		}
	}
	return ""
}

// AdminAddr is the bound --admin-addr ("" when there is none).
func (s *server) AdminAddr() string {
	if s.admin == nil {
		return ""
	}
	return s.admin.ln.Addr().String()
}

// serve answers requests until ctx ends, then: /readyz turns 503, requests are still answered for
// --shutdown-delay, the listeners stop accepting and in-flight requests finish, the dispatcher stops, the
// database closes, and the admin listener goes last.
func (s *server) serve(ctx context.Context) error {
	dctx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	dispatched := make(chan error, 1)
	if s.disp != nil {
		logDelivery(s.log, s.disp)
		go func() { dispatched <- s.disp.Run(dctx) }()
	} else {
		s.log.Info("dispatching is off: the outbox is left to `aspgate outbox send-once` or another server")
		dispatched <- nil
	}
	if s.cfg.introspect == "" {
		s.log.Info("no --introspect-secret: " + handlers.IntrospectPath + " is off (aspgate token check still works)")
	}
	version, revision := buildVersion()
	s.log.Info("starting", "version", version, "revision", revision, "db", engineName(s.db, s.cfg.storage.db), "durable", s.cfg.durable,
		"tls", s.cert != nil, "trusted_proxies", len(s.cfg.proxies))
	errc := make(chan error, len(s.listeners)+1)
	for _, l := range s.listeners {
		s.log.Info("listening", "addr", l.ln.Addr().String(), "app", l.app)
		go func(l *listener) { errc <- l.http.Serve(l.ln) }(l)
	}
	adminDone := make(chan error, 1)
	if s.admin != nil {
		s.log.Info("admin listening", "addr", s.admin.ln.Addr().String())
		go func() { adminDone <- s.admin.http.Serve(s.admin.ln) }()
	}
	var err error
wait:
	for {
		select {
		case err = <-errc:
			break wait
		case <-ctx.Done():
			break wait
		case <-s.hup:
			if rerr := s.cert.Reload(); rerr != nil {
				s.log.Error("tls certificate reload failed; the one in use stays", "error", rerr.Error())
			} else {
				s.log.Info("tls certificate reloaded")
			}
		}
	}
	if s.hup != nil {
		signal.Stop(s.hup)
	}
	s.log.Info("shutting down")
	if s.admin != nil {
		s.admin.health.Drain()
	}
	if s.cfg.shutdownDelay > 0 && err == nil {
		time.Sleep(s.cfg.shutdownDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.shutdownTimeout)
	for _, l := range s.listeners {
		if serr := l.http.Shutdown(sctx); err == nil {
			err = serr
		}
	}
	cancel()
	// The dispatcher stops after the listeners: a request finishing during shutdown may still queue a
	// message, which the next start delivers if this one does not get to it.
	stopDispatch()
	if derr := <-dispatched; derr != nil && (err == nil || errors.Is(err, http.ErrServerClosed)) {
		err = derr
	}
	if cerr := s.db.Close(); err == nil || errors.Is(err, http.ErrServerClosed) {
		err = cerr
	}
	if s.admin != nil {
		actx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.admin.http.Shutdown(actx)
		cancel()
		<-adminDone
	}
	s.log.Info("stopped")
	s.logOut.Close()
	return err
}

// flushLogs writes the buffered log lines now.
func (s *server) flushLogs() { s.logOut.Flush() }

// appIDs lists the apps, for the metrics' labels.
func appIDs() []string {
	var out []string
	for _, a := range contracts.Apps() {
		out = append(out, a.ID)
	}
	return out
}

// endpointNames lists every route name a request can be counted under.
func endpointNames() []string {
	var out []string
	for _, ep := range handlers.Faces(nil) {
		out = append(out, ep.Path)
	}
	return append(append(out, handlers.R7Endpoints()...), handlers.IntrospectPath, handlers.HelpEndpoint, handlers.OpenAPIEndpoint)
}

func runServe(args []string, stderr io.Writer) int {
	var cfg serveConfig
	if err := cfg.parse(args, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "aspgate serve:", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := openServer(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "aspgate serve:", err)
		return 1
	}
	if err := s.serve(ctx); err != nil {
		fmt.Fprintln(stderr, "aspgate serve:", err)
		return 1
	}
	return exitOK
}
