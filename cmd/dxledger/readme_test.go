package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// The README's curl walk-through works on the demo's data (issue 12 point 8): its block is run
// as written by bash and curl against `dxledger demo`, each POST's status logged. Only the
// two unit registrations (409: the demo has them) and the call the README marks 422 may fail,
// and the project ends evaluated.
func TestReadmeWalkThroughOnDemo(t *testing.T) {
	t.Parallel() // a long end-to-end test on its own database and server: it overlaps another's waits
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on this machine")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "## Walk a project through its life with curl")
	block := text[start:]
	block = block[strings.Index(block, "```sh\n")+len("```sh\n"):]
	block = block[:strings.Index(block, "```")]

	const token = "readme-walk-bootstrap-token-0001"
	db := pgtest.New(t)
	base, _, stop := runDemo(t, db.URL, "DXLEDGER_BOOTSTRAP_TOKEN="+token)
	defer stop()

	log := filepath.Join(t.TempDir(), "statuses")
	var script []string
	for _, line := range strings.Split(block, "\n") {
		switch {
		case strings.HasPrefix(line, "go run "), strings.HasPrefix(line, "export DXLEDGER_BOOTSTRAP_TOKEN"):
			continue // the test's demo server is already running with its own token
		case strings.HasPrefix(line, "API="):
			line = "API=" + base + "/api/v1"
		case strings.HasPrefix(line, "post() {"):
			// The README's post, and the status of each call logged beside its path.
			script = append(script, line)
			line = `post() { out=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' "$API$2" -d "$3"); ` +
				`echo "${out##*$'\n'} $2" >> "$STATUS_LOG"; printf '%s' "${out%$'\n'*}"; }`
		}
		script = append(script, line)
	}
	cmd := exec.Command("bash", "-c", strings.Join(script, "\n"))
	cmd.Env = append(os.Environ(), "DXLEDGER_BOOTSTRAP_TOKEN="+token, "STATUS_LOG="+log)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walk-through failed: %v\n%s", err, out)
	}
	statuses, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	marked422 := 0
	for _, line := range strings.Split(strings.TrimSpace(string(statuses)), "\n") {
		code, path, _ := strings.Cut(line, " ")
		switch {
		case strings.HasPrefix(code, "2"):
		case code == "409" && path == "/units":
		case code == "422" && strings.HasSuffix(path, "/decision") && marked422 == 0:
			marked422++ // the README's "# 422: needs endorsement"
		default:
			t.Errorf("POST %s answered %s on the demo's data", path, code)
		}
	}
	if marked422 != 1 {
		t.Errorf("the decision before the endorsement was not refused with 422 (%d)", marked422)
	}
	if !strings.Contains(string(out), `"stage":"evaluated"`) {
		t.Errorf("the project did not end evaluated:\n%s", out)
	}
}
