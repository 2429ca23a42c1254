package indicator

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/fault"
)

// Errors of the indicator commands. Each has a kind and a message code.
var (
	ErrNotDefined     = fault.New(fault.NotFound, "indicator.not_defined", "no such indicator")
	ErrAlreadyDefined = fault.New(fault.Conflict, "indicator.already_defined", "the indicator is already defined: revise it instead")
)

// FieldError refuses one field of a command.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Kind is fault.Invalid (422).
func (e *FieldError) Kind() fault.Kind { return fault.Invalid }

// Code names the message: the field's reason, in the catalogue.
func (e *FieldError) Code() string { return "indicator.invalid" }

// Args are the field and the reason.
func (e *FieldError) Args() []any { return []any{e.Field, e.Reason} }

// Fields names the field.
func (e *FieldError) Fields() []fault.Field {
	return []fault.Field{{Name: e.Field, Code: "indicator.invalid", Message: e.Reason, Args: []any{e.Field, e.Reason}}}
}

// State is what Decide needs of an indicator's stream.
type State struct {
	Version    int64
	Defined    bool
	Definition Definition
	DefinedOn  civil.Date
}

// Evolve applies one event. It never fails.
func Evolve(s State, e Event) State {
	s.Version++
	switch e := e.(type) {
	case Defined:
		if !s.Defined {
			s.Defined, s.Definition, s.DefinedOn = true, e.Definition, e.EffectiveDate
		}
	case Revised:
		s.Definition = e.Definition
	}
	return s
}

// Command asks for a change to one indicator. The handler fills the dates.
type Command interface{ command() }

// Define defines a new indicator from EffectiveDate.
type Define struct {
	Definition
	EffectiveDate civil.Date
}

// Revise replaces the definition from EffectiveDate (the code stays).
type Revise struct {
	Definition
	EffectiveDate civil.Date
}

// SetBaseline records where the indicator stood in Year for Scope.
type SetBaseline struct {
	Scope  string
	Year   int
	Value  Number
	Source string
	On     civil.Date
}

// SetTarget records the target for Year and Scope.
type SetTarget struct {
	Scope        string
	Year         int
	Value        Number
	Source       string
	Illustrative bool
	On           civil.Date
}

// ReportActual records a figure; Value may be left empty when Numerator and Denominator
// give it.
type ReportActual struct {
	Scope       string
	Year        int
	Value       Number
	Numerator   Number
	Denominator Number
	Date        civil.Date
	Method      Method
	Estimator   string
	Evidence    string
	Note        string
}

func (Define) command()       {}
func (Revise) command()       {}
func (SetBaseline) command()  {}
func (SetTarget) command()    {}
func (ReportActual) command() {}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)

// ValidCode reports whether code can name an indicator (and its stream).
func ValidCode(code string) bool { return codeRE.MatchString(code) }

// Decide returns the events cmd gives on s, or why it is refused. code is the stream's.
func Decide(s State, code string, cmd Command) ([]Event, error) {
	switch c := cmd.(type) {
	case Define:
		if s.Defined {
			return nil, ErrAlreadyDefined
		}
		c.Code = code
		if err := checkDefinition(c.Definition); err != nil {
			return nil, err
		}
		return []Event{Defined{Definition: c.Definition, EffectiveDate: c.EffectiveDate}}, nil
	case Revise:
		if !s.Defined {
			return nil, ErrNotDefined
		}
		c.Code = code
		if err := checkDefinition(c.Definition); err != nil {
			return nil, err
		}
		if c.EffectiveDate.Before(s.DefinedOn) {
			return nil, &FieldError{Field: "effective_date", Reason: "must not be before the indicator was defined (" + s.DefinedOn.String() + ")"}
		}
		return []Event{Revised{Definition: c.Definition, EffectiveDate: c.EffectiveDate}}, nil
	case SetBaseline:
		if !s.Defined {
			return nil, ErrNotDefined
		}
		var errs []error
		errs = append(errs, checkScope(c.Scope), checkYear(c.Year), checkValue("value", s.Definition.Measure, c.Value), checkText("source", c.Source, 300, false))
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		return []Event{BaselineSet{Code: code, Scope: c.Scope, Year: c.Year, Value: c.Value, Source: c.Source, On: c.On}}, nil
	case SetTarget:
		if !s.Defined {
			return nil, ErrNotDefined
		}
		errs := []error{checkScope(c.Scope), checkYear(c.Year), checkValue("value", s.Definition.Measure, c.Value), checkText("source", c.Source, 300, false)}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		return []Event{TargetSet{Code: code, Scope: c.Scope, Year: c.Year, Value: c.Value, Source: c.Source, Illustrative: c.Illustrative, On: c.On}}, nil
	case ReportActual:
		if !s.Defined {
			return nil, ErrNotDefined
		}
		return decideActual(s, code, c)
	}
	return nil, fmt.Errorf("indicator: unknown command %T", cmd)
}

func decideActual(s State, code string, c ReportActual) ([]Event, error) {
	errs := []error{checkScope(c.Scope), checkYear(c.Year), checkText("estimator", c.Estimator, 200, true),
		checkText("evidence", c.Evidence, 500, false), checkText("note", c.Note, 1000, false)}
	switch c.Method {
	case Official, Estimate, Automated:
	default:
		errs = append(errs, &FieldError{Field: "method", Reason: "must be official, estimate or automated"})
	}
	if c.Year >= 2000 && !c.Date.IsZero() && c.Date.Year < c.Year {
		errs = append(errs, &FieldError{Field: "date", Reason: fmt.Sprintf("a figure for %d cannot be dated before %d began", c.Year, c.Year)})
	}
	if !c.Numerator.IsZero() || !c.Denominator.IsZero() {
		if c.Numerator.IsZero() || c.Denominator.IsZero() {
			errs = append(errs, &FieldError{Field: "denominator", Reason: "give both the numerator and the denominator, or neither"})
		} else if c.Denominator.Rat().Sign() <= 0 || c.Numerator.Rat().Sign() < 0 {
			errs = append(errs, &FieldError{Field: "denominator", Reason: "the denominator must be above zero and the numerator not below it"})
		} else if c.Value.IsZero() {
			v := new(big.Rat).Quo(c.Numerator.Rat(), c.Denominator.Rat())
			if s.Definition.Measure == Percentage {
				v.Mul(v, big.NewRat(100, 1))
			}
			c.Value = NumberOf(v)
		}
	}
	if c.Value.IsZero() {
		errs = append(errs, &FieldError{Field: "value", Reason: "is required (or a numerator and a denominator)"})
	} else {
		errs = append(errs, checkValue("value", s.Definition.Measure, c.Value))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return []Event{ActualReported{Code: code, Scope: c.Scope, Year: c.Year, Value: c.Value, Numerator: c.Numerator,
		Denominator: c.Denominator, Date: c.Date, Method: c.Method, Estimator: c.Estimator, Evidence: c.Evidence, Note: c.Note}}, nil
}

func checkDefinition(d Definition) error {
	var errs []error
	if !ValidCode(d.Code) {
		errs = append(errs, &FieldError{Field: "code", Reason: "1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit"})
	}
	errs = append(errs, checkText("name_vi", d.NameVI, 300, true), checkText("name_en", d.NameEN, 300, true),
		checkText("numerator", d.Numerator, 300, false), checkText("denominator", d.Denominator, 300, false),
		checkText("counts_estimator", d.CountsEstimator, 200, false))
	switch d.Measure {
	case Percentage, Count, VND, Ratio:
	default:
		errs = append(errs, &FieldError{Field: "measure", Reason: "must be percentage, count, vnd or ratio"})
	}
	if d.Measure == Ratio && (d.Numerator == "" || d.Denominator == "") {
		errs = append(errs, &FieldError{Field: "denominator", Reason: "a ratio says what its numerator and denominator count"})
	}
	switch d.Direction {
	case Higher, Lower:
	default:
		errs = append(errs, &FieldError{Field: "direction", Reason: "must be higher or lower (which way is better)"})
	}
	switch d.Pillar {
	case "government", "economy", "society":
	default:
		errs = append(errs, &FieldError{Field: "pillar", Reason: "must be government, economy or society"})
	}
	if len(d.Frameworks) > 20 {
		errs = append(errs, &FieldError{Field: "frameworks", Reason: "at most 20 references"})
	}
	for _, f := range d.Frameworks {
		if err := checkText("frameworks", f, 100, true); err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

func checkScope(scope string) error {
	if scope != Province && !ValidCode(scope) {
		return &FieldError{Field: "scope", Reason: "must be province or a unit code"}
	}
	return nil
}

func checkYear(y int) error {
	if y < 2000 || y > 2100 {
		return &FieldError{Field: "year", Reason: "must be a year from 2000 to 2100"}
	}
	return nil
}

func checkValue(field string, m Measure, v Number) error {
	if v.IsZero() {
		return &FieldError{Field: field, Reason: "is required"}
	}
	r := v.Rat()
	switch m {
	case Percentage:
		if r.Cmp(big.NewRat(-100, 1)) < 0 || r.Cmp(big.NewRat(10000, 1)) > 0 {
			return &FieldError{Field: field, Reason: "a percentage from -100 to 10000"}
		}
	case VND, Count:
		if r.Sign() < 0 || !r.IsInt() {
			return &FieldError{Field: field, Reason: "a whole number, not negative"}
		}
	default:
		if r.Sign() < 0 {
			return &FieldError{Field: field, Reason: "must not be negative"}
		}
	}
	return nil
}

func checkText(field, s string, max int, required bool) error {
	if strings.TrimSpace(s) == "" {
		if required {
			return &FieldError{Field: field, Reason: "is required"}
		}
		return nil
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return &FieldError{Field: field, Reason: fmt.Sprintf("at most %d characters of text", max)}
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }) {
		return &FieldError{Field: field, Reason: "must not hold control characters"}
	}
	return nil
}
