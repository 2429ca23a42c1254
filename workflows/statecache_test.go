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
		if !reflect.DeepEqual(got, want) {
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
