package eventstore

import (
	"context"
	"errors"
	"testing"
)

// Issue 13 point 3: a database that is behind the head cache (a restore under a running
// server, a failover to an asynchronous standby) decides the append, not the cache: no gap in
// the versions, one conflict with the database's head, and the next append on that head
// succeeds (no 409 forever).
func TestDatabaseBehindTheCache(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	if _, err := s.Append(ctx, "behind", NoStream, []Event{ev("a.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "behind", 1, []Event{ev("a.v1", 2)}); err != nil {
		t.Fatal(err)
	}
	// The cache holds version 2; the database loses it (as an older backup restored under the
	// server would).
	for _, q := range []string{`ALTER TABLE events DISABLE TRIGGER events_append_only`,
		`DELETE FROM events WHERE stream_id = 'behind' AND version = 2`,
		`ALTER TABLE events ENABLE TRIGGER events_append_only`} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Append(ctx, "behind", 2, []Event{ev("a.v1", 3)})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Actual != 1 {
		t.Fatalf("append at the cached head 2 when the database is at 1: err = %v, want a conflict naming version 1", err)
	}
	if _, err := s.Append(ctx, "behind", 1, []Event{ev("a.v1", 3)}); err != nil {
		t.Fatalf("append at the database's head after the conflict: %v", err)
	}
	if _, err := s.Append(ctx, "behind", 2, []Event{ev("a.v1", 4)}); err != nil {
		t.Fatalf("the next append: %v", err)
	}
	recs, err := s.ReadStream(ctx, "behind", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.Version != int64(i+1) {
			t.Errorf("record %d has version %d: a gap", i, r.Version)
		}
	}
	if len(recs) != 3 {
		t.Errorf("%d records, want 3", len(recs))
	}
	rep, err := s.Verify(ctx, nil)
	if err != nil || len(rep.Problems) != 0 {
		t.Errorf("verify: %v %v, want no problems", err, rep.Problems)
	}
}

// A cache entry at the right version but with another hash (a different history restored
// under the server) is not chained on: the append chains on the database's head.
func TestCacheWithAnotherHistory(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	other, err := New(db.Pool, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close) // its LISTEN connection goes back before the pool closes
	if _, err := s.Append(ctx, "hist", NoStream, []Event{ev("a.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`ALTER TABLE events DISABLE TRIGGER events_append_only`,
		`DELETE FROM events WHERE stream_id = 'hist'`,
		`ALTER TABLE events ENABLE TRIGGER events_append_only`} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// Another writer makes a version 1 of its own; s still caches its own version 1.
	if _, err := other.Append(ctx, "hist", NoStream, []Event{ev("b.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "hist", 1, []Event{ev("a.v1", 2)}); err != nil {
		t.Fatalf("append at version 1: %v", err)
	}
	rep, err := s.Verify(ctx, nil)
	if err != nil || len(rep.Problems) != 0 {
		t.Errorf("verify: %v %v, want no problems (the append chained on the cache's stale hash)", err, rep.Problems)
	}
}

// Issue 13 point 5: a command id names one command. Its replay answers that command (a
// create's new stream included); the same id for a command on another existing stream is a
// reuse, never a duplicate.
func TestCommandIDNamesOneCommand(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	for _, st := range []string{"item-a", "item-b"} {
		if _, err := s.Append(ctx, st, NoStream, []Event{ev("x.v1", 0)}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := s.Append(ctx, "item-a", 1, []Event{ev("x.v1", 1)}, WithCommandID("cmd-x", []byte("same form")))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Append(ctx, "item-a", 1, []Event{ev("x.v1", 1)}, WithCommandID("cmd-x", []byte("same form")))
	if err != nil || !again.Duplicate || again.StreamID != "item-a" || again.ToVersion != first.ToVersion {
		t.Errorf("replay on the same stream = %+v, %v; want the first answer", again, err)
	}
	if _, err := s.Append(ctx, "item-b", 1, []Event{ev("x.v1", 1)}, WithCommandID("cmd-x", []byte("same form"))); !errors.Is(err, ErrCommandReused) {
		t.Errorf("same id and fingerprint on another stream: err = %v, want ErrCommandReused", err)
	}
	if _, found, err := s.Previous(ctx, "item-b", "cmd-x", []byte("same form")); !found || !errors.Is(err, ErrCommandReused) {
		t.Errorf("Previous for another stream: found %v, err %v; want ErrCommandReused", found, err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_id = 'item-b'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("item-b has %d events (%v), want 1: nothing appended", n, err)
	}
	// A create: the replay chose a new stream id again, and is answered with the first one.
	created, err := s.Append(ctx, "item-new1", NoStream, []Event{ev("x.v1", 1)}, WithCommandID("cmd-create", []byte("c")))
	if err != nil {
		t.Fatal(err)
	}
	replay, err := s.Append(ctx, "item-new2", NoStream, []Event{ev("x.v1", 1)}, WithCommandID("cmd-create", []byte("c")))
	if err != nil || !replay.Duplicate || replay.StreamID != "item-new1" || replay.EventIDs[0] != created.EventIDs[0] {
		t.Errorf("replay of a create = %+v, %v; want the first answer naming item-new1", replay, err)
	}
	if res, found, err := s.Previous(ctx, "", "cmd-create", []byte("c")); err != nil || !found || res.StreamID != "item-new1" {
		t.Errorf("Previous of a create = %+v %v %v, want item-new1", res, found, err)
	}
}
