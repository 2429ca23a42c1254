package eventstore

import (
	"context"
	"sync"
	"testing"
	"time"
)

// SubscribeConfig.Observe is told of every read, in order, before its batch reaches the
// handler: also of the reads that find nothing because an older transaction still holds the
// fence (what the lag benchmark counts as "hidden"), and a read as long as the batch size is
// marked full.
func TestSubscribeObservesEveryRead(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	var (
		mu      sync.Mutex
		reads   []Read
		handled = make(chan []Record, 10)
	)
	subCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(subCtx, Start, SubscribeConfig{BatchSize: 2, Observe: func(r Read) {
			mu.Lock()
			reads = append(reads, r)
			mu.Unlock()
		}}, func(_ context.Context, b []Record) error {
			mu.Lock()
			last := reads[len(reads)-1]
			mu.Unlock()
			if last.Events != len(b) {
				t.Errorf("the handler got %d events, the read observed before it %d", len(b), last.Events)
			}
			handled <- b
			return nil
		})
	}()
	// An older transaction holds the fence: B, committed after it, is hidden from the reads.
	txA, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback(ctx)
	if _, err := s.Append(InTx(ctx, txA), "observe-a", NoStream, []Event{ev("a.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	committedB := time.Now()
	if _, err := s.Append(ctx, "observe-b", NoStream, []Event{ev("b.v1", 2)}); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-handled:
		t.Fatalf("while A is open the subscription handled %d events", len(b))
	case <-time.After(300 * time.Millisecond):
	}
	mu.Lock()
	var hidden int
	for _, r := range reads {
		if r.Start.After(committedB) && r.Events == 0 {
			hidden++
		}
		if r.End.Before(r.Start) {
			t.Errorf("a read ends (%s) before it starts (%s)", r.End, r.Start)
		}
	}
	mu.Unlock()
	if hidden == 0 {
		t.Fatalf("no empty read observed after B committed behind A; reads: %+v", reads)
	}
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b := <-handled
	if len(b) != 2 {
		t.Fatalf("after A commits the subscription handled %d events at once, want A and B", len(b))
	}
	mu.Lock()
	var full *Read
	for i := range reads {
		if reads[i].Events == 2 {
			full = &reads[i]
		}
	}
	mu.Unlock()
	if full == nil || !full.Full {
		t.Errorf("the read of 2 events with a batch size of 2 is not marked full: %+v", full)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
