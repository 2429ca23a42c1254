package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T) (*Store, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	s, err := New(db.Pool, Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, db
}

func ev(typ string, n int) Event {
	return Event{Type: typ, Data: []byte(fmt.Sprintf(`{"n":%d}`, n)), Metadata: Metadata{Actor: "u1", Role: "admin", Unit: "SO-TTTT", RequestID: "req-1"}}
}

func TestAppendAndReadStream(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	day := time.Date(2022, 4, 15, 0, 0, 0, 0, time.UTC)
	e1 := ev("project.proposed.v1", 1)
	e1.Metadata.OccurredOn = day
	res, err := s.Append(ctx, "project-a", NoStream, []Event{e1, ev("project.progress_reported.v1", 2)})
	if err != nil {
		t.Fatal(err)
	}
	if res.FromVersion != 1 || res.ToVersion != 2 || len(res.EventIDs) != 2 || res.Duplicate {
		t.Fatalf("result = %+v, want versions 1..2, two ids, not duplicate", res)
	}
	recs, err := s.ReadStream(ctx, "project-a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("read %d records, want 2", len(recs))
	}
	r := recs[0]
	if r.ID != res.EventIDs[0] || r.Version != 1 || r.Type != "project.proposed.v1" || string(r.Data) != `{"n":1}` {
		t.Errorf("first record = %+v (data %s), want id %s version 1 type project.proposed.v1", r, r.Data, res.EventIDs[0])
	}
	if !r.Metadata.OccurredOn.Equal(day) || r.Metadata.Actor != "u1" || r.Metadata.Role != "admin" || r.Metadata.Unit != "SO-TTTT" || r.Metadata.RequestID != "req-1" {
		t.Errorf("metadata = %+v, want occurred_on %s and the actor/role/unit/request given", r.Metadata, day)
	}
	if r.Metadata.RecordedAt.IsZero() {
		t.Error("recorded_at is zero")
	}
	if got, _ := s.ReadStream(ctx, "project-a", 1); len(got) != 1 || got[0].Version != 2 {
		t.Errorf("ReadStream from 1 = %d records, want only version 2", len(got))
	}
	if v, _ := s.Version(ctx, "project-a"); v != 2 {
		t.Errorf("Version = %d, want 2", v)
	}
	if got, _ := s.ReadStream(ctx, "nope", 0); len(got) != 0 {
		t.Errorf("unknown stream has %d records, want 0", len(got))
	}
}

func TestAppendRefusesBadInput(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	cases := map[string]struct {
		stream string
		events []Event
	}{
		"empty stream": {"", []Event{ev("x.v1", 1)}},
		"no events":    {"s-1", nil},
		"no type":      {"s-1", []Event{{Data: []byte(`{}`)}}},
		"not json":     {"s-1", []Event{{Type: "x.v1", Data: []byte(`{`)}}},
		"bad utf-8":    {"s-1", []Event{{Type: "x.v1", Data: []byte("{\"a\":\"\xff\"}")}}},
	}
	for name, c := range cases {
		_, err := s.Append(ctx, c.stream, AnyVersion, c.events)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	var n int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil || n != 0 {
		t.Errorf("events after refused appends = %d (%v), want 0", n, err)
	}
}

// Invariant 2: two writers with the same expected version — exactly one wins.
func TestConcurrentAppendsOneWinnerPerVersion(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	const writers, rounds = 32, 5
	for round := 0; round < rounds; round++ {
		expected := int64(round)
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			wins      int
			conflicts int
			others    []error
		)
		start := make(chan struct{})
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := s.Append(ctx, "race-1", expected, []Event{ev("race.won.v1", w)})
				mu.Lock()
				defer mu.Unlock()
				var ce *ConflictError
				switch {
				case err == nil:
					wins++
				case errors.As(err, &ce):
					conflicts++
					if ce.Stream != "race-1" || ce.Expected != expected || ce.Actual != expected+1 {
						others = append(others, fmt.Errorf("conflict %+v, want stream race-1 expected %d actual %d", ce, expected, expected+1))
					}
				default:
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 || conflicts != writers-1 || len(others) != 0 {
			t.Fatalf("round %d: %d wins, %d conflicts, other errors %v; want 1 win and %d conflicts", round, wins, conflicts, others, writers-1)
		}
	}
	if v, _ := s.Version(ctx, "race-1"); v != rounds {
		t.Errorf("final version %d, want %d", v, rounds)
	}
}

// Invariant 3: a retried command appends nothing and returns the first answer.
func TestIdempotentRetry(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	first, err := s.Append(ctx, "idem-1", NoStream, []Event{ev("a.v1", 1), ev("a.v1", 2)}, WithCommandID("cmd-1", []byte("fp")))
	if err != nil {
		t.Fatal(err)
	}
	// The stream moves on, then the same command comes back, concurrently, several times.
	if _, err := s.Append(ctx, "idem-1", 2, []Event{ev("b.v1", 3)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]Result, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.Append(ctx, "idem-1", NoStream, []Event{ev("a.v1", 1), ev("a.v1", 2)}, WithCommandID("cmd-1", []byte("fp")))
		}()
	}
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("retry %d: %v", i, errs[i])
		}
		if !r.Duplicate || r.FromVersion != first.FromVersion || r.ToVersion != first.ToVersion ||
			r.EventIDs[0] != first.EventIDs[0] || r.EventIDs[1] != first.EventIDs[1] {
			t.Errorf("retry %d = %+v, want the first result %+v marked duplicate", i, r, first)
		}
	}
	var n int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE stream_id = 'idem-1'").Scan(&n); err != nil || n != 3 {
		t.Errorf("events = %d (%v), want 3", n, err)
	}
	if _, err := s.Append(ctx, "idem-1", AnyVersion, []Event{ev("a.v1", 9)}, WithCommandID("cmd-1", []byte("other"))); !errors.Is(err, ErrCommandReused) {
		t.Errorf("same command id, other fingerprint: err = %v, want ErrCommandReused", err)
	}
	// A command that lost a race is not remembered: its retry may succeed.
	if _, err := s.Append(ctx, "idem-2", 5, []Event{ev("a.v1", 1)}, WithCommandID("cmd-2", nil)); !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want conflict", err)
	}
	if r, err := s.Append(ctx, "idem-2", NoStream, []Event{ev("a.v1", 1)}, WithCommandID("cmd-2", nil)); err != nil || r.Duplicate {
		t.Errorf("retry after conflict = %+v, %v; want a fresh append", r, err)
	}
}

// Invariant 4 at the store: a reader never returns a later-committed event before an earlier
// transaction's, and never skips the earlier one once it commits.
func TestReadAllOutOfOrderCommit(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	if _, err := s.Append(ctx, "before-1", NoStream, []Event{ev("x.v1", 0)}); err != nil {
		t.Fatal(err)
	}
	head := readN(t, s, Start, 1)
	after := head[0].Position

	// A subscription running through it all must see A before B.
	subCtx, stopSub := context.WithCancel(ctx)
	defer stopSub()
	got := make(chan Record, 10)
	go s.Subscribe(subCtx, after, SubscribeConfig{}, func(_ context.Context, b []Record) error {
		for _, r := range b {
			got <- r
		}
		return nil
	})

	txA, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback(ctx)
	if _, err := s.Append(context.WithValue(ctx, txKey{}, txA), "stream-a", NoStream, []Event{ev("a.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "stream-b", NoStream, []Event{ev("b.v1", 2)}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.ReadAll(ctx, after, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 {
		t.Fatalf("while A is open, ReadAll returned %s; want nothing (B is behind A)", recs[0].StreamID)
	}
	select {
	case r := <-got:
		t.Fatalf("while A is open, the subscription delivered %s", r.StreamID)
	case <-time.After(200 * time.Millisecond):
	}
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	recs = readN(t, s, after, 2)
	if extra, _ := s.ReadAll(ctx, recs[len(recs)-1].Position, 10); len(extra) > 0 {
		t.Fatalf("read %v after the two expected", streams(extra))
	}
	if len(recs) != 2 || recs[0].StreamID != "stream-a" || recs[1].StreamID != "stream-b" {
		t.Fatalf("after A commits, ReadAll = %v; want stream-a then stream-b", streams(recs))
	}
	if !recs[0].Position.Less(recs[1].Position) || recs[0].Position.Seq > recs[1].Position.Seq {
		// A took its sequence number first, so both orders agree here.
		t.Errorf("positions %s, %s not increasing", recs[0].Position, recs[1].Position)
	}
	var delivered []Record
	for len(delivered) < 2 {
		select {
		case r := <-got:
			delivered = append(delivered, r)
		case <-time.After(5 * time.Second):
			t.Fatalf("subscription delivered %v, want stream-a and stream-b", streams(delivered))
		}
	}
	if delivered[0].StreamID != "stream-a" || delivered[1].StreamID != "stream-b" {
		t.Errorf("subscription delivered %v, want stream-a then stream-b", streams(delivered))
	}
}

// The harder case: B takes a later sequence number but A's transaction id is smaller. Order is
// by transaction, so B waits for A even though it committed first.
func TestReadAllLaterSeqEarlierTx(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	txA, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback(ctx)
	// A gets its transaction id now, its sequence number only later.
	if _, err := txA.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "stream-b", NoStream, []Event{ev("b.v1", 2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.WithValue(ctx, txKey{}, txA), "stream-a", NoStream, []Event{ev("a.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	if recs, _ := s.ReadAll(ctx, Start, 10); len(recs) != 0 {
		t.Fatalf("while A is open, ReadAll = %v, want nothing", streams(recs))
	}
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	recs := readN(t, s, Start, 2)
	if len(recs) != 2 || recs[0].StreamID != "stream-a" || recs[1].StreamID != "stream-b" {
		t.Fatalf("ReadAll = %v, want stream-a (older transaction) then stream-b", streams(recs))
	}
	if recs[0].Position.Seq < recs[1].Position.Seq {
		t.Errorf("test setup: A's seq %d should be after B's %d", recs[0].Position.Seq, recs[1].Position.Seq)
	}
	// Reading on from B's position never goes back to A.
	if rest, _ := s.ReadAll(ctx, recs[0].Position, 10); len(rest) != 1 || rest[0].StreamID != "stream-b" {
		t.Errorf("ReadAll after A = %v, want only stream-b", streams(rest))
	}
}

// readN reads after pos until n records are visible. Transaction ids are cluster-wide, so a
// short transaction of a test running beside this one can hold the visibility horizon back for
// a moment; correctness never depends on it, only timing.
func readN(t *testing.T, s *Store, pos Position, n int) []Record {
	t.Helper()
	var all []Record
	deadline := time.Now().Add(10 * time.Second)
	for len(all) < n && time.Now().Before(deadline) {
		page, err := s.ReadAll(context.Background(), pos, n-len(all))
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		all = append(all, page...)
		pos = page[len(page)-1].Position
	}
	return all
}

func streams(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.StreamID)
	}
	return out
}

func TestReadAllPagesInOrder(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := s.Append(ctx, fmt.Sprintf("w%d-s", w), int64(i), []Event{ev("x.v1", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var all []Record
	after := Start
	for len(all) < 200 {
		page := readN(t, s, after, min(7, 200-len(all)))
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
	if len(all) != 200 {
		t.Fatalf("read %d events in pages, want 200", len(all))
	}
	seen := map[string]int64{}
	for i, r := range all {
		if i > 0 && !all[i-1].Position.Less(r.Position) {
			t.Fatalf("position %s after %s", r.Position, all[i-1].Position)
		}
		if r.Version != seen[r.StreamID]+1 {
			t.Fatalf("%s: version %d after %d", r.StreamID, r.Version, seen[r.StreamID])
		}
		seen[r.StreamID] = r.Version
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		for v := 0; v < 4; v++ {
			if _, err := s.Append(ctx, fmt.Sprintf("p-%d", i), int64(v), []Event{ev("x.v1", v)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	rep, err := s.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || rep.Events != 12 || rep.Streams != 3 {
		t.Fatalf("untouched store: %+v, want 12 events in 3 streams and no problems", rep)
	}

	// The append-only trigger refuses an ordinary UPDATE...
	if _, err := db.Pool.Exec(ctx, `UPDATE events SET data = '{"n": 999}' WHERE stream_id = 'p-1' AND version = 2`); err == nil {
		t.Fatal("UPDATE of an event succeeded; want the append-only trigger to refuse it")
	}
	// ...so a determined hand disables it first.
	tamper := []string{
		`ALTER TABLE events DISABLE TRIGGER events_append_only`,
		`UPDATE events SET data = '{"n": 999}' WHERE stream_id = 'p-1' AND version = 2`,
		`UPDATE events SET actor = 'someone-else' WHERE stream_id = 'p-2' AND version = 4`,
		`DELETE FROM events WHERE stream_id = 'p-0' AND version = 3`,
		`UPDATE events SET hash = sha256(hash) WHERE stream_id = 'p-2' AND version = 2`,
	}
	for _, q := range tamper {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rep, err = s.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, fmt.Sprintf("%s/%d", p.StreamID, p.Version))
	}
	want := []string{"p-0/4", "p-1/2", "p-2/2", "p-2/3", "p-2/4"}
	// p-0/4: its predecessor is gone; p-1/2 and p-2/4: changed; p-2/2: its hash was replaced,
	// which also breaks the link from p-2/3.
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problems at %v, want %v\n%v", got, want, rep.Problems)
	}
}

func TestPositionRoundTrip(t *testing.T) {
	t.Parallel()
	p := Position{TxID: 1 << 40, Seq: 12345}
	q, err := ParsePosition(p.String())
	if err != nil || q != p {
		t.Errorf("ParsePosition(%q) = %v, %v; want %v", p.String(), q, err, p)
	}
	for _, bad := range []string{"", "1", "a/1", "1/b", "1/-2", "-1/2"} {
		if _, err := ParsePosition(bad); err == nil {
			t.Errorf("ParsePosition(%q) accepted", bad)
		}
	}
}

func FuzzParsePosition(f *testing.F) {
	for _, s := range []string{"0/0", "123/456", "18446744073709551615/9223372036854775807", "1/", "/1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePosition(s)
		if err != nil {
			return
		}
		q, err := ParsePosition(p.String())
		if err != nil || q != p {
			t.Fatalf("%q parsed to %v, which does not round-trip: %v %v", s, p, q, err)
		}
	})
}

// AnyVersion appends never conflict, however many writers share the stream.
func TestAnyVersionUnderContention(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for w := 0; w < 50; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Append(context.Background(), "busy-1", AnyVersion, []Event{ev("x.v1", w)}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("AnyVersion append: %v", err)
	}
	if v, _ := s.Version(context.Background(), "busy-1"); v != 50 {
		t.Errorf("version %d, want 50", v)
	}
}

// Another process's append wakes a subscriber through LISTEN/NOTIFY, long before its poll.
func TestSubscribeWakesOnNotify(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	reader, err := New(db.Pool, Config{PollInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	writer, err := New(db.Pool, Config{}) // another Store: its appends do not wake reader locally
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan time.Time, 1)
	go reader.Subscribe(ctx, Start, SubscribeConfig{}, func(_ context.Context, b []Record) error {
		got <- time.Now()
		return nil
	})
	time.Sleep(500 * time.Millisecond) // the reader has read the empty store and waits
	sent := time.Now()
	if _, err := writer.Append(ctx, "notify-1", NoStream, []Event{ev("x.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-got:
		if d := at.Sub(sent); d > 10*time.Second {
			t.Errorf("delivered after %v", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the subscriber was not woken: no NOTIFY, and its poll is a minute away")
	}
}

// Every append answers with the global position of its last event: what a caller passes on
// to read its own write (API.md, Dxledger-Position). A duplicate answers with none.
func TestAppendAnswersItsPosition(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := t.Context()
	one, err := s.Append(ctx, "s-1", NoStream, []Event{ev("a", 1)})
	if err != nil {
		t.Fatal(err)
	}
	three, err := s.Append(ctx, "s-2", NoStream, []Event{ev("a", 1), ev("b", 2), ev("c", 3)}, WithCommandID("cmd-1", []byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	recs := readN(t, s, Start, 4)
	if one.Position != recs[0].Position || three.Position != recs[3].Position {
		t.Errorf("positions %v and %v, want %v (first event) and %v (last of the second append)",
			one.Position, three.Position, recs[0].Position, recs[3].Position)
	}
	again, err := s.Append(ctx, "s-2", NoStream, []Event{ev("a", 1), ev("b", 2), ev("c", 3)}, WithCommandID("cmd-1", []byte{1}))
	if err != nil || !again.Duplicate || again.Position != Start {
		t.Errorf("duplicate: %+v, %v; want Duplicate with no position", again, err)
	}
	head, err := s.LastCommitted(ctx)
	if err != nil || three.Position.Less(head) || head.Less(three.Position) {
		t.Errorf("head %v, %v; want %v", head, err, three.Position)
	}
}

// ReadPrefixSince hands out every event of the category once across calls, a transaction
// that commits late included: it reads up to the oldest transaction still running, and goes
// on from there. (The horizon is the cluster's: another test's transaction may hold it back,
// so an event may come a call later, never twice and never lost.)
func TestReadPrefixSinceSkipsNothing(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	from, err := s.Horizon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "unit-a", NoStream, []Event{ev("unit.registered.v1", 1)}); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := s.Append(InTx(ctx, tx), "unit-late", NoStream, []Event{ev("unit.registered.v1", 2)}); err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"unit-c", "project-x"} {
		if _, err := s.Append(ctx, stream, NoStream, []Event{ev("x.v1", 3)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	read := func() {
		t.Helper()
		recs, to, err := s.ReadPrefixSince(ctx, "unit-", from)
		if err != nil {
			t.Fatal(err)
		}
		if to < from {
			t.Fatalf("the horizon went back from %d to %d", from, to)
		}
		for _, r := range recs {
			got = append(got, r.StreamID)
		}
		from = to
	}
	for range 20 {
		read()
		time.Sleep(10 * time.Millisecond)
	}
	if slices.Contains(got, "unit-late") || slices.Contains(got, "unit-c") {
		t.Fatalf("while a transaction before unit-c runs: %v, want neither unit-late nor unit-c", got)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(got) < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		read()
	}
	read() // and nothing more
	slices.Sort(got)
	if strings.Join(got, ",") != "unit-a,unit-c,unit-late" {
		t.Fatalf("read %v, want unit-a, unit-c and unit-late each once", got)
	}
}
