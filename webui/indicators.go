package webui

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/webui/export"
)

// IndicatorReports is what the indicators' pages read of the projections; the pages are
// served when Deps.Reports has these methods too (projections.Reports and Cached do).
type IndicatorReports interface {
	Indicators(ctx context.Context, q projections.IndicatorQuery) (projections.IndicatorReport, error)
	IndicatorDefinitions(ctx context.Context, unit string, q projections.Query) ([]projections.IndicatorDefinition, error)
	DTI(ctx context.Context, province string, q projections.Query) (projections.DTIHistory, error)
}

// indicatorRoutes serves the indicators' and the DTI's pages.
func (s *server) indicatorRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /indicators", s.signedIn(s.indicatorsPage))
	mux.HandleFunc("GET /my/indicators", s.signedIn(s.indicatorsPage))
	mux.HandleFunc("POST /indicators/actual", s.form(s.recordActual))
	mux.HandleFunc("GET /export/indicators.xlsx", s.signedIn(s.exportIndicators))
}

type pillarGroup struct {
	Pillar string
	Rows   []indicator.Row
	Total  indicator.Totals
}

type whatIfRow struct {
	Code, Name  string
	Points      int
	Base, Value string
	Gain        string
}

type indicatorsData struct {
	moment
	Year         int
	Years        []int
	Mine         bool
	Report       projections.IndicatorReport
	Pillars      []pillarGroup
	Hard         []indicator.Row
	Reportable   []projections.IndicatorDefinition
	Form         *form
	Province     string
	DTI          projections.DTIHistory
	Framework    *dti.Framework
	WhatIf       *dti.WhatIf
	WhatIfRows   []whatIfRow
	TargetPlace  int
	TargetYear   int
	Illustrative bool
	Today        string
}

// Num writes an indicator figure the language's way (56,67 in Vietnamese).
func (d *indicatorsData) Num(lang string, n indicator.Number) string {
	if n.IsZero() {
		return "—"
	}
	s := string(n)
	if lang != langEN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Unit of a measure, after a figure.
func (d *indicatorsData) Unit(m indicator.Measure) string {
	switch m {
	case indicator.Percentage:
		return "%"
	case indicator.VND:
		return " đ"
	}
	return ""
}

// Bar is the actual's share of the target, in percent, for a bar (capped at 100).
func (d *indicatorsData) Bar(r indicator.Row) string {
	t := r.Target.Float()
	if t <= 0 || r.Actual.IsZero() {
		return "0"
	}
	v := r.Actual.Float() * 100 / t
	if r.Direction == indicator.Lower && r.Actual.Float() > 0 {
		v = t * 100 / r.Actual.Float()
	}
	return fmt.Sprintf("%.0f", min(max(v, 0), 100))
}

// TargetFromText says where the target score comes from.
func (d *indicatorsData) TargetFromText(lang string) string {
	return fmt.Sprintf(tr(lang, "dti.target_from"), d.TargetPlace, d.TargetYear)
}

// provinceCode is the province's code (the DTI's province): the province unit that has not
// been merged into another or dissolved (the first by code if several), or "".
func provinceCode(units *unit.Directory) string {
	best := ""
	for _, u := range units.All() {
		if u.Kind == unit.Province && u.MergedInto == "" && u.DissolvedOn.IsZero() && (best == "" || u.Code < best) {
			best = u.Code
		}
	}
	return best
}

func (s *server) indicatorsPage(w http.ResponseWriter, r *http.Request, rq *request) {
	s.renderIndicators(w, r, rq, http.StatusOK, nil)
}

func (s *server) renderIndicators(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
	reports, ok := s.Reports.(IndicatorReports)
	if !ok {
		s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		return
	}
	mine := strings.HasPrefix(r.URL.Path, "/my/")
	if mine && (rq.user.Role != identity.RoleFocalPoint || rq.user.UnitCode == "") {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	m, ok := s.readMoment(r)
	if !ok {
		s.fail(w, r, rq, http.StatusBadRequest, "err.badquery")
		return
	}
	d := &indicatorsData{moment: m, Mine: mine, Form: f, Today: s.Handler.Today().String()}
	d.Year = m.Day().Year
	if y := r.URL.Query().Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 2000 || n > 2100 {
			s.fail(w, r, rq, http.StatusBadRequest, "err.badquery")
			return
		}
		d.Year = n
	}
	for y := 2020; y <= max(2030, d.Year); y++ {
		d.Years = append(d.Years, y)
	}
	ctx := r.Context()
	var err error
	if d.Report, err = reports.Indicators(ctx, projections.IndicatorQuery{Year: d.Year, Query: m.Query}); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	unitFilter := ""
	if mine {
		unitFilter = rq.user.UnitCode
	}
	defs, err := reports.IndicatorDefinitions(ctx, unitFilter, projections.Query{})
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	if rq.is(identity.RoleAdmin, identity.RoleSteeringCommittee) || mine {
		d.Reportable = defs
	} else if rq.user.Role == identity.RoleFocalPoint {
		for _, def := range defs {
			if def.UnitCode == rq.user.UnitCode {
				d.Reportable = append(d.Reportable, def)
			}
		}
	}
	mineCodes := map[string]bool{}
	for _, def := range defs {
		mineCodes[def.Code] = true
	}
	groups := map[string]*pillarGroup{}
	for _, row := range d.Report.Rows {
		if mine && !mineCodes[row.Code] {
			continue
		}
		g := groups[row.Pillar]
		if g == nil {
			g = &pillarGroup{Pillar: row.Pillar}
			groups[row.Pillar] = g
		}
		g.Rows = append(g.Rows, row)
		g.Total.Add(row.Status)
		d.Illustrative = d.Illustrative || row.Illustrative
		switch row.Status {
		case indicator.AtRisk, indicator.OffTrack, indicator.Missed:
			d.Hard = append(d.Hard, row)
		}
	}
	for _, p := range []string{"government", "economy", "society"} {
		if g := groups[p]; g != nil {
			d.Pillars = append(d.Pillars, *g)
		}
	}
	if !mine {
		units, err := s.Handler.Units(ctx)
		if err != nil {
			s.failErr(w, r, rq, err)
			return
		}
		d.Province = provinceCode(units)
		if d.Province != "" {
			if d.DTI, err = reports.DTI(ctx, d.Province, m.Query); err != nil {
				s.failErr(w, r, rq, err)
				return
			}
			s.whatIf(r, d)
		}
	}
	title := tr(rq.lang, "ind.title")
	if mine {
		title = tr(rq.lang, "ind.my_title")
	}
	p := s.newPage(r, rq, title)
	p.Data = d
	s.render(w, status, "indicators", p)
}

// whatIf fills the plan: the latest values (self-assessed, else published), the values the
// official typed (wi_<index>), the stored links' gains, against the 25th place's score.
func (s *server) whatIf(r *http.Request, d *indicatorsData) {
	var base *dti.ResultRecorded
	for i := len(d.DTI.Years) - 1; i >= 0 && base == nil; i-- {
		if y := d.DTI.Years[i]; y.SelfAssessment != nil {
			base = y.SelfAssessment
		} else if y.Published != nil && len(y.Published.Values) > 0 {
			base = y.Published
		}
	}
	if base == nil {
		return
	}
	f, ok := s.Handler.Frameworks().Get(base.Framework)
	if !ok || !f.Complete {
		return
	}
	d.Framework = f
	d.TargetPlace = 25
	goal, year, ok := d.DTI.TargetScore(d.TargetPlace)
	if !ok {
		return
	}
	d.TargetYear = year
	changes := map[string]string{}
	q := r.URL.Query()
	gains := map[string]string{}
	var links []dti.Link
	for _, l := range d.DTI.Links {
		links = append(links, dti.Link{ItemID: l.ItemID, Index: l.Index, Gain: l.Gain})
		gains[l.Index] = l.Gain
	}
	for _, ix := range f.Scored() {
		row := whatIfRow{Code: ix.Code, Name: ix.NameVI, Points: ix.Points, Base: base.Values[ix.Code], Gain: gains[ix.Code]}
		if v := strings.TrimSpace(strings.Replace(q.Get("wi_"+ix.Code), ",", ".", 1)); v != "" {
			if x, ok := dti.ParseValue(v); ok && x.Rat().Sign() >= 0 && x.Rat().Cmp(dti.ValueOf(10000).Rat()) <= 0 {
				changes[ix.Code] = v
				row.Value = v
			}
		}
		d.WhatIfRows = append(d.WhatIfRows, row)
	}
	if wi, err := dti.PlanWhatIf(f, base.Values, changes, links, goal); err == nil {
		d.WhatIf = &wi
	}
}

// recordActual records an actual from the page's form.
func (s *server) recordActual(w http.ResponseWriter, r *http.Request, rq *request) {
	rd := newReader(r, rq.lang)
	code := rd.required("code")
	year, err := strconv.Atoi(rd.text("year"))
	if err != nil {
		rd.fail("year", "Vui lòng nhập năm, ví dụ 2023.", "Please give the year, e.g. 2023.")
	}
	var value indicator.Number
	if v := rd.required("value"); v != "" {
		if value, err = indicator.ParseNumber(strings.Replace(v, ",", ".", 1)); err != nil {
			rd.fail("value", "Giá trị phải là số, ví dụ 79,5.", "The value must be a number, e.g. 79.5.")
		}
	}
	c := indicator.ReportActual{Scope: indicator.Province, Year: year, Value: value, Date: rd.date("date", true),
		Method: indicator.Method(rd.required("method")), Estimator: rd.required("estimator"), Evidence: rd.text("evidence"), Note: rd.text("note")}
	back := "/indicators"
	if strings.HasPrefix(r.PostForm.Get("back"), "/my/") {
		back = "/my/indicators"
	}
	s.write(w, r, rq, rd, "actual", func(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
		r.URL.Path = back
		s.renderIndicators(w, r, rq, status, f)
	}, func() (string, error) {
		_, err := s.Handler.IndicatorCommand(r.Context(), rq.actor(), code, c, options(r, "web /indicators/actual"))
		return back + "?" + query("year", strconv.Itoa(year), "ok", "1"), err
	})
}

// exportIndicators sends the year's indicator report and the DTI's years as a workbook.
func (s *server) exportIndicators(w http.ResponseWriter, r *http.Request, rq *request) {
	reports, ok := s.Reports.(IndicatorReports)
	if !ok {
		s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		return
	}
	m, ok := s.readMoment(r)
	year, err := strconv.Atoi(r.URL.Query().Get("year"))
	if !ok || err != nil || year < 2000 || year > 2100 {
		s.fail(w, r, rq, http.StatusBadRequest, "err.badquery")
		return
	}
	ctx := r.Context()
	rep, err := reports.Indicators(ctx, projections.IndicatorQuery{Year: year, Query: m.Query})
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	var hist projections.DTIHistory
	if units, err := s.Handler.Units(ctx); err == nil {
		if p := provinceCode(units); p != "" {
			if hist, err = reports.DTI(ctx, p, m.Query); err != nil {
				s.failErr(w, r, rq, err)
				return
			}
		}
	}
	T := func(k string) string { return tr(rq.lang, k) }
	wd := export.IndicatorWords{Title: T("ind.title"), DTITitle: T("dti.title"), Sheet: T("sheet.indicators"), DTISheet: "DTI",
		Pillar: T("ind.pillar"), Code: T("ind.code"), Name: T("ind.name"), Baseline: T("ind.baseline"), Target: T("ind.target"),
		Actual: T("ind.actual"), Status: T("ind.status"), Source: T("ind.source"), Estimator: T("ind.estimator"), Evidence: T("ind.evidence"),
		Summary: T("ind.summary"), Year: T("dti.year"), Framework: T("dti.framework"), Total: T("dti.published") + ": " + T("dti.total"),
		Rank: T("dti.rank"), Region: T("dti.region"), SelfAssessed: T("dti.self"), Illustrative: T("ind.illustrative"),
		Statuses: map[string]string{}, Pillars: map[string]string{}}
	for _, st := range []string{"met", "exceeded", "missed", "on_track", "at_risk", "off_track", "no_data"} {
		wd.Statuses[st] = label(rq.lang, "status", st)
	}
	for _, p := range []string{"government", "economy", "society"} {
		wd.Pillars[p] = label(rq.lang, "pillar", p)
	}
	h := export.Heading{Lang: rq.lang, AsOf: m.Query.AsOf, Today: m.Today, KnownAt: m.Query.KnownAt, Produced: s.Now(),
		Location: s.Location, SetAsideEvents: rep.SetAsideEvents}
	var buf bytes.Buffer
	if err := export.Indicators(&buf, h, wd, rep, hist); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	file := fmt.Sprintf("indicators-%d-%s.xlsx", year, m.Day())
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// dashTargets is the dashboard's view of the targets: the year's counts by pillar and status,
// and the DTI's years.
type dashTargets struct {
	Year     int
	Report   projections.IndicatorReport
	Statuses []string
	Pillars  []dashPillar
	DTI      projections.DTIHistory
}

type dashPillar struct {
	Pillar string
	Cells  []int // by Statuses
}

// dashTargets reads the dashboard's targets for the year of its day; nil when there are
// none, or when the read models cannot say (the rest of the dashboard still shows).
func (s *server) dashTargets(r *http.Request, m moment) *dashTargets {
	reports, ok := s.Reports.(IndicatorReports)
	if !ok {
		return nil
	}
	ctx := r.Context()
	t := &dashTargets{Year: m.Day().Year}
	rep, err := reports.Indicators(ctx, projections.IndicatorQuery{Year: t.Year, Query: m.Query})
	if err != nil || len(rep.Rows) == 0 {
		// Early in a year nothing may be set for it yet: last year's, then.
		t.Year--
		if rep, err = reports.Indicators(ctx, projections.IndicatorQuery{Year: t.Year, Query: m.Query}); err != nil || len(rep.Rows) == 0 {
			return nil
		}
	}
	t.Report = rep
	if rep.Ended {
		t.Statuses = []string{"exceeded", "met", "missed", "no_data"}
	} else {
		t.Statuses = []string{"on_track", "at_risk", "off_track", "no_data"}
	}
	for _, p := range []string{"government", "economy", "society"} {
		row := dashPillar{Pillar: p, Cells: make([]int, len(t.Statuses))}
		any := false
		for _, r := range rep.Rows {
			if r.Pillar != p {
				continue
			}
			for i, st := range t.Statuses {
				if string(r.Status) == st {
					row.Cells[i]++
					any = true
				}
			}
		}
		if any {
			t.Pillars = append(t.Pillars, row)
		}
	}
	if units, err := s.Handler.Units(ctx); err == nil {
		if p := provinceCode(units); p != "" {
			t.DTI, _ = reports.DTI(ctx, p, m.Query)
		}
	}
	return t
}
