package workflows

import (
	"context"
	"errors"
	"fmt"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/workflows/dtiframe"
)

// Frameworks returns the DTI frameworks: those configured (Config.Frameworks), else the
// embedded ones.
func (h *Handler) Frameworks() *dti.Registry {
	if h.cfg.Frameworks != nil {
		return h.cfg.Frameworks
	}
	return defaultFrameworks
}

var defaultFrameworks = dtiframe.Default()

// DTIScore scores main-index values under a framework (a what-if; nothing is stored).
func (h *Handler) DTIScore(framework string, values map[string]string) (dti.Score, error) {
	return h.Frameworks().Score(framework, values)
}

// mayPlan: the steering committee's secretariat and the administrator keep indicators,
// targets and the DTI.
func mayPlan(a Actor, action string) error {
	if a.Role == role.Admin || a.Role == role.SteeringCommittee {
		return nil
	}
	return &ForbiddenError{Role: a.Role, Action: action, Reason: "the steering committee's secretariat keeps indicators, targets and the DTI"}
}

// LoadIndicator folds an indicator's stream. An unknown indicator is ErrNotFound.
func (h *Handler) LoadIndicator(ctx context.Context, code string) (indicator.State, error) {
	if !indicator.ValidCode(code) {
		return indicator.State{}, fmt.Errorf("indicator %q: %w", code, ErrNotFound)
	}
	recs, err := h.cfg.Store.ReadStream(ctx, indicator.StreamID(code), 0)
	if err != nil {
		return indicator.State{}, err
	}
	var s indicator.State
	for _, r := range recs {
		e, err := indicator.Decode(r.Type, r.Data)
		if err != nil {
			return indicator.State{}, fault.Wrap(fault.Conflict, "workflows.unreadable_history",
				fmt.Errorf("the history of %s holds event %d (%s) that this server cannot read: %w", r.StreamID, r.Version, r.Type, err))
		}
		s = indicator.Evolve(s, e)
	}
	return s, nil
}

// IndicatorCommand runs a command on the indicator called code: who may, the units it names,
// the domain's decision, the append at the version read.
func (h *Handler) IndicatorCommand(ctx context.Context, a Actor, code string, c indicator.Command, o Options) (Result, error) {
	stream := indicator.StreamID(code)
	if !indicator.ValidCode(code) {
		return Result{}, &indicator.FieldError{Field: "code", Reason: "1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit"}
	}
	if res, found, err := h.previous(ctx, stream, a, o); found || err != nil {
		return Result{ID: code, Version: res.ToVersion, Duplicate: true, Position: positionOf(res)}, err
	}
	today := h.Today()
	future := func(field string, d civil.Date) error {
		if d.After(today) {
			return &indicator.FieldError{Field: field, Reason: fmt.Sprintf("must not be in the future (today is %s)", today)}
		}
		return nil
	}
	on := today
	if !o.OccurredOn.IsZero() {
		on = o.OccurredOn
	}
	if err := future("occurred_on", on); err != nil {
		return Result{}, err
	}
	for attempt := 0; ; attempt++ {
		s, err := h.LoadIndicator(ctx, code)
		if err != nil {
			return Result{}, err
		}
		if err := CheckIfMatch(o, stream, s.Version); err != nil {
			return Result{}, err
		}
		var (
			business civil.Date
			cmd      indicator.Command
		)
		switch c := c.(type) {
		case indicator.Define:
			business = dateOr(&c.EffectiveDate, on)
			err = errors.Join(mayPlan(a, "define an indicator"), h.checkUnit(ctx, "unit_code", c.UnitCode, true))
			if err == nil {
				err = future("effective_date", business)
			}
			cmd = c
		case indicator.Revise:
			business = dateOr(&c.EffectiveDate, on)
			err = errors.Join(mayPlan(a, "revise an indicator"), h.checkUnit(ctx, "unit_code", c.UnitCode, true))
			if err == nil {
				err = future("effective_date", business)
			}
			cmd = c
		case indicator.SetBaseline:
			business = dateOr(&c.On, on)
			err = errors.Join(mayPlan(a, "set a baseline"), h.checkScope(ctx, c.Scope))
			if err == nil {
				err = future("occurred_on", business)
			}
			cmd = c
		case indicator.SetTarget:
			business = dateOr(&c.On, on)
			err = errors.Join(mayPlan(a, "set a target"), h.checkScope(ctx, c.Scope))
			if err == nil {
				err = future("occurred_on", business)
			}
			cmd = c
		case indicator.ReportActual:
			business = dateOr(&c.Date, on)
			err = h.mayReportActual(ctx, a, s, c.Scope)
			if err == nil {
				err = errors.Join(h.checkScope(ctx, c.Scope), future("date", c.Date))
			}
			cmd = c
		}
		if err != nil {
			return Result{}, err
		}
		events, err := indicator.Decide(s, code, cmd)
		if err != nil {
			return Result{}, err
		}
		out := make([]eventstore.Event, len(events))
		for i, e := range events {
			typ, data, err := indicator.Encode(e)
			if err != nil {
				return Result{}, err
			}
			out[i] = eventstore.Event{Type: typ, Data: data, Metadata: metadata(a, business, h.cfg.Location)}
		}
		res, err := h.appendTo(ctx, a, o, stream, s.Version, out)
		if errors.Is(err, eventstore.ErrConflict) && o.IfMatch == nil && attempt < h.cfg.Retries {
			continue
		}
		if err != nil {
			return Result{}, err
		}
		return Result{ID: code, Version: res.ToVersion, Created: s.Version == 0, Duplicate: res.Duplicate, Position: positionOf(res)}, nil
	}
}

// mayReportActual: the secretariat and the administrator report any figure; a focal point
// reports the figures of the indicators their unit is responsible for (or of a unit merged
// into theirs), and those of their own unit's scope.
func (h *Handler) mayReportActual(ctx context.Context, a Actor, s indicator.State, scope string) error {
	if a.Role == role.Admin || a.Role == role.SteeringCommittee {
		return nil
	}
	if a.Role == role.FocalPoint && s.Defined {
		for _, u := range []string{s.Definition.UnitCode, scope} {
			if u != "" && u != indicator.Province && h.checkOwnUnit(ctx, a, u, "") == nil {
				return nil
			}
		}
		return &ForbiddenError{Role: a.Role, Action: "report this indicator", Reason: "another unit is responsible for it"}
	}
	if a.Role == role.FocalPoint {
		return nil // an unknown indicator: the domain says so (404)
	}
	return &ForbiddenError{Role: a.Role, Action: "report an indicator's figure", Reason: "the responsible unit's focal point or the secretariat reports figures"}
}

// checkUnit: a unit named by a command exists.
func (h *Handler) checkUnit(ctx context.Context, field, code string, optional bool) error {
	if code == "" && optional {
		return nil
	}
	d, err := h.Units(ctx)
	if err != nil {
		return err
	}
	if _, ok := d.Lookup(code); !ok {
		return &indicator.FieldError{Field: field, Reason: "no such unit"}
	}
	return nil
}

func (h *Handler) checkScope(ctx context.Context, scope string) error {
	if scope == indicator.Province || scope == "" {
		return nil
	}
	return h.checkUnit(ctx, "scope", scope, false)
}

// RecordDTIResult records a province's DTI result for a year (published, or the province's
// self-assessment), checked against the framework in force for that year.
func (h *Handler) RecordDTIResult(ctx context.Context, a Actor, c dti.RecordResult, o Options) (Result, error) {
	if err := mayPlan(a, "record a DTI result"); err != nil {
		return Result{}, err
	}
	code := c.Framework
	if code == "" {
		f, ok := h.Frameworks().ForYear(c.Year)
		if !ok {
			return Result{}, dti.ErrUnknownFramework
		}
		code = f.Code
	}
	f, ok := h.Frameworks().Get(code)
	if !ok {
		return Result{}, dti.ErrUnknownFramework
	}
	e, err := dti.DecideResult(f, c)
	if err != nil {
		return Result{}, err
	}
	return h.appendDTI(ctx, a, e, o)
}

// LinkDTIGain records that a project or model is expected to raise a main index by a gain.
func (h *Handler) LinkDTIGain(ctx context.Context, a Actor, l dti.GainLinked, o Options) (Result, error) {
	if err := mayPlan(a, "link a project to the DTI"); err != nil {
		return Result{}, err
	}
	f, ok := h.Frameworks().ForYear(l.Year)
	if !ok {
		return Result{}, &dti.ValueError{Field: "year", Index: "year", Reason: "no framework scores that year"}
	}
	var errs []error
	known := false
	for _, ix := range f.Scored() {
		known = known || ix.Code == l.Index
	}
	if !known {
		errs = append(errs, &dti.ValueError{Field: "index", Index: "index", Reason: "must be a scored main index of " + f.Code})
	}
	if g, ok := dti.ParseValue(l.Gain); !ok || g.Rat().Sign() <= 0 || g.Rat().Cmp(dti.ValueOf(10000).Rat()) > 0 {
		errs = append(errs, &dti.ValueError{Field: "gain", Index: "gain", Reason: "a gain above 0 and at most 1"})
	}
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	if _, err := h.findItem(ctx, l.ItemID); err != nil {
		return Result{}, &dti.ValueError{Field: "item_id", Index: "item_id", Reason: "no such model or project"}
	}
	return h.appendDTI(ctx, a, l, o)
}

func (h *Handler) findItem(ctx context.Context, id string) (Item, error) {
	for _, k := range []string{"project", "model"} {
		if it, err := h.LoadItem(ctx, item.Kind(k), id); err == nil {
			return it, nil
		}
	}
	return Item{}, ErrNotFound
}

func (h *Handler) appendDTI(ctx context.Context, a Actor, e dti.Event, o Options) (Result, error) {
	stream := dti.StreamID(e.ProvinceCode())
	if res, found, err := h.previous(ctx, stream, a, o); found || err != nil {
		return Result{ID: e.ProvinceCode(), Version: res.ToVersion, Duplicate: true, Position: positionOf(res)}, err
	}
	typ, data, err := dti.Encode(e)
	if err != nil {
		return Result{}, err
	}
	on := h.Today()
	if !o.OccurredOn.IsZero() {
		if o.OccurredOn.After(on) {
			return Result{}, &indicator.FieldError{Field: "occurred_on", Reason: "must not be in the future"}
		}
		on = o.OccurredOn
	}
	for attempt := 0; ; attempt++ {
		recs, err := h.cfg.Store.ReadStream(ctx, stream, 0)
		if err != nil {
			return Result{}, err
		}
		v := int64(len(recs))
		if err := CheckIfMatch(o, stream, v); err != nil {
			return Result{}, err
		}
		res, err := h.appendTo(ctx, a, o, stream, v, []eventstore.Event{{Type: typ, Data: data, Metadata: metadata(a, on, h.cfg.Location)}})
		if errors.Is(err, eventstore.ErrConflict) && attempt < h.cfg.Retries {
			continue
		}
		if err != nil {
			return Result{}, err
		}
		return Result{ID: e.ProvinceCode(), Version: res.ToVersion, Created: v == 0, Position: positionOf(res)}, nil
	}
}

// dateOr gives a command's business date *d, set to on (the request's date) when left out.
func dateOr(d *civil.Date, on civil.Date) civil.Date {
	if d.IsZero() {
		*d = on
	}
	return *d
}
