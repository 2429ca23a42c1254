package httpapi

import (
	"context"
	"errors"
	"github.com/dxledger/dxledger/domain/unit"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/workflows"
	"github.com/oklog/ulid/v2"
)

// Reports is what the report calls need of the projections.
type Reports interface {
	FundingGaps(ctx context.Context, groupBy string, q projections.Query) (projections.FundingGapReport, error)
	ModelCounts(ctx context.Context, groupBy string, q projections.Query) (projections.ModelCountReport, error)
	Payments(ctx context.Context, groupBy string, q projections.Query) (projections.PaymentReport, error)
	Completion(ctx context.Context, kind, groupBy string, q projections.Query) (projections.CompletionReport, error)
	DuplicateCandidates(ctx context.Context) ([]projections.DuplicateCandidate, error)
	List(ctx context.Context, q projections.ListQuery) ([]projections.ListItem, string, error)
	// WaitFor returns once the read models have applied the write at position, or a
	// *projections.StaleError after limit.
	WaitFor(ctx context.Context, position string, limit time.Duration) error
}

// listQuery reads the filters of a list call; bad ones are a 400 naming the parameter.
func listQuery(r *http.Request, kind string) (projections.ListQuery, error) {
	v := r.URL.Query()
	q := projections.ListQuery{Kind: kind, UnitCode: v.Get("unit_code"), Stage: v.Get("stage"), Pillar: v.Get("pillar"),
		Sector: v.Get("sector"), Q: v.Get("q"), Cursor: v.Get("cursor"), Limit: 50}
	var f fields
	switch q.Stage {
	case "", "proposed", "funded", "implemented", "evaluated", "suspended", "cancelled":
	default:
		f.add("stage", "must be proposed, funded, implemented, evaluated, suspended or cancelled")
	}
	switch q.Pillar {
	case "", "government", "economy", "society":
	default:
		f.add("pillar", "must be government, economy or society")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			f.add("limit", "must be a whole number from 1 to 200")
		}
		q.Limit = n
	}
	if q.Cursor != "" {
		if _, err := ulid.ParseStrict(q.Cursor); err != nil {
			f.add("cursor", "must be the next_cursor of a previous page")
		}
	}
	if len(q.Q) > 200 {
		f.add("q", "at most 200 characters")
	}
	if s := v.Get("as_of"); s != "" {
		q.AsOf = f.date("as_of", s)
	}
	return q, f.err()
}

// unitFamily makes a list's unit_code follow successors as the reports do: the items that
// belong to the unit at the end of the list's day (as_of, default today), its merged and
// split predecessors' included.
func (a *api) unitFamily(ctx context.Context, q *projections.ListQuery) error {
	if q.AsOf.After(a.Handler.Today()) {
		var f fields
		f.add("as_of", "must not be after today")
		return f.err()
	}
	if q.UnitCode == "" {
		return nil
	}
	d, err := a.knownUnit(ctx, q.UnitCode)
	if err != nil {
		return err
	}
	day := q.AsOf
	if day.IsZero() {
		day = a.Handler.Today()
	}
	fam := d.FamilyAsOf(q.UnitCode, day)
	q.Units, q.ExceptItems, q.ItemIDs, q.UnitCode = fam.Units, fam.Except, fam.Items, ""
	return nil
}

// knownUnit returns the units' directory when code is a unit that was ever registered (one
// merged, split or dissolved since included), and otherwise a 400 naming unit_code: a filter
// by a mistyped code answered an empty list or no targets, which an official reads as "this
// unit has none" (every item's and target's unit is a registered one: workflows refuse others).
func (a *api) knownUnit(ctx context.Context, code string) (*unit.Directory, error) {
	d, err := a.Handler.Units(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := d.Lookup(code); !ok {
		var f fields
		f.add("unit_code", "no such unit")
		return nil, f.err()
	}
	return d, nil
}

// reportQuery reads as_of and known_at; a bad one is a 400 naming the parameter.
func (a *api) reportQuery(r *http.Request) (projections.Query, error) {
	var (
		q projections.Query
		f fields
	)
	v := r.URL.Query()
	if s := v.Get("as_of"); s != "" {
		q.AsOf = f.date("as_of", s)
		if today := a.Handler.Today(); q.AsOf.After(today) {
			f.add("as_of", "must not be after today")
		}
	}
	if s := v.Get("known_at"); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			q.KnownAt = t
		} else if d, err := civil.Parse(s); err == nil {
			// A day means the end of that day in the province.
			q.KnownAt = d.AddDays(1).Time(a.Location).Add(-time.Nanosecond)
		} else {
			f.add("known_at", "must be an RFC 3339 time or a day YYYY-MM-DD")
		}
	}
	if v.Get("group_by") == "" {
		f.add("group_by", "is required")
	}
	return q, f.err()
}

func (a *api) reportRoutes(rt *router) {
	serve := func(run func(r *http.Request, q projections.Query) (any, error)) http.Handler {
		return a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
			q, err := a.reportQuery(r)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			out, err := run(r, q)
			if errors.Is(err, projections.ErrBadQuery) {
				err = badReportQuery(err)
			}
			if err != nil {
				a.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, out)
		})
	}
	for coll, kind := range map[string]string{"models": "model", "projects": "project"} {
		rt.handle("GET /api/v1/"+coll, a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
			q, err := listQuery(r, kind)
			if err == nil {
				err = a.unitFamily(r.Context(), &q)
			}
			if err != nil {
				a.fail(w, r, err)
				return
			}
			items, next, err := a.Reports.List(r.Context(), q)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			if items == nil {
				items = []projections.ListItem{}
			}
			var cursor *string
			if next != "" {
				cursor = &next
			}
			writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": cursor})
		}))
	}
	rt.handle("GET /api/v1/models/duplicate-candidates", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if err := workflows.MayReviewDuplicates(role.Role(u.Role)); err != nil {
			a.fail(w, r, err)
			return
		}
		items, err := a.Reports.DuplicateCandidates(r.Context())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	}))
	rt.handle("GET /api/v1/reports/funding-gaps", serve(func(r *http.Request, q projections.Query) (any, error) {
		return a.Reports.FundingGaps(r.Context(), r.URL.Query().Get("group_by"), q)
	}))
	rt.handle("GET /api/v1/reports/payments-by-date", serve(func(r *http.Request, q projections.Query) (any, error) {
		return a.Reports.Payments(r.Context(), r.URL.Query().Get("group_by"), q)
	}))
	rt.handle("GET /api/v1/reports/model-counts", serve(func(r *http.Request, q projections.Query) (any, error) {
		return a.Reports.ModelCounts(r.Context(), r.URL.Query().Get("group_by"), q)
	}))
	rt.handle("GET /api/v1/reports/completion", serve(func(r *http.Request, q projections.Query) (any, error) {
		return a.Reports.Completion(r.Context(), r.URL.Query().Get("kind"), r.URL.Query().Get("group_by"), q)
	}))
}

// badReportQuery is the 400 of a report's bad parameter, naming the one the projections
// refused: they say `kind "widget": want model or project` or `group_by "colour": …`.
func badReportQuery(err error) error {
	msg := strings.TrimSuffix(err.Error(), ": "+projections.ErrBadQuery.Error())
	field := "group_by"
	if name, _, ok := strings.Cut(msg, " "); ok && (name == "kind" || name == "group_by") {
		field = name
	}
	return &badRequest{detail: msg, fields: []FieldError{{Field: field, Message: msg}}}
}
