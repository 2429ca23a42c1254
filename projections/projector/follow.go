package projector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// States of a follower, as Status reports them.
const (
	StateStarting  = "starting"
	StateStandby   = "standby"   // another process leads these projections; this one waits
	StateFollowing = "following" // this process applies them
	StateRetrying  = "retrying"  // the last attempt failed; waiting before the next
	StateStopped   = "stopped"
)

// Status is where one projection's follower in this process stands.
type Status struct {
	Name      string
	State     string
	Since     time.Time // when the state began
	Restarts  int64     // how many times following failed and started again
	LastError string    // the last failure, with its position
	ErrorAt   time.Time
}

// errLostLead is a batch that found its checkpoints moved by someone else (another process
// that took over, or a rebuild): following starts again from what is stored.
var errLostLead = errors.New("the checkpoints moved under this follower")

// status is the runner's record of its followers, for Status and the metrics.
type status struct {
	mu sync.Mutex
	by map[string]*Status
}

func (s *status) set(names []string, state string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, n := range names {
		st := s.by[n]
		if st.State != state {
			st.State, st.Since = state, now
		}
		if err != nil {
			st.Restarts++
			st.LastError, st.ErrorAt = err.Error(), now
		}
	}
}

// Status returns the state of every projection FollowAll keeps, in this process.
func (r *Runner) Status() []Status {
	r.status.mu.Lock()
	defer r.status.mu.Unlock()
	out := make([]Status, 0, len(r.cfg.Projections))
	for _, p := range r.cfg.Projections {
		out = append(out, *r.status.by[p.Name()])
	}
	return out
}

// FollowAll keeps every projection up to date until ctx ends, and never gives up before that:
// it leads the projections (one PostgreSQL advisory lock per projection, so that any number
// of processes may run it and exactly one applies), follows the store from their checkpoints,
// and when anything fails — PostgreSQL restarting, the lead lost, a bug — logs it with its
// position, waits (100 ms, doubling to RetryMax) and starts again from what is stored. An
// event a projection cannot apply is set aside with the rest of its stream (applyCarefully)
// rather than stopping it. It returns nil when ctx ends.
func (r *Runner) FollowAll(ctx context.Context) error { return r.FollowAllWith(ctx, nil) }

// Observer is told, on the follower's goroutine, of every read of the store the follower makes
// (eventstore.SubscribeConfig.Observe) and of each batch it commits: the lag benchmark measures
// what serve runs with it, and splits each event's wait between them.
type Observer struct {
	Read    func(eventstore.Read)
	Applied func(Batch)
}

// Batch is one committed batch: its last position, how many events it held, when the follower
// began it (before taking the lead's connection), when it had the connection (the lease check
// may hold it a moment) and when its commit was answered.
type Batch struct {
	Last                     eventstore.Position
	Events                   int
	Began, Locked, Committed time.Time
	// Steps is where the transaction's time went: BEGIN with the checkpoints' lock, each
	// projection's Apply (in RunnerConfig.Projections' order; 0 when the batch held nothing for
	// it), and the checkpoints' move with COMMIT.
	Steps Steps
}

// Steps is the time of each step of a batch's transaction.
type Steps struct {
	Lock   time.Duration
	Apply  []time.Duration
	Commit time.Duration
}

// FollowAllWith is FollowAll telling obs (when not nil) of the follower's reads and batches.
func (r *Runner) FollowAllWith(ctx context.Context, obs *Observer) error {
	names := r.names()
	pause := 100 * time.Millisecond
	for {
		started := time.Now()
		err := r.leadAndFollow(ctx, names, obs)
		if ctx.Err() != nil {
			r.status.set(names, StateStopped, nil)
			return nil
		}
		if time.Since(started) > time.Minute {
			pause = 100 * time.Millisecond // it ran well for a while: start again quickly
		}
		r.log.Error("projections stopped; starting again", "err", err, "retry_in", pause.String())
		r.status.set(names, StateRetrying, err)
		r.metrics.restarts(names)
		select {
		case <-ctx.Done():
			r.status.set(names, StateStopped, nil)
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, r.cfg.RetryMax)
	}
}

func (r *Runner) names() []string {
	names := make([]string, len(r.cfg.Projections))
	for i, p := range r.cfg.Projections {
		names[i] = p.Name()
	}
	return names
}

// leadAndFollow waits until this process holds every projection's lock, then follows until an
// error (or ctx's end). The locks live on one connection held for the whole time: if it
// breaks, PostgreSQL frees them and following stops, since another process may take over.
func (r *Runner) leadAndFollow(ctx context.Context, names []string, obs *Observer) error {
	conn, err := r.lead(ctx, names)
	if err != nil {
		return err
	}
	defer conn.Release()
	fctx, stop := context.WithCancelCause(ctx)
	lc := &leadConn{conn: conn}
	var pinger sync.WaitGroup
	pinger.Add(1)
	go func() { // the lead lasts as long as its connection answers
		defer pinger.Done()
		t := time.NewTicker(r.cfg.LeaseCheck)
		defer t.Stop()
		failed := 0
		for {
			select {
			case <-fctx.Done():
				return
			case <-t.C:
				if !lc.mu.TryLock() {
					// A batch is using the connection: its answers are the check, unless it
					// has waited for one far longer than any batch takes.
					if busy := time.Since(time.Unix(0, lc.busySince.Load())); busy > batchHung {
						stop(fmt.Errorf("lead lost: a batch has had no answer on the lead's connection for %s", busy.Round(time.Second)))
						return
					}
					continue
				}
				// A slow answer on a busy machine is not a lost lead: only two failures in
				// a row, each given five seconds, are.
				pctx, cancel := context.WithTimeout(fctx, 5*time.Second)
				err := conn.Ping(pctx)
				cancel()
				lc.mu.Unlock()
				switch {
				case fctx.Err() != nil:
					return
				case err == nil:
					failed = 0
				default:
					if failed++; failed >= 2 {
						stop(fmt.Errorf("lead lost: %w", err))
						return
					}
				}
			}
		}
	}()
	defer func() {
		// The lease check is done with the connection before it is given back. A connection
		// that still answers gives the locks back at once; a broken one has lost them
		// already. Either way it does not go back to the pool holding them.
		stop(nil)
		pinger.Wait()
		lc.busySince.Store(time.Now().UnixNano())
		lc.mu.Lock()
		defer lc.mu.Unlock()
		uctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock_all()`); err != nil {
			conn.Conn().Close(uctx)
		}
	}()
	r.status.set(names, StateFollowing, nil)
	r.metrics.leading(names, true)
	defer r.metrics.leading(names, false)
	err = r.follow(fctx, lc, obs)
	if cause := context.Cause(fctx); cause != nil && ctx.Err() == nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// lead takes every projection's advisory lock on one connection, waiting as a standby (a try
// every LeaseRetry) while another process holds any of them.
func (r *Runner) lead(ctx context.Context, names []string) (*pgxpool.Conn, error) {
	for standby := false; ; standby = true {
		conn, err := r.pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("lead: %w", err)
		}
		var all bool
		err = conn.QueryRow(ctx, `SELECT bool_and(pg_try_advisory_lock(hashtext('dxledger projection ' || n)))
			FROM unnest($1::text[]) AS n`, names).Scan(&all)
		if err == nil && all {
			if standby {
				r.log.Info("projections led by this process now", "projections", strings.Join(names, ", "))
			}
			return conn, nil
		}
		if err == nil {
			_, err = conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`)
		}
		conn.Release()
		if err != nil {
			return nil, fmt.Errorf("lead: %w", err)
		}
		if !standby {
			r.log.Info("projections led by another process; standing by", "projections", strings.Join(names, ", "))
			r.status.set(names, StateStandby, nil)
			r.metrics.leading(names, false)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(r.cfg.LeaseRetry):
		}
	}
}

// leadConn is the connection that holds the lead's advisory locks. The batches are applied on
// it too: a batch never waits for the pool (which the appends of a busy server can empty), its
// prepared statements stay warm, and its writes go through the session that holds the lead.
// The lease check takes its turn with the batches.
type leadConn struct {
	mu        sync.Mutex
	conn      *pgxpool.Conn
	busySince atomic.Int64 // when the batch that holds mu began (Unix ns)
}

// batchHung is how long a batch may go on before the lease check takes the lead's connection
// for lost (a connection that stopped answering without breaking). Batches here take
// milliseconds, a few seconds at worst on a machine loaded five times over.
const batchHung = time.Minute

// follow reads the store once for all projections, from the oldest checkpoint: each batch goes
// to every projection whose checkpoint it passes, in one transaction with their checkpoints.
func (r *Runner) follow(ctx context.Context, lc *leadConn, obs *Observer) error {
	ps := r.cfg.Projections
	names := r.names()
	if _, err := r.pool.Exec(ctx, `INSERT INTO projection_checkpoints (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, names); err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	cps := make([]eventstore.Position, len(ps))
	from := eventstore.Position{}
	for i, p := range ps {
		cp, err := r.Checkpoint(ctx, p.Name())
		if err != nil {
			return err
		}
		cps[i] = cp.Position
		if i == 0 || cp.Position.Less(from) {
			from = cp.Position
		}
		r.log.Info("projection following", "projection", p.Name(), "position", cp.Position.String())
	}
	sc := eventstore.SubscribeConfig{BatchSize: r.cfg.BatchSize, OwnConnection: true}
	if obs != nil {
		sc.Observe = obs.Read
	}
	return r.store.Subscribe(ctx, from, sc,
		func(ctx context.Context, b []eventstore.Record) error {
			t0 := time.Now()
			lc.busySince.Store(t0.UnixNano()) // before taking mu: whoever finds mu taken reads it fresh
			lc.mu.Lock()
			locked := time.Now()
			var steps *Steps
			if obs != nil && obs.Applied != nil {
				steps = &Steps{Apply: make([]time.Duration, len(ps))}
			}
			err := r.applyBatch(ctx, lc.conn, ps, names, cps, b, false, steps)
			if err != nil && !transient(err) && !errors.Is(err, errLostLead) {
				// One of the events cannot be applied: find it, event by event, and set it aside.
				err = r.applyBatch(ctx, lc.conn, ps, names, cps, b, true, steps)
			}
			lc.mu.Unlock()
			if err != nil {
				return err
			}
			last := b[len(b)-1].Position
			for i := range cps {
				if cps[i].Less(last) {
					cps[i] = last
				}
			}
			r.metrics.applied(names, last)
			if obs != nil && obs.Applied != nil {
				obs.Applied(Batch{Last: last, Events: len(b), Began: t0, Locked: locked, Committed: time.Now(), Steps: *steps})
			}
			return nil
		})
}

// applyBatch applies b to every projection past its checkpoint, in one transaction that first
// locks the projections' checkpoint rows and checks they are where this follower left them
// (fencing: a process that lost the lead, or a rebuild that replaced the tables, is noticed
// before it writes). Events of streams set aside earlier are set aside too. Carefully, each
// event is applied on its own savepoint, and one that fails for its content is set aside with
// the rest of its stream; without care a failure fails the batch.
//
// The transaction commits asynchronously (synchronous_commit off): it does not wait for its
// WAL to reach the disk, where it would queue behind the appends' own flushes. What a crash
// can lose is the last few hundred milliseconds of batches, each whole with its checkpoints
// (PostgreSQL replays the WAL up to a commit, never part of one), and the follower applies
// those events again from the store, which keeps every acknowledged append durable. The rows
// are derived; the events are the record.
func (r *Runner) applyBatch(ctx context.Context, db *pgxpool.Conn, ps []Projection, names []string, cps []eventstore.Position,
	b []eventstore.Record, carefully bool, steps *Steps) (err error) {
	mark := time.Now()
	step := func(d *time.Duration) {
		if steps != nil {
			now := time.Now()
			*d, mark = now.Sub(mark), now
		}
	}
	last := b[len(b)-1].Position
	var newly []setAside // logged once the transaction that sets them aside has committed
	defer func() {
		if err != nil {
			return
		}
		for _, s := range newly {
			r.log.Error("event set aside: the projection cannot apply it; later events of its stream wait with it",
				"projection", s.projection, "position", s.rec.Position.String(), "stream_id", s.rec.StreamID,
				"event_type", s.rec.Type, "err", s.why)
		}
	}()
	newly = newly[:0]
	tx, aside, err := lockCheckpoints(ctx, db.Conn(), names, cps)
	defer tx.end() // rolls back unless commitWith committed
	if err != nil {
		return err
	}
	var lockTook, commitTook time.Duration
	applyTook := make([]time.Duration, len(ps))
	step(&lockTook)
	moved, counts := make([]string, 0, len(ps)), make([]int64, 0, len(ps))
	for i, p := range ps {
		todo := after(b, cps[i])
		if len(todo) == 0 {
			continue
		}
		held := aside[p.Name()]
		var set []setAside
		if carefully {
			if set, err = applyCarefully(ctx, tx, p, todo, held); err != nil {
				return err
			}
		} else {
			keep := todo
			if len(held) > 0 {
				keep, set = hold(todo, held)
			}
			if len(keep) > 0 {
				if err := apply(ctx, tx, p, keep); err != nil {
					return fmt.Errorf("projection %s at %s: %w", p.Name(), keep[0].Position, err)
				}
			}
		}
		if err := recordSetAside(ctx, tx, p.Name(), set); err != nil {
			return err
		}
		for _, s := range set {
			if s.first {
				s.projection = p.Name()
				newly = append(newly, s)
			}
		}
		moved, counts = append(moved, p.Name()), append(counts, int64(len(todo)))
		step(&applyTook[i])
	}
	// The checkpoints' move and the COMMIT in one round trip.
	var end pgx.Batch
	if len(moved) > 0 {
		end.Queue(moveCheckpointsSQL, moved, last.TxID, last.Seq, counts)
	}
	if err := tx.commitWith(ctx, &end); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	step(&commitTook)
	if steps != nil {
		steps.Lock, steps.Commit = lockTook, commitTook
		copy(steps.Apply, applyTook)
	}
	return nil
}

// moveCheckpointsSQL moves the checkpoints of the projections a batch was applied to (their
// rows exist and are locked: lockCheckpoints), in one statement.
const moveCheckpointsSQL = `UPDATE projection_checkpoints c SET tx_id = $2::xid8, seq = $3, events = c.events + u.n,
		updated_at = now()
	FROM unnest($1::text[], $4::bigint[]) AS u(name, n) WHERE c.name = u.name`

// lockCheckpoints begins the batch's transaction and, in the same round trip, locks the
// checkpoint rows of names for it, checks they stand at cps, and returns each projection's
// streams that are set aside. The transaction is returned whatever fails: its end rolls it
// back.
func lockCheckpoints(ctx context.Context, conn *pgx.Conn, names []string, cps []eventstore.Position) (*pipeTx, map[string]map[string]bool, error) {
	var b pgx.Batch
	b.Queue(`SET LOCAL synchronous_commit = off`) // see applyBatch
	b.Queue(`SELECT name, tx_id, seq FROM projection_checkpoints WHERE name = ANY($1) FOR UPDATE`, names)
	b.Queue(`SELECT projection, stream_id FROM projection_set_aside WHERE projection = ANY($1) GROUP BY 1, 2`, names)
	tx, res := beginWith(ctx, conn, &b)
	aside, err := readLocks(res, names, cps)
	if cerr := res.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("lock checkpoints: %w", cerr)
	}
	return tx, aside, err
}

// readLocks reads the results of lockCheckpoints' round trip: BEGIN, SET LOCAL, the locked
// checkpoints and the set-aside streams.
func readLocks(res pgx.BatchResults, names []string, cps []eventstore.Position) (map[string]map[string]bool, error) {
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("asynchronous commit: %w", err)
	}
	rows, err := res.Query()
	if err != nil {
		return nil, fmt.Errorf("lock checkpoints: %w", err)
	}
	at := map[string]eventstore.Position{}
	for rows.Next() {
		var (
			n string
			p eventstore.Position
		)
		if err := rows.Scan(&n, &p.TxID, &p.Seq); err != nil {
			return nil, fmt.Errorf("lock checkpoints: %w", err)
		}
		at[n] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock checkpoints: %w", err)
	}
	for i, n := range names {
		if p, ok := at[n]; !ok || p != cps[i] {
			return nil, fmt.Errorf("projection %s: stored at %s, this follower at %s: %w", n, p, cps[i], errLostLead)
		}
	}
	if rows, err = res.Query(); err != nil {
		return nil, fmt.Errorf("set-aside streams: %w", err)
	}
	aside := map[string]map[string]bool{}
	for rows.Next() {
		var p, s string
		if err := rows.Scan(&p, &s); err != nil {
			return nil, fmt.Errorf("set-aside streams: %w", err)
		}
		if aside[p] == nil {
			aside[p] = map[string]bool{}
		}
		aside[p][s] = true
	}
	return aside, rows.Err()
}

// setAside is one event not applied: the first of its stream (first) with the error, or a
// later one held behind it.
type setAside struct {
	rec        eventstore.Record
	why        string
	first      bool
	projection string // for the log
}

// hold splits todo into what is applied and what waits behind a set-aside event of its stream.
func hold(todo []eventstore.Record, held map[string]bool) (keep []eventstore.Record, set []setAside) {
	keep = make([]eventstore.Record, 0, len(todo))
	for _, rec := range todo {
		if held[rec.StreamID] {
			set = append(set, setAside{rec: rec, why: heldBehind})
			continue
		}
		keep = append(keep, rec)
	}
	return keep, set
}

const heldBehind = "held behind an earlier event of its stream that is set aside"

// applyCarefully applies todo event by event, each on its own savepoint. An event that fails
// for its content is set aside, and the later events of its stream with it; a failure that is
// not the event's fault (the connection, the server) fails the whole batch, to be tried again.
func applyCarefully(ctx context.Context, tx pgx.Tx, p Projection, todo []eventstore.Record, held map[string]bool) ([]setAside, error) {
	stuck := map[string]bool{}
	for s := range held {
		stuck[s] = true
	}
	var (
		set     []setAside
		applied int
		codes   = map[string]int{}
		firsts  int
	)
	for _, rec := range todo {
		if stuck[rec.StreamID] {
			set = append(set, setAside{rec: rec, why: heldBehind})
			continue
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return nil, err
		}
		err = apply(ctx, sp, p, []eventstore.Record{rec})
		if err == nil {
			if err := sp.Commit(ctx); err != nil {
				return nil, err
			}
			applied++
			continue
		}
		if rerr := sp.Rollback(ctx); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		if transient(err) {
			return nil, fmt.Errorf("projection %s at %s: %w", p.Name(), rec.Position, err)
		}
		stuck[rec.StreamID] = true
		set = append(set, setAside{rec: rec, why: err.Error(), first: true})
		firsts++
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			codes[pgErr.Code]++
		}
	}
	// Every event of several streams failing the same way in PostgreSQL is not several bad
	// events but one fault of the projection or the database: fail the batch, to be retried
	// and shown, rather than hold back every stream it touched.
	if applied == 0 && firsts >= 3 && len(codes) == 1 {
		for code, n := range codes {
			if n == firsts {
				return nil, fmt.Errorf("projection %s: every event of the batch fails with SQLSTATE %s: not the events' fault", p.Name(), code)
			}
		}
	}
	return set, nil
}

func recordSetAside(ctx context.Context, tx pgx.Tx, projection string, set []setAside) error {
	if len(set) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, s := range set {
		b.Queue(`INSERT INTO projection_set_aside (projection, tx_id, seq, stream_id, event_id, event_type, error)
			VALUES ($1, $2::xid8, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			projection, s.rec.Position.TxID, s.rec.Position.Seq, s.rec.StreamID, [16]byte(s.rec.ID), s.rec.Type, truncate(s.why, 2000))
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("set aside: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// transient reports whether err is not the fault of the events being applied: the connection,
// the server, a timeout, a lost lead — and also the schema or the code (an undefined table or
// column, a feature not supported, a transaction state), which no event can cause and which a
// new binary or a migration mends: those are retried with backoff and shown in Status and
// /readyz, never set aside. What is the events' fault is what their content can cause: a
// value PostgreSQL refuses (class 22), a constraint (23), a row hit twice by one statement
// (21), and errors of the projection's own Go code (a payload that does not decode).
func transient(err error) bool {
	var (
		pgErr   *pgconn.PgError
		netErr  net.Error
		connErr *pgconn.ConnectError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, errLostLead),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.As(err, &netErr), errors.As(err, &connErr), pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pgErr):
		switch {
		case strings.HasPrefix(pgErr.Code, "22"), strings.HasPrefix(pgErr.Code, "23"), strings.HasPrefix(pgErr.Code, "21"):
			return false
		}
		return true
	}
	return false
}

// apply runs p.Apply, turning a panic (a bug meeting an event it did not expect) into an error
// of that batch, so that the careful pass can find the event and set it aside instead of the
// process dying on it at every start.
func apply(ctx context.Context, tx pgx.Tx, p Projection, batch []eventstore.Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("projection %s panicked: %v", p.Name(), v)
		}
	}()
	return p.Apply(ctx, tx, batch)
}
