package main

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
	"github.com/oklog/ulid/v2"
	"github.com/spf13/pflag"
)

const benchUsage = `Usage:
  dxledger bench append   [--writers 16] [--events 20000] [--floor] [--json] [config flags]
  dxledger bench read     [--events 100000] [--batch 1000] [--json] [config flags]
  dxledger bench generate [--events 1000000] [--writers 4]    item lives (~7 events each) for the
                          projection benchmarks; then: dxledger rebuild
  dxledger bench lag      [--rate 1000] [--seconds 20] [--json]  append → visible in projections
  dxledger bench reports  [--iterations 200] [--json]        report latency, today and as of
  dxledger bench http     [--rate 200] [--seconds 20] [--path P ...] | [--commands 16]
                          over real HTTP against DXLEDGER_API_URL with DXLEDGER_TOKEN

Runs against DXLEDGER_DATABASE_URL, or the embedded cluster in --data-dir (use a scratch
directory: the benchmark writes events).
`

// benchResult is what a benchmark prints; --json prints it as is.
type benchResult struct {
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
}

func cmdBench(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "http" {
		return cmdBenchHTTP(ctx, args[1:], environ, stdout, stderr)
	}
	if len(args) == 0 || !slices.Contains([]string{"append", "read", "generate", "lag", "reports"}, args[0]) {
		fmt.Fprint(stderr, benchUsage)
		return errUsage
	}
	kind := args[0]
	var (
		writers, events, batch int
		floor, asJSON, recent  bool
		rate, seconds, iters   int
	)
	cfg, _, err := loadConfig("bench "+kind, args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.IntVar(&writers, "writers", 16, "concurrent writers, each on its own stream")
		fs.IntVar(&events, "events", 0, "events to append or read (default 20000 for append, 100000 for read)")
		fs.IntVar(&batch, "batch", 1000, "events per ReadAll call")
		fs.BoolVar(&floor, "floor", false, "also measure the floor with pgbench before and after")
		fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
		fs.IntVar(&rate, "rate", 1000, "events per second (lag)")
		fs.IntVar(&seconds, "seconds", 20, "how long to run (lag)")
		fs.IntVar(&iters, "iterations", 200, "report calls per report (reports)")
		fs.BoolVar(&recent, "recent", false, "generate: lives within the last 90 days, nothing due for a deadline")
	})
	if err != nil {
		return err
	}
	if events == 0 {
		events = map[string]int{"append": 20000, "read": 100000, "generate": 1_000_000, "lag": 1, "reports": 1}[kind]
	}
	if writers < 1 || writers > 500 || events < 1 || batch < 1 {
		return errors.New("bench: --writers must be 1..500, --events and --batch positive")
	}
	if cfg.DBMaxConns < writers+2 {
		cfg.DBMaxConns = writers + 2
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()

	var res benchResult
	switch kind {
	case "append":
		var before, after float64
		if floor {
			if before, err = pgbenchFloor(ctx, db, cfg.PGBinDir, writers, events); err != nil {
				return err
			}
		}
		if res, err = benchAppend(ctx, store, writers, events); err != nil {
			return err
		}
		if floor {
			if after, err = pgbenchFloor(ctx, db, cfg.PGBinDir, writers, events); err != nil {
				return err
			}
			res.FloorBeforeTPS, res.FloorAfterTPS = before, after
			res.RatioToFloor = res.EventsPerSec / ((before + after) / 2)
		}
	case "read":
		if res, err = benchRead(ctx, store, events, batch); err != nil {
			return err
		}
	case "generate":
		start := time.Now()
		n, err := benchGenerate(ctx, store, min(writers, 8), events, recent)
		if err != nil {
			return err
		}
		res = benchResult{Benchmark: "generate", Events: int(n), Seconds: time.Since(start).Seconds(),
			EventsPerSec: float64(n) / time.Since(start).Seconds()}
	case "lag":
		if res, err = benchLag(ctx, db.Pool, store, rate, seconds); err != nil {
			return err
		}
	case "reports":
		return benchReports(ctx, db, cfg.Location, iters, asJSON, stdout)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%s: %d events", res.Benchmark, res.Events)
	if res.Writers > 0 {
		fmt.Fprintf(stdout, ", %d writers", res.Writers)
	}
	fmt.Fprintf(stdout, " in %.2fs: %.0f events/s, p50 %.2f ms, p99 %.2f ms\n", res.Seconds, res.EventsPerSec, res.P50Millis, res.P99Millis)
	if res.RatioToFloor > 0 {
		fmt.Fprintf(stdout, "floor (pgbench, %d clients, one-row INSERT per transaction): %.0f tps before, %.0f tps after; append = %.2f× the floor\n",
			res.Writers, res.FloorBeforeTPS, res.FloorAfterTPS, res.RatioToFloor)
	}
	return nil
}

// benchPayload is ~300 bytes of JSON, the size the performance targets assume.
func benchPayload(i int) []byte {
	return fmt.Appendf(nil, `{"title":"Mô hình chuyển đổi số trong quản lý hồ sơ hành chính, số %d","unit_code":"SO-TTTT","pillar":"government","sector":"general","estimated_cost_vnd":%d,"start_date":"2022-04-01","end_date":"2023-12-31","note":"benchmark"}`, i, 1_000_000_000+i)
}

func benchAppend(ctx context.Context, store *eventstore.Store, writers, events int) (benchResult, error) {
	run := strings.ToLower(ulid.Make().String())
	perWriter := events / writers
	if perWriter == 0 {
		perWriter = 1
	}
	lat := make([][]time.Duration, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
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
					Type: "bench.appended.v1", Data: benchPayload(i),
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
		return benchResult{}, err
	}
	all := slices.Concat(lat...)
	p50, p99 := percentiles(all)
	return benchResult{Benchmark: "append", Writers: writers, Events: len(all), Seconds: elapsed.Seconds(),
		EventsPerSec: float64(len(all)) / elapsed.Seconds(), P50Millis: p50, P99Millis: p99}, nil
}

func benchRead(ctx context.Context, store *eventstore.Store, events, batch int) (benchResult, error) {
	count, err := store.Count(ctx)
	if err != nil {
		return benchResult{}, err
	}
	// Fill the store up to the size asked for, in large appends.
	for have := int(count); have < events; {
		n := min(1000, events-have)
		evs := make([]eventstore.Event, n)
		for i := range evs {
			evs[i] = eventstore.Event{Type: "bench.appended.v1", Data: benchPayload(have + i)}
		}
		if _, err := store.Append(ctx, "benchfill-"+ulid.Make().String(), eventstore.NoStream, evs); err != nil {
			return benchResult{}, err
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
			return benchResult{}, err
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
	return benchResult{Benchmark: "read", Events: read, Seconds: elapsed.Seconds(),
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

// pgbenchFloor runs pgbench with clients clients, each doing one autocommit one-row INSERT
// (bigserial key, UNIQUE (stream_id, version), ~300-byte jsonb) per transaction, and returns
// its transactions per second.
func pgbenchFloor(ctx context.Context, db *database, binHint string, clients, total int) (float64, error) {
	if _, err := db.Pool.Exec(ctx, floorSchema); err != nil {
		return 0, fmt.Errorf("floor schema: %w", err)
	}
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		dir, derr := pgcluster.FindBinDir(binHint)
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
	payload := strings.ReplaceAll(string(benchPayload(0)), "'", "''")
	fmt.Fprintf(script, "INSERT INTO bench_floor (stream_id, version, data) VALUES ('c' || :client_id, nextval('bench_floor_version'), '%s');\n", payload)
	script.Close()
	perClient := max(1, total/clients)
	cmd := exec.CommandContext(ctx, pgbench, "-n", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 4)),
		"-t", strconv.Itoa(perClient), "-f", script.Name(), db.URL)
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
