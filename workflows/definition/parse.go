package definition

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
)

// Parse reads a definition from YAML and validates it. origin names the source in messages
// (a file name). Unknown keys are errors, and so is everything Validate refuses; every
// problem is reported at once, each with its line and path.
func Parse(src []byte, origin string) (*Definition, error) {
	if origin == "" {
		origin = "definition"
	}
	if len(src) > MaxSize {
		return nil, joinProblems([]*Problem{{Origin: origin,
			Msg: fmt.Sprintf("%d bytes is too large; a definition may have at most %d", len(src), MaxSize)}})
	}
	root, prob := readDocument(src, origin)
	if prob != nil {
		return nil, joinProblems([]*Problem{prob})
	}
	dc := &decoder{origin: origin, at: map[string]*yaml.Node{}, bad: map[string]bool{}, damaged: map[string]bool{}}
	d := dc.definition(root)
	v := &validator{d: d, at: dc.at, bad: dc.bad, damaged: dc.damaged}
	if !dc.bad[""] { // when the document is not a mapping, its contents are beside the point
		v.check()
	}
	if err := joinProblems(append(dc.probs, v.probs...)); err != nil {
		return nil, err
	}
	return d, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// readDocument reads the one YAML document in src and returns its top node.
func readDocument(src []byte, origin string) (root *yaml.Node, prob *Problem) {
	syntax := func(err error) *Problem {
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &Problem{Origin: origin, Line: line, Msg: "not valid YAML: " + m[2]}
		}
		return &Problem{Origin: origin, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	defer func() {
		// The YAML library is not ours; whatever it does, a broken definition is an error.
		if r := recover(); r != nil {
			root, prob = nil, &Problem{Origin: origin, Msg: fmt.Sprintf("not valid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Problem{Origin: origin, Msg: "empty: no definition"}
		}
		return nil, syntax(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &Problem{Origin: origin, Line: next.Line,
			Msg: "more than one YAML document (---): give one definition per file"}
	case !errors.Is(err, io.EOF):
		return nil, syntax(err)
	}
	root = &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, &Problem{Origin: origin, Msg: "empty: no definition"}
		}
		root = doc.Content[0]
	}
	return root, nil
}

// decoder turns the YAML tree into a Definition, reporting what has the wrong shape. What
// is missing or refers to something unknown is the validator's business.
type decoder struct {
	origin string
	probs  []*Problem
	at     map[string]*yaml.Node // path → node, for the validator's line numbers
	// bad holds the paths whose value was lost (the validator stays silent about them);
	// damaged holds the top-level sections that lost something, so that the validator does
	// not report references into them as unknown.
	bad, damaged map[string]bool
}

func (dc *decoder) problem(n *yaml.Node, path, format string, args ...any) {
	p := &Problem{Origin: dc.origin, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	dc.probs = append(dc.probs, p)
}

// lost records that the value at path could not be read.
func (dc *decoder) lost(path string) {
	dc.bad[path] = true
	dc.damaged[section(path)] = true
}

// section is the top-level key path lies under.
func section(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// describe names what a node holds, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		switch n.Tag {
		case "!!str":
			return strconv.Quote(v)
		case "!!null":
			return "nothing"
		}
		return v
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// alias refuses anchors' aliases: a definition is meant to be read line by line.
func (dc *decoder) alias(n *yaml.Node, path string) bool {
	if n.Kind != yaml.AliasNode {
		return false
	}
	dc.problem(n, path, "aliases (*%s) are not supported; write the value out", n.Value)
	dc.lost(path)
	return true
}

type entry struct {
	key  string
	k, v *yaml.Node
}

// entries reads a mapping whose keys are names, refusing a key given twice.
func (dc *decoder) entries(n *yaml.Node, path string) []entry {
	if isNull(n) || dc.alias(n, path) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		dc.problem(n, path, "want key: value lines, got %s", describe(n))
		dc.lost(path)
		return nil
	}
	var out []entry
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			dc.problem(k, path, "key %s: want a name", describe(k))
			dc.lost(child(path, k.Value))
			continue
		}
		if f, dup := first[k.Value]; dup {
			dc.problem(k, child(path, k.Value), "%q is given twice (first on line %d)", k.Value, f.Line)
			dc.lost(child(path, k.Value))
			continue
		}
		first[k.Value] = k
		out = append(out, entry{key: k.Value, k: k, v: v})
	}
	return out
}

// fields reads a mapping with the given keys. A key given with no value counts as absent.
func (dc *decoder) fields(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for _, e := range dc.entries(n, path) {
		p := child(path, e.key)
		if !slices.Contains(known, e.key) {
			dc.problem(e.k, p, "unknown key %q; want one of %s", e.key, strings.Join(known, ", "))
			continue
		}
		if isNull(e.v) {
			continue
		}
		// A scalar is named by its value; a list or mapping, which may start on the next
		// line, by its key.
		if e.v.Kind == yaml.ScalarNode {
			dc.at[p] = e.v
		} else {
			dc.at[p] = e.k
		}
		out[e.key] = e.v
	}
	return out
}

func (dc *decoder) str(n *yaml.Node, path string) string {
	if n == nil || dc.alias(n, path) {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		dc.problem(n, path, "want a name or text, got %s", describe(n))
		dc.lost(path)
		return ""
	}
	return n.Value
}

// integer reads a whole number in min..max, reporting one outside as too large or small for
// any use; the validator checks the range that makes sense.
func (dc *decoder) integer(n *yaml.Node, path string, min, max int64) int64 {
	if n == nil || dc.alias(n, path) {
		return 0
	}
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		dc.problem(n, path, "want a whole number, got %s", describe(n))
		dc.lost(path)
		return 0
	}
	if v < min || v > max {
		dc.problem(n, path, "%d is out of range (%d to %d)", v, min, max)
		dc.lost(path)
		return 0
	}
	return v
}

func (dc *decoder) boolean(n *yaml.Node, path string) bool {
	if n == nil || dc.alias(n, path) {
		return false
	}
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		dc.problem(n, path, "want true or false, got %s", describe(n))
		dc.lost(path)
		return false
	}
	return v
}

// names reads a list of names. An item that is not a name is reported and kept as "" so
// that the paths of the others stay right.
func (dc *decoder) names(n *yaml.Node, path string) []string {
	if n == nil || dc.alias(n, path) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		dc.problem(n, path, "want a list such as [a, b], got %s", describe(n))
		dc.lost(path)
		return nil
	}
	out := make([]string, len(n.Content))
	for i, item := range n.Content {
		p := index(path, i)
		dc.at[p] = item
		out[i] = dc.str(item, p)
	}
	return out
}

var topKeys = []string{"version", "name", "title", "initial", "stages", "actions", "guards", "deadlines", "mends"}

func (dc *decoder) definition(root *yaml.Node) *Definition {
	d := &Definition{Origin: dc.origin}
	f := dc.fields(root, "", topKeys...)
	d.Version = int(dc.integer(f["version"], "version", math.MinInt32, math.MaxInt32))
	d.Name = dc.str(f["name"], "name")
	d.Title = dc.str(f["title"], "title")
	d.Initial = dc.str(f["initial"], "initial")
	if n := f["stages"]; n != nil && !dc.alias(n, "stages") {
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				d.Stages = append(d.Stages, dc.stage(item, index("stages", i)))
			}
		} else {
			dc.problem(n, "stages", "want a list of stages, one '- name: …' each, got %s", describe(n))
			dc.lost("stages")
		}
	}
	for _, e := range dc.entries(f["actions"], "actions") {
		d.Actions = append(d.Actions, dc.action(e))
	}
	for _, e := range dc.entries(f["guards"], "guards") {
		p := child("guards", e.key)
		dc.at[p] = e.k
		switch e.key {
		case GuardEndorsementRequired:
			d.Guards.EndorsementRequired = dc.threshold(e.v, p)
		case GuardTwoOfficers:
			d.Guards.TwoOfficers = dc.threshold(e.v, p)
		default:
			dc.problem(e.k, p, "unknown guard %q; want one of %s", e.key, strings.Join(KnownGuards, ", "))
		}
	}
	for _, e := range dc.entries(f["deadlines"], "deadlines") {
		d.Deadlines = append(d.Deadlines, dc.deadline(e))
	}
	if n := f["mends"]; n != nil && !dc.alias(n, "mends") {
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				d.Mends = append(d.Mends, int(dc.integer(item, index("mends", i), math.MinInt32, math.MaxInt32)))
			}
		} else {
			dc.problem(n, "mends", "want a list of earlier versions, such as [1], got %s", describe(n))
			dc.lost("mends")
		}
	}
	return d
}

func (dc *decoder) stage(n *yaml.Node, path string) Stage {
	dc.at[path] = n
	f := dc.fields(n, path, "name", "title", "terminal")
	return Stage{
		Name:     dc.str(f["name"], child(path, "name")),
		Title:    dc.str(f["title"], child(path, "title")),
		Terminal: dc.boolean(f["terminal"], child(path, "terminal")),
	}
}

func (dc *decoder) action(e entry) Action {
	p := child("actions", e.key)
	dc.at[p] = e.k
	f := dc.fields(e.v, p, "title", "creates", "from", "to", "roles", "guards")
	a := Action{
		Name:    e.key,
		Title:   dc.str(f["title"], child(p, "title")),
		Creates: dc.boolean(f["creates"], child(p, "creates")),
		From:    dc.names(f["from"], child(p, "from")),
		To:      dc.str(f["to"], child(p, "to")),
		Guards:  dc.names(f["guards"], child(p, "guards")),
	}
	for _, r := range dc.names(f["roles"], child(p, "roles")) {
		a.Roles = append(a.Roles, role.Role(r))
	}
	return a
}

func (dc *decoder) threshold(n *yaml.Node, path string) *Threshold {
	f := dc.fields(n, path, "above_vnd")
	p := child(path, "above_vnd")
	return &Threshold{AboveVND: money.VND(dc.integer(f["above_vnd"], p, math.MinInt64, math.MaxInt64))}
}

func (dc *decoder) deadline(e entry) Deadline {
	p := child("deadlines", e.key)
	dc.at[p] = e.k
	f := dc.fields(e.v, p, "title", "in", "after_days", "past", "flag")
	return Deadline{
		Name:      e.key,
		Title:     dc.str(f["title"], child(p, "title")),
		In:        dc.names(f["in"], child(p, "in")),
		AfterDays: int(dc.integer(f["after_days"], child(p, "after_days"), math.MinInt32, math.MaxInt32)),
		Past:      dc.str(f["past"], child(p, "past")),
		Flag:      dc.str(f["flag"], child(p, "flag")),
	}
}
