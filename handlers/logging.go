package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

type requestIDKey struct{}

// RequestID returns the id of the request a context belongs to ("" outside a request).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestIDHandler adds the request id of the context to every log record, so that each line a request
// causes, in any package, can be found by it.
func RequestIDHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// AccessLog gives each request an id (kept in its context, not sent to the client: the legacy services
// sent no such header) and writes one line when it ends: method, path, status, duration, peer. Query
// strings and bodies are never logged, since they may carry secrets, nor the code in an r7office path.
func AccessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var b [8]byte
			_, _ = rand.Read(b[:])
			r := c.Request()
			ctx := context.WithValue(r.Context(), requestIDKey{}, hex.EncodeToString(b[:]))
			c.SetRequest(r.WithContext(ctx))
			start := time.Now()
			err := next(c)
			log.InfoContext(ctx, "request", "method", r.Method, "path", redactPath(r.URL.Path),
				"status", c.Response().Status, "duration_ms", time.Since(start).Milliseconds(), "peer", peerIP(r))
			return err
		}
	}
}
