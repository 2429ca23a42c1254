package definition

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/domain/role"
)

// UnknownActionError is Allowed's answer for an action the definition does not name.
type UnknownActionError struct {
	Action string
}

func (e *UnknownActionError) Error() string {
	return fmt.Sprintf("unknown action %q", e.Action)
}

// Kind is fault.Conflict: the item's workflow does not offer the action, in any stage.
func (e *UnknownActionError) Kind() fault.Kind { return fault.Conflict }

// Code names the message.
func (e *UnknownActionError) Code() string { return "definition.unknown_action" }

// RoleError is Allowed's answer when the role may not take the action.
type RoleError struct {
	Action  string
	Role    role.Role
	Allowed []role.Role // the roles that may
}

func (e *RoleError) Error() string {
	names := make([]string, len(e.Allowed))
	for i, r := range e.Allowed {
		names[i] = string(r)
	}
	return fmt.Sprintf("role %q may not %s (allowed: %s)", e.Role, e.Action, strings.Join(names, ", "))
}

// Kind is fault.Forbidden.
func (e *RoleError) Kind() fault.Kind { return fault.Forbidden }

// Code names the message.
func (e *RoleError) Code() string { return "definition.role" }

// TransitionError is Allowed's answer when the action may not be taken from the item's stage.
// From is "" for an item that does not exist yet; AllowedFrom is empty for an action that
// only creates an item.
type TransitionError struct {
	Action      string
	From        string
	AllowedFrom []string
}

func (e *TransitionError) Error() string {
	switch {
	case len(e.AllowedFrom) == 0:
		return fmt.Sprintf("%s creates a new item; it cannot be taken on an item in stage %q", e.Action, e.From)
	case e.From == "":
		return fmt.Sprintf("%s needs an existing item (in stage %s)", e.Action, strings.Join(e.AllowedFrom, ", "))
	}
	return fmt.Sprintf("%s is not allowed from stage %q (only from %s)", e.Action, e.From, strings.Join(e.AllowedFrom, ", "))
}

// Kind is fault.Conflict: the item's stage does not allow the action.
func (e *TransitionError) Kind() fault.Kind { return fault.Conflict }

// Code names the message.
func (e *TransitionError) Code() string { return "definition.transition" }

// Problem is one thing wrong with a definition, and where it is. Parse and Validate return
// every Problem they find, joined with errors.Join; Problems takes them apart again.
type Problem struct {
	Origin string // the file, or default.yaml for the embedded definition
	Line   int    // 1-based; 0 when unknown, e.g. for a definition built in Go
	Column int    // 1-based; 0 when unknown
	Path   string // e.g. actions.approve_funding.from[1]; "" for the document as a whole
	Msg    string
}

// Error reads "origin:line: path: message", leaving out what is unknown.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Origin)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems returns the Problems in err, in the order they were reported.
func Problems(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(err error) {
		if p, ok := err.(*Problem); ok {
			out = append(out, p)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// maxProblems is the most problems one error reports, the first by position; a last Problem
// says how many more there were.
const maxProblems = 100

// joinProblems sorts probs by position (those without one keep their order, after the
// others) and joins them; nil when there are none.
func joinProblems(probs []*Problem) error {
	if len(probs) == 0 {
		return nil
	}
	slices.SortStableFunc(probs, func(a, b *Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	if len(probs) > maxProblems {
		more := &Problem{Origin: probs[0].Origin, Msg: fmt.Sprintf("… and %d more problems", len(probs)-maxProblems)}
		probs = append(probs[:maxProblems:maxProblems], more)
	}
	errs := make([]error, len(probs))
	for i, p := range probs {
		errs[i] = p
	}
	return errors.Join(errs...)
}
