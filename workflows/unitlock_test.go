package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/workflows/definition"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Two processes on one database (two pools, two stores, two handlers, each with its own unit
// directory) merge A into B and B into A at the same moment: with the advisory lock exactly
// one merge lands and the other is refused (its successor is merged already); without it both passed their checks and
// the store held a loop (seen: every round), and so it did with the lock while an unrelated
// transaction held the store's horizon behind the first merge (the second decided on a
// directory without it).
func TestUnitMergesSerialisedAcrossProcesses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other := func() *Handler {
		return f.process(t, func(c *Config, pool *pgxpool.Pool) { c.UnitsLock = AdvisoryLock(pool, "unit commands") })
	}
	p, q := other(), other()
	const rounds = 8
	for i := range rounds {
		a, b := fmt.Sprintf("SO-A%d", i), fmt.Sprintf("SO-B%d", i)
		f.unit(a, "Sở "+a, unit.Department, "DT")
		f.unit(b, "Sở "+b, unit.Department, "DT")
	}
	// Both handlers know every unit before the race, as two long-running servers do.
	for _, h := range []*Handler{p, q} {
		if _, err := h.currentUnits(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// An unrelated transaction stays open through the race, as a busy server's appends keep
	// one open: the store's horizon stays behind both merges, and a unit command still
	// decides on every unit event committed.
	tx, err := f.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	on := civil.Date{Year: 2024, Month: 3, Day: 1}
	loops := 0
	for i := range rounds {
		a, b := fmt.Sprintf("SO-A%d", i), fmt.Sprintf("SO-B%d", i)
		var (
			wg     sync.WaitGroup
			start  = make(chan struct{})
			errs   [2]error
			merges = [2]unit.Merge{{Code: a, IntoCode: b, EffectiveDate: on}, {Code: b, IntoCode: a, EffectiveDate: on}}
		)
		for j, h := range []*Handler{p, q} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[j] = h.MergeUnit(ctx, f.admin, merges[j], Options{})
			}()
		}
		close(start)
		wg.Wait()
		switch {
		case errs[0] == nil && errs[1] == nil:
			loops++
		case (errs[0] == nil) == (errs[1] == nil):
			t.Errorf("round %d: both merges refused: %v; %v", i, errs[0], errs[1])
		case !errors.As(errors.Join(errs[0], errs[1]), new(*unit.AlreadyMergedError)) && !errors.As(errors.Join(errs[0], errs[1]), new(*unit.CycleError)):
			t.Errorf("round %d: the losing merge was refused with %v / %v, want its successor already merged", i, errs[0], errs[1])
		}
	}
	if loops > 0 {
		t.Fatalf("%d of %d rounds: A into B and B into A both merged from two processes: the units form a loop", loops, rounds)
	}
	// A third look, from the store: no unit is merged into a unit merged into it.
	tx.Rollback(ctx)
	h := other()
	d, err := h.currentUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range d.All() {
		if u.MergedInto != "" {
			if v, _ := d.Lookup(u.MergedInto); v.MergedInto == u.Code {
				t.Errorf("the store holds %s → %s → %s", u.Code, u.MergedInto, u.Code)
			}
		}
	}
}

// Same-as markings likewise (DESIGN.md invariant 14): two processes marking A the same as B
// and B the same as A at one moment — with the advisory lock exactly one marking lands and
// the other is refused as a loop; without it both landed.
func TestSameAsSerialisedAcrossProcesses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	handler := func(lock bool) *Handler {
		return f.process(t, func(c *Config, pool *pgxpool.Pool) {
			if lock {
				c.SameAsLock = AdvisoryLock(pool, "same-as markings")
			}
		})
	}
	p, q := handler(true), handler(true)
	const rounds = 8
	secretariat := Actor{UserID: "u-bcd", Role: role.SteeringCommittee}
	model := func(title string) string {
		res, err := f.h.Propose(ctx, f.admin, item.Propose{Kind: item.Model, Title: title, UnitCode: "SO-YT", Pillar: item.Society,
			Sector: "health"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	loops := 0
	for i := range rounds {
		a, b := model(fmt.Sprintf("A%d", i)), model(fmt.Sprintf("B%d", i))
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [2]error
		)
		for j, h := range []*Handler{p, q} {
			id, other := a, b
			if j == 1 {
				id, other = b, a
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[j] = h.Act(ctx, secretariat, item.Model, id, ActSameAs, &item.MarkSameAs{ModelID: other}, Options{})
			}()
		}
		close(start)
		wg.Wait()
		switch {
		case errs[0] == nil && errs[1] == nil:
			loops++
		case (errs[0] == nil) == (errs[1] == nil):
			t.Errorf("round %d: both markings refused: %v; %v", i, errs[0], errs[1])
		case !errors.Is(errors.Join(errs[0], errs[1]), ErrSameAsLoop):
			t.Errorf("round %d: the losing marking was refused with %v / %v, want a loop", i, errs[0], errs[1])
		}
	}
	if loops > 0 {
		t.Fatalf("%d of %d rounds: A same as B and B same as A both marked from two processes: a loop", loops, rounds)
	}
}

// The cross-process lock does not take a connection of the pool the command itself needs:
// with a pool of one connection (db_max_conns 1 is accepted), a command under the lock still
// reads and writes; and a wait cancelled on a lock another process holds leaves no session
// holding it behind (found by review: the lock's pooled connection left the command none).
func TestAdvisoryLockLeavesThePoolToTheCommand(t *testing.T) {
	f := newFixture(t)
	cfg, err := pgxpool.ParseConfig(f.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var mu sync.Mutex
	if _, err := alone(ctx, &mu, AdvisoryLock(pool, "pool of one"), func() (Result, error) {
		_, err := pool.Exec(ctx, `SELECT 1`)
		return Result{}, err
	}); err != nil {
		t.Fatalf("a command under the lock, pool of one connection: %v", err)
	}

	other, err := pgxpool.New(context.Background(), f.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	unlock, err := AdvisoryLock(pool, "held")(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wait, cancelWait := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelWait()
	if _, err := AdvisoryLock(other, "held")(wait); err == nil {
		t.Fatal("took a lock another session holds")
	}
	unlock()
	again, cancelAgain := context.WithTimeout(ctx, 2*time.Second)
	defer cancelAgain()
	u, err := AdvisoryLock(pool, "held")(again)
	if err != nil {
		t.Fatalf("the lock is held by the cancelled waiter's session: %v", err)
	}
	u()
	// A closed session's backend ends a moment after its client has gone.
	held := -1
	for end := time.Now().Add(3 * time.Second); held != 0 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if err := other.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted`).Scan(&held); err != nil {
			t.Fatal(err)
		}
	}
	if held != 0 {
		t.Fatalf("%d advisory locks still held after every unlock", held)
	}
}

// process is a handler as another process on f's database has it: its own pool and store, set
// by with before the handler is made.
func (f *fixture) process(t *testing.T, with func(*Config, *pgxpool.Pool)) *Handler {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), f.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, err := eventstore.New(pool, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	reg, err := definition.NewRegistry(definition.Default())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: store, Definitions: reg, Now: func() time.Time { return now }, Location: hcm}
	with(&cfg, pool)
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
