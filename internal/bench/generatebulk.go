package bench

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"
)

// eventColumns are the events table's columns a bulk load writes; tx_id and seq are the
// table's defaults (the loading transaction's id, the sequence), as for Append.
var eventColumns = []string{"event_id", "stream_id", "version", "event_type", "data", "occurred_on",
	"recorded_at", "actor", "role", "unit", "request_id", "correlation_id", "causation_id", "hash"}

// GenerateBulk appends the same lives as Generate, but writes the events table's rows itself
// with COPY, o.Chunk events per committed transaction, instead of one Append (one commit) per
// life: for stores of ten million events, which Generate fills at ~12,000 events/s on a quiet
// machine. Every row is what Append would have stored for that life appended at that moment:
// a ULID of the moment from a monotonic source, recorded_at the moment (to the microsecond),
// occurred_on the fact's day, the same metadata, and the hash chain computed by the store's
// own function (eventstore.ChainHash), so that `dxledger verify` passes and a rebuild reads
// the result like any store. What differs is only the global order's grain: a chunk's events
// share one transaction id (as a batch of appends committed together would). Bulk loads must
// not run beside writers of the same streams (the streams are new ones, named by a fresh run
// id, so in practice nothing else writes them).
func GenerateBulk(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, o GenerateOptions) (Result, error) {
	if o.Events <= 0 {
		o.Events = 1_000_000
	}
	if o.Writers <= 0 {
		o.Writers = 2
	}
	if o.Chunk <= 0 {
		o.Chunk = 20_000
	}
	o = o.seeded()
	start := time.Now()
	n, err := generateBulk(ctx, pool, store, min(o.Writers, 8), o)
	if err != nil {
		return Result{}, err
	}
	return Result{Benchmark: "generate", Events: int(n), Seconds: time.Since(start).Seconds(),
		EventsPerSec: float64(n) / time.Since(start).Seconds(), Seed: o.Seed}, nil
}

func generateBulk(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, writers int, o GenerateOptions) (int64, error) {
	have, err := store.Count(ctx)
	if err != nil {
		return 0, err
	}
	events := int64(o.Events)
	var written, claimed atomic.Int64 // committed; taken by a writer's lives (committed or not)
	written.Store(have)
	claimed.Store(have)
	run := ulid.Make().String()
	seed := o.Seed
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), seed))
			entropy := ulid.Monotonic(crand.Reader, 0)
			rows := make([][]any, 0, o.Chunk+16)
			flush := func() error {
				if len(rows) == 0 {
					return nil
				}
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					n, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(rows))
					if err == nil && n != int64(len(rows)) {
						err = fmt.Errorf("copied %d rows of %d", n, len(rows))
					}
					return err
				})
				if err != nil {
					return fmt.Errorf("generate --bulk: %w", err)
				}
				written.Add(int64(len(rows)))
				clear(rows)
				rows = rows[:0]
				return nil
			}
			for i := 0; claimed.Load() < events; i++ {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				id := fmt.Sprintf("%s%02d%07d", run, w, i)
				kind, evs := lifeOn(rng, id, o.Recent, civil.Of(time.Now()))
				claimed.Add(int64(len(evs)))
				stream := string(kind) + "-" + id
				// What Append does for one append: one moment for the whole batch, a ULID of
				// that moment per event, versions from 1 (a new stream), the chain from nil.
				now := time.Now().UTC().Truncate(time.Microsecond)
				var prev []byte
				for j, e := range evs {
					typ, data, err := item.Encode(kind, e)
					if err != nil {
						errs[w] = err
						return
					}
					eid := ulid.MustNew(ulid.Timestamp(now), entropy)
					m := eventstore.Metadata{Actor: "bench", Role: "focal_point", OccurredOn: e.Date().Time(time.UTC), RecordedAt: now}
					version := int64(j + 1)
					prev = eventstore.ChainHash(prev, eid, stream, version, typ, data, m)
					rows = append(rows, []any{[16]byte(eid), stream, version, typ, string(data), m.OccurredOn, now,
						m.Actor, m.Role, "", "", "", "", prev})
				}
				if len(rows) >= o.Chunk {
					if errs[w] = flush(); errs[w] != nil {
						return
					}
				}
			}
			errs[w] = flush()
		}()
	}
	wg.Wait()
	return written.Load() - have, errors.Join(errs...)
}
