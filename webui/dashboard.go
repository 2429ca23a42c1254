package webui

import (
	"net/http"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/projections"
)

// moment is the "as of" and "known at" a page was asked for, read from its query.
type moment struct {
	AsOfText, KnownAtText string // as typed, to put back in the form
	Query                 projections.Query
	Today                 civil.Date
}

// Day is the business day the figures describe.
func (m moment) Day() civil.Date {
	if m.Query.AsOf.IsZero() {
		return m.Today
	}
	return m.Query.AsOf
}

// Historic reports whether the page describes a past day or a past state of knowledge.
func (m moment) Historic() bool { return m.Query != projections.Query{} }

// readMoment parses as_of (YYYY-MM-DD or dd/mm/yyyy, not after today) and known_at (a day —
// its end, in the province — or YYYY-MM-DDThh:mm from a datetime input).
func (s *server) readMoment(r *http.Request) (moment, bool) {
	m := moment{Today: s.Handler.Today()}
	v := r.URL.Query()
	m.AsOfText = strings.TrimSpace(v.Get("as_of"))
	m.KnownAtText = strings.TrimSpace(v.Get("known_at"))
	ok := true
	if m.AsOfText != "" {
		d, err := parseDay(m.AsOfText)
		if err != nil || d.After(m.Today) {
			ok = false
		}
		m.Query.AsOf = d
		m.AsOfText = d.String()
	}
	if m.KnownAtText != "" {
		if t, err := time.ParseInLocation("2006-01-02T15:04", m.KnownAtText, s.Location); err == nil {
			m.Query.KnownAt = t.Add(time.Minute - time.Nanosecond)
		} else if d, err := parseDay(m.KnownAtText); err == nil {
			m.Query.KnownAt = d.AddDays(1).Time(s.Location).Add(-time.Nanosecond)
			m.KnownAtText = d.String()
		} else {
			ok = false
		}
	}
	return m, ok
}

// names gives report keys their display names.
type names struct {
	lang  string
	units *unit.Directory
}

func (n names) of(by, key string) string {
	switch by {
	case "unit":
		if u, ok := n.units.Lookup(key); ok {
			return u.Name
		}
		return key
	case "unit_kind":
		return label(n.lang, "unitkind", key)
	case "pillar", "sector", "source", "stage":
		return label(n.lang, by, key)
	}
	return key
}

// link is the items list behind a figure of a report grouped by by.
func (n names) link(by, key string, m moment, more ...string) string {
	p := []string{}
	switch by {
	case "unit", "unit_kind", "pillar", "sector":
		p = append(p, by, key)
	}
	if by == "unit" || by == "unit_kind" {
		p = append(p, "as_of", m.Query.AsOf.String()) // the units as merged on that day
	}
	p = append(p, more...)
	return "/items?" + query(p...)
}

type dashboardData struct {
	moment
	names
	Bad                    bool
	GapBy, CountBy, DoneBy string
	Gaps                   projections.FundingGapReport
	GapMost                int64
	Counts                 projections.ModelCountReport
	Done                   projections.CompletionReport
	Overdue                []projections.ListItem
	GapGroups, UnitGroups  []string
}

// SetAside is how many stored events the figures leave out (the largest count any of the
// three reports gave): the page says so above every figure when it is not 0.
func (d *dashboardData) SetAside() int64 {
	return max(d.Gaps.SetAsideEvents, d.Counts.SetAsideEvents, d.Done.SetAsideEvents)
}

func (d *dashboardData) Name(by, key string) string { return d.of(by, key) }
func (d *dashboardData) Link(by, key string, more ...string) string {
	return d.link(by, key, d.moment, more...)
}

// dashboard is the steering committee's meeting page: funding gaps, model counts and
// completion, all as of the chosen day and as known at the chosen moment.
func (s *server) dashboard(w http.ResponseWriter, r *http.Request, rq *request) {
	m, ok := s.readMoment(r)
	p := s.newPage(r, rq, tr(rq.lang, "nav.dashboard"))
	d := &dashboardData{moment: m, GapBy: pick(r, "gap_by", "unit", "unit", "pillar", "sector", "source", "year"),
		CountBy:   pick(r, "count_by", "unit_kind", "unit", "unit_kind", "pillar", "sector"),
		DoneBy:    pick(r, "done_by", "unit", "unit", "unit_kind", "pillar", "sector"),
		GapGroups: []string{"unit", "pillar", "sector", "source", "year"}, UnitGroups: []string{"unit", "unit_kind", "pillar", "sector"}}
	p.Data = d
	if !ok {
		d.Bad = true
		s.render(w, http.StatusBadRequest, "dashboard", p)
		return
	}
	ctx := r.Context()
	n, ok := s.names(w, r, rq)
	if !ok {
		return
	}
	d.names = n
	var err error
	if d.Gaps, err = s.Reports.FundingGaps(ctx, d.GapBy, m.Query); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	for _, row := range d.Gaps.Rows {
		if row.Gap != nil {
			d.GapMost = max(d.GapMost, *row.Gap)
		}
	}
	if d.Counts, err = s.Reports.ModelCounts(ctx, d.CountBy, m.Query); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	if d.Done, err = s.Reports.Completion(ctx, "", d.DoneBy, m.Query); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	if d.Overdue, _, err = s.Reports.List(ctx, projections.ListQuery{PastEndBefore: m.Day(), Limit: 100}); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	// Units in Vietnamese name order, as an official looks for them.
	if d.GapBy == "unit" {
		byName(d.Gaps.Rows, func(r projections.FundingGapRow) string { return n.of("unit", r.Key) })
	}
	if d.CountBy == "unit" {
		byName(d.Counts.Rows, func(r projections.ModelCountRow) string { return n.of("unit", r.Key) })
	}
	if d.DoneBy == "unit" {
		byName(d.Done.Rows, func(r projections.CompletionRow) string { return n.of("unit", r.Key) })
	}
	s.render(w, http.StatusOK, "dashboard", p)
}

// pick reads a choice from the query: one of allowed, or def.
func pick(r *http.Request, name, def string, allowed ...string) string {
	v := r.URL.Query().Get(name)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return def
}
