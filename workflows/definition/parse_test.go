package definition

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
)

// edit returns src with old replaced by new, failing unless old occurs exactly once.
func edit(tb testing.TB, src, old, new string) []byte {
	tb.Helper()
	if n := strings.Count(src, old); n != 1 {
		tb.Fatalf("edit: %q occurs %d times in the source, want once", old, n)
	}
	return []byte(strings.Replace(src, old, new, 1))
}

// edits applies several edits in turn, as pairs old, new.
func edits(tb testing.TB, src string, pairs ...string) []byte {
	tb.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		src = string(edit(tb, src, pairs[i], pairs[i+1]))
	}
	return []byte(src)
}

// lineOf returns the 1-based line of the first occurrence of needle in src, 0 if absent.
func lineOf(src []byte, needle string) int {
	i := bytes.Index(src, []byte(needle))
	if needle == "" || i < 0 {
		return 0
	}
	return 1 + bytes.Count(src[:i], []byte("\n"))
}

type brokenCase struct {
	name  string
	src   []byte
	path  string // of the problem checked; "" for the whole document
	msg   string // a part of its message
	at    string // text on the line the problem names; "" when it names none; "?" for any line
	count int    // how many problems in all; 0 means 1
}

// brokenCases are definitions Parse must refuse, mostly the default with one mistake.
func brokenCases(tb testing.TB) []brokenCase {
	def := string(defaultYAML)
	ed := func(pairs ...string) []byte { return edits(tb, def, pairs...) }
	return []brokenCase{
		{name: "unknown stage in from",
			src:  ed("from: [proposed, funded]\n    to: funded", "from: [proposed, fundd]\n    to: funded"),
			path: "actions.approve_funding.from[1]", msg: `unknown stage "fundd"; the stages are proposed, funded,`, at: "[proposed, fundd]"},
		{name: "unknown stage in to",
			src:  ed("to: cancelled", "to: canceled"),
			path: "actions.cancel.to", msg: `unknown stage "canceled"`, at: "to: canceled"},
		{name: "unknown initial stage",
			src:  ed("initial: proposed", "initial: draft"),
			path: "initial", msg: `unknown stage "draft"`, at: "initial: draft"},
		{name: "unknown stage in a deadline",
			src:  ed("in: [funded]", "in: [funde]"),
			path: "deadlines.no_progress.in[0]", msg: `unknown stage "funde"`, at: "in: [funde]"},
		{name: "a stage the engine does not know",
			src:  ed("  - name: suspended", "  - name: paused"),
			path: "stages[4].name", msg: `unknown stage "paused"; the engine knows proposed,`, at: "name: paused", count: 6},
		{name: "unknown role",
			src:  ed("from: [funded]\n    roles: [focal_point]", "from: [funded]\n    roles: [focal_pont]"),
			path: "actions.report_progress.roles[0]", msg: `unknown role "focal_pont"; want one of admin, focal_point, finance_officer, steering_committee`, at: "[focal_pont]"},
		{name: "the system role is no user's",
			src:  ed("to: evaluated\n    roles: [steering_committee]", "to: evaluated\n    roles: [system]"),
			path: "actions.evaluate.roles[0]", msg: `unknown role "system"`, at: "roles: [system]"},
		{name: "role listed twice",
			src:  ed("roles: [focal_point, admin]", "roles: [focal_point, admin, focal_point]"),
			path: "actions.propose.roles[2]", msg: `role "focal_point" is listed twice`, at: "admin, focal_point]"},
		{name: "action without roles",
			src:  ed("to: evaluated\n    roles: [steering_committee]\n", "to: evaluated\n"),
			path: "actions.evaluate.roles", msg: "missing: name the roles that may evaluate", at: "  evaluate:"},
		{name: "action with an empty list of roles",
			src:  ed("to: evaluated\n    roles: [steering_committee]\n", "to: evaluated\n    roles: []\n"),
			path: "actions.evaluate.roles", msg: "missing: name the roles", at: "roles: []"},
		{name: "unknown guard on an action",
			src:  ed("guards: [endorsement_required, two_officers]", "guards: [endorsement_required, two_officers, three_officers]"),
			path: "actions.approve_funding.guards[2]", msg: `unknown guard "three_officers"; want one of endorsement_required, two_officers`, at: "three_officers]"},
		{name: "unknown guard in guards",
			src:  ed("  two_officers:\n    above_vnd", "  three_officers:\n    above_vnd: 1\n  two_officers:\n    above_vnd"),
			path: "guards.three_officers", msg: `unknown guard "three_officers"`, at: "three_officers:"},
		{name: "guard on an action it does not apply to",
			src:  ed("    title: Không phê duyệt\n", "    title: Không phê duyệt\n    guards: [two_officers]\n"),
			path: "actions.reject_funding.guards[0]", msg: `guard "two_officers" applies only to approve_funding`, at: "guards: [two_officers]"},
		{name: "guard without parameters",
			src:  ed("  two_officers:\n    above_vnd: 30_000_000_000 # 30 tỷ đồng\n", ""),
			path: "actions.approve_funding.guards[1]", msg: `guard "two_officers" has no parameters`, at: "guards: [endorsement_required, two_officers]"},
		{name: "guard no action uses",
			src:  ed("guards: [endorsement_required, two_officers]", "guards: [endorsement_required]"),
			path: "guards.two_officers", msg: `no action uses guard "two_officers"`, at: "  two_officers:"},
		{name: "guard amount zero",
			src:  ed("above_vnd: 15_000_000_000", "above_vnd: 0"),
			path: "guards.endorsement_required.above_vnd", msg: "not more than 0", at: "above_vnd: 0"},
		{name: "guard amount negative",
			src:  ed("above_vnd: 15_000_000_000", "above_vnd: -5"),
			path: "guards.endorsement_required.above_vnd", msg: "not more than 0", at: "above_vnd: -5"},
		{name: "guard amount above the ceiling",
			src:  ed("above_vnd: 30_000_000_000", "above_vnd: 1_000_000_000_000_001"),
			path: "guards.two_officers.above_vnd", msg: "1000000000000001 đồng is above the ceiling of 1000000000000000 đồng", at: "above_vnd: 1_000"},
		{name: "guard amount with a fraction",
			src:  ed("above_vnd: 15_000_000_000", "above_vnd: 1.5e10"),
			path: "guards.endorsement_required.above_vnd", msg: "want a whole number, got 1.5e10", at: "above_vnd: 1.5e10"},
		{name: "guard amount beyond int64",
			src:  ed("above_vnd: 15_000_000_000", "above_vnd: 99999999999999999999"),
			path: "guards.endorsement_required.above_vnd", msg: "want a whole number", at: "above_vnd: 9999"},
		{name: "unknown key at the top",
			src:  []byte(def + "colour: red\n"),
			path: "colour", msg: `unknown key "colour"; want one of version, name,`, at: "colour: red"},
		{name: "unknown key in an action",
			src:  ed("title: Giải ngân", "titel: Giải ngân"),
			path: "actions.disburse.titel", msg: `unknown key "titel"; want one of title, creates, from, to, roles, guards`, at: "titel:"},
		{name: "unknown key in a stage",
			src:  ed("  - name: suspended\n    title: Tạm dừng", "  - name: suspended\n    titles: Tạm dừng"),
			path: "stages[4].titles", msg: `unknown key "titles"`, at: "titles:"},
		{name: "unknown key in a deadline",
			src:  ed("after_days: 90", "after_days: 90\n    remind: true"),
			path: "deadlines.no_progress.remind", msg: `unknown key "remind"`, at: "remind:"},
		{name: "duplicate action",
			src:  ed("  mark_same_as:\n", "  cancel: # again\n    from: [proposed]\n    roles: [admin]\n  mark_same_as:\n"),
			path: "actions.cancel", msg: `"cancel" is given twice (first on line`, at: "cancel: # again"},
		{name: "duplicate stage",
			src:  ed("  - name: implemented", "  - name: funded # again\n  - name: implemented"),
			path: "stages[2].name", msg: `stage "funded" is listed twice (first as stages[1])`, at: "funded # again"},
		{name: "duplicate top-level key",
			src:  []byte(def + "version: 2\n"),
			path: "version", msg: `"version" is given twice (first on line`, at: "version: 2"},
		{name: "stage listed twice in from",
			src:  ed("from: [implemented]", "from: [implemented, implemented]"),
			path: "actions.evaluate.from[1]", msg: `stage "implemented" is listed twice`, at: "[implemented, implemented]"},
		{name: "version zero",
			src:  ed("version: 1\n", "version: 0\n"),
			path: "version", msg: "missing or below 1", at: "version: 0"},
		{name: "version negative",
			src:  ed("version: 1\n", "version: -3\n"),
			path: "version", msg: "missing or below 1", at: "version: -3"},
		{name: "version in words",
			src:  ed("version: 1\n", "version: one\n"),
			path: "version", msg: `want a whole number, got "one"`, at: "version: one"},
		{name: "version too large",
			src:  ed("version: 1\n", "version: 99999999999\n"),
			path: "version", msg: "out of range", at: "version: 9999"},
		{name: "version missing",
			src:  ed("version: 1\n", ""),
			path: "version", msg: "missing", at: ""},
		{name: "name missing",
			src:  ed("name: cds_lifecycle\n", ""),
			path: "name", msg: "missing", at: ""},
		{name: "name with spaces",
			src:  ed("name: cds_lifecycle\n", "name: CĐS lifecycle\n"),
			path: "name", msg: "lower-case letters", at: "name: CĐS"},
		{name: "unknown action",
			src:  ed("  mark_same_as:\n", "  mark_duplicate:\n"),
			path: "actions.mark_duplicate", msg: `unknown action "mark_duplicate"; the engine understands propose, request_funding,`, at: "mark_duplicate:"},
		{name: "action name that is a number",
			src:  ed("  mark_same_as:\n", "  12:\n"),
			path: "actions", msg: "key 12: want a name", at: "  12:"},
		{name: "no propose",
			src:  ed("  propose:\n    title: Đề xuất, đăng ký\n    creates: true\n    roles: [focal_point, admin]\n", ""),
			path: "actions", msg: "no propose action", at: "actions:"},
		{name: "unreachable stage",
			src:  ed("    to: implemented\n", ""),
			path: "stages[2]", msg: `stage "implemented" cannot be reached from the initial stage "proposed"`, at: "- name: implemented"},
		{name: "leaving a terminal stage",
			src:  ed("from: [suspended]", "from: [suspended, cancelled]"),
			path: "actions.resume.from[1]", msg: `stage "cancelled" is terminal, but resume would move an item out of it`, at: "[suspended, cancelled]"},
		{name: "terminal initial stage",
			src:  ed("initial: proposed", "initial: cancelled"),
			path: "initial", msg: "is marked terminal", at: "initial: cancelled"},
		{name: "creates on another action",
			src:  ed("    title: Không phê duyệt\n", "    title: Không phê duyệt\n    creates: true\n"),
			path: "actions.reject_funding.creates", msg: "only propose creates an item", at: "creates: true\n    from: [proposed, funded]", count: 2},
		{name: "propose without creates",
			src:  ed("    creates: true\n", ""),
			path: "actions.propose.creates", msg: "it must say creates: true", at: "  propose:"},
		{name: "propose to another stage",
			src:  ed("    creates: true\n", "    creates: true\n    to: funded\n"),
			path: "actions.propose.to", msg: `a new item starts in the initial stage "proposed", not "funded"`, at: "to: funded\n    roles: [focal_point, admin]"},
		{name: "propose with from",
			src:  ed("    creates: true\n", "    creates: true\n    from: [proposed]\n"),
			path: "actions.propose.from", msg: "has no from stages", at: "from: [proposed]\n    roles: [focal_point, admin]"},
		{name: "creates is not a boolean",
			src:  ed("creates: true", "creates: sure"),
			path: "actions.propose.creates", msg: `want true or false, got "sure"`, at: "creates: sure"},
		{name: "from is not a list",
			src:  ed("from: [implemented]", "from: implemented"),
			path: "actions.evaluate.from", msg: `want a list such as [a, b], got "implemented"`, at: "from: implemented"},
		{name: "from lists a mapping",
			src:  ed("from: [implemented]", "from: [{stage: implemented}]"),
			path: "actions.evaluate.from[0]", msg: "want a name or text, got a mapping", at: "from: [{stage"},
		{name: "actions is a list",
			src:  []byte("version: 1\nname: x\ninitial: proposed\nstages: [{name: proposed}]\nactions: [propose]\n"),
			path: "actions", msg: "want key: value lines, got a list", at: "actions: [propose]"},
		{name: "stages is a mapping",
			src:  []byte("version: 1\nname: x\ninitial: proposed\nstages: {proposed: {}}\nactions: {propose: {creates: true, roles: [admin]}}\n"),
			path: "stages", msg: "want a list of stages", at: "stages: {"},
		{name: "after_days zero",
			src:  ed("after_days: 90", "after_days: 0"),
			path: "deadlines.no_progress.after_days", msg: "missing: give the number of days, 1 to 3650", at: "after_days: 0"},
		{name: "after_days negative",
			src:  ed("after_days: 90", "after_days: -1"),
			path: "deadlines.no_progress.after_days", msg: "want 1 to 3650 days, got -1", at: "after_days: -1"},
		{name: "after_days above ten years",
			src:  ed("after_days: 90", "after_days: 3651"),
			path: "deadlines.no_progress.after_days", msg: "want 1 to 3650 days, got 3651", at: "after_days: 3651"},
		{name: "after_days missing",
			src:  ed("    after_days: 90\n", ""),
			path: "deadlines.no_progress.after_days", msg: "missing", at: "  no_progress:"},
		{name: "after_days on overdue",
			src:  ed("past: end_date", "past: end_date\n    after_days: 5"),
			path: "deadlines.overdue.after_days", msg: "takes past, not after_days", at: "after_days: 5"},
		{name: "unknown date",
			src:  ed("past: end_date", "past: start_date"),
			path: "deadlines.overdue.past", msg: `unknown date "start_date"; want end_date`, at: "past: start_date"},
		{name: "unknown deadline",
			src:  ed("  no_progress:\n", "  no_reports:\n"),
			path: "deadlines.no_reports", msg: `unknown deadline "no_reports"; the engine understands no_progress, overdue`, at: "no_reports:"},
		{name: "deadline without stages",
			src:  ed("    in: [funded]\n", ""),
			path: "deadlines.no_progress.in", msg: "missing: list the stages", at: "  no_progress:"},
		{name: "flag recorded twice",
			src:  ed("flag: overdue", "flag: flagged_no_progress # again"),
			path: "deadlines.overdue.flag", msg: `flag "flagged_no_progress" is already recorded by deadline no_progress`, at: "# again"},
		{name: "alias",
			src: ed("    title: Đề nghị bố trí vốn\n    from: [proposed, funded]\n    roles: [focal_point]",
				"    title: Đề nghị bố trí vốn\n    from: [proposed, funded]\n    roles: &fp [focal_point]",
				"from: [funded]\n    roles: [focal_point]", "from: [funded]\n    roles: *fp"),
			path: "actions.report_progress.roles", msg: "aliases (*fp) are not supported", at: "roles: *fp"},
		{name: "two documents",
			src:  []byte(def + "---\nversion: 2\n"),
			path: "", msg: "more than one YAML document", at: "?"},
		{name: "syntax error",
			src:  ed("from: [funded, implemented]", "from: [funded, implemented"),
			path: "", msg: "not valid YAML", at: "?"},
		{name: "tab indentation",
			src:  []byte("version: 1\n\tname: x\n"),
			path: "", msg: "not valid YAML", at: "?"},
		{name: "a list, not a definition",
			src:  []byte("- a\n- b\n"),
			path: "", msg: "want key: value lines, got a list", at: "- a"},
		{name: "a plain word",
			src:  []byte("hello\n"),
			path: "", msg: `want key: value lines, got "hello"`, at: "hello"},
		{name: "empty",
			src:  nil,
			path: "", msg: "empty: no definition", at: ""},
		{name: "only a comment",
			src:  []byte("# nothing yet\n"),
			path: "", msg: "empty: no definition", at: ""},
		{name: "too large",
			src:  bytes.Repeat([]byte("#"), MaxSize+1),
			path: "", msg: "too large", at: ""},
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	const origin = "broken.yaml"
	for _, tt := range brokenCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Parse(tt.src, origin)
			if err == nil {
				t.Fatalf("Parse = %+v, nil; want an error at %s", d, tt.path)
			}
			if d != nil {
				t.Errorf("Parse returned a definition with its error: %+v", d)
			}
			probs := Problems(err)
			if want := max(tt.count, 1); len(probs) != want {
				t.Errorf("got %d problems, want %d:\n%v", len(probs), want, err)
			}
			var p *Problem
			for _, q := range probs {
				if q.Path == tt.path {
					p = q
					break
				}
			}
			if p == nil {
				t.Fatalf("no problem at path %q in:\n%v", tt.path, err)
			}
			if p.Origin != origin || !strings.Contains(p.Msg, tt.msg) {
				t.Errorf("problem = %q, want origin %s and a message containing %q", p.Error(), origin, tt.msg)
			}
			switch tt.at {
			case "?":
				if p.Line < 1 {
					t.Errorf("problem = %q at line %d, want a line", p.Error(), p.Line)
				}
			default:
				want := lineOf(tt.src, tt.at)
				if tt.at != "" && want == 0 {
					t.Fatalf("test is wrong: %q is not in the source", tt.at)
				}
				if p.Line != want || (want > 0) != (p.Column > 0) {
					t.Errorf("problem = %q at line %d column %d, want line %d (%q)", p.Error(), p.Line, p.Column, want, tt.at)
				}
				prefix := fmt.Sprintf("%s:%d: ", origin, want)
				if want == 0 {
					prefix = origin + ": "
				}
				if tt.path != "" {
					prefix += tt.path + ": "
				}
				if !strings.HasPrefix(p.Error(), prefix) {
					t.Errorf("Error() = %q, want it to start with %q", p.Error(), prefix)
				}
			}
			if !strings.Contains(err.Error(), p.Error()) {
				t.Errorf("the joined error %q does not contain %q", err, p.Error())
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()
	src := edits(t, string(defaultYAML),
		"from: [proposed, funded]\n    to: funded", "from: [proposed, fundd]\n    to: funded",
		"to: evaluated\n    roles: [steering_committee]", "to: evaluated\n    roles: [system]",
		"title: Giải ngân", "titel: Giải ngân",
	)
	_, err := Parse(src, "three.yaml")
	want := []string{
		fmt.Sprintf(`three.yaml:%d: actions.approve_funding.from[1]: unknown stage "fundd"`, lineOf(src, "fundd")),
		fmt.Sprintf(`three.yaml:%d: actions.disburse.titel: unknown key "titel"`, lineOf(src, "titel")),
		fmt.Sprintf(`three.yaml:%d: actions.evaluate.roles[0]: unknown role "system"`, lineOf(src, "[system]")),
	}
	probs := Problems(err)
	if len(probs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(probs), len(want), err)
	}
	for i, p := range probs {
		if !strings.HasPrefix(p.Error(), want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, p.Error(), want[i])
		}
		if !strings.Contains(err.Error(), want[i]) {
			t.Errorf("error %q does not report %q", err, want[i])
		}
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	def := string(defaultYAML)
	tests := []struct {
		name  string
		src   []byte
		check func(*Definition) error
	}{
		{"the default", defaultYAML, nil},
		{"to left empty stays", edits(t, def, "to: cancelled", "to:"),
			func(d *Definition) error {
				if to, err := d.Allowed(Cancel, Funded, role.FocalPoint); to != Funded || err != nil {
					return fmt.Errorf("Allowed(cancel, funded) = %q, %v; want funded, nil", to, err)
				}
				return nil
			}},
		{"plain amounts, ten years", edits(t, def, "15_000_000_000", "20000000000", "after_days: 90", "after_days: 3650"),
			func(d *Definition) error {
				if !d.EndorsementRequired(20_000_000_001) || d.EndorsementRequired(20_000_000_000) || d.Deadlines[0].AfterDays != 3650 {
					return fmt.Errorf("thresholds %+v, deadlines %+v", *d.Guards.EndorsementRequired, d.Deadlines)
				}
				return nil
			}},
		{"no guards at all", edits(t, def, "    guards: [endorsement_required, two_officers]\n", "",
			"  endorsement_required:\n    above_vnd: 15_000_000_000 # 15 tỷ đồng\n", "",
			"  two_officers:\n    above_vnd: 30_000_000_000 # 30 tỷ đồng\n", ""),
			func(d *Definition) error {
				if d.EndorsementRequired(money.Ceiling) || d.NeedsTwoOfficers(money.Ceiling) {
					return fmt.Errorf("guards = %+v, want none", d.Guards)
				}
				return nil
			}},
		{"no deadlines, fewer actions", edits(t, def[:strings.Index(def, "# Deadlines")],
			"  mark_same_as:\n    title: Đánh dấu trùng mô hình\n    from: [proposed, funded, implemented, evaluated, suspended]\n    roles: [steering_committee, admin]\n", ""),
			func(d *Definition) error {
				if len(d.Deadlines) != 0 || len(d.Actions) != len(version1Actions)-1 {
					return fmt.Errorf("deadlines %+v, %d actions", d.Deadlines, len(d.Actions))
				}
				if _, err := d.Allowed(MarkSameAs, Funded, role.Admin); err == nil {
					return fmt.Errorf("Allowed(mark_same_as) = nil, want *UnknownActionError")
				}
				return nil
			}},
		{"a small definition in flow style", []byte(`{version: 3, name: tiny, initial: proposed,
			stages: [{name: proposed}, {name: cancelled, terminal: true}],
			actions: {propose: {creates: true, roles: [admin]}, cancel: {from: [proposed], to: cancelled, roles: [admin]}}}`),
			func(d *Definition) error {
				if d.Version != 3 || len(d.Actions) != 2 || d.Title != "" {
					return fmt.Errorf("got %+v", d)
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Parse(tt.src, "ok.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil {
				if err := tt.check(d); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestValidateBuiltInGo(t *testing.T) {
	t.Parallel()
	d := &Definition{
		Name:    "hand",
		Initial: Proposed,
		Stages:  []Stage{{Name: Proposed}},
		Actions: []Action{
			{Name: Propose, Creates: true, Roles: []role.Role{"mayor"}},
			{Name: Cancel, From: []string{Proposed}, To: Cancelled, Roles: []role.Role{role.Admin}},
		},
		Guards: Guards{TwoOfficers: &Threshold{AboveVND: 5}},
	}
	want := []string{
		"definition: version: missing or below 1",
		`definition: actions.propose.roles[0]: unknown role "mayor"`,
		`definition: actions.cancel.to: unknown stage "cancelled"; the stages are proposed`,
		`definition: guards.two_officers: no action uses guard "two_officers"`,
	}
	probs := Problems(d.Validate())
	if len(probs) != len(want) {
		t.Fatalf("got %d problems, want %d: %v", len(probs), len(want), d.Validate())
	}
	for i, p := range probs {
		if !strings.HasPrefix(p.Error(), want[i]) || p.Line != 0 {
			t.Errorf("problem %d = %q (line %d), want it to start with %q, no line", i, p.Error(), p.Line, want[i])
		}
	}
}
