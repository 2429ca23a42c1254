package httpapi

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
)

// IndicatorReports is what the indicator and DTI calls need of the projections; the API
// serves them when Deps.Reports has these methods too (projections.Reports and Cached do).
type IndicatorReports interface {
	Indicators(ctx context.Context, q projections.IndicatorQuery) (projections.IndicatorReport, error)
	IndicatorDefinitions(ctx context.Context, unit string, q projections.Query) ([]projections.IndicatorDefinition, error)
	DTI(ctx context.Context, province string, q projections.Query) (projections.DTIHistory, error)
}

type definitionBody struct {
	Code            string   `json:"code"`
	NameVI          string   `json:"name_vi"`
	NameEN          string   `json:"name_en"`
	Measure         string   `json:"measure"`
	Numerator       string   `json:"numerator"`
	Denominator     string   `json:"denominator"`
	Direction       string   `json:"direction"`
	Pillar          string   `json:"pillar"`
	Frameworks      []string `json:"frameworks"`
	UnitCode        string   `json:"unit_code"`
	CountsEstimator string   `json:"counts_estimator"`
	EffectiveDate   string   `json:"effective_date"`
	OccurredOn      string   `json:"occurred_on"`
}

func (b definitionBody) definition() indicator.Definition {
	return indicator.Definition{Code: b.Code, NameVI: b.NameVI, NameEN: b.NameEN, Measure: indicator.Measure(b.Measure),
		Numerator: b.Numerator, Denominator: b.Denominator, Direction: indicator.Direction(b.Direction), Pillar: b.Pillar,
		Frameworks: b.Frameworks, UnitCode: b.UnitCode, CountsEstimator: b.CountsEstimator}
}

type figureBody struct {
	Scope        string           `json:"scope"`
	Year         int              `json:"year"`
	Value        indicator.Number `json:"value"`
	Source       string           `json:"source"`
	Illustrative bool             `json:"illustrative"`
	OccurredOn   string           `json:"occurred_on"`
}

type actualBody struct {
	Scope       string           `json:"scope"`
	Year        int              `json:"year"`
	Value       indicator.Number `json:"value"`
	Numerator   indicator.Number `json:"numerator"`
	Denominator indicator.Number `json:"denominator"`
	Date        string           `json:"date"`
	Method      string           `json:"method"`
	Estimator   string           `json:"estimator"`
	Evidence    string           `json:"evidence"`
	Note        string           `json:"note"`
	OccurredOn  string           `json:"occurred_on"`
}

type scoreBody struct {
	Framework string                     `json:"framework"`
	Values    map[string]json.RawMessage `json:"values"`
}

type whatIfBody struct {
	Province  string                     `json:"province"`
	Framework string                     `json:"framework"`
	Values    map[string]json.RawMessage `json:"values"`
	Changes   map[string]json.RawMessage `json:"changes"`
	Links     []linkWhatIf               `json:"links"`
	Target    json.RawMessage            `json:"target"`
	Place     int                        `json:"place"`
	links     []dti.Link
}

type linkWhatIf struct {
	ItemID string          `json:"item_id"`
	Index  string          `json:"index"`
	Gain   json.RawMessage `json:"gain"`
}

type resultBody struct {
	Year        int                        `json:"year"`
	Framework   string                     `json:"framework"`
	Source      string                     `json:"source"`
	Values      map[string]json.RawMessage `json:"values"`
	Components  map[string]json.RawMessage `json:"components"`
	Total       json.RawMessage            `json:"total"`
	Rank        int                        `json:"rank"`
	Of          int                        `json:"of"`
	RegionRank  int                        `json:"region_rank"`
	RegionOf    int                        `json:"region_of"`
	PlaceScores map[string]json.RawMessage `json:"place_scores"`
	Note        string                     `json:"note"`
	OccurredOn  string                     `json:"occurred_on"`
}

type linkBody struct {
	Year       int             `json:"year"`
	ItemID     string          `json:"item_id"`
	Index      string          `json:"index"`
	Gain       json.RawMessage `json:"gain"`
	Note       string          `json:"note"`
	OccurredOn string          `json:"occurred_on"`
}

// numbers turns JSON numbers into their text; anything else is refused as 422 naming
// prefix.key. A null is left out (missing).
func numbers(prefix string, in map[string]json.RawMessage, bad *[]FieldError) map[string]string {
	out := map[string]string{}
	for k, raw := range in {
		s := strings.TrimSpace(string(raw))
		if s == "null" {
			continue
		}
		if _, err := strconv.ParseFloat(s, 64); err != nil || strings.HasPrefix(s, `"`) {
			*bad = append(*bad, FieldError{Field: prefix + "." + k, Message: "must be a number"})
			continue
		}
		out[k] = s
	}
	return out
}

func number(field string, raw json.RawMessage, bad *[]FieldError) (string, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil || strings.HasPrefix(s, `"`) {
		*bad = append(*bad, FieldError{Field: field, Message: "must be a number"})
		return "", false
	}
	return s, true
}

type weightedView struct {
	Code     string          `json:"code"`
	Value    json.RawMessage `json:"value"`
	Points   int             `json:"points"`
	Weighted json.RawMessage `json:"weighted"`
}

type scoreView struct {
	Framework string         `json:"framework"`
	Total     dti.Fixed4     `json:"total"`
	ByIndex   []weightedView `json:"by_index"`
}

func ratJSON(r *big.Rat) json.RawMessage {
	s := strings.TrimRight(strings.TrimRight(r.FloatString(8), "0"), ".")
	if s == "" || s == "-0" {
		s = "0"
	}
	return json.RawMessage(s)
}

func viewScore(s dti.Score) scoreView {
	v := scoreView{Framework: s.Framework, Total: s.Total, ByIndex: []weightedView{}}
	for _, w := range s.ByIndex {
		v.ByIndex = append(v.ByIndex, weightedView{Code: w.Code, Value: ratJSON(w.Value), Points: w.Points, Weighted: ratJSON(w.Weighted)})
	}
	return v
}

// indicatorRoutes serves the indicators and the DTI (API.md, "The DTI").
func (a *api) indicatorRoutes(rt *router) {
	reports, _ := a.Reports.(IndicatorReports)
	rt.handle("POST /api/v1/dti/score", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b scoreBody
		if _, err := decode(w, r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		var bad []FieldError
		values := numbers("values", b.Values, &bad)
		if b.Framework == "" {
			bad = append(bad, FieldError{Field: "framework", Message: "is required, e.g. 922/QĐ-BTTTT"})
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		s, err := a.Handler.DTIScore(b.Framework, values)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, viewScore(s))
	}))
	rt.handle("GET /api/v1/dti/frameworks", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		writeJSON(w, http.StatusOK, map[string]any{"items": a.Handler.Frameworks().All()})
	}))
	rt.handle("POST /api/v1/dti/what-if", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b whatIfBody
		if _, err := decode(w, r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		var bad []FieldError
		base := numbers("values", b.Values, &bad)
		changes := numbers("changes", b.Changes, &bad)
		target, hasTarget := number("target", b.Target, &bad)
		for i, l := range b.Links {
			g, _ := number("links["+strconv.Itoa(i)+"].gain", l.Gain, &bad)
			b.links = append(b.links, dti.Link{ItemID: l.ItemID, Index: l.Index, Gain: g})
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		out, err := a.whatIf(r, reports, b, base, changes, target, hasTarget)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}))
	rt.handle("POST /api/v1/dti/{province}/results", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b resultBody
		var c dti.RecordResult
		var bad []FieldError
		o, ok := a.prepare(w, r, &b, func(f *fields) {
			c.Province, c.Year, c.Framework, c.Source = r.PathValue("province"), b.Year, b.Framework, dti.Source(b.Source)
			c.Values = numbers("values", b.Values, &bad)
			if len(b.Components) > 0 {
				c.Components = numbers("components", b.Components, &bad)
			}
			c.Rank, c.Of, c.RegionRank, c.RegionOf, c.Note = b.Rank, b.Of, b.RegionRank, b.RegionOf, b.Note
			if t, ok := number("total", b.Total, &bad); ok {
				v, _ := dti.ParseValue(t)
				c.Total, c.TotalGiven = dti.Round4(v.Rat()), true
			}
			if len(b.PlaceScores) > 0 {
				c.PlaceScores = map[string]dti.Fixed4{}
				for k, s := range numbers("place_scores", b.PlaceScores, &bad) {
					v, _ := dti.ParseValue(s)
					c.PlaceScores[k] = dti.Round4(v.Rat())
				}
			}
			f.date("occurred_on", b.OccurredOn)
		})
		if !ok {
			return
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		o.OccurredOn, _ = parseOptionalDay(b.OccurredOn)
		res, err := a.Handler.RecordDTIResult(r.Context(), actor(r, u), c, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	rt.handle("POST /api/v1/dti/{province}/links", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b linkBody
		var bad []FieldError
		var l dti.GainLinked
		o, ok := a.prepare(w, r, &b, func(f *fields) {
			f.date("occurred_on", b.OccurredOn)
			g, _ := number("gain", b.Gain, &bad)
			l = dti.GainLinked{Province: r.PathValue("province"), Year: b.Year, ItemID: b.ItemID, Index: b.Index, Gain: g, Note: b.Note}
		})
		if !ok {
			return
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		o.OccurredOn, _ = parseOptionalDay(b.OccurredOn)
		res, err := a.Handler.LinkDTIGain(r.Context(), actor(r, u), l, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	rt.handle("POST /api/v1/indicators", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b definitionBody
		var c indicator.Define
		o, ok := a.prepare(w, r, &b, func(f *fields) {
			c = indicator.Define{Definition: b.definition(), EffectiveDate: f.date("effective_date", b.EffectiveDate)}
			f.date("occurred_on", b.OccurredOn)
		})
		if !ok {
			return
		}
		o.OccurredOn, _ = parseOptionalDay(b.OccurredOn)
		res, err := a.Handler.IndicatorCommand(r.Context(), actor(r, u), b.Code, c, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	rt.handle("POST /api/v1/indicators/{code}/revisions", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b definitionBody
		var c indicator.Revise
		o, ok := a.prepare(w, r, &b, func(f *fields) {
			c = indicator.Revise{Definition: b.definition(), EffectiveDate: f.requiredDate("effective_date", b.EffectiveDate)}
			if b.Code != "" && b.Code != r.PathValue("code") {
				f.add("code", "the code cannot change: it names the indicator's stream")
			}
		})
		if !ok {
			return
		}
		res, err := a.Handler.IndicatorCommand(r.Context(), actor(r, u), r.PathValue("code"), c, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	for _, what := range []string{"baselines", "targets"} {
		rt.handle("POST /api/v1/indicators/{code}/"+what, a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
			var b figureBody
			o, ok := a.prepare(w, r, &b, func(f *fields) { f.date("occurred_on", b.OccurredOn) })
			if !ok {
				return
			}
			o.OccurredOn, _ = parseOptionalDay(b.OccurredOn)
			scope := b.Scope
			if scope == "" {
				scope = indicator.Province
			}
			var c indicator.Command = indicator.SetTarget{Scope: scope, Year: b.Year, Value: b.Value, Source: b.Source, Illustrative: b.Illustrative}
			if what == "baselines" {
				c = indicator.SetBaseline{Scope: scope, Year: b.Year, Value: b.Value, Source: b.Source}
			}
			res, err := a.Handler.IndicatorCommand(r.Context(), actor(r, u), r.PathValue("code"), c, o)
			a.respond(w, r, res, err, http.StatusCreated)
		}))
	}
	rt.handle("POST /api/v1/indicators/{code}/actuals", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b actualBody
		var c indicator.ReportActual
		o, ok := a.prepare(w, r, &b, func(f *fields) {
			scope := b.Scope
			if scope == "" {
				scope = indicator.Province
			}
			c = indicator.ReportActual{Scope: scope, Year: b.Year, Value: b.Value, Numerator: b.Numerator, Denominator: b.Denominator,
				Date: f.date("date", b.Date), Method: indicator.Method(b.Method), Estimator: b.Estimator, Evidence: b.Evidence, Note: b.Note}
			f.date("occurred_on", b.OccurredOn)
		})
		if !ok {
			return
		}
		o.OccurredOn, _ = parseOptionalDay(b.OccurredOn)
		res, err := a.Handler.IndicatorCommand(r.Context(), actor(r, u), r.PathValue("code"), c, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	if reports == nil {
		return
	}
	rt.handle("GET /api/v1/reports/indicators", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		q, err := a.momentQuery(r)
		var bad fields
		year, yerr := strconv.Atoi(r.URL.Query().Get("year"))
		if yerr != nil || year < 2000 || year > 2100 {
			bad.add("year", "is required: a year from 2000 to 2100")
		}
		if err == nil {
			err = bad.err()
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		rep, err := reports.Indicators(r.Context(), projections.IndicatorQuery{Year: year, Scope: r.URL.Query().Get("unit_code"), Query: q})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rep)
	}))
	rt.handle("GET /api/v1/indicators", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		q, err := a.momentQuery(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		items, err := reports.IndicatorDefinitions(r.Context(), r.URL.Query().Get("unit_code"), q)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	}))
	rt.handle("GET /api/v1/dti/{province}", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		q, err := a.momentQuery(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h, err := reports.DTI(r.Context(), r.PathValue("province"), q)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, h)
	}))
}

// momentQuery reads as_of and known_at as the reports do, without group_by.
func (a *api) momentQuery(r *http.Request) (projections.Query, error) {
	v := r.URL.Query()
	if v.Get("group_by") == "" {
		v.Set("group_by", "-")
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = v.Encode()
		r = r2
	}
	return a.reportQuery(r)
}

func parseOptionalDay(s string) (d civil.Date, err error) {
	var f fields
	d = f.date("occurred_on", s)
	return d, f.err()
}

// whatIf scores a plan: base values (given, else the province's latest self-assessment or
// published values), changed and raised by links (given, plus the province's stored links),
// against a target (given, else the published total at place — 25 by default — of the last
// year that published one).
func (a *api) whatIf(r *http.Request, reports IndicatorReports, b whatIfBody, base, changes map[string]string, target string, hasTarget bool) (any, error) {
	var hist projections.DTIHistory
	if b.Province != "" && reports != nil {
		var err error
		if hist, err = reports.DTI(r.Context(), b.Province, projections.Query{}); err != nil {
			return nil, err
		}
	}
	framework, baseFrom := b.Framework, "values"
	if len(base) == 0 {
		for i := len(hist.Years) - 1; i >= 0 && len(base) == 0; i-- {
			for _, res := range []*dti.ResultRecorded{hist.Years[i].SelfAssessment, hist.Years[i].Published} {
				if res != nil && len(base) == 0 {
					base, baseFrom = res.Values, string(res.Source)+" "+strconv.Itoa(res.Year)
					if framework == "" {
						framework = res.Framework
					}
				}
			}
		}
	}
	if framework == "" {
		framework = "922/QĐ-BTTTT"
	}
	f, ok := a.Handler.Frameworks().Get(framework)
	if !ok {
		return nil, dti.ErrUnknownFramework
	}
	links := append([]dti.Link{}, b.links...)
	for _, l := range hist.Links {
		links = append(links, dti.Link{ItemID: l.ItemID, Index: l.Index, Gain: l.Gain})
	}
	place := b.Place
	if place == 0 {
		place = 25
	}
	var goal dti.Fixed4
	targetFrom := "target"
	if hasTarget {
		v, _ := dti.ParseValue(target)
		goal = dti.Round4(v.Rat())
	} else if v, year, ok := hist.TargetScore(place); ok {
		goal, targetFrom = v, "place "+strconv.Itoa(place)+" of "+strconv.Itoa(year)
	} else {
		return nil, &unprocessable{fields: []FieldError{{Field: "target", Message: "give a target score, or a province whose published result names the score at that place"}}}
	}
	wi, err := dti.PlanWhatIf(f, base, changes, links, goal)
	if err != nil {
		return nil, err
	}
	return map[string]any{"framework": f.Code, "base_from": baseFrom, "base_total": wi.Base.Total, "new_total": wi.New.Total,
		"gain": wi.Gain, "target": wi.Target, "target_from": targetFrom, "distance": wi.Distance, "reached": wi.Reached,
		"links": links, "by_index": viewScore(wi.New).ByIndex}, nil
}
