// Package bench holds dxledger's benchmarks: the store's append and read throughput (beside
// pgbench's floor), realistic item histories for the projection benchmarks, the projections'
// lag, the report queries' latency, and a load generator over real HTTP. Each is an exported
// function taking a typed options struct and returning a Result that prints itself as text or
// JSON; cmd/dxledger only parses the flags and opens the store (see BENCHMARKS.md).
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgcluster"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"
)

// Result is what a benchmark measured; with --json it is printed as is.
type Result struct {
	Benchmark    string  `json:"benchmark"`
	Writers      int     `json:"writers,omitempty"`
	Events       int     `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	P50Millis    float64 `json:"p50_ms"`
	P99Millis    float64 `json:"p99_ms"`
	// The floor: pgbench, one autocommit one-row INSERT per transaction, same client count,
	// same PostgreSQL, right before and right after.
	FloorBeforeTPS float64 `json:"floor_before_tps,omitempty"`
	FloorAfterTPS  float64 `json:"floor_after_tps,omitempty"`
	RatioToFloor   float64 `json:"ratio_to_floor,omitempty"`
	// Transactions is how many transactions the appends took (group commit: several appends
	// arriving together share one), GroupRetries how many groups were rolled back and sent
	// again one append at a time.
	Transactions int64 `json:"transactions,omitempty"`
	GroupRetries int64 `json:"group_retries,omitempty"`
	// Lag is the lag benchmark's detail.
	Lag *LagStats `json:"lag,omitempty"`
	// Writes is the latency of the writes before the waited reads (bench http --waited).
	Writes *Latency `json:"writes,omitempty"`
	// Seed is the seed generate's lives came from: --seed repeats them.
	Seed uint64 `json:"seed,omitempty"`

	text func(io.Writer, Result) // how Print writes it without --json; nil: the store's line
}

// Print writes the result as one JSON object, or as the benchmark's lines of text.
func (r Result) Print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	if r.text != nil {
		r.text(w, r)
		return nil
	}
	fmt.Fprintf(w, "%s: %d events", r.Benchmark, r.Events)
	if r.Writers > 0 {
		fmt.Fprintf(w, ", %d writers", r.Writers)
	}
	_, err := fmt.Fprintf(w, " in %.2fs: %.0f events/s, p50 %.2f ms, p99 %.2f ms\n", r.Seconds, r.EventsPerSec, r.P50Millis, r.P99Millis)
	if r.Transactions > 0 {
		_, err = fmt.Fprintf(w, "group commit: %d transactions, %.2f appends per transaction, %d groups retried one by one\n",
			r.Transactions, float64(r.Events)/float64(r.Transactions), r.GroupRetries)
	}
	if r.Seed != 0 {
		_, err = fmt.Fprintf(w, "seed %d (--seed %d writes the same lives again)\n", r.Seed, r.Seed)
	}
	if r.RatioToFloor > 0 {
		_, err = fmt.Fprintf(w, "floor (pgbench, %d clients, one-row INSERT per transaction): %.0f tps before, %.0f tps after; append = %.2f× the floor\n",
			r.Writers, r.FloorBeforeTPS, r.FloorAfterTPS, r.RatioToFloor)
	}
	return err
}

// Latency is a p50 and a p99.
type Latency struct {
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
}

// payload is ~300 bytes of JSON, the size the performance targets assume.
func payload(i int) []byte {
	return fmt.Appendf(nil, `{"title":"Mô hình chuyển đổi số trong quản lý hồ sơ hành chính, số %d","unit_code":"SO-TTTT","pillar":"government","sector":"general","estimated_cost_vnd":%d,"start_date":"2022-04-01","end_date":"2023-12-31","note":"benchmark"}`, i, 1_000_000_000+i)
}

// AppendOptions configures Append.
type AppendOptions struct {
	// Writers append concurrently, each to its own stream, one event per append (default 16).
	Writers int
	// Events is how many events to append in all (default 20000).
	Events int
	// Floor, when set, has pgbench measure the floor right before and right after.
	Floor *FloorOptions
}

// FloorOptions says where pgbench measures the floor.
type FloorOptions struct {
	Pool   *pgxpool.Pool // creates the floor's table
	URL    string        // the database pgbench connects to
	BinDir string        // where to look for pgbench when it is not on PATH ("" searches)
}

// Append measures append throughput and latency: Writers concurrent writers, each on its own
// stream, one ~300-byte event per append, and with Floor the same client count doing pgbench's
// one-row INSERT before and after.
func Append(ctx context.Context, store *eventstore.Store, o AppendOptions) (Result, error) {
	if o.Writers <= 0 {
		o.Writers = 16
	}
	if o.Events <= 0 {
		o.Events = 20000
	}
	var before, after float64
	var err error
	if o.Floor != nil {
		if before, err = floor(ctx, *o.Floor, o.Writers, o.Events); err != nil {
			return Result{}, err
		}
	}
	res, err := appendEvents(ctx, store, o.Writers, o.Events)
	if err != nil {
		return Result{}, err
	}
	if o.Floor != nil {
		if after, err = floor(ctx, *o.Floor, o.Writers, o.Events); err != nil {
			return Result{}, err
		}
		res.FloorBeforeTPS, res.FloorAfterTPS = before, after
		res.RatioToFloor = res.EventsPerSec / ((before + after) / 2)
	}
	return res, nil
}

func appendEvents(ctx context.Context, store *eventstore.Store, writers, events int) (Result, error) {
	run := strings.ToLower(ulid.Make().String())
	perWriter := events / writers
	if perWriter == 0 {
		perWriter = 1
	}
	lat := make([][]time.Duration, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	groups := store.GroupStats()
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("bench-%s%03d", run, w)
			lat[w] = make([]time.Duration, 0, perWriter)
			for i := 0; i < perWriter; i++ {
				t0 := time.Now()
				_, err := store.Append(ctx, stream, int64(i), []eventstore.Event{{
					Type: "bench.appended.v1", Data: payload(i),
					Metadata: eventstore.Metadata{Actor: "bench", Role: "admin", Unit: "SO-TTTT", RequestID: run},
				}})
				if err != nil {
					errs[w] = err
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	all := slices.Concat(lat...)
	p50, p99 := percentiles(all)
	after := store.GroupStats()
	return Result{Benchmark: "append", Writers: writers, Events: len(all), Seconds: elapsed.Seconds(),
		EventsPerSec: float64(len(all)) / elapsed.Seconds(), P50Millis: p50, P99Millis: p99,
		Transactions: after.Transactions - groups.Transactions, GroupRetries: after.Retries - groups.Retries}, nil
}

// ReadOptions configures Read.
type ReadOptions struct {
	Events int // events to read in global order; the store is filled up to this first (default 100000)
	Batch  int // events per ReadAll call (default 1000)
}

// Read measures global-order read throughput, after filling the store up to o.Events.
func Read(ctx context.Context, store *eventstore.Store, o ReadOptions) (Result, error) {
	if o.Events <= 0 {
		o.Events = 100000
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	events, batch := o.Events, o.Batch
	count, err := store.Count(ctx)
	if err != nil {
		return Result{}, err
	}
	// Fill the store up to the size asked for, in large appends.
	for have := int(count); have < events; {
		n := min(1000, events-have)
		evs := make([]eventstore.Event, n)
		for i := range evs {
			evs[i] = eventstore.Event{Type: "bench.appended.v1", Data: payload(have + i)}
		}
		if _, err := store.Append(ctx, "benchfill-"+ulid.Make().String(), eventstore.NoStream, evs); err != nil {
			return Result{}, err
		}
		have += n
	}
	var lat []time.Duration
	read := 0
	pos := eventstore.Start
	start := time.Now()
	for read < events {
		t0 := time.Now()
		recs, err := store.ReadAll(ctx, pos, min(batch, events-read))
		if err != nil {
			return Result{}, err
		}
		if len(recs) == 0 {
			break
		}
		lat = append(lat, time.Since(t0))
		read += len(recs)
		pos = recs[len(recs)-1].Position
	}
	elapsed := time.Since(start)
	p50, p99 := percentiles(lat)
	return Result{Benchmark: "read", Events: read, Seconds: elapsed.Seconds(),
		EventsPerSec: float64(read) / elapsed.Seconds(), P50Millis: p50, P99Millis: p99}, nil
}

// percentiles returns p50 and p99 in milliseconds.
func percentiles(d []time.Duration) (p50, p99 float64) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds()) / 1000
	}
	return at(0.50), at(0.99)
}

const floorSchema = `CREATE TABLE IF NOT EXISTS bench_floor (
	id bigserial PRIMARY KEY, stream_id text NOT NULL, version bigint NOT NULL, data jsonb NOT NULL,
	UNIQUE (stream_id, version));
CREATE SEQUENCE IF NOT EXISTS bench_floor_version;`

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// floor runs pgbench with clients clients, each doing one autocommit one-row INSERT
// (bigserial key, UNIQUE (stream_id, version), ~300-byte jsonb) per transaction, total
// transactions in all, and returns its transactions per second.
func floor(ctx context.Context, o FloorOptions, clients, total int) (float64, error) {
	if _, err := o.Pool.Exec(ctx, floorSchema); err != nil {
		return 0, fmt.Errorf("floor schema: %w", err)
	}
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		dir, derr := pgcluster.FindBinDir(o.BinDir)
		if derr != nil {
			return 0, fmt.Errorf("pgbench not found: %w", derr)
		}
		pgbench = filepath.Join(dir, "pgbench")
	}
	script, err := os.CreateTemp("", "dxledger-floor-*.sql")
	if err != nil {
		return 0, err
	}
	defer os.Remove(script.Name())
	row := strings.ReplaceAll(string(payload(0)), "'", "''")
	fmt.Fprintf(script, "INSERT INTO bench_floor (stream_id, version, data) VALUES ('c' || :client_id, nextval('bench_floor_version'), '%s');\n", row)
	script.Close()
	perClient := max(1, total/clients)
	cmd := exec.CommandContext(ctx, pgbench, "-n", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 4)),
		"-t", strconv.Itoa(perClient), "-f", script.Name(), o.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps line: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
