package projections

import (
	"context"
	"testing"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestPickQuadrant: the quadrant of the day's month read row by row is the one expected to
// hold the fewest rows: few days up to as_of and few rows recorded before known_at's bucket
// read those (A); late in the month, the days after it (C, D); known_at late, the rows recorded
// from its bucket on (B, D). The first bucket has nothing before it: A, which is empty.
func TestPickQuadrant(t *testing.T) {
	for _, c := range []struct {
		day           string
		bucket        int
		before, total int64
		want          byte
	}{
		{"2026-09-03", 5, 100, 1000, 'A'},
		{"2026-09-03", 5, 900, 1000, 'B'},
		{"2026-09-28", 5, 100, 1000, 'C'},
		{"2026-09-28", 5, 900, 1000, 'D'},
		{"2026-09-15", 5, 400, 1000, 'A'}, // 15 of 30 days: A and C weigh the same; A needs no sums
		{"2026-09-28", 0, 0, 1000, 'A'},
		{"2026-09-28", 3, 0, 0, 'A'},
	} {
		d, err := civil.Parse(c.day)
		if err != nil {
			t.Fatal(err)
		}
		if got := pickQuadrant(d, c.bucket, c.before, c.total); got != c.want {
			t.Errorf("%s, bucket %d, %d of %d facts before it: quadrant %c, want %c", c.day, c.bucket, c.before, c.total, got, c.want)
		}
	}
}

// TestReportBatchRunsSerial: the queries of a report's batch run without parallel workers
// and without JIT (queueSerial), and the settings end with the batch: the pooled connection
// keeps its own for whatever runs on it next. (On the 10 M store two parallel workers cost
// a report known at a past moment more than its work.)
func TestReportBatchRunsSerial(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	show := `SELECT current_setting('max_parallel_workers_per_gather') || ' ' || current_setting('jit')`
	var before, inside, after string
	if err := conn.QueryRow(ctx, show).Scan(&before); err != nil {
		t.Fatal(err)
	}
	var b pgx.Batch
	queueSerial(&b)
	b.Queue(show).QueryRow(func(row pgx.Row) error { return row.Scan(&inside) })
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, show).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if inside != "0 off" {
		t.Errorf("inside the batch: parallel workers and jit %q, want \"0 off\"", inside)
	}
	if after != before || after == "0 off" {
		t.Errorf("after the batch: %q, want the connection's own %q back", after, before)
	}
}
