package projections

import (
	"os/exec"
	"strings"
	"testing"
)

// The three rooms of the read side: the runner knows no read model and no query; the read
// models know no query; the queries read the read models' tables and never run them.
func TestRooms(t *testing.T) {
	t.Parallel()
	const mod = "github.com/dxledger/dxledger/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"projections/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := map[string][]string{
		"projections/projector": {"projections", "projections/readmodel"},
		"projections/readmodel": {"projections"},
		"projections":           {"projections/projector"},
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		bad, ok := forbidden[pkg]
		if !ok {
			continue
		}
		seen++
		for _, imp := range f[1:] {
			for _, b := range bad {
				if imp == mod+b {
					t.Errorf("%s imports %s", pkg, b)
				}
			}
		}
	}
	if seen != len(forbidden) {
		t.Fatalf("go list listed %d of the %d packages: the test would check less than it says\n%s", seen, len(forbidden), out)
	}
}
