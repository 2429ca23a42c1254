package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/workflows/definition"
)

// Deadlines is the process manager that turns the definition's deadlines into events: an item
// funded with no progress report for the definition's days is flagged; an item past its planned
// end date and not implemented becomes overdue. It follows items from the store's events (its
// Handle is a watermill handler fed by the store's bridge) and checks them when an event comes
// and on every clock tick (Tick). What it records is idempotent: the command id names the item,
// the deadline and the date it counts from, and the domain refuses a second flag for the same
// silence, so a redelivered event or a second process never records a flag twice.
type Deadlines struct {
	h *Handler

	mu    sync.Mutex
	items map[string]*tracked // by stream id
}

type tracked struct {
	kind            item.Kind
	id              string
	state           item.State
	workflowVersion int
}

// NewDeadlines returns the deadline process manager for h.
func NewDeadlines(h *Handler) *Deadlines {
	return &Deadlines{h: h, items: map[string]*tracked{}}
}

// Handle follows one event of the store (a message of the bridge) and checks the item it
// belongs to. Events of other streams are acknowledged and ignored.
func (d *Deadlines) Handle(msg *message.Message) error {
	rec, err := wmbridge.RecordFromMessage(msg)
	if err != nil {
		return fmt.Errorf("deadlines: %w", err)
	}
	t := d.follow(rec)
	if t == nil {
		return nil
	}
	return d.check(msg.Context(), t)
}

// follow folds an item event into the tracker and returns the item, or nil for other events.
func (d *Deadlines) follow(rec eventstore.Record) *tracked {
	e, err := item.Decode(rec.Type, rec.Data, civil.Of(rec.Metadata.OccurredOn))
	if err != nil {
		return nil // not an item event
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.items[rec.StreamID]
	if t == nil {
		t = &tracked{}
		d.items[rec.StreamID] = t
	}
	if rec.Version <= t.state.Version {
		return t // seen already (redelivery)
	}
	t.state = item.Evolve(t.state, e)
	t.kind, t.id, t.workflowVersion = t.state.Kind, t.state.ID, t.state.WorkflowVersion
	return t
}

// Tick checks every item the manager follows against today's date.
func (d *Deadlines) Tick(ctx context.Context) error {
	d.mu.Lock()
	all := make([]*tracked, 0, len(d.items))
	for _, t := range d.items {
		all = append(all, t)
	}
	d.mu.Unlock()
	var errs []error
	for _, t := range all {
		errs = append(errs, d.check(ctx, t))
	}
	return errors.Join(errs...)
}

func (d *Deadlines) check(ctx context.Context, t *tracked) error {
	d.mu.Lock()
	s := t.state
	d.mu.Unlock()
	if !s.Exists() {
		return nil
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
			if err := d.record(ctx, s, key, &item.FlagNoProgress{Days: dl.AfterDays}); err != nil {
				return err
			}
		case definition.DeadlineOverdue:
			if s.EndDate.IsZero() || !today.After(s.EndDate) || !s.OverdueSince.IsZero() {
				continue
			}
			key := "deadline:" + StreamID(s.Kind, s.ID) + ":overdue:" + s.EndDate.String()
			if err := d.record(ctx, s, key, &item.MarkOverdue{}); err != nil {
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

// flag runs a deadline command: no role or stage check (the definition's deadlines already
// said it applies), the same load → decide → append otherwise.
func (h *Handler) flag(ctx context.Context, a Actor, k item.Kind, id string, c item.Command, o Options) (Result, error) {
	stream := StreamID(k, id)
	if res, found, err := h.previous(ctx, stream, a, o); found || err != nil {
		return Result{ID: id, Version: res.ToVersion, Duplicate: true}, err
	}
	for attempt := 1; ; attempt++ {
		it, err := h.LoadItem(ctx, k, id)
		if err != nil {
			return Result{}, err
		}
		meta := item.Meta{Today: h.Today(), Actor: a.UserID}
		switch c := c.(type) {
		case *item.FlagNoProgress:
			c.Meta = meta
		case *item.MarkOverdue:
			c.Meta = meta
		default:
			return Result{}, fmt.Errorf("workflows: %T is not a deadline command", c)
		}
		events, err := item.Decide(it.State, c)
		if err != nil || len(events) == 0 {
			return Result{ID: id, Version: it.Version}, err
		}
		res, err := h.appendItem(ctx, a, k, id, it.Version, events, o)
		if errors.Is(err, eventstore.ErrConflict) && attempt < h.cfg.Retries {
			continue
		}
		if err != nil {
			return Result{}, err
		}
		return Result{ID: id, Version: res.ToVersion, Duplicate: res.Duplicate}, nil
	}
}
