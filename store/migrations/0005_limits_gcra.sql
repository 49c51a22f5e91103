-- 0005_limits_gcra: the send limits move to rate_limits (0004), whose check costs one row whatever the
-- volume counted; send_log, one row per send, goes (its counts start again at zero). decoy is the row the
-- flows write when nothing real is to be written (an unknown recipient, an unknown user), so that known and
-- unknown accounts cost the same reads and writes.
DROP TABLE send_log;
CREATE TABLE decoy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO decoy (id, n) VALUES (1, 0);
