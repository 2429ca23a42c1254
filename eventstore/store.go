// Package eventstore is dxledger's append-only event store on PostgreSQL (pgx/v5). It stores
// opaque records — a type name, JSON data and metadata — in streams with optimistic
// concurrency and idempotent appends, reads them back per stream or in a commit-safe global
// order, wakes readers with LISTEN/NOTIFY, and keeps a hash chain per stream that Verify walks.
// It knows nothing of the domain.
package eventstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
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
	// Registerer receives the store's metrics (its size, dxledger_store_events and
	// dxledger_store_last_sequence, read on each scrape); nil registers nothing.
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
	bgMu     sync.Mutex
	closed   bool
	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup

	heads   *headCache
	group   grouper
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
		heads:    newHeadCache(10000),
		group:    newGrouper(),
		metrics:  newMetrics(),
	}
	s.wake.init()
	if cfg.Registerer != nil {
		if err := errors.Join(s.metrics.register(cfg.Registerer), cfg.Registerer.Register(sizeCollector{s})); err != nil {
			return nil, fmt.Errorf("eventstore metrics: %w", err)
		}
	}
	return s, nil
}

// Close stops the store's background goroutines. It does not close the pool. A Subscribe
// after Close starts none.
func (s *Store) Close() {
	s.bgMu.Lock()
	s.closed = true
	cancel := s.bgCancel
	s.bgMu.Unlock()
	if cancel != nil {
		cancel()
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
	head        []byte // ChainedOn
}

// ChainedOn says the caller knows the hash of the stream's event at the expected version (the
// Result.Head of its own last append to it): the append chains on that hash, without the head
// cache or a read of the head. The database still decides: the append inserts only if its row
// at the expected version carries that very hash (which covers every earlier event of the
// stream), so a caller whose knowledge is out of date (another writer was first, a database
// restored behind it) gets a *ConflictError and nothing is appended — no second try from the
// database's head, since the caller's decision rested on the head it named.
func ChainedOn(hash []byte) AppendOption {
	return func(o *appendOptions) { o.head = hash }
}

// WithCommandID makes the append idempotent: if commandID was appended before with the same
// fingerprint, Append appends nothing and returns the first result (Duplicate set, StreamID the
// stream it went to, which for a create — expected NoStream — may differ from the new id asked
// for now); with another fingerprint, or for another existing stream, it returns
// ErrCommandReused.
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
	for attempt := 1; ; attempt++ {
		res, err := s.tryAppend(ctx, stream, expected, events, o)
		var ce *ConflictError
		if errors.As(err, &ce) && ce.Actual == expected && expected > 0 && attempt == 1 && o.head == nil {
			// The database is at the expected version but its head is not the one this
			// append chained on (a stale cache entry, now dropped): once more, from the
			// database's head.
			continue
		}
		if err != nil && expected == AnyVersion && errors.Is(err, ErrConflict) && attempt < 50 {
			// AnyVersion only lost a race for the next version number: take the one after,
			// after a short random pause so that many writers on one stream spread out.
			select {
			case <-ctx.Done():
				return Result{}, ctx.Err()
			case <-time.After(time.Duration(mrand.Int64N(int64(attempt) * int64(time.Millisecond)))):
			}
			continue
		}
		if err != nil {
			s.metrics.appendErrors.Inc()
			return Result{}, err
		}
		if res.Duplicate {
			s.metrics.duplicates.Inc()
			return res, nil
		}
		s.metrics.appendSeconds.Observe(time.Since(start).Seconds())
		s.metrics.appended.Add(float64(len(events)))
		s.signalAppended()
		return res, nil
	}
}

// tryAppend reads the stream's head (from the head cache when it holds the expected version,
// else from the database; skipped for a new stream), chains the new events' hashes on it and
// inserts them in one statement. That statement decides the expected-version check itself:
// it inserts only if the stream's row at the expected version exists with the hash the new
// events were chained on (the guard "ok" in insertSQL), and the unique (stream_id, version)
// index makes the loser of a race fail as a whole. So the cache only saves a round trip and
// never overrules the database: a database behind the cache (a restore under a running
// server, a failover to an asynchronous standby) inserts nothing, the stream's cache entry is
// dropped, and the caller gets a *ConflictError with the database's head. No transaction spans
// the round trips. Appends that arrive while others are being committed share one transaction
// with them (group commit, group.go), each with its own guard and its own answer; an append
// inside a caller's transaction (InTx) runs there, alone.
func (s *Store) tryAppend(ctx context.Context, stream string, expected int64, events []Event, o appendOptions) (Result, error) {
	db := s.runner(ctx)
	_, inTx := db.(pgx.Tx)
	if o.commandID != "" {
		if res, found, err := s.previousCommand(ctx, db, stream, expected == NoStream, o); found || err != nil {
			return res, err
		}
	}
	var (
		head int64
		prev []byte
	)
	if o.head != nil && expected > 0 {
		head, prev = expected, o.head
	} else if cached, ok := s.heads.get(stream, expected); ok && expected > 0 {
		head, prev = expected, cached
	} else if expected != NoStream {
		var err error
		if head, prev, err = readHead(ctx, db, stream); err != nil {
			return Result{}, fmt.Errorf("append to %s: %w", stream, err)
		}
		if expected != AnyVersion && head != expected {
			return Result{}, &ConflictError{Stream: stream, Expected: expected, Actual: head}
		}
	}
	p := s.prepare(stream, head, prev, events, o)
	var out outcome
	if inTx {
		out = p.runAlone(ctx, db)
	} else {
		out = s.group.submit(ctx, s, p)
	}
	res, err := p.res, out.err
	res.Position = out.pos
	if err != nil || !out.inserted {
		// Whatever went wrong, the cache may be what was wrong: the next append of this
		// stream reads its head from the database.
		s.heads.drop(stream)
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "events_stream_version":
		return Result{}, s.conflict(ctx, db, stream, expected)
	case errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || pgErr.Code == "23514"):
		return Result{}, fmt.Errorf("append to %s: %s: %w", stream, pgErr.Message, ErrInvalid)
	case err != nil:
		return Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if !out.inserted {
		// Either another append of the same command committed while this one ran, or the
		// stream in the database is not at the head this append chained on.
		if o.commandID != "" {
			if res, found, err := s.previousCommand(ctx, db, stream, expected == NoStream, o); found || err != nil {
				return res, err
			}
		}
		return Result{}, s.conflict(ctx, db, stream, expected)
	}
	if !inTx { // a caller's transaction may still roll back
		s.heads.put(stream, res.ToVersion, p.last)
	}
	return res, nil
}

// prepared is one append made ready to send: its result but for the position, its statement
// alone and the same statement's form for a group (the same arguments).
type prepared struct {
	stream     string
	n          int // events
	res        Result
	last       []byte // the hash of its last event: the stream's new head
	query      string // alone: a conflict raises 23505
	groupQuery string // in a group: a conflict inserts nothing, the answer is always one row
	args       []any
}

// outcome is what the database answered an append: inserted at pos, or nothing inserted (the
// guard did not hold, or the command was recorded by another append), or err.
type outcome struct {
	pos      Position
	inserted bool
	err      error
}

// prepare gives the events their ids, recorded_at and hashes chained on (head, prev), and
// builds the append's statement.
func (s *Store) prepare(stream string, head int64, prev []byte, events []Event, o appendOptions) *prepared {
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	n := len(events)
	p := &prepared{stream: stream, n: n,
		res: Result{StreamID: stream, FromVersion: head + 1, ToVersion: head + int64(n), EventIDs: make([]ulid.ULID, n)}}
	ids := make([][16]byte, n)
	types, data := make([]string, n), make([]string, n)
	occurred := make([]time.Time, n)
	actor, role, unit := make([]string, n), make([]string, n), make([]string, n)
	request, correlation, causation := make([]string, n), make([]string, n), make([]string, n)
	hashes := make([][]byte, n)
	headHash := prev
	for i, e := range events {
		id := s.newID(now)
		p.res.EventIDs[i], ids[i] = id, id
		m := e.Metadata
		m.OccurredOn, m.RecordedAt = dateOf(m.OccurredOn, now), now
		types[i], data[i], occurred[i] = e.Type, string(e.Data), m.OccurredOn
		actor[i], role[i], unit[i] = m.Actor, m.Role, m.Unit
		request[i], correlation[i], causation[i] = m.RequestID, m.CorrelationID, m.CausationID
		prev = chainHash(prev, id, stream, head+int64(i)+1, e.Type, e.Data, m)
		hashes[i] = prev
	}
	p.last = prev
	p.res.RecordedAt, p.res.Head = now, prev
	p.args = []any{ids, stream, head, now, types, data, occurred, actor, role, unit, request, correlation, causation, hashes, headHash}
	p.query, p.groupQuery = insertSQL, groupInsertSQL
	if n == 1 {
		// Scalars encode and plan more cheaply than arrays; most appends are one event.
		p.query, p.groupQuery = insertOneSQL, groupInsertOneSQL
		p.args = []any{ids[0], stream, head, now, types[0], data[0], occurred[0], actor[0], role[0], unit[0],
			request[0], correlation[0], causation[0], hashes[0], headHash}
	}
	if o.commandID != "" {
		p.query, p.groupQuery = insertWithCommandSQL, groupInsertWithCommandSQL
		if n == 1 {
			p.query, p.groupQuery = insertOneWithCommandSQL, groupInsertOneWithCommandSQL
		}
		p.args = append(p.args, o.commandID, o.fingerprint, head+int64(n), ids)
	}
	return p
}

// runAlone sends the append's statement by itself on db (the pool, or a caller's
// transaction): a transaction of its own unless db is one.
func (p *prepared) runAlone(ctx context.Context, db runner) outcome {
	var out outcome
	out.err = db.QueryRow(ctx, p.query, p.args...).Scan(&out.pos.TxID, &out.pos.Seq)
	out.inserted = out.err == nil
	if errors.Is(out.err, pgx.ErrNoRows) {
		out.err = nil
	}
	return out
}

// conflict is the *ConflictError of an append that the database refused, with the stream's
// head as the database has it now.
func (s *Store) conflict(ctx context.Context, db runner, stream string, expected int64) error {
	actual, _, err := readHead(ctx, db, stream)
	if err != nil {
		return fmt.Errorf("append to %s: %w", stream, errors.Join(ErrConflict, err))
	}
	return &ConflictError{Stream: stream, Expected: expected, Actual: actual}
}

// runner is the database an append runs on: the pool, or a test's open transaction.
type runner interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type txKey struct{}

// InTx returns a context whose appends run in tx, so that they commit or roll back with it: for
// a caller that keeps rows of its own beside a stream and must not have one without the other
// (internal/identity's accounts). Such appends leave the head cache alone, since tx may still
// roll back.
func InTx(ctx context.Context, tx pgx.Tx) context.Context { return context.WithValue(ctx, txKey{}, tx) }

func (s *Store) runner(ctx context.Context) runner {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return s.pool
}

func readHead(ctx context.Context, db runner, stream string) (version int64, hash []byte, err error) {
	err = db.QueryRow(ctx, `SELECT version, hash FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1`, stream).
		Scan(&version, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	return version, hash, err
}

// Previous returns the first result of command commandID, if it was appended (Duplicate set;
// StreamID is the stream it went to). Callers that must not decide twice look here before
// deciding. A command id names one command: it comes back with the same fingerprint and, when
// stream is given, for the same stream; otherwise it is ErrCommandReused. stream is empty for
// a create whose new stream id is not known yet (the answer then names the stream created).
func (s *Store) Previous(ctx context.Context, stream, commandID string, fingerprint []byte) (Result, bool, error) {
	return s.previousCommand(ctx, s.pool, stream, stream == "", appendOptions{commandID: commandID, fingerprint: fingerprint})
}

// previousCommand returns the first result of command o.commandID, if it was appended. A
// command recorded for another stream is a reuse, unless create says that stream is the one
// this caller is about to create (a create's replay chose a new id again).
func (s *Store) previousCommand(ctx context.Context, db runner, stream string, create bool, o appendOptions) (Result, bool, error) {
	var (
		res    Result
		fp     []byte
		ids    [][16]byte
		stored string
	)
	err := db.QueryRow(ctx, `SELECT stream_id, fingerprint, first_version, last_version, event_ids
		FROM commands WHERE command_id = $1`, o.commandID).Scan(&stored, &fp, &res.FromVersion, &res.ToVersion, &ids)
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("append to %s: command %s: %w", stream, o.commandID, err)
	}
	if !bytes.Equal(fp, o.fingerprint) {
		return Result{}, true, fmt.Errorf("append to %s: command %s: %w", stream, o.commandID, ErrCommandReused)
	}
	if stored != stream && !create {
		return Result{}, true, fmt.Errorf("append to %s: command %s was for stream %s: %w", stream, o.commandID, stored, ErrCommandReused)
	}
	res.StreamID, res.Duplicate = stored, true
	for _, id := range ids {
		res.EventIDs = append(res.EventIDs, ulid.ULID(id))
	}
	return res, true, nil
}

// The expected-version guard of every append, decided by the database in the append's own
// statement: a new stream ($3 = 0) needs nothing more than the unique index; otherwise the
// stream's row at version $3 must exist and carry the hash ($15) the new events were chained
// on. When it does not, nothing is inserted and no row comes back.
const guardSQL = `WITH ok AS (SELECT 1 WHERE $3::bigint = 0
	OR EXISTS (SELECT 1 FROM events WHERE stream_id = $2 AND version = $3 AND hash = $15::bytea)),
`

// One multi-row INSERT for the whole batch: one statement, one commit.
const insertRowsSQL = `INSERT INTO events (event_id, stream_id, version, event_type, data, occurred_on,
	recorded_at, actor, role, unit, request_id, correlation_id, causation_id, hash)
SELECT e.id, $2, $3 + e.ord, e.typ, e.data, e.occ, $4, e.actor, e.role, e.unit, e.req, e.corr, e.caus, e.hash
FROM unnest($1::uuid[], $5::text[], $6::text[]::json[], $7::date[], $8::text[], $9::text[],
	$10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[])
	WITH ORDINALITY AS e(id, typ, data, occ, actor, role, unit, req, corr, caus, hash, ord)
WHERE EXISTS (SELECT 1 FROM ok)`

const insertOneRowSQL = `INSERT INTO events (event_id, stream_id, version, event_type, data, occurred_on,
	recorded_at, actor, role, unit, request_id, correlation_id, causation_id, hash)
SELECT $1::uuid, $2, $3 + 1, $5, $6::json, $7::date, $4, $8, $9, $10, $11, $12, $13, $14::bytea
WHERE EXISTS (SELECT 1 FROM ok)`

// Every append answers with the global position of its last event, for the caller's next
// read (API.md, Dxledger-Position). All rows of one statement share the transaction id.
const returnPosition = ` RETURNING tx_id, seq)
SELECT tx_id, max(seq) FROM ins GROUP BY tx_id`

const (
	insertSQL    = guardSQL + `ins AS (` + insertRowsSQL + returnPosition
	insertOneSQL = guardSQL + `ins AS (` + insertOneRowSQL + returnPosition
)

// The same, recording the command in the same statement (only when the guard holds); if a
// concurrent append of the same command recorded it first, nothing is inserted (and no row is
// returned).
const recordCommand = guardSQL + `cmd AS (
	INSERT INTO commands (command_id, stream_id, fingerprint, first_version, last_version, event_ids)
	SELECT $16, $2, $17, $3 + 1, $18, $19::uuid[] FROM ok ON CONFLICT (command_id) DO NOTHING RETURNING 1),
ins AS (`

const (
	insertWithCommandSQL    = recordCommand + insertRowsSQL + ` AND EXISTS (SELECT 1 FROM cmd)` + returnPosition
	insertOneWithCommandSQL = recordCommand + insertOneRowSQL + ` AND EXISTS (SELECT 1 FROM cmd)` + returnPosition
)

// The same statements as sent in a group (group.go), where an error would roll back every
// append of the group: the guard also wants the next version free, a version taken meanwhile
// by a concurrent writer inserts nothing instead of raising (ON CONFLICT DO NOTHING), and the
// statement always answers one row: the transaction id, the last seq and the number of events
// inserted (0 when the guard did not hold). An append must go in whole or not at all, with
// its command record: a version taken by a writer that commits while the statement waits can
// skip some rows but not others, or the events but not the command record; then the HAVING
// divides by zero (22012), the group rolls back and its appends are retried one by one.
const groupGuardSQL = `WITH ok AS (SELECT 1 WHERE ($3::bigint = 0
	OR EXISTS (SELECT 1 FROM events WHERE stream_id = $2 AND version = $3 AND hash = $15::bytea))
	AND NOT EXISTS (SELECT 1 FROM events WHERE stream_id = $2 AND version = $3 + 1)),
`

const (
	groupOnConflict = ` ON CONFLICT (stream_id, version) DO NOTHING RETURNING seq)
SELECT pg_current_xact_id(), coalesce(max(seq), 0), count(*) FROM ins`
	groupWhole   = ` HAVING 1 / (count(*) IN (0, cardinality($1::uuid[])))::int = 1`
	groupCommand = groupGuardSQL + `cmd AS (
	INSERT INTO commands (command_id, stream_id, fingerprint, first_version, last_version, event_ids)
	SELECT $16, $2, $17, $3 + 1, $18, $19::uuid[] FROM ok ON CONFLICT (command_id) DO NOTHING RETURNING 1),
ins AS (`
)

const (
	groupInsertSQL            = groupGuardSQL + `ins AS (` + insertRowsSQL + groupOnConflict + groupWhole
	groupInsertOneSQL         = groupGuardSQL + `ins AS (` + insertOneRowSQL + groupOnConflict
	groupInsertWithCommandSQL = groupCommand + insertRowsSQL + ` AND EXISTS (SELECT 1 FROM cmd)` + groupOnConflict +
		` HAVING 1 / (count(*) IN (0, cardinality($1::uuid[])) AND (count(*) > 0) = EXISTS (SELECT 1 FROM cmd))::int = 1`
	groupInsertOneWithCommandSQL = groupCommand + insertOneRowSQL + ` AND EXISTS (SELECT 1 FROM cmd)` + groupOnConflict +
		` HAVING 1 / ((count(*) > 0) = EXISTS (SELECT 1 FROM cmd))::int = 1`
)

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
		if len(e.Data) == 0 || !json.Valid(e.Data) {
			return fmt.Errorf("append to %s: event %d (%s): data is not JSON: %w", stream, i, e.Type, ErrInvalid)
		}
	}
	return nil
}

// Version returns the stream's current version, 0 when it does not exist.
func (s *Store) Version(ctx context.Context, stream string) (int64, error) {
	v, _, err := readHead(ctx, s.pool, stream)
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
	recs, err := s.queryRecords(ctx, 0, `SELECT `+recordColumns+` FROM events
		WHERE stream_id = $1 AND version > $2 ORDER BY version`, stream, from)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return recs, nil
}

// ReadAt returns the events at the given positions, in global order; a position with no event
// is left out.
func (s *Store) ReadAt(ctx context.Context, at []Position) ([]Record, error) {
	txs, seqs := make([]uint64, len(at)), make([]int64, len(at))
	for i, p := range at {
		txs[i], seqs[i] = p.TxID, p.Seq
	}
	recs, err := s.queryRecords(ctx, len(at), `SELECT `+recordColumns+` FROM events
		WHERE (tx_id, seq) IN (SELECT * FROM unnest($1::xid8[], $2::bigint[])) ORDER BY tx_id, seq`, txs, seqs)
	if err != nil {
		return nil, fmt.Errorf("read %d positions: %w", len(at), err)
	}
	return recs, nil
}

// ReadPrefix returns the events of every stream whose id starts with prefix, stream by stream
// in version order. It scans the table: meant for small categories read once (units).
func (s *Store) ReadPrefix(ctx context.Context, prefix string) ([]Record, error) {
	recs, err := s.queryRecords(ctx, 0, `SELECT `+recordColumns+` FROM events
		WHERE left(stream_id, length($1)) = $1 ORDER BY stream_id, version`, prefix)
	if err != nil {
		return nil, fmt.Errorf("read %s*: %w", prefix, err)
	}
	return recs, nil
}

// Horizon is the oldest transaction still running now (pg_snapshot_xmin of the current
// snapshot): every transaction below it has ended, so no event with a smaller tx_id can be
// committed later. ReadPrefixSince reads from a horizon to the next.
func (s *Store) Horizon(ctx context.Context) (uint64, error) {
	var h uint64
	if err := s.pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())`).Scan(&h); err != nil {
		return 0, fmt.Errorf("horizon: %w", err)
	}
	return h, nil
}

// ReadPrefixSince returns the events of every stream whose id starts with prefix written by
// the transactions from horizon from (Horizon) up to the horizon now, in (tx_id, seq)
// order, and that new horizon: the from of the next call. Nothing is skipped between two
// calls, and an event may come again after a ReadPrefix taken after its from (a caller
// keeping streams' versions skips it). It walks the global order's index over the events
// written since from: cheap when called every second or so, whatever the store's size.
func (s *Store) ReadPrefixSince(ctx context.Context, prefix string, from uint64) ([]Record, uint64, error) {
	to, err := s.Horizon(ctx)
	if err != nil {
		return nil, from, err
	}
	if to <= from {
		return nil, from, nil
	}
	// Every transaction below to has ended before this statement's snapshot: it sees them all.
	recs, err := s.queryRecords(ctx, 0, `SELECT `+recordColumns+` FROM events
		WHERE tx_id >= $1::xid8 AND tx_id < $2::xid8 AND left(stream_id, length($3)) = $3
		ORDER BY tx_id, seq`, from, to, prefix)
	if err != nil {
		return nil, from, fmt.Errorf("read %s* since %d: %w", prefix, from, err)
	}
	return recs, to, nil
}

// ReadAll returns up to limit events after position after, in commit-safe global order: it
// stops below the oldest transaction still running, so a transaction that commits late is
// never skipped — its events appear, in (tx_id, seq) order, once every older writer is done.
func (s *Store) ReadAll(ctx context.Context, after Position, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 1000
	}
	recs, err := s.queryRecords(ctx, limit, readAllSQL, after.TxID, after.Seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	return recs, nil
}

// scanPrealloc bounds the records scanRecords makes ready before it knows how many come.
const scanPrealloc = 64

// tx_id is compared as xid8, never as text: text would sort "10" before "9".
const readAllSQL = `SELECT ` + recordColumns + ` FROM events
WHERE (tx_id, seq) > ($1::xid8, $2)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY tx_id, seq
LIMIT $3`

// queryRecords runs query, which selects recordColumns, and reads its rows (capacity as
// scanRecords); the caller says in its error what the read was.
func (s *Store) queryRecords(ctx context.Context, capacity int, query string, args ...any) ([]Record, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanRecords(rows, capacity)
}

// scanRecords reads rows by hand rather than with pgx.RowToStructByName: replay reads
// millions of rows and reflection per row was the bottleneck.
func scanRecords(rows pgx.Rows, capacity int) ([]Record, error) {
	defer rows.Close()
	// capacity is a read's limit, not what it finds: a follower woken by every append asks for
	// up to 1,000 events and mostly gets a few, and 1,000 records made ready each time were a
	// third of serve's allocations under 16 command clients. Past this, append grows the slice.
	recs := make([]Record, 0, min(capacity, scanPrealloc))
	var id [16]byte
	for rows.Next() {
		var r Record
		m := &r.Metadata
		if err := rows.Scan(&r.Position.Seq, &r.Position.TxID, &id, &r.StreamID, &r.Version, &r.Type, &r.Data,
			&m.OccurredOn, &m.RecordedAt, &m.Actor, &m.Role, &m.Unit, &m.RequestID, &m.CorrelationID, &m.CausationID); err != nil {
			return nil, err
		}
		r.ID = ulid.ULID(id)
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// LastCommitted returns the position of the newest event committed now, whether or not an
// older transaction still hides it from ReadAll. A reader that must catch up with everything
// recorded so far reads until it reaches this position.
func (s *Store) LastCommitted(ctx context.Context) (Position, error) {
	var p Position
	err := s.pool.QueryRow(ctx, `SELECT tx_id, seq FROM events ORDER BY tx_id DESC, seq DESC LIMIT 1`).Scan(&p.TxID, &p.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return Start, nil
	}
	if err != nil {
		return Start, fmt.Errorf("last committed: %w", err)
	}
	return p, nil
}

// Stats are the store's figures.
type Stats struct {
	// Events is the number of events: exact below 100,000, above that the planner's estimate,
	// so that a metrics scrape stays cheap.
	Events int64
	// LastSeq is the last sequence number handed out (appends that failed also take one).
	LastSeq int64
}

// Stats returns the store's figures.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.pool.QueryRow(ctx, `SELECT
		CASE WHEN c.reltuples < 100000 THEN (SELECT count(*) FROM events) ELSE c.reltuples::bigint END,
		coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')), 0)
		FROM pg_class c WHERE c.oid = 'events'::regclass`).Scan(&st.Events, &st.LastSeq)
	if err != nil {
		return Stats{}, fmt.Errorf("store stats: %w", err)
	}
	return st, nil
}

// Count returns the exact number of events.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}
