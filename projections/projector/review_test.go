package projector_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
)

// gatedBulk is bulkNoted whose first Add waits for release: the rebuild's target is fixed,
// while the follower goes on past it.
type gatedBulk struct {
	*noted
	started chan struct{}
	release chan struct{}
}

func (g *gatedBulk) NewBulk(_ *slog.Logger) projector.Bulk {
	return &gatedNotedBulk{notedBulk: notedBulk{to: g.noted}, g: g}
}

type gatedNotedBulk struct {
	notedBulk
	g    *gatedBulk
	once bool
}

func (b *gatedNotedBulk) Add(batch []eventstore.Record) error {
	if !b.once {
		b.once = true
		close(b.g.started)
		<-b.g.release
	}
	return b.notedBulk.Add(batch)
}

// A rebuild that ends before events the follower set aside after the rebuild's target, then a
// retry, then following again: nothing is applied twice and nothing stays set aside (the
// rebuild forgets set-aside rows past its checkpoint, which the follower meets again; Retry
// takes only rows the checkpoint has passed).
func TestRetryAfterARebuildAppliesNothingTwice(t *testing.T) {
	db, store := notedStore(t)
	bad := &noted{name: "bad"}
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Projections: []projector.Projection{bad}})
	if err != nil {
		t.Fatal(err)
	}
	stop := follow(t, r)
	say(t, store, "a", 0, "một")
	say(t, store, "a", 1, "hai\x00") // the poison
	pjtest.CaughtUp(t, r, store)

	// A rebuild starts (target: now) and is slow; the follower goes on meanwhile.
	g := &gatedBulk{noted: bad, started: make(chan struct{}), release: make(chan struct{})}
	rr, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Projections: []projector.Projection{g}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := rr.RebuildAll(context.Background(), []projector.Projection{g}, nil); done <- err }()
	<-g.started
	say(t, store, "a", 2, "ba") // held behind the poison, beyond the rebuild's target
	say(t, store, "a", 3, "bốn")
	pjtest.CaughtUp(t, r, store)
	stop()
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var beyond int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM projection_set_aside s, projection_checkpoints c
		WHERE c.name = s.projection AND (s.tx_id, s.seq) > (c.tx_id, c.seq)`).Scan(&beyond); err != nil {
		t.Fatal(err)
	}
	t.Logf("set-aside rows beyond the checkpoint after the rebuild: %d", beyond)

	// The operator fixes the cause and retries, then the follower goes on.
	bad.clean = true
	res, err := r.Retry(context.Background(), []projector.Projection{bad})
	t.Logf("retry: %+v, %v", res, err)
	stop = follow(t, r)
	pjtest.CaughtUp(t, r, store)
	time.Sleep(300 * time.Millisecond)
	stop()
	t.Logf("bad rows: %v", rowsOf(t, db.Pool, "bad"))
	if got := setAside(t, db.Pool); len(got) != 0 {
		var why []string
		rows, _ := db.Pool.Query(context.Background(), `SELECT stream_id || ' ' || error FROM projection_set_aside ORDER BY tx_id, seq`)
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			why = append(why, s)
		}
		t.Errorf("after rebuild + retry + follow, still set aside: %v", why)
	}
}

// An error that is the code's or the schema's, not an event's (here a table not there yet,
// 42P01, as with a binary ahead of its migrations), sets nothing aside: the follower says it is
// retrying, with the error, and applies everything once the schema is mended.
func TestASchemaFaultSetsNothingAside(t *testing.T) {
	db, store := notedStore(t)
	if _, err := db.Pool.Exec(context.Background(), `ALTER TABLE noted RENAME TO noted_later`); err != nil {
		t.Fatal(err)
	}
	p := &noted{name: "p", clean: true}
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, RetryMax: 200 * time.Millisecond,
		Projections: []projector.Projection{p}})
	if err != nil {
		t.Fatal(err)
	}
	stop := follow(t, r)
	for i := range 6 {
		say(t, store, string(rune('a'+i%3)), int64(i/3), "ok")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st := r.Status()[0]
		if st.Restarts >= 2 && strings.Contains(st.LastError, "42P01") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the follower does not say it is retrying on the missing table: %+v", st)
		}
	}
	if got := setAside(t, db.Pool); len(got) > 0 {
		t.Errorf("a missing table (42P01) set aside %d good events: %v", len(got), got)
	}
	if _, err := db.Pool.Exec(context.Background(), `ALTER TABLE noted_later RENAME TO noted`); err != nil {
		t.Fatal(err)
	}
	pjtest.CaughtUp(t, r, store)
	stop()
	if got := rowsOf(t, db.Pool, "p"); len(got) != 6 {
		t.Errorf("once the table is back: %v applied, want all 6", got)
	}
}

// The lead's ping goroutine is done with the connection before it goes back to the pool, even
// while following fails on every batch (here a network error): run with -race.
func TestLeadEndsCleanlyWhileFailing(t *testing.T) {
	db, store := notedStore(t)
	flaky := &noted{name: "flaky", clean: true}
	flaky.fails.Store(1 << 40)
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, RetryMax: time.Millisecond,
		LeaseCheck: 3 * time.Millisecond, Projections: []projector.Projection{flaky}})
	if err != nil {
		t.Fatal(err)
	}
	say(t, store, "a", 0, "x")
	stop := follow(t, r)
	time.Sleep(3 * time.Second)
	stop()
	t.Logf("restarts: %d", r.Status()[0].Restarts)
}
