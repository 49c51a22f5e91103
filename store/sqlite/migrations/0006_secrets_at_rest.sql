-- 0006_secrets_at_rest: the audit trail keeps the legacy PermanentSessionId only as a MAC (it is a session
-- secret: whoever holds it is signed in), and records the client address the gateway saw (the peer, or the
-- address a trusted proxy forwarded) beside the IPAddress the caller reported in the body. The values
-- stored in clear before this migration cannot be MACed here (the key is not in the database): they are
-- dropped.
ALTER TABLE audit ADD COLUMN client_ip TEXT;
ALTER TABLE audit ADD COLUMN permanent_session_mac BLOB;
ALTER TABLE audit DROP COLUMN permanent_session_id;
