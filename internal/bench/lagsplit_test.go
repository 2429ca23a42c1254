package bench

import (
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/projections/projector"
)

// An event's lag is split into parts that add up to it: the append, the wait for the
// follower's next read, the reads that missed it (hidden by the fence, or past a full read's
// batch size), its read, the lead's connection and its batch's transaction.
func TestLagSplitAddsUp(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	ms := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }
	s := sent{at: ms(0), took: 4 * time.Millisecond} // committed and answered at 4 ms
	reads := []eventstore.Read{
		{Start: ms(1), End: ms(2), Events: 3},   // before the append returned
		{Start: ms(10), End: ms(11)},            // after it: missed it (the fence)
		{Start: ms(20), End: ms(21)},            // missed it again
		{Start: ms(30), End: ms(32), Events: 5}, // its read
	}
	a := applied{at: ms(50), read: reads[3], batch: projector.Batch{Began: ms(32), Locked: ms(33), Committed: ms(50),
		Steps: projector.Steps{Lock: time.Millisecond, Apply: []time.Duration{14 * time.Millisecond}, Commit: 2 * time.Millisecond}}}
	sp := split(s, a, reads)
	want := lagSplit{total: 50 * time.Millisecond, append: 4 * time.Millisecond, queued: 6 * time.Millisecond,
		hidden: 20 * time.Millisecond, misses: 2, read: 2 * time.Millisecond, lead: time.Millisecond, tx: 17 * time.Millisecond,
		steps: a.batch.Steps}
	if sp.total != want.total || sp.append != want.append || sp.queued != want.queued || sp.hidden != want.hidden ||
		sp.misses != want.misses || sp.limited || sp.read != want.read || sp.lead != want.lead || sp.tx != want.tx {
		t.Fatalf("split = %+v, want %+v", sp, want)
	}
	if sum := sp.append + sp.queued + sp.hidden + sp.read + sp.lead + sp.tx; sum != sp.total {
		t.Errorf("the parts add up to %s, the lag is %s", sum, sp.total)
	}
	// A full read in between: the event was past the batch size, not hidden.
	reads[2].Full, reads[2].Events = true, 2000
	if sp := split(s, a, reads); !sp.limited {
		t.Errorf("a full read in between is not told apart: %+v", sp)
	}
	sum := summarise([]lagSplit{sp, {total: time.Millisecond, append: time.Millisecond}}, []string{"items"})
	if sum.All.Events != 2 || sum.Slowest.Events != 1 || sum.Worst.Total != 50 || sum.All.HiddenEvents != 1 ||
		len(sum.Worst.TxApply) != 1 || sum.Worst.TxApply[0] != 14 {
		t.Errorf("summary = %+v", sum)
	}
	// The follower read or applied from 30 to 50 ms of the 50 ms since the start.
	if b := busy([]applied{a}, ms(0)); b < 39.9 || b > 40.1 {
		t.Errorf("busy = %.1f%%, want 40%%", b)
	}
}
