// Package definition is the workflow definition as data: the stages of a transformation model
// or project, the actions that move it between them, the roles allowed to take each action,
// the guards on approving money and the deadlines after which an item is flagged.
//
// A definition is YAML. The default (default.yaml) is embedded in the binary; configuration
// may name another file (Load). Parse refuses a definition that names an unknown stage, role,
// guard or action, reporting every problem at once with the file, line and path of each.
// Definitions carry a version; a Registry keeps several so that a stream keeps the rules of the
// version it started under.
//
// A Definition is read-only once parsed: callers must not modify its fields.
package definition

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
)

// The actions the engine understands. A definition may name no others.
const (
	Propose         = "propose"
	RequestFunding  = "request_funding"
	EndorseFunding  = "endorse_funding"
	ApproveFunding  = "approve_funding"
	RejectFunding   = "reject_funding"
	Disburse        = "disburse"
	ReportProgress  = "report_progress"
	MarkImplemented = "mark_implemented"
	Evaluate        = "evaluate"
	Suspend         = "suspend"
	Resume          = "resume"
	Cancel          = "cancel"
	MarkSameAs      = "mark_same_as"
	// ArrangeOwnFunding: the item needs no separate state funding (regular budget, an
	// enterprise partner, re-use of an existing system).
	ArrangeOwnFunding = "arrange_own_funding"
	// AdoptVersion moves an item in flight to this version, when this version mends the
	// item's own (Definition.Mends).
	AdoptVersion = "adopt_version"
)

// KnownActions lists every action the engine understands, in lifecycle order.
var KnownActions = []string{
	Propose, RequestFunding, EndorseFunding, ApproveFunding, RejectFunding, Disburse,
	ReportProgress, MarkImplemented, Evaluate, Suspend, Resume, Cancel, MarkSameAs,
	ArrangeOwnFunding, AdoptVersion,
}

// The stages of API.md. A definition may name no others.
const (
	Proposed    = "proposed"
	Funded      = "funded"
	Implemented = "implemented"
	Evaluated   = "evaluated"
	Suspended   = "suspended"
	Cancelled   = "cancelled"
)

// KnownStages lists every stage the engine and its reports understand.
var KnownStages = []string{Proposed, Funded, Implemented, Evaluated, Suspended, Cancelled}

// Previous is the To of an action that returns an item to the stage it was in before it
// entered its current one (resume: back to the stage it was suspended from). The caller
// resolves it from the stream's history.
const Previous = "previous"

// The guards the engine understands.
const (
	// GuardEndorsementRequired: a funding request above the threshold needs a
	// steering-committee endorsement before a finance officer may approve it.
	GuardEndorsementRequired = "endorsement_required"
	// GuardTwoOfficers: an approval above the threshold needs two different finance officers,
	// and no officer approves the same request twice.
	GuardTwoOfficers = "two_officers"
)

// KnownGuards lists every guard the engine understands.
var KnownGuards = []string{GuardEndorsementRequired, GuardTwoOfficers}

// guardActions says which actions each guard may be attached to: the engine checks a guard
// only where it has a meaning.
var guardActions = map[string][]string{
	GuardEndorsementRequired: {ApproveFunding},
	GuardTwoOfficers:         {ApproveFunding},
}

// The deadlines the engine understands.
const (
	// DeadlineNoProgress flags an item that has had no progress report for AfterDays days.
	DeadlineNoProgress = "no_progress"
	// DeadlineOverdue flags an item past the date named by Past.
	DeadlineOverdue = "overdue"
)

// KnownDeadlines lists every deadline the engine understands.
var KnownDeadlines = []string{DeadlineNoProgress, DeadlineOverdue}

// PastEndDate is the only date a deadline's Past may name: the item's planned end date.
const PastEndDate = "end_date"

// MaxSize is the largest definition Parse and Load accept, in bytes.
const MaxSize = 1 << 20

// Definition is one version of the workflow.
type Definition struct {
	Name    string // stable identifier, e.g. cds_lifecycle
	Title   string // for people, in Vietnamese
	Version int    // 1 or more; a stream records the version it started under
	Initial string // the stage a new item starts in
	Stages  []Stage
	// Actions in the order the definition lists them; look one up with Action.
	Actions   []Action
	Guards    Guards
	Deadlines []Deadline
	// Mends lists the earlier versions whose rules this one mends (a rule that was wrong, not
	// a change of policy): an item living under one of them may be moved to this version by
	// the action adopt_version, recorded as an event on the item. Items of versions not
	// listed keep their rules to the end.
	Mends []int
	// Origin is where the definition was read from (a file name, or default.yaml for the
	// embedded one). It is not part of the rules: two definitions that differ only in Origin
	// are the same.
	Origin string
}

// Stage is one stage of the lifecycle.
type Stage struct {
	Name     string
	Title    string
	Terminal bool // no action moves an item out of it
}

// Action is something a user can do to an item.
type Action struct {
	Name  string
	Title string
	// Creates says the action registers a new item, which starts in the definition's
	// Initial stage. Such an action has no From.
	Creates bool
	// From lists the stages the action may be taken from.
	From []string
	// To is the stage the item is in afterwards: "" when it stays where it is, Previous when
	// it returns to the stage it was in before.
	To     string
	Roles  []role.Role
	Guards []string // names from KnownGuards
}

// Guards holds the parameters of the guards; a nil field means the guard is not configured
// and never applies.
type Guards struct {
	EndorsementRequired *Threshold
	TwoOfficers         *Threshold
}

// Threshold is an amount above which a guard applies. An amount equal to AboveVND is not
// above it.
type Threshold struct {
	AboveVND money.VND
}

// Deadline flags an item that stays too long in one of the stages In.
type Deadline struct {
	Name  string // from KnownDeadlines
	Title string
	In    []string
	// AfterDays is the number of days without a progress report before no_progress flags an
	// item, counted from its last report or, without one, from its first approval.
	AfterDays int
	// Past names the date after which overdue flags an item: PastEndDate.
	Past string
	// Flag is the name of the flag the engine records.
	Flag string
}

//go:embed default.yaml
var defaultYAML []byte

// version2YAML is version 2 of the lifecycle: it mends version 1, under which an item that
// needs no separate state funding could never get past proposed.
//
//go:embed version2.yaml
var version2YAML []byte

var parsedVersion2 = sync.OnceValue(func() *Definition {
	d, err := Parse(version2YAML, "version2.yaml")
	if err != nil {
		panic("workflows/definition: the embedded version2.yaml is broken:\n" + err.Error())
	}
	return d
})

// Builtin returns every version embedded in the binary, oldest first: the default (version 1)
// and version 2, which mends it. A server loads them all, so that items keep the version they
// started under and new items start under the newest.
func Builtin() []*Definition { return []*Definition{Default(), parsedVersion2().clone()} }

// defaultOrigin is the Origin of the embedded definition.
const defaultOrigin = "default.yaml"

var parsedDefault = sync.OnceValue(func() *Definition {
	d, err := Parse(defaultYAML, defaultOrigin)
	if err != nil {
		panic("workflows/definition: the embedded default.yaml is broken:\n" + err.Error())
	}
	return d
})

// Default returns the definition embedded in the binary. Each call returns a fresh copy.
func Default() *Definition { return parsedDefault().clone() }

// DefaultYAML returns the text of the embedded definition, a starting point for an
// administrator writing another.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Load reads and parses the definition in the file at path; an empty path means Default.
func Load(path string) (*Definition, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load workflow definition: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load workflow definition: %w", err)
	}
	return Parse(src, path)
}

// Action returns the action called name.
func (d *Definition) Action(name string) (Action, bool) {
	for _, a := range d.Actions {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

// Stage returns the stage called name.
func (d *Definition) Stage(name string) (Stage, bool) {
	for _, s := range d.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}

// Allowed says whether r may take action on an item in stage from, and which stage the item
// is in afterwards: from itself when the action keeps the stage, Previous when the item
// returns to the stage it was in before (the caller resolves it). For an action that creates
// an item, from must be "" and to is the Initial stage.
//
// It refuses with *UnknownActionError, *RoleError (checked before the stage, so that who may
// act is answered first) or *TransitionError. Guards and the rule that a focal point acts only
// on its own unit's items are the caller's to check.
func (d *Definition) Allowed(action string, from string, r role.Role) (to string, err error) {
	a, ok := d.Action(action)
	if !ok {
		return "", &UnknownActionError{Action: action}
	}
	if !slices.Contains(a.Roles, r) {
		return "", &RoleError{Action: action, Role: r, Allowed: slices.Clone(a.Roles)}
	}
	if a.Creates {
		if from != "" {
			return "", &TransitionError{Action: action, From: from}
		}
		return d.Initial, nil
	}
	if from == "" || !slices.Contains(a.From, from) {
		return "", &TransitionError{Action: action, From: from, AllowedFrom: slices.Clone(a.From)}
	}
	if a.To == "" {
		return from, nil
	}
	return a.To, nil
}

// EndorsementRequired says whether a funding request of amount needs a steering-committee
// endorsement before a finance officer may approve it.
func (d *Definition) EndorsementRequired(amount money.VND) bool {
	t := d.Guards.EndorsementRequired
	return t != nil && amount > t.AboveVND
}

// NeedsTwoOfficers says whether approving amount needs two different finance officers.
func (d *Definition) NeedsTwoOfficers(amount money.VND) bool {
	t := d.Guards.TwoOfficers
	return t != nil && amount > t.AboveVND
}

// clone returns a deep copy of d.
func (d *Definition) clone() *Definition {
	c := *d
	c.Stages = slices.Clone(d.Stages)
	c.Mends = slices.Clone(d.Mends)
	c.Actions = make([]Action, len(d.Actions))
	for i, a := range d.Actions {
		a.From = slices.Clone(a.From)
		a.Roles = slices.Clone(a.Roles)
		a.Guards = slices.Clone(a.Guards)
		c.Actions[i] = a
	}
	c.Deadlines = make([]Deadline, len(d.Deadlines))
	for i, dl := range d.Deadlines {
		dl.In = slices.Clone(dl.In)
		c.Deadlines[i] = dl
	}
	c.Guards.EndorsementRequired = cloneThreshold(d.Guards.EndorsementRequired)
	c.Guards.TwoOfficers = cloneThreshold(d.Guards.TwoOfficers)
	return &c
}

func cloneThreshold(t *Threshold) *Threshold {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// sameRules says whether a and b hold the same rules: everything but Origin is equal (a nil
// list and an empty one are the same).
func sameRules(a, b *Definition) bool {
	if a.Name != b.Name || a.Title != b.Title || a.Version != b.Version || a.Initial != b.Initial ||
		!slices.Equal(a.Stages, b.Stages) ||
		!sameThreshold(a.Guards.EndorsementRequired, b.Guards.EndorsementRequired) ||
		!sameThreshold(a.Guards.TwoOfficers, b.Guards.TwoOfficers) ||
		len(a.Actions) != len(b.Actions) || len(a.Deadlines) != len(b.Deadlines) || !slices.Equal(a.Mends, b.Mends) {
		return false
	}
	for i, x := range a.Actions {
		y := b.Actions[i]
		if x.Name != y.Name || x.Title != y.Title || x.Creates != y.Creates || x.To != y.To ||
			!slices.Equal(x.From, y.From) || !slices.Equal(x.Roles, y.Roles) || !slices.Equal(x.Guards, y.Guards) {
			return false
		}
	}
	for i, x := range a.Deadlines {
		y := b.Deadlines[i]
		if x.Name != y.Name || x.Title != y.Title || x.AfterDays != y.AfterDays || x.Past != y.Past ||
			x.Flag != y.Flag || !slices.Equal(x.In, y.In) {
			return false
		}
	}
	return true
}

func sameThreshold(a, b *Threshold) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
