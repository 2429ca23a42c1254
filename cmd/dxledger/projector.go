package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/dxledger/dxledger/internal/progress"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
	"github.com/spf13/pflag"
)

// cmdProjector keeps the projections up to date as a separate worker.
func cmdProjector(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("projector", args, environ, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log, true)
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

// cmdRetry applies the events the projections set aside again (once a new binary or a
// repaired row fixed their cause) and says what applied and what still fails.
func cmdRetry(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	var names []string
	for len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		names, args = append(names, args[0]), args[1:]
	}
	cfg, _, err := loadConfig("projections retry", args, environ, stderr, nil)
	if err != nil {
		return err
	}
	todo, err := projectionsNamed(names)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()
	runner, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Logger: log, Projections: todo})
	if err != nil {
		return err
	}
	results, err := runner.Retry(ctx, todo)
	for _, r := range results {
		fmt.Fprintf(stdout, "%s: %d set-aside events applied, %d still set aside", r.Projection, r.Applied, r.Still)
		if len(r.Streams) > 0 {
			fmt.Fprintf(stdout, " (streams %s)", strings.Join(r.Streams, ", "))
		}
		fmt.Fprintln(stdout)
	}
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Still > 0 {
			return fmt.Errorf("some events still cannot be applied; see the errors above and GET /readyz")
		}
	}
	return nil
}

// projectionNames are the names of the read models, in the order they are kept.
func projectionNames() []string {
	var out []string
	for _, p := range readmodel.All() {
		out = append(out, p.Name())
	}
	return out
}

// projectionsNamed returns the projections named, or all of them when none is.
func projectionsNamed(names []string) ([]projector.Projection, error) {
	var todo []projector.Projection
	for _, n := range names {
		p, ok := readmodel.ByName(n)
		if !ok {
			return nil, fmt.Errorf("no projection %q (have: %s)", n, strings.Join(projectionNames(), ", "))
		}
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		todo = readmodel.All()
	}
	return todo, nil
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
	todo, err := projectionsNamed(names)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()
	total, err := store.Count(ctx)
	if err != nil {
		return err
	}
	// The items' rebuild sorts on disk: under the data directory (or rebuild_temp_dir), not
	// the system's temporary directory, and only with room for it.
	readmodel.SetSpillRoot(cfg.SpillDir())
	if slices.ContainsFunc(todo, func(p projector.Projection) bool { return p.Name() == "items" }) {
		if err := readmodel.CheckSpillSpace(total); err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
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
	name := strings.Join(label, ", ")
	bar := progress.New(stderr, total, "rebuild "+name, log, "rebuilding", "projection", name)
	n, err := runner.RebuildAll(ctx, todo, bar.Update)
	bar.Done()
	if err != nil && ctx.Err() != nil {
		// SIGTERM or SIGINT (main's ctx): the rebuild stops where it is.
		if errors.Is(err, projector.ErrLiveUntouched) {
			return fmt.Errorf("rebuild of %s stopped by a signal after %d events read: the live tables and checkpoints are as they were", name, n)
		}
		return fmt.Errorf("rebuild of %s stopped by a signal after %d events read: %w", name, n, err)
	}
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "rebuilt %s: %d events in %.1fs (%.0f events/s)\n", name, n, secs, float64(n)/max(secs, 1e-9))
	return nil
}
