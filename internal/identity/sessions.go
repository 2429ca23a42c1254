package identity

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

var (
	// ErrBadCredentials is returned for an unknown name or a wrong password; which of the two
	// is not said.
	ErrBadCredentials = fault.New(fault.Unauthenticated, "identity.bad_credentials", "wrong name or password")
	// ErrSessionExpired is returned for a session past its end.
	ErrSessionExpired = fault.New(fault.Unauthenticated, "identity.session_expired", "the session has expired")
)

// dummyHash is compared against when no user has the name, so that an unknown name takes as
// long to refuse as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("dxledger-no-such-user"), bcrypt.DefaultCost)

// SetPassword sets or resets a user's password for the web pages, and signs that user out of
// every browser: whoever knew the old password keeps no session.
func (s *Store) SetPassword(ctx context.Context, userID, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE user_id = $1`, userID, string(hash))
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNoSuchUser
		}
		if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		return nil
	})
}

// ErrLongPassword is returned for a password longer than bcrypt's 72 bytes (24 Vietnamese
// letters with tone marks can be that long).
var ErrLongPassword = fault.NewField("password", "identity.long_password", "password must be at most 72 bytes")

func hashPassword(password string) ([]byte, error) {
	switch {
	case len([]rune(password)) < MinPasswordLength:
		return nil, ErrWeakPassword
	case len(password) > 72:
		return nil, ErrLongPassword
	}
	return bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
}

// ErrNoSuchUser is returned for a user id that is not registered.
var ErrNoSuchUser = fault.New(fault.NotFound, "identity.no_such_user", "no such user")

// SignIn returns the user with this name whose password this is. Names need not be unique;
// each user of that name with a password is tried.
func (s *Store) SignIn(ctx context.Context, name, password string) (User, error) {
	if name == "" || password == "" || len(name) > 200 || len(password) > 200 {
		return User{}, ErrBadCredentials
	}
	rows, err := s.pool.Query(ctx, `SELECT user_id, name, role, coalesce(unit_code, ''), created_at, password_hash
		FROM users WHERE name = $1 AND password_hash IS NOT NULL ORDER BY created_at`, name)
	if err != nil {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	type candidate struct {
		u    User
		hash string
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candidate, error) {
		var c candidate
		err := r.Scan(&c.u.ID, &c.u.Name, &c.u.Role, &c.u.UnitCode, &c.u.CreatedAt, &c.hash)
		return c, err
	})
	if err != nil {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	if len(cands) == 0 {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return User{}, ErrBadCredentials
	}
	for _, c := range cands {
		if bcrypt.CompareHashAndPassword([]byte(c.hash), []byte(password)) == nil {
			return c.u, nil
		}
	}
	return User{}, ErrBadCredentials
}

// Session is a signed-in browser.
type Session struct {
	User User
	// CSRF is the session's form token: every form it posts must carry it.
	CSRF      string
	ExpiresAt time.Time
}

// StartSession signs userID in for ttl and returns the cookie's token, shown only this once.
func (s *Store) StartSession(ctx context.Context, userID string, ttl time.Duration) (string, Session, error) {
	token, csrf := NewToken(), NewToken()
	now := s.now().UTC().Truncate(time.Microsecond)
	sess := Session{CSRF: csrf, ExpiresAt: now.Add(ttl)}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Sessions ended a day ago or more are of no use to anyone.
		if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at < $1`, now.Add(-24*time.Hour)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (session_hash, user_id, csrf_token, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, hashToken(token), userID, csrf, now, sess.ExpiresAt)
		return err
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	sess.User, err = s.user(ctx, userID)
	return token, sess, err
}

func (s *Store) user(ctx context.Context, userID string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `SELECT user_id, name, role, coalesce(unit_code, ''), created_at FROM users WHERE user_id = $1`, userID).
		Scan(&u.ID, &u.Name, &u.Role, &u.UnitCode, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNoSuchUser
	}
	if err != nil {
		return User{}, fmt.Errorf("user: %w", err)
	}
	return u, nil
}

// Session returns the session a cookie's token belongs to: ErrUnauthenticated when there is
// none, ErrSessionExpired when it has ended.
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 512 {
		return Session{}, ErrUnauthenticated
	}
	var sess Session
	err := s.pool.QueryRow(ctx, `SELECT u.user_id, u.name, u.role, coalesce(u.unit_code, ''), u.created_at, w.csrf_token, w.expires_at
		FROM web_sessions w JOIN users u USING (user_id) WHERE w.session_hash = $1`, hashToken(token)).
		Scan(&sess.User.ID, &sess.User.Name, &sess.User.Role, &sess.User.UnitCode, &sess.User.CreatedAt, &sess.CSRF, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	if !s.now().Before(sess.ExpiresAt) {
		return Session{}, ErrSessionExpired
	}
	return sess, nil
}

// EndSession signs a browser out.
func (s *Store) EndSession(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE session_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SameToken compares two secrets in constant time.
func SameToken(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
