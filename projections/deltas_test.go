package projections

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
)

// The group deltas on a history made to trip them: a fact dated before a fact of the same item
// that was recorded earlier, an approval dated months before it was recorded, a report known at
// a moment between two recordings, overdue starting the day after the planned end and ending
// with an implementation recorded late, and a cancellation recorded late. Applied one event per
// batch, with buckets of two facts, the reports must give the figures worked out by hand and
// those of a replay; a rebuild in one batch must write the same rows.
func TestDeltasOutOfOrderKnownAtAndOverdue(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	clk := pjtest.NewClock(time.Date(2021, 12, 1, 9, 0, 0, 0, time.UTC))
	store, err := eventstore.New(db.Pool, eventstore.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pjtest.SeedUnits(t, store)
	const tỷ = 1_000_000_000
	f := func(d string) item.Fact { return item.Fact{On: day(d)} }
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	steps := []struct {
		at   string
		id   string
		e    item.Event
		kind item.Kind
	}{
		{"2022-01-05T09:00:00Z", "a", &item.Proposed{Fact: f("2022-01-05"), ID: "a", Kind: item.Project, Title: "A",
			UnitCode: "SO-YT", Pillar: item.Society, Sector: "health", EstimatedCost: 10 * tỷ, StartDate: pjtest.Day("2022-02-01"),
			EndDate: pjtest.Day("2022-12-31"), WorkflowVersion: 1, Stage: item.StageProposed}, item.Project},
		{"2022-01-06T09:00:00Z", "b", &item.Proposed{Fact: f("2022-01-06"), ID: "b", Kind: item.Project, Title: "B",
			UnitCode: "SO-GDDT", Pillar: item.Society, Sector: "education", EstimatedCost: 5 * tỷ, StartDate: pjtest.Day("2022-02-01"),
			EndDate: pjtest.Day("2023-12-31"), WorkflowVersion: 1, Stage: item.StageProposed}, item.Project},
		{"2022-02-01T09:00:00Z", "a", &item.FundingRequested{Fact: f("2022-02-01"), RequestID: "r1", Source: "oda",
			Amount: 4 * tỷ, Year: 2022}, item.Project},
		{"2022-02-02T09:00:00Z", "b", &item.FundingRequested{Fact: f("2022-02-02"), RequestID: "r1", Source: "enterprise",
			Amount: 2 * tỷ, Year: 2022}, item.Project},
		{"2022-06-10T09:00:00Z", "a", &item.ProgressReported{Fact: f("2022-06-10"), Percent: 60}, item.Project},
		// Dated before the progress of 2022-06-10, recorded after it: in stream order it comes
		// last, so it is the item's progress whenever both count.
		{"2022-07-01T09:00:00Z", "a", &item.ProgressReported{Fact: f("2022-05-20"), Percent: 30}, item.Project},
		// An approval dated in March, recorded in July.
		{"2022-07-02T09:00:00Z", "a", &item.FundingApproved{Fact: f("2022-03-01"), RequestID: "r1", Source: "oda", Year: 2022,
			Amount: 4 * tỷ, Officers: []string{"f"}, Stage: item.StageFunded}, item.Project},
		{"2022-09-01T09:00:00Z", "b", &item.Cancelled{Fact: f("2022-08-01"), Reason: "trùng", Stage: item.StageCancelled}, item.Project},
		// Past the planned end (2022-12-31): overdue from 2023-01-01 until implemented on 01-20.
		{"2023-02-01T09:00:00Z", "a", &item.Implemented{Fact: f("2023-01-20"), Stage: item.StageImplemented}, item.Project},
	}
	versions := map[string]int64{}
	for _, s := range steps {
		clk.Set(at(s.at))
		pjtest.AppendItem(t, store, s.kind, s.id, versions[s.id], s.e)
		versions[s.id]++
	}

	// One event per batch: every fact after the first folds the item's earlier facts.
	ps := []projector.Projection{readmodel.Units{}, readmodel.Items{BucketFacts: 2, History: readmodel.NewHistory(64)}}
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Projections: ps, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	recs := pjtest.ReadCommitted(t, store) // in the store's order, as a rebuild reads it
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- r.FollowAll(ctx) }()
	pjtest.CaughtUp(t, r, store)
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	reports := NewReports(db.Pool, func() time.Time { return now }, time.UTC)
	check := func(stage string) {
		t.Helper()
		type want struct {
			asOf, knownAt                                string
			proposed, funded, implemented, cancelled, od int64
			progress                                     float64 // of item a, alone in SO-YT
			requested, approved                          int64   // of item a
			oda, enterprise                              int64   // requested, by source, not cancelled
		}
		for _, w := range []want{
			// The progress of 06-10 is known, the one dated 05-20 not yet; the approval neither.
			{"2022-06-15", "2022-06-15T00:00:00Z", 2, 0, 0, 0, 0, 60, 4 * tỷ, 0, 4 * tỷ, 2 * tỷ},
			// Known between the two recordings of 07-01 and 07-02: the later-recorded progress
			// counts (last in stream order), the approval not yet.
			{"2022-06-15", "2022-07-01T12:00:00Z", 2, 0, 0, 0, 0, 30, 4 * tỷ, 0, 4 * tỷ, 2 * tỷ},
			{"2022-06-15", "2022-07-02T12:00:00Z", 1, 1, 0, 0, 0, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 2 * tỷ},
			// Before 06-10 only the progress dated 05-20 counts, whatever the order of recording.
			{"2022-05-25", "", 1, 1, 0, 0, 0, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 2 * tỷ},
			{"2022-05-19", "", 1, 1, 0, 0, 0, 0, 4 * tỷ, 4 * tỷ, 4 * tỷ, 2 * tỷ},
			// The approval is dated 03-01: as of February nothing is approved, as of March it is.
			{"2022-02-28", "", 2, 0, 0, 0, 0, 0, 4 * tỷ, 0, 4 * tỷ, 2 * tỷ},
			{"2022-03-01", "", 1, 1, 0, 0, 0, 0, 4 * tỷ, 4 * tỷ, 4 * tỷ, 2 * tỷ},
			// Cancelled on 08-01, recorded 09-01: B's money leaves the sources only then.
			{"2022-08-15", "2022-08-31T00:00:00Z", 1, 1, 0, 0, 0, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 2 * tỷ},
			{"2022-08-15", "", 0, 1, 0, 1, 0, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 0},
			{"2022-07-31", "", 1, 1, 0, 0, 0, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 2 * tỷ},
			// Overdue the day after the planned end, not on it.
			{"2022-12-31", "", 0, 1, 0, 1, 0, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 0},
			{"2023-01-01", "", 0, 1, 0, 1, 1, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 0},
			// Implemented on 01-20, recorded on 02-01: as known before that, still overdue.
			{"2023-01-25", "2023-01-31T00:00:00Z", 0, 1, 0, 1, 1, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 0},
			{"2023-01-25", "", 0, 0, 1, 1, 0, 100, 4 * tỷ, 4 * tỷ, 4 * tỷ, 0},
			{"2023-01-19", "", 0, 1, 0, 1, 1, 30, 4 * tỷ, 4 * tỷ, 4 * tỷ, 0},
			// As of a day alone (everything recorded: the day sums of pj_group_all_sums), in the
			// middle of a month holding a fact recorded months later: the approval dated
			// 03-01 recorded 07-02, the implementation dated 01-20 recorded 02-01.
			{"2022-03-02", "", 1, 1, 0, 0, 0, 0, 4 * tỷ, 4 * tỷ, 4 * tỷ, 2 * tỷ},
			{"2023-01-20", "", 0, 0, 1, 1, 0, 100, 4 * tỷ, 4 * tỷ, 4 * tỷ, 0},
		} {
			q := Query{AsOf: day(w.asOf)}
			if w.knownAt != "" {
				q.KnownAt = at(w.knownAt)
			}
			what := fmt.Sprintf("%s: as of %s known at %q", stage, w.asOf, w.knownAt)
			c, err := reports.Completion(context.Background(), "", "unit", q)
			if err != nil {
				t.Fatal(err)
			}
			got := []int64{c.Total.Proposed, c.Total.Funded, c.Total.Implemented, c.Total.Cancelled, c.Total.Overdue}
			if wantC := []int64{w.proposed, w.funded, w.implemented, w.cancelled, w.od}; !reflect.DeepEqual(got, wantC) {
				t.Errorf("%s: proposed, funded, implemented, cancelled, overdue = %v, want %v", what, got, wantC)
			}
			var progress float64
			for _, row := range c.Rows {
				if row.Key == "SO-YT" {
					progress = row.AverageProgress
				}
			}
			if progress != w.progress {
				t.Errorf("%s: progress of A %v, want %v", what, progress, w.progress)
			}
			g, err := reports.FundingGaps(context.Background(), "unit", q)
			if err != nil {
				t.Fatal(err)
			}
			var a FundingGapRow
			for _, row := range g.Rows {
				if row.Key == "SO-YT" {
					a = row
				}
			}
			if a.Requested != w.requested || a.Approved != w.approved {
				t.Errorf("%s: A requested %d approved %d, want %d and %d", what, a.Requested, a.Approved, w.requested, w.approved)
			}
			bySource, err := reports.FundingGaps(context.Background(), "source", q)
			if err != nil {
				t.Fatal(err)
			}
			sources := map[string]int64{}
			for _, row := range bySource.Rows {
				sources[row.Key] = row.Requested
			}
			if sources["oda"] != w.oda || sources["enterprise"] != w.enterprise {
				t.Errorf("%s: requested by source %v, want oda %d and enterprise %d", what, sources, w.oda, w.enterprise)
			}
			// And the same as a replay of the events filtered the same way, row for row.
			want := replay(t, recs, q, now)
			for _, by := range []string{"unit", "source", "year"} {
				got, _ := reports.FundingGaps(context.Background(), by, q)
				same(t, what+" funding gaps by "+by, got, want.gaps(by))
			}
			gotC, _ := reports.Completion(context.Background(), "", "unit_kind", q)
			same(t, what+" completion by unit kind", gotC, want.completion("unit_kind"))
		}
		// Every day of the history as known now (the sums of every recording moment, per month
		// and day), against the replay.
		for d := pjtest.Day("2021-12-30"); !d.After(pjtest.Day("2023-03-01")); d = d.AddDays(1) {
			q := Query{AsOf: d}
			want := replay(t, recs, q, now)
			got, _ := reports.Completion(context.Background(), "", "sector", q)
			same(t, fmt.Sprintf("%s: completion as of %s", stage, d), got, want.completion("sector"))
			gotG, _ := reports.FundingGaps(context.Background(), "source", q)
			same(t, fmt.Sprintf("%s: funding gaps as of %s", stage, d), gotG, want.gaps("source"))
		}
		// Every day of the history as known at every moment of it, against the replay.
		for d := pjtest.Day("2022-01-01"); !d.After(pjtest.Day("2023-03-01")); d = d.AddDays(9) {
			for _, s := range steps {
				for _, k := range []time.Time{at(s.at).Add(-time.Second), at(s.at)} {
					q := Query{AsOf: d, KnownAt: k}
					want := replay(t, recs, q, now)
					got, _ := reports.Completion(context.Background(), "", "sector", q)
					same(t, fmt.Sprintf("%s: completion as of %s known at %s", stage, d, k.Format(time.RFC3339)), got, want.completion("sector"))
					gotG, _ := reports.FundingGaps(context.Background(), "source", q)
					same(t, fmt.Sprintf("%s: funding gaps as of %s known at %s", stage, d, k.Format(time.RFC3339)), gotG, want.gaps("source"))
				}
			}
		}
	}
	check("one event per batch")
	live := pjtest.Tables(t, db.Pool)
	var closed int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(DISTINCT bucket) FROM pj_group_delta_sums`).Scan(&closed); err != nil {
		t.Fatal(err)
	}
	if closed < 3 {
		t.Errorf("%d buckets with sums; the test wants reports to read several", closed)
	}
	if _, err := r.RebuildAll(context.Background(), ps, nil); err != nil {
		t.Fatal(err)
	}
	check("rebuilt in one batch")
	if rebuilt := pjtest.Tables(t, db.Pool); !reflect.DeepEqual(live, rebuilt) {
		for i := range min(len(live), len(rebuilt)) {
			if live[i] != rebuilt[i] {
				t.Fatalf("row %d differs:\n live    %s\n rebuilt %s", i, live[i], rebuilt[i])
			}
		}
		t.Fatalf("live has %d rows, rebuilt %d", len(live), len(rebuilt))
	}
}
