package dti

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPure checks that the package stays pure domain code: the standard library and
// dxledger's domain packages only, never a database or the network.
func TestPure(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		path, standard, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch {
		case strings.HasPrefix(path, "github.com/jackc/pgx"), path == "net/http", path == "database/sql":
			t.Errorf("imports %s, want no database or network package in domain code", path)
		case standard != "true" && !strings.HasPrefix(path, "github.com/dxledger/dxledger/domain/"):
			t.Errorf("imports %s, want only the standard library and domain/ packages", path)
		}
	}
}
