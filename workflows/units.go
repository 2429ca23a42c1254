package workflows

import (
	"context"
	"errors"
	"fmt"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
)

// directory returns the units as the store holds them, read once and kept current by this
// handler's own unit commands. (One writer of units per deployment; several nodes would
// subscribe to unit events instead.)
func (h *Handler) directory(ctx context.Context) (*unit.Directory, error) {
	h.unitsMu.Lock()
	defer h.unitsMu.Unlock()
	if h.units != nil {
		return h.units, nil
	}
	recs, err := h.cfg.Store.ReadPrefix(ctx, "unit-")
	if err != nil {
		return nil, err
	}
	d := unit.NewDirectory(nil)
	for _, r := range recs {
		e, err := unit.Decode(r.Type, r.Data)
		if err != nil {
			return nil, fmt.Errorf("load units: %s v%d: %w", r.StreamID, r.Version, err)
		}
		d.Apply(e)
	}
	h.units = d
	return d, nil
}

// Units returns a snapshot of the units, safe to read while unit commands run.
func (h *Handler) Units(ctx context.Context) (*unit.Directory, error) {
	d, err := h.directory(ctx)
	if err != nil {
		return nil, err
	}
	h.unitsMu.Lock()
	defer h.unitsMu.Unlock()
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
	d, err := h.Units(ctx)
	if err != nil {
		return Result{}, err
	}
	if c.On.IsZero() {
		c.On = h.Today()
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
	d, err := h.Units(ctx)
	if err != nil {
		return Result{}, err
	}
	current, ok := d.Lookup(c.Code)
	if !ok {
		return Result{}, fmt.Errorf("unit %s: %w", c.Code, ErrNotFound)
	}
	if err := d.CheckMerge(c.Code, c.IntoCode, c.EffectiveDate); err != nil {
		return Result{}, err
	}
	return h.unitCommand(ctx, a, current, c, o)
}

// unitCommand decides and appends a unit command, updating the directory. Unit commands are
// serialised by the directory lock, so the version read is the version written.
func (h *Handler) unitCommand(ctx context.Context, a Actor, current unit.State, c unit.Command, o Options) (Result, error) {
	stream := unit.StreamID(c.UnitCode())
	h.unitsMu.Lock()
	defer h.unitsMu.Unlock()
	if err := CheckIfMatch(o, stream, current.Version); err != nil {
		return Result{}, err
	}
	events, err := unit.Decide(current, c)
	if err != nil {
		return Result{}, err
	}
	if len(events) == 0 {
		return Result{ID: c.UnitCode(), Version: current.Version}, nil
	}
	on := h.Today()
	if !o.OccurredOn.IsZero() {
		if o.OccurredOn.After(on) {
			return Result{}, &unit.FieldError{Field: "occurred_on", Code: "item.in_future", Args: []any{on},
				Reason: fmt.Sprintf("must not be in the future (today is %s)", on)}
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
	res, err := h.cfg.Store.Append(ctx, stream, current.Version, out, appendOpts(a, o)...)
	if errors.Is(err, eventstore.ErrCommandReused) {
		return Result{}, ErrIdempotencyMismatch
	}
	if err != nil {
		return Result{}, Conflict(err)
	}
	for _, e := range events {
		h.units.Apply(e)
	}
	return Result{ID: c.UnitCode(), Version: res.ToVersion, Created: current.Version == 0, Position: positionOf(res)}, nil
}

// checkUnitActive: items are registered by units that exist and have not been merged away.
func (h *Handler) checkUnitActive(ctx context.Context, code string, on civil.Date) error {
	d, err := h.Units(ctx)
	if err != nil {
		return err
	}
	u, ok := d.Lookup(code)
	if !ok {
		return &unit.FieldError{Field: "unit_code", Code: "workflows.no_such_unit", Reason: "no such unit"}
	}
	if !u.ActiveOn(on) {
		return &unit.FieldError{Field: "unit_code", Code: "workflows.unit_merged", Args: []any{code, u.MergedInto},
			Reason: fmt.Sprintf("unit %s no longer exists on its own (merged into %s)", code, u.MergedInto)}
	}
	return nil
}

// checkOwnUnit: a focal point acts on their own unit's items, and on the items of units that
// were merged into theirs.
func (h *Handler) checkOwnUnit(ctx context.Context, a Actor, itemUnit string) error {
	if a.UnitCode == "" {
		return errors.New("the focal point is bound to no unit")
	}
	if itemUnit == a.UnitCode {
		return nil
	}
	d, err := h.Units(ctx)
	if err != nil {
		return err
	}
	if d.SuccessorAsOf(itemUnit, h.Today()) == a.UnitCode {
		return nil
	}
	return fmt.Errorf("the item belongs to unit %s, not %s", itemUnit, a.UnitCode)
}
