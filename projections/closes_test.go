package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
)

// TestReportsAroundEveryClose follows a store live in batches of 12 events while buckets of
// recording time close every 5 facts: most batches close two or three buckets and carry facts
// recorded after the last cut, and some events are recorded before moments already counted (a
// writer that committed late), so their rows fall in closed buckets. A report known at a moment
// reads the sums the close of the bucket before that moment's wrote; at the start of every
// bucket, the moment before it and the last moment recorded in it, every report (each quadrant
// forced too) must equal a replay of the events known then. It fails when a close writes
// sums other than every row recorded up to its end (migration 00041: the closes copy the
// all-sums less what the batch recorded after the cut).
func TestReportsAroundEveryClose(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	clk := pjtest.NewClock(time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC))
	store, err := eventstore.New(db.Pool, eventstore.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pjtest.SeedUnits(t, store)

	rng := rand.New(rand.NewPCG(11, 5))
	var all []pending
	for i := 0; i < 24; i++ {
		kind := item.Project
		if i%3 == 0 {
			kind = item.Model
		}
		id := fmt.Sprintf("c%03d", i)
		shift := rng.IntN(200)
		var last time.Time
		for v, e := range pjtest.LifeOf(rng, kind, id) {
			moveDate(e, shift)
			at := e.Date().Time(time.UTC).Add(time.Duration(9+rng.IntN(8)) * time.Hour)
			if rng.IntN(4) == 0 {
				at = at.AddDate(0, 0, 10+rng.IntN(60)) // entered late
			}
			if at.Before(last) {
				at = last.Add(time.Minute)
			}
			last = at
			all = append(all, pending{kind, id, int64(v), e, at})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	versions := map[string]int64{}
	var latest time.Time
	for i, p := range all {
		at := p.at
		if i%9 == 8 && at.After(latest) {
			// Recorded before the latest moment already stored: a writer whose transaction
			// committed after later ones (its rows fall in buckets already closed).
			at = latest.Add(-time.Duration(1+rng.IntN(72)) * time.Hour)
		}
		if at.After(latest) {
			latest = at
		}
		clk.Set(at)
		key := string(p.kind) + "-" + p.id
		pjtest.AppendItem(t, store, p.kind, p.id, versions[key], p.e)
		versions[key]++
	}

	ps := []projector.Projection{readmodel.Units{}, readmodel.Items{BucketFacts: 5, History: readmodel.NewHistory(100_000)}}
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Projections: ps, BatchSize: 12})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- r.FollowAll(ctx) }()
	pjtest.CaughtUp(t, r, store)
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	recs, err := store.ReadPrefix(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}

	// The moments around every bucket's start.
	rows, err := db.Pool.Query(context.Background(), `SELECT starts_at, max_recorded_at FROM pj_delta_buckets WHERE bucket > 0 ORDER BY bucket`)
	if err != nil {
		t.Fatal(err)
	}
	var moments []time.Time
	for rows.Next() {
		var starts, maxRec time.Time
		if err := rows.Scan(&starts, &maxRec); err != nil {
			t.Fatal(err)
		}
		moments = append(moments, starts.Add(-time.Microsecond), starts)
		if maxRec.After(starts) {
			moments = append(moments, maxRec)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(moments) < 60 {
		t.Fatalf("%d moments around the closes of %d facts: the buckets did not close as meant", len(moments), len(recs))
	}

	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	reports := NewReports(db.Pool, func() time.Time { return now }, time.UTC)
	asOfs := []string{"2022-03-31", "2022-06-17", "2022-10-01", "2023-02-14"}
	checked := 0
	for _, k := range moments {
		for _, a := range asOfs {
			q := Query{AsOf: day(a), KnownAt: k}
			want := replay(t, recs, q, now)
			for _, quadrant := range []byte{0, 'A', 'B', 'C', 'D'} {
				reports.quadrant = quadrant
				what := fmt.Sprintf("as of %s known at %s (quadrant %q)", a, k.Format(time.RFC3339Nano), quadrant)
				for _, g := range []string{"unit", "source"} {
					got, err := reports.FundingGaps(context.Background(), g, q)
					if err != nil {
						t.Fatal(err)
					}
					same(t, "funding gaps by "+g+" "+what, got, want.gaps(g))
				}
				gotC, err := reports.Completion(context.Background(), "", "unit", q)
				if err != nil {
					t.Fatal(err)
				}
				same(t, "completion by unit "+what, gotC, want.completion("unit"))
				gotM, err := reports.ModelCounts(context.Background(), "unit", q)
				if err != nil {
					t.Fatal(err)
				}
				same(t, "model counts by unit "+what, gotM, want.counts("unit"))
				if t.Failed() {
					t.FailNow()
				}
			}
			checked++
		}
	}
	reports.quadrant = 0
	t.Logf("%d events, %d moments around the closes, %d (as_of, known_at) pairs equal to a replay", len(recs), len(moments), checked)
}
