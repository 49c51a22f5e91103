-- 0004_signin_limits: r7office's sign-in guard as ONLYOFFICE keeps it, and counters that cost the same
-- whatever volume they have seen. Times are Unix milliseconds (UTC); keys are MACs or client addresses.

-- signin_guard is BruteForceLoginManager per (login, client address): the times of the recent attempts
-- (at most the rule's count, comma-separated; a success takes its own back) and, once too many fail
-- within the period, the end of the block. expires_at is when the row says nothing any more.
CREATE TABLE signin_guard (
    key           TEXT    PRIMARY KEY,
    attempts      TEXT    NOT NULL DEFAULT '',
    blocked_until INTEGER NOT NULL DEFAULT 0,
    expires_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX signin_guard_expires ON signin_guard (expires_at);

-- rate_limits is one row per (key, window): a GCRA counter. A limit of max events per window admits an
-- event at now when tat - now <= window - window/max, and the event moves tat to max(tat, now) +
-- window/max: a burst of max at once, then one every window/max. One row, read or updated in one
-- statement, whatever the volume.
CREATE TABLE rate_limits (
    key       TEXT    NOT NULL,
    window_ms INTEGER NOT NULL,
    tat       INTEGER NOT NULL,
    PRIMARY KEY (key, window_ms)
) WITHOUT ROWID;
CREATE INDEX rate_limits_tat ON rate_limits (tat);
