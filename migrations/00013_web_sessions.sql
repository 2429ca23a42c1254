-- Signed-in sessions of the web pages. The cookie carries a random token; only its SHA-256
-- hash is stored, with the form token (CSRF) of the session and when it ends.

-- +goose Up
CREATE TABLE web_sessions (
    session_hash bytea PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (user_id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
