package definition

import (
	"testing"

	"github.com/dxledger/dxledger/domain/role"
)

// FuzzParse checks that Parse never panics, that a refusal always names its problems, and
// that what it accepts is a definition Validate, Allowed and NewRegistry can work with.
func FuzzParse(f *testing.F) {
	f.Add(defaultYAML)
	for _, c := range brokenCases(f) {
		if len(c.src) <= 64<<10 {
			f.Add(c.src)
		}
	}
	f.Add([]byte("{version: 1, name: x, initial: proposed, stages: [{name: proposed}], actions: {propose: {creates: true, roles: [admin]}}}"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("version: !!binary aGVsbG8=\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := Parse(src, "fuzz.yaml")
		if err != nil {
			if d != nil {
				t.Fatalf("Parse returned a definition with its error %v", err)
			}
			probs := Problems(err)
			if len(probs) == 0 {
				t.Fatalf("Parse error without problems: %v", err)
			}
			for _, p := range probs {
				if p.Origin != "fuzz.yaml" || p.Msg == "" || p.Line < 0 {
					t.Fatalf("badly formed problem %+v", p)
				}
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		if _, err := NewRegistry(d); err != nil {
			t.Fatalf("NewRegistry refused what Parse accepted: %v", err)
		}
		stages := []string{""}
		for _, s := range d.Stages {
			stages = append(stages, s.Name)
		}
		for _, a := range d.Actions {
			for _, from := range stages {
				for _, r := range role.All {
					to, err := d.Allowed(a.Name, from, r)
					if err != nil || to == Previous {
						continue
					}
					if _, ok := d.Stage(to); !ok {
						t.Fatalf("Allowed(%q, %q, %q) = %q, not a stage of the definition", a.Name, from, r, to)
					}
				}
			}
		}
	})
}
