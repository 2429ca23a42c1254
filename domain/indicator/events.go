// Package indicator keeps the programme's indicators (chỉ tiêu) as events: an indicator's
// definition and its revisions, baselines and yearly targets per scope (the province or a
// unit), and actuals with their business date, method, estimator and evidence — a correction
// is a new fact, never an edit. Status (status.go) judges a year's figures the way
// docs/INDICATORS-STATUS in the package doc of status.go says; Report folds the facts a query
// selected by business date (as_of) and recording moment (known_at) into the committee's rows.
// Pure: no I/O, no clock.
package indicator

import "github.com/dxledger/dxledger/domain/civil"

// Measure is what kind of figure an indicator is.
type Measure string

// The measures.
const (
	Percentage Measure = "percentage"
	Count      Measure = "count"
	VND        Measure = "vnd"
	Ratio      Measure = "ratio"
)

// Direction says which way is better.
type Direction string

// The directions.
const (
	Higher Direction = "higher"
	Lower  Direction = "lower"
)

// Method is how an actual was obtained.
type Method string

// The methods.
const (
	Official  Method = "official"
	Estimate  Method = "estimate"
	Automated Method = "automated"
)

// Province is the scope of a figure for the whole province.
const Province = "province"

// Definition is what an indicator is.
type Definition struct {
	Code    string  `json:"code"`
	NameVI  string  `json:"name_vi"`
	NameEN  string  `json:"name_en"`
	Measure Measure `json:"measure"`
	// Numerator and Denominator say what a ratio (or a percentage) counts, in words.
	Numerator   string    `json:"numerator,omitempty"`
	Denominator string    `json:"denominator,omitempty"`
	Direction   Direction `json:"direction"`
	Pillar      string    `json:"pillar"`
	// Frameworks are the references it answers to: decisions ("749/QĐ-TTg"), resolutions,
	// DTI main indices ("DTI:digital_society").
	Frameworks []string `json:"frameworks"`
	// UnitCode is the responsible unit, whose focal point reports the actuals.
	UnitCode string `json:"unit_code"`
	// CountsEstimator is the estimator whose figure counts when two bodies estimate the same
	// indicator; empty: the latest figure, whoever gave it.
	CountsEstimator string `json:"counts_estimator,omitempty"`
}

// Event is a fact about one indicator.
type Event interface {
	// IndicatorCode is the code of the indicator whose stream holds the event.
	IndicatorCode() string
	event()
}

// Defined: the indicator exists with this definition from EffectiveDate.
type Defined struct {
	Definition
	EffectiveDate civil.Date `json:"effective_date"`
}

// Revised: from EffectiveDate the indicator's definition is this one.
type Revised struct {
	Definition
	EffectiveDate civil.Date `json:"effective_date"`
}

// BaselineSet: the indicator stood at Value in Year, for Scope (the start of the path to
// the targets).
type BaselineSet struct {
	Code   string     `json:"code"`
	Scope  string     `json:"scope"`
	Year   int        `json:"year"`
	Value  Number     `json:"value"`
	Source string     `json:"source,omitempty"`
	On     civil.Date `json:"on"`
}

// TargetSet: the indicator's target for Year, for Scope, set by Source (a decision, a plan).
// Illustrative marks a figure the demo made up where the seeds give none.
type TargetSet struct {
	Code         string     `json:"code"`
	Scope        string     `json:"scope"`
	Year         int        `json:"year"`
	Value        Number     `json:"value"`
	Source       string     `json:"source,omitempty"`
	Illustrative bool       `json:"illustrative,omitempty"`
	On           civil.Date `json:"on"`
}

// ActualReported: the figure for Year, for Scope, as Estimator gave it on Date, by Method,
// with the document behind it. A later report for the same year, scope and estimator
// supersedes it (a correction).
type ActualReported struct {
	Code        string     `json:"code"`
	Scope       string     `json:"scope"`
	Year        int        `json:"year"`
	Value       Number     `json:"value"`
	Numerator   Number     `json:"numerator,omitempty"`
	Denominator Number     `json:"denominator,omitempty"`
	Date        civil.Date `json:"date"`
	Method      Method     `json:"method"`
	Estimator   string     `json:"estimator"`
	Evidence    string     `json:"evidence,omitempty"`
	Note        string     `json:"note,omitempty"`
}

// IndicatorCode is the defined indicator's code.
func (e Defined) IndicatorCode() string { return e.Code }

// IndicatorCode is the revised indicator's code.
func (e Revised) IndicatorCode() string { return e.Code }

// IndicatorCode is the indicator's code.
func (e BaselineSet) IndicatorCode() string { return e.Code }

// IndicatorCode is the indicator's code.
func (e TargetSet) IndicatorCode() string { return e.Code }

// IndicatorCode is the indicator's code.
func (e ActualReported) IndicatorCode() string { return e.Code }

func (Defined) event()        {}
func (Revised) event()        {}
func (BaselineSet) event()    {}
func (TargetSet) event()      {}
func (ActualReported) event() {}

// StreamID is the stream of the indicator called code.
func StreamID(code string) string { return "indicator-" + code }
