package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is a settable store clock, so a test decides what was recorded when.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func appendUnit(t *testing.T, s *eventstore.Store, e unit.Event, expected int64) {
	t.Helper()
	typ, data, err := unit.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), unit.StreamID(e.UnitCode()), expected, []eventstore.Event{{Type: typ, Data: data}}); err != nil {
		t.Fatal(err)
	}
}

func appendItem(t testing.TB, s *eventstore.Store, kind item.Kind, id string, expected int64, events ...item.Event) {
	t.Helper()
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		typ, data, err := item.Encode(kind, e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = eventstore.Event{Type: typ, Data: data, Metadata: eventstore.Metadata{Actor: "test", OccurredOn: e.Date().Time(time.UTC)}}
	}
	if _, err := s.Append(context.Background(), string(kind)+"-"+id, expected, out); err != nil {
		t.Fatal(err)
	}
}

var unitCodes = []string{"SO-YT", "SO-GDDT", "SO-NNPTNT", "SO-KHDT", "SO-TC", "H-LAPVO", "TP-CAOLANH"}

func seedUnits(t *testing.T, s *eventstore.Store) {
	t.Helper()
	appendUnit(t, s, unit.Registered{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: unit.Province, On: day("2020-01-01")}, 0)
	for _, c := range unitCodes {
		kind := unit.Department
		if c[0] != 'S' {
			kind = unit.District
		}
		appendUnit(t, s, unit.Registered{Code: c, Name: c, Kind: kind, ParentCode: "DT", On: day("2020-01-01")}, 0)
	}
}

// lifeOf is a random but valid life of an item, all dated in 2022-2023.
func lifeOf(rng *rand.Rand, kind item.Kind, id string) []item.Event {
	f := func(s string) item.Fact { return item.Fact{On: day(s)} }
	est := item.Proposed{Fact: f("2022-01-05"), ID: id, Kind: kind, Title: "Mô hình " + id, UnitCode: unitCodes[rng.IntN(len(unitCodes))],
		Pillar: []item.Pillar{item.Government, item.Economy, item.Society}[rng.IntN(3)], Sector: item.DefaultSectors[rng.IntN(5)],
		EstimatedCost: 1_000_000_000 * (1 + rowInt(rng, 20)), StartDate: day("2022-02-01"), EndDate: day("2023-06-30"),
		WorkflowVersion: 1, Stage: item.StageProposed}
	evs := []item.Event{&est}
	src := item.Sources[rng.IntN(len(item.Sources))]
	req := 500_000_000 * (1 + rowInt(rng, 10))
	evs = append(evs, &item.FundingRequested{Fact: f("2022-02-10"), RequestID: "r1", Source: src, Amount: req, Year: 2022})
	if rng.IntN(4) > 0 {
		appr := req - 100_000_000*rowInt(rng, 3)
		evs = append(evs, &item.FundingApproved{Fact: f("2022-03-15"), RequestID: "r1", Source: src, Year: 2022, Amount: appr, Officers: []string{"f"}, Stage: item.StageFunded})
		evs = append(evs, &item.Disbursed{Fact: f("2022-06-01"), Source: src, Amount: appr / 2})
		evs = append(evs, &item.ProgressReported{Fact: f("2022-09-01"), Percent: 10 * int(rowInt(rng, 10))})
		switch rng.IntN(4) {
		case 0:
			evs = append(evs, &item.Implemented{Fact: f("2023-03-01"), Stage: item.StageImplemented})
		case 1:
			evs = append(evs, &item.Cancelled{Fact: f("2023-01-10"), Reason: "trùng", Stage: item.StageCancelled})
		case 2:
			evs = append(evs, &item.Suspended{Fact: f("2022-12-01"), Reason: "chờ", From: item.StageFunded, Stage: item.StageSuspended})
		}
	}
	return evs
}

func rowInt(rng *rand.Rand, n int) money.VND { return money.VND(rng.IntN(n)) }

// tables dumps the projections' rows in a fixed order.
func tables(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT row(i.*)::text FROM pj_items i ORDER BY item_id`,
		`SELECT row(f.*)::text FROM pj_item_facts f ORDER BY item_id, version`,
		`SELECT row(u.*)::text FROM pj_units u ORDER BY code`,
		`SELECT row(m.*)::text FROM pj_unit_merges m ORDER BY code`,
		`SELECT row(c.*)::text FROM pj_item_current c ORDER BY item_id`,
		`SELECT row(m.*)::text FROM pj_item_current_money m ORDER BY item_id, source, year`,
		`SELECT row(g.*)::text FROM pj_group_current g ORDER BY kind, unit_code, pillar, sector, stage`,
		`SELECT row(g.*)::text FROM pj_group_money g ORDER BY kind, cancelled, source, year`,
		`SELECT row(o.*)::text FROM pj_group_open_end o ORDER BY kind, unit_code, pillar, sector, stage, end_month`,
		`SELECT row(d.*)::text FROM pj_group_deltas d ORDER BY day, recorded_at, kind, unit_code, pillar, sector, stage`,
		`SELECT row(d.*)::text FROM pj_money_deltas d ORDER BY day, recorded_at, kind, source, year`,
		`SELECT row(b.*)::text FROM pj_delta_buckets b ORDER BY bucket`,
		`SELECT row(s.*)::text FROM pj_group_delta_sums s ORDER BY bucket, dim, month, kind, key, stage`,
		`SELECT row(s.*)::text FROM pj_money_delta_sums s ORDER BY bucket, month, kind, source, year`,
		`SELECT row(s.*)::text FROM pj_group_open_sums s ORDER BY bucket, dim, month, kind, key, stage`,
		`SELECT row(s.*)::text FROM pj_money_open_sums s ORDER BY bucket, month, kind, source, year`,
		`SELECT row(s.*)::text FROM pj_group_all_sums s ORDER BY dim, span, day, kind, key, stage`,
		`SELECT row(s.*)::text FROM pj_money_all_sums s ORDER BY span, day, kind, source, year`,
		// A rebuild takes the indexes off while it loads: they must all come back, as they were.
		`SELECT indexdef FROM pg_indexes WHERE tablename LIKE 'pj\_%' ORDER BY indexname`,
	} {
		rows, err := pool.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		rows.Close()
	}
	return out
}

// caughtUp waits until every projection's checkpoint is at the store's head.
func caughtUp(t *testing.T, r *Runner, s *eventstore.Store) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		head, err := s.LastCommitted(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		done := true
		for _, p := range All() {
			cp, err := r.Checkpoint(context.Background(), p.Name())
			if err != nil {
				t.Fatal(err)
			}
			if cp.Position != head {
				done = false
			}
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("projections did not catch up with the store in 60s")
}

// Invariants 4 and 5: projections fed live while concurrent writers append (so transactions
// commit out of order) apply every event exactly once, and a rebuild from zero gives exactly
// the same rows.
func TestRebuildEqualsLive(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	seedUnits(t, store)
	r := NewRunner(db.Pool, store, nil)
	// Small buckets of recording time, so that many close while writers commit out of order.
	r.all = []Projection{Units{}, Items{bucketFacts: 97}}
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
				evs := lifeOf(rng, kind, id)
				// Half the items are written one event per append, half in one append.
				if i%2 == 0 {
					appendItem(t, store, kind, id, 0, evs...)
					continue
				}
				for v, e := range evs {
					appendItem(t, store, kind, id, int64(v), e)
				}
			}
		}()
	}
	wg.Wait()
	appendUnit(t, store, unit.Merged{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2025-03-01")}, 1)
	n, err := store.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n < 10_000 {
		t.Fatalf("generated %d events, want at least 10,000", n)
	}
	caughtUp(t, r, store)
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	live := tables(t, db.Pool)
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
	for _, p := range r.all {
		if _, err := r.Rebuild(context.Background(), p, nil); err != nil {
			t.Fatal(err)
		}
	}
	rebuilt := tables(t, db.Pool)
	if !reflect.DeepEqual(live, rebuilt) {
		for i := range min(len(live), len(rebuilt)) {
			if live[i] != rebuilt[i] {
				t.Fatalf("row %d differs:\n live    %s\n rebuilt %s", i, live[i], rebuilt[i])
			}
		}
		t.Fatalf("live has %d rows, rebuilt %d", len(live), len(rebuilt))
	}
	t.Logf("%d events, %d rows, live and rebuilt equal", n, len(live))
}

// FollowAll reads the store once for projections whose checkpoints differ: each gets only
// the events after its own checkpoint.
func TestFollowAllFromDifferentCheckpoints(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	seedUnits(t, store)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range 20 {
		id := fmt.Sprintf("a%02d", i)
		appendItem(t, store, item.Project, id, 0, lifeOf(rng, item.Project, id)...)
	}
	r := NewRunner(db.Pool, store, nil)
	if _, err := r.RebuildAll(context.Background(), All(), nil); err != nil {
		t.Fatal(err)
	}
	// More events; then only the units projection is rebuilt, so it is ahead of items.
	for i := range 20 {
		id := fmt.Sprintf("b%02d", i)
		appendItem(t, store, item.Project, id, 0, lifeOf(rng, item.Project, id)...)
	}
	appendUnit(t, store, unit.Merged{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2025-03-01")}, 1)
	if _, err := r.Rebuild(context.Background(), Units{}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.FollowAll(ctx) }()
	caughtUp(t, r, store)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("FollowAll: %v", err)
	}
	live := tables(t, db.Pool)
	if _, err := r.RebuildAll(context.Background(), All(), nil); err != nil {
		t.Fatal(err)
	}
	if rebuilt := tables(t, db.Pool); !reflect.DeepEqual(live, rebuilt) {
		t.Fatalf("after following from different checkpoints: %d rows, rebuilt %d, or rows differ", len(live), len(rebuilt))
	}
}
