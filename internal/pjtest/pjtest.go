// Package pjtest holds what the projections' tests share: histories appended to a store, a
// settable store clock, a dump of every projection table, and waiting for the projections to
// catch up.
package pjtest

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Clock is a settable store clock, so a test decides what was recorded when.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Day parses YYYY-MM-DD and panics on anything else.
func Day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// AppendUnit appends a unit event at the expected version.
func AppendUnit(t testing.TB, s *eventstore.Store, e unit.Event, expected int64) {
	t.Helper()
	typ, data, err := unit.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), unit.StreamID(e.UnitCode()), expected, []eventstore.Event{{Type: typ, Data: data}}); err != nil {
		t.Fatal(err)
	}
}

// AppendItem appends item events, in one append, dated on their business dates.
func AppendItem(t testing.TB, s *eventstore.Store, kind item.Kind, id string, expected int64, events ...item.Event) {
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

// UnitCodes are the units SeedUnits registers under the province DT.
var UnitCodes = []string{"SO-YT", "SO-GDDT", "SO-NNPTNT", "SO-KHDT", "SO-TC", "H-LAPVO", "TP-CAOLANH"}

// SeedUnits registers the province DT and UnitCodes.
func SeedUnits(t testing.TB, s *eventstore.Store) {
	t.Helper()
	AppendUnit(t, s, unit.Registered{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: unit.Province, On: Day("2020-01-01")}, 0)
	for _, c := range UnitCodes {
		kind := unit.Department
		if c[0] != 'S' {
			kind = unit.District
		}
		AppendUnit(t, s, unit.Registered{Code: c, Name: c, Kind: kind, ParentCode: "DT", On: Day("2020-01-01")}, 0)
	}
}

// LifeOf is a random but valid life of an item, all dated in 2022-2023.
func LifeOf(rng *rand.Rand, kind item.Kind, id string) []item.Event {
	f := func(s string) item.Fact { return item.Fact{On: Day(s)} }
	est := item.Proposed{Fact: f("2022-01-05"), ID: id, Kind: kind, Title: "Mô hình " + id, UnitCode: UnitCodes[rng.IntN(len(UnitCodes))],
		Pillar: []item.Pillar{item.Government, item.Economy, item.Society}[rng.IntN(3)], Sector: item.DefaultSectors[rng.IntN(5)],
		EstimatedCost: 1_000_000_000 * (1 + rowInt(rng, 20)), StartDate: Day("2022-02-01"), EndDate: Day("2023-06-30"),
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

// Tables dumps the projections' rows in a fixed order.
func Tables(t testing.TB, pool *pgxpool.Pool) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT row(i.*)::text FROM pj_items i ORDER BY item_id`,
		`SELECT row(f.*)::text FROM pj_item_facts f ORDER BY item_id, version`,
		`SELECT row(u.*)::text FROM pj_units u ORDER BY code`,
		`SELECT row(m.*)::text FROM pj_unit_merges m ORDER BY code`,
		`SELECT row(s.*)::text FROM pj_unit_splits s ORDER BY code, item_id`,
		`SELECT row(c.*)::text FROM pj_item_current c ORDER BY item_id`,
		`SELECT row(m.*)::text FROM pj_item_current_money m ORDER BY item_id, source, year`,
		`SELECT row(g.*)::text FROM pj_group_current g ORDER BY kind, unit_code, pillar, sector, stage`,
		`SELECT row(g.*)::text FROM pj_group_money g ORDER BY kind, cancelled, source, year`,
		`SELECT row(d.*)::text FROM pj_group_deltas d ORDER BY day, recorded_at, kind, unit_code, pillar, sector, stage`,
		`SELECT row(d.*)::text FROM pj_money_deltas d ORDER BY day, recorded_at, kind, source, year`,
		`SELECT row(b.*)::text FROM pj_delta_buckets b ORDER BY bucket`,
		`SELECT row(s.*)::text FROM pj_group_delta_sums s ORDER BY bucket, dim, month, kind, key, stage`,
		`SELECT row(s.*)::text FROM pj_money_delta_sums s ORDER BY bucket, month, kind, source, year`,
		`SELECT row(s.*)::text FROM pj_group_all_sums s ORDER BY dim, span, day, kind, key, stage`,
		`SELECT row(s.*)::text FROM pj_money_all_sums s ORDER BY span, day, kind, source, year`,
		`SELECT row(f.*)::text FROM pj_indicator_facts f ORDER BY stream_id, version`,
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

// CaughtUp waits until every projection of r has its checkpoint at the store's head.
func CaughtUp(t testing.TB, r *projector.Runner, s *eventstore.Store) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		head, err := s.LastCommitted(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		done := true
		for _, p := range r.Projections() {
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

// ReadCommitted reads every event in the store's order. A transaction of another test's
// database can hide the newest rows for a moment (the store reads below the server's oldest
// running transaction): read until the last committed position.
func ReadCommitted(t testing.TB, s *eventstore.Store) []eventstore.Record {
	t.Helper()
	target, err := s.LastCommitted(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []eventstore.Record
	pos := eventstore.Start
	for deadline := time.Now().Add(30 * time.Second); pos.Less(target); {
		if time.Now().After(deadline) {
			t.Fatalf("read %d events up to %s, want up to %s", len(out), pos, target)
		}
		batch, err := s.ReadAll(context.Background(), pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		out = append(out, batch...)
		pos = batch[len(batch)-1].Position
	}
	return out
}
