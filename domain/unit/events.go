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
