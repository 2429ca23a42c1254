package bench_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/bench"
	"github.com/dxledger/dxledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Every store benchmark runs, small, against a real PostgreSQL and prints its line and its
// JSON (the figures are for BENCHMARKS.md, not for a test).
func TestBenchmarksRun(t *testing.T) {
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	check := func(name string, res bench.Result, err error, wantEvents int, line string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Events < wantEvents {
			t.Errorf("%s: %d events, want at least %d", name, res.Events, wantEvents)
		}
		var text, js strings.Builder
		if err := res.Print(&text, false); err != nil || !regexp.MustCompile(line).MatchString(text.String()) {
			t.Errorf("%s prints %q (%v), want it to match %s", name, text.String(), err, line)
		}
		var back bench.Result
		if err := res.Print(&js, true); err != nil || json.Unmarshal([]byte(js.String()), &back) != nil || back.Benchmark != res.Benchmark {
			t.Errorf("%s --json: %q (%v)", name, js.String(), err)
		}
	}
	res, err := bench.Append(ctx, store, bench.AppendOptions{Writers: 4, Events: 200})
	check("append", res, err, 200, `^append: 200 events, 4 writers in [0-9.]+s: \d+ events/s, p50 [0-9.]+ ms, p99 [0-9.]+ ms\ngroup commit: \d+ transactions, [0-9.]+ appends per transaction, 0 groups retried one by one\n$`)
	res, err = bench.Read(ctx, store, bench.ReadOptions{Events: 500, Batch: 100})
	check("read", res, err, 500, `^read: 500 events in .* p99`)
	res, err = bench.Generate(ctx, store, bench.GenerateOptions{Events: 1500, Writers: 2})
	check("generate", res, err, 800, `^generate: \d+ events in`)
	start := time.Now()
	res, err = bench.Lag(ctx, db.Pool, store, bench.LagOptions{Rate: 20, Seconds: 1})
	check("lag", res, err, 20, `^lag, FollowAll \(units, items, indicators\): 20 events sent in [0-9.]+s \(\d+/s\) after 2 s of warm-up: visible after p50 [0-9.]+ ms, p99 [0-9.]+ ms, max [0-9.]+ ms\nof which the append itself: p50 [0-9.]+ ms, p99 [0-9.]+ ms\nbatches: \d+.*; the follower busy \d+% of the time\n(?s:.*)where the time went .*\n  every event +20 events, +[0-9.]+ ms = append [0-9.]+ \+ queued [0-9.]+ \+ hidden [0-9.]+ \[\d+\] \+ past the limit [0-9.]+ \+ read [0-9.]+ \+ lead [0-9.]+ \+ tx [0-9.]+ \(lock [0-9.]+, units [0-9.]+, items [0-9.]+, indicators [0-9.]+, commit [0-9.]+\)\n  slowest 1%`)
	if time.Since(start) > 30*time.Second {
		t.Errorf("lag took %s", time.Since(start))
	}
	res, err = bench.CatchUp(ctx, db.Pool, store, bench.CatchUpOptions{Events: 100, Batch: 10})
	check("catchup", res, err, 100, `^catch-up, FollowAll catching up, batches of 10: 100 events applied in [0-9.]+s \(\d+/s, [0-9.]+ ms of wall time per event\)\nbatches: 10, 10.0 events each; transaction p50 [0-9.]+ ms`)

	timings, err := bench.Reports(ctx, db.Pool, bench.ReportsOptions{Iterations: 2, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := timings.Print(&text, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if len(lines) != len(timings) || len(timings) < 10 || !regexp.MustCompile(`^report funding-gaps\?group_by=unit +2 calls: p50 [0-9.]+ ms, p99 [0-9.]+ ms; first [0-9.]+ ms, next max [0-9.]+ ms$`).MatchString(lines[0]) {
		t.Errorf("reports print:\n%s", text.String())
	}
}
