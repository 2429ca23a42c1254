package unit

import (
	"fmt"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/fault"
)

// Sentinel errors, for errors.Is. Each typed error below matches exactly one of them.
// Each has a kind (fault.KindOf) and a message code, which the typed errors take from the
// sentinel they unwrap to.
var (
	ErrInvalid            = fault.New(fault.Invalid, "unit.invalid", "invalid unit command")
	ErrAlreadyRegistered  = fault.New(fault.Conflict, "unit.already_registered", "unit already registered")
	ErrNotRegistered      = fault.New(fault.NotFound, "unit.not_registered", "unit not registered")
	ErrInvalidParent      = fault.New(fault.Refused, "unit.invalid_parent", "parent unit not allowed")
	ErrAlreadyMerged      = fault.New(fault.Refused, "unit.already_merged", "unit already merged")
	ErrDissolved          = fault.New(fault.Refused, "unit.dissolved", "unit dissolved")
	ErrBeforeRegistration = fault.New(fault.Refused, "unit.before_registration", "date before the unit's registration")
	ErrCycle              = fault.New(fault.Refused, "unit.cycle", "merge would make a cycle")
)

// FieldError is a command field that is missing or malformed. Field is the API's name for it;
// Code names the rule it breaks, for a translation, and Args are the values Reason shows.
type FieldError struct {
	Field  string
	Reason string
	Code   string
	Args   []any
}

// Error describes the refusal.
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Is matches ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Kind is fault.Invalid.
func (e *FieldError) Kind() fault.Kind { return fault.Invalid }

// Fields returns the field.
func (e *FieldError) Fields() []fault.Field {
	return []fault.Field{{Name: e.Field, Code: e.Code, Message: e.Reason, Args: e.Args}}
}

// AlreadyRegisteredError refuses a second registration of Code, first registered On.
type AlreadyRegisteredError struct {
	Code string
	On   civil.Date
}

// Error describes the refusal.
func (e *AlreadyRegisteredError) Error() string {
	return fmt.Sprintf("unit %s was already registered on %s", e.Code, e.On)
}

// Unwrap returns ErrAlreadyRegistered: errors.Is matches it, and the error has its kind and code.
func (e *AlreadyRegisteredError) Unwrap() error { return ErrAlreadyRegistered }

// Args are the values the message shows.
func (e *AlreadyRegisteredError) Args() []any { return []any{e.Code, e.On} }

// NotRegisteredError: no unit has Code.
type NotRegisteredError struct {
	Code string
}

// Error describes the refusal.
func (e *NotRegisteredError) Error() string { return fmt.Sprintf("unit %s is not registered", e.Code) }

// Unwrap returns ErrNotRegistered: errors.Is matches it, and the error has its kind and code.
func (e *NotRegisteredError) Unwrap() error { return ErrNotRegistered }

// Args are the values the message shows.
func (e *NotRegisteredError) Args() []any { return []any{e.Code} }

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

// Unwrap returns ErrInvalidParent: errors.Is matches it, and the error has its kind and code.
func (e *ParentError) Unwrap() error { return ErrInvalidParent }

// Args are the values the message shows.
func (e *ParentError) Args() []any { return []any{e.Code} }

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

// Unwrap returns ErrAlreadyMerged: errors.Is matches it, and the error has its kind and code.
func (e *AlreadyMergedError) Unwrap() error { return ErrAlreadyMerged }

// Args are the values the message shows.
func (e *AlreadyMergedError) Args() []any { return []any{e.Code, e.Into, e.On} }

// DissolvedError: Code was dissolved from On.
type DissolvedError struct {
	Code string
	On   civil.Date
}

// Error describes the refusal.
func (e *DissolvedError) Error() string {
	return fmt.Sprintf("unit %s was dissolved on %s", e.Code, e.On)
}

// Unwrap returns ErrDissolved: errors.Is matches it, and the error has its kind and code.
func (e *DissolvedError) Unwrap() error { return ErrDissolved }

// Args are the values the message shows.
func (e *DissolvedError) Args() []any { return []any{e.Code, e.On} }

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

// Unwrap returns ErrBeforeRegistration: errors.Is matches it, and the error has its kind and code.
func (e *BeforeRegistrationError) Unwrap() error { return ErrBeforeRegistration }

// Args are the values the message shows.
func (e *BeforeRegistrationError) Args() []any { return []any{e.Code, e.Registered} }

// CycleError: the merge would make a unit its own successor. Chain is the succession the
// merge would close, from the merged unit back to itself.
type CycleError struct {
	Chain []string
}

// Error describes the refusal.
func (e *CycleError) Error() string {
	return "merge would make a cycle: " + strings.Join(e.Chain, " → ")
}

// Unwrap returns ErrCycle: errors.Is matches it, and the error has its kind and code.
func (e *CycleError) Unwrap() error { return ErrCycle }

// Args are the values the message shows.
func (e *CycleError) Args() []any { return []any{strings.Join(e.Chain, " → ")} }
