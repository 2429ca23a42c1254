package eventstore

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// ChainedOn appends on the head hash the caller names (Result.Head of its own last append) and
// the database still decides: a stale hash, or a stream that moved on, appends nothing and is a
// *ConflictError, with no second try from the database's head. Result.RecordedAt is the
// recorded time a read gives back.
func TestAppendChainedOn(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	other, err := New(s.pool, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	ctx := context.Background()
	first, err := s.Append(ctx, "project-c", NoStream, []Event{ev("a", 1), ev("a", 2)})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := s.ReadStream(ctx, "project-c", 0)
	if len(first.Head) == 0 || !recs[1].Metadata.RecordedAt.Equal(first.RecordedAt) {
		t.Fatalf("result head %x recorded %s, the stored event's recorded %s", first.Head, first.RecordedAt, recs[1].Metadata.RecordedAt)
	}
	// The right head: appended, and chained as Verify expects.
	second, err := other.Append(ctx, "project-c", 2, []Event{ev("a", 3)}, ChainedOn(first.Head))
	if err != nil {
		t.Fatalf("chained on the right head: %v", err)
	}
	if bytes.Equal(second.Head, first.Head) || second.ToVersion != 3 {
		t.Errorf("second result %+v", second)
	}
	// A wrong hash at the right version: nothing appended.
	_, err = s.Append(ctx, "project-c", 3, []Event{ev("a", 4)}, ChainedOn(first.Head))
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Actual != 3 {
		t.Errorf("chained on a stale head at the stream's version: %v, want a conflict at 3", err)
	}
	// A stream that moved on: nothing appended.
	if _, err := s.Append(ctx, "project-c", 2, []Event{ev("a", 4)}, ChainedOn(first.Head)); !errors.Is(err, ErrConflict) {
		t.Errorf("chained on version 2 of a stream at 3: %v, want a conflict", err)
	}
	if recs, _ := s.ReadStream(ctx, "project-c", 0); len(recs) != 3 {
		t.Errorf("%d events, want 3", len(recs))
	}
	rep, err := s.Verify(ctx, nil)
	if err != nil || len(rep.Problems) > 0 {
		t.Errorf("verify: %+v %v", rep, err)
	}
}
