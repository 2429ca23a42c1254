package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// cmdProjector keeps the projections up to date as a separate worker.
func cmdProjector(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("projector", args, environ, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()
	runner, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Logger: log,
		Projections: readmodel.All()})
	if err != nil {
		return err
	}
	log.Info("projector running", "projections", len(runner.Projections()))
	return runner.FollowAll(ctx)
}

// cmdRebuild rebuilds one projection (or all) from the first event, with a progress bar (rate
// and time left) on a terminal and plain log lines otherwise.
func cmdRebuild(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	var names []string
	for len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		names, args = append(names, args[0]), args[1:]
	}
	var cpuProfile string
	cfg, fs, err := loadConfig("rebuild", args, environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the rebuild to this file (go tool pprof)")
	})
	if err != nil {
		return err
	}
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
	names = append(names, fs.Args()...)
	var todo []projector.Projection
	for _, n := range names {
		p, ok := readmodel.ByName(n)
		if !ok {
			return fmt.Errorf("rebuild: no projection %q (have: units, items)", n)
		}
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		todo = readmodel.All()
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()
	total, err := store.Count(ctx)
	if err != nil {
		return err
	}
	runner, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Logger: log,
		Projections: todo})
	if err != nil {
		return err
	}
	var label []string
	for _, p := range todo {
		label = append(label, p.Name())
	}
	start := time.Now()
	progress := rebuildProgress(strings.Join(label, ", "), total, stderr, log)
	n, err := runner.RebuildAll(ctx, todo, progress.update)
	progress.done()
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "rebuilt %s: %d events in %.1fs (%.0f events/s)\n", strings.Join(label, ", "), n, secs, float64(n)/max(secs, 1e-9))
	return nil
}

type progress struct {
	update func(applied int64)
	done   func()
}

// rebuildProgress draws a bar on a terminal; elsewhere it logs a line every few seconds.
func rebuildProgress(name string, total int64, w io.Writer, log *slog.Logger) progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("rebuild "+name),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth())
		return progress{update: func(n int64) { _ = bar.Set64(n) }, done: func() { _ = bar.Finish(); fmt.Fprintln(w) }}
	}
	start, last := time.Now(), time.Time{} // the first batch is logged at once
	return progress{
		update: func(n int64) {
			if time.Since(last) < 2*time.Second {
				return
			}
			last = time.Now()
			rate := float64(n) / time.Since(start).Seconds()
			left := time.Duration(float64(total-n) / max(rate, 1) * float64(time.Second))
			log.Info("rebuilding", "projection", name, "events", n, "of", total, "events_per_s", int64(rate), "left", left.Round(time.Second).String())
		},
		done: func() {},
	}
}
