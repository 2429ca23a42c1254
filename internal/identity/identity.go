// Package identity keeps the people who use dxledger, their bearer tokens, passwords and
// sessions. A token is shown once, when it is made; only its SHA-256 hash is stored.
//
// Every change to an account — created, role or unit granted, suspended, reactivated, password
// set, token issued or revoked — is an event of the account's own stream (user-<id>) in the
// event store, with its actor and time, hash-chained and verified like every other stream
// (DESIGN.md invariant 15). The users, api_tokens and web_sessions tables are what signing in
// reads; each account change writes the table and appends its events in one step (see change).
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/eventstore"
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

// ErrUnauthenticated is returned for a missing, unknown, malformed, expired or revoked token,
// and for a token of a suspended account.
var ErrUnauthenticated = fault.New(fault.Unauthenticated, "identity.unauthenticated", "unknown or missing token")

// User is a person who can act through the API.
type User struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	UnitCode    string     `json:"unit_code,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	CreatedBy   string     `json:"created_by,omitempty"`
	Suspended   bool       `json:"suspended"`
	SuspendedAt *time.Time `json:"suspended_at,omitempty"`
	// Version is the account stream's version (its number of events).
	Version int64 `json:"version"`
}

// Events is what the store needs of the event store: the account streams.
type Events interface {
	Append(ctx context.Context, stream string, expected int64, events []eventstore.Event, opts ...eventstore.AppendOption) (eventstore.Result, error)
	ReadStream(ctx context.Context, stream string, from int64) ([]eventstore.Record, error)
	Previous(ctx context.Context, stream, commandID string, fingerprint []byte) (eventstore.Result, bool, error)
}

// Config is how a Store behaves.
type Config struct {
	// Events holds the account streams.
	Events Events
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// TokenTTL is how long a token lives when its maker does not say (DefaultTokenTTL when 0).
	TokenTTL time.Duration
	// IdleTimeout ends a web session unused for this long (DefaultIdleTimeout when 0).
	IdleTimeout time.Duration
}

// Defaults of Config.
const (
	DefaultTokenTTL    = 90 * 24 * time.Hour
	DefaultIdleTimeout = 30 * time.Minute
	// MaxTokenTTL bounds expires_in_days.
	MaxTokenTTL = 3650 * 24 * time.Hour
)

// Store keeps users, token hashes and sessions in PostgreSQL, and each account's history in
// the event store.
type Store struct {
	pool  *pgxpool.Pool
	cfg   Config
	now   func() time.Time
	cache tokenCache // used once CacheTokens runs
	// lookups counts Authenticate's reads of api_tokens and users (TokenLookups).
	lookups atomic.Int64
}

// TokenLookups is how many times Authenticate read api_tokens and users.
func (s *Store) TokenLookups() int64 { return s.lookups.Load() }

// New returns a Store on pool.
func New(pool *pgxpool.Pool, cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	return &Store{pool: pool, cfg: cfg, now: cfg.Now}
}

// TokenTTL is the default life of a token.
func (s *Store) TokenTTL() time.Duration { return s.cfg.TokenTTL }

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

func (s *Store) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Bootstrap creates an administrator named "Quản trị hệ thống" whose token is token, unless an
// administrator already exists. It reports whether it created one.
func (s *Store) Bootstrap(ctx context.Context, token string) (bool, error) {
	if len(token) < 16 {
		return false, errors.New("bootstrap token: use at least 16 characters")
	}
	created := false
	err := s.createIf(ctx, System, NewUser{Name: "Quản trị hệ thống", Role: RoleAdmin, TokenName: "bootstrap"}, token, true, &created)
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

// NewUser is an account to create.
type NewUser struct {
	Name, Role, UnitCode string
	// Password is optional (""); when given it is stored as a bcrypt hash.
	Password string
	// TokenName names the first token ("" for none named).
	TokenName string
	// NoToken creates the account without a token (a person who only signs in to the pages).
	NoToken bool
	// Once makes a retry of the same request create nothing (Idempotency-Key).
	Once Once
}

// Once identifies a request that a retry must not carry out twice (API.md: a replayed POST
// whose first answer carried a secret returns the same id without the secret). Key is empty
// for a request that is not to be deduplicated.
type Once struct {
	Key         string // the caller's Idempotency-Key, scoped by actor and route
	Fingerprint []byte // the request body's; the same key with another body is refused
}

func (o Once) commandID(by Actor, what string) string {
	if o.Key == "" {
		return ""
	}
	// Hashed, as the items' keys are: a key is the client's text, whatever its bytes.
	sum := sha256.Sum256([]byte(by.UserID + "\x00" + what + "\x00" + o.Key))
	return "account:" + hex.EncodeToString(sum[:16])
}

// ErrIdempotencyMismatch refuses an Idempotency-Key used before with another body.
var ErrIdempotencyMismatch = fault.New(fault.Refused, "identity.idempotency_mismatch", "idempotency key was used with another request")

// previous returns the account stream a request with this command id already wrote, if any.
// stream is the account's stream for a change, "" for a create (whose replay chose a new id:
// the answer names the stream first created). A command id names one command (issue 13): the
// same id on another account's stream is a reuse, refused.
func (s *Store) previous(ctx context.Context, stream, commandID string, fp []byte) (eventstore.Result, bool, error) {
	if commandID == "" || s.cfg.Events == nil {
		return eventstore.Result{}, false, nil
	}
	res, found, err := s.cfg.Events.Previous(ctx, stream, commandID, fp)
	if errors.Is(err, eventstore.ErrCommandReused) {
		return res, true, ErrIdempotencyMismatch
	}
	return res, found, err
}

// Create registers a user by actor and returns it with its first token, shown only this once
// ("" when NoToken).
func (s *Store) Create(ctx context.Context, by Actor, nu NewUser) (User, string, error) {
	if res, found, err := s.previous(ctx, "", nu.Once.commandID(by, "create"), nu.Once.Fingerprint); found || err != nil {
		if err != nil {
			return User{}, "", err
		}
		u, err := s.user(ctx, strings.TrimPrefix(res.StreamID, StreamPrefix))
		return u, "", err
	}
	token := ""
	if !nu.NoToken {
		token = NewToken()
	}
	var u User
	err := s.create(ctx, by, nu, token, &u)
	if errors.Is(err, retried) { // the same request, a moment before
		u, err := s.user(ctx, u.ID)
		return u, "", err
	}
	if err != nil {
		return User{}, "", fmt.Errorf("create user: %w", err)
	}
	return u, token, nil
}

// createIf creates nu unless onlyIfNoAdmin and an administrator exists.
func (s *Store) createIf(ctx context.Context, by Actor, nu NewUser, token string, onlyIfNoAdmin bool, created *bool) error {
	var u User
	return s.createUser(ctx, by, nu, token, onlyIfNoAdmin, &u, created)
}

func (s *Store) create(ctx context.Context, by Actor, nu NewUser, token string, out *User) error {
	var created bool
	return s.createUser(ctx, by, nu, token, false, out, &created)
}

// createUser inserts the account's rows and appends its first events in one transaction
// (eventstore.InTx): an account without its history, or a history without its account, is
// never seen.
func (s *Store) createUser(ctx context.Context, by Actor, nu NewUser, token string, onlyIfNoAdmin bool, out *User, created *bool) error {
	var hash []byte
	if nu.Password != "" {
		var err error
		if hash, err = hashPassword(nu.Password); err != nil {
			return err
		}
	}
	now := s.stamp()
	u := User{ID: ulid.Make().String(), Name: nu.Name, Role: nu.Role, UnitCode: nu.UnitCode, CreatedAt: now, CreatedBy: by.UserID}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if onlyIfNoAdmin {
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
		}
		var unit *string
		if nu.UnitCode != "" {
			unit = &nu.UnitCode
		}
		var pw *string
		if hash != nil {
			h := string(hash)
			pw = &h
		}
		if _, err := tx.Exec(ctx, `INSERT INTO users (user_id, name, role, unit_code, created_at, created_by, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			u.ID, u.Name, u.Role, unit, now, by.UserID, pw); err != nil {
			return err
		}
		evs := []event{{typ: EvCreated, data: accountCreated{Name: u.Name, Role: u.Role, UnitCode: u.UnitCode, Password: hash != nil}}}
		if token != "" {
			t, err := s.insertToken(ctx, tx, u.ID, token, nu.TokenName, s.cfg.TokenTTL, now)
			if err != nil {
				return err
			}
			evs = append(evs, event{typ: EvTokenIssued, data: tokenIssued{TokenID: t.ID, Name: t.Name, ExpiresAt: t.ExpiresAt}})
		}
		res, err := s.appendEvents(eventstore.InTx(ctx, tx), by, u.ID, 0, evs, nu.Once.commandID(by, "create"), nu.Once.Fingerprint)
		if err != nil {
			return err
		}
		if res.Duplicate {
			out.ID = strings.TrimPrefix(res.StreamID, StreamPrefix)
			return retried
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET version = $2 WHERE user_id = $1`, u.ID, res.ToVersion); err != nil {
			return err
		}
		u.Version = res.ToVersion
		*out, *created = u, true
		return nil
	})
}

// retried rolls back a request that turned out to be a retry of one already carried out (it
// never leaves the package).
var retried = errors.New("identity: a retried request")

// Ensure returns the user with this name, role and unit, creating it (by actor, with password
// when not empty, and a first token) when there is none — for loaders that must not duplicate
// people when run twice. token is the new account's token, "" when the account existed.
func (s *Store) Ensure(ctx context.Context, by Actor, name, role, unitCode, password string) (u User, token string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users
		WHERE name = $1 AND role = $2 AND coalesce(unit_code, '') = $3 ORDER BY created_at LIMIT 1`, name, role, unitCode).
		Scan(u.dest()...)
	if err == nil {
		u.fill()
		return u, "", nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", fmt.Errorf("ensure user: %w", err)
	}
	return s.Create(ctx, by, NewUser{Name: name, Role: role, UnitCode: unitCode, Password: password})
}

const userCols = `user_id, name, role, coalesce(unit_code, ''), created_at, created_by, suspended_at, version`

func (u *User) dest() []any {
	return []any{&u.ID, &u.Name, &u.Role, &u.UnitCode, &u.CreatedAt, &u.CreatedBy, &u.SuspendedAt, &u.Version}
}

func (u *User) fill() {
	u.Suspended = u.SuspendedAt != nil
}

// List returns every user, oldest first, without tokens or password hashes.
func (s *Store) List(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY created_at, user_id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		err := r.Scan(u.dest()...)
		u.fill()
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// Get returns one user.
func (s *Store) Get(ctx context.Context, userID string) (User, error) { return s.user(ctx, userID) }

// Authenticate returns the user a bearer token belongs to: a token that is unknown, revoked,
// past its end, or of a suspended account is ErrUnauthenticated.
func (s *Store) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" || len(token) > 512 {
		return User{}, ErrUnauthenticated
	}
	key, now := sha256.Sum256([]byte(token)), s.now()
	if u, ok := s.cache.get(key, now, time.Now()); ok {
		return u, nil
	}
	gen, keep := s.cache.begin()
	read := time.Now()
	s.lookups.Add(1)
	var (
		u       User
		expires *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT u.user_id, u.name, u.role, coalesce(u.unit_code, ''), u.created_at, u.created_by, u.suspended_at, u.version, t.expires_at
		FROM api_tokens t JOIN users u USING (user_id)
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.suspended_at IS NULL`,
		key[:], now).Scan(append(u.dest(), &expires)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	u.fill()
	if keep {
		s.cache.put(key, gen, tokenEntry{user: u, expires: expires, read: read})
	}
	return u, nil
}
