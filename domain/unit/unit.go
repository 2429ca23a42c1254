// Package unit is the organisational units of a province: the province itself, its
// departments (sở, ban, ngành), districts and cities (huyện, thành phố) and communes (xã).
// Each unit is one event stream, "unit-<CODE>". Units change: a unit can be renamed, merged
// into another, or dissolved. Events keep the unit that was valid when they happened;
// roll-ups follow the succession, which Directory resolves across streams.
package unit

import (
	"fmt"

	"github.com/dxledger/dxledger/domain/civil"
)

// Kind is the level of a unit in the province.
type Kind string

// The kinds of unit (API.md, "Codes").
const (
	Province   Kind = "province"
	Department Kind = "department"
	District   Kind = "district"
	Commune    Kind = "commune"
)

func (k Kind) valid() bool {
	switch k {
	case Province, Department, District, Commune:
		return true
	}
	return false
}

// StreamID is the event stream of the unit with the given code.
func StreamID(code string) string { return "unit-" + code }

// State is a unit as its events left it. The zero State is a unit not yet registered.
type State struct {
	Code        string
	Name        string
	Kind        Kind
	ParentCode  string
	Registered  civil.Date
	MergedInto  string
	MergedOn    civil.Date
	DissolvedOn civil.Date
	// Split is how the unit was divided when it was dissolved by a split (DissolvedOn is its
	// effective date): nil for a unit never split.
	Split   *Split
	Version int64 // events applied
}

// EndedOn is the first day the unit no longer exists on its own (merged, split or dissolved),
// zero while it lives.
func (s State) EndedOn() civil.Date {
	if !s.MergedOn.IsZero() {
		return s.MergedOn
	}
	return s.DissolvedOn
}

// Successors are the units that take over the unit's items when it ends: its merger's
// successor, or a split's successors in the order the split names them (the rest's last),
// each once; none for a unit that lives or was dissolved without successor.
func (s State) Successors() []string {
	if s.MergedInto != "" {
		return []string{s.MergedInto}
	}
	if s.Split == nil {
		return nil
	}
	var out []string
	add := func(c string) {
		for _, o := range out {
			if o == c {
				return
			}
		}
		out = append(out, c)
	}
	for _, p := range s.Split.Parts {
		add(p.IntoCode)
	}
	add(s.Split.RestIntoCode)
	return out
}

// ActiveOn reports whether the unit existed at the end of day d: registered on or before d,
// and neither merged nor dissolved on or before d.
func (s State) ActiveOn(d civil.Date) bool {
	return s.Code != "" && !d.Before(s.Registered) &&
		(s.MergedOn.IsZero() || d.Before(s.MergedOn)) &&
		(s.DissolvedOn.IsZero() || d.Before(s.DissolvedOn))
}

// Evolve applies one stored event to s. It never fails: an event is a fact.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Registered:
		s.Code, s.Name, s.Kind, s.ParentCode, s.Registered = e.Code, e.Name, e.Kind, e.ParentCode, e.On
	case Renamed:
		s.Name = e.Name
	case Merged:
		s.MergedInto, s.MergedOn = e.IntoCode, e.EffectiveDate
	case Dissolved:
		s.DissolvedOn = e.EffectiveDate
	case Split:
		s.DissolvedOn, s.Split = e.EffectiveDate, &e
	}
	s.Version++
	return s
}

// checkCode refuses a code that is not 1..32 characters of A-Z, 0-9 and '-' starting with a
// letter.
func checkCode(field, code string) error {
	ok := len(code) >= 1 && len(code) <= 32 && code[0] >= 'A' && code[0] <= 'Z'
	for i := 0; ok && i < len(code); i++ {
		c := code[i]
		ok = c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
	}
	if !ok {
		return &FieldError{Field: field, Code: "unit.code", Reason: fmt.Sprintf("code %q: want 1 to 32 characters A-Z, 0-9 or '-', starting with a letter", code)}
	}
	return nil
}
