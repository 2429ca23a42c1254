package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/projections"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The pool serve opens (openDatabase with reportsWarmer's tune) hands out only connections
// whose reports' reads already ran: every connection, the first one made before
// openDatabase returns, those made in the background for MinConns and those made on demand.
func TestServingPoolWarmsEveryConnection(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	cfg, _, err := loadConfig("serve", nil, []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_DB_MAX_CONNS=8"}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := reportsWarmer(cfg, log)
	d, err := openDatabase(ctx, cfg, log, false, w.tune)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pc := d.Pool.Config()
	if pc.MinConns != servingMinConns || pc.MinIdleConns != servingMinIdle || pc.MaxConnLifetime != servingLifetime ||
		pc.MaxConnLifetimeJitter != servingJitter || pc.MaxConns != 8 {
		t.Errorf("serving pool: min %d, min idle %d, lifetime %s + %s, max %d", pc.MinConns, pc.MinIdleConns,
			pc.MaxConnLifetime, pc.MaxConnLifetimeJitter, pc.MaxConns)
	}
	// Hold six connections at once: the pool must make some on demand.
	var held []*pgxpool.Conn
	defer func() {
		for _, c := range held {
			c.Release()
		}
	}()
	seen := map[uint32]bool{}
	for range 6 {
		c, err := d.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		pid := c.Conn().PgConn().PID()
		seen[pid] = true
		u, ok := w.of(pid)
		if !ok || u.Err != nil {
			t.Errorf("connection to backend %d handed out: warmed %v (%v)", pid, ok, u.Err)
		}
		if n := prepared(t, c); n < 5 {
			t.Errorf("connection to backend %d: %d statements prepared before its first use, want the reports' (≥ 5)", pid, n)
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d distinct connections, want 6", len(seen))
	}
}

// prepared counts the statements prepared on c's backend (pgx prepares each statement once
// per connection), by a query that prepares none.
func prepared(t *testing.T, c *pgxpool.Conn) int {
	t.Helper()
	var n int
	if err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_prepared_statements`, pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A connection's warm-up prepares what the reports of today and as of a past day then run on
// it: the statements of every report and grouping (pgx keeps them per connection), so their
// first call on it prepares nothing more.
func TestWarmUpCoversTheReports(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	w := newWarmer(slog.New(slog.NewTextHandler(io.Discard, nil)), func(ctx context.Context, c *pgx.Conn) error {
		return projections.WarmUp(ctx, c, time.UTC)
	})
	pcfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.MaxConns = 1
	w.tune(pcfg)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	statements := func() (uint32, int) {
		c, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
		return c.Conn().PgConn().PID(), prepared(t, c)
	}
	pid, before := statements()
	if before == 0 {
		t.Fatal("no statement prepared by the warm-up")
	}
	reports := projections.NewReports(pool, nil, time.UTC)
	today := civil.Of(time.Now().UTC())
	monthEnd := civil.Date{Year: today.Year, Month: today.Month, Day: 1}.AddDays(-1)
	for _, q := range []projections.Query{{}, {AsOf: monthEnd}, {AsOf: monthEnd.AddDays(-3)}} {
		for _, g := range []string{"unit", "pillar", "sector", "source", "year"} {
			if _, err := reports.FundingGaps(ctx, g, q); err != nil {
				t.Fatal(err)
			}
		}
		for _, g := range []string{"unit", "unit_kind", "pillar", "sector"} {
			if _, err := reports.ModelCounts(ctx, g, q); err != nil {
				t.Fatal(err)
			}
			for _, kind := range []string{"", "model", "project"} {
				if _, err := reports.Completion(ctx, kind, g, q); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if pid2, after := statements(); pid2 != pid || after != before {
		t.Errorf("the reports prepared %d statements more on backend %d (then %d) after the warm-up's %d", after-before, pid2, pid, before)
	}
}

// A warm-up that fails is logged and leaves the connection in the pool, answering as a cold
// one would; only a connection the failure closed is refused.
func TestWarmUpFailureKeepsTheConnection(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	// The reports' tables missing (a schema older than the binary): the warm-up fails.
	if _, err := db.Pool.Exec(ctx, `DROP TABLE pj_group_current`); err != nil {
		t.Fatal(err)
	}
	var logged lockedBuffer
	w := newWarmer(slog.New(slog.NewTextHandler(&logged, nil)), func(ctx context.Context, c *pgx.Conn) error {
		return projections.WarmUp(ctx, c, time.UTC)
	})
	pcfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	w.tune(pcfg)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("a failed warm-up refused the connection: %v", err)
	}
	var one int
	if err := c.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Errorf("the connection after a failed warm-up: %d, %v", one, err)
	}
	u, ok := w.of(c.Conn().PgConn().PID())
	c.Release()
	if !ok || u.Err == nil || !strings.Contains(u.Err.Error(), "pj_group_current") {
		t.Errorf("warm-up recorded %v: %v", ok, u.Err)
	}
	if !strings.Contains(logged.String(), "connection warm-up failed") {
		t.Errorf("log: %q", logged.String())
	}

	// A warm-up that closed its connection (a cancelled context closes a pgx connection
	// mid-query): the pool does not hand it out.
	closing := newWarmer(slog.New(slog.NewTextHandler(io.Discard, nil)), func(ctx context.Context, c *pgx.Conn) error {
		_ = c.Close(ctx)
		return errors.New("closed")
	})
	pcfg, err = pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	closing.tune(pcfg)
	pcfg.MinConns, pcfg.MinIdleConns = 0, 0
	pool2, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool2.Close()
	if c, err := pool2.Acquire(ctx); err == nil {
		c.Release()
		t.Error("a connection closed by its warm-up was handed out")
	}
}

// serve itself opens the warmed pool: its log names each connection it warmed, at least the
// MinConns it keeps, and no failed warm-up.
func TestServeWarmsItsConnections(t *testing.T) {
	db := pgtest.New(t)
	var logs lockedBuffer
	startServeTo(t, []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "debug"}, []string{"DXLEDGER_DATABASE_URL=" + db.URL}, &logs)
	warmed := 0
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if warmed = strings.Count(logs.String(), `msg="connection warmed"`); warmed >= servingMinConns {
			break
		}
	}
	if warmed < servingMinConns {
		t.Errorf("serve warmed %d connections, want at least %d (MinConns)", warmed, servingMinConns)
	}
	if strings.Contains(logs.String(), "warm-up failed") {
		t.Errorf("serve's log: %s", logs.String())
	}
}
