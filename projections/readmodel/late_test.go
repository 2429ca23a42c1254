package readmodel

import (
	"context"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// A batch that brings a row recorded in a bucket already closed (a transaction that committed
// after later ones) can bring a closed bucket's sums to zero: that row goes, by its key, as a
// rebuild never writes it. Here a project proposed and then cancelled within the month, the
// cancellation recorded before the second bucket's end but applied after it closed: the
// second bucket's rows of the project's "proposed" stage sum to zero.
func TestLateRowsBringingClosedSumsToZeroGo(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	rec := func(stream string, version int64, kind item.Kind, e item.Event, at time.Duration) eventstore.Record {
		typ, data, err := item.Encode(kind, e)
		if err != nil {
			t.Fatal(err)
		}
		return eventstore.Record{StreamID: stream, Version: version, Type: typ, Data: data,
			Metadata: eventstore.Metadata{OccurredOn: e.Date().Time(time.UTC), RecordedAt: t0.Add(at)}}
	}
	day := civil.Date{Year: 2026, Month: time.November, Day: 2}
	proposed := func(id string, kind item.Kind, unit string) item.Event {
		return &item.Proposed{Fact: item.Fact{On: day}, ID: id, Kind: kind, Title: "Đề án " + id, UnitCode: unit,
			Pillar: item.Government, Sector: item.DefaultSectors[0], EstimatedCost: 1_000_000_000, StartDate: day,
			EndDate: day.AddDays(400), WorkflowVersion: 1, Stage: item.StageProposed}
	}
	it := Items{BucketFacts: 1, History: NewHistory(64)} // every fact closes its bucket
	apply := func(batch ...eventstore.Record) {
		t.Helper()
		if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error { return it.Apply(ctx, tx, batch) }); err != nil {
			t.Fatal(err)
		}
	}
	// Bucket 0 holds a's proposal, bucket 1 b's (another kind: no row of b's meets a's).
	apply(rec("project-a", 1, item.Project, proposed("a", item.Project, "SO-YT"), 0))
	apply(rec("model-b", 1, item.Model, proposed("b", item.Model, "SO-TC"), 10*time.Second))
	// a's cancellation, recorded between the two: late for bucket 1, which has closed.
	apply(rec("project-a", 2, item.Project, &item.Cancelled{Fact: item.Fact{On: day.AddDays(3)}, Stage: item.StageCancelled},
		5*time.Second))
	var zero, proposedRows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE `+zeroGroup+`),
			count(*) FILTER (WHERE bucket = 1 AND kind = 'project' AND stage = 'proposed')
		FROM pj_group_delta_sums`).Scan(&zero, &proposedRows); err != nil {
		t.Fatal(err)
	}
	if zero != 0 || proposedRows != 0 {
		t.Errorf("closed buckets' sums: %d rows of zeros, %d rows of bucket 1 for the cancelled project's proposed stage; want none",
			zero, proposedRows)
	}
}
