package webui

import (
	"net/http"
	"slices"

	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
)

// unitOption is a unit a form offers.
type unitOption struct{ Code, Name string }

// liveUnits are the units that exist today (not merged, split or dissolved), in Vietnamese
// name order, but skip.
func liveUnits(units *unit.Directory, skip string) []unitOption {
	var out []unitOption
	for _, u := range units.All() {
		if u.Code != skip && u.EndedOn().IsZero() {
			out = append(out, unitOption{u.Code, u.Name})
		}
	}
	byName(out, func(o unitOption) string { return o.Name })
	return out
}

// ownUnits are the units a focal point may register items for: their own and, for a
// business date before a merger or split, the units whose items theirs took over (issue 12
// point 4: history entered late goes under the unit it belonged to).
func (s *server) ownUnits(rq *request, units *unit.Directory) []unitOption {
	own := rq.user.UnitCode
	today := s.Handler.Today()
	var out []unitOption
	for _, u := range units.All() {
		if u.Code == own || (!u.EndedOn().IsZero() && units.SuccessorAsOf(u.Code, today) == own) {
			out = append(out, unitOption{u.Code, u.Name})
		}
	}
	byName(out, func(o unitOption) string { return o.Name })
	return out
}

type splitData struct {
	Unit      unit.State
	Items     []projections.ListItem
	Into      []unitOption
	Form      *form
	Today     string
	Truncated bool
}

// FormOf is the submitted form of that name coming back with errors, or nil.
func (d *splitData) FormOf(name string) *form {
	if d.Form != nil && d.Form.Name == name {
		return d.Form
	}
	return nil
}

// Into1 is the successor the form chose for an item ("" for the rest).
func (d *splitData) Into1(id string) string {
	if d.Form == nil {
		return ""
	}
	return d.Form.V("into_" + id)
}

func (s *server) splitPage(w http.ResponseWriter, r *http.Request, rq *request) {
	s.renderSplit(w, r, rq, http.StatusOK, nil)
}

// renderSplit is the administrator's page that divides a unit: each of its items (its own
// and its merged predecessors') gets a successor, the rest go to one named for all.
func (s *server) renderSplit(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
	if rq.user.Role != identity.RoleAdmin {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	units, err := s.Handler.Units(r.Context())
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	u, ok := units.Lookup(r.PathValue("code"))
	if !ok {
		s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		return
	}
	d := &splitData{Unit: u, Into: liveUnits(units, u.Code), Form: f, Today: s.Handler.Today().String()}
	fam := units.FamilyAsOf(u.Code, s.Handler.Today())
	const most = 200
	if d.Items, _, err = s.Reports.List(r.Context(), projections.ListQuery{Units: fam.Units, ExceptItems: fam.Except, ItemIDs: fam.Items, Limit: most}); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	d.Truncated = len(d.Items) == most
	byName(d.Items, func(it projections.ListItem) string { return it.Title })
	p := s.newPage(r, rq, tr(rq.lang, "split.title"))
	p.Data = d
	s.render(w, status, "split", p)
}

// splitUnit divides the unit as the form says: the items given a successor go to it, the
// others to the rest's.
func (s *server) splitUnit(w http.ResponseWriter, r *http.Request, rq *request) {
	rd := newReader(r, rq.lang)
	c := unit.SplitUnit{Code: r.PathValue("code"), EffectiveDate: rd.date("effective_date", true), RestIntoCode: rd.required("rest_into_code")}
	parts := map[string][]string{}
	var order []string
	for key, vals := range r.PostForm {
		id, ok := cutPrefix(key, "into_")
		if !ok || len(vals) == 0 || vals[0] == "" || vals[0] == c.RestIntoCode {
			continue
		}
		if parts[vals[0]] == nil {
			order = append(order, vals[0])
		}
		parts[vals[0]] = append(parts[vals[0]], id)
	}
	slices.Sort(order)
	for _, into := range order {
		ids := parts[into]
		slices.Sort(ids)
		c.Parts = append(c.Parts, unit.SplitPart{IntoCode: into, ItemIDs: ids})
	}
	s.write(w, r, rq, rd, "split", s.renderSplit, func() (string, error) {
		_, err := s.Handler.SplitUnit(r.Context(), rq.actor(), c, options(r, "web /admin/units/split"))
		return "/admin/units?ok=1", err
	})
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}
