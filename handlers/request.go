package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"aspgate/account"
)

// RequestInfo is what a request came to, in words from fixed sets (never user input): the face that
// answered fills it, the access log writes it and the Observer counts it when the request ends.
type RequestInfo struct {
	ID       string // random, for the log lines the request causes; never sent to the client
	App      string // the app whose face answered ("" when none claimed the path)
	Endpoint string // the route's name ("RememberMessage", "authentication/setphone", ...; "" when none)
	Format   string // "json" or "xml"
	Outcome  account.Outcome
	Limit    string // the limit that refused the request, if one did
	// Client is the client's address as limits and audit see it: the peer, or for a trusted proxy the
	// address it forwarded (see Proxies).
	Client string
	Peer   string // the connection's peer address
}

type requestInfoKey struct{}

// Info returns the request's RequestInfo. Outside a request (or in a handler mounted without AccessLog)
// it returns a fresh one, so callers never check for nil.
func Info(ctx context.Context) *RequestInfo {
	if in, ok := ctx.Value(requestInfoKey{}).(*RequestInfo); ok {
		return in
	}
	return &RequestInfo{}
}

// RequestID returns the id of the request a context belongs to ("" outside a request).
func RequestID(ctx context.Context) string {
	if in, ok := ctx.Value(requestInfoKey{}).(*RequestInfo); ok {
		return in.ID
	}
	return ""
}

// settle records how the domain call of a request ended: the success outcome, or the failure's outcome and
// the limit that refused it. It returns the outcome, which the face then looks up in its answer table.
func settle(ctx context.Context, err error, success account.Outcome) account.Outcome {
	in := Info(ctx)
	if err == nil {
		in.Outcome = success
		return success
	}
	in.Outcome, in.Limit = account.OutcomeOf(err), account.LimitOf(err)
	return in.Outcome
}

// clientIP is the client address of the request (see RequestInfo.Client).
func clientIP(r *http.Request) string {
	if in, ok := r.Context().Value(requestInfoKey{}).(*RequestInfo); ok && in.Client != "" {
		return in.Client
	}
	return peerIP(r)
}

// Observer is told of every request when it ends (the metrics). Every string is from a fixed set.
type Observer interface {
	ObserveRequest(app, endpoint, format string, status int, outcome, limit string, d time.Duration)
}

// AccessLog gives each request its RequestInfo (with a random id, kept in the context and not sent to the
// client: the legacy services sent no such header; and the client address, through proxies), and when it
// ends writes one line (method, path, status, duration, app, endpoint, format, outcome, limit, client,
// peer) and tells obs (which may be nil). Query strings and bodies are never logged, since they may carry
// secrets, nor the code in an r7office path.
func AccessLog(log *slog.Logger, obs Observer, proxies *Proxies) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var b [8]byte
			_, _ = rand.Read(b[:])
			r := c.Request()
			in := &RequestInfo{ID: hex.EncodeToString(b[:]), Peer: peerIP(r)}
			in.Client = proxies.Client(r)
			ctx := context.WithValue(r.Context(), requestInfoKey{}, in)
			c.SetRequest(r.WithContext(ctx))
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // answer now, so that the status logged and counted is the one sent
				err = nil
			}
			d := time.Since(start)
			status := c.Response().Status
			if in.Outcome == "" {
				in.Outcome = account.OutcomeError
				if status < 500 {
					in.Outcome = account.OutcomeBadRequest
				}
			}
			if log.Enabled(ctx, slog.LevelInfo) {
				var buf [13]slog.Attr
				attrs := append(buf[:0], slog.String("method", r.Method), slog.String("path", redactPath(r.URL.Path)),
					slog.Int("status", status), slog.Float64("duration_ms", float64(d.Microseconds())/1000),
					slog.String("app", in.App), slog.String("endpoint", in.Endpoint), slog.String("format", in.Format),
					slog.String("outcome", string(in.Outcome)))
				if in.Limit != "" {
					attrs = append(attrs, slog.String("limit", in.Limit))
				}
				attrs = append(attrs, slog.String("client", in.Client))
				if in.Peer != in.Client {
					attrs = append(attrs, slog.String("peer", in.Peer))
				}
				log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
			}
			if obs != nil {
				obs.ObserveRequest(in.App, in.Endpoint, in.Format, status, string(in.Outcome), in.Limit, d)
			}
			return err
		}
	}
}

// Proxies are the trusted reverse proxies (--trusted-proxy). Only for a peer in these ranges is the client
// address taken from the forwarding header: walking it from the right, the first address that is not
// itself a trusted proxy. A client can put anything at the left of the header, so nothing left of that
// address is believed. A nil or empty Proxies trusts no one: the client is the peer.
type Proxies struct {
	Ranges []netip.Prefix
	// Header is the forwarding header read: "X-Forwarded-For" (the default) or "Forwarded" (RFC 7239). Only
	// one is read, the one the proxy sets: a client could send the other with any address in it.
	Header string
}

// ParseProxy reads a --trusted-proxy value: a CIDR range or a single address.
func ParseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func (p *Proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, r := range p.Ranges {
		if r.Contains(a) {
			return true
		}
	}
	return false
}

// Client is the request's client address (see Proxies). An entry that is not an address (garbage,
// "unknown", an obfuscated Forwarded node) stops the walk: the client is then the trusted proxy that
// passed it on.
func (p *Proxies) Client(r *http.Request) string {
	peer := peerIP(r)
	if p == nil || len(p.Ranges) == 0 {
		return peer
	}
	cur, err := netip.ParseAddr(peer)
	if err != nil || !p.trusted(cur) {
		return peer
	}
	var hops []string
	if strings.EqualFold(p.Header, "Forwarded") {
		hops = forwardedFor(r.Header.Values("Forwarded"))
	} else {
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for _, h := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(h))
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		cur = a
		if !p.trusted(a) {
			break
		}
	}
	return cur.Unmap().String()
}

// forwardedFor lists the for= values of Forwarded headers, in order.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range splitQuoted(v, ',') {
			found := ""
			for _, pair := range splitQuoted(elem, ';') {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					found = strings.Trim(strings.TrimSpace(val), `"`)
				}
			}
			out = append(out, found) // an element without for= is an unknown hop
		}
	}
	return out
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseHop reads one hop: an address, an address with a port, or a bracketed IPv6 address with or without
// a port.
func parseHop(h string) (netip.Addr, bool) {
	if h == "" {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(h); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		if a, err := netip.ParseAddr(h[1 : len(h)-1]); err == nil && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// statusLabel is a status code as a metric label.
func statusLabel(status int) string { return strconv.Itoa(status) }
