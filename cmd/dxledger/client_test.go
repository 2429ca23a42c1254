package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// The terminal client against a running server: propose, request and decide funding, read
// the report as an aligned table, and see a refusal as the problem's title and detail.
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

	cli := func(tok string, args ...string) (string, error) {
		var out strings.Builder
		err := run(context.Background(), args, []string{"DXLEDGER_API_URL=" + base, "DXLEDGER_TOKEN=" + tok}, &out, io.Discard)
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
	_, err = cli(fin, "funding", "decide", "--project", id, "--request", r[1], "--decision", "approve", "--approved-vnd", "7000000000")
	if err == nil || !strings.Contains(err.Error(), "Unprocessable Entity (422)") || !strings.Contains(err.Error(), "approved_vnd") {
		t.Errorf("over-approval: err %v, want the problem's title, status and the field", err)
	}
	if _, err := cli(fin, "funding", "decide", "--project", id, "--request", r[1], "--decision", "approve", "--approved-vnd", "4000000000", "--occurred-on", ago(5)); err != nil {
		t.Fatalf("decide: %v", err)
	}
	var table string
	// The projections follow the store shortly after the decision: wait for them, by the clock
	// (a cached report answers in a millisecond, so counting tries is no wait at all).
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(table, "4.000.000.000") && time.Now().Before(deadline); {
		table, err = cli(fin, "report", "funding-gaps", "--group-by", "unit")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
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
