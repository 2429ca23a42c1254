package projector_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// roundTrips counts, per connection, what pgx sends and waits for: a query or a batch each.
type roundTrips struct {
	mu   sync.Mutex
	by   map[*pgx.Conn]int
	lead *pgx.Conn // the connection that locks the checkpoints: the batches' own
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, c *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	r.by[c]++
	r.mu.Unlock()
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, c *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.mu.Lock()
	r.by[c]++
	r.mu.Unlock()
	return ctx
}
func (r *roundTrips) TraceBatchQuery(_ context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	if strings.Contains(d.SQL, "FOR UPDATE") {
		r.mu.Lock()
		r.lead = c
		r.mu.Unlock()
	}
}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (r *roundTrips) onLead() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.by[r.lead]
}

// A batch of a projection whose Apply sends one statement costs the follower three round
// trips on its connection: BEGIN with the checkpoints' lock, the projection's statement, and
// the checkpoints' move with COMMIT (five before: BEGIN and COMMIT went each on its own).
// Every round trip waits for PostgreSQL's process to be scheduled, on a machine whose cores
// a thousand appends a second keep busy (issue 11 point 6).
func TestABatchTakesThreeRoundTrips(t *testing.T) {
	t.Parallel()
	db, _ := notedStore(t)
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	trips := &roundTrips{by: map[*pgx.Conn]int{}}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, err := eventstore.New(pool, eventstore.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: pool, Store: store, LeaseCheck: time.Hour,
		Projections: []projector.Projection{&noted{name: "one"}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := follow(t, r)
	defer stop()
	say(t, store, "warm", 0, "một")
	pjtest.CaughtUp(t, r, store)
	before := trips.onLead()
	const batches = 5
	for i := range batches {
		say(t, store, "s", int64(i), "hai") // one event, one batch: caught up before the next
		pjtest.CaughtUp(t, r, store)
	}
	if got := trips.onLead() - before; got != 3*batches {
		t.Errorf("%d round trips on the batches' connection for %d batches of one statement each, want %d (3 a batch)",
			got, batches, 3*batches)
	}
}
