package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The layers' import rules (STYLE.md, "Layout"): the domain is pure; httpapi and webui reach
// the store only through workflows and projections; only cmd reads config; only config uses
// viper; the benchmarks (internal/bench) are cmd's alone and take their settings as options.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/dxledger/dxledger/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/dxledger/dxledger/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, imports := strings.TrimPrefix(f[0], mod), f[1:]
		for _, imp := range imports {
			switch {
			case strings.HasPrefix(pkg, "domain/") && !strings.HasPrefix(imp, mod+"domain/") && strings.Contains(imp, "."):
				t.Errorf("%s imports %s: the domain imports only the standard library and itself", pkg, imp)
			case (strings.HasPrefix(pkg, "httpapi") || strings.HasPrefix(pkg, "webui")) &&
				(imp == mod+"eventstore" || strings.HasPrefix(imp, "github.com/jackc/pgx")):
				t.Errorf("%s imports %s: adapters go through workflows and projections", pkg, imp)
			case imp == mod+"config" && !strings.HasPrefix(pkg, "cmd/"):
				t.Errorf("%s imports config: only cmd reads configuration", pkg)
			case imp == mod+"internal/bench" && !strings.HasPrefix(pkg, "cmd/"):
				t.Errorf("%s imports internal/bench: only cmd runs the benchmarks", pkg)
			case strings.HasPrefix(imp, "github.com/spf13/viper") && pkg != "config":
				t.Errorf("%s imports viper: only config does", pkg)
			}
		}
	}
	for _, pkg := range []string{"httpapi", "internal/bench"} {
		if !slices.ContainsFunc(strings.Split(string(out), "\n"), func(l string) bool { return strings.HasPrefix(l, mod+pkg+" ") }) {
			t.Fatalf("go list did not list %s: the test would check nothing", pkg)
		}
	}
}
