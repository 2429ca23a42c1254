-- Accounts that can be taken back (issue 14): each account's changes are events of its own
-- stream (user-<id>) in the event store; these tables are what signing in reads. version is the
-- account stream's version the row reflects (0 until the account's first event is recorded).
-- Tokens get an id (shown, listed and revoked by it), a name, an end and a revocation time;
-- sessions remember when they were last used, for the idle timeout; setup links are the
-- one-time links serve prints on an empty store.

-- +goose Up
ALTER TABLE users
    ADD COLUMN version      bigint NOT NULL DEFAULT 0,
    ADD COLUMN suspended_at timestamptz,
    ADD COLUMN created_by   text NOT NULL DEFAULT '';
ALTER TABLE api_tokens
    ADD COLUMN token_id   text,
    ADD COLUMN name       text NOT NULL DEFAULT '',
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN revoked_at timestamptz;
-- Tokens made before: an id from their hash (unique as the hash is), no end until the server
-- gives them one at start (identity.Store.Backfill).
UPDATE api_tokens SET token_id = 'tok_' || encode(substring(token_hash FROM 1 FOR 12), 'hex');
ALTER TABLE api_tokens ALTER COLUMN token_id SET NOT NULL;
CREATE UNIQUE INDEX api_tokens_token_id ON api_tokens (token_id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
ALTER TABLE web_sessions ADD COLUMN last_seen_at timestamptz;
UPDATE web_sessions SET last_seen_at = created_at;
ALTER TABLE web_sessions ALTER COLUMN last_seen_at SET NOT NULL;
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE TABLE setup_links (
    link_hash  bytea PRIMARY KEY,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- +goose Down
DROP TABLE setup_links;
DROP INDEX web_sessions_user;
ALTER TABLE web_sessions DROP COLUMN last_seen_at;
DROP INDEX api_tokens_user;
DROP INDEX api_tokens_token_id;
ALTER TABLE api_tokens DROP COLUMN revoked_at, DROP COLUMN expires_at, DROP COLUMN name, DROP COLUMN token_id;
ALTER TABLE users DROP COLUMN created_by, DROP COLUMN suspended_at, DROP COLUMN version;
