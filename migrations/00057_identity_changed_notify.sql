-- Servers keep the accounts a bearer token was last found to belong to for a moment
-- (identity.Store.CacheTokens), so that a command does not read api_tokens and users on every
-- request. Every change to those tables — a token revoked or given an end, an account suspended,
-- its role or unit granted — tells every server at its commit, and each forgets what it kept:
-- a revocation made by another process (`dxledger user …`, another server) takes effect there as
-- soon as the notification arrives.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION dxledger_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dxledger_identity', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER api_tokens_changed AFTER UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION dxledger_identity_changed();
CREATE TRIGGER users_changed AFTER UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION dxledger_identity_changed();

-- +goose Down
DROP TRIGGER users_changed ON users;
DROP TRIGGER api_tokens_changed ON api_tokens;
DROP FUNCTION dxledger_identity_changed();
