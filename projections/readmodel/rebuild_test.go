package readmodel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newRunner returns a runner that follows ps.
func newRunner(t *testing.T, pool *pgxpool.Pool, store *eventstore.Store, ps ...projector.Projection) *projector.Runner {
	t.Helper()
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: pool, Store: store, Projections: ps})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Invariants 4 and 5: projections fed live while concurrent writers append (so transactions
// commit out of order) apply every event exactly once, and a rebuild from zero gives exactly
// the same rows.
func TestRebuildEqualsLive(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(t, db.Pool)
	pjtest.SeedUnits(t, store)
	// Small buckets of recording time, so that many close while writers commit out of order.
	r := newRunner(t, db.Pool, store, Units{}, Items{BucketFacts: 97, History: NewHistory(64)})
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- r.FollowAll(ctx) }()

	const writers, itemsPerWriter = 8, 280
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < itemsPerWriter; i++ {
				kind := item.Project
				if i%3 == 0 {
					kind = item.Model
				}
				id := fmt.Sprintf("w%d-%04d", w, i)
				evs := pjtest.LifeOf(rng, kind, id)
				// Half the items are written one event per append, half in one append.
				if i%2 == 0 {
					pjtest.AppendItem(t, store, kind, id, 0, evs...)
					continue
				}
				for v, e := range evs {
					pjtest.AppendItem(t, store, kind, id, int64(v), e)
				}
			}
		}()
	}
	wg.Wait()
	pjtest.AppendUnit(t, store, unit.Merged{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: pjtest.Day("2025-03-01")}, 1)
	pjtest.AppendUnit(t, store, unit.Split{Code: "SO-NNPTNT", EffectiveDate: pjtest.Day("2025-03-01"), RestIntoCode: "SO-GDDT",
		Parts: []unit.SplitPart{{IntoCode: "SO-YT", ItemIDs: []string{"w0-0000", "w1-0001"}}}}, 1)
	n, err := store.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n < 10_000 {
		t.Fatalf("generated %d events, want at least 10,000", n)
	}
	pjtest.CaughtUp(t, r, store)
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	live := pjtest.Tables(t, db.Pool)
	var facts int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pj_item_facts`).Scan(&facts); err != nil {
		t.Fatal(err)
	}
	var itemEvents int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_id NOT LIKE 'unit-%'`).Scan(&itemEvents); err != nil {
		t.Fatal(err)
	}
	if facts != itemEvents {
		t.Fatalf("live: %d fact rows for %d item events; every event once", facts, itemEvents)
	}
	for _, p := range r.Projections() {
		if _, err := r.Rebuild(context.Background(), p, nil); err != nil {
			t.Fatal(err)
		}
	}
	rebuilt := pjtest.Tables(t, db.Pool)
	sameRows(t, live, rebuilt)
	// The rebuild writes the all-days sums in their primary key's order (the month rows of a
	// dimension that a report reads lie together: migration 00045).
	for _, q := range []string{
		`SELECT count(*) FROM (SELECT (dim, span, day, kind, key, stage) > lead((dim, span, day, kind, key, stage)) OVER (ORDER BY ctid) AS back
			FROM pj_group_all_sums) x WHERE back`,
		`SELECT count(*) FROM (SELECT (span, day, kind, source, year) > lead((span, day, kind, source, year)) OVER (ORDER BY ctid) AS back
			FROM pj_money_all_sums) x WHERE back`,
	} {
		var back int
		if err := db.Pool.QueryRow(context.Background(), q).Scan(&back); err != nil {
			t.Fatal(err)
		}
		if back > 0 {
			t.Errorf("rebuilt sums: %d rows stored before a row that comes earlier in the key: %s", back, q)
		}
	}
	t.Logf("%d events, %d rows, live and rebuilt equal", n, len(live))
}

// FollowAll reads the store once for projections whose checkpoints differ: each gets only
// the events after its own checkpoint.
func TestFollowAllFromDifferentCheckpoints(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(t, db.Pool)
	pjtest.SeedUnits(t, store)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range 20 {
		id := fmt.Sprintf("a%02d", i)
		pjtest.AppendItem(t, store, item.Project, id, 0, pjtest.LifeOf(rng, item.Project, id)...)
	}
	r := newRunner(t, db.Pool, store, All()...)
	if _, err := r.RebuildAll(context.Background(), All(), nil); err != nil {
		t.Fatal(err)
	}
	// More events; then only the units projection is rebuilt, so it is ahead of items.
	for i := range 20 {
		id := fmt.Sprintf("b%02d", i)
		pjtest.AppendItem(t, store, item.Project, id, 0, pjtest.LifeOf(rng, item.Project, id)...)
	}
	pjtest.AppendUnit(t, store, unit.Merged{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: pjtest.Day("2025-03-01")}, 1)
	if _, err := r.Rebuild(context.Background(), Units{}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.FollowAll(ctx) }()
	pjtest.CaughtUp(t, r, store)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("FollowAll: %v", err)
	}
	live := pjtest.Tables(t, db.Pool)
	if _, err := r.RebuildAll(context.Background(), All(), nil); err != nil {
		t.Fatal(err)
	}
	if rebuilt := pjtest.Tables(t, db.Pool); !reflect.DeepEqual(live, rebuilt) {
		t.Fatalf("after following from different checkpoints: %d rows, rebuilt %d, or rows differ", len(live), len(rebuilt))
	}
}

// sameRows fails t at the first row where a live projection's tables (pjtest.Tables) differ
// from a rebuild's.
func sameRows(t *testing.T, live, rebuilt []string) {
	t.Helper()
	if reflect.DeepEqual(live, rebuilt) {
		return
	}
	for i := range min(len(live), len(rebuilt)) {
		if live[i] != rebuilt[i] {
			t.Fatalf("row %d differs:\n live    %s\n rebuilt %s", i, live[i], rebuilt[i])
		}
	}
	t.Fatalf("live has %d rows, rebuilt %d", len(live), len(rebuilt))
}

// A rebuild lets go of its lock before it returns, so the next one — a deadline tick's, a
// second command — is not refused as "another rebuild": closing the connection alone left the
// lock to a server process still exiting, and a clean CI run failed TestDeadlinesTickPaced on
// it. Each time a rebuild returns, another session takes the lock at once.
func TestRebuildLetsGoOfItsLockBeforeItReturns(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(t, db.Pool)
	pjtest.SeedUnits(t, store)
	r := newRunner(t, db.Pool, store, All()...)
	ctx := context.Background()
	other, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	for i := range 30 {
		if _, err := r.RebuildAll(ctx, All(), nil); err != nil {
			t.Fatalf("rebuild %d: %v", i+1, err)
		}
		var locked bool
		if err := other.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, projector.RebuildLock).Scan(&locked); err != nil {
			t.Fatal(err)
		}
		if !locked {
			t.Fatalf("rebuild %d returned still holding its lock", i+1)
		}
		if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock($1)`, projector.RebuildLock); err != nil {
			t.Fatal(err)
		}
	}
}
