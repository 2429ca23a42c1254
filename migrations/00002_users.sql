-- People and their API tokens. Tokens are stored only as SHA-256 hashes: a token is 256 random
-- bits (or the operator's bootstrap secret), so a fast hash is enough to make the table useless
-- to whoever reads it.

-- +goose Up
CREATE TABLE users (
    user_id    text PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    role       text NOT NULL CHECK (role IN ('admin', 'focal_point', 'finance_officer', 'steering_committee')),
    unit_code  text,
    created_at timestamptz NOT NULL
);
CREATE TABLE api_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (user_id),
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE users;
