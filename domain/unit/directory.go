package unit

import "github.com/dxledger/dxledger/domain/civil"

// Directory holds every unit's State, for what spans streams: whether a merge target may take
// a unit in, and which unit a unit's history rolls up to as of a date. The zero Directory is
// empty and ready to use.
type Directory struct {
	units map[string]State
}

// NewDirectory returns a Directory of the given units.
func NewDirectory(states []State) *Directory {
	d := &Directory{units: make(map[string]State, len(states))}
	for _, s := range states {
		d.units[s.Code] = s
	}
	return d
}

// Apply folds one stored event of any unit into the directory.
func (d *Directory) Apply(e Event) {
	if d.units == nil {
		d.units = make(map[string]State)
	}
	d.units[e.UnitCode()] = Evolve(d.units[e.UnitCode()], e)
}

// Lookup returns the registered unit with the given code.
func (d *Directory) Lookup(code string) (State, bool) {
	s := d.units[code]
	return s, s.Code != ""
}

// SuccessorAsOf returns the unit that code's history rolls up to at the end of day asOf: it
// follows every merge effective on or before asOf, transitively. A unit not merged by then,
// dissolved or unknown is its own successor.
func (d *Directory) SuccessorAsOf(code string, asOf civil.Date) string {
	for range len(d.units) { // a chain has fewer hops than units, even in a corrupt store
		s, ok := d.units[code]
		if !ok || s.MergedInto == "" || s.MergedOn.After(asOf) {
			break
		}
		code = s.MergedInto
	}
	return code
}

// CheckMerge checks, across streams, that into may take in code from on: into is registered
// by then, neither merged nor dissolved on or before on, and not code's successor at any
// date. The unit code itself is Decide's to check.
func (d *Directory) CheckMerge(code, into string, on civil.Date) error {
	t, ok := d.Lookup(into)
	switch {
	case code == into:
		return &CycleError{Chain: []string{code, code}}
	case !ok:
		return &NotRegisteredError{Code: into}
	case on.Before(t.Registered):
		return &BeforeRegistrationError{Code: into, Registered: t.Registered, On: on}
	case t.MergedInto != "" && !t.MergedOn.After(on):
		return &AlreadyMergedError{Code: into, Into: t.MergedInto, On: t.MergedOn}
	case !t.DissolvedOn.IsZero() && !t.DissolvedOn.After(on):
		return &DissolvedError{Code: into, On: t.DissolvedOn}
	}
	chain := []string{code, into}
	for next := t.MergedInto; next != "" && len(chain) <= len(d.units); next = d.units[next].MergedInto {
		chain = append(chain, next)
		if next == code {
			return &CycleError{Chain: chain}
		}
	}
	return nil
}

// All returns every unit, in no particular order.
func (d *Directory) All() []State {
	out := make([]State, 0, len(d.units))
	for _, s := range d.units {
		out = append(out, s)
	}
	return out
}

// Clone returns an independent copy of d.
func (d *Directory) Clone() *Directory {
	return NewDirectory(d.All())
}
