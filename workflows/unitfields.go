package workflows

import (
	"errors"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/domain/unit"
)

// FieldRefusal names the body field a unit command's refusal is about — a merge's into_code, a
// split's rest_into_code or parts[i].into_code, the effective_date of a merge or split dated
// before the unit's own registration — so that the problem's errors name it (API.md,
// "Conventions": bad fields are named), as parent_code is named. A successor that is not
// registered is 422 naming the field, as an unknown parent_code is, not 404: the unit of the
// path exists. errors.Is and errors.As still find the domain's error, and its code.
type FieldRefusal struct {
	Field string // into_code, rest_into_code, parts[i].into_code, effective_date
	Err   error  // the domain's refusal (unit.Directory.CheckMerge)
}

func (e *FieldRefusal) Error() string { return e.Err.Error() }
func (e *FieldRefusal) Unwrap() error { return e.Err }

// Kind is the domain error's, except that an unknown successor is a refused field.
func (e *FieldRefusal) Kind() fault.Kind {
	if k := fault.KindOf(e.Err); k != fault.NotFound {
		return k
	}
	return fault.Refused
}

// Fields names the field, with the domain error's code, message and values.
func (e *FieldRefusal) Fields() []fault.Field {
	return []fault.Field{{Name: e.Field, Code: fault.CodeOf(e.Err), Message: e.Err.Error(), Args: fault.ArgsOf(e.Err)}}
}

// checkSuccessor is Directory.CheckMerge, its refusal naming field.
func checkSuccessor(d *unit.Directory, field, code, into string, on civil.Date) error {
	if err := d.CheckMerge(code, into, on); err != nil {
		return &FieldRefusal{Field: field, Err: err}
	}
	return nil
}

// onDecideField names the field of a merge's or split's refusal by unit.Decide: effective_date
// for a date before the unit's own registration, into_code for a merge into the unit itself;
// any other error passes as it is.
func onDecideField(err error, c unit.Command) error {
	var (
		before *unit.BeforeRegistrationError
		cycle  *unit.CycleError
	)
	switch c.(type) {
	case unit.Merge, *unit.Merge, unit.SplitUnit, *unit.SplitUnit:
		if errors.As(err, &before) && before.Code == c.UnitCode() {
			return &FieldRefusal{Field: "effective_date", Err: err}
		}
	}
	switch c.(type) {
	case unit.Merge, *unit.Merge:
		if errors.As(err, &cycle) {
			return &FieldRefusal{Field: "into_code", Err: err}
		}
	}
	return err
}
