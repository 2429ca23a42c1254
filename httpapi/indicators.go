package httpapi

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"strings"

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
	Code            string   `json:"code" api:"maxlen=40;desc=1 to 40 letters, digits, '.', '_' or '-' (required to define, on a revision the path's code or left out);example=CQS-01"`
	NameVI          string   `json:"name_vi" api:"required;maxlen=300;example=Tỷ lệ hồ sơ trực tuyến toàn trình"`
	NameEN          string   `json:"name_en" api:"required;maxlen=300;example=Share of applications handled fully online"`
	Measure         string   `json:"measure" api:"required;enum=measure"`
	Numerator       string   `json:"numerator" api:"maxlen=300;desc=what the numerator counts (a ratio needs it)"`
	Denominator     string   `json:"denominator" api:"maxlen=300;desc=what the denominator counts (a ratio needs it)"`
	Direction       string   `json:"direction" api:"required;enum=direction;desc=which way is better"`
	Pillar          string   `json:"pillar" api:"required;enum=pillar"`
	Frameworks      []string `json:"frameworks" api:"desc=the frameworks that name the indicator, at most 20"`
	UnitCode        string   `json:"unit_code" api:"desc=the responsible unit;example=SO-CT"`
	CountsEstimator string   `json:"counts_estimator" api:"maxlen=200;desc=the estimator whose figures count, when several report"`
	EffectiveDate   string   `json:"effective_date" api:"format=date;desc=from when the definition holds (required on a revision, by default today on a definition)"`
	OccurredOn      string   `json:"occurred_on" api:"format=date;desc=the business date of the record (not in the future), by default today"`
}

func (b definitionBody) definition() indicator.Definition {
	return indicator.Definition{Code: b.Code, NameVI: b.NameVI, NameEN: b.NameEN, Measure: indicator.Measure(b.Measure),
		Numerator: b.Numerator, Denominator: b.Denominator, Direction: indicator.Direction(b.Direction), Pillar: b.Pillar,
		Frameworks: b.Frameworks, UnitCode: b.UnitCode, CountsEstimator: b.CountsEstimator}
}

type figureBody struct {
	Scope        string           `json:"scope" api:"desc=province (the default) or a unit's code"`
	Year         int              `json:"year" api:"required;min=dti_first_year;max=dti_last_year;example=2025"`
	Value        indicator.Number `json:"value" api:"desc=the figure, in the indicator's measure (a percentage 0 to 100)"`
	Source       string           `json:"source" api:"maxlen=300;desc=where the figure comes from"`
	Illustrative bool             `json:"illustrative" api:"desc=a target set for illustration, not adopted (targets only)"`
	OccurredOn   string           `json:"occurred_on" api:"format=date;desc=the business date of the record (not in the future), by default today"`
}

type actualBody struct {
	Scope       string           `json:"scope" api:"desc=province (the default) or a unit's code"`
	Year        int              `json:"year" api:"required;min=dti_first_year;max=dti_last_year;example=2025"`
	Value       indicator.Number `json:"value" api:"desc=the figure (or give numerator and denominator)"`
	Numerator   indicator.Number `json:"numerator"`
	Denominator indicator.Number `json:"denominator"`
	Date        string           `json:"date" api:"format=date;desc=the business date of the figure, not before its year began"`
	Method      string           `json:"method" api:"required;enum=method"`
	Estimator   string           `json:"estimator" api:"required;maxlen=200;desc=who measured or estimated it"`
	Evidence    string           `json:"evidence" api:"maxlen=500"`
	Note        string           `json:"note" api:"maxlen=1000"`
	OccurredOn  string           `json:"occurred_on" api:"format=date;desc=the business date of the record (not in the future), by default today"`
}

type scoreBody struct {
	Framework string                     `json:"framework" api:"required;desc=the framework's code;example=922/QĐ-BTTTT"`
	Values    map[string]json.RawMessage `json:"values" api:"desc=each scored main index's value, a number from 0 to 1 (a missing or out-of-range one is 422)"`
}

type whatIfBody struct {
	Province  string                     `json:"province" api:"desc=the province whose latest values, stored links and published places are used;example=DT"`
	Framework string                     `json:"framework" api:"desc=by default the base values' framework, else 922/QĐ-BTTTT"`
	Values    map[string]json.RawMessage `json:"values" api:"desc=the base values, a number from 0 to 1 each (by default the province's latest result)"`
	Changes   map[string]json.RawMessage `json:"changes" api:"desc=main indices' new values, a number from 0 to 1 each"`
	Links     []linkWhatIf               `json:"links" api:"desc=items expected to raise a main index, besides the province's stored links"`
	Target    json.RawMessage            `json:"target" api:"desc=the target total, a number (by default the published total at place)"`
	Place     int                        `json:"place" api:"min=1;desc=the place whose published total is the target, 25 by default"`
	links     []dti.Link
}

type linkWhatIf struct {
	ItemID string          `json:"item_id" api:"desc=the model's or project's id"`
	Index  string          `json:"index" api:"desc=the main index's code"`
	Gain   json.RawMessage `json:"gain" api:"desc=the expected gain of the index's value, a number"`
}

type resultBody struct {
	Year        int                        `json:"year" api:"required;min=dti_first_year;max=dti_last_year;example=2024"`
	Framework   string                     `json:"framework" api:"desc=by default the framework in force for the year"`
	Source      string                     `json:"source" api:"required;enum=dti_source"`
	Values      map[string]json.RawMessage `json:"values" api:"desc=each scored main index's value, a number from 0 to 1"`
	Components  map[string]json.RawMessage `json:"components" api:"desc=component scores, numbers not below 0"`
	Total       json.RawMessage            `json:"total" api:"desc=the published total, a number, checked against the values"`
	Rank        int                        `json:"rank" api:"min=1;desc=the province's rank, 1 to of"`
	Of          int                        `json:"of" api:"min=1;desc=the number of provinces ranked"`
	RegionRank  int                        `json:"region_rank" api:"min=1"`
	RegionOf    int                        `json:"region_of" api:"min=1"`
	PlaceScores map[string]json.RawMessage `json:"place_scores" api:"desc=the published total at each place (by place number), 0 to 1"`
	Note        string                     `json:"note" api:"maxlen=1000"`
	OccurredOn  string                     `json:"occurred_on" api:"format=date;desc=the business date of the record (not in the future), by default today"`
}

type linkBody struct {
	Year       int             `json:"year" api:"required;min=dti_first_year;max=dti_last_year;example=2025"`
	ItemID     string          `json:"item_id" api:"required;desc=the model's or project's id"`
	Index      string          `json:"index" api:"required;desc=a scored main index of the year's framework"`
	Gain       json.RawMessage `json:"gain" api:"required;desc=the expected gain of the index's value, a number above 0 and at most 1"`
	Note       string          `json:"note" api:"maxlen=1000"`
	OccurredOn string          `json:"occurred_on" api:"format=date;desc=the business date of the record (not in the future), by default today"`
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
	Code     string          `json:"code" api:"desc=the main index"`
	Value    json.RawMessage `json:"value" api:"desc=its value, a number from 0 to 1"`
	Points   int             `json:"points" api:"min=0"`
	Weighted json.RawMessage `json:"weighted" api:"desc=value × points ÷ the framework's divisor, a number"`
}

type scoreView struct {
	Framework string         `json:"framework"`
	Total     dti.Fixed4     `json:"total" api:"desc=the total, to four decimals"`
	ByIndex   []weightedView `json:"by_index"`
}

// whatIfView is POST /dti/what-if's answer.
type whatIfView struct {
	Framework  string         `json:"framework"`
	BaseFrom   string         `json:"base_from" api:"desc=where the base values came from: values, or the province's result it took (source and year)"`
	BaseTotal  dti.Fixed4     `json:"base_total"`
	NewTotal   dti.Fixed4     `json:"new_total"`
	Gain       dti.Fixed4     `json:"gain" api:"desc=new_total − base_total"`
	Target     dti.Fixed4     `json:"target"`
	TargetFrom string         `json:"target_from" api:"desc=target (given), or the place and year whose published total it is"`
	Distance   dti.Fixed4     `json:"distance" api:"desc=target − new_total (zero or less: reached)"`
	Reached    bool           `json:"reached"`
	Links      []dti.Link     `json:"links" api:"desc=the links counted: those given and the province's stored ones"`
	ByIndex    []weightedView `json:"by_index" api:"desc=the new score by main index"`
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
		o, ok := a.prepareOn(w, r, &b, &b.OccurredOn, func(f *fields) {
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
		})
		if !ok {
			return
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		res, err := a.Handler.RecordDTIResult(r.Context(), actor(r, u), c, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	rt.handle("POST /api/v1/dti/{province}/links", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b linkBody
		var bad []FieldError
		var l dti.GainLinked
		o, ok := a.prepareOn(w, r, &b, &b.OccurredOn, func(f *fields) {
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
		res, err := a.Handler.LinkDTIGain(r.Context(), actor(r, u), l, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	rt.handle("POST /api/v1/indicators", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b definitionBody
		var c indicator.Define
		o, ok := a.prepareOn(w, r, &b, &b.OccurredOn, func(f *fields) {
			c = indicator.Define{Definition: b.definition(), EffectiveDate: f.date("effective_date", b.EffectiveDate)}
		})
		if !ok {
			return
		}
		res, err := a.Handler.IndicatorCommand(r.Context(), actor(r, u), b.Code, c, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	rt.handle("POST /api/v1/indicators/{code}/revisions", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var b definitionBody
		var c indicator.Revise
		o, ok := a.prepareOn(w, r, &b, &b.OccurredOn, func(f *fields) {
			c = indicator.Revise{Definition: b.definition(), EffectiveDate: f.requiredDate("effective_date", b.EffectiveDate)}
			if b.Code != "" && b.Code != r.PathValue("code") {
				f.rule("code", "the code cannot change: it names the indicator's stream")
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
			o, ok := a.prepareOn(w, r, &b, &b.OccurredOn, nil)
			if !ok {
				return
			}
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
		o, ok := a.prepareOn(w, r, &b, &b.OccurredOn, func(f *fields) {
			scope := b.Scope
			if scope == "" {
				scope = indicator.Province
			}
			c = indicator.ReportActual{Scope: scope, Year: b.Year, Value: b.Value, Numerator: b.Numerator, Denominator: b.Denominator,
				Date: f.date("date", b.Date), Method: indicator.Method(b.Method), Estimator: b.Estimator, Evidence: b.Evidence, Note: b.Note}
		})
		if !ok {
			return
		}
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
		scope, err := a.indicatorScope(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		rep, err := reports.Indicators(r.Context(), projections.IndicatorQuery{Year: year, Scope: scope, Query: q})
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
		scope, err := a.indicatorScope(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		items, err := reports.IndicatorDefinitions(r.Context(), scope, q)
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
	return whatIfView{Framework: f.Code, BaseFrom: baseFrom, BaseTotal: wi.Base.Total, NewTotal: wi.New.Total,
		Gain: wi.Gain, Target: wi.Target, TargetFrom: targetFrom, Distance: wi.Distance, Reached: wi.Reached,
		Links: links, ByIndex: viewScore(wi.New).ByIndex}, nil
}

// indicatorScope reads an indicators call's unit_code: "" or "province" for the province's own
// targets (the report names them so), otherwise a registered unit (knownUnit: a 400 naming
// unit_code when no unit ever had the code).
func (a *api) indicatorScope(r *http.Request) (string, error) {
	scope := r.URL.Query().Get("unit_code")
	if scope == "" || scope == indicator.Province {
		return scope, nil
	}
	_, err := a.knownUnit(r.Context(), scope)
	return scope, err
}
