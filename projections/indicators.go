package projections

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
)

// IndicatorQuery selects an indicator report: a year, a scope (the province, or a unit's
// code), and the moment.
type IndicatorQuery struct {
	Year  int
	Scope string // "" or indicator.Province for the province
	Query
}

// IndicatorReport is API.md's indicator report with what the pages show besides.
type IndicatorReport struct {
	Year  int    `json:"year"`
	Scope string `json:"scope"`
	// AsOf is the business day the report describes; Ended whether Year had ended by then.
	AsOf  civil.Date       `json:"as_of"`
	Ended bool             `json:"ended"`
	Rows  []indicator.Row  `json:"rows"`
	Total indicator.Totals `json:"total"`
	// TargetsMet is met + exceeded, "targets met" in the seeds' sense, of TargetsCounted.
	TargetsMet     int `json:"targets_met"`
	TargetsCounted int `json:"targets_counted"`
	// HardToReach lists the codes of the rows at risk, off track or missed.
	HardToReach    []string `json:"hard_to_reach"`
	SetAsideEvents int64    `json:"set_aside_events"`
}

// facts reads the facts of the event types whose names start with prefix, dated on or before
// asOf and recorded by knownAt, each stream in order.
func (r *Reports) facts(ctx context.Context, prefix string, asOf civil.Date, knownAt time.Time) ([]string, []string, error) {
	rows, err := r.pool.Query(ctx, `SELECT event_type, data FROM pj_indicator_facts
		WHERE starts_with(event_type, $1) AND on_date <= $2 AND recorded_at <= $3 ORDER BY stream_id, version`,
		prefix, asOf.Time(utc), knownAt)
	if err != nil {
		return nil, nil, fmt.Errorf("indicator facts: %w", err)
	}
	defer rows.Close()
	var types, data []string
	for rows.Next() {
		var t, d string
		if err := rows.Scan(&t, &d); err != nil {
			return nil, nil, err
		}
		types, data = append(types, t), append(data, d)
	}
	return types, data, rows.Err()
}

func (r *Reports) indicatorEvents(ctx context.Context, asOf civil.Date, knownAt time.Time) ([]indicator.Event, error) {
	types, data, err := r.facts(ctx, "indicator.", asOf, knownAt)
	if err != nil {
		return nil, err
	}
	out := make([]indicator.Event, 0, len(types))
	for i := range types {
		e, err := indicator.Decode(types[i], []byte(data[i]))
		if err != nil {
			continue // the read model wrote only what decodes; a later version's type is skipped
		}
		out = append(out, e)
	}
	return out, nil
}

// Indicators answers GET /api/v1/reports/indicators: every indicator with a target for the
// year and scope, its actual and status, as of the query's day, as known at its moment.
func (r *Reports) Indicators(ctx context.Context, q IndicatorQuery) (IndicatorReport, error) {
	if q.Year < 2000 || q.Year > 2100 {
		return IndicatorReport{}, fmt.Errorf("%w: year must be from 2000 to 2100", ErrBadQuery)
	}
	asOf, knownAt := r.resolve(q.Query)
	events, err := r.indicatorEvents(ctx, asOf, knownAt)
	if err != nil {
		return IndicatorReport{}, err
	}
	rep := indicator.Fold(events, q.Year, asOf, q.Scope)
	out := IndicatorReport{Year: q.Year, Scope: q.Scope, AsOf: asOf, Ended: rep.Ended, Rows: rep.Rows, Total: rep.Total,
		TargetsMet: rep.Total.Met + rep.Total.Exceeded, TargetsCounted: rep.Total.Rows(), HardToReach: []string{}}
	if out.Scope == "" {
		out.Scope = indicator.Province
	}
	for _, row := range rep.HardToReach() {
		out.HardToReach = append(out.HardToReach, row.Code)
	}
	out.SetAsideEvents, err = r.setAsideEvents(ctx)
	return out, err
}

// IndicatorDefinition is an indicator as it stands, for lists and forms.
type IndicatorDefinition struct {
	indicator.Definition
	EffectiveDate civil.Date `json:"effective_date"`
	Revisions     int        `json:"revisions"`
}

// IndicatorDefinitions returns every indicator's definition in force on the query's day, by
// pillar and code; unit, when not empty, keeps those the unit is responsible for.
func (r *Reports) IndicatorDefinitions(ctx context.Context, unit string, q Query) ([]IndicatorDefinition, error) {
	asOf, knownAt := r.resolve(q)
	events, err := r.indicatorEvents(ctx, asOf, knownAt)
	if err != nil {
		return nil, err
	}
	by := map[string]*IndicatorDefinition{}
	for _, e := range events {
		switch e := e.(type) {
		case indicator.Defined:
			if by[e.Code] == nil {
				by[e.Code] = &IndicatorDefinition{Definition: e.Definition, EffectiveDate: e.EffectiveDate}
			}
		case indicator.Revised:
			if d := by[e.Code]; d != nil {
				d.Definition, d.EffectiveDate = e.Definition, e.EffectiveDate
				d.Revisions++
			}
		}
	}
	out := []IndicatorDefinition{}
	for _, d := range by {
		if unit == "" || d.UnitCode == unit {
			if d.Frameworks == nil {
				d.Frameworks = []string{}
			}
			out = append(out, *d)
		}
	}
	order := map[string]int{"government": 0, "economy": 1, "society": 2}
	sort.Slice(out, func(i, j int) bool {
		if order[out[i].Pillar] != order[out[j].Pillar] {
			return order[out[i].Pillar] < order[out[j].Pillar]
		}
		return out[i].Code < out[j].Code
	})
	return out, nil
}

// DTIYear is one year of a province's DTI: the published result and the self-assessment.
type DTIYear struct {
	Year           int                 `json:"year"`
	Published      *dti.ResultRecorded `json:"published"`
	SelfAssessment *dti.ResultRecorded `json:"self_assessment"`
}

// DTIHistory is a province's DTI over the years, with the plan's links.
type DTIHistory struct {
	Province       string           `json:"province"`
	Years          []DTIYear        `json:"years"`
	Links          []dti.GainLinked `json:"links"`
	SetAsideEvents int64            `json:"set_aside_events"`
}

// LastPublished is the latest year with a published result, or nil.
func (h DTIHistory) LastPublished() *DTIYear {
	for i := len(h.Years) - 1; i >= 0; i-- {
		if h.Years[i].Published != nil {
			return &h.Years[i]
		}
	}
	return nil
}

// TargetScore is the published total at place (25: the 25th province's) of the last year
// that published one, and that year.
func (h DTIHistory) TargetScore(place int) (dti.Fixed4, int, bool) {
	for i := len(h.Years) - 1; i >= 0; i-- {
		if p := h.Years[i].Published; p != nil {
			if v, ok := p.PlaceScores[strconv.Itoa(place)]; ok {
				return v, h.Years[i].Year, true
			}
		}
	}
	return 0, 0, false
}

// DTI returns province's DTI results and links as of the query's day, as known at its moment.
// Of two results for the same year and source, the one recorded later counts (a correction).
func (r *Reports) DTI(ctx context.Context, province string, q Query) (DTIHistory, error) {
	asOf, knownAt := r.resolve(q)
	types, data, err := r.facts(ctx, "dti.", asOf, knownAt)
	if err != nil {
		return DTIHistory{}, err
	}
	h := DTIHistory{Province: province, Years: []DTIYear{}, Links: []dti.GainLinked{}}
	years := map[int]*DTIYear{}
	for i := range types {
		e, err := dti.Decode(types[i], []byte(data[i]))
		if err != nil || e.ProvinceCode() != province {
			continue
		}
		switch e := e.(type) {
		case dti.ResultRecorded:
			y := years[e.Year]
			if y == nil {
				y = &DTIYear{Year: e.Year}
				years[e.Year] = y
			}
			if e.Source == dti.Published {
				y.Published = &e
			} else {
				y.SelfAssessment = &e
			}
		case dti.GainLinked:
			h.Links = append(h.Links, e)
		}
	}
	for _, y := range years {
		h.Years = append(h.Years, *y)
	}
	sort.Slice(h.Years, func(i, j int) bool { return h.Years[i].Year < h.Years[j].Year })
	h.SetAsideEvents, err = r.setAsideEvents(ctx)
	return h, err
}
