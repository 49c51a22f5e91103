package account

import (
	"context"
	"encoding/hex"
	"errors"
	"time"
)

// API tokens are what a sign-in ends with: 256 random bits (base64url, 43 characters) that the client
// sends to downstream services, which ask Introspect whether it is active. Only the token's MAC is stored;
// a password change revokes the user's tokens in the database itself (store migration 0003).

// TokenInfo is what introspection tells of a token (RFC 7662). Only Active is set for an inactive token.
type TokenInfo struct {
	Active bool
	UserID int64
	UID    string // the user's GUID, lower-case "D" format: the introspection "sub"
	Exp    time.Time
	Iat    time.Time
}

// Introspect tells whether a token is active: known, not revoked, not expired. An inactive token is no
// error; only a storage failure is.
func (t *TwoFactor) Introspect(ctx context.Context, token string) (TokenInfo, error) {
	if token == "" {
		return TokenInfo{}, nil
	}
	a, err := t.Store.APITokenByMAC(ctx, t.tokenMAC(token))
	if errors.Is(err, ErrNotFound) {
		return TokenInfo{}, nil
	}
	if err != nil {
		return TokenInfo{}, err
	}
	if !a.RevokedAt.IsZero() || !t.now().Before(a.ExpiresAt) {
		return TokenInfo{}, nil
	}
	return TokenInfo{Active: true, UserID: a.UserID, UID: formatUID(a.UserUID), Exp: a.ExpiresAt, Iat: a.CreatedAt}, nil
}

// Revoke revokes a token. Revoking an unknown or already revoked token is no error, so a client can
// repeat it (RFC 7009 answers the same).
func (t *TwoFactor) Revoke(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return t.Store.RevokeAPIToken(ctx, t.tokenMAC(token), t.now())
}

// RevokeUser revokes every live token of the user and says how many there were. (A password change
// needs no call: the database revokes the tokens itself.)
func (t *TwoFactor) RevokeUser(ctx context.Context, userID int64) (int, error) {
	return t.Store.RevokeUserAPITokens(ctx, userID, t.now())
}

func (t *TwoFactor) issueToken(ctx context.Context, userID int64, now time.Time) (string, time.Time, error) {
	tok, mac := t.newToken()
	exp := t.Config.tokenExpiry(now)
	if err := t.Store.IssueAPIToken(ctx, NewAPIToken{UserID: userID, MAC: mac, CreatedAt: now, ExpiresAt: exp}); err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

// newToken returns a fresh 256-bit token and the MAC it is stored as.
func (t *TwoFactor) newToken() (string, []byte) {
	tok := NewToken(32)
	return tok, t.tokenMAC(tok)
}

func (t *TwoFactor) tokenMAC(token string) []byte { return t.Keys.MAC(macAPIToken, token) }

// formatUID writes a GUID as the store and the customer face do: lower-case "D" format, bytes in order.
func formatUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
