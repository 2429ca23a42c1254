package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/workflows/definition"
	"golang.org/x/time/rate"
)

// DueFinder finds the items that may have a deadline due (a read model; see
// projections.Reports.Due), and counts them.
type DueFinder interface {
	Due(ctx context.Context, today civil.Date, noProgressIn []string, minDays int, overdueIn []string, after string, limit int) ([]item.Ref, error)
	DueCount(ctx context.Context, today civil.Date, noProgressIn []string, minDays int, overdueIn []string, after string) (int64, error)
}

// Deadlines is the process manager that turns the definition's deadlines into events: an item
// funded with no progress report for the definition's days is flagged; an item past its planned
// end date and not implemented becomes overdue. It checks an item when one of its events comes
// through the store's bridge (Handle, a watermill handler) and, on every clock tick (Tick), the
// items a read model says may be due. It keeps no state of its own: it loads each item from
// the store, so it starts at once whatever the store's size and holds no memory per item.
// What it records is idempotent: the command id names the item, the deadline and the date it
// counts from, and the domain refuses a second flag for the same silence, so a redelivered
// event or a second process never records a flag twice.
//
// The ticks' flags are paced: a store that lived for years has tens of thousands of items
// due at once (the 10-million-event store: 57,076 flags on the first tick), and appending
// them all at once competes with the users' commands. A tick appends no more than
// flagsPerTick, and no more than the pace allows (a token bucket of flagsPerTick, refilled at
// flagsPerTick a tickEvery, so a tick the router retries after an error gets no second
// helping), and stops; the next goes on after the last item it finished, and a pass that
// reaches the end starts again from the first. Flags that follow an item's own events
// (Handle) are not paced: users' work brings them.
type Deadlines struct {
	h    *Handler
	due  DueFinder
	page int // due items read at a time

	pace  *rate.Limiter
	clock func() time.Time // the pace's clock: the wall clock (the handler's may stand still)

	mu     sync.Mutex // one tick at a time
	cursor string     // the item id the last tick stopped after; "" starts a pass
	// pending is how many due items the ticks have still to look at (the metric
	// dxledger_deadlines_due_items): those after the cursor, and the ones that failed.
	pending atomic.Int64
}

// DefaultFlagsPerTick bounds the flags a tick appends unless configured (deadline_flags_per_tick):
// at a tick a minute, 17 appends a second at most beside the users', and the 57,076 flags of
// the 10-million-event store's first day in under an hour.
const DefaultFlagsPerTick = 1000

// NewDeadlines returns the deadline process manager for h, paced at DefaultFlagsPerTick a
// minute.
func NewDeadlines(h *Handler, due DueFinder) *Deadlines {
	d := &Deadlines{h: h, due: due, page: duePage, clock: time.Now}
	d.setPace(DefaultFlagsPerTick, time.Minute)
	return d
}

// setPace lets the ticks append flagsPerTick flags every tickEvery, and no more.
func (d *Deadlines) setPace(flagsPerTick int, tickEvery time.Duration) {
	if flagsPerTick <= 0 {
		flagsPerTick = DefaultFlagsPerTick
	}
	d.pace = rate.NewLimiter(rate.Every(tickEvery/time.Duration(flagsPerTick)), flagsPerTick)
}

// Pending is how many due items the ticks have still to look at, as of the last tick.
func (d *Deadlines) Pending() int64 { return d.pending.Load() }

// Handle checks the item an event of the store (a message of the bridge) belongs to. Events
// of other streams, and the manager's own flags, are acknowledged and ignored.
func (d *Deadlines) Handle(msg *message.Message) error {
	rec, err := wmbridge.RecordFromMessage(msg)
	if err != nil {
		return fmt.Errorf("deadlines: %w", err)
	}
	kind, id, ok := strings.Cut(rec.StreamID, "-")
	if !ok || (item.Kind(kind) != item.Model && item.Kind(kind) != item.Project) {
		return nil
	}
	if rec.Metadata.Role == string(role.System) && strings.HasPrefix(rec.Metadata.RequestID, "deadline:") {
		// The manager's own flag: what else is due on the item is the ticks' (paced) work.
		return nil
	}
	ref := item.Ref{Kind: item.Kind(kind), ID: id}
	if c, ok := d.h.states.get(rec.StreamID); ok && (c.version == rec.Version && c.last == rec.ID || c.version > rec.Version && c.head != nil) {
		// The state this process remembers is at this very event, or after it and appended
		// by this process on top of it: no need to read the stream again. (Any write the
		// check makes is still checked by the database; a newer event of another process
		// comes through here too, and is read.)
		d.h.states.unread.Add(1)
		return d.check(msg.Context(), c.item.State, nil)
	}
	return d.checkItem(msg.Context(), ref, nil)
}

// Tick checks every item the read model says may be due today.
func (d *Deadlines) Tick(ctx context.Context) error {
	var noProgressIn, overdueIn []string
	minDays := 0
	for _, v := range d.h.cfg.Definitions.Versions() {
		def, _ := d.h.cfg.Definitions.Get(v)
		for _, dl := range def.Deadlines {
			switch dl.Name {
			case definition.DeadlineNoProgress:
				noProgressIn = append(noProgressIn, dl.In...)
				if minDays == 0 || dl.AfterDays < minDays {
					minDays = dl.AfterDays
				}
			case definition.DeadlineOverdue:
				overdueIn = append(overdueIn, dl.In...)
			}
		}
	}
	// A page of due items at a time, in item id order, from where the last tick stopped: the
	// manager's memory stays a page's whatever the store's size. Errors are kept (the first
	// few named, the rest counted) and the tick goes on with the next item, as before.
	d.mu.Lock()
	defer d.mu.Unlock()
	var (
		errs   []error
		failed int
		paced  bool
	)
	today := d.h.Today()
	after := d.cursor
	// budget allows one more flag, or marks the tick paced: it then allows none. A tick takes
	// no more than its share however long it runs (the bucket refills meanwhile).
	spent := 0
	budget := func() bool {
		paced = paced || spent >= d.pace.Burst() || !d.pace.AllowN(d.clock(), 1)
		if !paced {
			spent++
		}
		return !paced
	}
pages:
	for {
		refs, err := d.due.Due(ctx, today, noProgressIn, minDays, overdueIn, after, d.page)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, ref := range refs {
			err := d.checkItem(ctx, ref, budget)
			if paced { // the item is looked at again by the next tick
				break pages
			}
			if err != nil {
				if failed++; len(errs) < maxTickErrors {
					errs = append(errs, err)
				}
			}
			after = ref.ID
		}
		if len(refs) < d.page {
			after = "" // the pass is done: the next tick starts another
			break
		}
	}
	d.cursor = after
	pending := int64(failed)
	if paced {
		n, err := d.due.DueCount(ctx, today, noProgressIn, minDays, overdueIn, after)
		if err != nil {
			errs = append(errs, err)
		}
		pending += n
		d.h.cfg.Logger.Info("deadlines: the tick's flags are spent; the next tick goes on", "after", after, "due", pending)
	}
	d.pending.Store(pending)
	if failed > len(errs) {
		errs = append(errs, fmt.Errorf("deadlines: %d more items failed", failed-len(errs)))
	}
	return errors.Join(errs...)
}

const (
	duePage       = 1000 // due items read at a time
	maxTickErrors = 20   // errors of one tick named one by one
)

// checkItem records the item's deadlines that are due, each only if budget allows it (nil: no
// bound).
func (d *Deadlines) checkItem(ctx context.Context, ref item.Ref, budget func() bool) error {
	it, err := d.h.LoadItem(ctx, ref.Kind, ref.ID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return d.check(ctx, it.State, budget)
}

func (d *Deadlines) check(ctx context.Context, s item.State, budget func() bool) error {
	record := func(key string, c item.Command) error {
		if budget != nil && !budget() {
			return nil
		}
		return d.record(ctx, s, key, c)
	}
	def, ok := d.h.cfg.Definitions.Get(s.WorkflowVersion)
	if !ok {
		return nil
	}
	today := d.h.Today()
	for _, dl := range def.Deadlines {
		if !slices.Contains(dl.In, string(s.Stage)) {
			continue
		}
		switch dl.Name {
		case definition.DeadlineNoProgress:
			since := s.LastProgressOn
			if since.IsZero() {
				since = s.FirstFundedOn
			}
			if since.IsZero() || today.DaysSince(since) < dl.AfterDays {
				continue
			}
			if !s.FlaggedNoProgress.IsZero() && !s.FlaggedNoProgress.Before(since) {
				continue
			}
			key := "deadline:" + StreamID(s.Kind, s.ID) + ":no_progress:" + since.String()
			if err := record(key, &item.FlagNoProgress{Days: dl.AfterDays}); err != nil {
				return err
			}
		case definition.DeadlineOverdue:
			if s.EndDate.IsZero() || !today.After(s.EndDate) || !s.OverdueSince.IsZero() {
				continue
			}
			key := "deadline:" + StreamID(s.Kind, s.ID) + ":overdue:" + s.EndDate.String()
			if err := record(key, &item.MarkOverdue{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// record runs a deadline command as the system, idempotently.
func (d *Deadlines) record(ctx context.Context, s item.State, key string, c item.Command) error {
	a := Actor{UserID: "system", Role: role.System, RequestID: key}
	_, err := d.h.flag(ctx, a, s.Kind, s.ID, c, Options{IdempotencyKey: key, Route: "deadline"})
	return err
}

// flag runs a deadline command through the handler's write loop: no role or stage check (the
// definition's deadlines already said it applies).
func (h *Handler) flag(ctx context.Context, a Actor, k item.Kind, id string, c item.Command, o Options) (Result, error) {
	return h.run(ctx, a, k, id, o, func(it Item) ([]item.Event, error) {
		meta := item.Meta{Today: h.Today(), Actor: a.UserID}
		switch c := c.(type) {
		case *item.FlagNoProgress:
			c.Meta = meta
		case *item.MarkOverdue:
			c.Meta = meta
		default:
			return nil, fmt.Errorf("workflows: %T is not a deadline command", c)
		}
		return item.Decide(it.State, c)
	})
}
