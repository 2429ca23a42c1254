package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/dxledger/dxledger/internal/bench"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"
)

const benchUsage = `Usage:
  dxledger bench append   [--writers 16] [--events 20000] [--floor] [--json] [config flags]
  dxledger bench read     [--events 100000] [--batch 1000] [--json] [config flags]
  dxledger bench generate [--events 1000000] [--writers 4] [--bulk [--chunk 20000]] [--seed N]
                          item lives (~7 events each, started 2022-01-01 to a month ago) for the
                          projection benchmarks; --bulk writes the same rows with COPY, --chunk
                          events per commit (for 10 M events); then: dxledger rebuild
  dxledger bench lag      [--rate 1000] [--seconds 20] [--items-alone] [--warmup 2] [--json]
                          append → visible in every projection, followed as serve does
  dxledger bench catchup  [--events 5000] [--batch 10] [--json]
                          the projections' cost per event at a fixed batch size: append, then
                          follow as serve does until caught up
  dxledger bench reports  [--iterations 200] [--no-warmup] [--json]  report latency, today and as of
  dxledger bench http     [--rate 200] [--seconds 20] [--path P ...] | [--commands 16] | [--waited 4 [--path P]]
                          over real HTTP against DXLEDGER_API_URL with DXLEDGER_TOKEN
  dxledger bench commands [--writers 16] [--events 2000] [--no-cache] [--json]
                          command latency (report_progress, in process through workflows.Handler)
                          on items with 10 and with 1,000 events, and the p99 ratio

Runs against DXLEDGER_DATABASE_URL, or the embedded cluster in --data-dir (use a scratch
directory: the benchmark writes events).
`

// cmdBench parses a benchmark's flags, opens the store and runs it (package bench).
func cmdBench(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "http" {
		return cmdBenchHTTP(ctx, args[1:], environ, stdout, stderr)
	}
	if len(args) == 0 || !slices.Contains([]string{"append", "read", "generate", "lag", "catchup", "reports", "commands"}, args[0]) {
		fmt.Fprint(stderr, benchUsage)
		return errUsage
	}
	kind := args[0]
	var (
		writers, events, batch int
		floor, asJSON, recent  bool
		bulk                   bool
		chunk                  int
		seed                   uint64
		rate, seconds, iters   int
		itemsAlone             bool
		warmup                 int
		cpuProfile             string
		noCache                bool
		noWarmup               bool
	)
	cfg, _, err := loadConfig("bench "+kind, args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.IntVar(&writers, "writers", 16, "concurrent writers, each on its own stream")
		fs.IntVar(&events, "events", 0, "events to append or read (default 20000 for append, 100000 for read)")
		fs.IntVar(&batch, "batch", 0, "events per ReadAll call (read, default 1000); events per batch (catchup, default 10)")
		fs.BoolVar(&floor, "floor", false, "also measure the floor with pgbench before and after")
		fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
		fs.IntVar(&rate, "rate", 1000, "events per second (lag)")
		fs.IntVar(&seconds, "seconds", 20, "how long to run (lag)")
		fs.IntVar(&iters, "iterations", 200, "report calls per report (reports)")
		fs.BoolVar(&itemsAlone, "items-alone", false, "lag: follow the items projection alone (FollowWith), not all of them as serve does")
		fs.IntVar(&warmup, "warmup", 2, "lag: seconds of events sent first at the same rate and not counted (0: none)")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the benchmark to this file (go tool pprof)")
		fs.BoolVar(&recent, "recent", false, "generate: lives within the last 90 days, nothing due for a deadline")
		fs.BoolVar(&bulk, "bulk", false, "generate: write the rows with COPY in committed chunks instead of one append per life")
		fs.IntVar(&chunk, "chunk", 20000, "generate --bulk: events per committed COPY")
		fs.Uint64Var(&seed, "seed", 0, "generate: seed of the lives' random choices (0: the clock)")
		fs.BoolVar(&noWarmup, "no-warmup", false, "reports: the pool without serve's connection warm-up (as before stop 24)")
		fs.BoolVar(&noCache, "no-cache", false, "commands: the handler without its state cache (every command loads the whole stream)")
	})
	if err != nil {
		return err
	}
	if events == 0 {
		events = map[string]int{"append": 20000, "read": 100000, "generate": 1_000_000, "lag": 1, "catchup": 5000, "reports": 1, "commands": 2000}[kind]
	}
	if batch == 0 {
		batch = map[string]int{"catchup": 10}[kind]
		batch = cmp.Or(batch, 1000)
	}
	if writers < 1 || writers > 500 || events < 1 || batch < 1 {
		return errors.New("bench: --writers must be 1..500, --events and --batch positive")
	}
	if cfg.DBMaxConns < writers+2 {
		cfg.DBMaxConns = writers + 2
	}
	log := newLogger(cfg, stderr)
	var tune []func(*pgxpool.Config)
	warm := reportsWarmer(cfg, log) // reports: serve's pool, its connections warmed (warmpool.go)
	if kind == "reports" && !noWarmup {
		tune = append(tune, warm.tune)
	}
	db, store, err := openStore(ctx, cfg, log, false, tune...) // a benchmark writes: never into a serving store
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var res bench.Result
	switch kind {
	case "append":
		o := bench.AppendOptions{Writers: writers, Events: events}
		if floor {
			o.Floor = &bench.FloorOptions{Pool: db.Pool, URL: db.URL, BinDir: cfg.PGBinDir}
		}
		res, err = bench.Append(ctx, store, o)
	case "read":
		res, err = bench.Read(ctx, store, bench.ReadOptions{Events: events, Batch: batch})
	case "generate":
		o := bench.GenerateOptions{Events: events, Writers: writers, Recent: recent, Seed: seed, Chunk: chunk}
		if bulk {
			res, err = bench.GenerateBulk(ctx, db.Pool, store, o)
		} else {
			res, err = bench.Generate(ctx, store, o)
		}
	case "lag":
		res, err = bench.Lag(ctx, db.Pool, store, bench.LagOptions{Rate: rate, Seconds: seconds, ItemsAlone: itemsAlone, Warmup: cmp.Or(warmup, -1)})
	case "catchup":
		res, err = bench.CatchUp(ctx, db.Pool, store, bench.CatchUpOptions{Events: events, Batch: batch})
	case "reports":
		settle(ctx, db.Pool, 30*time.Second) // serve's pool once started: its connections made and warmed
		timings, err := bench.Reports(ctx, db.Pool, bench.ReportsOptions{Iterations: iters, Location: cfg.Location})
		if err != nil {
			return err
		}
		if err := timings.Print(stdout, asJSON); err != nil || asJSON {
			return err
		}
		for _, u := range warm.all() {
			fmt.Fprintf(stdout, "connection warm-up %.1f ms (err %v)\n", float64(u.Took.Microseconds())/1000, u.Err)
		}
		return nil
	case "commands":
		r, err := bench.Commands(ctx, store, bench.CommandsOptions{Clients: writers, Commands: events, NoCache: noCache})
		if err != nil {
			return err
		}
		return r.Print(stdout, asJSON)
	}
	if err != nil {
		return err
	}
	return res.Print(stdout, asJSON)
}

// cmdBenchHTTP is the load generator over real HTTP against a running server (DXLEDGER_API_URL,
// DXLEDGER_TOKEN): reads at a fixed rate, or --commands clients posting funding requests (the
// token must then be an administrator's).
func cmdBenchHTTP(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	var (
		o      bench.HTTPOptions
		asJSON bool
		waited int
	)
	cfg, _, err := loadConfig("bench http", args, environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringArrayVar(&o.Paths, "path", nil, "GET this path (repeat for several; default: the three reports)")
		fs.IntVar(&o.Rate, "rate", 200, "reads: requests per second, sent whatever the answers' pace")
		fs.IntVar(&o.Seconds, "seconds", 20, "how long")
		fs.IntVar(&o.Clients, "commands", 0, "instead of reads: this many clients posting funding requests")
		fs.IntVar(&waited, "waited", 0, "instead of reads: this many clients each posting a funding request, then reading --path (the first; default a report) with the write's Dxledger-Min-Position")
		fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	})
	if err != nil {
		return err
	}
	o.URL, o.Token = cfg.APIURL, cfg.Token
	var res bench.Result
	switch {
	case waited > 0:
		o.Clients = waited
		res, err = bench.HTTPWaited(ctx, o)
	case o.Clients > 0:
		res, err = bench.HTTPCommands(ctx, o)
	default:
		res, err = bench.HTTPReads(ctx, o)
	}
	if err != nil {
		return err
	}
	return res.Print(stdout, asJSON)
}
