package projector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// noted is a projection that writes each event's text into a table of its own, in the
// projection's transaction: an event whose text PostgreSQL refuses (U+0000) fails it for real.
type noted struct {
	name  string
	fails atomic.Int64 // how many more batches fail with a network error before it works
	clean bool         // the cause fixed: U+0000 is dropped before the write
}

func (n *noted) Name() string { return n.name }

func (n *noted) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Record) error {
	if n.fails.Load() > 0 {
		n.fails.Add(-1)
		return &net.OpError{Op: "read", Net: "unix", Err: fmt.Errorf("connection reset by peer")}
	}
	for _, rec := range batch {
		var data struct{ Text string }
		if err := json.Unmarshal(rec.Data, &data); err != nil {
			return err
		}
		if n.clean {
			data.Text = string(slices.DeleteFunc([]rune(data.Text), func(r rune) bool { return r == 0 }))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO noted (projection, stream_id, version, text) VALUES ($1, $2, $3, $4)`,
			n.name, rec.StreamID, rec.Version, data.Text); err != nil {
			return err
		}
	}
	return nil
}

func (n *noted) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `DELETE FROM noted WHERE projection = $1`, n.name)
	return err
}

func notedStore(t *testing.T) (*pgtest.DB, *eventstore.Store) {
	t.Helper()
	db := pgtest.New(t)
	if _, err := db.Pool.Exec(context.Background(), `CREATE TABLE noted (projection text, stream_id text, version bigint,
		text text, PRIMARY KEY (projection, stream_id, version))`); err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.New(db.Pool, eventstore.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return db, store
}

func say(t *testing.T, s *eventstore.Store, stream string, version int64, text string) {
	t.Helper()
	data, _ := json.Marshal(map[string]string{"text": text})
	if _, err := s.Append(context.Background(), stream, version, []eventstore.Event{{Type: "noted.v1", Data: data}}); err != nil {
		t.Fatal(err)
	}
}

func rowsOf(t *testing.T, pool *pgxpool.Pool, projection string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT stream_id || '/' || version FROM noted WHERE projection = $1 ORDER BY 1`, projection)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func setAside(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT projection || ' ' || stream_id || ' ' || (error <> '') FROM projection_set_aside ORDER BY tx_id, seq, projection`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func follow(t *testing.T, r *projector.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.FollowAll(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("FollowAll: %v", err)
		}
	}
}

// An event a projection cannot apply (PostgreSQL refuses its U+0000) is set aside with the
// later events of its stream, recorded with its error; everything else goes on, other streams
// and other projections included; a rebuild leaves out the same events (rebuild == live); once
// the cause is fixed, Retry applies them and the set-aside list empties (DESIGN.md,
// invariant 10).
func TestAnEventThatCannotBeAppliedIsSetAside(t *testing.T) {
	t.Parallel()
	db, store := notedStore(t)
	bad, good := &noted{name: "bad"}, &noted{name: "good", clean: true}
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, BatchSize: 50,
		Projections: []projector.Projection{bad, good}})
	if err != nil {
		t.Fatal(err)
	}
	stop := follow(t, r)
	say(t, store, "a", 0, "một")
	say(t, store, "b", 0, "một")
	say(t, store, "a", 1, "hai\x00") // the poison
	say(t, store, "a", 2, "ba")      // waits behind it
	say(t, store, "b", 1, "hai")
	pjtest.CaughtUp(t, r, store)
	say(t, store, "a", 3, "bốn") // a later batch: still held
	say(t, store, "b", 2, "ba")
	pjtest.CaughtUp(t, r, store)
	stop()

	want := []string{"a/1", "b/1", "b/2", "b/3"}
	if got := rowsOf(t, db.Pool, "bad"); !slices.Equal(got, want) {
		t.Errorf("bad applied %v, want %v", got, want)
	}
	if got := rowsOf(t, db.Pool, "good"); len(got) != 7 {
		t.Errorf("good applied %v, want all 7 events", got)
	}
	wantAside := []string{"bad a true", "bad a true", "bad a true"}
	if got := setAside(t, db.Pool); !slices.Equal(got, wantAside) {
		t.Errorf("set aside %v, want %v", got, wantAside)
	}
	var firstErr string
	if err := db.Pool.QueryRow(context.Background(), `SELECT error FROM projection_set_aside ORDER BY tx_id, seq LIMIT 1`).Scan(&firstErr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(firstErr, "0x00") {
		t.Errorf("the first set-aside event's error %q does not carry PostgreSQL's refusal", firstErr)
	}

	// A rebuild leaves out the same events: the tables are as live left them.
	for _, how := range []string{"batch by batch", "in memory"} {
		ps := []projector.Projection{bad, good}
		if how == "in memory" {
			ps = []projector.Projection{&bulkNoted{bad}, &bulkNoted{good}}
		}
		rr, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Projections: ps, RebuildBatchSize: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rr.RebuildAll(context.Background(), ps, nil); err != nil {
			t.Fatalf("rebuild %s: %v", how, err)
		}
		if got := rowsOf(t, db.Pool, "bad"); !slices.Equal(got, want) {
			t.Errorf("rebuilt %s, bad has %v, want %v as live", how, got, want)
		}
		if got := setAside(t, db.Pool); !slices.Equal(got, wantAside) {
			t.Errorf("after the rebuild %s, set aside %v, want %v", how, got, wantAside)
		}
	}

	// The cause fixed, a retry applies the stream's events in order and clears the list.
	bad.clean = true
	res, err := r.Retry(context.Background(), []projector.Projection{bad})
	if err != nil || len(res) != 1 || res[0].Applied != 3 || res[0].Still != 0 {
		t.Fatalf("retry: %+v, %v; want 3 applied, none still set aside", res, err)
	}
	if got := rowsOf(t, db.Pool, "bad"); len(got) != 7 {
		t.Errorf("after the retry bad has %v, want all 7", got)
	}
	if got := setAside(t, db.Pool); len(got) != 0 {
		t.Errorf("after the retry still set aside: %v", got)
	}
	// Following goes on with the stream as any other.
	stop = follow(t, r)
	say(t, store, "a", 4, "năm")
	pjtest.CaughtUp(t, r, store)
	stop()
	if got := rowsOf(t, db.Pool, "bad"); len(got) != 8 {
		t.Errorf("after the retry and one more event, bad has %v, want 8", got)
	}
}

// bulkNoted rebuilds noted in memory.
type bulkNoted struct{ *noted }

func (b *bulkNoted) NewBulk(_ *slog.Logger) projector.Bulk { return &notedBulk{to: b.noted} }

type notedBulk struct {
	to    *noted
	batch []eventstore.Record
}

func (n *notedBulk) Add(batch []eventstore.Record) error {
	n.batch = append(n.batch, batch...)
	return nil
}

func (n *notedBulk) Write(ctx context.Context, tx pgx.Tx) error { return n.to.Apply(ctx, tx, n.batch) }

// A follower that meets an error that is not an event's fault (here the network, three times)
// logs it, waits and starts again from its checkpoint: nothing is lost, nothing applied twice,
// and the restarts are counted.
func TestFollowerStartsAgainAfterFailures(t *testing.T) {
	t.Parallel()
	db, store := notedStore(t)
	flaky := &noted{name: "flaky"}
	flaky.fails.Store(3)
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, RetryMax: 200 * time.Millisecond,
		Projections: []projector.Projection{flaky}})
	if err != nil {
		t.Fatal(err)
	}
	stop := follow(t, r)
	for i := range 10 {
		say(t, store, fmt.Sprintf("s%d", i%2), int64(i/2), "x")
	}
	pjtest.CaughtUp(t, r, store)
	st := r.Status()
	stop()
	if got := rowsOf(t, db.Pool, "flaky"); len(got) != 10 {
		t.Errorf("applied %v, want 10 events once each", got)
	}
	if got := setAside(t, db.Pool); len(got) != 0 {
		t.Errorf("a network failure set events aside: %v", got)
	}
	if st[0].Restarts != 3 || st[0].LastError == "" || st[0].State != projector.StateFollowing {
		t.Errorf("status %+v, want 3 restarts, the last error, following", st[0])
	}
}

// Any number of processes may follow: exactly one leads (applies) at a time, the others stand
// by, and when the leader goes a standby takes over; every event is applied once.
func TestOneLeaderAtATime(t *testing.T) {
	t.Parallel()
	db, store := notedStore(t)
	runners := make([]*projector.Runner, 3)
	stops := make([]func(), 3)
	for i := range runners {
		r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, LeaseRetry: 50 * time.Millisecond,
			Projections: []projector.Projection{&noted{name: "shared", clean: true}}})
		if err != nil {
			t.Fatal(err)
		}
		runners[i], stops[i] = r, follow(t, r)
	}
	leader := func() int {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			lead, standby := -1, 0
			for i, r := range runners {
				if r == nil {
					continue
				}
				switch r.Status()[0].State {
				case projector.StateFollowing:
					lead = i
				case projector.StateStandby:
					standby++
				}
			}
			if lead >= 0 && standby == countLive(runners)-1 {
				return lead
			}
		}
		t.Fatal("no single leader with the others standing by within 10 s")
		return -1
	}
	first := leader()
	for i := range 20 {
		say(t, store, fmt.Sprintf("s%d", i%4), int64(i/4), "x")
	}
	pjtest.CaughtUp(t, runners[first], store)
	stops[first]()
	runners[first] = nil
	second := leader()
	for i := 20; i < 40; i++ {
		say(t, store, fmt.Sprintf("s%d", i%4), int64(i/4), "x")
	}
	pjtest.CaughtUp(t, runners[second], store)
	for i, stop := range stops {
		if runners[i] != nil {
			stop()
		}
	}
	if got := rowsOf(t, db.Pool, "shared"); len(got) != 40 {
		t.Errorf("applied %d events, want 40 once each", len(got))
	}
	if got := setAside(t, db.Pool); len(got) != 0 {
		t.Errorf("set aside while several processes followed: %v", got)
	}
}

func countLive(rs []*projector.Runner) int {
	n := 0
	for _, r := range rs {
		if r != nil {
			n++
		}
	}
	return n
}
