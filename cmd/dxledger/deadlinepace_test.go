package main

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

var dueGauge = regexp.MustCompile(`(?m)^dxledger_deadlines_due_items (\d+)`)

// A store that lived for years has many items due at once; serve's deadline manager flags at
// most deadline_flags_per_tick of them a tick (here 5), and /metrics says how many are still
// to look at.
func TestDeadlineCatchUpIsPaced(t *testing.T) {
	db := pgtest.New(t)
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL}
	ctx := context.Background()
	if err := run(ctx, []string{"bench", "generate", "--events", "3000", "--seed", "11", "--writers", "2"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The read model the ticks ask, up to date before serve starts (its first tick is 5 s on).
	if err := run(ctx, []string{"rebuild"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	flags := func() int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE event_type LIKE '%.flagged_no_progress.v1'
			OR event_type LIKE '%.became_overdue.v1'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := flags()
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0", "--deadline-flags-per-tick", "5"}, env)
	// The first tick comes 5 s after the start; the gauge is set at its end.
	var due int
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, body := get(t, base+"/metrics", "")
		if m := dueGauge.FindStringSubmatch(body); m != nil && m[1] != "0" {
			due, _ = strconv.Atoi(m[1])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dxledger_deadlines_due_items not above 0 within 60 s; flags appended: %d", flags()-before)
		}
	}
	if n := flags() - before; n != 5 {
		t.Errorf("the first tick appended %d flags, want 5 (deadline_flags_per_tick)", n)
	}
	if due < 5 {
		t.Errorf("dxledger_deadlines_due_items %d after the first tick, want the many items left", due)
	}
	t.Logf("%d flags before serve, 5 by the first tick, %d items still to look at", before, due)
}
