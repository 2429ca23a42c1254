package workflows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
)

// unitsMaxAge is how old the directory may be when read: another process's unit commands
// (a second serve, a command beside it on the same database) are seen within it.
const unitsMaxAge = time.Second

// directory returns the units as the store holds them, no older than maxAge: read whole on
// first use, then kept current by this handler's own unit commands and, when it is older
// than maxAge, by the unit events written since the last look (any process's): those of the
// transactions ended since (eventstore ReadPrefixSince), a few index entries a second
// whatever the store's size; with maxAge 0 (a unit command deciding) also those committed
// past the horizon (ReadPrefixCommitted). The caller holds unitsMu.
func (h *Handler) directory(ctx context.Context, maxAge time.Duration) (*unit.Directory, error) {
	if h.dir != nil && time.Since(h.unitsSeen) < maxAge {
		return h.dir, nil
	}
	if h.dir != nil {
		recs, horizon, err := h.cfg.Store.ReadPrefixSince(ctx, "unit-", h.unitsHorizon)
		if err != nil {
			return nil, err
		}
		ok, err := catchUp(h.dir, recs)
		if err != nil {
			return nil, err
		}
		if ok && maxAge == 0 {
			// A unit command decides on every unit event committed now: those past the
			// horizon too (an unrelated transaction may hold it back), read again next time
			// and skipped by version.
			if recs, err = h.cfg.Store.ReadPrefixCommitted(ctx, "unit-", horizon); err != nil {
				return nil, err
			}
			if ok, err = catchUp(h.dir, recs); err != nil {
				return nil, err
			}
		}
		if ok {
			h.unitsHorizon, h.unitsSeen = horizon, time.Now()
			return h.dir, nil
		}
		h.cfg.Logger.Warn("unit directory: a unit event out of order; reading the units again")
	}
	// The horizon first: what commits between it and the read is read again next time, and
	// skipped by its version.
	horizon, err := h.cfg.Store.Horizon(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := h.cfg.Store.ReadPrefix(ctx, "unit-")
	if err != nil {
		return nil, err
	}
	d := unit.NewDirectory(nil)
	if _, err := catchUp(d, recs); err != nil {
		return nil, err
	}
	h.dir, h.unitsHorizon, h.unitsSeen = d, horizon, time.Now()
	return d, nil
}

// catchUp applies to d the unit events it has not applied yet, skipping those it has (by each
// unit's version). It reports false, having applied nothing, when an event would leave a gap
// in a unit's versions: the directory is then to be read again whole.
func catchUp(d *unit.Directory, recs []eventstore.Record) (bool, error) {
	events := make([]unit.Event, 0, len(recs))
	versions := map[string]int64{}
	slices.SortStableFunc(recs, func(a, b eventstore.Record) int {
		return cmp.Or(strings.Compare(a.StreamID, b.StreamID), cmp.Compare(a.Version, b.Version))
	})
	for _, r := range recs {
		e, err := unit.Decode(r.Type, r.Data)
		if err != nil {
			return false, fmt.Errorf("load units: %s v%d: %w", r.StreamID, r.Version, err)
		}
		v, seen := versions[e.UnitCode()]
		if !seen {
			s, _ := d.Lookup(e.UnitCode())
			v = s.Version
		}
		switch {
		case r.Version <= v:
			continue
		case r.Version > v+1:
			return false, nil
		}
		versions[e.UnitCode()] = r.Version
		events = append(events, e)
	}
	for _, e := range events {
		d.Apply(e)
	}
	return true, nil
}

// Units returns a snapshot of the units, safe to read while unit commands run, no more than
// a second old.
func (h *Handler) Units(ctx context.Context) (*unit.Directory, error) {
	return h.units(ctx, unitsMaxAge)
}

// currentUnits returns a snapshot of the units as the store holds them now: what a unit
// command decides on.
func (h *Handler) currentUnits(ctx context.Context) (*unit.Directory, error) {
	return h.units(ctx, 0)
}

func (h *Handler) units(ctx context.Context, maxAge time.Duration) (*unit.Directory, error) {
	h.unitsMu.Lock()
	defer h.unitsMu.Unlock()
	d, err := h.directory(ctx, maxAge)
	if err != nil {
		return nil, err
	}
	return d.Clone(), nil
}

// RegisterUnit registers a unit (admin only).
func (h *Handler) RegisterUnit(ctx context.Context, a Actor, c unit.Register, o Options) (Result, error) {
	if a.Role != role.Admin {
		return Result{}, &ForbiddenError{Role: a.Role, Action: "register a unit", Reason: "only an administrator manages units"}
	}
	if res, found, err := h.previous(ctx, unit.StreamID(c.Code), a, o); found || err != nil {
		return Result{ID: c.Code, Version: res.ToVersion, Duplicate: true}, err
	}
	return h.serialUnits(ctx, func() (Result, error) { return h.registerUnit(ctx, a, c, o) })
}

func (h *Handler) registerUnit(ctx context.Context, a Actor, c unit.Register, o Options) (Result, error) {
	d, err := h.currentUnits(ctx)
	if err != nil {
		return Result{}, err
	}
	if today := h.Today(); c.On.IsZero() {
		c.On = today
	} else if c.On.After(today) {
		// occurred_on, the registration's business date, is never in the future (API.md,
		// Conventions), as for every other write.
		return Result{}, occurredInFuture(today)
	}
	if c.ParentCode != "" {
		parent, ok := d.Lookup(c.ParentCode)
		if !ok {
			return Result{}, &unit.FieldError{Field: "parent_code", Code: "workflows.no_such_unit", Reason: "no such unit"}
		}
		c.ParentKind = parent.Kind
	}
	current, _ := d.Lookup(c.Code)
	return h.unitCommand(ctx, a, current, c, o)
}

// MergeUnit merges a unit into its successor from an effective date (admin only).
func (h *Handler) MergeUnit(ctx context.Context, a Actor, c unit.Merge, o Options) (Result, error) {
	if a.Role != role.Admin {
		return Result{}, &ForbiddenError{Role: a.Role, Action: "merge a unit", Reason: "only an administrator manages units"}
	}
	if res, found, err := h.previous(ctx, unit.StreamID(c.Code), a, o); found || err != nil {
		return Result{ID: c.Code, Version: res.ToVersion, Duplicate: true}, err
	}
	return h.serialUnits(ctx, func() (Result, error) { return h.mergeUnit(ctx, a, c, o) })
}

func (h *Handler) mergeUnit(ctx context.Context, a Actor, c unit.Merge, o Options) (Result, error) {
	d, err := h.currentUnits(ctx)
	if err != nil {
		return Result{}, err
	}
	current, ok := d.Lookup(c.Code)
	if !ok {
		return Result{}, fmt.Errorf("unit %s: %w", c.Code, ErrNotFound)
	}
	if _, err := unit.Decide(current, c); err != nil { // the unit's own fields first, as a split's
		return Result{}, onDecideField(err, c)
	}
	if err := checkSuccessor(d, "into_code", c.Code, c.IntoCode, c.EffectiveDate); err != nil {
		return Result{}, err
	}
	return h.unitCommand(ctx, a, current, c, o)
}

// unitCommand decides and appends a unit command, updating the directory. Unit commands are
// serialised (serialUnits: in this process, and across processes with Config.UnitsLock), so
// the directory read is the directory the command is appended onto.
func (h *Handler) unitCommand(ctx context.Context, a Actor, current unit.State, c unit.Command, o Options) (Result, error) {
	stream := unit.StreamID(c.UnitCode())
	h.unitsMu.Lock()
	defer h.unitsMu.Unlock()
	if err := CheckIfMatch(o, stream, current.Version); err != nil {
		return Result{}, err
	}
	events, err := unit.Decide(current, c)
	if err != nil {
		return Result{}, onDecideField(err, c)
	}
	if len(events) == 0 {
		return Result{ID: c.UnitCode(), Version: current.Version}, nil
	}
	on := h.Today()
	if !o.OccurredOn.IsZero() {
		if o.OccurredOn.After(on) {
			return Result{}, occurredInFuture(on)
		}
		on = o.OccurredOn
	}
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		typ, data, err := unit.Encode(e)
		if err != nil {
			return Result{}, err
		}
		out[i] = eventstore.Event{Type: typ, Data: data, Metadata: metadata(a, on, h.cfg.Location)}
	}
	res, err := h.appendTo(ctx, a, o, stream, current.Version, out)
	if err != nil {
		return Result{}, err
	}
	for _, e := range events {
		h.dir.Apply(e)
	}
	return Result{ID: c.UnitCode(), Version: res.ToVersion, Created: current.Version == 0, Position: positionOf(res)}, nil
}

// SplitUnit dissolves a unit and hands its items to successors from an effective date (admin
// only): each item named in a part to that part's successor, the rest to RestIntoCode. Every
// item named must be the unit's on the day before (its own, or of a unit merged into it).
func (h *Handler) SplitUnit(ctx context.Context, a Actor, c unit.SplitUnit, o Options) (Result, error) {
	if a.Role != role.Admin {
		return Result{}, &ForbiddenError{Role: a.Role, Action: "split a unit", Reason: "only an administrator manages units"}
	}
	if res, found, err := h.previous(ctx, unit.StreamID(c.Code), a, o); found || err != nil {
		return Result{ID: c.Code, Version: res.ToVersion, Duplicate: true}, err
	}
	return h.serialUnits(ctx, func() (Result, error) { return h.splitUnit(ctx, a, c, o) })
}

func (h *Handler) splitUnit(ctx context.Context, a Actor, c unit.SplitUnit, o Options) (Result, error) {
	d, err := h.currentUnits(ctx)
	if err != nil {
		return Result{}, err
	}
	current, ok := d.Lookup(c.Code)
	if !ok {
		return Result{}, fmt.Errorf("unit %s: %w", c.Code, ErrNotFound)
	}
	if _, err := unit.Decide(current, c); err != nil { // the fields first, then what spans streams
		return Result{}, onDecideField(err, c)
	}
	if err := checkSuccessor(d, "rest_into_code", c.Code, c.RestIntoCode, c.EffectiveDate); err != nil {
		return Result{}, err
	}
	for i, p := range c.Parts { // Directory.CheckSplit, each refusal naming its field
		if err := checkSuccessor(d, fmt.Sprintf("parts[%d].into_code", i), c.Code, p.IntoCode, c.EffectiveDate); err != nil {
			return Result{}, err
		}
	}
	before := c.EffectiveDate.AddDays(-1)
	for i, p := range c.Parts {
		for _, id := range p.ItemIDs {
			it, err := h.loadAnyItem(ctx, id)
			if err == nil && d.ItemSuccessorAsOf(it.UnitCode, id, before) != c.Code {
				err = fmt.Errorf("belongs to unit %s", d.ItemSuccessorAsOf(it.UnitCode, id, before))
			}
			if err != nil {
				return Result{}, &unit.FieldError{Field: fmt.Sprintf("parts[%d].item_ids", i), Code: "workflows.not_the_units_item",
					Args: []any{id, c.Code}, Reason: fmt.Sprintf("item %s is not an item of unit %s on the day before the split: %v", id, c.Code, err)}
			}
		}
	}
	return h.unitCommand(ctx, a, current, c, o)
}

// loadAnyItem loads the model or project with the given id.
func (h *Handler) loadAnyItem(ctx context.Context, id string) (Item, error) {
	if len(id) > 64 {
		return Item{}, ErrNotFound
	}
	it, err := h.LoadItem(ctx, item.Model, id)
	if errors.Is(err, ErrNotFound) {
		it, err = h.LoadItem(ctx, item.Project, id)
	}
	return it, err
}

// checkUnitActive: an item is registered for a unit that had not ended (merged, split or
// dissolved) by the item's business date (DESIGN.md invariant 12): history entered late goes
// under the unit it belonged to then. A date before the unit's registration is let be: a
// unit registered without a date is registered on the day it was entered, not the day it
// came to be.
func (h *Handler) checkUnitActive(ctx context.Context, code string, on civil.Date) error {
	d, err := h.Units(ctx)
	if err != nil {
		return err
	}
	u, ok := d.Lookup(code)
	if !ok {
		return &unit.FieldError{Field: "unit_code", Code: "workflows.no_such_unit", Reason: "no such unit"}
	}
	if ended(u, on) {
		return unitGone("unit_code", u)
	}
	return nil
}

// ended reports whether unit u had been merged, split or dissolved by the end of day on.
func ended(u unit.State, on civil.Date) bool {
	end := u.EndedOn()
	return !end.IsZero() && !on.Before(end)
}

// unitGone says that unit u no longer existed: merged, split or dissolved.
func unitGone(field string, u unit.State) error {
	succ := strings.Join(u.Successors(), ", ")
	if succ == "" {
		succ = "-"
	}
	return &unit.FieldError{Field: field, Code: "workflows.unit_ended", Args: []any{u.Code, u.EndedOn(), succ},
		Reason: fmt.Sprintf("unit %s no longer exists from %s (successor: %s)", u.Code, u.EndedOn(), succ)}
}

// CheckBindable refuses to bind an account to a unit that does not exist today (issue 14): a
// focal point acts for a unit that lives. The error names field.
func (h *Handler) CheckBindable(ctx context.Context, field, code string) error {
	d, err := h.Units(ctx)
	if err != nil {
		return err
	}
	u, ok := d.Lookup(code)
	if !ok {
		return &unit.FieldError{Field: field, Code: "workflows.no_such_unit", Reason: "no such unit"}
	}
	if ended(u, h.Today()) {
		return unitGone(field, u)
	}
	return nil
}

// checkProposer: a focal point registers items of their unit and, for a business date before
// a merger or split, of the unit it belonged to then whose items their unit now succeeds
// (the items a split names in no part: a new item is in none).
func (h *Handler) checkProposer(ctx context.Context, a Actor, itemUnit string) error {
	if a.Role != role.FocalPoint {
		return nil
	}
	if err := h.checkOwnUnit(ctx, a, itemUnit, ""); err != nil {
		return &ForbiddenError{Role: a.Role, Action: ActPropose, Reason: "a focal point registers items of their own unit only: " + err.Error()}
	}
	return nil
}

// checkOwnUnit: a focal point acts on the items their unit holds today (DESIGN.md invariant
// 12, issue 14): their own unit's, and the items of units merged into theirs or handed to it
// by a split, once effective. A focal point whose unit has been merged or split away acts on
// nothing: the successor's focal points act for its items.
func (h *Handler) checkOwnUnit(ctx context.Context, a Actor, itemUnit, itemID string) error {
	if a.UnitCode == "" {
		return errors.New("the focal point is bound to no unit")
	}
	d, err := h.Units(ctx)
	if err != nil {
		return err
	}
	today := h.Today()
	if u, ok := d.Lookup(a.UnitCode); ok && ended(u, today) {
		return fmt.Errorf("unit %s no longer exists from %s; its items are acted on by its successor's focal points (%s)",
			u.Code, u.EndedOn(), strings.Join(u.Successors(), ", "))
	}
	if succ := d.ItemSuccessorAsOf(itemUnit, itemID, today); succ != a.UnitCode {
		return fmt.Errorf("the item belongs to unit %s today, not %s", succ, a.UnitCode)
	}
	return nil
}

// checkSourceLive refuses money asked of a funding source that did not exist on the
// request's business date or for its budget year (the district budget ended with the
// districts, 01/07/2025).
func checkSourceLive(source string, on civil.Date, year int) error {
	life := unit.SourceLife(source)
	if life.Until.IsZero() {
		return nil
	}
	if !life.On(on) || year > life.Until.Year {
		return &unit.FieldError{Field: "source", Code: "workflows.source_ended", Args: []any{source, life.Until},
			Reason: fmt.Sprintf("the source %s no longer exists from %s", source, life.Until)}
	}
	return nil
}

// occurredInFuture refuses a unit command's occurred_on after today, in the words an item
// command's refusal uses (item.in_future).
func occurredInFuture(today civil.Date) error {
	return &unit.FieldError{Field: "occurred_on", Code: "item.in_future", Args: []any{today},
		Reason: fmt.Sprintf("must not be in the future (today is %s)", today)}
}
