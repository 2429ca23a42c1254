package definition

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
)

// version1Actions are the actions of version 1 (default.yaml): all but those version 2 added.
var version1Actions = KnownActions[:len(KnownActions)-2]

// Version 2 mends version 1: it has every action, among them arrange_own_funding (an item that
// needs no separate state funding becomes funded) and adopt_version; it differs from version
// 1 in nothing else; and both are built in.
func TestVersion2MendsVersion1(t *testing.T) {
	t.Parallel()
	b := Builtin()
	if len(b) != 2 || b[0].Version != 1 || b[1].Version != 2 {
		t.Fatalf("Builtin() = %d definitions, want versions 1 and 2", len(b))
	}
	v1, v2 := b[0], b[1]
	if !slices.Equal(v2.Mends, []int{1}) || len(v1.Mends) != 0 {
		t.Errorf("mends: v1 %v, v2 %v; want none and [1]", v1.Mends, v2.Mends)
	}
	if to, err := v2.Allowed(ArrangeOwnFunding, Proposed, role.FocalPoint); err != nil || to != Funded {
		t.Errorf("v2 Allowed(arrange_own_funding, proposed, focal_point) = %q, %v; want funded", to, err)
	}
	if _, err := v1.Allowed(ArrangeOwnFunding, Proposed, role.FocalPoint); err == nil {
		t.Error("v1 allows arrange_own_funding")
	}
	if _, err := v2.Allowed(AdoptVersion, Funded, role.FocalPoint); err == nil {
		t.Error("v2 lets a focal point move an item to it")
	}
	// Nothing else changed: v2 without the two actions and mends is v1.
	same := v2.clone()
	same.Version, same.Mends, same.Actions = 1, nil, nil
	for _, a := range v2.Actions {
		if a.Name != ArrangeOwnFunding && a.Name != AdoptVersion {
			same.Actions = append(same.Actions, a)
		}
	}
	same.Stages = v1.Stages // the funded stage's comment changed, not its title
	if !sameRules(same, v1) {
		t.Error("version 2 changes more than the two actions it adds")
	}
	if _, err := NewRegistry(b...); err != nil {
		t.Fatal(err)
	}
	bad, err := Parse(edit(t, string(version2YAML), "mends: [1]\n", "mends: [2]\n"), "bad.yaml")
	if err == nil || bad != nil || !strings.Contains(err.Error(), "mends only earlier versions") {
		t.Errorf("mends: [2] in version 2: err = %v", err)
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}
	if d.Version != 1 || d.Name != "cds_lifecycle" || d.Initial != Proposed || d.Origin != "default.yaml" {
		t.Errorf("Default() = version %d, name %q, initial %q, origin %q; want 1, cds_lifecycle, proposed, default.yaml",
			d.Version, d.Name, d.Initial, d.Origin)
	}
	var stages []string
	for _, s := range d.Stages {
		stages = append(stages, s.Name)
	}
	if !slices.Equal(stages, KnownStages) {
		t.Errorf("stages = %v, want %v", stages, KnownStages)
	}
	var actions []string
	for _, a := range d.Actions {
		actions = append(actions, a.Name)
	}
	if !slices.Equal(actions, version1Actions) {
		t.Errorf("actions = %v, want %v", actions, version1Actions)
	}
	for _, s := range d.Stages {
		if want := s.Name == Evaluated || s.Name == Cancelled; s.Terminal != want {
			t.Errorf("stage %s terminal = %v, want %v", s.Name, s.Terminal, want)
		}
	}
	if g := d.Guards.EndorsementRequired; g == nil || g.AboveVND != 15_000_000_000 {
		t.Errorf("endorsement_required = %+v, want above 15,000,000,000", g)
	}
	if g := d.Guards.TwoOfficers; g == nil || g.AboveVND != 30_000_000_000 {
		t.Errorf("two_officers = %+v, want above 30,000,000,000", g)
	}
	wantDeadlines := []Deadline{
		{Name: DeadlineNoProgress, Title: "Chậm báo cáo tiến độ", In: []string{Funded}, AfterDays: 90, Flag: "flagged_no_progress"},
		{Name: DeadlineOverdue, Title: "Quá hạn", In: []string{Proposed, Funded, Suspended}, Past: PastEndDate, Flag: "overdue"},
	}
	if len(d.Deadlines) != len(wantDeadlines) {
		t.Fatalf("deadlines = %+v, want %+v", d.Deadlines, wantDeadlines)
	}
	for i, got := range d.Deadlines {
		want := wantDeadlines[i]
		if got.Name != want.Name || got.Title != want.Title || !slices.Equal(got.In, want.In) ||
			got.AfterDays != want.AfterDays || got.Past != want.Past || got.Flag != want.Flag {
			t.Errorf("deadline %d = %+v, want %+v", i, got, want)
		}
	}
}

// TestDefaultActions writes the default's actions out by hand, as the brief states them.
func TestDefaultActions(t *testing.T) {
	t.Parallel()
	const (
		fp = role.FocalPoint
		fo = role.FinanceOfficer
		sc = role.SteeringCommittee
		ad = role.Admin
	)
	tests := []struct {
		action  string
		creates bool
		from    []string
		to      string
		roles   []role.Role
		guards  []string
	}{
		{Propose, true, nil, "", []role.Role{fp, ad}, nil},
		{RequestFunding, false, []string{Proposed, Funded}, "", []role.Role{fp}, nil},
		{EndorseFunding, false, []string{Proposed, Funded}, "", []role.Role{sc}, nil},
		{ApproveFunding, false, []string{Proposed, Funded}, Funded, []role.Role{fo}, []string{GuardEndorsementRequired, GuardTwoOfficers}},
		{RejectFunding, false, []string{Proposed, Funded}, "", []role.Role{fo}, nil},
		{Disburse, false, []string{Funded, Implemented}, "", []role.Role{fp, fo}, nil},
		{ReportProgress, false, []string{Funded}, "", []role.Role{fp}, nil},
		{MarkImplemented, false, []string{Funded}, Implemented, []role.Role{fp}, nil},
		{Evaluate, false, []string{Implemented}, Evaluated, []role.Role{sc}, nil},
		{Suspend, false, []string{Proposed, Funded}, Suspended, []role.Role{fp, sc}, nil},
		{Resume, false, []string{Suspended}, Previous, []role.Role{fp, sc}, nil},
		{Cancel, false, []string{Proposed, Funded, Suspended}, Cancelled, []role.Role{fp, sc}, nil},
		{MarkSameAs, false, []string{Proposed, Funded, Implemented, Evaluated, Suspended}, "", []role.Role{sc, ad}, nil},
	}
	d := Default()
	if len(tests) != len(d.Actions) {
		t.Errorf("the default has %d actions, this table %d", len(d.Actions), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			t.Parallel()
			a, ok := d.Action(tt.action)
			if !ok {
				t.Fatalf("Action(%q) not found", tt.action)
			}
			if a.Creates != tt.creates || !slices.Equal(a.From, tt.from) || a.To != tt.to ||
				!slices.Equal(a.Roles, tt.roles) || !slices.Equal(a.Guards, tt.guards) {
				t.Errorf("got creates %v from %v to %q roles %v guards %v; want creates %v from %v to %q roles %v guards %v",
					a.Creates, a.From, a.To, a.Roles, a.Guards, tt.creates, tt.from, tt.to, tt.roles, tt.guards)
			}
		})
	}
}

// TestAllowedAgreesWithYAML reads default.yaml with the YAML library alone and checks
// Allowed for every action × stage × role against what the file says.
func TestAllowedAgreesWithYAML(t *testing.T) {
	t.Parallel()
	var raw struct {
		Initial string `yaml:"initial"`
		Actions map[string]struct {
			Creates bool     `yaml:"creates"`
			From    []string `yaml:"from"`
			To      string   `yaml:"to"`
			Roles   []string `yaml:"roles"`
		} `yaml:"actions"`
	}
	if err := yaml.Unmarshal(version2YAML, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Actions) != len(KnownActions) {
		t.Errorf("version2.yaml has %d actions, want the %d KnownActions", len(raw.Actions), len(KnownActions))
	}
	d := parsedVersion2()
	actions := append(slices.Clone(KnownActions), "fly", "")
	stages := append(slices.Clone(KnownStages), "", "previous", "draft")
	roles := append(slices.Clone(role.All), role.System, "", "mayor")
	checked := 0
	for _, action := range actions {
		for _, from := range stages {
			for _, r := range roles {
				checked++
				to, err := d.Allowed(action, from, r)
				a, known := raw.Actions[action]
				switch {
				case !known:
					var e *UnknownActionError
					if !errors.As(err, &e) || e.Action != action {
						t.Errorf("Allowed(%q, %q, %q) = %q, %v; want *UnknownActionError", action, from, r, to, err)
					}
				case !slices.Contains(a.Roles, string(r)):
					var e *RoleError
					if !errors.As(err, &e) || e.Action != action || e.Role != r {
						t.Errorf("Allowed(%q, %q, %q) = %q, %v; want *RoleError", action, from, r, to, err)
					}
				case a.Creates && from != "", !a.Creates && !slices.Contains(a.From, from):
					var e *TransitionError
					if !errors.As(err, &e) || e.Action != action || e.From != from {
						t.Errorf("Allowed(%q, %q, %q) = %q, %v; want *TransitionError", action, from, r, to, err)
					}
				default:
					want := a.To
					switch {
					case a.Creates:
						want = raw.Initial
					case want == "":
						want = from
					}
					if err != nil || to != want {
						t.Errorf("Allowed(%q, %q, %q) = %q, %v; want %q, nil", action, from, r, to, err, want)
					}
				}
			}
		}
	}
	if want := len(actions) * len(stages) * len(roles); checked != want {
		t.Errorf("checked %d combinations, want %d", checked, want)
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		action  string
		from    string
		role    role.Role
		want    string
		wantErr any // nil, or a pointer to the error type expected
	}{
		{"finance cannot mark implemented", MarkImplemented, Funded, role.FinanceOfficer, "", new(*RoleError)},
		{"focal point cannot approve", ApproveFunding, Proposed, role.FocalPoint, "", new(*RoleError)},
		{"admin cannot approve", ApproveFunding, Proposed, role.Admin, "", new(*RoleError)},
		{"system takes no action", Cancel, Proposed, role.System, "", new(*RoleError)},
		{"role is checked before stage", ApproveFunding, Cancelled, role.FocalPoint, "", new(*RoleError)},
		{"finance approves a proposed item", ApproveFunding, Proposed, role.FinanceOfficer, Funded, nil},
		{"finance approves again", ApproveFunding, Funded, role.FinanceOfficer, Funded, nil},
		{"nothing approved once implemented", ApproveFunding, Implemented, role.FinanceOfficer, "", new(*TransitionError)},
		{"evaluate from implemented", Evaluate, Implemented, role.SteeringCommittee, Evaluated, nil},
		{"evaluate not from funded", Evaluate, Funded, role.SteeringCommittee, "", new(*TransitionError)},
		{"evaluate not from proposed", Evaluate, Proposed, role.SteeringCommittee, "", new(*TransitionError)},
		{"evaluate not twice", Evaluate, Evaluated, role.SteeringCommittee, "", new(*TransitionError)},
		{"propose creates", Propose, "", role.FocalPoint, Proposed, nil},
		{"admin proposes", Propose, "", role.Admin, Proposed, nil},
		{"propose needs no item", Propose, Proposed, role.FocalPoint, "", new(*TransitionError)},
		{"request on a funded item stays", RequestFunding, Funded, role.FocalPoint, Funded, nil},
		{"request needs an item", RequestFunding, "", role.FocalPoint, "", new(*TransitionError)},
		{"finance disburses after implementation", Disburse, Implemented, role.FinanceOfficer, Implemented, nil},
		{"no progress on a proposal", ReportProgress, Proposed, role.FocalPoint, "", new(*TransitionError)},
		{"mark implemented", MarkImplemented, Funded, role.FocalPoint, Implemented, nil},
		{"not implemented before funded", MarkImplemented, Proposed, role.FocalPoint, "", new(*TransitionError)},
		{"resume goes back", Resume, Suspended, role.SteeringCommittee, Previous, nil},
		{"resume only suspended", Resume, Funded, role.FocalPoint, "", new(*TransitionError)},
		{"suspend not twice", Suspend, Suspended, role.FocalPoint, "", new(*TransitionError)},
		{"cancel suspended", Cancel, Suspended, role.FocalPoint, Cancelled, nil},
		{"cancelled stays cancelled", Cancel, Cancelled, role.SteeringCommittee, "", new(*TransitionError)},
		{"implemented cannot be cancelled", Cancel, Implemented, role.SteeringCommittee, "", new(*TransitionError)},
		{"same-as on an evaluated model", MarkSameAs, Evaluated, role.Admin, Evaluated, nil},
		{"same-as not on a cancelled one", MarkSameAs, Cancelled, role.SteeringCommittee, "", new(*TransitionError)},
		{"unknown action", "approve", Proposed, role.FinanceOfficer, "", new(*UnknownActionError)},
	}
	d := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.Allowed(tt.action, tt.from, tt.role)
			switch target := tt.wantErr.(type) {
			case nil:
				if err != nil || got != tt.want {
					t.Errorf("Allowed(%q, %q, %q) = %q, %v; want %q, nil", tt.action, tt.from, tt.role, got, err, tt.want)
				}
			default:
				if err == nil || !errors.As(err, target) || got != "" {
					t.Errorf("Allowed(%q, %q, %q) = %q, %v; want \"\", %T", tt.action, tt.from, tt.role, got, err, tt.wantErr)
				}
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&UnknownActionError{Action: "fly"}, `unknown action "fly"`},
		{&RoleError{Action: ApproveFunding, Role: role.FocalPoint, Allowed: []role.Role{role.FinanceOfficer}},
			`role "focal_point" may not approve_funding (allowed: finance_officer)`},
		{&TransitionError{Action: Evaluate, From: Funded, AllowedFrom: []string{Implemented}},
			`evaluate is not allowed from stage "funded" (only from implemented)`},
		{&TransitionError{Action: Propose, From: Funded}, `propose creates a new item; it cannot be taken on an item in stage "funded"`},
		{&TransitionError{Action: Cancel, AllowedFrom: []string{Proposed}}, `cancel needs an existing item (in stage proposed)`},
		{&Problem{Origin: "a.yaml", Line: 3, Column: 5, Path: "version", Msg: "bad"}, "a.yaml:3: version: bad"},
		{&Problem{Origin: "a.yaml", Msg: "empty"}, "a.yaml: empty"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	d := Default()
	none := Default()
	none.Guards = Guards{}
	tests := []struct {
		amount                       money.VND
		wantEndorse, wantTwo         bool
		wantNoneEndorse, wantNoneTwo bool
	}{
		{0, false, false, false, false},
		{1, false, false, false, false},
		{15_000_000_000, false, false, false, false},
		{15_000_000_001, true, false, false, false},
		{30_000_000_000, true, false, false, false},
		{30_000_000_001, true, true, false, false},
		{money.Ceiling, true, true, false, false},
	}
	for _, tt := range tests {
		if got := d.EndorsementRequired(tt.amount); got != tt.wantEndorse {
			t.Errorf("EndorsementRequired(%d) = %v, want %v", tt.amount, got, tt.wantEndorse)
		}
		if got := d.NeedsTwoOfficers(tt.amount); got != tt.wantTwo {
			t.Errorf("NeedsTwoOfficers(%d) = %v, want %v", tt.amount, got, tt.wantTwo)
		}
		if got := none.EndorsementRequired(tt.amount); got != tt.wantNoneEndorse {
			t.Errorf("without guards, EndorsementRequired(%d) = %v, want %v", tt.amount, got, tt.wantNoneEndorse)
		}
		if got := none.NeedsTwoOfficers(tt.amount); got != tt.wantNoneTwo {
			t.Errorf("without guards, NeedsTwoOfficers(%d) = %v, want %v", tt.amount, got, tt.wantNoneTwo)
		}
	}
}

func TestDefaultReturnsACopy(t *testing.T) {
	t.Parallel()
	a := Default()
	a.Actions[0].Roles[0] = role.System
	a.Guards.EndorsementRequired.AboveVND = 1
	a.Deadlines[0].In[0] = Cancelled
	b := Default()
	if b.Actions[0].Roles[0] != role.FocalPoint || b.Guards.EndorsementRequired.AboveVND != 15_000_000_000 ||
		b.Deadlines[0].In[0] != Funded {
		t.Errorf("changing one Default() changed the next: %+v", b)
	}
	if !sameRules(b, Default()) {
		t.Error("two calls of Default() differ")
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v2 := filepath.Join(dir, "v2.yaml")
	if err := os.WriteFile(v2, edit(t, string(defaultYAML), "version: 1\n", "version: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, edit(t, string(defaultYAML), "initial: proposed", "initial: draft"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path        string
		wantVersion int
		wantErr     bool
	}{
		{"", 1, false},
		{v2, 2, false},
		{broken, 0, true},
		{big, 0, true},
		{filepath.Join(dir, "missing.yaml"), 0, true},
	}
	for _, tt := range tests {
		d, err := Load(tt.path)
		if (err != nil) != tt.wantErr {
			t.Errorf("Load(%q) error = %v, want error %v", tt.path, err, tt.wantErr)
			continue
		}
		if err != nil {
			if d != nil {
				t.Errorf("Load(%q) = %+v with an error, want nil", tt.path, d)
			}
			continue
		}
		if d.Version != tt.wantVersion {
			t.Errorf("Load(%q).Version = %d, want %d", tt.path, d.Version, tt.wantVersion)
		}
		if tt.path != "" && d.Origin != tt.path {
			t.Errorf("Load(%q).Origin = %q, want the path", tt.path, d.Origin)
		}
	}
	if _, err := Load(broken); len(Problems(err)) != 1 || Problems(err)[0].Origin != broken {
		t.Errorf("Load(broken) = %v, want one problem naming %s", err, broken)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestDefaultYAML(t *testing.T) {
	t.Parallel()
	src := DefaultYAML()
	src[0] = 'X'
	if DefaultYAML()[0] == 'X' {
		t.Error("DefaultYAML() returned the embedded bytes themselves")
	}
}
