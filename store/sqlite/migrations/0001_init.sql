-- 0001_init: the account-recovery schema. Times are Unix milliseconds (UTC) in INTEGER columns; secrets
-- (codes, ChangeRequestIds, API keys) are stored only as HMAC-SHA256 under the server key, in BLOB columns.

-- operators are the mobile operators (lcmanager's Operator); a user may belong to one.
CREATE TABLE operators (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- users: id is the legacy integer UserId (ereader), uid the GUID the customer face returns (lower-case
-- "D" format). User names and e-mails are unique ignoring (ASCII) case; a phone is digits only.
CREATE TABLE users (
    id                     INTEGER PRIMARY KEY,
    uid                    TEXT    NOT NULL UNIQUE CHECK (length(uid) = 36),
    username               TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (username <> ''),
    email                  TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (email <> ''),
    phone                  TEXT    UNIQUE CHECK (phone <> '' AND phone NOT GLOB '*[^0-9]*'),
    operator_id            INTEGER REFERENCES operators (id),
    first_name             TEXT,
    last_name              TEXT,
    title                  TEXT,
    gender                 INTEGER,
    user_type              INTEGER,
    is_lazy                INTEGER NOT NULL DEFAULT 0 CHECK (is_lazy IN (0, 1)),
    shared_data_permission INTEGER NOT NULL DEFAULT 0 CHECK (shared_data_permission IN (0, 1)),
    password_hash          TEXT    NOT NULL,
    password_changed_at    INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);

-- password_history keeps the hashes a user had before, with the time each one was replaced.
CREATE TABLE password_history (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at DESC, id DESC);

-- codes are the short reset codes (purpose "reset"; "2fa" later). At most one live code per user and
-- purpose: issuing a new one supersedes the old one in the same transaction.
CREATE TABLE codes (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose       TEXT    NOT NULL,
    mac           BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    used_at       INTEGER,
    superseded_at INTEGER
);
CREATE UNIQUE INDEX codes_live ON codes (user_id, purpose) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX codes_user ON codes (user_id, purpose, id);

-- change_requests are the ChangeRequestIds of the link flow, found by their MAC.
CREATE TABLE change_requests (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mac           BLOB    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    superseded_at INTEGER
);
CREATE UNIQUE INDEX change_requests_live ON change_requests (user_id) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX change_requests_user ON change_requests (user_id);

-- api_keys are the client applications' keys (aries ApiKey); a name is unique among an app's active keys.
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    app        TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    mac        BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (app, name) WHERE revoked_at IS NULL;

-- send_log is one row per send and rate-limit key (recipient, client IP); entries older than a day are
-- pruned as sends come in.
CREATE TABLE send_log (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX send_log_key_at ON send_log (key, at);
CREATE INDEX send_log_at ON send_log (at);

-- outbox holds the messages to deliver, written in the same transaction as the code or change request
-- they carry. secret is the code or ChangeRequestId itself, kept until delivery; the delivery columns
-- (attempts, next_attempt_at, sent_at, dead_at, last_error, idempotency_key) belong to the dispatcher.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    app             TEXT    NOT NULL,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    to_addr         TEXT    NOT NULL,
    subject         TEXT    NOT NULL DEFAULT '',
    body            TEXT    NOT NULL DEFAULT '',
    secret          TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    dead_at         INTEGER,
    last_error      TEXT,
    idempotency_key TEXT    UNIQUE
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);

-- audit records password changes: when, what, whose, and from where.
CREATE TABLE audit (
    id                   INTEGER PRIMARY KEY,
    at                   INTEGER NOT NULL,
    event                TEXT    NOT NULL,
    user_id              INTEGER REFERENCES users (id) ON DELETE SET NULL,
    ip_address           TEXT,
    user_agent           TEXT,
    permanent_session_id TEXT
);
CREATE INDEX audit_user ON audit (user_id, at);
