package definition

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
)

// MaxDeadlineDays bounds a deadline's AfterDays: ten years.
const MaxDeadlineDays = 3650

var (
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
	flagPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// Validate checks a definition built in Go as Parse checks one read from YAML, reporting
// every problem at once (joined with errors.Join), each with its path.
func (d *Definition) Validate() error {
	v := &validator{d: d}
	v.check()
	return joinProblems(v.probs)
}

// validator checks the meaning of a definition: references, ranges, reachability.
type validator struct {
	d       *Definition
	at      map[string]*yaml.Node // from the decoder; nil for a definition built in Go
	bad     map[string]bool       // paths the decoder already reported as unreadable
	damaged map[string]bool       // sections that lost something while decoding
	probs   []*Problem
	stageAt map[string]int // stage name → index of its first listing
}

func (v *validator) report(path, format string, args ...any) {
	if v.bad[path] {
		return
	}
	p := &Problem{Origin: cmp.Or(v.d.Origin, "definition"), Path: path, Msg: fmt.Sprintf(format, args...)}
	if n := v.node(path); n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	v.probs = append(v.probs, p)
}

// node finds the node at path or, for something missing, the nearest enclosing one.
func (v *validator) node(path string) *yaml.Node {
	for path != "" {
		if n, ok := v.at[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return nil
		}
		path = path[:i]
	}
	return nil
}

func (v *validator) check() {
	d := v.d
	if d.Version < 1 {
		v.report("version", "missing or below 1: number the versions of a definition 1, 2, 3, …")
	}
	switch {
	case d.Name == "":
		v.report("name", "missing: give the workflow a name such as cds_lifecycle")
	case !namePattern.MatchString(d.Name):
		v.report("name", "%q: use up to 64 lower-case letters, digits and _ . -, starting with a letter", d.Name)
	}
	v.stages()
	v.initial()
	v.thresholds()
	used := v.actions()
	v.unusedGuards(used)
	v.reachable()
	v.deadlines()
	v.mends()
}

// mends checks the versions a definition mends: earlier ones, each once, and someone who may
// move an item to this version.
func (v *validator) mends() {
	d := v.d
	seen := map[int]bool{}
	for i, m := range d.Mends {
		p := index("mends", i)
		switch {
		case m < 1 || m >= d.Version:
			v.report(p, "%d: a definition mends only earlier versions, from 1 to %d", m, d.Version-1)
		case seen[m]:
			v.report(p, "version %d is listed twice", m)
		}
		seen[m] = true
	}
	if _, ok := d.Action(AdoptVersion); ok && len(d.Mends) == 0 && !v.damaged["mends"] {
		v.report("actions."+AdoptVersion, "%s moves items from the versions this one mends, but it mends none: add mends: [1]", AdoptVersion)
	}
	if _, ok := d.Action(AdoptVersion); !ok && len(d.Mends) > 0 && !v.damaged["actions"] {
		v.report("mends", "no one can move an item to this version: add the action %s with its roles", AdoptVersion)
	}
}

func list[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

func (v *validator) stages() {
	d := v.d
	v.stageAt = map[string]int{}
	if len(d.Stages) == 0 && !v.damaged["stages"] {
		v.report("stages", "no stages")
	}
	for i, s := range d.Stages {
		p := index("stages", i) + ".name"
		switch first, dup := v.stageAt[s.Name]; {
		case s.Name == "":
			v.report(p, "missing: every stage needs a name")
		case !slices.Contains(KnownStages, s.Name):
			v.report(p, "unknown stage %q; the engine knows %s", s.Name, list(KnownStages))
		case dup:
			v.report(p, "stage %q is listed twice (first as stages[%d])", s.Name, first)
		}
		if _, dup := v.stageAt[s.Name]; !dup && s.Name != "" {
			v.stageAt[s.Name] = i
		}
	}
}

// stageRef reports name at path unless it is one of the definition's stages.
func (v *validator) stageRef(path, name string) bool {
	if _, ok := v.stageAt[name]; ok {
		return true
	}
	if !v.damaged["stages"] {
		var names []string
		for i, s := range v.d.Stages {
			if j, ok := v.stageAt[s.Name]; ok && j == i {
				if len(names) == 10 {
					names = append(names, "…")
					break
				}
				names = append(names, s.Name)
			}
		}
		if len(names) == 0 {
			v.report(path, "unknown stage %q; no stages are listed", name)
		} else {
			v.report(path, "unknown stage %q; the stages are %s", name, list(names))
		}
	}
	return false
}

func (v *validator) terminal(stage string) bool {
	i, ok := v.stageAt[stage]
	return ok && v.d.Stages[i].Terminal
}

func (v *validator) initial() {
	d := v.d
	switch {
	case d.Initial == "":
		v.report("initial", "missing: name the stage a new item starts in")
	case !v.stageRef("initial", d.Initial):
	case v.terminal(d.Initial):
		v.report("initial", "the initial stage %q is marked terminal: nothing could ever happen to a new item", d.Initial)
	}
}

// threshold returns the parameters of the guard called name, nil if it is not configured.
func (d *Definition) threshold(name string) *Threshold {
	switch name {
	case GuardEndorsementRequired:
		return d.Guards.EndorsementRequired
	case GuardTwoOfficers:
		return d.Guards.TwoOfficers
	}
	return nil
}

func (v *validator) thresholds() {
	for _, g := range KnownGuards {
		t := v.d.threshold(g)
		if t == nil {
			continue
		}
		p := "guards." + g + ".above_vnd"
		switch {
		case t.AboveVND <= 0:
			v.report(p, "missing or not more than 0: give an amount in đồng, e.g. 15_000_000_000 for 15 tỷ")
		case t.AboveVND > money.Ceiling:
			v.report(p, "%d đồng is above the ceiling of %d đồng", int64(t.AboveVND), int64(money.Ceiling))
		}
	}
}

// actions checks every action and returns the guards they use.
func (v *validator) actions() (used map[string]bool) {
	d := v.d
	used = map[string]bool{}
	if len(d.Actions) == 0 && !v.damaged["actions"] {
		v.report("actions", "no actions")
	}
	seen := map[string]bool{}
	for i, a := range d.Actions {
		p := "actions." + a.Name
		if a.Name == "" {
			p = index("actions", i)
		}
		switch {
		case a.Name == "":
			v.report(p, "missing: every action needs a name")
		case !slices.Contains(KnownActions, a.Name):
			v.report(p, "unknown action %q; the engine understands %s", a.Name, list(KnownActions))
		case seen[a.Name]:
			v.report(p, "action %q is defined twice", a.Name)
		}
		seen[a.Name] = true
		v.moves(p, a)
		v.roles(p, a)
		seenGuard := map[string]bool{}
		for j, g := range a.Guards {
			gp := index(p+".guards", j)
			switch {
			case g == "":
			case !slices.Contains(KnownGuards, g):
				v.report(gp, "unknown guard %q; want one of %s", g, list(KnownGuards))
			case seenGuard[g]:
				v.report(gp, "guard %q is listed twice", g)
			case !slices.Contains(guardActions[g], a.Name):
				v.report(gp, "guard %q applies only to %s", g, list(guardActions[g]))
			case d.threshold(g) == nil && !v.damaged["guards"]:
				v.report(gp, "guard %q has no parameters: add it under guards, with above_vnd", g)
			}
			seenGuard[g], used[g] = true, true
		}
	}
	if !seen[Propose] && !v.damaged["actions"] {
		v.report("actions", "no propose action: no item could ever be registered")
	}
	return used
}

// moves checks an action's creates, from and to.
func (v *validator) moves(p string, a Action) {
	d := v.d
	switch {
	case a.Creates && a.Name != Propose:
		v.report(p+".creates", "only propose creates an item")
	case !a.Creates && a.Name == Propose:
		v.report(p+".creates", "propose registers a new item: it must say creates: true")
		return
	}
	if a.Creates {
		switch {
		case len(a.From) > 0:
			v.report(p+".from", "%s creates a new item, so it has no from stages", a.Name)
		case a.To == Previous:
			v.report(p+".to", "a new item has no previous stage")
		case a.To != "" && a.To != d.Initial:
			v.report(p+".to", "a new item starts in the initial stage %q, not %q; leave to out", d.Initial, a.To)
		}
		return
	}
	if len(a.From) == 0 {
		v.report(p+".from", "missing: list the stages %s may be taken from", a.Name)
	}
	seen := map[string]bool{}
	for j, s := range a.From {
		fp := index(p+".from", j)
		dup := seen[s]
		seen[s] = true
		switch {
		case s == "":
		case dup:
			v.report(fp, "stage %q is listed twice", s)
		case !v.stageRef(fp, s):
		case v.terminal(s) && a.To != "" && a.To != s:
			v.report(fp, "stage %q is terminal, but %s would move an item out of it", s, a.Name)
		}
	}
	if a.To != "" && a.To != Previous {
		v.stageRef(p+".to", a.To)
	}
}

func (v *validator) roles(p string, a Action) {
	if len(a.Roles) == 0 {
		v.report(p+".roles", "missing: name the roles that may %s (%s)", a.Name, list(role.All))
	}
	seen := map[role.Role]bool{}
	for j, r := range a.Roles {
		rp := index(p+".roles", j)
		dup := seen[r]
		seen[r] = true
		switch {
		case r == "":
		case !slices.Contains(role.All, r):
			v.report(rp, "unknown role %q; want one of %s", r, list(role.All))
		case dup:
			v.report(rp, "role %q is listed twice", r)
		}
	}
}

func (v *validator) unusedGuards(used map[string]bool) {
	if v.damaged["actions"] {
		return
	}
	for _, g := range KnownGuards {
		if v.d.threshold(g) != nil && !used[g] {
			v.report("guards."+g, "no action uses guard %q: add it to an action's guards, or remove it", g)
		}
	}
}

// reachable reports the stages no sequence of actions leads to from the initial stage,
// unless they are terminal.
func (v *validator) reachable() {
	d := v.d
	if v.damaged["stages"] || v.damaged["actions"] {
		return
	}
	if _, ok := v.stageAt[d.Initial]; !ok || v.terminal(d.Initial) {
		return
	}
	type edge struct{ from, to string }
	var edges []edge
	for _, a := range d.Actions {
		if !a.Creates && a.To != "" && a.To != Previous {
			for _, s := range a.From {
				edges = append(edges, edge{s, a.To})
			}
		}
	}
	// "previous" leads back to every stage from which an action leads into the stage left.
	direct := len(edges)
	for _, a := range d.Actions {
		if !a.Creates && a.To == Previous {
			for _, s := range a.From {
				for _, e := range edges[:direct] {
					if e.to == s {
						edges = append(edges, edge{s, e.from})
					}
				}
			}
		}
	}
	reach := map[string]bool{d.Initial: true}
	for grew := true; grew; {
		grew = false
		for _, e := range edges {
			if reach[e.from] && !reach[e.to] {
				reach[e.to], grew = true, true
			}
		}
	}
	for i, s := range d.Stages {
		if slices.Contains(KnownStages, s.Name) && !reach[s.Name] && !s.Terminal {
			v.report(index("stages", i), "stage %q cannot be reached from the initial stage %q by any action, and is not marked terminal", s.Name, d.Initial)
		}
	}
}

func (v *validator) deadlines() {
	seen := map[string]bool{}
	flags := map[string]string{}
	for i, dl := range v.d.Deadlines {
		p := "deadlines." + dl.Name
		if dl.Name == "" {
			p = index("deadlines", i)
		}
		switch {
		case dl.Name == "":
			v.report(p, "missing: every deadline needs a name")
		case !slices.Contains(KnownDeadlines, dl.Name):
			v.report(p, "unknown deadline %q; the engine understands %s", dl.Name, list(KnownDeadlines))
		case seen[dl.Name]:
			v.report(p, "deadline %q is defined twice", dl.Name)
		}
		seen[dl.Name] = true
		if len(dl.In) == 0 {
			v.report(p+".in", "missing: list the stages in which this deadline runs")
		}
		seenIn := map[string]bool{}
		for j, s := range dl.In {
			sp := index(p+".in", j)
			dup := seenIn[s]
			seenIn[s] = true
			switch {
			case s == "":
			case dup:
				v.report(sp, "stage %q is listed twice", s)
			default:
				v.stageRef(sp, s)
			}
		}
		switch dl.Name {
		case DeadlineNoProgress:
			switch {
			case dl.AfterDays == 0:
				v.report(p+".after_days", "missing: give the number of days, 1 to %d", MaxDeadlineDays)
			case dl.AfterDays < 1 || dl.AfterDays > MaxDeadlineDays:
				v.report(p+".after_days", "want 1 to %d days, got %d", MaxDeadlineDays, dl.AfterDays)
			}
			if dl.Past != "" {
				v.report(p+".past", "%s counts days: it takes after_days, not past", dl.Name)
			}
		case DeadlineOverdue:
			switch dl.Past {
			case PastEndDate:
			case "":
				v.report(p+".past", "missing: want past: %s", PastEndDate)
			default:
				v.report(p+".past", "unknown date %q; want %s", dl.Past, PastEndDate)
			}
			if dl.AfterDays != 0 {
				v.report(p+".after_days", "%s takes past, not after_days", dl.Name)
			}
		}
		switch other, dup := flags[dl.Flag]; {
		case dl.Flag == "":
			v.report(p+".flag", "missing: name the flag this deadline records")
		case !flagPattern.MatchString(dl.Flag):
			v.report(p+".flag", "%q: use lower-case letters, digits and _, starting with a letter", dl.Flag)
		case dup:
			v.report(p+".flag", "flag %q is already recorded by deadline %s", dl.Flag, other)
		default:
			flags[dl.Flag] = dl.Name
		}
	}
}
