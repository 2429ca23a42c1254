package workflows

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/workflows/definition"
)

// another is a second handler on the fixture's database, with its own event store (its own
// head cache) and its own state cache: another process. size < 0 turns its state cache off.
func (f *fixture) another(size int, wrap func(*eventstore.Store) Store) *Handler {
	f.t.Helper()
	store, err := eventstore.New(f.db.Pool, eventstore.Config{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(store.Close)
	var s Store = store
	if wrap != nil {
		s = wrap(store)
	}
	reg, _ := definition.NewRegistry(definition.Default())
	h, err := NewHandler(Config{Store: s, Definitions: reg, Now: func() time.Time { return now }, Location: hcm, StateCacheSize: size})
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// sameAsCold checks that each handler loads item p exactly as a handler without a cache does.
func sameAsCold(t *testing.T, cold *Handler, id string, hs ...*Handler) Item {
	t.Helper()
	want, err := cold.LoadItem(context.Background(), item.Project, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		got, err := h.LoadItem(context.Background(), item.Project, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.State, want.State = got.Plain(), want.Plain(); !reflect.DeepEqual(got, want) {
			t.Errorf("handler %d loads version %d %+v,\nwant (cold) version %d %+v", i, got.Version, got.State, want.Version, want.State)
		}
	}
	return want
}

// Two handlers on one store, as two processes: a write through one is seen by the other's next
// command (its If-Match at the new version succeeds, at the old one is a conflict), and under
// racing writers through both every load answers what a cold load answers.
func TestStateCacheSeesAnotherProcess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(item.Project, "p", inStage("p", item.StageFunded, 1)...)
	h1, h2, cold := f.h, f.another(0, nil), f.another(-1, nil)
	focal := Actor{UserID: "u-focal", Role: role.FocalPoint, UnitCode: "SO-YT"}
	progress := func(h *Handler, pct int, o Options) (Result, error) {
		return h.Act(ctx, focal, item.Project, "p", ActProgress, &item.ReportProgress{Meta: item.Meta{On: day("2024-06-01")}, Percent: pct}, o)
	}
	r1, err := progress(h1, 10, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h1.LoadItem(ctx, item.Project, "p"); err != nil { // h1 now remembers version r1.Version
		t.Fatal(err)
	}
	r2, err := progress(h2, 20, Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := r1.Version
	if _, err := progress(h1, 30, Options{IfMatch: &old}); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("If-Match at the version before the other process's write: %v, want a conflict", err)
	}
	cur := r2.Version
	if _, err := progress(h1, 30, Options{IfMatch: &cur}); err != nil {
		t.Fatalf("If-Match at the version the other process wrote: %v", err)
	}
	if it := sameAsCold(t, cold, "p", h1, h2); it.Progress != 30 {
		t.Errorf("progress %d, want 30", it.Progress)
	}

	// Racing writers through both handlers: every disbursement lands once, and both
	// handlers' states are the cold one.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		h := h1
		if i%2 == 1 {
			h = h2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Sixteen commands on one item: a writer may lose its race more often than the
			// handler retries (a 409 to the caller, who reloads); here it simply asks again.
			again := func(do func() error) error {
				for try := 0; ; try++ {
					err := do()
					if !errors.Is(err, eventstore.ErrConflict) || try == 50 {
						return err
					}
				}
			}
			err := again(func() error {
				_, err := h.Act(ctx, focal, item.Project, "p", ActDisburse,
					&item.Disburse{Meta: item.Meta{On: day("2024-06-01")}, Source: "central_budget", Amount: money.VND(10_000_000)}, Options{})
				return err
			})
			if err == nil {
				err = again(func() error { _, err := progress(h, 40+i, Options{}); return err })
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("racing writer: %v", err)
		}
	}
	if it := sameAsCold(t, cold, "p", h1, h2); it.Disbursed != 80_000_000 || it.Version != 4+3+16 {
		t.Errorf("disbursed %d at version %d, want 80,000,000 at version 23", it.Disbursed, it.Version)
	}
	if s := h1.CacheStats(); s.Hits == 0 || s.Entries != 1 {
		t.Errorf("h1's cache: %+v, want hits and one entry", s)
	}
}

// racing is a store on which another writer appends to the stream just before each of the
// first n appends: the append loses the race.
type racing struct {
	*eventstore.Store
	mu    sync.Mutex
	n     int
	other *eventstore.Store
}

func (r *racing) Append(ctx context.Context, stream string, expected int64, events []eventstore.Event, opts ...eventstore.AppendOption) (eventstore.Result, error) {
	r.mu.Lock()
	race := r.n > 0
	r.n--
	r.mu.Unlock()
	if race {
		typ, data, _ := item.Encode(item.Project, &item.ProgressReported{Fact: item.Fact{On: day("2024-06-02")}, Percent: 77})
		if _, err := r.other.Append(ctx, stream, eventstore.AnyVersion, []eventstore.Event{{Type: typ, Data: data}}); err != nil {
			return eventstore.Result{}, err
		}
	}
	return r.Store.Append(ctx, stream, expected, events, opts...)
}

// A lost race drops the cache's entry: with If-Match the caller gets the conflict and the
// handler remembers nothing of the stream; without, the retry reads the stream whole and lands.
func TestStateCacheConflictDropsEntry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(item.Project, "p", inStage("p", item.StageFunded, 1)...)
	var r *racing
	h := f.another(0, func(s *eventstore.Store) Store { r = &racing{Store: s, other: f.store}; return r })
	cold := f.another(-1, nil)
	focal := Actor{UserID: "u-focal", Role: role.FocalPoint, UnitCode: "SO-YT"}
	it, err := h.LoadItem(ctx, item.Project, "p")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.states.get(StreamID(item.Project, "p")); !ok {
		t.Fatal("a loaded item is not remembered")
	}
	r.n = 1
	v := it.Version
	_, err = h.Act(ctx, focal, item.Project, "p", ActProgress, &item.ReportProgress{Meta: item.Meta{On: day("2024-06-01")}, Percent: 50}, Options{IfMatch: &v})
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("lost race with If-Match: %v, want a conflict", err)
	}
	if _, ok := h.states.get(StreamID(item.Project, "p")); ok {
		t.Error("the entry of a stream whose append lost a race is still remembered")
	}
	misses := h.CacheStats().Misses
	r.n = 1
	res, err := h.Act(ctx, focal, item.Project, "p", ActProgress, &item.ReportProgress{Meta: item.Meta{On: day("2024-06-01")}, Percent: 60}, Options{})
	if err != nil {
		t.Fatalf("lost race without If-Match: %v", err)
	}
	if got := h.CacheStats().Misses - misses; got != 2 { // the first load, and the retry's after the drop
		t.Errorf("%d whole-stream reads, want 2", got)
	}
	if got := sameAsCold(t, cold, "p", h); got.Version != res.Version || got.Progress != 60 {
		t.Errorf("version %d progress %d, want %d and 60", got.Version, got.Progress, res.Version)
	}
}

// A database that no longer holds the remembered last event at its place (restored behind the
// process, or rewritten) is read again from the start.
func TestStateCacheRereadsARewrittenStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(item.Project, "p", inStage("p", item.StageFunded, 1)...)
	cold := f.another(-1, nil)
	if _, err := f.h.LoadItem(ctx, item.Project, "p"); err != nil {
		t.Fatal(err)
	}
	// Version 4 (the approval) replaced by a progress report, as a restore from another
	// history would leave it.
	if _, err := f.db.Pool.Exec(ctx, `ALTER TABLE events DISABLE TRIGGER events_append_only;
		DELETE FROM events WHERE stream_id = 'project-p' AND version = 4;
		ALTER TABLE events ENABLE TRIGGER events_append_only`); err != nil {
		t.Fatal(err)
	}
	other := f.another(-1, nil)
	typ, data, _ := item.Encode(item.Project, &item.ProgressReported{Fact: item.Fact{On: day("2024-06-02")}, Percent: 5})
	if _, err := other.cfg.Store.Append(ctx, "project-p", 3, []eventstore.Event{{Type: typ, Data: data}}); err != nil {
		t.Fatal(err)
	}
	it := sameAsCold(t, cold, "p", f.h)
	if it.Approved != 0 || it.Progress != 5 {
		t.Errorf("approved %d progress %d: the state remembered before the rewrite was used", it.Approved, it.Progress)
	}
	if s := f.h.CacheStats(); s.Stale != 1 {
		t.Errorf("stale %d, want 1", s.Stale)
	}
}

// A retried item command answers its first result, funding request id included, from the store
// (not from the cache), appends nothing, and the key with another body is refused.
func TestRetriedItemCommand(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(item.Project, "p", inStage("p", item.StageFunded, 1)...)
	focal := Actor{UserID: "u-focal", Role: role.FocalPoint, UnitCode: "SO-YT"}
	o := Options{IdempotencyKey: "k1", Fingerprint: []byte("body"), Route: "POST /funding-requests"}
	ask := func(o Options) (Result, error) {
		return f.h.Act(ctx, focal, item.Project, "p", ActRequestFunding,
			&item.RequestFunding{Meta: item.Meta{On: day("2024-06-01")}, Source: "oda", Amount: 500_000_000, Year: 2024}, o)
	}
	first, err := ask(o)
	if err != nil || first.RequestID == "" {
		t.Fatalf("first: %+v %v", first, err)
	}
	for i := range 3 { // the stream moves on; the cache remembers the newer state
		if _, err := ask(Options{IdempotencyKey: fmt.Sprint("other", i), Fingerprint: []byte("body"), Route: o.Route}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := f.h.LoadItem(ctx, item.Project, "p")
	again, err := ask(o)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.RequestID != first.RequestID || again.Version != first.Version {
		t.Errorf("retried: %+v, first %+v", again, first)
	}
	if after, _ := f.h.LoadItem(ctx, item.Project, "p"); after.Version != before.Version {
		t.Errorf("the retry appended: version %d → %d", before.Version, after.Version)
	}
	o.Fingerprint = []byte("another body")
	if _, err := ask(o); !errors.Is(err, ErrIdempotencyMismatch) {
		t.Errorf("the key with another body: %v, want ErrIdempotencyMismatch", err)
	}
}

// The cache is bounded: the least recently used item is forgotten first.
func TestStateCacheIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	h := f.another(3, nil)
	for i := range 5 {
		id := fmt.Sprint("p", i)
		f.seed(item.Project, id, inStage(id, item.StageFunded, 1)...)
		if _, err := h.LoadItem(ctx, item.Project, id); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			_, _ = h.LoadItem(ctx, item.Project, "p0") // p0 used again: p1 is the oldest
		}
	}
	if n := h.CacheStats().Entries; n != 3 {
		t.Errorf("%d entries, want 3", n)
	}
	for id, want := range map[string]bool{"p0": true, "p1": false, "p2": false, "p3": true, "p4": true} {
		if _, ok := h.states.get(StreamID(item.Project, id)); ok != want {
			t.Errorf("%s remembered: %v, want %v", id, ok, want)
		}
	}
}

// reads counts the stream reads a handler makes.
type reads struct {
	*eventstore.Store
	mu sync.Mutex
	n  int
}

func (r *reads) ReadStream(ctx context.Context, stream string, from int64) ([]eventstore.Record, error) {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
	return r.Store.ReadStream(ctx, stream, from)
}

func (r *reads) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// A command after this process's own write on the item decides on the state remembered with
// that write, without reading the stream (the append checks the head in the database), and
// the state it remembers is the one a cold load reads, the funding requests' recorded times
// included. Another process's write makes the next such append fail, and the command is
// decided again on a read and lands.
func TestStateCacheDecidesAfterOwnWriteUnread(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(item.Project, "p", inStage("p", item.StageFunded, 1)...)
	var r *reads
	h := f.another(0, func(s *eventstore.Store) Store { r = &reads{Store: s}; return r })
	other, cold := f.another(0, nil), f.another(-1, nil)
	focal := Actor{UserID: "u-focal", Role: role.FocalPoint, UnitCode: "SO-YT"}
	act := func(h *Handler, action string, o Options) Result {
		t.Helper()
		res, err := h.Act(ctx, focal, item.Project, "p", action, commandFor(action), o)
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return res
	}
	act(h, ActProgress, Options{}) // the first command on the item reads it whole
	if n := r.count(); n != 1 {
		t.Fatalf("%d stream reads for the first command, want 1", n)
	}
	act(h, ActRequestFunding, Options{})
	res := act(h, ActRequestFunding, Options{})
	v := res.Version
	act(h, ActProgress, Options{IfMatch: &v})
	if n := r.count(); n != 1 {
		t.Errorf("%d stream reads after three more commands, want still 1", n)
	}
	if s := h.CacheStats(); s.Unread != 3 {
		t.Errorf("unread %d, want 3", s.Unread)
	}
	c, _ := h.states.get(StreamID(item.Project, "p"))
	want, err := cold.LoadItem(ctx, item.Project, "p")
	if err != nil {
		t.Fatal(err)
	}
	// Recorded times compared as instants (a read gives them in the local zone).
	for a, b := c.item.requested, want.requested; a != nil || b != nil; a, b = a.prev, b.prev {
		if a == nil || b == nil || a.id != b.id || !a.at.Equal(b.at) {
			t.Fatalf("remembered funding requests differ from the stored ones at %+v / %+v", a, b)
		}
	}
	c.item.requested, want.requested = nil, nil
	c.item.State, want.State = c.item.Plain(), want.Plain()
	if !reflect.DeepEqual(c.item, want) {
		t.Errorf("remembered after its own writes: version %d %+v,\nwant (cold) version %d %+v", c.item.Version, c.item.State, want.Version, want.State)
	}

	// Another process writes: the remembered head is no longer the database's.
	act(other, ActProgress, Options{})
	before := r.count()
	if res := act(h, ActDisburse, Options{}); res.Version != want.Version+2 {
		t.Errorf("after the other process's write: version %d, want %d", res.Version, want.Version+2)
	}
	if r.count() == before {
		t.Error("the command after another process's write did not read the stream")
	}
	if it := sameAsCold(t, cold, "p", h, other); it.Disbursed != 100_000_000 {
		t.Errorf("disbursed %d, want 100,000,000", it.Disbursed)
	}
	// If-Match at the version this process remembers, after another process's write: a conflict.
	act(other, ActProgress, Options{})
	v = sameAsCold(t, cold, "p").Version - 1
	if _, err := h.Act(ctx, focal, item.Project, "p", ActProgress, commandFor(ActProgress), Options{IfMatch: &v}); !errors.Is(err, eventstore.ErrConflict) {
		t.Errorf("If-Match at the remembered version after another write: %v, want a conflict", err)
	}
}

// A refusal is never answered from a remembered state alone: here this process suspended the
// item, another resumed it, and a progress report (refused while suspended) lands.
func TestStateCacheRefusalDecidedOnARead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(item.Project, "p", inStage("p", item.StageFunded, 1)...)
	h, other := f.another(0, nil), f.another(0, nil)
	focal := Actor{UserID: "u-focal", Role: role.FocalPoint, UnitCode: "SO-YT"}
	if _, err := h.Act(ctx, focal, item.Project, "p", ActSuspend, commandFor(ActSuspend), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Act(ctx, focal, item.Project, "p", ActResume, commandFor(ActResume), Options{}); err != nil {
		t.Fatal(err)
	}
	res, err := h.Act(ctx, focal, item.Project, "p", ActProgress, commandFor(ActProgress), Options{})
	if err != nil {
		t.Fatalf("progress on the item another process resumed: %v", err)
	}
	if res.Version != 7 {
		t.Errorf("version %d, want 7", res.Version)
	}
}

// The deadline manager woken by an event this process appended checks the state remembered
// with it, without reading the stream, and still records what is due (here: the item is past
// its planned end).
func TestDeadlinesCheckOwnWriteUnread(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	evs := inStage("late", item.StageFunded, 1)
	evs[0].(*item.Proposed).EndDate = day("2023-12-31")
	f.seed(item.Project, "late", evs...)
	var r *reads
	h := f.another(0, func(s *eventstore.Store) Store { r = &reads{Store: s}; return r })
	cold := f.another(-1, nil)
	d := NewDeadlines(h, projections.NewReports(f.db.Pool, func() time.Time { return now }, hcm))
	focal := Actor{UserID: "u-focal", Role: role.FocalPoint, UnitCode: "SO-YT"}
	if _, err := h.Act(ctx, focal, item.Project, "late", ActProgress, commandFor(ActProgress), Options{}); err != nil {
		t.Fatal(err)
	}
	n := r.count()
	recs, err := f.store.ReadStream(ctx, StreamID(item.Project, "late"), int64(len(evs)))
	if err != nil || len(recs) != 1 {
		t.Fatalf("%d new events, %v", len(recs), err)
	}
	if err := d.Handle(wmbridge.MessageFromRecord(recs[0])); err != nil {
		t.Fatal(err)
	}
	if got := r.count() - n; got != 0 {
		t.Errorf("the deadline check of this process's own event read the stream %d times", got)
	}
	if it := sameAsCold(t, cold, "late", h); it.OverdueSince.IsZero() || it.Version != int64(len(evs))+2 {
		t.Errorf("version %d, overdue since %s: want the overdue mark at version %d", it.Version, it.OverdueSince, len(evs)+2)
	}
}
