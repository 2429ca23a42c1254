package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"
)

var units = []string{"SO-YT", "SO-GDDT", "SO-NNPTNT", "SO-TC", "SO-KHCN", "H-LAPVO", "TP-CAOLANH", "TP-SADEC", "H-THAPMUOI"}

// firstStart is the day the generated programme starts; lives start from then until a month
// before today (2022-01-01 to November 2026 in December 2026: five years of a national
// programme, as a store of 10 million events would hold).
var firstStart = civil.Date{Year: 2022, Month: time.January, Day: 1}

// life is a valid life of a model or project: proposal, one or two funding requests,
// approvals, disbursements, progress and an ending — about seven events over up to 300 days —
// starting on a day between 2022-01-01 and a month before today. A life that started lately is
// still going on: its facts after today are not there yet (a start in November has its
// proposal, its request and perhaps its approval). Every store, small or large, is spread the
// same way. With recent set, the life fits in the last 90 days and nothing in it is due for a
// deadline (for load tests that must not share the machine with the deadline manager's work).
func life(rng *rand.Rand, id string, recent bool) (item.Kind, []item.Event) {
	return lifeOn(rng, id, recent, civil.Of(time.Now()))
}

// lifeOn is life with today given.
func lifeOn(rng *rand.Rand, id string, recent bool, today civil.Date) (item.Kind, []item.Event) {
	kind := item.Project
	if rng.IntN(3) == 0 {
		kind = item.Model
	}
	start := firstStart.AddDays(rng.IntN(max(1, today.DaysSince(firstStart)-30)))
	step := 1
	if recent {
		start, step = today.AddDays(-(90+rng.IntN(60))/2-10), 0
	}
	f := func(d int) item.Fact {
		if step == 0 { // recent: compress the life into its first days
			d = min(d/30, 10)
		}
		return item.Fact{On: start.AddDays(d)}
	}
	tỷ := money.VND(1_000_000_000)
	est := tỷ * money.VND(1+rng.IntN(40))
	evs := []item.Event{&item.Proposed{Fact: f(0), ID: id, Kind: kind, Title: "Dự án chuyển đổi số " + id,
		UnitCode: units[rng.IntN(len(units))], Pillar: []item.Pillar{item.Government, item.Economy, item.Society}[rng.IntN(3)],
		Sector: item.DefaultSectors[rng.IntN(len(item.DefaultSectors))], EstimatedCost: est, StartDate: start.AddDays(10),
		EndDate: start.AddDays(400 + rng.IntN(400)), WorkflowVersion: 1, Stage: item.StageProposed}}
	src := item.Sources[rng.IntN(len(item.Sources))]
	req := est / 2
	evs = append(evs, &item.FundingRequested{Fact: f(5), RequestID: "r1", Source: src, Amount: req, Year: start.Year},
		&item.FundingApproved{Fact: f(30), RequestID: "r1", Source: src, Year: start.Year, Amount: req * 8 / 10, Officers: []string{"bench"}, Stage: item.StageFunded},
		&item.Disbursed{Fact: f(90), Source: src, Amount: req / 4},
		&item.ProgressReported{Fact: f(120), Percent: 10 * rng.IntN(10)})
	switch rng.IntN(3) {
	case 0:
		evs = append(evs, &item.Implemented{Fact: f(300), Stage: item.StageImplemented})
	case 1:
		evs = append(evs, &item.ProgressReported{Fact: f(200), Percent: 90})
	}
	for i, e := range evs { // the facts of the days to come are not known yet
		if today.Before(e.Date()) {
			return kind, evs[:i]
		}
	}
	return kind, evs
}

// GenerateOptions configures Generate.
type GenerateOptions struct {
	// Events: lives are appended until the store holds at least this many (default 1,000,000).
	Events int
	// Writers append concurrently, one life per append (default 4, at most 8).
	Writers int
	// Recent puts every life within the last 90 days, nothing due for a deadline (for load
	// tests that must not share the machine with the deadline manager's work).
	Recent bool
	// Seed seeds the lives' random choices (writer w uses the PCG seeded with w and Seed);
	// 0 seeds from the clock (seeded), and the Result says which seed that was. With one
	// writer and a seed, Generate and GenerateBulk write the same lives.
	Seed uint64
	// Chunk is GenerateBulk's events per committed COPY (default 20,000); Generate ignores it.
	Chunk int
}

// seeded returns o with its seed: the one given, else one from the clock. Generate and
// GenerateBulk take it from here, and report it.
func (o GenerateOptions) seeded() GenerateOptions {
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	return o
}

// Generate appends realistic lives of models and projects (about seven events each, starting
// from 2022-01-01 to a month before today) for the projection benchmarks; the result counts the events it appended.
func Generate(ctx context.Context, store *eventstore.Store, o GenerateOptions) (Result, error) {
	if o.Events <= 0 {
		o.Events = 1_000_000
	}
	if o.Writers <= 0 {
		o.Writers = 4
	}
	o = o.seeded()
	start := time.Now()
	n, err := generate(ctx, store, min(o.Writers, 8), o.Events, o.Recent, o.Seed)
	if err != nil {
		return Result{}, err
	}
	return Result{Benchmark: "generate", Events: int(n), Seconds: time.Since(start).Seconds(),
		EventsPerSec: float64(n) / time.Since(start).Seconds(), Seed: o.Seed}, nil
}

// generate appends item lives until the store holds at least events events, with writers
// concurrent writers, one life per append.
func generate(ctx context.Context, store *eventstore.Store, writers, events int, recent bool, seed uint64) (int64, error) {
	have, err := store.Count(ctx)
	if err != nil {
		return 0, err
	}
	var written atomic.Int64
	written.Store(have)
	run := ulid.Make().String()
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), seed))
			for i := 0; written.Load() < int64(events); i++ {
				id := fmt.Sprintf("%s%02d%07d", run, w, i)
				kind, evs := life(rng, id, recent)
				out := make([]eventstore.Event, len(evs))
				for j, e := range evs {
					typ, data, err := item.Encode(kind, e)
					if err != nil {
						errs[w] = err
						return
					}
					out[j] = eventstore.Event{Type: typ, Data: data, Metadata: eventstore.Metadata{Actor: "bench", Role: "focal_point",
						OccurredOn: e.Date().Time(time.UTC)}}
				}
				if _, err := store.Append(ctx, string(kind)+"-"+id, eventstore.NoStream, out); err != nil {
					errs[w] = err
					return
				}
				written.Add(int64(len(out)))
			}
		}()
	}
	wg.Wait()
	return written.Load() - have, errors.Join(errs...)
}

// LagOptions configures Lag.
type LagOptions struct {
	Rate    int // events appended per second (default 1000)
	Seconds int // how long to append (default 20)
	// Warmup is how many seconds of events are sent first, at the same rate, and not counted:
	// every run starts its cluster cold (empty shared buffers, full-page images after the
	// shutdown checkpoint, the pool's connections opened and their statements parsed as the
	// rate comes on). Negative: none. Default 2.
	Warmup int
	// ItemsAlone follows the items projection alone through Runner.FollowWith, the path the
	// figures before 2026-12-02 were measured on. By default every projection is followed by
	// Runner.FollowAllWith: what serve and projector run (the lead's advisory locks, the
	// checkpoint rows locked and the set-aside streams read in every batch).
	ItemsAlone bool
}

// LagStats are the lag benchmark's figures besides the latency of each event: what the
// follower did and what PostgreSQL wrote meanwhile (pg_stat_wal, pg_stat_bgwriter).
type LagStats struct {
	Path      string  `json:"path"`
	Warmup    int     `json:"warmup_seconds"`
	Offered   float64 `json:"offered_per_sec"`
	MaxMillis float64 `json:"max_ms"`
	// The appends' own latency, part of each event's lag: it is stored when Append returns.
	AppendP50Millis float64 `json:"append_p50_ms"`
	AppendP99Millis float64 `json:"append_p99_ms"`
	Batches         int     `json:"batches"`
	EventsPerBatch  float64 `json:"events_per_batch"`
	BatchP50Millis  float64 `json:"batch_p50_ms"`
	BatchP99Millis  float64 `json:"batch_p99_ms"`
	BatchMaxMillis  float64 `json:"batch_max_ms"`
	WALBytes        int64   `json:"wal_bytes"`
	WALFPI          int64   `json:"wal_fpi"`
	WALSyncs        int64   `json:"wal_syncs"`
	WALSyncMillis   float64 `json:"wal_sync_ms"` // 0 unless track_wal_io_timing is on
	Checkpoints     int64   `json:"checkpoints"`
	BackendWrites   int64   `json:"backend_buffer_writes"`
	// BucketsClosed is how many buckets of recording time the items projection closed while the
	// counted events were sent (the batch that closes one copies the month sums: deltas.go).
	BucketsClosed int64 `json:"buckets_closed"`
	// BusyPercent is the share of the time, from the first counted event's slot to the last
	// batch, in which the follower was reading or applying a batch: near 100 it has no
	// spare capacity, and any slow batch leaves a backlog that drains slowly.
	BusyPercent float64 `json:"follower_busy_pct,omitempty"`
	// Split is where each event's wait went (lagsplit.go); absent with ItemsAlone.
	Split *LagSplit `json:"split,omitempty"`
}

// walStats is what PostgreSQL wrote so far, server-wide.
type walStats struct {
	bytes, fpi, syncs, checkpoints, backend int64
	syncMillis                              float64
	buckets                                 int64 // rows of pj_delta_buckets
}

func readWALStats(ctx context.Context, pool *pgxpool.Pool) (walStats, error) {
	var w walStats
	err := pool.QueryRow(ctx, `SELECT w.wal_bytes::bigint, w.wal_fpi, w.wal_sync, w.wal_sync_time,
			b.checkpoints_timed + b.checkpoints_req, b.buffers_backend, (SELECT count(*) FROM pj_delta_buckets)
		FROM pg_stat_wal w, pg_stat_bgwriter b`).Scan(&w.bytes, &w.fpi, &w.syncs, &w.syncMillis, &w.checkpoints, &w.backend, &w.buckets)
	if err != nil {
		return walStats{}, fmt.Errorf("lag: pg_stat_wal: %w", err)
	}
	return w, nil
}

// Lag appends single events at o.Rate events/s for o.Seconds and measures how long each takes,
// from the call to Append, to be visible in the projections: the first committed batch whose
// last position is at or after the event's (every projection's checkpoint passes it then).
// Appends are sent on a fixed schedule (the i-th at start + i/Rate, each on its own
// goroutine), so a slow moment delays them but does not drop them: the rate sent is the rate
// asked for unless the machine cannot start the goroutines in time.
func Lag(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, o LagOptions) (Result, error) {
	if o.Rate <= 0 {
		o.Rate = 1000
	}
	if o.Seconds <= 0 {
		o.Seconds = 20
	}
	if o.Warmup == 0 {
		o.Warmup = 2
	}
	o.Warmup = max(0, o.Warmup)
	rate, seconds := o.Rate, o.Seconds
	ps := readmodel.All()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name()
	}
	path := "FollowAll (" + strings.Join(names, ", ") + ")"
	if o.ItemsAlone {
		ps, path = []projector.Projection{readmodel.Items{}}, "FollowWith (items alone)"
	}
	runner, err := projector.NewRunner(projector.RunnerConfig{Pool: pool, Store: store, Projections: ps})
	if err != nil {
		return Result{}, err
	}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		mu    sync.Mutex
		seen  []applied
		reads []eventstore.Read
		cur   eventstore.Read // the read whose batch is being applied
	)
	note := func(last eventstore.Position) {
		at := time.Now()
		mu.Lock()
		seen = append(seen, applied{pos: last, at: at})
		mu.Unlock()
	}
	obs := &projector.Observer{
		Read: func(r eventstore.Read) {
			mu.Lock()
			reads = append(reads, r)
			if r.Events > 0 {
				cur = r
			}
			mu.Unlock()
		},
		Applied: func(b projector.Batch) {
			mu.Lock()
			seen = append(seen, applied{pos: b.Last, at: b.Committed, n: b.Events, took: b.Committed.Sub(b.Began), read: cur, batch: b})
			mu.Unlock()
		},
	}
	followed := make(chan error, 1)
	go func() {
		if o.ItemsAlone {
			followed <- runner.FollowWith(fctx, readmodel.Items{}, note)
			return
		}
		followed <- runner.FollowAllWith(fctx, obs)
	}()
	// Catch up with what is there before measuring.
	target, err := store.LastCommitted(ctx)
	if err != nil {
		return Result{}, err
	}
	for caughtUp := false; !caughtUp; {
		select {
		case err := <-followed:
			return Result{}, fmt.Errorf("lag: following stopped: %v", err)
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		caughtUp = true
		for _, p := range ps {
			cp, err := runner.Checkpoint(ctx, p.Name())
			if err != nil {
				return Result{}, err
			}
			caughtUp = caughtUp && !cp.Position.Less(target)
		}
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	seen, reads = seen[:0], reads[:0]
	mu.Unlock()
	rng := rand.New(rand.NewPCG(1, 2))
	warm := rate * o.Warmup // sent first, at the same rate, and not counted
	total := warm + rate*seconds
	var (
		walBefore walStats
		measured  time.Time
		sents     = make([]sent, total)
		ok        = make([]bool, total)
		inField   sync.WaitGroup
		failed    atomic.Pointer[error]
	)
	run := ulid.Make().String()
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
			time.Sleep(d)
		}
		if i == warm {
			if walBefore, err = readWALStats(ctx, pool); err != nil {
				return Result{}, err
			}
			measured = start.Add(time.Duration(warm) * time.Second / time.Duration(rate)) // this event's slot
		}
		id := fmt.Sprintf("lag%s%07d", run, i)
		kind, evs := life(rng, id, true)
		typ, data, err := item.Encode(kind, evs[0])
		if err != nil {
			return Result{}, err
		}
		inField.Add(1)
		go func() {
			defer inField.Done()
			stream := string(kind) + "-" + id
			t0 := time.Now()
			res, err := store.Append(ctx, stream, eventstore.NoStream, []eventstore.Event{{Type: typ, Data: data}})
			if err != nil {
				failed.Store(&err)
				return
			}
			sents[i], ok[i] = sent{stream: stream, pos: res.Position, at: t0, took: time.Since(t0)}, true
		}()
	}
	sendTime := time.Since(measured)
	inField.Wait()
	if err := failed.Load(); err != nil {
		return Result{}, *err
	}
	// Wait until the last event is applied (at most 30 s), then stop following.
	last, err := store.LastCommitted(ctx)
	if err != nil {
		return Result{}, err
	}
	for wait := time.Now(); time.Since(wait) < 30*time.Second; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		done := len(seen) > 0 && !seen[len(seen)-1].pos.Less(last)
		mu.Unlock()
		if done {
			break
		}
	}
	stop()
	walAfter, err := readWALStats(ctx, pool)
	if err != nil {
		return Result{}, err
	}
	mu.Lock()
	defer mu.Unlock()
	// Match each sent event to the first batch at or after its position.
	var (
		lat, appends []time.Duration
		splits       []lagSplit
	)
	for i, s := range sents {
		if !ok[i] || i < warm {
			continue
		}
		appends = append(appends, s.took)
		pos := s.pos
		if pos == (eventstore.Position{}) {
			recs, err := store.ReadStream(ctx, s.stream, 0)
			if err != nil || len(recs) == 0 {
				return Result{}, fmt.Errorf("lag: %s not stored: %v", s.stream, err)
			}
			pos = recs[0].Position
		}
		j, _ := slices.BinarySearchFunc(seen, pos, func(a applied, p eventstore.Position) int {
			if a.pos.Less(p) {
				return -1
			}
			return 1
		})
		if j == len(seen) {
			return Result{}, fmt.Errorf("lag: %s never applied", s.stream)
		}
		lat = append(lat, seen[j].at.Sub(s.at))
		if !o.ItemsAlone {
			splits = append(splits, split(s, seen[j], reads))
		}
	}
	first, _ := slices.BinarySearchFunc(seen, measured, func(a applied, t time.Time) int { return a.at.Compare(t) })
	seen = seen[first:] // the batches committed from the start of the counted events on
	p50, p99 := percentiles(lat)
	st := LagStats{Warmup: o.Warmup, Path: path, Offered: float64(len(lat)) / sendTime.Seconds(), Batches: len(seen),
		WALBytes: walAfter.bytes - walBefore.bytes, WALFPI: walAfter.fpi - walBefore.fpi,
		WALSyncs: walAfter.syncs - walBefore.syncs, WALSyncMillis: walAfter.syncMillis - walBefore.syncMillis,
		Checkpoints: walAfter.checkpoints - walBefore.checkpoints, BackendWrites: walAfter.backend - walBefore.backend,
		BucketsClosed: walAfter.buckets - walBefore.buckets, Split: summarise(splits, names)}
	st.AppendP50Millis, st.AppendP99Millis = percentiles(appends)
	if len(lat) > 0 {
		st.MaxMillis = float64(lat[len(lat)-1].Microseconds()) / 1000 // percentiles sorted lat
	}
	if len(seen) > 0 {
		st.EventsPerBatch = float64(len(lat)) / float64(len(seen))
		st.BusyPercent = busy(seen, measured)
		took := make([]time.Duration, len(seen))
		for i, a := range seen {
			took[i] = a.took
		}
		st.BatchP50Millis, st.BatchP99Millis = percentiles(took)
		st.BatchMaxMillis = float64(took[len(took)-1].Microseconds()) / 1000
	}
	return Result{Benchmark: "lag", Events: len(lat), Seconds: sendTime.Seconds(),
		EventsPerSec: float64(len(lat)) / sendTime.Seconds(), P50Millis: p50, P99Millis: p99, Lag: &st,
		text: printLag}, nil
}

func printLag(w io.Writer, r Result) {
	st := r.Lag
	fmt.Fprintf(w, "lag, %s: %d events sent in %.2fs (%.0f/s) after %d s of warm-up: visible after p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		st.Path, r.Events, r.Seconds, r.EventsPerSec, st.Warmup, r.P50Millis, r.P99Millis, st.MaxMillis)
	fmt.Fprintf(w, "of which the append itself: p50 %.1f ms, p99 %.1f ms\n", st.AppendP50Millis, st.AppendP99Millis)
	if st.BatchP50Millis > 0 {
		fmt.Fprintf(w, "batches: %d, %.1f events each; transaction p50 %.1f ms, p99 %.1f ms, max %.1f ms",
			st.Batches, st.EventsPerBatch, st.BatchP50Millis, st.BatchP99Millis, st.BatchMaxMillis)
		if st.BusyPercent > 0 {
			fmt.Fprintf(w, "; the follower busy %.0f%% of the time", st.BusyPercent)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "PostgreSQL meanwhile: WAL %.1f MB (%.0f bytes/event), %d full-page images, %d WAL syncs (%.0f ms), %d checkpoints, %d buffers written by backends\n",
		float64(st.WALBytes)/1e6, float64(st.WALBytes)/float64(max(1, r.Events)), st.WALFPI, st.WALSyncs, st.WALSyncMillis,
		st.Checkpoints, st.BackendWrites)
	fmt.Fprintf(w, "buckets of recording time closed meanwhile: %d\n", st.BucketsClosed)
	if st.Split != nil {
		st.Split.print(w)
	}
}

// ReportsOptions configures Reports.
type ReportsOptions struct {
	Iterations int            // calls per report (default 200)
	Location   *time.Location // the province's time zone: what "today" is (default UTC)
}

// ReportTimings are the latencies of the report calls, one per report.
type ReportTimings []ReportTiming

// ReportTiming is the latency of one report's calls: the percentiles over all of them, and
// the first call (the first on its connection of this report's statements and pages) apart
// from the slowest of the next ones.
type ReportTiming struct {
	Result
	FirstMillis   float64 `json:"first_ms"`
	NextMaxMillis float64 `json:"next_max_ms"`
}

// Print writes the timings as one JSON array, or a line per call.
func (rs ReportTimings) Print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(rs)
	}
	for _, r := range rs {
		if _, err := fmt.Fprintf(w, "%-95s %d calls: p50 %.1f ms, p99 %.1f ms; first %.1f ms, next max %.1f ms\n", r.Benchmark, r.Events,
			r.P50Millis, r.P99Millis, r.FirstMillis, r.NextMaxMillis); err != nil {
			return err
		}
	}
	return nil
}

// Reports times every report call, today, as of past dates (the end of a month, and a day
// within one), as known at a past moment (when half of the store's events were recorded) and
// both together, over what the store holds: each of funding gaps, model counts and completion
// in each of the four. It calls projections.Reports directly, never the answer cache of serve
// (projections.Cached): every call reads the tables.
func Reports(ctx context.Context, pool *pgxpool.Pool, o ReportsOptions) (ReportTimings, error) {
	if o.Iterations <= 0 {
		o.Iterations = 200
	}
	iters := o.Iterations
	reports := projections.NewReports(pool, nil, o.Location)
	var mid time.Time // by when half of the events were recorded
	if err := pool.QueryRow(ctx, `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY recorded_at) FROM events`).Scan(&mid); err != nil {
		return nil, fmt.Errorf("reports: recording times: %w", err)
	}
	mid = mid.UTC().Truncate(time.Millisecond)
	// The days come from the data: the median business day of the facts (on a --recent store
	// the events fall within the last 90 days, elsewhere over 2022-2024), the end of the month
	// before it and the day before that end (a month's single rows nearly all read).
	var median time.Time
	if err := pool.QueryRow(ctx, `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY occurred_on) FROM pj_item_facts`).Scan(&median); err != nil {
		return nil, fmt.Errorf("reports: business days: %w", err)
	}
	mday := civil.Of(median.UTC())
	if mday.AddDays(1).Day == 1 || mday.Day == 1 {
		mday = civil.Date{Year: mday.Year, Month: mday.Month, Day: 15}
	}
	end := civil.Date{Year: mday.Year, Month: mday.Month, Day: 1}.AddDays(-1)
	monthEnd := projections.Query{AsOf: end}
	midMonth := projections.Query{AsOf: mday}
	lateMonth := projections.Query{AsOf: end.AddDays(-1)}
	me, mm, lm := "as_of="+end.String(), "as_of="+mday.String(), "as_of="+end.AddDays(-1).String()
	known := projections.Query{KnownAt: mid}
	both := projections.Query{AsOf: midMonth.AsOf, KnownAt: mid}
	k := "known_at=" + mid.Format(time.RFC3339Nano)
	gaps := func(g string, q projections.Query) func() error {
		return func() error { _, err := reports.FundingGaps(ctx, g, q); return err }
	}
	counts := func(g string, q projections.Query) func() error {
		return func() error { _, err := reports.ModelCounts(ctx, g, q); return err }
	}
	completion := func(g string, q projections.Query) func() error {
		return func() error { _, err := reports.Completion(ctx, "", g, q); return err }
	}
	calls := []struct {
		name string
		run  func() error
	}{
		{"funding-gaps?group_by=unit", gaps("unit", projections.Query{})},
		{"funding-gaps?group_by=source", gaps("source", projections.Query{})},
		{"model-counts?group_by=unit", counts("unit", projections.Query{})},
		{"completion?group_by=unit", completion("unit", projections.Query{})},
		{"funding-gaps?group_by=unit&" + me, gaps("unit", monthEnd)},
		{"funding-gaps?group_by=unit&" + lm, gaps("unit", lateMonth)},
		{"completion?group_by=sector&" + lm, completion("sector", lateMonth)},
		{"completion?group_by=unit&" + me, completion("unit", monthEnd)},
		{"funding-gaps?group_by=unit&" + mm, gaps("unit", midMonth)},
		{"funding-gaps?group_by=source&" + mm, gaps("source", midMonth)},
		{"model-counts?group_by=sector&" + mm, counts("sector", midMonth)},
		{"completion?group_by=sector&" + mm, completion("sector", midMonth)},
		{"funding-gaps?group_by=unit&" + k, gaps("unit", known)},
		{"model-counts?group_by=unit&" + k, counts("unit", known)},
		{"completion?group_by=unit&" + k, completion("unit", known)},
		{"funding-gaps?group_by=unit&" + mm + "&" + k, gaps("unit", both)},
		{"funding-gaps?group_by=year&" + mm + "&" + k, gaps("year", both)},
		{"model-counts?group_by=unit_kind&" + mm + "&" + k, counts("unit_kind", both)},
		{"completion?group_by=sector&" + mm + "&" + k, completion("sector", both)},
		{"completion?group_by=unit&" + mm + "&" + k, completion("unit", both)},
	}
	var out ReportTimings
	for _, c := range calls {
		lat := make([]time.Duration, 0, iters)
		start := time.Now()
		for range iters {
			t0 := time.Now()
			if err := c.run(); err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(t0))
		}
		first, next := millis(lat[0]), 0.0
		for _, d := range lat[1:] {
			next = max(next, millis(d))
		}
		p50, p99 := percentiles(lat)
		out = append(out, ReportTiming{Result: Result{Benchmark: "report " + c.name, Events: iters, Seconds: time.Since(start).Seconds(),
			EventsPerSec: float64(iters) / time.Since(start).Seconds(), P50Millis: p50, P99Millis: p99},
			FirstMillis: first, NextMaxMillis: next})
	}
	return out, nil
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// CatchUpOptions configures CatchUp.
type CatchUpOptions struct {
	Events int // appended while no follower runs (default 5000)
	Batch  int // events per transaction when the follower catches up (default 10)
}

// CatchUp measures the projections' cost per event at a fixed batch size, without the
// timing of a live run: it appends o.Events events of the lag benchmark's kind (proposals of
// recent items) while no follower runs, then follows every projection as serve does
// (Runner.FollowAllWith) with batches of o.Batch events until it has caught up. The batches'
// transaction times, and what PostgreSQL counts meanwhile (pg_stat_statements), are the
// projector's cost of an event at that batch size; on a shared machine they vary less than a
// lag run, whose batch sizes follow the load.
func CatchUp(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, o CatchUpOptions) (Result, error) {
	o.Events = cmp.Or(o.Events, 5000)
	o.Batch = cmp.Or(o.Batch, 10)
	runner, err := projector.NewRunner(projector.RunnerConfig{Pool: pool, Store: store, Projections: readmodel.All(),
		BatchSize: o.Batch})
	if err != nil {
		return Result{}, err
	}
	var (
		mu   sync.Mutex
		took []time.Duration
		last eventstore.Position
	)
	follow := func(until eventstore.Position) (time.Duration, error) {
		fctx, stop := context.WithCancel(ctx)
		defer stop()
		mu.Lock()
		took, last = took[:0], eventstore.Position{}
		mu.Unlock()
		followed := make(chan error, 1)
		start := time.Now()
		checked := start
		go func() {
			followed <- runner.FollowAllWith(fctx, &projector.Observer{Applied: func(b projector.Batch) {
				mu.Lock()
				took, last = append(took, b.Committed.Sub(b.Began)), b.Last
				mu.Unlock()
			}})
		}()
		for {
			select {
			case err := <-followed:
				return 0, fmt.Errorf("catch-up: following stopped: %v", err)
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(time.Millisecond):
			}
			mu.Lock()
			done := !last.Less(until)
			mu.Unlock()
			if !done && time.Since(checked) > 200*time.Millisecond {
				// Nothing to apply (no batch, no callback): the checkpoints say so.
				checked, done = time.Now(), true
				for _, p := range runner.Projections() {
					cp, err := runner.Checkpoint(ctx, p.Name())
					if err != nil {
						return 0, err
					}
					done = done && !cp.Position.Less(until)
				}
			}
			if done {
				wall := time.Since(start)
				stop()
				<-followed
				return wall, nil
			}
		}
	}
	head, err := store.LastCommitted(ctx)
	if err != nil {
		return Result{}, err
	}
	if head != (eventstore.Position{}) {
		if _, err := follow(head); err != nil {
			return Result{}, err
		}
	}
	// Append with a few writers: one event per append, as the lag benchmark does.
	run := ulid.Make().String()
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Pointer[error]
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for i := next.Add(1) - 1; i < int64(o.Events); i = next.Add(1) - 1 {
				id := fmt.Sprintf("cu%s%07d", run, i)
				kind, evs := life(rng, id, true)
				typ, data, err := item.Encode(kind, evs[0])
				if err == nil {
					_, err = store.Append(ctx, string(kind)+"-"+id, eventstore.NoStream, []eventstore.Event{{Type: typ, Data: data}})
				}
				if err != nil {
					failed.Store(&err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return Result{}, *err
	}
	if head, err = store.LastCommitted(ctx); err != nil {
		return Result{}, err
	}
	wall, err := follow(head)
	if err != nil {
		return Result{}, err
	}
	mu.Lock()
	defer mu.Unlock()
	st := LagStats{Path: fmt.Sprintf("FollowAll catching up, batches of %d", o.Batch), Batches: len(took),
		EventsPerBatch: float64(o.Events) / float64(max(1, len(took)))}
	if len(took) > 0 {
		st.BatchP50Millis, st.BatchP99Millis = percentiles(took)
		st.BatchMaxMillis = float64(took[len(took)-1].Microseconds()) / 1000
	}
	return Result{Benchmark: "catch-up", Events: o.Events, Seconds: wall.Seconds(),
		EventsPerSec: float64(o.Events) / wall.Seconds(), Lag: &st, text: printCatchUp}, nil
}

func printCatchUp(w io.Writer, r Result) {
	st := r.Lag
	fmt.Fprintf(w, "catch-up, %s: %d events applied in %.2fs (%.0f/s, %.3f ms of wall time per event)\n",
		st.Path, r.Events, r.Seconds, r.EventsPerSec, 1000*r.Seconds/float64(max(1, r.Events)))
	fmt.Fprintf(w, "batches: %d, %.1f events each; transaction p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		st.Batches, st.EventsPerBatch, st.BatchP50Millis, st.BatchP99Millis, st.BatchMaxMillis)
}
