package demo

import (
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
	"github.com/dxledger/dxledger/workflows/definition"
)

// The demo's history is recorded as it would have been entered (issue 12, point 9): a fact is
// recorded days or weeks after its business date, some corrections months later, so that a
// report "as known at" a past meeting differs from one "as of" that day. Only the loader does
// this, in-process: it records through a store and handlers of its own whose clock it moves.
// The server's store, which every client writes through, stamps recorded_at with the real
// clock, and no request field or header changes that.

// Clock is the demo's recording clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now is the moment the clock was last set to.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *Clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Recorder is where Load records: a store on the server's database whose clock the loader
// moves, a handler under workflow version 1 alone (the rules of 2022, before version 2 mended
// them) and one under every built-in version, and the people, created on the same clock.
type Recorder struct {
	clock      *Clock
	store      *eventstore.Store
	v1, latest *workflows.Handler
	people     *identity.Store
	loc        *time.Location
}

// NewRecorder builds the demo's recorder on pool. Close it after Load.
func NewRecorder(pool *pgxpool.Pool, loc *time.Location, log *slog.Logger) (*Recorder, error) {
	if loc == nil {
		loc = time.UTC
	}
	clock := &Clock{t: time.Date(2022, 1, 4, 8, 0, 0, 0, loc)}
	store, err := eventstore.New(pool, eventstore.Config{Now: clock.Now, Logger: log})
	if err != nil {
		return nil, err
	}
	// The people are created on the recording clock, with their password and a first token,
	// before anything they take part in (DESIGN.md invariant 15); that token is made to last
	// from then until well after today, since it is printed as a sample.
	people := identity.New(pool, identity.Config{Events: store, Now: clock.Now, TokenTTL: identity.MaxTokenTTL})
	r := &Recorder{clock: clock, store: store, people: people, loc: loc}
	handler := func(defs ...*definition.Definition) (*workflows.Handler, error) {
		reg, err := definition.NewRegistry(defs...)
		if err != nil {
			return nil, err
		}
		return workflows.NewHandler(workflows.Config{Store: store, Definitions: reg, Location: loc, Logger: log, Now: clock.Now})
	}
	if r.v1, err = handler(definition.Default()); err == nil {
		r.latest, err = handler(definition.Builtin()...)
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	return r, nil
}

// Close closes the recorder's store.
func (r *Recorder) Close() { r.store.Close() }

// lag is a fixed pseudo-random number of days from lo to hi for key: how long after its
// business date a fact was entered.
func lag(key string, lo, hi int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return lo + int(h.Sum32()%uint32(hi-lo+1))
}

// record moves the clock to when the fact of key, dated on and concerning stream, was entered:
// days after on (from lo to hi), during office hours, never before what was entered
// earlier about the same stream (facts of one item are entered in the order they depend on
// each other).
func (l *loader) record(key, stream string, on civil.Date, lo, hi int) {
	if l.rec == nil {
		return
	}
	minutes := lag(key+"@", 0, 8*60)
	t := on.AddDays(lag(key, lo, hi)).Time(l.rec.loc).Add(8*time.Hour + time.Duration(minutes)*time.Minute)
	if last, ok := l.last[stream]; ok && !t.After(last) {
		t = last.Add(time.Minute)
	}
	if stream != "" {
		l.last[stream] = t
	}
	l.rec.clock.set(t)
}
