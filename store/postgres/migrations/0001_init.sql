-- 0001_init: the schema of the SQLite store's migrations 0001-0007, for PostgreSQL. Times are Unix
-- milliseconds (UTC) in BIGINT columns, taken from the application's clock, so that both engines agree;
-- secrets are stored only as HMAC-SHA256 under the server key (BYTEA). Where SQLite compares user names and
-- e-mails with COLLATE NOCASE (ASCII case only), unique indexes on lower() do the same here.

CREATE TABLE operators (
    id         BIGINT PRIMARY KEY,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- users.id is ereader's UserId, an int32 on the wire: the sequence stops at 2^31-1.
CREATE SEQUENCE users_id_seq AS integer MAXVALUE 2147483647;
CREATE TABLE users (
    id                     BIGINT  PRIMARY KEY DEFAULT nextval('users_id_seq') CHECK (id BETWEEN 1 AND 2147483647),
    uid                    TEXT    NOT NULL UNIQUE CHECK (length(uid) = 36),
    username               TEXT    NOT NULL CHECK (username <> ''),
    email                  TEXT    NOT NULL CHECK (email <> ''),
    phone                  TEXT    UNIQUE CHECK (phone <> '' AND phone !~ '[^0-9]'),
    operator_id            BIGINT  REFERENCES operators (id),
    first_name             TEXT,
    last_name              TEXT,
    title                  TEXT,
    gender                 INTEGER,
    user_type              INTEGER,
    is_lazy                BOOLEAN NOT NULL DEFAULT false,
    shared_data_permission BOOLEAN NOT NULL DEFAULT false,
    password_hash          TEXT    NOT NULL,
    password_changed_at    BIGINT  NOT NULL,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL,
    disabled_at            BIGINT,
    imported_hash          TEXT
);
ALTER SEQUENCE users_id_seq OWNED BY users.id;
-- lower() of ASCII letters only, as SQLite's NOCASE: translate keeps other letters as they are.
CREATE FUNCTION ascii_lower(s TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;
CREATE UNIQUE INDEX users_username ON users (ascii_lower(username));
CREATE UNIQUE INDEX users_email ON users (ascii_lower(email));

CREATE TABLE password_history (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    imported   BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX password_history_user ON password_history (user_id, created_at DESC, id DESC);

CREATE TABLE codes (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose       TEXT    NOT NULL,
    mac           BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    used_at       BIGINT,
    superseded_at BIGINT,
    phone         TEXT    CHECK (phone <> '' AND phone !~ '[^0-9]')
);
CREATE UNIQUE INDEX codes_live ON codes (user_id, purpose) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX codes_user ON codes (user_id, purpose, id);

CREATE TABLE change_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mac           BYTEA  NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    superseded_at BIGINT
);
CREATE UNIQUE INDEX change_requests_live ON change_requests (user_id) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX change_requests_user ON change_requests (user_id);

CREATE TABLE api_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app        TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    mac        BYTEA  NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (app, name) WHERE revoked_at IS NULL;

CREATE TABLE outbox (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app             TEXT    NOT NULL,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    kind            TEXT    NOT NULL DEFAULT 'code' CHECK (kind IN ('code', 'change-link', 'login-code')),
    to_addr         TEXT    NOT NULL,
    secret          TEXT,
    link_base       TEXT    NOT NULL DEFAULT '',
    expires_at      BIGINT,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    created_at      BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    sent_at         BIGINT,
    dead_at         BIGINT,
    last_error      TEXT,
    idempotency_key TEXT    UNIQUE,
    claimed_at      BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);

CREATE TABLE audit (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                    BIGINT NOT NULL,
    event                 TEXT   NOT NULL,
    user_id               BIGINT REFERENCES users (id) ON DELETE SET NULL,
    ip_address            TEXT,
    user_agent            TEXT,
    client_ip             TEXT,
    permanent_session_mac BYTEA
);
CREATE INDEX audit_user ON audit (user_id, at);

CREATE TABLE user_twofactor (
    user_id          BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    totp_secret      BYTEA,
    totp_enrolled_at BIGINT,
    totp_last_step   BIGINT  NOT NULL DEFAULT 0 CHECK (totp_last_step >= 0),
    confirmed_phone  TEXT    CHECK (confirmed_phone <> '' AND confirmed_phone !~ '[^0-9]'),
    failures         INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until     BIGINT,
    updated_at       BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mac        BYTEA  NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL CHECK (expires_at > created_at),
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user_live ON api_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE signin_guard (
    key           TEXT   PRIMARY KEY,
    attempts      TEXT   NOT NULL DEFAULT '',
    blocked_until BIGINT NOT NULL DEFAULT 0,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX signin_guard_expires ON signin_guard (expires_at);

CREATE TABLE rate_limits (
    key       TEXT   NOT NULL,
    window_ms BIGINT NOT NULL,
    tat       BIGINT NOT NULL,
    PRIMARY KEY (key, window_ms)
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);

-- The decoys: tables of the same shape as the real ones, which nothing reads back or sends.
-- Many decoy users, picked at random per write, so that unknown-account traffic from many gateways does
-- not queue on one row (SQLite's single writer has one).
CREATE TABLE decoy_users (id BIGINT PRIMARY KEY CHECK (id BETWEEN 1 AND 1024));
INSERT INTO decoy_users SELECT generate_series(1, 1024);
CREATE TABLE decoy_codes (LIKE codes INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY);
ALTER TABLE decoy_codes ADD PRIMARY KEY (id), ADD FOREIGN KEY (user_id) REFERENCES decoy_users (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX decoy_codes_live ON decoy_codes (user_id, purpose) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX decoy_codes_user ON decoy_codes (user_id, purpose, id);
CREATE TABLE decoy_change_requests (LIKE change_requests INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY);
ALTER TABLE decoy_change_requests ADD PRIMARY KEY (id), ADD UNIQUE (mac),
    ADD FOREIGN KEY (user_id) REFERENCES decoy_users (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX decoy_change_requests_live ON decoy_change_requests (user_id) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX decoy_change_requests_user ON decoy_change_requests (user_id);
CREATE TABLE decoy_outbox (LIKE outbox INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY);
ALTER TABLE decoy_outbox ADD PRIMARY KEY (id), ADD UNIQUE (idempotency_key);
CREATE INDEX decoy_outbox_due ON decoy_outbox (status, next_attempt_at, id);

-- A password change revokes the user's tokens, in the database as the SQLite store does it, so that no
-- writer can forget it: the revocation follows password_changed_at, which a change moves strictly forward
-- and a hash upgrade leaves alone.
CREATE FUNCTION users_password_revokes_api_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE api_tokens SET revoked_at = greatest(NEW.password_changed_at, NEW.updated_at, created_at)
        WHERE user_id = NEW.id AND revoked_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER users_password_revokes_api_tokens AFTER UPDATE OF password_changed_at ON users
    FOR EACH ROW WHEN (NEW.password_changed_at IS DISTINCT FROM OLD.password_changed_at)
    EXECUTE FUNCTION users_password_revokes_api_tokens();
