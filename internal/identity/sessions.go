package identity

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
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

// passwordCost is bcrypt's work factor for the passwords stored: bcrypt.DefaultCost, except in
// tests that lower it with SetPasswordCostForTests.
var passwordCost = bcrypt.DefaultCost

// SetPasswordCostForTests sets bcrypt's work factor for the passwords hashed from now on. Only
// for tests, before they start (a TestMain or an init): under the race detector one hash at the
// default cost takes seconds of CPU and the end-to-end tests make hundreds (34 people each time
// the demo is loaded). What a test checks of passwords does not depend on the cost.
func SetPasswordCostForTests(cost int) { passwordCost = cost }

// dummyHash is compared against when no user has the name, so that an unknown name takes as
// long to refuse as a wrong password. It is made on first use, at the cost passwords are made
// with (not at start: every program and test binary that links this package would pay for it).
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("dxledger-no-such-user"), passwordCost)
	return h
})

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
	return bcrypt.GenerateFromPassword([]byte(password), passwordCost)
}

// ErrNoSuchUser is returned for a user id that is not registered.
var ErrNoSuchUser = fault.New(fault.NotFound, "identity.no_such_user", "no such user")

// AccountsNamed returns the ids of the accounts with this name that have a password: the
// accounts a sign-in under this name tries (for counting failures per account).
func (s *Store) AccountsNamed(ctx context.Context, name string) ([]string, error) {
	if name == "" || len(name) > 200 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT user_id FROM users WHERE name = $1 AND password_hash IS NOT NULL ORDER BY created_at`, name)
	if err != nil {
		return nil, fmt.Errorf("accounts named: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// SignIn returns the user with this name whose password this is. Names need not be unique;
// each user of that name with a password is tried. A suspended account whose password this is
// gets ErrSuspended.
func (s *Store) SignIn(ctx context.Context, name, password string) (User, error) {
	if name == "" || password == "" || len(name) > 200 || len(password) > 200 {
		return User{}, ErrBadCredentials
	}
	rows, err := s.pool.Query(ctx, `SELECT `+userCols+`, password_hash
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
		err := r.Scan(append(c.u.dest(), &c.hash)...)
		c.u.fill()
		return c, err
	})
	if err != nil {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	if len(cands) == 0 {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return User{}, ErrBadCredentials
	}
	for _, c := range cands {
		if bcrypt.CompareHashAndPassword([]byte(c.hash), []byte(password)) == nil {
			if c.u.Suspended {
				return User{}, ErrSuspended
			}
			return c.u, nil
		}
	}
	return User{}, ErrBadCredentials
}

// CheckPassword reports whether password is userID's (for a person changing their own).
func (s *Store) CheckPassword(ctx context.Context, userID, password string) error {
	var hash *string
	err := s.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE user_id = $1`, userID).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNoSuchUser
	}
	if err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	if hash == nil || len(password) > 200 || bcrypt.CompareHashAndPassword([]byte(*hash), []byte(password)) != nil {
		return ErrWrongPassword
	}
	return nil
}

// ErrWrongPassword refuses a change of one's own password that does not give the current one.
var ErrWrongPassword = fault.NewField("current_password", "identity.wrong_password", "is not your current password")

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
		if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at < $1 OR last_seen_at < $2`,
			now.Add(-24*time.Hour), now.Add(-s.cfg.IdleTimeout-24*time.Hour)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (session_hash, user_id, csrf_token, created_at, expires_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $4)`, hashToken(token), userID, csrf, now, sess.ExpiresAt)
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
	err := s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE user_id = $1`, userID).Scan(u.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNoSuchUser
	}
	if err != nil {
		return User{}, fmt.Errorf("user: %w", err)
	}
	u.fill()
	return u, nil
}

// Session returns the session a cookie's token belongs to: ErrUnauthenticated when there is
// none (or its account is suspended), ErrSessionExpired when it has ended or has not been used
// for the idle timeout. A session in use has its idle clock moved on (at most once a minute).
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 512 {
		return Session{}, ErrUnauthenticated
	}
	var (
		sess     Session
		lastSeen time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT u.user_id, u.name, u.role, coalesce(u.unit_code, ''), u.created_at, u.created_by, u.suspended_at, u.version,
		w.csrf_token, w.expires_at, w.last_seen_at
		FROM web_sessions w JOIN users u USING (user_id) WHERE w.session_hash = $1`, hashToken(token)).
		Scan(append(sess.User.dest(), &sess.CSRF, &sess.ExpiresAt, &lastSeen)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	sess.User.fill()
	if sess.User.Suspended {
		return Session{}, ErrUnauthenticated
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || !now.Before(lastSeen.Add(s.cfg.IdleTimeout)) {
		return Session{}, ErrSessionExpired
	}
	if now.Sub(lastSeen) > time.Minute {
		if _, err := s.pool.Exec(ctx, `UPDATE web_sessions SET last_seen_at = $2 WHERE session_hash = $1`, hashToken(token), now.UTC()); err != nil {
			return Session{}, fmt.Errorf("session: %w", err)
		}
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
