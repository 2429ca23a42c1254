package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// The terminal client against a running server: propose, request and decide funding, read
// the report as an aligned table, and see a refusal as the problem's title and detail. Each
// command is a process of its own, yet a report read right after a write includes it: the
// write's position is kept in a state file (XDG_STATE_HOME) for the next read to wait on. The
// projections are held back (a lock on their checkpoint row) across the decision, so that a
// read that does not wait shows the figures from before it.
func TestTerminalClient(t *testing.T) {
	db := pgtest.New(t)
	const token = "client-bootstrap-token-00001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-GDDT", "name": "Sở Giáo dục và Đào tạo", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	focal := admin.do("POST", "/api/v1/users", map[string]any{"name": "Đầu mối GD", "role": "focal_point", "unit_code": "SO-GDDT"}).must(t, 201, "user").str("token")
	fin := admin.do("POST", "/api/v1/users", map[string]any{"name": "Tài chính", "role": "finance_officer"}).must(t, 201, "user").str("token")

	state := t.TempDir()
	cli := func(tok string, args ...string) (string, error) {
		var out, errs strings.Builder
		err := run(context.Background(), args, []string{"DXLEDGER_API_URL=" + base, "DXLEDGER_TOKEN=" + tok, "XDG_STATE_HOME=" + state}, &out, &errs)
		if errs.Len() > 0 {
			t.Errorf("%v: stderr %q", args, errs.String())
		}
		return out.String(), err
	}
	out, err := cli(focal, "project", "propose", "--title", "Học liệu số", "--unit", "SO-GDDT", "--pillar", "society",
		"--sector", "education", "--estimated-cost-vnd", "9000000000", "--start-date", ago(20), "--end-date", ago(-200), "--occurred-on", ago(20))
	m := regexp.MustCompile(`project (\S+) proposed`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("propose: %v %q", err, out)
	}
	id := m[1]
	out, err = cli(focal, "funding", "request", "--project", id, "--source", "provincial_budget", "--amount-vnd", "6000000000", "--year", "2026", "--occurred-on", ago(10))
	r := regexp.MustCompile(`funding request (\S+) on`).FindStringSubmatch(out)
	if err != nil || r == nil {
		t.Fatalf("request: %v %q", err, out)
	}
	// The focal point's own request is in their next report.
	if table, err := cli(focal, "report", "funding-gaps", "--group-by", "unit"); err != nil || !strings.Contains(table, "6.000.000.000") {
		t.Fatalf("the focal point's report right after their request: %v\n%s", err, table)
	}
	_, err = cli(fin, "funding", "decide", "--project", id, "--request", r[1], "--decision", "approve", "--approved-vnd", "7000000000")
	if err == nil || !strings.Contains(err.Error(), "Unprocessable Entity (422)") || !strings.Contains(err.Error(), "approved_vnd") {
		t.Errorf("over-approval: err %v, want the problem's title, status and the field", err)
	}
	tx, err := db.Pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `SELECT 1 FROM projection_checkpoints WHERE name = 'items' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(1500 * time.Millisecond)
		tx.Rollback(context.Background())
	}()
	if _, err := cli(fin, "funding", "decide", "--project", id, "--request", r[1], "--decision", "approve", "--approved-vnd", "4000000000", "--occurred-on", ago(5)); err != nil {
		t.Fatalf("decide: %v", err)
	}
	if table, err := cli(fin, "report", "funding-gaps", "--group-by", "unit", "--no-wait"); err != nil || strings.Contains(table, "4.000.000.000") {
		t.Errorf("--no-wait while the projections are held: %v\n%s\nwant the figures from before the decision (else this test holds nothing back)", err, table)
	}
	table, err := cli(fin, "report", "funding-gaps", "--group-by", "unit")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\s*key\s+estimated_vnd\s+requested_vnd\s+approved_vnd\s+disbursed_vnd\s+gap_vnd\s+items_with_gap\s*$`),
		regexp.MustCompile(`^\s*SO-GDDT\s+9\.000\.000\.000\s+6\.000\.000\.000\s+4\.000\.000\.000\s+0\s+5\.000\.000\.000\s+1\s*$`),
		regexp.MustCompile(`^\s*total\s+9\.000\.000\.000\s+6\.000\.000\.000\s+4\.000\.000\.000\s+0\s+5\.000\.000\.000\s+1\s*$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("table:\n%s", table)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %s", i, lines[i], re)
		}
	}
	// Columns are aligned: every line is as wide as the header.
	for _, l := range lines[1:] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("misaligned table:\n%s", table)
			break
		}
	}
	js, err := cli(fin, "report", "funding-gaps", "--group-by", "source", "--json")
	if err != nil || !strings.Contains(js, `"key":"provincial_budget"`) {
		t.Errorf("--json: %v %s", err, js)
	}
	if _, err := cli("wrong-token", "report", "model-counts", "--group-by", "unit"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad token: %v, want the 401 problem", err)
	}

	// One state file for each user who wrote, the owner's alone, with no token in it.
	files, _ := filepath.Glob(filepath.Join(state, "dxledger", "positions", "*"))
	if len(files) != 2 {
		t.Fatalf("state files %q, want one for the focal point and one for the finance officer", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		fi, _ := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 || !strings.Contains(string(b), `"position":"`) {
			t.Errorf("state file %s: %v, mode %v, %s; want 0600 with a position", f, err, fi.Mode(), b)
		}
		for _, tok := range []string{token, focal, fin} {
			if strings.Contains(string(b), tok) {
				t.Errorf("state file %s holds a token: %s", f, b)
			}
		}
	}
}

// The HTTP load generator works against a running server (the figures are for BENCHMARKS.md,
// not for a test).
func TestBenchHTTPRuns(t *testing.T) {
	db := pgtest.New(t)
	const token = "benchhttp-bootstrap-token-01"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	env := []string{"DXLEDGER_API_URL=" + base, "DXLEDGER_TOKEN=" + token}
	for _, args := range [][]string{
		{"bench", "http", "--rate", "50", "--seconds", "1"},
		{"bench", "http", "--commands", "2", "--seconds", "1"},
	} {
		var out strings.Builder
		if err := run(context.Background(), args, env, &out, io.Discard); err != nil || !regexp.MustCompile(`\d+ requests in .* p99`).MatchString(out.String()) {
			t.Errorf("%v: %v %q", args, err, out.String())
		}
	}
}

// The terminal client's state: where it lives, and a position replaced atomically in a file
// its owner alone may read.
func TestTerminalClientStateFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		environ []string
		want    string
	}{
		{[]string{"HOME=/home/a", "XDG_STATE_HOME=/state"}, filepath.Join("/state", "dxledger")},
		{[]string{"HOME=/home/a", "XDG_STATE_HOME=relative"}, filepath.Join("/home/a", ".local", "state", "dxledger")},
		{[]string{"HOME=/home/a"}, filepath.Join("/home/a", ".local", "state", "dxledger")},
		{[]string{"XDG_STATE_HOME=/old", "XDG_STATE_HOME=/new"}, filepath.Join("/new", "dxledger")},
		{nil, ""},
	} {
		if got := stateDir(tc.environ); got != tc.want {
			t.Errorf("stateDir(%q) = %q, want %q", tc.environ, got, tc.want)
		}
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "positions", "f.json")
	if pos, err := loadPosition(path); pos != "" || err != nil {
		t.Errorf("no file yet: got %q, %v; want no position", pos, err)
	}
	for _, pos := range []string{"812/3", "900/0"} {
		if err := savePosition(path, "http://officer:hunter2@127.0.0.1:8080", pos); err != nil {
			t.Fatal(err)
		}
		if got, err := loadPosition(path); got != pos || err != nil {
			t.Errorf("after saving %q: got %q, %v", pos, got, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v, mode %v; want 0600", err, fi.Mode())
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "hunter2") {
		t.Errorf("state file keeps the URL's password: %s", b)
	}
	if left, _ := os.ReadDir(filepath.Dir(path)); len(left) != 1 {
		t.Errorf("files beside the state file: %v, want none (the temporary one is renamed)", left)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadPosition(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a broken state file: %v, want an error naming it", err)
	}
}
