package item

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/domain/money"
)

// Kind says whether an item is a transformation model or a project.
type Kind string

// The kinds of item; each is also the prefix of its stream ids and event type names.
const (
	Model   Kind = "model"
	Project Kind = "project"
)

// Pillar is one of the three pillars of the programme.
type Pillar string

// The pillars: chính quyền số, kinh tế số, xã hội số.
const (
	Government Pillar = "government"
	Economy    Pillar = "economy"
	Society    Pillar = "society"
)

// Source is where funding comes from.
type Source string

// Sources is every funding source of API.md.
var Sources = []Source{"central_budget", "provincial_budget", "district_budget", "commune_budget", "enterprise", "oda", "other"}

// Means is how an item that needs no separate state funding is paid for.
type Means string

// The means of an item carried out without separate state funding.
const (
	MeansRegularBudget Means = "regular_budget" // kinh phí thường xuyên of the unit
	MeansEnterprise    Means = "enterprise"     // an enterprise partner, at no cost to the state
	MeansReuse         Means = "reuse"          // re-use of a system that already exists
)

// AllMeans is every Means, in the order forms show them.
var AllMeans = []Means{MeansRegularBudget, MeansEnterprise, MeansReuse}

// ValidMeans reports whether m is one of AllMeans.
func ValidMeans(m Means) bool { return slices.Contains(AllMeans, m) }

// Rating is the steering committee's verdict on an implemented item.
type Rating string

// Ratings is every rating of API.md.
var Ratings = []Rating{"effective", "partly_effective", "not_effective"}

// DefaultSectors is the sector list an administrator starts with and can extend.
var DefaultSectors = []string{"agriculture", "education", "health", "finance", "commerce", "tourism", "transport",
	"natural_resources", "infrastructure", "industry", "culture", "labour", "justice", "public_security", "general"}

// Stage is where an item is in its lifecycle. The names come from the workflow definition;
// these are the default's.
type Stage string

// The default definition's stages.
const (
	StageProposed    Stage = "proposed"
	StageFunded      Stage = "funded"
	StageImplemented Stage = "implemented"
	StageEvaluated   Stage = "evaluated"
	StageSuspended   Stage = "suspended"
	StageCancelled   Stage = "cancelled"
)

// Stages is every stage of the default definition.
var Stages = []Stage{StageProposed, StageFunded, StageImplemented, StageEvaluated, StageSuspended, StageCancelled}

// Limits on free text, so a runaway client cannot store a novel in a title.
const (
	MaxTitle = 500
	MaxNote  = 4000
)

// FieldError says what is wrong with one field of a command; the API reports them by name.
// Code names the rule it breaks, for a translation; Args are the values Message shows.
type FieldError struct {
	Field   string
	Code    string
	Message string
	Args    []any
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Kind is fault.Invalid.
func (e *FieldError) Kind() fault.Kind { return fault.Invalid }

// Fields returns the field.
func (e *FieldError) Fields() []fault.Field {
	return []fault.Field{{Name: e.Field, Code: e.Code, Message: e.Message, Args: e.Args}}
}

// Invalid collects every FieldError of a command.
type Invalid []*FieldError

func (v Invalid) Error() string {
	msgs := make([]string, len(v))
	for i, e := range v {
		msgs[i] = e.Error()
	}
	return "invalid command: " + strings.Join(msgs, "; ")
}

// Kind is fault.Invalid.
func (v Invalid) Kind() fault.Kind { return fault.Invalid }

// Fields returns every refused field, in order.
func (v Invalid) Fields() []fault.Field {
	out := make([]fault.Field, 0, len(v))
	for _, e := range v {
		out = append(out, e.Fields()...)
	}
	return out
}

// add refuses field by the rule code; format and args make the English message.
func (v *Invalid) add(field, code, format string, args ...any) {
	*v = append(*v, &FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...), Args: args})
}

// amount refuses field for money's reason err.
func (v *Invalid) amount(field string, err error) {
	if errors.Is(err, money.ErrTooLarge) {
		v.add(field, "item.amount_too_large", "amount must be at most %d đồng", money.Ceiling)
		return
	}
	v.add(field, "item.amount_not_positive", "%v", err)
}

func (v Invalid) err() error {
	if len(v) == 0 {
		return nil
	}
	return v
}

func validPillar(p Pillar) bool { return p == Government || p == Economy || p == Society }

// ValidSource reports whether s is a funding source of API.md.
func ValidSource(s Source) bool { return slices.Contains(Sources, s) }

// ValidRating reports whether r is a rating of API.md.
func ValidRating(r Rating) bool { return slices.Contains(Ratings, r) }

// text trims s and checks its length; it reports whether s is usable.
func text(v *Invalid, field, s string, required bool, max int) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		v.add(field, "item.required", "must not be empty")
	case len([]rune(s)) > max:
		v.add(field, "item.too_long", "must be at most %d characters", max)
	case !utf8.ValidString(s):
		v.add(field, "item.not_utf8", "must be valid UTF-8 text")
	case strings.ContainsFunc(s, forbidden(field)):
		v.add(field, "item.control_char", "must not hold control characters (tab and line breaks only in notes, reasons and scopes)")
	}
	return s
}

// forbidden tells the control characters a text field may not hold: none at all in a
// one-line field (a title, a name), all but tab, CR and LF in a note, a reason or a scope. The
// adapters refuse them at the door already; this keeps them out of the store whatever the
// door.
func forbidden(field string) func(rune) bool {
	lines := field == "note" || field == "reason" || field == "scope"
	return func(r rune) bool {
		if lines && (r == '\t' || r == '\n' || r == '\r') {
			return false
		}
		return r < 0x20 || (r >= 0x7f && r <= 0x9f)
	}
}

// Ref names an item: its kind and id.
type Ref struct {
	Kind Kind
	ID   string
}
