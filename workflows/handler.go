// Package workflows runs the programme's lifecycle: command handlers that load a stream,
// check who may act (authorisation is decided here, not in HTTP) and what the workflow
// definition allows, let the domain decide, and append the result with the version they read;
// and the process managers that turn deadlines into events.
package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/workflows/definition"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Store is what the handlers need of the event store.
type Store interface {
	ReadStream(ctx context.Context, stream string, from int64) ([]eventstore.Record, error)
	ReadPrefix(ctx context.Context, prefix string) ([]eventstore.Record, error)
	ReadPrefixSince(ctx context.Context, prefix string, from uint64) ([]eventstore.Record, uint64, error)
	ReadPrefixCommitted(ctx context.Context, prefix string, from uint64) ([]eventstore.Record, error)
	Horizon(ctx context.Context) (uint64, error)
	Append(ctx context.Context, stream string, expected int64, events []eventstore.Event, opts ...eventstore.AppendOption) (eventstore.Result, error)
	Previous(ctx context.Context, stream, commandID string, fingerprint []byte) (eventstore.Result, bool, error)
	LastCommitted(ctx context.Context) (eventstore.Position, error)
}

// Actor is who gives a command, and through which request.
type Actor struct {
	UserID    string
	Role      role.Role
	UnitCode  string // a focal point's unit
	RequestID string
}

// Options are the caller's conditions on a write.
type Options struct {
	// IfMatch pins the stream version the caller read (HTTP If-Match): on a mismatch the
	// write is a conflict instead of being retried.
	IfMatch *int64
	// IdempotencyKey makes a retry return the first answer. Fingerprint identifies the
	// request (the decoded body): the same key with another fingerprint is refused.
	IdempotencyKey string
	Fingerprint    []byte
	// Route distinguishes the same key sent to two different calls.
	Route string
	// OccurredOn is the business date of a write whose command carries none of its own (a
	// unit's merge: its effective date is another matter); zero means today. It may not be in
	// the future.
	OccurredOn civil.Date
}

// Result is the outcome of a write.
type Result struct {
	ID        string // the item's or unit's id
	Version   int64  // the stream version after the write
	RequestID string // a funding request's id, for request_funding
	Created   bool   // a new stream
	Duplicate bool   // answered from an earlier request with the same idempotency key
	// Position is where the write left the store (API.md, Dxledger-Position): a read that waits
	// for it sees the write. Empty when nothing was appended now (a retried request, a command
	// already satisfied); Handler.Position then gives one at or after the write.
	Position string
}

// Position returns the store's newest position, for a write that appended nothing now: it is
// at or after whatever the write stands on.
func (h *Handler) Position(ctx context.Context) (string, error) {
	p, err := h.cfg.Store.LastCommitted(ctx)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// positionOf is the position a fresh append answers with ("" for a duplicate).
func positionOf(res eventstore.Result) string {
	if res.Duplicate || res.Position == eventstore.Start {
		return ""
	}
	return res.Position.String()
}

// Errors the handlers return besides the domain's and the store's.
// Each has a kind (fault.KindOf) and a message code, for the adapters.
var (
	ErrForbidden = fault.New(fault.Forbidden, "workflows.forbidden", "not allowed")
	ErrNotFound  = fault.New(fault.NotFound, "workflows.not_found", "not found")
	// ErrIdempotencyMismatch: the same Idempotency-Key was used with another request.
	ErrIdempotencyMismatch = fault.New(fault.Refused, "workflows.idempotency_mismatch", "idempotency key was used with another request")
	// ErrSameAsLoop: the marking would close a loop of same-as markings (M1 → M2 → … → M1),
	// which would take a distinct model out of the count (DESIGN.md, invariant 14).
	ErrSameAsLoop = fault.New(fault.Conflict, "workflows.same_as_loop", "that model is already marked, directly or through others, the same as this one: the marking would close a loop")
)

// ConflictError is the store's version conflict (HTTP 409), as callers of the handlers see it:
// the handlers return it wrapped in an error of kind fault.Conflict.
type ConflictError = eventstore.ConflictError

// Conflict gives the store's version conflict (errors.Is eventstore.ErrConflict) the kind
// fault.Conflict and a message an official can act on; errors.As still finds the
// *ConflictError. Any other error passes as it is. The handlers return every conflict
// through it.
func Conflict(err error) error {
	if !errors.Is(err, eventstore.ErrConflict) {
		return err
	}
	return &conflictError{err: err}
}

type conflictError struct{ err error }

func (e *conflictError) Error() string {
	var ce *ConflictError
	if errors.As(e.err, &ce) {
		return fmt.Sprintf("the item is at version %d, not %d; reload it and try again", ce.Actual, ce.Expected)
	}
	return "the item changed meanwhile; reload it and try again"
}

func (e *conflictError) Unwrap() error    { return e.err }
func (e *conflictError) Kind() fault.Kind { return fault.Conflict }
func (e *conflictError) Code() string     { return "workflows.conflict" }

// Args are the version the item is at and the one the writer expected, when known.
func (e *conflictError) Args() []any {
	var ce *ConflictError
	if errors.As(e.err, &ce) {
		return []any{ce.Actual, ce.Expected}
	}
	return []any{"?", "?"}
}

// CheckIfMatch is the one check of If-Match (Options.IfMatch, API.md): a command that appends
// to stream, which it read at version actual, calls it before deciding; the caller who read
// another version gets a conflict (409) and nothing is appended. Every command that writes an
// existing stream calls it (items, units; an account's commands likewise).
func CheckIfMatch(o Options, stream string, actual int64) error {
	if o.IfMatch != nil && *o.IfMatch != actual {
		return Conflict(&eventstore.ConflictError{Stream: stream, Expected: *o.IfMatch, Actual: actual})
	}
	return nil
}

// ForbiddenError says who may not do what, and why.
type ForbiddenError struct {
	Role   role.Role
	Action string
	Reason string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("%s may not %s: %s", e.Role, e.Action, e.Reason)
}

// Unwrap returns ErrForbidden: errors.Is matches it, and the error has its kind and code.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// MayReviewDuplicates says whether r may see the duplicate candidates: the steering
// committee's secretariat, who marks same-as, and the administrator.
func MayReviewDuplicates(r role.Role) error {
	if r == role.SteeringCommittee || r == role.Admin {
		return nil
	}
	return &ForbiddenError{Role: r, Action: "review duplicate candidates", Reason: "the steering committee's secretariat reviews duplicates"}
}

// Config configures a Handler.
type Config struct {
	Store       Store
	Definitions *definition.Registry
	Frameworks  *dti.Registry // the DTI frameworks; nil: the embedded ones (workflows/dtiframe)
	// Now is the clock; Location the province's time zone (what "today" means).
	Now      func() time.Time
	Location *time.Location
	// Sectors is the sector list; empty means item.DefaultSectors.
	Sectors []string
	// Retries bounds how often a command is re-decided after losing a race (after a random
	// pause, longer each time). Default 10: eight writers racing on one item all land.
	Retries int
	Logger  *slog.Logger
	// Duties checks who may take part in a two-person rule (duties.go); nil checks nothing.
	Duties Duties
	// StateCacheSize bounds the item states kept between commands (statecache.go): 0 means
	// the default (20,000), a negative number turns the cache off (every load reads the whole
	// stream).
	StateCacheSize int
	// Registerer receives the state cache's counts (dxledger_workflows_state_cache_*); nil
	// registers nothing.
	Registerer prometheus.Registerer
	// UnitsLock serialises unit commands across processes (unitlock.go; AdvisoryLock); nil
	// serialises them within this process only.
	UnitsLock CrossLock
	// SameAsLock serialises same-as markings across processes likewise (two markings in two
	// processes could together close a loop that each alone would not); nil: this process
	// only.
	SameAsLock CrossLock
}

// Handler executes commands.
type Handler struct {
	cfg Config

	unitsMu sync.Mutex
	// unitCmdMu serialises unit commands in this process (serialUnits), from the directory
	// read they decide on to their append.
	unitCmdMu sync.Mutex
	// sameAsMu serialises same-as markings in this process, so that two markings made at once
	// cannot together close a loop that each alone would not.
	sameAsMu sync.Mutex
	// dir is the unit directory (units.go), loaded on first use; unitsHorizon is the store's
	// horizon it has read up to, unitsSeen when it last looked.
	dir          *unit.Directory
	unitsHorizon uint64
	unitsSeen    time.Time
	states       *stateCache // nil: off
}

// NewHandler returns a Handler.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Store == nil || cfg.Definitions == nil {
		return nil, errors.New("workflows: Store and Definitions are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StateCacheSize == 0 {
		cfg.StateCacheSize = defaultStateCacheSize
	}
	h := &Handler{cfg: cfg, states: newStateCache(cfg.StateCacheSize)}
	if cfg.Registerer != nil && h.states != nil {
		if err := cfg.Registerer.Register(newCacheCollector(h)); err != nil {
			return nil, fmt.Errorf("workflows metrics: %w", err)
		}
	}
	return h, nil
}

// Today is the current day in the province.
func (h *Handler) Today() civil.Date { return civil.Of(h.cfg.Now().In(h.cfg.Location)) }

func newID() string { return ulid.Make().String() }

// commandID derives the store's command id from who sent which key to which call, so that
// two users (or two calls) never share one.
func commandID(a Actor, o Options) string {
	if o.IdempotencyKey == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(a.UserID + "\x00" + o.Route + "\x00" + o.IdempotencyKey))
	return "idem:" + hex.EncodeToString(sum[:16])
}

func metadata(a Actor, on civil.Date, loc *time.Location) eventstore.Metadata {
	return eventstore.Metadata{Actor: a.UserID, Role: string(a.Role), Unit: a.UnitCode, RequestID: a.RequestID,
		CorrelationID: a.RequestID, OccurredOn: time.Date(on.Year, on.Month, on.Day, 0, 0, 0, 0, time.UTC)}
}

// appendOpts turns the caller's idempotency key into the store's command id.
func appendOpts(a Actor, o Options) []eventstore.AppendOption {
	if id := commandID(a, o); id != "" {
		return []eventstore.AppendOption{eventstore.WithCommandID(id, o.Fingerprint)}
	}
	return nil
}

// appendTo appends out to stream at expected with the request's command id: a command id used
// for another command is ErrIdempotencyMismatch, a version conflict a Conflict (which still
// matches eventstore.ErrConflict, for callers that retry).
func (h *Handler) appendTo(ctx context.Context, a Actor, o Options, stream string, expected int64, out []eventstore.Event, extra ...eventstore.AppendOption) (eventstore.Result, error) {
	res, err := h.cfg.Store.Append(ctx, stream, expected, out, append(appendOpts(a, o), extra...)...)
	if errors.Is(err, eventstore.ErrCommandReused) {
		return res, ErrIdempotencyMismatch
	}
	return res, Conflict(err)
}

// previous answers a retried request from the store, before anything is decided again.
func (h *Handler) previous(ctx context.Context, stream string, a Actor, o Options) (eventstore.Result, bool, error) {
	id := commandID(a, o)
	if id == "" {
		return eventstore.Result{}, false, nil
	}
	res, found, err := h.cfg.Store.Previous(ctx, stream, id, o.Fingerprint)
	if errors.Is(err, eventstore.ErrCommandReused) {
		return res, true, ErrIdempotencyMismatch
	}
	return res, found, err
}

func definitionFor(reg *definition.Registry, version int) (*definition.Definition, error) {
	def, ok := reg.Get(version)
	if !ok {
		return nil, fmt.Errorf("workflow definition version %d is not loaded", version)
	}
	return def, nil
}
