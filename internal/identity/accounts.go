package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"
)

// Actor is who changes an account: a user acting through the API or the pages, or the system
// (the bootstrap secret, the demo loader, an operator's command).
type Actor struct {
	UserID, Role, RequestID string
}

// System is the actor of changes made by the server's operator rather than through a request
// (DXLEDGER_BOOTSTRAP_TOKEN, the demo, `dxledger user create`, the first-run setup link).
var System = Actor{UserID: "system", Role: "system"}

// ActorOf is the actor u is when acting in request requestID.
func ActorOf(u User, requestID string) Actor {
	return Actor{UserID: u.ID, Role: u.Role, RequestID: requestID}
}

// StreamPrefix starts the stream of every account.
const StreamPrefix = "user-"

// StreamID is the stream of an account.
func StreamID(userID string) string { return StreamPrefix + userID }

// Account event types.
const (
	EvCreated     = "account_created.v1"
	EvRecorded    = "account_recorded.v1" // an account made before accounts had streams
	EvGranted     = "role_granted.v1"
	EvSuspended   = "account_suspended.v1"
	EvReactivated = "account_reactivated.v1"
	EvPasswordSet = "password_set.v1"
	EvTokenIssued = "token_issued.v1"
	EvTokenRevoke = "token_revoked.v1"
)

type accountCreated struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	UnitCode string `json:"unit_code,omitempty"`
	Password bool   `json:"password"`
}

type accountRecorded struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	UnitCode  string    `json:"unit_code,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Password  bool      `json:"password"`
	// Tokens are the account's tokens then, each given an end now.
	Tokens []tokenIssued `json:"tokens,omitempty"`
}

type roleGranted struct {
	Role     string `json:"role"`
	UnitCode string `json:"unit_code,omitempty"`
}

type suspended struct {
	Reason string `json:"reason"`
}

type reactivated struct {
	Note string `json:"note,omitempty"`
}

type passwordSet struct {
	// Reset: set by someone other than the account's owner.
	Reset bool `json:"reset"`
}

type tokenIssued struct {
	TokenID   string    `json:"token_id"`
	Name      string    `json:"name,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

type tokenRevoked struct {
	TokenID string `json:"token_id"`
	// Why: "revoked" (by hand), "suspended" or "password_set".
	Why string `json:"why"`
}

type event struct {
	typ  string
	data any
}

func (s *Store) appendEvents(ctx context.Context, by Actor, userID string, expected int64, evs []event, once ...any) (eventstore.Result, error) {
	if s.cfg.Events == nil {
		return eventstore.Result{}, errors.New("identity: no event store to record account changes in")
	}
	out := make([]eventstore.Event, len(evs))
	for i, e := range evs {
		b, err := json.Marshal(e.data)
		if err != nil {
			return eventstore.Result{}, err
		}
		out[i] = eventstore.Event{Type: e.typ, Data: b, Metadata: eventstore.Metadata{Actor: by.UserID, Role: by.Role, RequestID: by.RequestID,
			OccurredOn: requestOf(ctx).OccurredOn}}
	}
	if expected == 0 {
		expected = eventstore.NoStream
	}
	var opts []eventstore.AppendOption
	if len(once) == 2 && once[0].(string) != "" {
		opts = append(opts, eventstore.WithCommandID(once[0].(string), once[1].([]byte)))
	}
	res, err := s.cfg.Events.Append(ctx, StreamID(userID), expected, out, opts...)
	if errors.Is(err, eventstore.ErrCommandReused) {
		return res, ErrIdempotencyMismatch
	}
	return res, err
}

// Change is the outcome of an account change.
type Change struct {
	ID      string
	Version int64
	// Position is where the change left the event store (Dxledger-Position).
	Position string
	// Duplicate: a retry of a request already carried out; nothing was appended now.
	Duplicate bool
	first     eventstore.Result
}

// Request is what an API call asks of an account change besides the change itself (API.md,
// "Conventions"): IfMatch, the account stream's version the change must find (else a
// *eventstore.ConflictError), and Once, its Idempotency-Key. It travels in the context
// (WithRequest), so the account methods keep their signatures for the pages and loaders.
type Request struct {
	IfMatch *int64
	Once    Once
	// OccurredOn is the change's business date (API.md: every write takes occurred_on), kept
	// as its events' OccurredOn; zero: none given. Who may take part in a two-person rule is
	// decided on recorded times, never on it (DESIGN.md invariant 15).
	OccurredOn time.Time
}

type requestKey struct{}

// WithRequest carries r to the account change run with the returned context.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestOf(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// change runs one account change: it locks the account's row, lets f change the tables and
// name the events, appends them to the account's stream at the version the row reflects, and
// commits. The append runs in the same transaction (eventstore.InTx): the tables and the
// history commit together or not at all — a failed append rolls the change back, and a failed
// commit after the append leaves no event behind (which would put the stream ahead of the
// row's version, so that every later change of the account was a conflict). Two changes to
// one account wait for each other on the row lock.
// what names the change for Idempotency-Key (a key is scoped by actor and change).
func (s *Store) change(ctx context.Context, by Actor, userID, what string, f func(tx pgx.Tx, u User, now time.Time) ([]event, error)) (Change, error) {
	once := requestOf(ctx).Once
	return s.changeOnce(ctx, by, userID, once.commandID(by, what+":"+userID), once.Fingerprint, f)
}

// changeOnce is change for a request a retry must not carry out twice (commandID, "" for
// none): a retry appends nothing and answers the first change's result, Duplicate.
func (s *Store) changeOnce(ctx context.Context, by Actor, userID, commandID string, fp []byte, f func(tx pgx.Tx, u User, now time.Time) ([]event, error)) (Change, error) {
	if res, found, err := s.previous(ctx, StreamID(userID), commandID, fp); found || err != nil {
		return Change{ID: userID, Version: res.ToVersion, Duplicate: true, first: res}, err
	}
	var ch Change
	// What Authenticate kept is forgotten before the change's caller is answered (a revoked
	// token or a suspended account is refused at once here; elsewhere at the notification).
	defer s.cache.forget()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var u User
		err := tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE user_id = $1 FOR UPDATE`, userID).Scan(u.dest()...)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoSuchUser
		}
		if err != nil {
			return err
		}
		u.fill()
		if m := requestOf(ctx).IfMatch; m != nil && *m != u.Version {
			return &eventstore.ConflictError{Stream: StreamID(u.ID), Expected: *m, Actual: u.Version}
		}
		now := s.stamp()
		evs, err := f(tx, u, now)
		if err != nil || len(evs) == 0 {
			ch = Change{ID: u.ID, Version: u.Version}
			return err
		}
		res, err := s.appendEvents(eventstore.InTx(ctx, tx), by, u.ID, u.Version, evs, commandID, fp)
		if err != nil {
			return err
		}
		if res.Duplicate {
			ch = Change{ID: u.ID, Version: res.ToVersion, Duplicate: true, first: res}
			return retried
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET version = $2 WHERE user_id = $1`, u.ID, res.ToVersion); err != nil {
			return err
		}
		ch = Change{ID: u.ID, Version: res.ToVersion, Position: res.Position.String()}
		return nil
	})
	if errors.Is(err, retried) {
		return ch, nil
	}
	return ch, err
}

// Token is one bearer token as listed: never its secret.
type Token struct {
	ID        string     `json:"token_id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func newTokenID() string { return "tok_" + ulid.Make().String() }

func (s *Store) insertToken(ctx context.Context, tx pgx.Tx, userID, secret, name string, ttl time.Duration, now time.Time) (Token, error) {
	t := Token{ID: newTokenID(), Name: name, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	_, err := tx.Exec(ctx, `INSERT INTO api_tokens (token_hash, user_id, created_at, token_id, name, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		hashToken(secret), userID, now, t.ID, name, t.ExpiresAt)
	return t, err
}

// Errors of account changes.
var (
	ErrNoSuchToken = fault.New(fault.NotFound, "identity.no_such_token", "no such token for this user")
	ErrSuspended   = fault.New(fault.Unauthenticated, "identity.suspended", "this account is suspended")
	// ErrSelfSuspend refuses an administrator suspending their own account (the last
	// administrator would lock everyone out).
	ErrSelfSuspend = fault.New(fault.Refused, "identity.self_suspend", "an administrator cannot suspend their own account")
	ErrTokenTTL    = fault.NewField("expires_in_days", "identity.token_ttl", "must be 1 to 3650 days", 1, 3650)
)

// IssueToken gives userID one more bearer token named name, living ttl (the default when 0),
// shown only this once.
func (s *Store) IssueToken(ctx context.Context, by Actor, userID, name string, ttl time.Duration) (Token, string, Change, error) {
	return s.IssueTokenOnce(ctx, by, userID, name, ttl, Once{})
}

// IssueTokenOnce is IssueToken for a request a retry must not carry out twice: a retry answers
// the first token's id and end without its secret ("").
func (s *Store) IssueTokenOnce(ctx context.Context, by Actor, userID, name string, ttl time.Duration, once Once) (Token, string, Change, error) {
	if ttl == 0 {
		ttl = s.cfg.TokenTTL
	}
	if ttl < 0 || ttl > MaxTokenTTL {
		return Token{}, "", Change{}, ErrTokenTTL
	}
	secret := NewToken()
	var t Token
	ch, err := s.changeOnce(ctx, by, userID, once.commandID(by, "token:"+userID), once.Fingerprint, func(tx pgx.Tx, u User, now time.Time) ([]event, error) {
		if u.Suspended {
			return nil, ErrSuspended
		}
		var err error
		if t, err = s.insertToken(ctx, tx, userID, secret, name, ttl, now); err != nil {
			return nil, err
		}
		return []event{{EvTokenIssued, tokenIssued{TokenID: t.ID, Name: name, ExpiresAt: t.ExpiresAt}}}, nil
	})
	if err != nil {
		return Token{}, "", Change{}, fmt.Errorf("issue token: %w", err)
	}
	if ch.Duplicate {
		// The first answer's token, read back from its event, without the secret.
		recs, err := s.cfg.Events.ReadStream(ctx, StreamID(userID), ch.first.FromVersion-1)
		if err != nil {
			return Token{}, "", Change{}, fmt.Errorf("issue token: %w", err)
		}
		for _, r := range recs {
			var ti tokenIssued
			if r.Type == EvTokenIssued && r.Version <= ch.first.ToVersion && json.Unmarshal(r.Data, &ti) == nil {
				t = Token{ID: ti.TokenID, Name: ti.Name, CreatedAt: r.Metadata.RecordedAt, ExpiresAt: ti.ExpiresAt}
			}
		}
		// created_at as the first answer gave it and the list gives it: the token's row, not
		// when its event was recorded (they differ by the transaction's own work).
		err = s.pool.QueryRow(ctx, `SELECT created_at FROM api_tokens WHERE user_id = $1 AND token_id = $2`, userID, t.ID).Scan(&t.CreatedAt)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return Token{}, "", Change{}, fmt.Errorf("issue token: %w", err)
		}
		return t, "", ch, nil
	}
	return t, secret, ch, nil
}

// Tokens lists userID's tokens, newest first, without their secrets.
func (s *Store) Tokens(ctx context.Context, userID string) ([]Token, error) {
	if _, err := s.user(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT token_id, name, created_at, coalesce(expires_at, 'infinity'), revoked_at
		FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, token_id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) {
		var t Token
		err := r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return ts, nil
}

// RevokeToken revokes one token of userID at once. Revoking a revoked token changes nothing.
func (s *Store) RevokeToken(ctx context.Context, by Actor, userID, tokenID string) (Change, error) {
	return s.change(ctx, by, userID, "revoke:"+tokenID, func(tx pgx.Tx, u User, now time.Time) ([]event, error) {
		var revoked *time.Time
		err := tx.QueryRow(ctx, `SELECT revoked_at FROM api_tokens WHERE user_id = $1 AND token_id = $2`, userID, tokenID).Scan(&revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrNoSuchToken
		}
		if err != nil || revoked != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $3 WHERE user_id = $1 AND token_id = $2`, userID, tokenID, now); err != nil {
			return nil, err
		}
		return []event{{EvTokenRevoke, tokenRevoked{TokenID: tokenID, Why: "revoked"}}}, nil
	})
}

// endAccess revokes every live token of u and ends every session, returning the revocations'
// events.
func endAccess(ctx context.Context, tx pgx.Tx, userID string, now time.Time, why string) ([]event, error) {
	rows, err := tx.Query(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > $2) RETURNING token_id`, userID, now)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, userID); err != nil {
		return nil, err
	}
	var evs []event
	for _, id := range ids {
		evs = append(evs, event{EvTokenRevoke, tokenRevoked{TokenID: id, Why: why}})
	}
	return evs, nil
}

// Suspend stops every session and token of userID at once; the account cannot sign in until
// reactivated. Suspending a suspended account changes nothing.
func (s *Store) Suspend(ctx context.Context, by Actor, userID, reason string) (Change, error) {
	if by.UserID == userID {
		return Change{}, ErrSelfSuspend
	}
	return s.change(ctx, by, userID, "suspend", func(tx pgx.Tx, u User, now time.Time) ([]event, error) {
		if u.Suspended {
			return nil, nil
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET suspended_at = $2 WHERE user_id = $1`, userID, now); err != nil {
			return nil, err
		}
		revoked, err := endAccess(ctx, tx, userID, now, "suspended")
		if err != nil {
			return nil, err
		}
		return append([]event{{EvSuspended, suspended{Reason: reason}}}, revoked...), nil
	})
}

// Reactivate lets userID sign in again; revoked tokens stay revoked.
func (s *Store) Reactivate(ctx context.Context, by Actor, userID, note string) (Change, error) {
	return s.change(ctx, by, userID, "reactivate", func(tx pgx.Tx, u User, now time.Time) ([]event, error) {
		if !u.Suspended {
			return nil, nil
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET suspended_at = NULL WHERE user_id = $1`, userID); err != nil {
			return nil, err
		}
		return []event{{EvReactivated, reactivated{Note: note}}}, nil
	})
}

// Grant gives userID role (and unit, for a focal point) from now on.
func (s *Store) Grant(ctx context.Context, by Actor, userID, role, unitCode string) (Change, error) {
	return s.change(ctx, by, userID, "grant", func(tx pgx.Tx, u User, now time.Time) ([]event, error) {
		if u.Role == role && u.UnitCode == unitCode {
			return nil, nil
		}
		var unit *string
		if unitCode != "" {
			unit = &unitCode
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET role = $2, unit_code = $3 WHERE user_id = $1`, userID, role, unit); err != nil {
			return nil, err
		}
		return []event{{EvGranted, roleGranted{Role: role, UnitCode: unitCode}}}, nil
	})
}

// SetPassword sets or resets userID's password for the web pages, and ends every session and
// token of the user: whoever knew the old password, or held a token, keeps nothing.
func (s *Store) SetPassword(ctx context.Context, by Actor, userID, password string) (Change, error) {
	hash, err := hashPassword(password)
	if err != nil {
		return Change{}, err
	}
	ch, err := s.change(ctx, by, userID, "password", func(tx pgx.Tx, u User, now time.Time) ([]event, error) {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE user_id = $1`, userID, string(hash)); err != nil {
			return nil, err
		}
		revoked, err := endAccess(ctx, tx, userID, now, "password_set")
		if err != nil {
			return nil, err
		}
		return append([]event{{EvPasswordSet, passwordSet{Reset: by.UserID != userID}}}, revoked...), nil
	})
	if err != nil {
		return Change{}, fmt.Errorf("set password: %w", err)
	}
	return ch, nil
}

// HistoryEvent is one event of an account's history.
type HistoryEvent struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Version    int64           `json:"version"`
	RecordedAt time.Time       `json:"recorded_at"`
	OccurredOn string          `json:"occurred_on,omitempty"` // the business date (YYYY-MM-DD) the change was given, if any
	Actor      string          `json:"actor"`
	ActorRole  string          `json:"actor_role,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// History is userID's account history, in stream order.
func (s *Store) History(ctx context.Context, userID string) ([]HistoryEvent, error) {
	if _, err := s.user(ctx, userID); err != nil {
		return nil, err
	}
	recs, err := s.cfg.Events.ReadStream(ctx, StreamID(userID), 0)
	if err != nil {
		return nil, fmt.Errorf("account history: %w", err)
	}
	out := make([]HistoryEvent, 0, len(recs))
	for _, r := range recs {
		e := HistoryEvent{ID: r.ID.String(), Type: r.Type, Version: r.Version, RecordedAt: r.Metadata.RecordedAt,
			Actor: r.Metadata.Actor, ActorRole: r.Metadata.Role, Data: json.RawMessage(r.Data)}
		if !r.Metadata.OccurredOn.IsZero() {
			e.OccurredOn = r.Metadata.OccurredOn.Format(time.DateOnly)
		}
		out = append(out, e)
	}
	return out, nil
}

// ErrSeparationOfDuties refuses a person in a two-person rule whose role, or whose credentials
// as last set by someone else, date from after the request (DESIGN.md invariant 15).
var ErrSeparationOfDuties = fault.New(fault.Forbidden, "identity.separation_of_duties",
	"only a person whose role was granted, and whose credentials were last set by someone else, before the request was recorded may take part")

// SeparationError says why a person may not take part.
type SeparationError struct {
	Why       string
	Requested time.Time
	At        time.Time
}

func (e *SeparationError) Error() string {
	return fmt.Sprintf("%s at %s, after the request was recorded at %s: %s", e.Why, e.At.Format(time.RFC3339), e.Requested.Format(time.RFC3339), ErrSeparationOfDuties.Error())
}

// Unwrap is ErrSeparationOfDuties.
func (e *SeparationError) Unwrap() error { return ErrSeparationOfDuties }

// CheckSeparation reports whether userID may take part in a two-person rule (a two-officer
// approval, an endorsement) over a request recorded at requested: their current role must have
// been granted before it, and the last time someone other than themselves set their
// credentials (created the account, set its password, issued it a token) must be before it.
// An officer changing their own password or making their own token afterwards is fine; an
// administrator who creates or takes over an account after the request gains nothing by it.
func (s *Store) CheckSeparation(ctx context.Context, userID string, requested time.Time) error {
	recs, err := s.cfg.Events.ReadStream(ctx, StreamID(userID), 0)
	if err != nil {
		return fmt.Errorf("separation of duties: %w", err)
	}
	var roleAt, othersAt time.Time
	for _, r := range recs {
		at, byOther := r.Metadata.RecordedAt, r.Metadata.Actor != userID
		switch r.Type {
		case EvRecorded:
			var d accountRecorded
			if json.Unmarshal(r.Data, &d) == nil && !d.CreatedAt.IsZero() {
				at = d.CreatedAt // recorded later, made then
			}
			roleAt, othersAt = at, at
		case EvCreated:
			roleAt = at
			if byOther {
				othersAt = at
			}
		case EvGranted:
			roleAt = at
		case EvPasswordSet, EvTokenIssued:
			if byOther && at.After(othersAt) {
				othersAt = at
			}
		}
	}
	switch {
	case roleAt.IsZero():
		return &SeparationError{Why: "the account has no recorded history", Requested: requested}
	case !roleAt.Before(requested):
		return &SeparationError{Why: "the role was granted", At: roleAt, Requested: requested}
	case !othersAt.Before(requested):
		return &SeparationError{Why: "the credentials were last set by someone else", At: othersAt, Requested: requested}
	}
	return nil
}

// Backfill gives every account made before accounts had streams its first event
// (account_recorded.v1, by the system, with the account's own creation time), and every token
// without an end the default one from now. Run at start; safe beside another server doing it.
func (s *Store) Backfill(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id FROM users WHERE version = 0`)
	if err != nil {
		return 0, fmt.Errorf("backfill accounts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("backfill accounts: %w", err)
	}
	n := 0
	for _, id := range ids {
		_, err := s.change(ctx, System, id, "", func(tx pgx.Tx, u User, now time.Time) ([]event, error) {
			if u.Version != 0 {
				return nil, nil
			}
			var pw bool
			if err := tx.QueryRow(ctx, `SELECT password_hash IS NOT NULL FROM users WHERE user_id = $1`, id).Scan(&pw); err != nil {
				return nil, err
			}
			rows, err := tx.Query(ctx, `UPDATE api_tokens SET expires_at = $2 WHERE user_id = $1 AND expires_at IS NULL RETURNING token_id, expires_at`, id, now.Add(s.cfg.TokenTTL))
			if err != nil {
				return nil, err
			}
			ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tokenIssued, error) {
				var t tokenIssued
				err := r.Scan(&t.TokenID, &t.ExpiresAt)
				return t, err
			})
			if err != nil {
				return nil, err
			}
			// The tokens are those the account had: not credentials set now.
			return []event{{EvRecorded, accountRecorded{Name: u.Name, Role: u.Role, UnitCode: u.UnitCode, CreatedAt: u.CreatedAt, Password: pw, Tokens: ts}}}, nil
		})
		var conflict *eventstore.ConflictError
		if errors.As(err, &conflict) {
			continue // another server recorded it first
		}
		if err != nil {
			return n, fmt.Errorf("backfill account %s: %w", id, err)
		}
		n++
	}
	return n, nil
}
