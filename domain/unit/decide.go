package unit

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dxledger/dxledger/domain/civil"
)

// Command asks for a change to one unit. The handler fills in every date.
type Command interface {
	// UnitCode is the code of the unit whose stream the command changes.
	UnitCode() string
	command()
}

// Register brings a unit into being on On. ParentKind is the kind of the unit ParentCode
// names, looked up by the caller: Decide sees one stream only.
type Register struct {
	Code       string
	Name       string
	Kind       Kind
	ParentCode string
	ParentKind Kind
	On         civil.Date
}

// Rename gives a unit a new name from On.
type Rename struct {
	Code    string
	NewName string
	On      civil.Date
}

// Merge makes IntoCode the successor of Code from EffectiveDate. Whether IntoCode may take
// it in spans streams: check it first with Directory.CheckMerge.
type Merge struct {
	Code          string
	IntoCode      string
	EffectiveDate civil.Date
}

// Dissolve ends a unit from EffectiveDate, with no successor.
type Dissolve struct {
	Code          string
	EffectiveDate civil.Date
}

// SplitUnit dissolves Code from EffectiveDate and hands its items to successors: each item named
// in a part to that part's IntoCode, the others to RestIntoCode. Whether the successors may
// take them in spans streams: check it first with Directory.CheckSplit.
type SplitUnit struct {
	Code          string
	EffectiveDate civil.Date
	Parts         []SplitPart
	RestIntoCode  string
}

// UnitCode is the code of the unit to split.
func (c SplitUnit) UnitCode() string { return c.Code }

// UnitCode is the code of the unit to register.
func (c Register) UnitCode() string { return c.Code }

// UnitCode is the code of the unit to rename.
func (c Rename) UnitCode() string { return c.Code }

// UnitCode is the code of the unit to merge (not its successor's).
func (c Merge) UnitCode() string { return c.Code }

// UnitCode is the code of the unit to dissolve.
func (c Dissolve) UnitCode() string { return c.Code }

func (Register) command()  {}
func (Rename) command()    {}
func (Merge) command()     {}
func (Dissolve) command()  {}
func (SplitUnit) command() {}

// MaxNameLen is the longest name a unit may have, in characters.
const MaxNameLen = 300

// Decide returns the events that carry out c on the unit s, or refuses with one of the
// package's typed errors (a missing or malformed field: one *FieldError per field, joined).
func Decide(s State, c Command) ([]Event, error) {
	switch c := c.(type) {
	case Register:
		return register(s, c)
	case Rename:
		return rename(s, c)
	case Merge:
		return merge(s, c)
	case Dissolve:
		return dissolve(s, c)
	case SplitUnit:
		return split(s, c)
	}
	return nil, fmt.Errorf("command %T: %w", c, ErrInvalid)
}

func register(s State, c Register) ([]Event, error) {
	if s.Code != "" {
		return nil, &AlreadyRegisteredError{Code: s.Code, On: s.Registered}
	}
	name, nameErr := checkName(c.Name)
	var kindErr, parentErr error
	if !c.Kind.valid() {
		kindErr = &FieldError{Field: "kind", Code: "unit.kind", Reason: fmt.Sprintf("kind %q: want province, department, district or commune", c.Kind)}
	}
	if c.ParentCode != "" {
		parentErr = checkCode("parent_code", c.ParentCode)
	}
	if err := errors.Join(checkCode("code", c.Code), nameErr, kindErr, parentErr, checkDate(c.On)); err != nil {
		return nil, err
	}
	if life := KindLife(c.Kind); !life.On(c.On) {
		return nil, &FieldError{Field: "kind", Code: "unit.kind_ended", Args: []any{string(c.Kind), life.Until},
			Reason: fmt.Sprintf("no unit of kind %s is registered from %s on: that level no longer exists", c.Kind, life.Until)}
	}
	if !parentFits(c) {
		return nil, &ParentError{Code: c.Code, Kind: c.Kind, ParentCode: c.ParentCode, ParentKind: c.ParentKind}
	}
	return []Event{Registered{Code: c.Code, Name: name, Kind: c.Kind, ParentCode: c.ParentCode, On: c.On}}, nil
}

func parentFits(c Register) bool {
	switch {
	case c.ParentCode == c.Code:
		return false
	case c.Kind == Province:
		return c.ParentCode == ""
	case c.Kind == Commune:
		return c.ParentCode != "" && (c.ParentKind == District || c.ParentKind == Province)
	}
	return c.ParentCode != "" && c.ParentKind == Province
}

func rename(s State, c Rename) ([]Event, error) {
	name, nameErr := checkName(c.NewName)
	if err := errors.Join(nameErr, checkDate(c.On)); err != nil {
		return nil, err
	}
	if err := changeable(s, c.Code, c.On); err != nil {
		return nil, err
	}
	if name == s.Name {
		return nil, nil // nothing changes
	}
	return []Event{Renamed{Code: c.Code, Name: name, On: c.On}}, nil
}

func merge(s State, c Merge) ([]Event, error) {
	if err := errors.Join(checkCode("into_code", c.IntoCode), checkDate(c.EffectiveDate)); err != nil {
		return nil, err
	}
	if err := changeable(s, c.Code, c.EffectiveDate); err != nil {
		return nil, err
	}
	if c.IntoCode == c.Code {
		return nil, &CycleError{Chain: []string{c.Code, c.Code}}
	}
	return []Event{Merged{Code: c.Code, IntoCode: c.IntoCode, EffectiveDate: c.EffectiveDate}}, nil
}

func dissolve(s State, c Dissolve) ([]Event, error) {
	if err := checkDate(c.EffectiveDate); err != nil {
		return nil, err
	}
	if err := changeable(s, c.Code, c.EffectiveDate); err != nil {
		return nil, err
	}
	return []Event{Dissolved{Code: c.Code, EffectiveDate: c.EffectiveDate}}, nil
}

func split(s State, c SplitUnit) ([]Event, error) {
	errs := []error{checkDate(c.EffectiveDate)}
	if c.RestIntoCode == "" {
		errs = append(errs, &FieldError{Field: "rest_into_code", Code: "unit.required", Reason: "is required"})
	} else {
		errs = append(errs, checkCode("rest_into_code", c.RestIntoCode))
	}
	seen := map[string]string{}
	parts := make([]SplitPart, 0, len(c.Parts))
	for i, p := range c.Parts {
		field := fmt.Sprintf("parts[%d]", i)
		errs = append(errs, checkCode(field+".into_code", p.IntoCode))
		if len(p.ItemIDs) == 0 {
			errs = append(errs, &FieldError{Field: field + ".item_ids", Code: "unit.required", Reason: "name at least one item"})
		}
		ids := make([]string, 0, len(p.ItemIDs))
		for _, id := range p.ItemIDs {
			if prev, ok := seen[id]; ok {
				errs = append(errs, &FieldError{Field: field + ".item_ids", Code: "unit.item_twice", Args: []any{id},
					Reason: fmt.Sprintf("item %s is named twice (also in %s)", id, prev)})
				continue
			}
			seen[id] = field
			ids = append(ids, id)
		}
		parts = append(parts, SplitPart{IntoCode: p.IntoCode, ItemIDs: ids})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := changeable(s, c.Code, c.EffectiveDate); err != nil {
		return nil, err
	}
	for _, p := range parts {
		if p.IntoCode == c.Code {
			return nil, &CycleError{Chain: []string{c.Code, c.Code}}
		}
	}
	if c.RestIntoCode == c.Code {
		return nil, &CycleError{Chain: []string{c.Code, c.Code}}
	}
	return []Event{Split{Code: c.Code, EffectiveDate: c.EffectiveDate, Parts: parts, RestIntoCode: c.RestIntoCode}}, nil
}

// changeable refuses a change dated on to the unit code, whose state is s: the unit must be
// registered by then and neither merged nor dissolved.
func changeable(s State, code string, on civil.Date) error {
	switch {
	case s.Code == "" || s.Code != code:
		return &NotRegisteredError{Code: code}
	case s.MergedInto != "":
		return &AlreadyMergedError{Code: s.Code, Into: s.MergedInto, On: s.MergedOn}
	case !s.DissolvedOn.IsZero():
		return &DissolvedError{Code: s.Code, On: s.DissolvedOn}
	case on.Before(s.Registered):
		return &BeforeRegistrationError{Code: s.Code, Registered: s.Registered, On: on}
	}
	return nil
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxNameLen || !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }) {
		return "", &FieldError{Field: "name", Code: "unit.name", Args: []any{MaxNameLen},
			Reason: fmt.Sprintf("want 1 to %d characters of valid UTF-8 text on one line, without control characters, got %d", MaxNameLen, n)}
	}
	return name, nil
}

// checkDate refuses a missing date, an impossible one and one outside civil's range, so
// that every stored date decodes again.
func checkDate(d civil.Date) error {
	if _, err := civil.Parse(d.String()); err != nil {
		return &FieldError{Field: "effective_date", Code: "unit.date", Args: []any{civil.Earliest, civil.Latest},
			Reason: fmt.Sprintf("want a real day between %s and %s, got %q", civil.Earliest, civil.Latest, d.String())}
	}
	return nil
}
