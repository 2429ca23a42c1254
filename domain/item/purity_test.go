package item

import (
	"os/exec"
	"strings"
	"testing"
)

// The domain is pure: no database, no network, no SQL (STYLE.md, "Domain code").
func TestDomainImportsNoInfrastructure(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/dxledger/dxledger/domain/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/jackc/pgx", "net/http", "database/sql", "github.com/dxledger/dxledger/eventstore"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("domain depends on %s", dep)
			}
		}
	}
}
