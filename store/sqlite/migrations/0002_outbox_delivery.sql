-- Messages carry facts, not text: delivery renders the words from templates when it sends, so the secret
-- lives in one column (secret) that is erased once the message is sent or dead, and never in a body.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'code'
    CHECK (kind IN ('code', 'change-link', 'login-code'));
-- link_base is the change link without its secret; the link is link_base || url-escaped secret.
ALTER TABLE outbox ADD COLUMN link_base TEXT NOT NULL DEFAULT '';
-- expires_at is when the code or link stops working: a message still undelivered then is dead.
ALTER TABLE outbox ADD COLUMN expires_at INTEGER;
-- claimed_at is when the dispatcher took the message (status 'sending').
ALTER TABLE outbox ADD COLUMN claimed_at INTEGER;

-- Rows queued by the first version had their text in subject/body. Their change links end in the secret,
-- as written by that version: "...password:\n<base>?id=<escaped secret>\n...".
UPDATE outbox SET kind = 'change-link', expires_at = created_at + 3600000,
    link_base = substr(body, instr(body, 'http'), instr(substr(body, instr(body, 'http')), '?id=') + 3)
    WHERE channel = 'email' AND subject = 'Password change' AND instr(body, '?id=') > 0;
UPDATE outbox SET expires_at = created_at + 600000 WHERE kind = 'code';
ALTER TABLE outbox DROP COLUMN subject;
ALTER TABLE outbox DROP COLUMN body;
-- A sent or dead message has no secret left, even from the first version.
UPDATE outbox SET secret = NULL WHERE status IN ('sent', 'dead');
