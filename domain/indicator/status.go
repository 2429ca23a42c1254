package indicator

import (
	"math/big"
	"sort"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
)

// Status is what the committee reads beside a target (API.md, "The DTI").
//
// The rule, for year Y read as of day D (figures dated on or before D, recorded by known_at):
//
// A year that has ended (Y before D's year) is judged on the actual OF year Y — the latest
// figure for Y of the estimator that counts (the definition's counts_estimator; any estimator
// when none is named), the latest business date winning and, on the same date, the one
// recorded last (a correction):
//   - no_data: no such figure;
//   - met: the figure equals the target;
//   - exceeded: it is better than the target (above it when higher is better, below when lower);
//   - missed: it is worse.
//
// A year in progress (Y is D's year, or later: a target still ahead) is judged on the latest
// actual of any year up to Y, against a straight path from the baseline to the target:
//   - the baseline is the latest baseline set for a year before Y (value B at the end of its
//     year); the target T stands at the end of Y;
//   - the actual A stands at its business date, or at the end of its year if it was reported
//     later (a figure for 2022 describes 2022);
//   - the path expects E = B + (T − B) × f there, f the share of the days from the baseline to
//     the target that have passed (0 to 1);
//   - no_data: no actual after the baseline's year;
//   - on_track: A is at or better than E (or already meets T);
//   - at_risk: A falls short of E by no more than a tenth of |T − B| (any shortfall when the
//     path is flat, or when there is no baseline to draw it from);
//   - off_track: A falls short of E by more than that.
//
// "Targets met" in the seeds' sense is met + exceeded; "hard to reach this year" lists the
// rows at_risk or off_track (and, for an ended year, missed).
type Status string

// The status words.
const (
	Met      Status = "met"
	Exceeded Status = "exceeded"
	Missed   Status = "missed"
	OnTrack  Status = "on_track"
	AtRisk   Status = "at_risk"
	OffTrack Status = "off_track"
	NoData   Status = "no_data"
)

// Actual is one figure as a row shows it.
type Actual struct {
	Year      int        `json:"year"`
	Value     Number     `json:"value"`
	Date      civil.Date `json:"date"`
	Method    Method     `json:"method"`
	Estimator string     `json:"estimator"`
	Evidence  string     `json:"evidence,omitempty"`
	Note      string     `json:"note,omitempty"`
}

// Row is one indicator's standing for a year.
type Row struct {
	Code            string    `json:"code"`
	Name            string    `json:"name"`
	NameEN          string    `json:"name_en"`
	Pillar          string    `json:"pillar"`
	Measure         Measure   `json:"measure"`
	Direction       Direction `json:"direction"`
	UnitCode        string    `json:"unit_code"`
	Frameworks      []string  `json:"frameworks"`
	Scope           string    `json:"scope"`
	Target          Number    `json:"target"`
	TargetSource    string    `json:"target_source,omitempty"`
	Illustrative    bool      `json:"illustrative,omitempty"`
	Baseline        Number    `json:"baseline"`
	BaselineYear    int       `json:"baseline_year,omitempty"`
	Actual          Number    `json:"actual"`
	ActualDetail    *Actual   `json:"actual_detail"`
	Expected        Number    `json:"expected,omitempty"`
	Status          Status    `json:"status"`
	CountsEstimator string    `json:"counts_estimator,omitempty"`
	OtherEstimates  []Actual  `json:"other_estimates"`
}

// Totals counts the rows by status.
type Totals struct {
	Met      int `json:"met"`
	Exceeded int `json:"exceeded"`
	Missed   int `json:"missed"`
	OnTrack  int `json:"on_track"`
	AtRisk   int `json:"at_risk"`
	OffTrack int `json:"off_track"`
	NoData   int `json:"no_data"`
}

// Add counts one status.
func (t *Totals) Add(s Status) {
	switch s {
	case Met:
		t.Met++
	case Exceeded:
		t.Exceeded++
	case Missed:
		t.Missed++
	case OnTrack:
		t.OnTrack++
	case AtRisk:
		t.AtRisk++
	case OffTrack:
		t.OffTrack++
	default:
		t.NoData++
	}
}

// Rows is the number of rows counted.
func (t Totals) Rows() int {
	return t.Met + t.Exceeded + t.Missed + t.OnTrack + t.AtRisk + t.OffTrack + t.NoData
}

// Report is a year's rows and their counts.
type Report struct {
	Year  int    `json:"year"`
	Ended bool   `json:"ended"`
	Rows  []Row  `json:"rows"`
	Total Totals `json:"total"`
}

// HardToReach returns the rows the committee must act on: at risk or off track, or missed.
func (r Report) HardToReach() []Row {
	var out []Row
	for _, row := range r.Rows {
		switch row.Status {
		case AtRisk, OffTrack, Missed:
			out = append(out, row)
		}
	}
	return out
}

// indicatorFacts is one indicator's facts, folded.
type indicatorFacts struct {
	def       Definition
	defined   bool
	baselines []BaselineSet
	targets   []TargetSet
	actuals   []ActualReported // in stream order
}

// Fold builds the report of year for scope from facts — every event of the indicators the
// query selected (business date on or before asOf, recorded by its moment), each
// indicator's in stream order. Rows are the indicators with a target for (scope, year),
// by pillar and code.
func Fold(facts []Event, year int, asOf civil.Date, scope string) Report {
	if scope == "" {
		scope = Province
	}
	by := map[string]*indicatorFacts{}
	get := func(code string) *indicatorFacts {
		f := by[code]
		if f == nil {
			f = &indicatorFacts{}
			by[code] = f
		}
		return f
	}
	for _, e := range facts {
		f := get(e.IndicatorCode())
		switch e := e.(type) {
		case Defined:
			if !f.defined {
				f.def, f.defined = e.Definition, true
			}
		case Revised:
			f.def = e.Definition
		case BaselineSet:
			if e.Scope == scope {
				f.baselines = append(f.baselines, e)
			}
		case TargetSet:
			if e.Scope == scope {
				f.targets = append(f.targets, e)
			}
		case ActualReported:
			if e.Scope == scope {
				f.actuals = append(f.actuals, e)
			}
		}
	}
	rep := Report{Year: year, Ended: year < asOf.Year, Rows: []Row{}}
	for code, f := range by {
		if !f.defined {
			continue
		}
		var target *TargetSet
		for i := range f.targets { // the last set for the year wins
			if f.targets[i].Year == year {
				target = &f.targets[i]
			}
		}
		if target == nil {
			continue
		}
		row := Row{Code: code, Name: f.def.NameVI, NameEN: f.def.NameEN, Pillar: f.def.Pillar, Measure: f.def.Measure,
			Direction: f.def.Direction, UnitCode: f.def.UnitCode, Frameworks: f.def.Frameworks, Scope: scope,
			Target: target.Value, TargetSource: target.Source, Illustrative: target.Illustrative,
			CountsEstimator: f.def.CountsEstimator, OtherEstimates: []Actual{}}
		if row.Frameworks == nil {
			row.Frameworks = []string{}
		}
		judge(&row, f, year, rep.Ended)
		rep.Total.Add(row.Status)
		rep.Rows = append(rep.Rows, row)
	}
	sort.Slice(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i], rep.Rows[j]
		if pillarOrder(a.Pillar) != pillarOrder(b.Pillar) {
			return pillarOrder(a.Pillar) < pillarOrder(b.Pillar)
		}
		return a.Code < b.Code
	})
	return rep
}

func pillarOrder(p string) int {
	switch p {
	case "government":
		return 0
	case "economy":
		return 1
	case "society":
		return 2
	}
	return 3
}

// latest returns the latest actual among those that pass keep: latest business date, then
// the one recorded last (later in the stream).
func latest(as []ActualReported, keep func(ActualReported) bool) *ActualReported {
	var best *ActualReported
	for i := range as {
		a := &as[i]
		if !keep(*a) {
			continue
		}
		if best == nil || !a.Date.Before(best.Date) {
			best = a
		}
	}
	return best
}

func (a ActualReported) detail() *Actual {
	return &Actual{Year: a.Year, Value: a.Value, Date: a.Date, Method: a.Method, Estimator: a.Estimator, Evidence: a.Evidence, Note: a.Note}
}

func judge(row *Row, f *indicatorFacts, year int, ended bool) {
	counts := func(a ActualReported) bool {
		return f.def.CountsEstimator == "" || a.Estimator == f.def.CountsEstimator
	}
	// Other estimators' latest figures — of the year when it has ended, of any year up to it
	// while it is in progress — kept beside the one that counts.
	if f.def.CountsEstimator != "" {
		relevant := func(a ActualReported) bool { return a.Year == year || (!ended && a.Year < year) }
		seen := map[string]bool{}
		for i := len(f.actuals) - 1; i >= 0; i-- {
			a := f.actuals[i]
			if !relevant(a) || counts(a) || seen[a.Estimator] {
				continue
			}
			seen[a.Estimator] = true
			var best *ActualReported
			for j := range f.actuals {
				b := &f.actuals[j]
				if relevant(*b) && b.Estimator == a.Estimator && (best == nil || b.Year > best.Year || (b.Year == best.Year && !b.Date.Before(best.Date))) {
					best = b
				}
			}
			row.OtherEstimates = append(row.OtherEstimates, *best.detail())
		}
	}
	better := func(a, b Number) int { // > 0 when a is better than b
		c := a.Cmp(b)
		if f.def.Direction == Lower {
			return -c
		}
		return c
	}
	var base *BaselineSet
	for i := range f.baselines {
		b := &f.baselines[i]
		if b.Year < year && (base == nil || b.Year >= base.Year) {
			base = b
		}
	}
	if base != nil {
		row.Baseline, row.BaselineYear = base.Value, base.Year
	}
	if ended {
		a := latest(f.actuals, func(a ActualReported) bool { return a.Year == year && counts(a) })
		if a == nil {
			row.Status = NoData
			return
		}
		row.Actual, row.ActualDetail = a.Value, a.detail()
		switch c := better(a.Value, row.Target); {
		case c > 0:
			row.Status = Exceeded
		case c == 0:
			row.Status = Met
		default:
			row.Status = Missed
		}
		return
	}
	// In progress: the latest figure of a year up to this one, after the baseline's year.
	var a *ActualReported
	for i := range f.actuals {
		x := &f.actuals[i]
		if x.Year > year || !counts(*x) || (base != nil && x.Year <= base.Year) {
			continue
		}
		if a == nil || x.Year > a.Year || (x.Year == a.Year && !x.Date.Before(a.Date)) {
			a = x
		}
	}
	if a == nil {
		row.Status = NoData
		return
	}
	row.Actual, row.ActualDetail = a.Value, a.detail()
	if better(a.Value, row.Target) >= 0 {
		row.Status = OnTrack
		return
	}
	if base == nil {
		row.Status = AtRisk
		return
	}
	start := civil.Date{Year: base.Year, Month: time.December, Day: 31}
	end := civil.Date{Year: year, Month: time.December, Day: 31}
	at := a.Date
	if yearEnd := (civil.Date{Year: a.Year, Month: time.December, Day: 31}); at.IsZero() || at.After(yearEnd) {
		at = yearEnd
	}
	span := end.DaysSince(start)
	done := at.DaysSince(start)
	if done < 0 {
		done = 0
	}
	if done > span {
		done = span
	}
	b, t := base.Value.Rat(), row.Target.Rat()
	e := new(big.Rat).Sub(t, b)
	step := new(big.Rat).Mul(e, big.NewRat(int64(done), int64(max(span, 1))))
	expected := new(big.Rat).Add(b, step)
	row.Expected = NumberOf(expected)
	short := new(big.Rat).Sub(expected, a.Value.Rat())
	if f.def.Direction == Lower {
		short.Neg(short)
	}
	tol := new(big.Rat).Abs(e)
	tol.Quo(tol, big.NewRat(10, 1))
	switch {
	case short.Sign() <= 0:
		row.Status = OnTrack
	case tol.Sign() == 0 || short.Cmp(tol) <= 0:
		row.Status = AtRisk
	default:
		row.Status = OffTrack
	}
}
