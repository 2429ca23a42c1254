package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/workflows/definition"
)

// DueFinder finds the items that may have a deadline due (a read model; see
// projections.Reports.Due).
type DueFinder interface {
	Due(ctx context.Context, today civil.Date, noProgressIn []string, minDays int, overdueIn []string, after string, limit int) ([]item.Ref, error)
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
type Deadlines struct {
	h    *Handler
	due  DueFinder
	page int // due items read at a time
}

// NewDeadlines returns the deadline process manager for h.
func NewDeadlines(h *Handler, due DueFinder) *Deadlines {
	return &Deadlines{h: h, due: due, page: duePage}
}

// Handle checks the item an event of the store (a message of the bridge) belongs to. Events
// of other streams are acknowledged and ignored.
func (d *Deadlines) Handle(msg *message.Message) error {
	rec, err := wmbridge.RecordFromMessage(msg)
	if err != nil {
		return fmt.Errorf("deadlines: %w", err)
	}
	kind, id, ok := strings.Cut(rec.StreamID, "-")
	if !ok || (item.Kind(kind) != item.Model && item.Kind(kind) != item.Project) {
		return nil
	}
	ref := item.Ref{Kind: item.Kind(kind), ID: id}
	if c, ok := d.h.states.get(rec.StreamID); ok && (c.version == rec.Version && c.last == rec.ID || c.version > rec.Version && c.head != nil) {
		// The state this process remembers is at this very event, or after it and appended
		// by this process on top of it: no need to read the stream again. (Any write the
		// check makes is still checked by the database; a newer event of another process
		// comes through here too, and is read.)
		d.h.states.unread.Add(1)
		return d.check(msg.Context(), c.item.State)
	}
	return d.checkItem(msg.Context(), ref)
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
	// A page of due items at a time, in item id order: the manager's memory stays a page's
	// whatever the store's size. Errors are kept (the first few named, the rest counted) and
	// the tick goes on with the next item, as before.
	var (
		errs   []error
		failed int
		after  string
	)
	today := d.h.Today()
	for {
		refs, err := d.due.Due(ctx, today, noProgressIn, minDays, overdueIn, after, d.page)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, ref := range refs {
			if err := d.checkItem(ctx, ref); err != nil {
				if failed++; len(errs) < maxTickErrors {
					errs = append(errs, err)
				}
			}
		}
		if len(refs) < d.page {
			break
		}
		after = refs[len(refs)-1].ID
	}
	if failed > len(errs) {
		errs = append(errs, fmt.Errorf("deadlines: %d more items failed", failed-len(errs)))
	}
	return errors.Join(errs...)
}

const (
	duePage       = 1000 // due items read at a time
	maxTickErrors = 20   // errors of one tick named one by one
)

func (d *Deadlines) checkItem(ctx context.Context, ref item.Ref) error {
	it, err := d.h.LoadItem(ctx, ref.Kind, ref.ID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return d.check(ctx, it.State)
}

func (d *Deadlines) check(ctx context.Context, s item.State) error {
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
