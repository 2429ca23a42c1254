package unit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
)

// Sentinel errors, for errors.Is. Each typed error below matches exactly one of them.
var (
	ErrInvalid            = errors.New("invalid unit command")
	ErrAlreadyRegistered  = errors.New("unit already registered")
	ErrNotRegistered      = errors.New("unit not registered")
	ErrInvalidParent      = errors.New("parent unit not allowed")
	ErrAlreadyMerged      = errors.New("unit already merged")
	ErrDissolved          = errors.New("unit dissolved")
	ErrBeforeRegistration = errors.New("date before the unit's registration")
	ErrCycle              = errors.New("merge would make a cycle")
)

// FieldError is a command field that is missing or malformed. Field is the API's name for it.
type FieldError struct {
	Field  string
	Reason string
}

// Error describes the refusal.
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Is matches ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// AlreadyRegisteredError refuses a second registration of Code, first registered On.
type AlreadyRegisteredError struct {
	Code string
	On   civil.Date
}

// Error describes the refusal.
func (e *AlreadyRegisteredError) Error() string {
	return fmt.Sprintf("unit %s was already registered on %s", e.Code, e.On)
}

// Is matches ErrAlreadyRegistered.
func (e *AlreadyRegisteredError) Is(target error) bool { return target == ErrAlreadyRegistered }

// NotRegisteredError: no unit has Code.
type NotRegisteredError struct {
	Code string
}

// Error describes the refusal.
func (e *NotRegisteredError) Error() string { return fmt.Sprintf("unit %s is not registered", e.Code) }

// Is matches ErrNotRegistered.
func (e *NotRegisteredError) Is(target error) bool { return target == ErrNotRegistered }

// ParentError refuses a parent unit that does not fit the unit's Kind: a province has none,
// a department or district has the province, a commune has a district or the province.
type ParentError struct {
	Code       string
	Kind       Kind
	ParentCode string
	ParentKind Kind
}

// Error describes the refusal.
func (e *ParentError) Error() string {
	got := "none"
	if e.ParentCode != "" {
		got = fmt.Sprintf("%s %s", e.ParentKind, e.ParentCode)
	}
	switch {
	case e.ParentCode == e.Code:
		return fmt.Sprintf("unit %s cannot be its own parent", e.Code)
	case e.Kind == Province:
		return fmt.Sprintf("province %s has no parent unit, got %s", e.Code, got)
	case e.Kind == Commune:
		return fmt.Sprintf("commune %s needs a district or the province as its parent, got %s", e.Code, got)
	}
	return fmt.Sprintf("%s %s needs the province as its parent, got %s", e.Kind, e.Code, got)
}

// Is matches ErrInvalidParent.
func (e *ParentError) Is(target error) bool { return target == ErrInvalidParent }

// AlreadyMergedError: Code was merged into Into from On, so it can no longer change or take
// in other units.
type AlreadyMergedError struct {
	Code string
	Into string
	On   civil.Date
}

// Error describes the refusal.
func (e *AlreadyMergedError) Error() string {
	return fmt.Sprintf("unit %s was merged into %s on %s", e.Code, e.Into, e.On)
}

// Is matches ErrAlreadyMerged.
func (e *AlreadyMergedError) Is(target error) bool { return target == ErrAlreadyMerged }

// DissolvedError: Code was dissolved from On.
type DissolvedError struct {
	Code string
	On   civil.Date
}

// Error describes the refusal.
func (e *DissolvedError) Error() string {
	return fmt.Sprintf("unit %s was dissolved on %s", e.Code, e.On)
}

// Is matches ErrDissolved.
func (e *DissolvedError) Is(target error) bool { return target == ErrDissolved }

// BeforeRegistrationError: a change to Code dated On, before the unit was Registered.
type BeforeRegistrationError struct {
	Code       string
	Registered civil.Date
	On         civil.Date
}

// Error describes the refusal.
func (e *BeforeRegistrationError) Error() string {
	return fmt.Sprintf("unit %s was registered on %s, after %s", e.Code, e.Registered, e.On)
}

// Is matches ErrBeforeRegistration.
func (e *BeforeRegistrationError) Is(target error) bool { return target == ErrBeforeRegistration }

// CycleError: the merge would make a unit its own successor. Chain is the succession the
// merge would close, from the merged unit back to itself.
type CycleError struct {
	Chain []string
}

// Error describes the refusal.
func (e *CycleError) Error() string {
	return "merge would make a cycle: " + strings.Join(e.Chain, " → ")
}

// Is matches ErrCycle.
func (e *CycleError) Is(target error) bool { return target == ErrCycle }
