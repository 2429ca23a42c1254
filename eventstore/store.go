// Package eventstore is dxledger's append-only event store on PostgreSQL (pgx/v5). It stores
// opaque records — a type name, JSON data and metadata — in streams with optimistic
// concurrency and idempotent appends, reads them back per stream or in a commit-safe global
// order, wakes readers with LISTEN/NOTIFY, and keeps a hash chain per stream that Verify walks.
// It knows nothing of the domain.
package eventstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Limits on one append, so a runaway caller gets a clear error instead of a huge transaction.
const (
	MaxEventsPerAppend = 1000
	MaxStreamIDLength  = 200
	MaxTypeLength      = 200
)

// Config configures a Store.
type Config struct {
	// Now is the clock that stamps recorded_at. Default time.Now.
	Now func() time.Time
	// Logger for background work (the LISTEN connection). Default discards.
	Logger *slog.Logger
	// PollInterval is how often a subscription reads when nothing woke it. Default 500ms.
	PollInterval time.Duration
	// Registerer receives the store's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 500 * time.Millisecond
	}
}

// Store is the event store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	cfg  Config

	idMu    sync.Mutex
	entropy io.Reader

	wake     broadcast
	appended chan struct{}
	bgOnce   sync.Once
	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup

	metrics metrics
}

// New returns a store on pool. The schema comes from the migrations package.
func New(pool *pgxpool.Pool, cfg Config) (*Store, error) {
	if pool == nil {
		return nil, errors.New("eventstore: nil pool")
	}
	cfg.setDefaults()
	s := &Store{
		pool:     pool,
		cfg:      cfg,
		entropy:  ulid.Monotonic(rand.Reader, 0),
		appended: make(chan struct{}, 1),
		metrics:  newMetrics(),
	}
	s.wake.init()
	if cfg.Registerer != nil {
		if err := s.metrics.register(cfg.Registerer); err != nil {
			return nil, fmt.Errorf("eventstore metrics: %w", err)
		}
	}
	return s, nil
}

// Close stops the store's background goroutines. It does not close the pool.
func (s *Store) Close() {
	if s.bgCancel != nil {
		s.bgCancel()
	}
	s.bgDone.Wait()
}

func (s *Store) newID(t time.Time) ulid.ULID {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), s.entropy)
}

// AppendOption changes how Append treats a batch.
type AppendOption func(*appendOptions)

type appendOptions struct {
	commandID   string
	fingerprint []byte
}

// WithCommandID makes the append idempotent: if commandID was appended before with the same
// stream and fingerprint, Append appends nothing and returns the first result (Duplicate set);
// with another stream or fingerprint it returns ErrCommandReused.
func WithCommandID(commandID string, fingerprint []byte) AppendOption {
	return func(o *appendOptions) {
		o.commandID = commandID
		o.fingerprint = fingerprint
	}
}

// Append adds events to stream if the stream is at expected (NoStream for a new stream,
// AnyVersion to skip the check). The loser of a race gets a *ConflictError. Events get ULIDs
// and recorded_at from the store; a zero OccurredOn means the recording day (UTC).
func (s *Store) Append(ctx context.Context, stream string, expected int64, events []Event, opts ...AppendOption) (Result, error) {
	var o appendOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := validateAppend(stream, expected, events); err != nil {
		return Result{}, err
	}
	start := time.Now()
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	n := len(events)
	ids := make([]string, n)
	types := make([]string, n)
	data := make([]string, n)
	occurred := make([]time.Time, n)
	actor, role, unit := make([]string, n), make([]string, n), make([]string, n)
	request, correlation, causation := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range events {
		ids[i] = s.newID(now).String()
		types[i] = e.Type
		data[i] = string(e.Data)
		m := e.Metadata
		occurred[i] = dateOf(m.OccurredOn, now)
		actor[i], role[i], unit[i] = m.Actor, m.Role, m.Unit
		request[i], correlation[i], causation[i] = m.RequestID, m.CorrelationID, m.CausationID
	}
	var cmdID *string
	if o.commandID != "" {
		cmdID = &o.commandID
	}
	var (
		res    Result
		gotIDs []string
	)
	err := s.appendRunner(ctx).QueryRow(ctx, appendSQL, stream, expected, cmdID, o.fingerprint,
		ids, types, data, occurred, now, actor, role, unit, request, correlation, causation,
	).Scan(&res.FromVersion, &res.ToVersion, &gotIDs, &res.Duplicate)
	if err != nil {
		s.metrics.appendErrors.Inc()
		return Result{}, translate(stream, expected, err)
	}
	res.StreamID = stream
	res.EventIDs = make([]ulid.ULID, len(gotIDs))
	for i, id := range gotIDs {
		res.EventIDs[i], _ = ulid.ParseStrict(id)
	}
	if res.Duplicate {
		s.metrics.duplicates.Inc()
		return res, nil
	}
	s.metrics.appendSeconds.Observe(time.Since(start).Seconds())
	s.metrics.appended.Add(float64(n))
	s.signalAppended()
	return res, nil
}

// queryRower is what an append runs on: the pool, or a test's open transaction.
type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type txKey struct{}

// appendRunner returns the transaction a test put in ctx, else the pool.
func (s *Store) appendRunner(ctx context.Context) queryRower {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return s.pool
}

// The whole append is one server-side function (migrations/00001_eventstore.sql): one round
// trip and one commit, the same cost as a single INSERT.
const appendSQL = `SELECT first_version, last_version, event_ids, duplicate
FROM dx_append($1, $2, $3, $4, $5, $6, $7::text[]::jsonb[], $8, $9, $10, $11, $12, $13, $14, $15)`

func dateOf(t, now time.Time) time.Time {
	if t.IsZero() {
		t = now
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func validateAppend(stream string, expected int64, events []Event) error {
	switch {
	case stream == "" || len(stream) > MaxStreamIDLength || !utf8.ValidString(stream):
		return fmt.Errorf("append to %q: stream id must be 1..%d bytes of UTF-8: %w", stream, MaxStreamIDLength, ErrInvalid)
	case expected < AnyVersion:
		return fmt.Errorf("append to %s: expected version %d: %w", stream, expected, ErrInvalid)
	case len(events) == 0:
		return fmt.Errorf("append to %s: no events: %w", stream, ErrInvalid)
	case len(events) > MaxEventsPerAppend:
		return fmt.Errorf("append to %s: %d events, at most %d: %w", stream, len(events), MaxEventsPerAppend, ErrInvalid)
	}
	for i, e := range events {
		if e.Type == "" || len(e.Type) > MaxTypeLength {
			return fmt.Errorf("append to %s: event %d: type must be 1..%d bytes: %w", stream, i, MaxTypeLength, ErrInvalid)
		}
		if len(e.Data) == 0 || !jsonValid(e.Data) {
			return fmt.Errorf("append to %s: event %d (%s): data is not JSON: %w", stream, i, e.Type, ErrInvalid)
		}
	}
	return nil
}

func translate(stream string, expected int64, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "DX001":
			actual, _ := strconv.ParseInt(pgErr.Detail, 10, 64)
			return &ConflictError{Stream: stream, Expected: expected, Actual: actual}
		case "DX002":
			return fmt.Errorf("append to %s: %w", stream, ErrCommandReused)
		case "22P02", "22007", "22008", "22021", "23514", "22P05":
			return fmt.Errorf("append to %s: %s: %w", stream, pgErr.Message, ErrInvalid)
		}
	}
	return fmt.Errorf("append to %s: %w", stream, err)
}

// Version returns the stream's current version, 0 when it does not exist.
func (s *Store) Version(ctx context.Context, stream string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT version FROM streams WHERE stream_id = $1`, stream).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("version of %s: %w", stream, err)
	}
	return v, nil
}

const recordColumns = `seq, tx_id, event_id, stream_id, version, event_type, data, occurred_on, recorded_at,
	actor, role, unit, request_id, correlation_id, causation_id`

// ReadStream returns the stream's events after version from, in version order. An unknown
// stream has no events.
func (s *Store) ReadStream(ctx context.Context, stream string, from int64) ([]Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordColumns+` FROM events
		WHERE stream_id = $1 AND version > $2 ORDER BY version`, stream, from)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	recs, err := scanRecords(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return recs, nil
}

// ReadAll returns up to limit events after position after, in commit-safe global order: it
// stops below the oldest transaction still running, so a transaction that commits late is
// never skipped — its events appear, in (tx_id, seq) order, once every older writer is done.
func (s *Store) ReadAll(ctx context.Context, after Position, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.pool.Query(ctx, readAllSQL, after.TxID, after.Seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	recs, err := scanRecords(rows, limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	return recs, nil
}

// tx_id is compared as xid8, never as text: text would sort "10" before "9".
const readAllSQL = `SELECT ` + recordColumns + ` FROM events
WHERE (tx_id, seq) > ($1::xid8, $2)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY tx_id, seq
LIMIT $3`

// scanRecords reads rows by hand rather than with pgx.RowToStructByName: replay reads
// millions of rows and reflection per row was the bottleneck.
func scanRecords(rows pgx.Rows, capacity int) ([]Record, error) {
	defer rows.Close()
	recs := make([]Record, 0, capacity)
	var id string
	for rows.Next() {
		var r Record
		m := &r.Metadata
		if err := rows.Scan(&r.Position.Seq, &r.Position.TxID, &id, &r.StreamID, &r.Version, &r.Type, &r.Data,
			&m.OccurredOn, &m.RecordedAt, &m.Actor, &m.Role, &m.Unit, &m.RequestID, &m.CorrelationID, &m.CausationID); err != nil {
			return nil, err
		}
		var err error
		if r.ID, err = ulid.ParseStrict(id); err != nil {
			return nil, fmt.Errorf("event %d: id %q: %w", r.Position.Seq, id, err)
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// Head returns the position of the newest event a reader can see now (Start when empty).
func (s *Store) Head(ctx context.Context) (Position, error) {
	var p Position
	err := s.pool.QueryRow(ctx, `SELECT tx_id, seq FROM events
		WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY tx_id DESC, seq DESC LIMIT 1`).Scan(&p.TxID, &p.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return Start, nil
	}
	if err != nil {
		return Start, fmt.Errorf("head: %w", err)
	}
	return p, nil
}

// Stats are the store's figures.
type Stats struct {
	Events  int64
	Streams int64
}

// Stats counts events and streams (estimates from the planner's statistics when the tables
// are large, so that a metrics scrape stays cheap).
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(max(seq), 0) FROM events),
		(SELECT CASE WHEN c.reltuples > 100000 THEN c.reltuples::bigint
		             ELSE (SELECT count(*) FROM streams) END
		 FROM pg_class c WHERE c.oid = 'streams'::regclass)`).Scan(&st.Events, &st.Streams)
	if err != nil {
		return Stats{}, fmt.Errorf("store stats: %w", err)
	}
	return st, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}
