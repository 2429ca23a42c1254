package unit

import (
	"slices"
	"sort"

	"github.com/dxledger/dxledger/domain/civil"
)

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
// follows every merge effective on or before asOf, transitively, and of a split the
// successor that takes the items the split names in no part. A unit not merged or split by
// then, dissolved or unknown is its own successor. An item's successor depends on the item
// where a split is on the way: ItemSuccessorAsOf.
func (d *Directory) SuccessorAsOf(code string, asOf civil.Date) string {
	return d.ItemSuccessorAsOf(code, "", asOf)
}

// ItemSuccessorAsOf returns the unit that the item itemID of unit code belongs to at the end
// of day asOf: it follows every merge effective by then and, through a split effective by
// then, the part that names the item (or the rest).
func (d *Directory) ItemSuccessorAsOf(code, itemID string, asOf civil.Date) string {
	for range len(d.units) { // a chain has fewer hops than units, even in a corrupt store
		s, ok := d.units[code]
		switch {
		case !ok:
			return code
		case s.MergedInto != "" && !s.MergedOn.After(asOf):
			code = s.MergedInto
		case s.Split != nil && !s.DissolvedOn.After(asOf):
			code = s.Split.IntoFor(itemID)
		default:
			return code
		}
	}
	return code
}

// Family is what belongs to a unit on a day: the items of Units except those in Except, and
// the items in Items.
type Family struct {
	Units, Except, Items []string
}

// FamilyAsOf is what belongs to the unit code at the end of day asOf: the items whose unit's
// history rolls up to it by then (its own, those of units merged into it), through a split
// only the items the split hands to it. A unit on a split's way keeps out the items the split
// hands elsewhere.
func (d *Directory) FamilyAsOf(code string, asOf civil.Date) Family {
	var f Family
	for _, u := range d.units {
		splits := d.splitsOnTheWay(u.Code, asOf)
		if len(splits) == 0 {
			if d.SuccessorAsOf(u.Code, asOf) == code {
				f.Units = append(f.Units, u.Code)
			}
			continue
		}
		// Every item named by a split on the way may go elsewhere than the rest.
		named := map[string]bool{}
		for _, sp := range splits {
			for _, p := range sp.Parts {
				for _, id := range p.ItemIDs {
					named[id] = true
				}
			}
		}
		rest := d.SuccessorAsOf(u.Code, asOf) == code
		if rest {
			f.Units = append(f.Units, u.Code)
		}
		for id := range named {
			mine := d.ItemSuccessorAsOf(u.Code, id, asOf) == code
			switch {
			case rest && !mine:
				f.Except = append(f.Except, id)
			case !rest && mine:
				f.Items = append(f.Items, id)
			}
		}
	}
	if len(f.Units) == 0 && len(f.Items) == 0 {
		// Nothing belongs to it that day (a unit merged or split away, not yet registered, or
		// unknown): a unit no item has, so that the family is never "every unit".
		f.Units = []string{code}
		if _, known := d.units[code]; known {
			f.Units = []string{""}
		}
	}
	sort.Strings(f.Units)
	sort.Strings(f.Except)
	sort.Strings(f.Items)
	// A named item is looked at from each unit on the split's way: once is enough.
	f.Except, f.Items = slices.Compact(f.Except), slices.Compact(f.Items)
	return f
}

// splitsOnTheWay are the splits effective by asOf that the history of unit code passes
// through (following merges and splits' rests; a split's parts lead on by the same units'
// splits, which are then on the way of the part's successor and found from there too).
func (d *Directory) splitsOnTheWay(code string, asOf civil.Date) []*Split {
	var out []*Split
	seen := map[string]bool{}
	var walk func(c string)
	walk = func(c string) {
		for range len(d.units) {
			if seen[c] {
				return
			}
			seen[c] = true
			s, ok := d.units[c]
			switch {
			case !ok:
				return
			case s.MergedInto != "" && !s.MergedOn.After(asOf):
				c = s.MergedInto
			case s.Split != nil && !s.DissolvedOn.After(asOf):
				out = append(out, s.Split)
				for _, p := range s.Split.Parts {
					walk(p.IntoCode)
				}
				c = s.Split.RestIntoCode
			default:
				return
			}
		}
	}
	walk(code)
	return out
}

// CheckSplit checks, across streams, that each successor named may take in code's items from
// on, as CheckMerge checks a merger's successor.
func (d *Directory) CheckSplit(code string, parts []SplitPart, rest string, on civil.Date) error {
	targets := []string{rest}
	for _, p := range parts {
		targets = append(targets, p.IntoCode)
	}
	for _, t := range targets {
		if err := d.CheckMerge(code, t, on); err != nil {
			return err
		}
	}
	return nil
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
