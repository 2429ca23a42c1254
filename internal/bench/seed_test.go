package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/bench"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// A generate run without a seed takes one from the clock and says which (in its JSON and its
// line), the same way appended or bulk: given again, that seed writes the same lives.
func TestGenerateSaysItsSeed(t *testing.T) {
	ctx := context.Background()
	lives := func(bulk bool, seed uint64) (uint64, []string) {
		t.Helper()
		db := pgtest.New(t)
		s, err := eventstore.New(db.Pool, eventstore.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		o := bench.GenerateOptions{Events: 300, Writers: 1, Seed: seed, Chunk: 100}
		var res bench.Result
		if bulk {
			res, err = bench.GenerateBulk(ctx, db.Pool, s, o)
		} else {
			res, err = bench.Generate(ctx, s, o)
		}
		if err != nil {
			t.Fatal(err)
		}
		var js bytes.Buffer
		if err := res.Print(&js, true); err != nil {
			t.Fatal(err)
		}
		var out struct{ Seed uint64 }
		if err := json.Unmarshal(js.Bytes(), &out); err != nil || out.Seed == 0 || (seed != 0 && out.Seed != seed) {
			t.Fatalf("generate (bulk %v, seed %d) says seed %d (%v): %s", bulk, seed, out.Seed, err, js.String())
		}
		rows, err := db.Pool.Query(ctx, `SELECT event_type || ' ' || occurred_on FROM events ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		var evs []string
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
		return out.Seed, evs
	}
	for _, bulk := range []bool{false, true} {
		seed, first := lives(bulk, 0)
		time.Sleep(time.Millisecond) // another clock reading, were the seed taken again
		if _, again := lives(bulk, seed); !slices.Equal(first, again) {
			t.Errorf("bulk %v: seed %d given again wrote other lives (%d and %d events)", bulk, seed, len(first), len(again))
		}
	}
}
