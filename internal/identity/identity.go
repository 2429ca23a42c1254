// Package identity keeps the people who use dxledger and their bearer tokens. A token is shown
// once, when it is made; only its SHA-256 hash is stored.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"
)

// Roles of API.md.
const (
	RoleAdmin             = "admin"
	RoleFocalPoint        = "focal_point"
	RoleFinanceOfficer    = "finance_officer"
	RoleSteeringCommittee = "steering_committee"
)

// ErrUnauthenticated is returned for a missing, unknown or malformed token.
var ErrUnauthenticated = fault.New(fault.Unauthenticated, "identity.unauthenticated", "unknown or missing token")

// User is a person who can act through the API.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	UnitCode  string    `json:"unit_code,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Store keeps users and token hashes in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// New returns a Store on pool; now is the clock (time.Now when nil).
func New(pool *pgxpool.Pool, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{pool: pool, now: now}
}

// NewToken returns a fresh random bearer token (256 bits).
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return "dxl_" + base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Bootstrap creates an administrator named "Quản trị hệ thống" whose token is token, unless an
// administrator already exists. It reports whether it created one.
func (s *Store) Bootstrap(ctx context.Context, token string) (bool, error) {
	if len(token) < 16 {
		return false, errors.New("bootstrap token: use at least 16 characters")
	}
	created := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise concurrent bootstraps (two servers starting on one database).
		if _, err := tx.Exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')`).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		if _, err := s.create(ctx, tx, "Quản trị hệ thống", RoleAdmin, "", token); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap administrator: %w", err)
	}
	return created, nil
}

// MinPasswordLength is the shortest password accepted for the web pages.
const MinPasswordLength = 12

// ErrWeakPassword is returned for a password shorter than MinPasswordLength.
var ErrWeakPassword = fault.NewField("password", "identity.weak_password",
	fmt.Sprintf("password must have at least %d characters", MinPasswordLength), MinPasswordLength)

// Create registers a user and returns it with a new token, shown only this once. password is
// optional (""); when given it is stored as a bcrypt hash.
func (s *Store) Create(ctx context.Context, name, role, unitCode, password string) (User, string, error) {
	var hash []byte
	if password != "" {
		var err error
		if hash, err = hashPassword(password); err != nil {
			return User{}, "", err
		}
	}
	token := NewToken()
	var u User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if u, err = s.create(ctx, tx, name, role, unitCode, token); err != nil {
			return err
		}
		if hash != nil {
			_, err = tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE user_id = $1`, u.ID, string(hash))
		}
		return err
	})
	if err != nil {
		return User{}, "", fmt.Errorf("create user: %w", err)
	}
	return u, token, nil
}

func (s *Store) create(ctx context.Context, tx pgx.Tx, name, role, unitCode, token string) (User, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	u := User{ID: ulid.Make().String(), Name: name, Role: role, UnitCode: unitCode, CreatedAt: now}
	var unit *string
	if unitCode != "" {
		unit = &unitCode
	}
	if _, err := tx.Exec(ctx, `INSERT INTO users (user_id, name, role, unit_code, created_at) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.Name, u.Role, unit, now); err != nil {
		return User{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)`,
		hashToken(token), u.ID, now); err != nil {
		return User{}, err
	}
	return u, nil
}

// Ensure returns the user with this name, role and unit, creating it when there is none
// (for loaders that must not duplicate people when run twice).
func (s *Store) Ensure(ctx context.Context, name, role, unitCode string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `SELECT user_id, name, role, coalesce(unit_code, ''), created_at FROM users
		WHERE name = $1 AND role = $2 AND coalesce(unit_code, '') = $3 ORDER BY created_at LIMIT 1`, name, role, unitCode).
		Scan(&u.ID, &u.Name, &u.Role, &u.UnitCode, &u.CreatedAt)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("ensure user: %w", err)
	}
	u, _, err = s.Create(ctx, name, role, unitCode, "")
	return u, err
}

// IssueToken gives an existing user one more bearer token, shown only this once.
func (s *Store) IssueToken(ctx context.Context, userID string) (string, error) {
	token := NewToken()
	if _, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)`,
		hashToken(token), userID, s.now().UTC()); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return token, nil
}

// List returns every user, oldest first, without tokens or password hashes.
func (s *Store) List(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id, name, role, coalesce(unit_code, ''), created_at FROM users ORDER BY created_at, user_id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		err := r.Scan(&u.ID, &u.Name, &u.Role, &u.UnitCode, &u.CreatedAt)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// Authenticate returns the user a bearer token belongs to.
func (s *Store) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" || len(token) > 512 {
		return User{}, ErrUnauthenticated
	}
	var u User
	var unit *string
	err := s.pool.QueryRow(ctx, `SELECT u.user_id, u.name, u.role, u.unit_code, u.created_at
		FROM api_tokens t JOIN users u USING (user_id) WHERE t.token_hash = $1`, hashToken(token)).
		Scan(&u.ID, &u.Name, &u.Role, &unit, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	if unit != nil {
		u.UnitCode = *unit
	}
	return u, nil
}
