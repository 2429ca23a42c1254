package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/jackc/pgx/v5"
)

// SetupLinkTTL is how long a first-run setup link stays valid, unless used.
const SetupLinkTTL = 24 * time.Hour

// ErrSetupLink refuses a setup link that is unknown, used, past its end, or that comes after an
// administrator already exists.
var ErrSetupLink = fault.New(fault.NotFound, "identity.setup_link", "this setup link is unknown, already used or expired")

// HasAdmin reports whether any administrator exists.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')`).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("has admin: %w", err)
	}
	return exists, nil
}

// NewSetupLink returns a fresh one-time secret for the first-run setup page, valid for
// SetupLinkTTL or until used, when no administrator exists yet; "" when one does. Links
// printed before stay valid until their end: a restart does not strand the one already sent.
func (s *Store) NewSetupLink(ctx context.Context) (string, error) {
	if ok, err := s.HasAdmin(ctx); err != nil || ok {
		return "", err
	}
	secret := NewToken()
	now := s.stamp()
	if _, err := s.pool.Exec(ctx, `INSERT INTO setup_links (link_hash, created_at, expires_at) VALUES ($1, $2, $3)`,
		hashToken(secret), now, now.Add(SetupLinkTTL)); err != nil {
		return "", fmt.Errorf("setup link: %w", err)
	}
	return secret, nil
}

// ValidSetupLink reports whether secret is a setup link that may still be used.
func (s *Store) ValidSetupLink(ctx context.Context, secret string) error {
	if secret == "" || len(secret) > 200 {
		return ErrSetupLink
	}
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT used_at IS NULL AND expires_at > $2 AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')
		FROM setup_links WHERE link_hash = $1`, hashToken(secret), s.now()).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !ok) {
		return ErrSetupLink
	}
	return err
}

// UseSetupLink creates the first administrator with the name and password they chose on the
// setup page, and spends the link. The account has no token (its owner makes one when needed).
func (s *Store) UseSetupLink(ctx context.Context, secret, name, password string) (User, error) {
	if err := s.ValidSetupLink(ctx, secret); err != nil {
		return User{}, err
	}
	// The link is spent first, in its own statement: of two uses at once, one wins.
	tag, err := s.pool.Exec(ctx, `UPDATE setup_links SET used_at = $2 WHERE link_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		hashToken(secret), s.now())
	if err != nil {
		return User{}, fmt.Errorf("setup link: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return User{}, ErrSetupLink
	}
	var (
		u       User
		created bool
	)
	err = s.createUser(ctx, Actor{UserID: System.UserID, Role: System.Role, RequestID: "setup-link"},
		NewUser{Name: name, Role: RoleAdmin, Password: password}, "", true, &u, &created)
	if err == nil && !created {
		err = ErrSetupLink
	}
	if err != nil {
		// Give the link back: a weak password must not spend it.
		_, _ = s.pool.Exec(ctx, `UPDATE setup_links SET used_at = NULL WHERE link_hash = $1`, hashToken(secret))
		return User{}, err
	}
	return u, nil
}
