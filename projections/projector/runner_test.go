package projector_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Every problem of a config is reported at once.
func TestRunnerConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := projector.NewRunner(projector.RunnerConfig{BatchSize: -1, RebuildBatchSize: -2,
		Projections: []projector.Projection{&recorder{name: "a"}, &recorder{name: "a"}, &recorder{}, nil}})
	if err == nil {
		t.Fatal("NewRunner accepted a config with no pool, no store and bad sizes")
	}
	for _, want := range []string{"no Pool", "no Store", "BatchSize -1", "RebuildBatchSize -2", `"a" given twice`,
		"projection 2 has no name", "projection 3 is nil"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := (projector.RunnerConfig{}).Validate(); err == nil {
		t.Error("the zero config is valid; it has no pool or store")
	}
}

// recorder is a projection that keeps the events it is given, in memory.
type recorder struct {
	name string
	mu   sync.Mutex
	seen []string
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Apply(_ context.Context, _ pgx.Tx, batch []eventstore.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range batch {
		r.seen = append(r.seen, fmt.Sprintf("%s/%d", rec.StreamID, rec.Version))
	}
	return nil
}

func (r *recorder) Reset(context.Context, pgx.Tx) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = nil
	return nil
}

func (r *recorder) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// bulkRecorder can also rebuild in memory and has work to do after a rebuild.
type bulkRecorder struct {
	recorder
	finished int
}

func (b *bulkRecorder) NewBulk(*slog.Logger) projector.Bulk { return &recorderBulk{to: &b.recorder} }

func (b *bulkRecorder) FinishRebuild(context.Context, *pgxpool.Pool) error { b.finished++; return nil }

type recorderBulk struct {
	to    *recorder
	batch []eventstore.Record
}

func (r *recorderBulk) Add(batch []eventstore.Record) error {
	r.batch = append(r.batch, batch...)
	return nil
}

func (r *recorderBulk) Write(ctx context.Context, tx pgx.Tx) error {
	return r.to.Apply(ctx, tx, r.batch)
}

// The runner feeds the projections it is given every event once, in the store's order, from
// their checkpoints; a rebuild starts them from nothing, in memory when they all can.
func TestRunnerFeedsTheProjectionsItIsGiven(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var want []string
	appendSome := func(from, n int) {
		for i := from; i < from+n; i++ {
			stream := fmt.Sprintf("thing-%d", i%3)
			v := int64(i / 3)
			if _, err := store.Append(context.Background(), stream, v, []eventstore.Event{{Type: "thing.happened.v1", Data: []byte(`{}`)}}); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("%s/%d", stream, v+1)) // versions count from 1
		}
	}
	appendSome(0, 30)
	plain, bulk := &recorder{name: "plain"}, &bulkRecorder{recorder: recorder{name: "bulk"}}
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store,
		Projections: []projector.Projection{plain, bulk}, BatchSize: 7, RebuildBatchSize: 11})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.FollowAll(ctx) }()
	pjtest.CaughtUp(t, r, store)
	appendSome(30, 20)
	pjtest.CaughtUp(t, r, store)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	for _, p := range []*recorder{plain, &bulk.recorder} {
		if got := p.events(); !slices.Equal(got, want) {
			t.Errorf("%s followed %v, want %v", p.name, got, want)
		}
		cp, err := r.Checkpoint(context.Background(), p.name)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Events != int64(len(want)) {
			t.Errorf("%s checkpoint counts %d events, want %d", p.name, cp.Events, len(want))
		}
	}
	// Both in memory: one pass, finished after.
	if n, err := r.RebuildAll(context.Background(), []projector.Projection{bulk}, nil); err != nil || n != int64(len(want)) {
		t.Fatalf("in-memory rebuild: %d events, %v; want %d", n, err, len(want))
	}
	if got := bulk.events(); !slices.Equal(got, want) || bulk.finished != 1 {
		t.Errorf("in-memory rebuild gave %v, finished %d times; want %v once", got, bulk.finished, want)
	}
	// A mix: batch by batch, from nothing.
	if _, err := r.RebuildAll(context.Background(), r.Projections(), nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*recorder{plain, &bulk.recorder} {
		if got := p.events(); !slices.Equal(got, want) {
			t.Errorf("%s rebuilt from %v, want %v", p.name, got, want)
		}
	}
}
