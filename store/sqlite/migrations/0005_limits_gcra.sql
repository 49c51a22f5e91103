-- 0005_limits_gcra: the send limits move to rate_limits (0004), whose check costs one row whatever the
-- volume counted; send_log, one row per send, goes (its counts start again at zero).
--
-- The decoy tables: where a flow would issue a code, count an attempt or store a change request for a
-- known account, it makes the same writes here for an unknown one, so that both cost the same reads,
-- writes and pages. They have the shape, the checks and the indexes of codes, change_requests and outbox
-- (a check is work too: an IN list costs its own lookup on every insert), hang off a
-- one-row decoy_users, and keep no address and no secret (rows of the same lengths, other bytes). Nothing
-- reads them back or sends them; the outbox pruning prunes them.
DROP TABLE send_log;

CREATE TABLE decoy_users (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO decoy_users (id) VALUES (1);

CREATE TABLE decoy_codes (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES decoy_users (id) ON DELETE CASCADE,
    purpose       TEXT    NOT NULL,
    mac           BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    used_at       INTEGER,
    superseded_at INTEGER,
    phone         TEXT    CHECK (phone <> '' AND phone NOT GLOB '*[^0-9]*')
);
CREATE UNIQUE INDEX decoy_codes_live ON decoy_codes (user_id, purpose) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX decoy_codes_user ON decoy_codes (user_id, purpose, id);
-- A live decoy code from the start, as a known account with a code has one.
INSERT INTO decoy_codes (user_id, purpose, mac, created_at, expires_at)
    VALUES (1, 'reset', zeroblob(32), 0, 253402300799000);

CREATE TABLE decoy_change_requests (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES decoy_users (id) ON DELETE CASCADE,
    mac           BLOB    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    superseded_at INTEGER
);
CREATE UNIQUE INDEX decoy_change_requests_live ON decoy_change_requests (user_id) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX decoy_change_requests_user ON decoy_change_requests (user_id);

CREATE TABLE decoy_outbox (
    id              INTEGER PRIMARY KEY,
    app             TEXT    NOT NULL,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    to_addr         TEXT    NOT NULL,
    secret          TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    dead_at         INTEGER,
    last_error      TEXT,
    idempotency_key TEXT    UNIQUE,
    kind            TEXT    NOT NULL DEFAULT 'code' CHECK (kind IN ('code', 'change-link', 'login-code')),
    link_base       TEXT    NOT NULL DEFAULT '',
    expires_at      INTEGER,
    claimed_at      INTEGER
);
CREATE INDEX decoy_outbox_due ON decoy_outbox (status, next_attempt_at, id);
