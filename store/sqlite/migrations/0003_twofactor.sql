-- 0003_twofactor: r7office's second factor (authenticator app, SMS login codes) and the API tokens it hands
-- out. Times are Unix milliseconds (UTC); codes and tokens are stored only as HMAC-SHA256 under the server key.

-- user_twofactor is one row per user that ever had second-factor state.
--   totp_secret: the authenticator app's base32 secret, sealed with AES-256-GCM under a key derived from
--     the server HMAC key, the user id as additional data (see account/totp.go). A TOTP secret must be
--     recoverable to check codes, so it cannot be a MAC; sealed, a copy of the database alone still holds
--     no usable secret. NULL: no app enrolled.
--   totp_last_step: the last accepted RFC 6238 time step (Unix time / 30); a code of this step or an
--     earlier one is refused, so each code works once. Accepting a step is one
--     UPDATE ... WHERE totp_last_step < step, whose row count decides between two racing requests.
--   confirmed_phone: the phone the user confirmed with an SMS code. SMS sign-in is on while it equals
--     users.phone (a phone changed elsewhere is not trusted until confirmed again).
--   failures / locked_until: wrong codes in a row (TOTP or SMS); reaching the limit locks 2FA until
--     locked_until and starts the count again; a success resets it.
CREATE TABLE user_twofactor (
    user_id          INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    totp_secret      BLOB,
    totp_enrolled_at INTEGER,
    totp_last_step   INTEGER NOT NULL DEFAULT 0 CHECK (totp_last_step >= 0),
    confirmed_phone  TEXT    CHECK (confirmed_phone <> '' AND confirmed_phone NOT GLOB '*[^0-9]*'),
    failures         INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until     INTEGER,
    updated_at       INTEGER NOT NULL
);

-- SMS login codes live in codes with purpose '2fa', under the same rules as the reset codes (MAC only,
-- attempts counted before the check, consumed by UPDATE ... WHERE used_at IS NULL, one live code per user
-- and purpose). phone is the pending phone a setphone code was sent to: it becomes users.phone when the
-- code is confirmed. NULL for codes sent to the confirmed phone and for every other purpose. The code's
-- MAC covers the phone too, so a code sent to one number cannot confirm another.
ALTER TABLE codes ADD COLUMN phone TEXT CHECK (phone <> '' AND phone NOT GLOB '*[^0-9]*');

-- api_tokens are the tokens a sign-in issues (256 random bits, base64url), found by their MAC. A token is
-- active while revoked_at is NULL and expires_at is in the future.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mac        BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL CHECK (expires_at > created_at),
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user_live ON api_tokens (user_id) WHERE revoked_at IS NULL;

-- A new password, set through any face or command, revokes the user's tokens, here in the database so
-- that no code path can forget it. The revocation time is that of the change (password_changed_at, which
-- every writer of the password sets, else updated_at), never before the token's own creation.
CREATE TRIGGER users_password_revokes_api_tokens
AFTER UPDATE OF password_hash ON users
WHEN NEW.password_hash IS NOT OLD.password_hash
BEGIN
    UPDATE api_tokens SET revoked_at = max(NEW.password_changed_at, NEW.updated_at, created_at)
        WHERE user_id = NEW.id AND revoked_at IS NULL;
END;
