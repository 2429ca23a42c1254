// Package projector runs projections: it feeds them the event store in its commit-safe global
// order, in batches, each batch in one transaction with the projections' checkpoints (so every
// event takes effect exactly once), and rebuilds them from zero. It knows nothing of what a
// projection keeps: the read models are in projections/readmodel.
package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Projection is one read model.
type Projection interface {
	// Name is the projection's stable name, its checkpoint's key.
	Name() string
	// Apply folds a batch of events into the projection's tables, inside tx.
	Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Record) error
	// Reset empties the projection's tables, inside tx.
	Reset(ctx context.Context, tx pgx.Tx) error
}

// BulkRebuilder is a projection that can rebuild in memory: a rebuild starts from empty
// tables, so it needs nothing from them while it goes, takes every batch of the store in order
// and writes each table once at the end. A rebuild of projections that all have this ability
// reads the store once and writes every table in one transaction.
type BulkRebuilder interface {
	Projection
	// NewBulk starts one in-memory rebuild.
	NewBulk(log *slog.Logger) Bulk
}

// Bulk is one in-memory rebuild of a projection.
type Bulk interface {
	// Add takes the next batch of the store, in order.
	Add(batch []eventstore.Record) error
	// Write writes every table, inside tx (the tables are empty).
	Write(ctx context.Context, tx pgx.Tx) error
}

// TableOwner is a projection that names the tables it keeps (in the store's database, on the
// pool's search_path). A rebuild of projections that all name their tables, with bulks that
// all load in chunks (ChunkLoader), builds new tables beside the live ones and swaps them in:
// see rebuildBeside.
type TableOwner interface {
	Projection
	// Tables are the projection's tables: every one it writes, and no other.
	Tables() []string
}

// ChunkLoader is a Bulk that can write its rows into empty tables that nobody else reads, on
// conn (whose search_path finds those tables, and nothing else), each chunk in a short
// transaction of its own: while a transaction holds an xid the store's readers see nothing
// committed after it started (eventstore.ReadAll), so none may hold one for more than about a
// second.
type ChunkLoader interface {
	Bulk
	// Load writes every table, in committed chunks, on conn. It builds no index.
	Load(ctx context.Context, conn *pgx.Conn) error
}

// IndexedLoader is a ChunkLoader that needs its tables' indexes while it loads (it writes with
// ON CONFLICT, say): the rebuild builds them before its Load. For small tables only.
type IndexedLoader interface {
	ChunkLoader
	// NeedsIndexes is true when the indexes must be there before Load.
	NeedsIndexes() bool
}

// StreamLoader is a ChunkLoader that takes the store stream by stream instead of in the global
// order, and writes as it reads: a projection whose rows are per stream (an item's) needs to
// hold one stream at a time, not every stream it has seen (issue 16 point 3). The rebuild
// reads the store once, in stream order, when exactly one bulk is a StreamLoader and every
// other bulk takes its events in any order (AnyOrderBulk); Add is then never called on it.
type StreamLoader interface {
	ChunkLoader
	// LoadStreams takes batches from next until next returns none: every event of the
	// rebuild, each stream's events in version order and the streams one after the other (a
	// stream may go on in the next batch); it writes its tables on conn, in committed chunks,
	// as it goes, and builds no index. Events set aside are left out of the batches.
	LoadStreams(ctx context.Context, conn *pgx.Conn, next func() ([]eventstore.Record, error)) error
}

// AnyOrderBulk is a Bulk whose Add takes the store's batches in any order: it puts what it
// keeps in the global order itself before writing.
type AnyOrderBulk interface {
	Bulk
	AnyOrder()
}

// RebuildFinisher is a projection with work to do once a rebuild has written every row.
type RebuildFinisher interface {
	Projection
	// FinishRebuild runs after the rebuild's transaction has committed.
	FinishRebuild(ctx context.Context, pool *pgxpool.Pool) error
}

// RunnerConfig is what a Runner is made of.
type RunnerConfig struct {
	// Pool is the store's database, where the projections' tables and checkpoints are.
	Pool *pgxpool.Pool
	// Store is read in its global order.
	Store *eventstore.Store
	// Logger gets the runner's log lines; nil discards them.
	Logger *slog.Logger
	// Projections are what FollowAll keeps up to date, in the order they are applied.
	Projections []Projection
	// BatchSize is the most events applied in one transaction while following. Default 2000.
	BatchSize int
	// RebuildBatchSize is the most events read at once by a rebuild: large, since no reader
	// waits on it. Default 5000.
	RebuildBatchSize int
	// RetryMax is the longest pause before following starts again after a failure. Default 5 s.
	RetryMax time.Duration
	// LeaseRetry is how often a standby tries to take the lead. Default 1 s.
	LeaseRetry time.Duration
	// LeaseCheck is how often the leader checks that its lock's connection still answers.
	// Default 1 s.
	LeaseCheck time.Duration
	// Registerer, when set, gets the followers' metrics (restarts, lead).
	Registerer prometheus.Registerer
}

func (c *RunnerConfig) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.BatchSize == 0 {
		c.BatchSize = 2000
	}
	if c.RebuildBatchSize == 0 {
		c.RebuildBatchSize = 5000
	}
	if c.RetryMax == 0 {
		c.RetryMax = 5 * time.Second
	}
	if c.LeaseRetry == 0 {
		c.LeaseRetry = time.Second
	}
	if c.LeaseCheck == 0 {
		c.LeaseCheck = time.Second
	}
}

// Validate reports everything that is wrong with c, joined.
func (c RunnerConfig) Validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("no Pool"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("no Store"))
	}
	if c.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("BatchSize %d is negative", c.BatchSize))
	}
	if c.RebuildBatchSize < 0 {
		errs = append(errs, fmt.Errorf("RebuildBatchSize %d is negative", c.RebuildBatchSize))
	}
	for name, d := range map[string]time.Duration{"RetryMax": c.RetryMax, "LeaseRetry": c.LeaseRetry, "LeaseCheck": c.LeaseCheck} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %s is negative", name, d))
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Projections {
		switch {
		case p == nil:
			errs = append(errs, fmt.Errorf("projection %d is nil", i))
		case p.Name() == "":
			errs = append(errs, fmt.Errorf("projection %d has no name", i))
		case seen[p.Name()]:
			errs = append(errs, fmt.Errorf("projection %q given twice", p.Name()))
		default:
			seen[p.Name()] = true
		}
	}
	return errors.Join(errs...)
}

// Runner feeds projections from the store.
type Runner struct {
	pool  *pgxpool.Pool     // cfg.Pool
	store *eventstore.Store // cfg.Store
	log   *slog.Logger      // cfg.Logger
	cfg   RunnerConfig

	status  status
	metrics *metrics
}

// NewRunner returns a runner on the store's database.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("projector: %w", err)
	}
	cfg.Projections = slices.Clone(cfg.Projections)
	r := &Runner{pool: cfg.Pool, store: cfg.Store, log: cfg.Logger, cfg: cfg, status: status{by: map[string]*Status{}}}
	for _, p := range cfg.Projections {
		r.status.by[p.Name()] = &Status{Name: p.Name(), State: StateStarting, Since: time.Now()}
	}
	var err error
	if r.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("projector: %w", err)
	}
	return r, nil
}

// Projections returns the projections FollowAll keeps.
func (r *Runner) Projections() []Projection { return slices.Clone(r.cfg.Projections) }

// Checkpoint is where a projection stands.
type Checkpoint struct {
	Position  eventstore.Position
	Events    int64
	UpdatedAt time.Time
}

// Checkpoint reads p's checkpoint (Start when it never ran).
func (r *Runner) Checkpoint(ctx context.Context, name string) (Checkpoint, error) {
	var c Checkpoint
	err := r.pool.QueryRow(ctx, `SELECT tx_id, seq, events, updated_at FROM projection_checkpoints WHERE name = $1`, name).
		Scan(&c.Position.TxID, &c.Position.Seq, &c.Events, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	return c, nil
}

// apply runs one batch and moves the checkpoint, in one transaction.
func (r *Runner) apply(ctx context.Context, p Projection, batch []eventstore.Record) error {
	return r.applyAll(ctx, []Projection{p}, batch, nil)
}

// FollowWith keeps p alone up to date from its checkpoint, calling applied after each
// committed batch (benchmarks measure lag with it).
func (r *Runner) FollowWith(ctx context.Context, p Projection, applied func(last eventstore.Position)) error {
	cp, err := r.Checkpoint(ctx, p.Name())
	if err != nil {
		return err
	}
	return r.store.Subscribe(ctx, cp.Position, eventstore.SubscribeConfig{BatchSize: r.cfg.BatchSize}, func(ctx context.Context, b []eventstore.Record) error {
		if err := r.apply(ctx, p, b); err != nil {
			return err
		}
		applied(b[len(b)-1].Position)
		return nil
	})
}

// after returns the records of batch (in global order) that come after pos.
func after(batch []eventstore.Record, pos eventstore.Position) []eventstore.Record {
	for i, rec := range batch {
		if pos.Less(rec.Position) {
			return batch[i:]
		}
	}
	return nil
}

// Rebuild empties p and applies every event from the start of the store; see RebuildAll.
func (r *Runner) Rebuild(ctx context.Context, p Projection, progress func(applied int64)) (int64, error) {
	return r.RebuildAll(ctx, []Projection{p}, progress)
}

// RebuildAll empties ps and applies every event from the start of the store to all of them in
// one pass, reporting progress (events applied so far). Reading runs ahead of applying, on its
// own goroutine, so the store's scan, the decoding and the writes overlap. Each batch and every
// projection's checkpoint are one transaction.
func (r *Runner) RebuildAll(ctx context.Context, ps []Projection, progress func(applied int64)) (int64, error) {
	bulks := make([]Bulk, 0, len(ps))
	for _, p := range ps {
		if b, ok := p.(BulkRebuilder); ok {
			bulks = append(bulks, b.NewBulk(r.log))
		}
	}
	if len(bulks) == len(ps) {
		return r.rebuildInMemory(ctx, ps, bulks, progress)
	}
	if err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		for _, p := range ps {
			if err := p.Reset(ctx, tx); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM projection_checkpoints WHERE name = $1`, p.Name()); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("reset: %w", err)
	}
	// Everything committed when the rebuild starts is applied; a transaction of another
	// session (any database of the server) can hide the newest rows for a moment, so an empty
	// read before the target means wait, not done.
	target, err := r.store.LastCommitted(ctx)
	if err != nil {
		return 0, err
	}
	aside, err := r.asideFrom(ctx)
	if err != nil {
		return 0, err
	}
	var applied int64
	if err := r.readAhead(ctx, target, func(batch []eventstore.Record) error {
		if err := r.applyAll(ctx, ps, batch, aside); err != nil {
			return err
		}
		applied += int64(len(batch))
		if progress != nil {
			progress(applied)
		}
		return nil
	}); err != nil {
		return applied, err
	}
	return applied, r.finishRebuild(ctx, ps)
}

// finishRebuild runs the projections' work after a rebuild.
func (r *Runner) finishRebuild(ctx context.Context, ps []Projection) error {
	for _, p := range ps {
		if f, ok := p.(RebuildFinisher); ok {
			if err := f.FinishRebuild(ctx, r.pool); err != nil {
				return fmt.Errorf("projection %s after rebuild: %w", p.Name(), err)
			}
		}
	}
	return nil
}

// readAhead reads the store from the start up to target in batches of RebuildBatchSize, on its
// own goroutine, and hands each batch to apply in order.
func (r *Runner) readAhead(ctx context.Context, target eventstore.Position, apply func([]eventstore.Record) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []eventstore.Record, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		pos := eventstore.Start
		for pos.Less(target) {
			batch, err := r.store.ReadAll(ctx, pos, r.cfg.RebuildBatchSize)
			if err != nil {
				readErr <- err
				return
			}
			if len(batch) == 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(5 * time.Millisecond):
				}
				continue
			}
			pos = batch[len(batch)-1].Position
			select {
			case batches <- batch:
			case <-ctx.Done():
				return
			}
		}
	}()
	for batch := range batches {
		if err := apply(batch); err != nil {
			cancel()
			for range batches {
			}
			return err
		}
	}
	select {
	case err := <-readErr:
		return err
	default:
	}
	return ctx.Err()
}

// rebuildInMemory rebuilds projections that hold what they fold in memory: the store is read
// once and each projection takes every batch. Projections that name their tables are then
// written beside the live ones and swapped in (rebuildBeside); others in one transaction that
// empties the tables, writes every row and the checkpoints. Either way a rebuild that fails
// leaves the live tables as they were.
func (r *Runner) rebuildInMemory(ctx context.Context, ps []Projection, bulks []Bulk, progress func(applied int64)) (int64, error) {
	// Everything committed when the rebuild starts is applied (see RebuildAll).
	target, err := r.store.LastCommitted(ctx)
	if err != nil {
		return 0, err
	}
	aside, err := r.asideFrom(ctx)
	if err != nil {
		return 0, err
	}
	if loaders, ok := besideAble(ps, bulks); ok && target != eventstore.Start {
		if si, ok := streamAble(bulks); ok {
			return r.rebuildInStreamOrder(ctx, ps, loaders, si, target, aside, progress)
		}
	}
	var (
		applied int64
		last    eventstore.Position
		skipped = make([][]setAside, len(ps))
	)
	if err := r.readAhead(ctx, target, func(batch []eventstore.Record) error {
		for i, b := range bulks {
			keep, skip := skipAside(batch, aside[ps[i].Name()])
			skipped[i] = append(skipped[i], skip...)
			if len(keep) == 0 {
				continue
			}
			if err := b.Add(keep); err != nil {
				return fmt.Errorf("projection %s at %s: %w (a rebuild does not set events aside: "+
					"follow with serve or projector, which does, then retry the rebuild)", ps[i].Name(), keep[0].Position, err)
			}
		}
		applied += int64(len(batch))
		last = batch[len(batch)-1].Position
		if progress != nil {
			progress(applied)
		}
		return nil
	}); err != nil {
		return applied, fmt.Errorf("%w (%w)", err, ErrLiveUntouched)
	}
	t0 := time.Now()
	r.log.Info("rebuild read", "events", applied)
	if loaders, ok := besideAble(ps, bulks); ok {
		if err := r.rebuildBeside(ctx, ps, loaders, -1, nil, &rebuildRead{skipped, last, applied}); err != nil {
			return applied, fmt.Errorf("rebuild: %w", err)
		}
		r.log.Info("rebuild written", "ms", time.Since(t0).Milliseconds())
		t0 = time.Now()
		err = r.finishRebuild(ctx, ps)
		r.log.Info("rebuild finished", "ms", time.Since(t0).Milliseconds())
		return applied, err
	}
	// Projections that do not name their tables (tests' recorders) are written the simple way:
	// one transaction empties the tables and writes every row and the checkpoints. It holds an
	// xid for as long as it writes, which keeps the store's readers waiting: fine for small
	// tables, not for a million events beside live traffic.
	if err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		for i, p := range ps {
			if err := p.Reset(ctx, tx); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM projection_checkpoints WHERE name = $1`, p.Name()); err != nil {
				return err
			}
			if err := bulks[i].Write(ctx, tx); err != nil {
				return fmt.Errorf("projection %s: %w", p.Name(), err)
			}
			if err := endRebuild(ctx, tx, p, skipped[i], last, applied); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return applied, fmt.Errorf("rebuild: %w", err)
	}
	r.log.Info("rebuild written", "ms", time.Since(t0).Milliseconds())
	t0 = time.Now()
	err = r.finishRebuild(ctx, ps)
	r.log.Info("rebuild finished", "ms", time.Since(t0).Milliseconds())
	return applied, err
}

// applyAll applies one batch to several projections, with their checkpoints, in one
// transaction; events set aside (aside, see asideFrom) are left out, and recorded as set aside.
func (r *Runner) applyAll(ctx context.Context, ps []Projection, batch []eventstore.Record, aside map[string]map[string]eventstore.Position) error {
	last := batch[len(batch)-1].Position
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		for _, p := range ps {
			keep, skipped := skipAside(batch, aside[p.Name()])
			if err := recordSetAside(ctx, tx, p.Name(), skipped); err != nil {
				return err
			}
			if len(keep) > 0 {
				if err := p.Apply(ctx, tx, keep); err != nil {
					return fmt.Errorf("projection %s at %s: %w", p.Name(), keep[0].Position, err)
				}
			}
			if _, err := tx.Exec(ctx, checkpointSQL, p.Name(), last.TxID, last.Seq, len(batch)); err != nil {
				return err
			}
		}
		return nil
	})
}

// endRebuild is what every rebuild writes last, in the transaction that puts its tables in
// place (checkpoint rows already deleted): the events it left out as set aside, and the
// checkpoint at last, the position it read to. Rows the live follower set aside past last
// belong to events it will meet again from the new checkpoint: they are forgotten, so that a
// retry cannot apply them now and the follower again.
func endRebuild(ctx context.Context, tx pgx.Tx, p Projection, skipped []setAside, last eventstore.Position, applied int64) error {
	if err := recordSetAside(ctx, tx, p.Name(), skipped); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM projection_set_aside WHERE projection = $1 AND (tx_id, seq) > ($2::xid8, $3)`,
		p.Name(), last.TxID, last.Seq); err != nil {
		return err
	}
	if applied == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, checkpointSQL, p.Name(), last.TxID, last.Seq, applied)
	return err
}

// asideFrom reads where each projection's set-aside streams stop being applied: the position
// of the first event of the stream that is set aside. A rebuild leaves out the same events
// live following did, so that rebuild == live holds while anything is set aside.
func (r *Runner) asideFrom(ctx context.Context) (map[string]map[string]eventstore.Position, error) {
	rows, err := r.pool.Query(ctx, `SELECT DISTINCT ON (projection, stream_id) projection, stream_id, tx_id, seq
		FROM projection_set_aside ORDER BY projection, stream_id, tx_id, seq`)
	if err != nil {
		return nil, fmt.Errorf("set-aside events: %w", err)
	}
	defer rows.Close()
	aside := map[string]map[string]eventstore.Position{}
	for rows.Next() {
		var (
			proj, stream string
			p            eventstore.Position
		)
		if err := rows.Scan(&proj, &stream, &p.TxID, &p.Seq); err != nil {
			return nil, fmt.Errorf("set-aside events: %w", err)
		}
		if aside[proj] == nil {
			aside[proj] = map[string]eventstore.Position{}
		}
		aside[proj][stream] = p
	}
	return aside, rows.Err()
}

// skipAside splits batch into the events applied and those set aside: of a stream in from,
// every event at or after its first set-aside position.
func skipAside(batch []eventstore.Record, from map[string]eventstore.Position) (keep []eventstore.Record, skipped []setAside) {
	if len(from) == 0 {
		return batch, nil
	}
	keep = make([]eventstore.Record, 0, len(batch))
	for _, rec := range batch {
		if p, ok := from[rec.StreamID]; ok && !rec.Position.Less(p) {
			skipped = append(skipped, setAside{rec: rec, why: heldBehind})
			continue
		}
		keep = append(keep, rec)
	}
	return keep, skipped
}

const checkpointSQL = `INSERT INTO projection_checkpoints (name, tx_id, seq, events, updated_at)
	VALUES ($1, $2::xid8, $3, $4, now())
	ON CONFLICT (name) DO UPDATE SET tx_id = EXCLUDED.tx_id, seq = EXCLUDED.seq,
		events = projection_checkpoints.events + EXCLUDED.events, updated_at = now()`

// A rebuild beside live traffic (issue 11). The live tables keep answering, and the live
// follower keeps writing them, while a rebuild builds new ones; one short transaction then
// swaps them in with the checkpoints at the position the rebuild read to, and the follower,
// which finds its checkpoints moved under it (lockCheckpoints), starts again from there: each
// event after that position is applied once, to the new tables, and none before it twice.
//
// The store's readers see nothing committed after the oldest transaction that holds an xid,
// on the whole cluster (eventstore.ReadAll), so no step holds one for long:
//   - the new tables are in a schema of their own, shadowSchema, under the live tables' names,
//     so the bulks' SQL, which names tables unqualified, writes them through the search_path
//     of a connection of the rebuild's own, and their indexes can have the live indexes' names
//     (an index's name is unique per schema) — after the swap, migrations and queries find
//     everything under the names they know;
//   - the rows go in by COPY in chunks, each its own transaction (ChunkLoader);
//   - the indexes are built after the load, one CREATE INDEX CONCURRENTLY each: a plain CREATE
//     INDEX takes its xid when it adds the index to the catalog, before it reads the table,
//     and holds it for the whole sort (seconds on a million rows); a concurrent build commits
//     the catalog entry at once, builds without an xid and takes one only to mark the index
//     ready and valid. On a table nobody writes it waits for nobody. Primary keys and unique
//     constraints are then put on those indexes (ADD CONSTRAINT … USING INDEX: the columns
//     are NOT NULL already, so nothing is read);
//   - the swap moves the live tables to oldSchema and the new ones to the live schema (ALTER
//     TABLE … SET SCHEMA moves indexes and constraints along) and writes the checkpoints; the
//     old tables are dropped after it commits.
const (
	shadowSchema = "pj_rebuild"
	oldSchema    = "pj_rebuild_old"
)

// RebuildLock is the session advisory lock a rebuild beside live traffic holds: one at a time
// per database, since they share shadowSchema.
const RebuildLock int64 = 0x64786c7262 // "dxlrb"

// besideAble returns the bulks as ChunkLoaders when every projection names its tables and
// every bulk loads in chunks.
func besideAble(ps []Projection, bulks []Bulk) ([]ChunkLoader, bool) {
	loaders := make([]ChunkLoader, len(bulks))
	for i, b := range bulks {
		l, ok := b.(ChunkLoader)
		if _, named := ps[i].(TableOwner); !ok || !named {
			return nil, false
		}
		loaders[i] = l
	}
	return loaders, true
}

// liveTable is one table of a projection: its schema and name, and the name quoted as
// PostgreSQL quotes it in an index definition.
type liveTable struct{ asked, schema, name, quoted string }

// ErrLiveUntouched marks the error of a rebuild beside the live tables that stopped before
// its swap committed: the live tables and checkpoints are as they were, and what it had built
// beside them is dropped.
var ErrLiveUntouched = errors.New("the live tables and checkpoints are as they were")

// rebuildRead is what a rebuild read: the events it set aside, per projection, the position
// it read to and how many events it read.
type rebuildRead struct {
	skipped [][]setAside
	last    eventstore.Position
	applied int64
}

// streamAble returns the index of the one bulk that is a StreamLoader when every other bulk
// takes its events in any order.
func streamAble(bulks []Bulk) (int, bool) {
	si := -1
	for i, b := range bulks {
		if _, ok := b.(StreamLoader); ok {
			if si >= 0 {
				return -1, false
			}
			si = i
			continue
		}
		if _, ok := b.(AnyOrderBulk); !ok {
			return -1, false
		}
	}
	return si, si >= 0
}

// rebuildInStreamOrder rebuilds beside the live tables reading the store once in stream order
// (eventstore.ReadInStreamOrder): the StreamLoader bulks[si] takes the batches as they come
// and writes as it goes; the other bulks take them too (in any order, AnyOrderBulk) and load
// after it. The set of events is the one the global read takes: every event at or before
// target, once no transaction that could add to it is running (WaitSettled); the checkpoints
// go at target.
func (r *Runner) rebuildInStreamOrder(ctx context.Context, ps []Projection, loaders []ChunkLoader, si int,
	target eventstore.Position, aside map[string]map[string]eventstore.Position, progress func(applied int64)) (int64, error) {
	if err := r.store.WaitSettled(ctx, target); err != nil {
		return 0, fmt.Errorf("%w (%w)", err, ErrLiveUntouched)
	}
	read := &rebuildRead{skipped: make([][]setAside, len(ps)), last: target}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		batch []eventstore.Record
		err   error
	}
	batches := make(chan result, 2)
	go func() {
		defer close(batches)
		var from eventstore.StreamPos
		for {
			batch, err := r.store.ReadInStreamOrder(ctx, from, target, r.cfg.RebuildBatchSize)
			if err != nil || len(batch) == 0 {
				if err != nil {
					select {
					case batches <- result{err: err}:
					case <-ctx.Done():
					}
				}
				return
			}
			l := batch[len(batch)-1]
			from = eventstore.StreamPos{Stream: l.StreamID, Version: l.Version}
			select {
			case batches <- result{batch: batch}:
			case <-ctx.Done():
				return
			}
		}
	}()
	done := false
	next := func() ([]eventstore.Record, error) {
		for !done {
			var res result
			var ok bool
			select {
			case res, ok = <-batches:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if !ok {
				done = true
				break
			}
			if res.err != nil {
				return nil, res.err
			}
			batch := res.batch
			var mine []eventstore.Record
			for i, b := range bulks(loaders) {
				keep, skip := skipAside(batch, aside[ps[i].Name()])
				read.skipped[i] = append(read.skipped[i], skip...)
				if i == si {
					mine = keep
					continue
				}
				if len(keep) == 0 {
					continue
				}
				if err := b.Add(keep); err != nil {
					return nil, fmt.Errorf("projection %s at %s: %w (a rebuild does not set events aside: "+
						"follow with serve or projector, which does, then retry the rebuild)", ps[i].Name(), keep[0].Position, err)
				}
			}
			read.applied += int64(len(batch))
			if progress != nil {
				progress(read.applied)
			}
			if len(mine) > 0 {
				return mine, nil
			}
		}
		return nil, ctx.Err()
	}
	t0 := time.Now()
	if err := r.rebuildBeside(ctx, ps, loaders, si, next, read); err != nil {
		return read.applied, fmt.Errorf("rebuild: %w", err)
	}
	r.log.Info("rebuild written", "events", read.applied, "ms", time.Since(t0).Milliseconds())
	t0 = time.Now()
	err := r.finishRebuild(ctx, ps)
	r.log.Info("rebuild finished", "ms", time.Since(t0).Milliseconds())
	return read.applied, err
}

func bulks(loaders []ChunkLoader) []Bulk {
	b := make([]Bulk, len(loaders))
	for i, l := range loaders {
		b[i] = l
	}
	return b
}

// rebuildBeside writes the bulks into new tables, builds their indexes and swaps them in
// with the checkpoints at read.last (read.applied events), recording the events read.skipped
// as set aside. With si ≥ 0, loaders[si] is a StreamLoader that reads the store through next
// and goes first; the others' events have been added when it ends.
func (r *Runner) rebuildBeside(ctx context.Context, ps []Projection, loaders []ChunkLoader, si int,
	next func() ([]eventstore.Record, error), read *rebuildRead) (err error) {
	swapped := false
	defer func() {
		if err != nil && !swapped {
			err = fmt.Errorf("%w (%w)", err, ErrLiveUntouched)
		}
	}()
	var tables []liveTable
	for _, p := range ps {
		for _, name := range p.(TableOwner).Tables() {
			t := liveTable{asked: name}
			if err := r.pool.QueryRow(ctx, `SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname)
				FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass`, name).
				Scan(&t.schema, &t.name, &t.quoted); err != nil {
				return fmt.Errorf("table %s of %s: %w", name, p.Name(), err)
			}
			tables = append(tables, t)
		}
	}
	// The rebuild's own connection: only the new tables on its search_path, so that a table
	// a projection forgot to name fails the load instead of writing the live one.
	cfg := r.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["search_path"] = shadowSchema
	cfg.RuntimeParams["maintenance_work_mem"] = "256MB"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, RebuildLock).Scan(&locked); err != nil {
		return err
	}
	if !locked {
		return errors.New("another rebuild is writing beside the live tables of this database")
	}
	// Let go of the lock before the connection closes: a closed connection's server process
	// releases it only when it has exited, which on a busy machine is after this rebuild has
	// returned and the next one has been refused.
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, RebuildLock) }()
	defer func() {
		if err != nil { // the live tables are as they were; what was built beside them goes
			_, _ = conn.Exec(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS `+shadowSchema+` CASCADE`)
		}
	}()
	t0 := time.Now()
	step := func(name string, args ...any) {
		r.log.Info("rebuild step", append([]any{"step", name, "ms", time.Since(t0).Milliseconds()}, args...)...)
		t0 = time.Now()
	}
	// What a rebuild that failed or was killed left behind goes first.
	for _, sql := range []string{`DROP SCHEMA IF EXISTS ` + oldSchema + ` CASCADE`, `DROP SCHEMA IF EXISTS ` + shadowSchema + ` CASCADE`,
		`CREATE SCHEMA ` + shadowSchema} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	for _, t := range tables {
		if err := createShadow(ctx, conn, t); err != nil {
			return err
		}
	}
	step("create tables")
	// Each projection's tables: loaded, then indexed (or the other way round, for a loader that
	// needs its indexes).
	order := make([]int, 0, len(loaders))
	if si >= 0 {
		order = append(order, si)
	}
	for i := range loaders {
		if i != si {
			order = append(order, i)
		}
	}
	for _, i := range order {
		l := loaders[i]
		var own []liveTable
		for _, name := range ps[i].(TableOwner).Tables() {
			for _, t := range tables {
				if t.asked == name {
					own = append(own, t)
				}
			}
		}
		first := false
		if x, ok := l.(IndexedLoader); ok {
			first = x.NeedsIndexes()
		}
		if first {
			for _, t := range own {
				if err := buildIndexes(ctx, conn, t, step); err != nil {
					return err
				}
			}
		}
		if i == si {
			err = l.(StreamLoader).LoadStreams(ctx, conn, next)
		} else {
			err = l.Load(ctx, conn)
		}
		if err != nil {
			return fmt.Errorf("projection %s: %w", ps[i].Name(), err)
		}
		step("load", "projection", ps[i].Name())
		if !first {
			for _, t := range own {
				if err := buildIndexes(ctx, conn, t, step); err != nil {
					return err
				}
			}
		}
	}
	// The new tables go in ready: their pages marked all-visible (reports read the group
	// deltas from the primary key alone only where the visibility map says so) and their
	// statistics taken. VACUUM takes no xid; ANALYZE one per table, for a moment. A
	// RebuildFinisher's work after the swap then finds little left to do.
	for _, t := range tables {
		sql := `VACUUM (ANALYZE) ` + pgx.Identifier{shadowSchema, t.name}.Sanitize()
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	step("vacuum")
	if err := r.swap(ctx, ps, tables, read.skipped, read.last, read.applied); err != nil {
		return err
	}
	swapped = true
	step("swap")
	if _, err := conn.Exec(ctx, `DROP SCHEMA `+oldSchema+` CASCADE`); err != nil {
		return fmt.Errorf("drop the old tables: %w", err)
	}
	if _, err := conn.Exec(ctx, `DROP SCHEMA `+shadowSchema); err != nil {
		return fmt.Errorf("drop the rebuild's schema: %w", err)
	}
	step("drop old tables")
	return nil
}

// createShadow creates the new table of t in shadowSchema: its columns, defaults, CHECK
// constraints and storage parameters (fillfactor, autovacuum's), without its indexes.
func createShadow(ctx context.Context, conn *pgx.Conn, t liveTable) error {
	live := pgx.Identifier{t.schema, t.name}.Sanitize()
	shadow := pgx.Identifier{shadowSchema, t.name}.Sanitize()
	// Identifiers from the catalog, quoted; no value goes into the SQL.
	if _, err := conn.Exec(ctx, `CREATE TABLE `+shadow+` (LIKE `+live+` INCLUDING ALL EXCLUDING INDEXES)`); err != nil {
		return fmt.Errorf("create %s: %w", shadow, err)
	}
	var set *string
	if err := conn.QueryRow(ctx, `SELECT 'ALTER TABLE ' || $2 || ' SET (' || array_to_string(reloptions, ', ') || ')'
		FROM pg_class WHERE oid = $1::regclass AND reloptions IS NOT NULL`, live, shadow).Scan(&set); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("storage parameters of %s: %w", live, err)
	}
	if set != nil {
		if _, err := conn.Exec(ctx, *set); err != nil {
			return fmt.Errorf("%s: %w", *set, err)
		}
	}
	return nil
}

// buildIndexes builds the indexes of t's live table on its new one, under the same names,
// each in its own statement (see the comment above shadowSchema), and reports how long each took.
func buildIndexes(ctx context.Context, conn *pgx.Conn, t liveTable, step func(string, ...any)) error {
	live := pgx.Identifier{t.schema, t.name}.Sanitize()
	shadow := pgx.Identifier{shadowSchema, t.name}.Sanitize()
	type index struct{ name, def, contype string }
	rows, err := conn.Query(ctx, `SELECT c.relname, pg_get_indexdef(i.indexrelid), coalesce(k.contype::text, '')
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid
		WHERE i.indrelid = $1::regclass ORDER BY k.oid IS NULL, c.relname`, live)
	if err != nil {
		return fmt.Errorf("indexes of %s: %w", live, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (index, error) {
		var x index
		err := row.Scan(&x.name, &x.def, &x.contype)
		return x, err
	})
	if err != nil {
		return fmt.Errorf("indexes of %s: %w", live, err)
	}
	for _, x := range list {
		// pg_get_indexdef writes "CREATE [UNIQUE] INDEX name ON schema.table USING …": the
		// same index, built concurrently, on the new table.
		on := " ON " + t.quoted + " USING "
		if strings.Count(x.def, on) != 1 || !strings.HasPrefix(x.def, "CREATE ") || !strings.Contains(x.def, "INDEX ") {
			return fmt.Errorf("index %s of %s: cannot read its definition %q", x.name, live, x.def)
		}
		def := strings.Replace(strings.Replace(x.def, "INDEX ", "INDEX CONCURRENTLY ", 1), on,
			" ON "+pgx.Identifier{shadowSchema, t.name}.Sanitize()+" USING ", 1)
		if _, err := conn.Exec(ctx, def); err != nil {
			return fmt.Errorf("%s: %w", def, err)
		}
		var attach string
		switch x.contype {
		case "":
		case "p":
			attach = "PRIMARY KEY"
		case "u":
			attach = "UNIQUE"
		default:
			return fmt.Errorf("index %s of %s: a constraint of type %q cannot be rebuilt beside the live table", x.name, live, x.contype)
		}
		if attach != "" {
			name := pgx.Identifier{x.name}.Sanitize()
			sql := `ALTER TABLE ` + shadow + ` ADD CONSTRAINT ` + name + ` ` + attach + ` USING INDEX ` + name
			if _, err := conn.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
		step("index", "index", x.name)
	}
	return nil
}

// swap puts the new tables in place of the live ones and writes the checkpoints at last, in
// one short transaction. It locks the checkpoint rows first, as a follower's batch does (so
// the two never wait on each other in opposite orders), then the live tables; it waits at
// most lockWait for the queries reading them, and tries again a little later rather than
// hold every new query behind it.
func (r *Runner) swap(ctx context.Context, ps []Projection, tables []liveTable, skipped [][]setAside,
	last eventstore.Position, applied int64) error {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name()
	}
	const lockWait, tries = "1s", 30
	var err error
	for try := 0; try < tries; try++ {
		err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+lockWait+`'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SELECT name FROM projection_checkpoints WHERE name = ANY($1) ORDER BY name FOR UPDATE`, names); err != nil {
				return err
			}
			var lock []string
			for _, t := range tables {
				lock = append(lock, pgx.Identifier{t.schema, t.name}.Sanitize())
			}
			if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(lock, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE SCHEMA `+oldSchema); err != nil {
				return err
			}
			for _, t := range tables {
				for _, sql := range []string{
					`ALTER TABLE ` + pgx.Identifier{t.schema, t.name}.Sanitize() + ` SET SCHEMA ` + oldSchema,
					`ALTER TABLE ` + pgx.Identifier{shadowSchema, t.name}.Sanitize() + ` SET SCHEMA ` + pgx.Identifier{t.schema}.Sanitize(),
				} {
					if _, err := tx.Exec(ctx, sql); err != nil {
						return fmt.Errorf("%s: %w", sql, err)
					}
				}
			}
			for i, p := range ps {
				if _, err := tx.Exec(ctx, `DELETE FROM projection_checkpoints WHERE name = $1`, p.Name()); err != nil {
					return err
				}
				if err := endRebuild(ctx, tx, p, skipped[i], last, applied); err != nil {
					return err
				}
			}
			return nil
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" { // lock_not_available
			break
		}
		r.log.Info("rebuild swap waits for the readers of the live tables", "try", try+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	return nil
}
