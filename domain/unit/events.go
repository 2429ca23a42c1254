package unit

import "github.com/dxledger/dxledger/domain/civil"

// Event is a fact about one unit. The stored type names are in codec.go.
type Event interface {
	// UnitCode is the code of the unit whose stream holds the event.
	UnitCode() string
	event()
}

// Registered: the unit came into being on On.
type Registered struct {
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	Kind       Kind       `json:"kind"`
	ParentCode string     `json:"parent_code"`
	On         civil.Date `json:"effective_date"`
}

// Renamed: the unit has been called Name since On.
type Renamed struct {
	Code string     `json:"code"`
	Name string     `json:"name"`
	On   civil.Date `json:"effective_date"`
}

// Merged: from EffectiveDate the unit is part of IntoCode, which succeeds it.
type Merged struct {
	Code          string     `json:"code"`
	IntoCode      string     `json:"into_code"`
	EffectiveDate civil.Date `json:"effective_date"`
}

// Dissolved: from EffectiveDate the unit no longer exists and has no successor.
type Dissolved struct {
	Code          string     `json:"code"`
	EffectiveDate civil.Date `json:"effective_date"`
}

// Split: from EffectiveDate the unit no longer exists; each item named in a part (and the
// rights over it) goes to that part's successor, every other item to RestIntoCode. Items are
// the unit's own and those of units merged into it before.
type Split struct {
	Code          string      `json:"code"`
	EffectiveDate civil.Date  `json:"effective_date"`
	Parts         []SplitPart `json:"parts"`
	RestIntoCode  string      `json:"rest_into_code"`
}

// SplitPart is one successor of a split and the items it takes.
type SplitPart struct {
	IntoCode string   `json:"into_code"`
	ItemIDs  []string `json:"item_ids"`
}

// IntoFor is the successor that takes the item with the given id.
func (e *Split) IntoFor(itemID string) string {
	for _, p := range e.Parts {
		for _, id := range p.ItemIDs {
			if id == itemID {
				return p.IntoCode
			}
		}
	}
	return e.RestIntoCode
}

// UnitCode is the split unit's code.
func (e Split) UnitCode() string { return e.Code }

// UnitCode is the registered unit's code.
func (e Registered) UnitCode() string { return e.Code }

// UnitCode is the renamed unit's code.
func (e Renamed) UnitCode() string { return e.Code }

// UnitCode is the merged unit's code (not its successor's).
func (e Merged) UnitCode() string { return e.Code }

// UnitCode is the dissolved unit's code.
func (e Dissolved) UnitCode() string { return e.Code }

func (Registered) event() {}
func (Renamed) event()    {}
func (Merged) event()     {}
func (Dissolved) event()  {}
func (Split) event()      {}
