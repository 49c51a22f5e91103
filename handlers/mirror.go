package handlers

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"aspgate/account"
)

// MirrorHeader marks a request that `aspgate shadow` mirrored from live traffic (the same name as
// shadow.MirrorHeader).
const MirrorHeader = "X-Aspgate-Mirror"

// MirrorGuard refuses mirrored requests on a server that could deliver a code or link for real: the
// live primary already sent one to the person, and a second would be a real message from a test. Such a
// server answers 503 with no body and logs why; the shadow's report then shows every mirrored request
// differing, which is the loud way to say the candidate is set up wrong. accept is true with --no-send or
// a dev-inbox-only dispatcher.
func MirrorGuard(accept bool, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if accept || c.Request().Header.Get(MirrorHeader) == "" {
				return next(c)
			}
			Info(c.Request().Context()).Outcome = account.OutcomeMirrorRefused
			log.WarnContext(c.Request().Context(), "a mirrored request refused: this server delivers codes and links; run a shadow's candidate with --no-send")
			c.Response().Header().Set("Content-Length", "0")
			return c.NoContent(http.StatusServiceUnavailable)
		}
	}
}
