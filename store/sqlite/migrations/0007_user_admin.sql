-- 0007_user_admin: importing and administering the legacy user base.
--
-- disabled_at: a disabled user is answered on every face as an unknown one (the lookups skip it) and has
-- no live token. imported_hash: the password hash as the last import gave it, so that re-importing the
-- same file finds the user unchanged even after its first sign-in replaced the legacy hash by argon2id.
-- password_history.imported marks the older hashes an import brought (replaced by the next import that
-- brings others).
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN imported_hash TEXT;
ALTER TABLE password_history ADD COLUMN imported INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1));

-- A password change revokes the user's tokens; replacing a legacy hash by argon2id of the same password
-- (an upgrade at sign-in) is not a change and must not. So the trigger follows password_changed_at, which
-- a change moves (strictly forward: see setPassword) and an upgrade leaves alone.
DROP TRIGGER users_password_revokes_api_tokens;
CREATE TRIGGER users_password_revokes_api_tokens
AFTER UPDATE OF password_changed_at ON users
WHEN NEW.password_changed_at IS NOT OLD.password_changed_at
BEGIN
    UPDATE api_tokens SET revoked_at = max(NEW.password_changed_at, NEW.updated_at, created_at)
        WHERE user_id = NEW.id AND revoked_at IS NULL;
END;
