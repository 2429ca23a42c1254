package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Group commit (issue 16, group.go). The tests that need a group of known members hold the
// grouper's only slot with an append that waits on a row of another client's open
// transaction, queue the members, then let the slot go: the members leave as one group.

// oneSlot makes s commit one group at a time.
func oneSlot(s *Store) {
	s.group.mu.Lock()
	s.group.maxInFlight = 1
	s.group.mu.Unlock()
}

// holdStreams opens another client's transaction that inserts version 1 of each stream and
// stays open: an append to those streams waits for it (the unique index).
func holdStreams(t *testing.T, db *pgtest.DB, streams ...string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	for _, st := range streams {
		if _, err := tx.Exec(ctx, `INSERT INTO events (event_id, stream_id, version, event_type, data, occurred_on, recorded_at, hash)
			VALUES (gen_random_uuid(), $1, 1, 'held.v1', '{}', current_date, now(), '\x00')`, st); err != nil {
			t.Fatal(err)
		}
	}
	return tx
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func queueLen(s *Store) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}

// lockWaiters counts the statements of db's database waiting for a row lock.
func lockWaiters(t *testing.T, db *pgtest.DB) func() bool {
	return func() bool {
		var n int
		if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
}

// blockSlot starts an append to stream "blocker" that waits on held (which holds "blocker")
// and so keeps the grouper's only slot; done receives its error when held ends.
func blockSlot(t *testing.T, s *Store, db *pgtest.DB) (done chan error) {
	t.Helper()
	oneSlot(s)
	done = make(chan error, 1)
	go func() {
		_, err := s.Append(context.Background(), "blocker", NoStream, []Event{ev("x.v1", 0)})
		done <- err
	}()
	waitFor(t, "the blocker to wait on its row", lockWaiters(t, db))
	return done
}

type call struct {
	stream   string
	expected int64
	events   []Event
	opts     []AppendOption
	ctx      context.Context
	res      Result
	err      error
	returned chan struct{}
}

// start runs the calls concurrently and waits until all of them are queued behind the slot.
func start(t *testing.T, s *Store, calls ...*call) {
	t.Helper()
	before := queueLen(s)
	for _, c := range calls {
		c.returned = make(chan struct{})
		if c.ctx == nil {
			c.ctx = context.Background()
		}
		go func() {
			defer close(c.returned)
			c.res, c.err = s.Append(c.ctx, c.stream, c.expected, c.events, c.opts...)
		}()
	}
	waitFor(t, "the appends to queue", func() bool { return queueLen(s) == before+len(calls) })
}

func wait(t *testing.T, calls ...*call) {
	t.Helper()
	for _, c := range calls {
		select {
		case <-c.returned:
		case <-time.After(20 * time.Second):
			t.Fatalf("append to %s did not return", c.stream)
		}
	}
}

func eventsOf(t *testing.T, db *pgtest.DB, stream string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_id = $1`, stream).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func txOf(t *testing.T, db *pgtest.DB, stream string) uint64 {
	t.Helper()
	var tx uint64
	if err := db.Pool.QueryRow(context.Background(), `SELECT tx_id FROM events WHERE stream_id = $1 LIMIT 1`, stream).Scan(&tx); err != nil {
		t.Fatal(err)
	}
	return tx
}

// Appends on distinct streams that arrive together share transactions; every one is
// answered its own versions and position; the hash chains verify; the metric shows the groups.
func TestGroupCommitSharesTransactions(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	reg := prometheus.NewRegistry()
	s, err := New(db.Pool, Config{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx := context.Background()
	const writers, appends = 16, 40
	results := make([][]Result, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("w-%02d", w)
			var version int64
			for i := range appends {
				events := []Event{ev("a.v1", i)}
				if i%4 == 1 {
					events = append(events, ev("b.v1", i)) // the many-row statement too
				}
				var opts []AppendOption
				if i%3 == 0 {
					opts = append(opts, WithCommandID(fmt.Sprintf("cmd-%s-%d", stream, i), []byte("fp")))
				}
				res, err := s.Append(ctx, stream, version, events, opts...)
				if err != nil {
					errs[w] = err
					return
				}
				if res.FromVersion != version+1 || res.ToVersion != version+int64(len(events)) || res.Duplicate {
					errs[w] = fmt.Errorf("%s: result %+v after version %d", stream, res, version)
					return
				}
				version = res.ToVersion
				results[w] = append(results[w], res)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	st := s.GroupStats()
	t.Logf("group stats: %+v", st)
	if st.Appends != writers*appends || st.Retries != 0 {
		t.Errorf("stats %+v: want %d appends, no retries", st, writers*appends)
	}
	if st.Transactions >= st.Appends {
		t.Errorf("%d appends took %d transactions: no group commit", st.Appends, st.Transactions)
	}
	// The histogram says the same.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "dxledger_store_append_group_size" {
			h := mf.GetMetric()[0].GetHistogram()
			found = true
			if int64(h.GetSampleCount()) != st.Transactions || int64(h.GetSampleSum()) != st.Appends {
				t.Errorf("group size histogram: %d groups of %v appends, want %d of %d", h.GetSampleCount(), h.GetSampleSum(), st.Transactions, st.Appends)
			}
		}
	}
	if !found {
		t.Error("no dxledger_store_append_group_size metric")
	}
	// In the database: transactions holding several streams, each answer the position of
	// its own last event, every command recorded with its events.
	var shared int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT tx_id FROM events GROUP BY tx_id
		HAVING count(DISTINCT stream_id) > 1) g`).Scan(&shared); err != nil || shared == 0 {
		t.Errorf("%d transactions hold events of several streams (%v), want some", shared, err)
	}
	seen := map[Position]bool{}
	for w := range writers {
		for _, res := range results[w] {
			var pos Position
			if err := db.Pool.QueryRow(ctx, `SELECT tx_id, seq FROM events WHERE event_id = $1`, [16]byte(res.EventIDs[len(res.EventIDs)-1])).
				Scan(&pos.TxID, &pos.Seq); err != nil {
				t.Fatal(err)
			}
			if pos != res.Position || seen[pos] {
				t.Errorf("%s v%d answered position %v, its last event is at %v (seen before: %v)", res.StreamID, res.ToVersion, res.Position, pos, seen[pos])
			}
			seen[pos] = true
		}
	}
	var orphans int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM commands c WHERE NOT EXISTS
		(SELECT 1 FROM events e WHERE e.stream_id = c.stream_id AND e.version = c.last_version AND e.event_id = c.event_ids[cardinality(c.event_ids)])`).
		Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%d command records without their events (%v)", orphans, err)
	}
	var commands int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM commands`).Scan(&commands); err != nil || commands != writers*((appends+2)/3) {
		t.Errorf("%d command records (%v), want %d", commands, err, writers*((appends+2)/3))
	}
	rep, err := s.Verify(ctx, nil)
	if err != nil || len(rep.Problems) != 0 || rep.Streams != writers {
		t.Errorf("verify: %d streams, problems %v, %v", rep.Streams, rep.Problems, err)
	}
}

// A version conflict inside a group fails that caller alone, with the database's head; the
// other appends of the group commit in the group's one transaction, and nothing is retried.
func TestGroupConflictFailsOnlyItsCaller(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	if _, err := s.Append(ctx, "exists", NoStream, []Event{ev("x.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "stale", NoStream, []Event{ev("x.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	// Another process moves "stale" on; s's head cache still holds version 1.
	other, err := New(db.Pool, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	if _, err := other.Append(ctx, "stale", 1, []Event{ev("y.v1", 2)}); err != nil {
		t.Fatal(err)
	}
	held := holdStreams(t, db, "blocker")
	blocked := blockSlot(t, s, db)
	taker := holdStreams(t, db, "racing") // commits while the group waits on it
	before := s.GroupStats()
	calls := []*call{
		{stream: "new-1", expected: NoStream, events: []Event{ev("a.v1", 1)}},
		{stream: "exists", expected: NoStream, events: []Event{ev("a.v1", 2)}},
		{stream: "stale", expected: 1, events: []Event{ev("a.v1", 3)}},
		{stream: "new-2", expected: NoStream, events: []Event{ev("a.v1", 4), ev("a.v1", 5)}, opts: []AppendOption{WithCommandID("c-2", nil)}},
		{stream: "racing", expected: NoStream, events: []Event{ev("a.v1", 6)}},
	}
	start(t, s, calls...)
	if err := held.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; !errors.Is(err, ErrConflict) {
		t.Errorf("blocker: %v, want a conflict (another client wrote its version 1)", err)
	}
	waitFor(t, "the group to wait on the racing writer", lockWaiters(t, db))
	if err := taker.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wait(t, calls...)
	if c := calls[4]; !errors.As(c.err, new(*ConflictError)) {
		t.Errorf("create of a stream another writer created while the group waited: %v, want a conflict", c.err)
	}
	var ce *ConflictError
	if c := calls[1]; !errors.As(c.err, &ce) || ce.Actual != 1 || ce.Expected != NoStream {
		t.Errorf("create of an existing stream in a group: %v, want a conflict at version 1", c.err)
	}
	if c := calls[2]; !errors.As(c.err, &ce) || ce.Actual != 2 || ce.Expected != 1 {
		t.Errorf("append on a stale cached head in a group: %v, want a conflict at version 2", c.err)
	}
	for _, c := range []*call{calls[0], calls[3]} {
		if c.err != nil || c.res.ToVersion != int64(len(c.events)) {
			t.Errorf("%s: %+v, %v; want appended", c.stream, c.res, c.err)
		}
	}
	after := s.GroupStats()
	if d := (GroupStats{after.Transactions - before.Transactions, after.Appends - before.Appends, after.Retries - before.Retries}); d != (GroupStats{2, 6, 0}) {
		t.Errorf("grouping: %+v, want the blocker alone then one group of 5, no retry", d)
	}
	if a, b := txOf(t, db, "new-1"), txOf(t, db, "new-2"); a != b || calls[0].res.Position.TxID != a {
		t.Errorf("new-1 and new-2 in transactions %d and %d, want one", a, b)
	}
	if n := eventsOf(t, db, "exists") + eventsOf(t, db, "stale"); n != 3 {
		t.Errorf("the conflicting streams hold %d events, want 3 (nothing appended)", n)
	}
	if rep, err := s.Verify(ctx, nil); err != nil || len(rep.Problems) != 2 {
		t.Errorf("verify: %v %v, want only the held rows' made-up hashes", rep.Problems, err)
	}
}

// An append the database refuses as invalid rolls its group back; the group's appends go
// again one by one, so only the invalid one fails.
func TestGroupInvalidEventFailsOnlyItsCaller(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	held := holdStreams(t, db, "blocker")
	blocked := blockSlot(t, s, db)
	bad := ev("a.v1", 2)
	bad.Metadata.Actor = "nul\x00byte" // text cannot hold NUL: 22021 from the server
	calls := []*call{
		{stream: "ok-1", expected: NoStream, events: []Event{ev("a.v1", 1)}},
		{stream: "bad", expected: NoStream, events: []Event{bad}},
		{stream: "ok-2", expected: NoStream, events: []Event{ev("a.v1", 3), ev("a.v1", 4)}},
		{stream: "ok-3", expected: NoStream, events: []Event{ev("a.v1", 5)}, opts: []AppendOption{WithCommandID("c-3", []byte("f"))}},
	}
	before := s.GroupStats()
	start(t, s, calls...)
	held.Rollback(ctx)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	wait(t, calls...)
	if err := calls[1].err; !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid append: %v, want ErrInvalid", err)
	}
	for _, c := range []*call{calls[0], calls[2], calls[3]} {
		if c.err != nil || eventsOf(t, db, c.stream) != len(c.events) {
			t.Errorf("%s: %v, %d events; want its %d", c.stream, c.err, eventsOf(t, db, c.stream), len(c.events))
		}
	}
	if n := eventsOf(t, db, "bad"); n != 0 {
		t.Errorf("the invalid append's stream holds %d events", n)
	}
	if after := s.GroupStats(); after.Retries-before.Retries != 1 || after.Appends-before.Appends != 5 {
		t.Errorf("stats %+v then %+v: want one group of 4 (and the blocker) retried once", before, after)
	}
}

// A command id is recorded once, with its events: twice in one group (a create replayed with
// another new id), between groups, and when a concurrent writer takes the stream while the
// group waits (the command must not be recorded without its events).
func TestGroupDuplicateCommandID(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	held := holdStreams(t, db, "blocker")
	blocked := blockSlot(t, s, db)
	calls := []*call{
		{stream: "dup-a", expected: NoStream, events: []Event{ev("a.v1", 1)}, opts: []AppendOption{WithCommandID("c-1", []byte("f"))}},
		{stream: "dup-b", expected: NoStream, events: []Event{ev("a.v1", 1)}, opts: []AppendOption{WithCommandID("c-1", []byte("f"))}},
		{stream: "dup-c", expected: NoStream, events: []Event{ev("a.v1", 1), ev("a.v1", 2)}, opts: []AppendOption{WithCommandID("c-2", []byte("f"))}},
		{stream: "dup-d", expected: NoStream, events: []Event{ev("a.v1", 1), ev("a.v1", 2)}, opts: []AppendOption{WithCommandID("c-2", []byte("f"))}},
		{stream: "plain", expected: NoStream, events: []Event{ev("a.v1", 1)}},
	}
	before := s.GroupStats()
	start(t, s, calls...)
	held.Rollback(ctx)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	wait(t, calls...)
	for _, pair := range [][2]*call{{calls[0], calls[1]}, {calls[2], calls[3]}} {
		first, replay := pair[0], pair[1] // the group sends in stream order
		if first.err != nil || first.res.Duplicate || replay.err != nil || !replay.res.Duplicate ||
			replay.res.StreamID != first.stream || replay.res.EventIDs[0] != first.res.EventIDs[0] {
			t.Errorf("one command twice in a group: %+v %v and %+v %v; want the first appended, the second its duplicate",
				first.res, first.err, replay.res, replay.err)
		}
		if eventsOf(t, db, replay.stream) != 0 || eventsOf(t, db, first.stream) != len(first.events) {
			t.Errorf("%s and %s hold %d and %d events", first.stream, replay.stream, eventsOf(t, db, first.stream), eventsOf(t, db, replay.stream))
		}
	}
	if after := s.GroupStats(); after.Retries != before.Retries || after.Appends-before.Appends != 6 || after.Transactions-before.Transactions != 2 {
		t.Errorf("stats %+v then %+v: want the blocker, then one group of 5, no retry", before, after)
	}
	// Between groups: the id comes back later.
	if res, err := s.Append(ctx, "dup-e", NoStream, []Event{ev("a.v1", 1)}, WithCommandID("c-1", []byte("f"))); err != nil || !res.Duplicate || res.StreamID != "dup-a" {
		t.Errorf("replay in a later group: %+v, %v", res, err)
	}

	// A writer of another process takes "taken" while the group's statement for it waits:
	// the group rolls back, and alone the command gets its conflict, unrecorded.
	held = holdStreams(t, db, "blocker-2")
	blocked = make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "blocker-2", NoStream, []Event{ev("x.v1", 0)})
		blocked <- err
	}()
	waitFor(t, "the blocker to wait on its row", lockWaiters(t, db))
	taker := holdStreams(t, db, "taken")
	calls = []*call{
		{stream: "taken", expected: NoStream, events: []Event{ev("a.v1", 1)}, opts: []AppendOption{WithCommandID("c-3", []byte("f"))}},
		{stream: "free", expected: NoStream, events: []Event{ev("a.v1", 1)}},
	}
	before = s.GroupStats()
	start(t, s, calls...)
	held.Rollback(ctx)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the group to wait on the taker", lockWaiters(t, db))
	if err := taker.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wait(t, calls...)
	if err := calls[0].err; !errors.Is(err, ErrConflict) {
		t.Errorf("command on a stream taken meanwhile: %v, want a conflict", err)
	}
	if calls[1].err != nil || eventsOf(t, db, "free") != 1 {
		t.Errorf("the other append of the group: %v", calls[1].err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM commands WHERE command_id = 'c-3'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("c-3 recorded %d times (%v) without its events", n, err)
	}
	if after := s.GroupStats(); after.Retries-before.Retries != 1 {
		t.Errorf("stats %+v then %+v: want the group retried once", before, after)
	}
}

// A caller whose context ends while it waits in the queue is answered at once and nothing is
// sent; one whose group is already in flight is answered the truth (the group committed:
// its append happened); a group all of whose callers gave up is cancelled.
func TestGroupCancelledCaller(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()

	// Queued: answered ctx.Err(), nothing appended.
	held := holdStreams(t, db, "blocker")
	blocked := blockSlot(t, s, db)
	qctx, cancelQueued := context.WithCancel(ctx)
	q := &call{stream: "queued", expected: NoStream, events: []Event{ev("a.v1", 1)}, ctx: qctx}
	start(t, s, q)
	cancelQueued()
	wait(t, q)
	if !errors.Is(q.err, context.Canceled) || queueLen(s) != 0 {
		t.Errorf("cancelled while queued: %v (queue %d), want context.Canceled", q.err, queueLen(s))
	}
	held.Rollback(ctx)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if n := eventsOf(t, db, "queued"); n != 0 {
		t.Errorf("the cancelled append's stream has %d events", n)
	}

	// In flight: the group waits on another client; the caller gives up; the group commits.
	held = holdStreams(t, db, "blocker-2")
	blocked = make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "blocker-2", NoStream, []Event{ev("x.v1", 0)})
		blocked <- err
	}()
	waitFor(t, "the blocker to wait on its row", lockWaiters(t, db))
	taker := holdStreams(t, db, "taken")
	yctx, cancelY := context.WithCancel(ctx)
	y := &call{stream: "gave-up", expected: NoStream, events: []Event{ev("a.v1", 1)}, ctx: yctx}
	z := &call{stream: "taken", expected: NoStream, events: []Event{ev("a.v1", 1)}}
	start(t, s, z) // z leads the group (its goroutine sends it), y is a member
	start(t, s, y)
	held.Rollback(ctx)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the group to wait on the taker", lockWaiters(t, db))
	cancelY()
	select {
	case <-y.returned:
		t.Fatalf("a caller whose group is in flight returned before the group's answer: %v", y.err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := taker.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wait(t, y, z)
	if y.err != nil || eventsOf(t, db, "gave-up") != 1 || y.res.ToVersion != 1 {
		t.Errorf("cancelled in flight, group committed: %+v, %v, %d events; want its append answered", y.res, y.err, eventsOf(t, db, "gave-up"))
	}
	if !errors.Is(z.err, ErrConflict) {
		t.Errorf("the group's other append: %v, want its conflict", z.err)
	}

	// Every caller of the group gives up: the group is cancelled rather than left waiting.
	held = holdStreams(t, db, "blocker-3")
	blocked = make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "blocker-3", NoStream, []Event{ev("x.v1", 0)})
		blocked <- err
	}()
	waitFor(t, "the blocker to wait on its row", lockWaiters(t, db))
	taker = holdStreams(t, db, "taken-2")
	actx, cancelAll := context.WithCancel(ctx)
	a := &call{stream: "gone-1", expected: NoStream, events: []Event{ev("a.v1", 1)}, ctx: actx}
	b := &call{stream: "taken-2", expected: NoStream, events: []Event{ev("a.v1", 1)}, ctx: actx}
	start(t, s, a, b)
	held.Rollback(ctx)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the group to wait on the taker", lockWaiters(t, db))
	cancelAll()
	wait(t, a, b)
	if a.err == nil || b.err == nil {
		t.Errorf("group cancelled by all its callers: %v, %v; want errors", a.err, b.err)
	}
	taker.Rollback(ctx)
	if n := eventsOf(t, db, "gone-1"); n != 0 {
		t.Errorf("an append answered %v was stored", a.err)
	}
	if _, err := s.Append(ctx, "after", NoStream, []Event{ev("a.v1", 1)}); err != nil {
		t.Errorf("the next append: %v", err)
	}
}

// A subscriber reading while many writers append in groups gets every event once, in
// strictly increasing positions, and each append's answered position is its last event's.
func TestGroupGlobalOrderUnderLoad(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu   sync.Mutex
		got  []Record
		subs = make(chan error, 1)
	)
	go func() {
		subs <- s.Subscribe(ctx, Start, SubscribeConfig{BatchSize: 37}, func(_ context.Context, b []Record) error {
			mu.Lock()
			got = append(got, b...)
			mu.Unlock()
			return nil
		})
	}()
	const writers, appends = 16, 30
	results := make(chan Result, writers*appends)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range appends {
				events := []Event{ev("a.v1", i)}
				if i%5 == 0 {
					events = append(events, ev("b.v1", i))
				}
				res, err := s.Append(ctx, fmt.Sprintf("order-%02d", w), AnyVersion, events)
				if err != nil {
					t.Error(err)
					return
				}
				results <- res
			}
		}()
	}
	wg.Wait()
	close(results)
	want := map[ulid.ULID]bool{}
	last := map[Position]ulid.ULID{}
	for res := range results {
		for _, id := range res.EventIDs {
			want[id] = true
		}
		last[res.Position] = res.EventIDs[len(res.EventIDs)-1]
	}
	waitFor(t, "the subscriber to read every event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	})
	cancel()
	if err := <-subs; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[ulid.ULID]bool{}
	var order []string
	for i, r := range got {
		if seen[r.ID] || !want[r.ID] {
			t.Fatalf("record %d (%s v%d at %v): duplicate %v, unknown %v", i, r.StreamID, r.Version, r.Position, seen[r.ID], !want[r.ID])
		}
		seen[r.ID] = true
		if i > 0 && !got[i-1].Position.Less(r.Position) {
			t.Fatalf("positions %v then %v: not increasing", got[i-1].Position, r.Position)
		}
		if id, ok := last[r.Position]; ok && id != r.ID {
			t.Errorf("position %v answered for event %s, holds %s", r.Position, id, r.ID)
		}
		delete(last, r.Position)
		if len(order) < 3 {
			order = append(order, r.Position.String())
		}
	}
	if len(seen) != len(want) || len(last) != 0 {
		t.Errorf("read %d of %d events; %d answered positions hold no event", len(seen), len(want), len(last))
	}
	st := s.GroupStats()
	if st.Transactions >= st.Appends {
		t.Errorf("stats %+v: no group formed, the test proved nothing", st)
	}
	t.Logf("stats %+v, first positions %s", st, strings.Join(order, " "))
}
