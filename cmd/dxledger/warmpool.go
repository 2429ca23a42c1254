package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dxledger/dxledger/config"
	"github.com/dxledger/dxledger/projections"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The pool of a process that answers reports (serve, bench reports) keeps warm connections
// (BENCHMARKS.md, "Reports' first call, stop 24"): a new PostgreSQL backend's first report
// cost 15-30 ms on the 10 M store where the next calls took 1-5 ms — its catalog lookups and
// plans, pgx's statement preparation, and the first touch of each shared-buffer page (page
// faults mapping the shared memory; huge pages are not available to count on). So:
//   - every new connection runs the reports' reads once before the pool hands it out
//     (warmer.afterConnect, projections.WarmUp);
//   - the pool keeps servingMinConns connections, servingMinIdle of them idle, made in the
//     background: a request rarely waits for a connection to be made and warmed;
//   - connections live servingLifetime plus up to servingJitter, so they are not all
//     replaced (and warmed again) in the same health check.
const (
	servingMinConns = 4
	servingMinIdle  = 2
	servingLifetime = time.Hour
	servingJitter   = 15 * time.Minute
)

// warmer warms each new connection of a pool with warm. A warm-up that fails is logged and
// the connection kept: it answers as a cold one would. Only a connection the failure closed
// (a cancelled context closes a pgx connection mid-query) is refused, so the pool does not
// hand it out.
type warmer struct {
	warm func(context.Context, *pgx.Conn) error
	log  *slog.Logger

	mu     sync.Mutex
	warmed map[uint32]warmUp // by backend process id
}

// warmUp is what one connection's warm-up did.
type warmUp struct {
	Took time.Duration
	Err  error
}

// reportsWarmer warms a connection with the reports of cfg's province (projections.WarmUp).
func reportsWarmer(cfg config.Config, log *slog.Logger) *warmer {
	return newWarmer(log, func(ctx context.Context, conn *pgx.Conn) error {
		return projections.WarmUp(ctx, conn, cfg.Location)
	})
}

func newWarmer(log *slog.Logger, warm func(context.Context, *pgx.Conn) error) *warmer {
	return &warmer{warm: warm, log: log, warmed: map[uint32]warmUp{}}
}

// tune sets the serving pool's warm-up, sizes and lifetimes on cfg.
func (w *warmer) tune(cfg *pgxpool.Config) {
	cfg.AfterConnect = w.afterConnect
	cfg.BeforeClose = w.forget
	cfg.MinConns = min(servingMinConns, cfg.MaxConns)
	cfg.MinIdleConns = min(servingMinIdle, cfg.MaxConns)
	cfg.MaxConnLifetime = servingLifetime
	cfg.MaxConnLifetimeJitter = servingJitter
}

// afterConnect is the pool's AfterConnect hook.
func (w *warmer) afterConnect(ctx context.Context, conn *pgx.Conn) error {
	start := time.Now()
	err := w.warm(ctx, conn)
	took := time.Since(start)
	pid := conn.PgConn().PID()
	w.mu.Lock()
	w.warmed[pid] = warmUp{Took: took, Err: err}
	w.mu.Unlock()
	if err != nil {
		if conn.IsClosed() {
			return err
		}
		w.log.Warn("connection warm-up failed; the connection is used cold", "pid", pid, "err", err)
		return nil
	}
	w.log.Debug("connection warmed", "pid", pid, "ms", took.Milliseconds())
	return nil
}

// forget drops a closed connection's warm-up: serve replaces its connections every hour.
func (w *warmer) forget(conn *pgx.Conn) {
	w.mu.Lock()
	delete(w.warmed, conn.PgConn().PID())
	w.mu.Unlock()
}

// settle waits (up to limit) until pool holds its MinConns connections, all made and warmed
// in the background, as a serving process's pool does once it has started: a benchmark then
// times the reports, not the start's warm-ups beside them.
func settle(ctx context.Context, pool *pgxpool.Pool, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		st := pool.Stat()
		if st.TotalConns() >= pool.Config().MinConns && st.ConstructingConns() == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// of returns the warm-up of the connection to backend pid, and whether it ran.
func (w *warmer) of(pid uint32) (warmUp, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	u, ok := w.warmed[pid]
	return u, ok
}

// all returns every warm-up so far.
func (w *warmer) all() []warmUp {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]warmUp, 0, len(w.warmed))
	for _, u := range w.warmed {
		out = append(out, u)
	}
	return out
}
