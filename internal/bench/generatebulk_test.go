package bench_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/bench"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
)

// The bulk generator writes, with COPY, the rows Append would have written for the same lives:
// the store verifies clean, and a rebuild of it answers every report exactly as a rebuild of
// the same lives appended one by one does. Both stores' lives start from 2022-01-01 to a month
// before today and hold no fact after today.
func TestGenerateBulkIsAStoreLikeAppended(t *testing.T) {
	ctx := context.Background()
	const events, seed = 3000, 42
	type store struct {
		db    *pgtest.DB
		store *eventstore.Store
	}
	make := func(bulk bool) store {
		db := pgtest.New(t)
		s, err := eventstore.New(db.Pool, eventstore.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		o := bench.GenerateOptions{Events: events, Writers: 1, Seed: seed, Chunk: 700}
		var res bench.Result
		if bulk {
			res, err = bench.GenerateBulk(ctx, db.Pool, s, o)
		} else {
			res, err = bench.Generate(ctx, s, o)
		}
		if err != nil || res.Events < events || res.Events > events+10 {
			t.Fatalf("generate (bulk %v): %d events, %v", bulk, res.Events, err)
		}
		rep, err := s.Verify(ctx, nil)
		if err != nil || len(rep.Problems) > 0 || rep.Events != int64(res.Events) {
			t.Fatalf("verify (bulk %v): %d events, problems %v, %v", bulk, rep.Events, rep.Problems, err)
		}
		runner, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: s, Projections: readmodel.All()})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := runner.RebuildAll(ctx, readmodel.All(), nil); err != nil || n != int64(res.Events) {
			t.Fatalf("rebuild (bulk %v): %d events, %v", bulk, n, err)
		}
		return store{db, s}
	}
	appended, bulk := make(false), make(true)

	var first, last time.Time
	if err := bulk.db.Pool.QueryRow(ctx, `SELECT min(occurred_on), max(occurred_on) FROM events`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	today := civil.Of(time.Now())
	if civil.Of(first).Before(civil.Date{Year: 2022, Month: 1, Day: 1}) || today.Before(civil.Of(last)) ||
		civil.Of(last).Before(today.AddDays(-120)) {
		t.Errorf("facts from %s to %s, want from 2022-01-01 to within 120 days before today %s", first, last, today)
	}

	reportsOf := func(s store) map[string]any {
		r := projections.NewReports(s.db.Pool, nil, time.UTC)
		out := map[string]any{}
		for _, q := range []projections.Query{{}, {AsOf: civil.Date{Year: 2024, Month: 6, Day: 30}}, {AsOf: civil.Date{Year: 2022, Month: 12, Day: 31}}} {
			for _, g := range []string{"unit", "source", "year"} {
				rep, err := r.FundingGaps(ctx, g, q)
				if err != nil {
					t.Fatal(err)
				}
				out["gaps "+g+" "+q.AsOf.String()] = rep
			}
			for _, g := range []string{"unit", "sector"} {
				mc, err := r.ModelCounts(ctx, g, q)
				if err != nil {
					t.Fatal(err)
				}
				c, err := r.Completion(ctx, "", g, q)
				if err != nil {
					t.Fatal(err)
				}
				out["counts "+g+" "+q.AsOf.String()], out["completion "+g+" "+q.AsOf.String()] = mc, c
			}
		}
		return out
	}
	a, b := reportsOf(appended), reportsOf(bulk)
	for k := range a {
		ja, _ := json.Marshal(a[k])
		jb, _ := json.Marshal(b[k])
		if string(ja) != string(jb) {
			t.Errorf("%s: appended one by one\n%s\nbulk\n%s", k, ja, jb)
		}
	}
	if ja, _ := json.Marshal(a["gaps unit "]); len(ja) < 200 {
		t.Errorf("the funding gaps today are nearly empty: %s", ja)
	}
}
