package eventstore

import (
	"context"
	"runtime"
	"testing"
)

// A follower's read asks for up to 1,000 events and mostly finds a few: it does not make
// 1,000 records ready each time (~280 KB of garbage a read, a third of serve's allocations
// under 16 command clients).
// Not parallel: the allocation count is the process's.
func TestReadAllAllocatesForWhatItFinds(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.Append(ctx, "project-r", NoStream, []Event{ev("a", 1), ev("a", 2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAll(ctx, Start, 1000); err != nil { // warm the connection and the statement
		t.Fatal(err)
	}
	const reads = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range reads {
		recs, err := s.ReadAll(ctx, Start, 1000)
		if err != nil || len(recs) != 2 {
			t.Fatalf("%d records, %v", len(recs), err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / reads; per > 64<<10 {
		t.Errorf("a read of 2 events with limit 1,000 allocates %d bytes, want under 64 KiB", per)
	}
}
