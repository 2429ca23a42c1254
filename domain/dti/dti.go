// Package dti computes the provincial digital-transformation index (DTI) the way a framework
// says: each scored main index is published as a value in [0, 1] with its points, and the
// total is Σ value × points / divisor, rounded half up to four decimals. Frameworks change
// (922/QĐ-BTTTT for DTI 2020–2023, 405/QĐ-BKHCN from DTI 2024), so a framework is data — read
// from YAML by workflows/dtiframe — and each year is scored under the framework in force for
// it. The arithmetic is exact (math/big rationals): no float drift between a value typed in and
// the total the Ministry published.
package dti

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dxledger/dxledger/domain/fault"
)

// Index is one main index (chỉ số chính) of a framework.
type Index struct {
	Code   string `json:"code"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
	// Points are its weight; zero for an index the framework lists but does not score.
	Points int `json:"points"`
}

// Framework is one version of the index's method.
type Framework struct {
	// Code is the decision that set it, e.g. "922/QĐ-BTTTT".
	Code   string `json:"code"`
	Title  string `json:"title"`
	Issued string `json:"issued"` // the decision's date, as written
	// FromYear and ToYear are the DTI years scored under it (ToYear 0: still in force).
	FromYear int `json:"from_year"`
	ToYear   int `json:"to_year"`
	// Divisor: total = Σ value × points / Divisor.
	Divisor int     `json:"divisor"`
	Indices []Index `json:"indices"`
	// Complete is false for a framework whose points table is not loaded yet: it is listed,
	// and nothing is scored under it.
	Complete bool `json:"complete"`
	// Note says where the table comes from, or what is missing.
	Note string `json:"note,omitempty"`
}

// Validate checks a framework: a code, years, unique index codes, points that are not
// negative, and (when complete) a positive divisor and scored indices.
func (f *Framework) Validate() error {
	var errs []error
	if strings.TrimSpace(f.Code) == "" {
		errs = append(errs, errors.New("framework: code is required"))
	}
	if f.FromYear < 2000 || f.FromYear > 2100 || (f.ToYear != 0 && f.ToYear < f.FromYear) {
		errs = append(errs, fmt.Errorf("framework %s: years %d–%d are not a range", f.Code, f.FromYear, f.ToYear))
	}
	seen := map[string]bool{}
	scored := 0
	for _, ix := range f.Indices {
		if ix.Code == "" || seen[ix.Code] {
			errs = append(errs, fmt.Errorf("framework %s: index code %q is empty or given twice", f.Code, ix.Code))
		}
		seen[ix.Code] = true
		if ix.Points < 0 {
			errs = append(errs, fmt.Errorf("framework %s: index %s has negative points", f.Code, ix.Code))
		}
		if ix.Points > 0 {
			scored++
		}
	}
	if f.Complete && (f.Divisor <= 0 || scored == 0) {
		errs = append(errs, fmt.Errorf("framework %s: a complete framework needs a positive divisor and scored indices", f.Code))
	}
	return errors.Join(errs...)
}

// Scored returns the indices that carry points, in the framework's order.
func (f *Framework) Scored() []Index {
	var out []Index
	for _, ix := range f.Indices {
		if ix.Points > 0 {
			out = append(out, ix)
		}
	}
	return out
}

// InForce reports whether the framework scores the DTI of year.
func (f *Framework) InForce(year int) bool {
	return year >= f.FromYear && (f.ToYear == 0 || year <= f.ToYear)
}

// Errors of scoring. Each has a kind and a message code.
var (
	ErrUnknownFramework = fault.NewField("framework", "dti.unknown_framework", "no such DTI framework")
	ErrIncomplete       = fault.NewField("framework", "dti.incomplete_framework", "the framework's points table is not loaded: nothing can be scored under it")
)

// ValueError refuses a main-index value: missing, not a number, or outside [0, 1].
type ValueError struct {
	Index  string
	Reason string
	// Field is the refused field when it is not a value (a result's year, rank, total).
	Field string
}

func (e *ValueError) name() string {
	if e.Field != "" {
		return e.Field
	}
	return "values." + e.Index
}

func (e *ValueError) Error() string { return e.name() + ": " + e.Reason }

// Kind is fault.Invalid (422).
func (e *ValueError) Kind() fault.Kind { return fault.Invalid }

// Code names the message.
func (e *ValueError) Code() string { return "dti.bad_value" }

// Args are the index code and the reason.
func (e *ValueError) Args() []any { return []any{e.Index} }

// Fields names the refused value.
func (e *ValueError) Fields() []fault.Field {
	return []fault.Field{{Name: e.name(), Code: "dti.bad_value", Message: e.Reason, Args: []any{e.Index}}}
}

// Value is a main-index value in [0, 1], exact.
type Value struct{ r *big.Rat }

var numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// ParseValue reads a decimal number ("0.8253", "1", "1e-1").
func ParseValue(s string) (Value, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 40 || !numberRE.MatchString(s) {
		return Value{}, false
	}
	// A JSON number may carry an exponent; a large one would make the exact value huge (1e-99999999
	// is 10⁻⁹⁹⁹⁹⁹⁹⁹), so only small ones are read.
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err := strconv.Atoi(s[i+1:])
		if err != nil || exp < -20 || exp > 20 {
			return Value{}, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return Value{}, false
	}
	return Value{r}, true
}

// ValueOf is v as an exact value (for tests and what-ifs built from ten-thousandths).
func ValueOf(tenThousandths int64) Value { return Value{big.NewRat(tenThousandths, 10000)} }

// Rat is the exact value.
func (v Value) Rat() *big.Rat {
	if v.r == nil {
		return new(big.Rat)
	}
	return new(big.Rat).Set(v.r)
}

// Weighted is one index's share of the total.
type Weighted struct {
	Code   string
	Value  *big.Rat
	Points int
	// Weighted is value × points / divisor, exact.
	Weighted *big.Rat
}

// Score is a framework's total for a set of values.
type Score struct {
	Framework string
	Total     Fixed4 // rounded half up to four decimals
	Exact     *big.Rat
	ByIndex   []Weighted
}

// Compute scores values under f. Every scored index needs a value in [0, 1]; a value for an
// index the framework does not have is refused too, so a typo is not silently ignored.
func Compute(f *Framework, values map[string]string) (Score, error) {
	if !f.Complete {
		return Score{}, ErrIncomplete
	}
	var errs []error
	known := map[string]bool{}
	for _, ix := range f.Indices {
		known[ix.Code] = true
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !known[k] {
			errs = append(errs, &ValueError{Index: k, Reason: "is not a main index of " + f.Code})
		}
	}
	total := new(big.Rat)
	s := Score{Framework: f.Code}
	one := big.NewRat(1, 1)
	div := big.NewRat(int64(f.Divisor), 1)
	for _, ix := range f.Scored() {
		raw, ok := values[ix.Code]
		if !ok {
			errs = append(errs, &ValueError{Index: ix.Code, Reason: "is required (a value from 0 to 1)"})
			continue
		}
		v, ok := ParseValue(raw)
		if !ok {
			errs = append(errs, &ValueError{Index: ix.Code, Reason: "must be a number from 0 to 1"})
			continue
		}
		if v.r.Sign() < 0 || v.r.Cmp(one) > 0 {
			errs = append(errs, &ValueError{Index: ix.Code, Reason: "must be from 0 to 1"})
			continue
		}
		w := new(big.Rat).Mul(v.r, big.NewRat(int64(ix.Points), 1))
		w.Quo(w, div)
		total.Add(total, w)
		s.ByIndex = append(s.ByIndex, Weighted{Code: ix.Code, Value: v.Rat(), Points: ix.Points, Weighted: w})
	}
	if err := errors.Join(errs...); err != nil {
		return Score{}, err
	}
	s.Exact = total
	s.Total = Round4(total)
	return s, nil
}

// Fixed4 is a number in ten-thousandths (0.8002 is 8002): a total as published.
type Fixed4 int64

// Round4 rounds r half away from zero to four decimals.
func Round4(r *big.Rat) Fixed4 {
	x := new(big.Rat).Mul(r, big.NewRat(10000, 1))
	num, den := new(big.Int).Set(x.Num()), x.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return Fixed4(q.Int64())
}

// String prints four decimals: "0.8002".
func (f Fixed4) String() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%04d", sign, v/10000, v%10000)
}

// MarshalJSON writes the number with its four decimals (0.8002, never 0.80019999).
func (f Fixed4) MarshalJSON() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalJSON reads a number rounded to four decimals.
func (f *Fixed4) UnmarshalJSON(b []byte) error {
	v, ok := ParseValue(strings.Trim(string(b), `"`))
	if !ok {
		return fmt.Errorf("dti: %s is not a number", b)
	}
	*f = Round4(v.r)
	return nil
}

// Rat is f as an exact number.
func (f Fixed4) Rat() *big.Rat { return big.NewRat(int64(f), 10000) }

// Registry holds the frameworks by code.
type Registry struct {
	byCode map[string]*Framework
	order  []string
}

// NewRegistry validates fs; a later framework with the code of an earlier one replaces it
// (configuration replacing the embedded table).
func NewRegistry(fs ...*Framework) (*Registry, error) {
	r := &Registry{byCode: map[string]*Framework{}}
	var errs []error
	for _, f := range fs {
		if err := f.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, ok := r.byCode[f.Code]; !ok {
			r.order = append(r.order, f.Code)
		}
		c := *f
		c.Indices = slices.Clone(f.Indices)
		r.byCode[f.Code] = &c
	}
	return r, errors.Join(errs...)
}

// Get returns the framework called code.
func (r *Registry) Get(code string) (*Framework, bool) {
	f, ok := r.byCode[code]
	return f, ok
}

// ForYear returns the framework in force for the DTI of year (the latest-starting one).
func (r *Registry) ForYear(year int) (*Framework, bool) {
	var best *Framework
	for _, c := range r.order {
		f := r.byCode[c]
		if f.InForce(year) && (best == nil || f.FromYear > best.FromYear) {
			best = f
		}
	}
	return best, best != nil
}

// All returns the frameworks in the order given.
func (r *Registry) All() []*Framework {
	out := make([]*Framework, 0, len(r.order))
	for _, c := range r.order {
		out = append(out, r.byCode[c])
	}
	return out
}

// Score scores values under the framework called code.
func (r *Registry) Score(code string, values map[string]string) (Score, error) {
	f, ok := r.Get(code)
	if !ok {
		return Score{}, ErrUnknownFramework
	}
	return Compute(f, values)
}
