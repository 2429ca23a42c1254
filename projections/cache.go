package projections

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
)

// Cached answers repeated report calls from memory while the read models stand still: an
// answer is kept with the projections' checkpoints it was read at (and, for a report of
// today, the day), and given again only while those have not moved. It is therefore exactly
// what a fresh query would return; what it saves is the query. One cheap read of the
// checkpoints per call tells whether anything moved — also when the projections run in
// another process (dxledger projector).
type Cached struct {
	*Reports
	mu      sync.Mutex
	stamp   checkpointStamp
	answers map[cacheKey]any
}

// maxCached bounds the memory: past it, the answers are dropped and read again.
const maxCached = 1024

type checkpointStamp struct {
	projections, events, setAside int64
	updated                       time.Time
}

type cacheKey struct {
	report, kind, groupBy string
	asOf                  civil.Date // the day, resolved: today's date for a report of today
	knownAt               time.Time  // zero: everything recorded
}

// NewCached wraps r with a cache of its reports' answers.
func NewCached(r *Reports) *Cached { return &Cached{Reports: r, answers: map[cacheKey]any{}} }

func (c *Cached) checkpoints(ctx context.Context) (checkpointStamp, error) {
	var s checkpointStamp
	// A retry of set-aside events changes the tables without moving a checkpoint: the count of
	// set-aside events is part of the stamp.
	err := c.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(events), 0)::bigint, coalesce(max(updated_at), 'epoch'),
		(SELECT count(*) FROM projection_set_aside) FROM projection_checkpoints`).Scan(&s.projections, &s.events, &s.updated, &s.setAside)
	if err != nil {
		return s, fmt.Errorf("report cache: %w", err)
	}
	return s, nil
}

// cached returns the answer for key, from memory when the checkpoints have not moved since it
// was read, or from read (and keeps it).
func cached[T any](ctx context.Context, c *Cached, key cacheKey, read func() (T, error)) (T, error) {
	var zero T
	now, err := c.checkpoints(ctx)
	if err != nil {
		return zero, err
	}
	if key.asOf.IsZero() {
		key.asOf = civil.Of(c.now().In(c.loc))
	}
	c.mu.Lock()
	if now != c.stamp || len(c.answers) >= maxCached {
		c.stamp, c.answers = now, map[cacheKey]any{}
	}
	if v, ok := c.answers[key]; ok {
		c.mu.Unlock()
		return v.(T), nil
	}
	c.mu.Unlock()
	v, err := read()
	if err != nil {
		return zero, err
	}
	c.mu.Lock()
	if c.stamp == now { // not if the read models moved while we read
		c.answers[key] = v
	}
	c.mu.Unlock()
	return v, nil
}

// FundingGaps is Reports.FundingGaps, from memory while the read models stand still.
func (c *Cached) FundingGaps(ctx context.Context, groupBy string, q Query) (FundingGapReport, error) {
	return cached(ctx, c, cacheKey{report: "funding-gaps", groupBy: groupBy, asOf: q.AsOf, knownAt: q.KnownAt},
		func() (FundingGapReport, error) { return c.Reports.FundingGaps(ctx, groupBy, q) })
}

// Payments is Reports.Payments, from memory while the read models stand still.
func (c *Cached) Payments(ctx context.Context, groupBy string, q Query) (PaymentReport, error) {
	return cached(ctx, c, cacheKey{report: "payments", groupBy: groupBy, asOf: q.AsOf, knownAt: q.KnownAt},
		func() (PaymentReport, error) { return c.Reports.Payments(ctx, groupBy, q) })
}

// ModelCounts is Reports.ModelCounts, from memory while the read models stand still.
func (c *Cached) ModelCounts(ctx context.Context, groupBy string, q Query) (ModelCountReport, error) {
	return cached(ctx, c, cacheKey{report: "model-counts", groupBy: groupBy, asOf: q.AsOf, knownAt: q.KnownAt},
		func() (ModelCountReport, error) { return c.Reports.ModelCounts(ctx, groupBy, q) })
}

// Completion is Reports.Completion, from memory while the read models stand still.
func (c *Cached) Completion(ctx context.Context, kind, groupBy string, q Query) (CompletionReport, error) {
	return cached(ctx, c, cacheKey{report: "completion", kind: kind, groupBy: groupBy, asOf: q.AsOf, knownAt: q.KnownAt},
		func() (CompletionReport, error) { return c.Reports.Completion(ctx, kind, groupBy, q) })
}
