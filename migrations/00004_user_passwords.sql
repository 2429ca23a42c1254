-- Passwords for signing in to the web pages, stored as bcrypt hashes only.

-- +goose Up
ALTER TABLE users ADD COLUMN password_hash text;

-- +goose Down
ALTER TABLE users DROP COLUMN password_hash;
