package projections

import (
	"context"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/readmodel"
)

// The cache answers from memory while the checkpoints stand still, and never after they move:
// a row changed behind the projections' back is not seen (the answer came from memory), and
// a new event is (the answer is not stale).
func TestCachedReportsFollowTheCheckpoints(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pjtest.SeedUnits(t, store)
	propose := func(id string, cost int64) {
		pjtest.AppendItem(t, store, item.Project, id, 0, &item.Proposed{Fact: item.Fact{On: pjtest.Day("2023-02-01")}, ID: id, Kind: item.Project,
			Title: "Dự án " + id, UnitCode: "SO-YT", Pillar: item.Society, Sector: "health", EstimatedCost: money.VND(cost),
			StartDate: pjtest.Day("2023-03-01"), EndDate: pjtest.Day("2030-12-31"), WorkflowVersion: 1, Stage: item.StageProposed})
	}
	propose("p1", 1_000_000_000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runner := newRunner(t, db.Pool, store, readmodel.All()...)
	done := make(chan error, 1)
	go func() { done <- runner.FollowAll(ctx) }()
	pjtest.CaughtUp(t, runner, store)

	reports := NewReports(db.Pool, time.Now, time.UTC)
	c := NewCached(reports)
	gap := func(r interface {
		FundingGaps(context.Context, string, Query) (FundingGapReport, error)
	}) int64 {
		t.Helper()
		rep, err := r.FundingGaps(context.Background(), "unit", Query{})
		if err != nil {
			t.Fatal(err)
		}
		return *rep.Total.Gap
	}
	if got := gap(c); got != 1_000_000_000 {
		t.Fatalf("gap %d, want 1,000,000,000", got)
	}
	// Behind the projections' back (no checkpoint moves): the cache still answers from memory.
	if _, err := db.Pool.Exec(context.Background(), `UPDATE pj_group_current SET gap_vnd = gap_vnd + 7`); err != nil {
		t.Fatal(err)
	}
	if got, fresh := gap(c), gap(reports); got != 1_000_000_000 || fresh != 1_000_000_007 {
		t.Errorf("cached %d, fresh %d; want the cached answer unchanged and the fresh one 7 higher", got, fresh)
	}
	// A new event moves the checkpoints: the next answer is read again.
	propose("p2", 500_000_000)
	pjtest.CaughtUp(t, runner, store)
	if got := gap(c); got != 1_500_000_007 {
		t.Errorf("after a new project: cached gap %d, want 1,500,000,007", got)
	}
	cancel()
	<-done
}
