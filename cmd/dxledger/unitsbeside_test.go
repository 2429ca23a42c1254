package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// Two serving processes on one database (API.md, "Operations"): a unit registered, merged or
// split through one is seen by the other within seconds — in its unit list and in what it
// decides (a proposal for the new unit, a registration under it) — without a restart.
func TestUnitsSeenByAnotherProcess(t *testing.T) {
	db := pgtest.New(t)
	const token = "beside-bootstrap-token-000001"
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token}
	baseA, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	a := client{t, baseA, token}
	a.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province", "occurred_on": "2022-01-01"}).must(t, 201, "province through A")

	// B: the real binary, a second process.
	bin := dxledgerBinary(t)
	other := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	other.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	stdout, err := other.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	other.Stderr = &stderr
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	b := client{t, waitListening(t, stdout, &stderr), token}

	// B reads its directory now, before A's unit commands.
	if got := unitSuccessors(b); !slices.Equal(got["DT"], []string{}) || len(got) != 1 {
		t.Fatalf("B's units at first: %v, want DT alone", got)
	}
	for _, u := range []string{"SO-A", "SO-B", "SO-C", "SO-D"} {
		a.do("POST", "/api/v1/units", map[string]any{"code": u, "name": "Sở " + u, "kind": "department", "parent_code": "DT",
			"occurred_on": "2022-01-01"}).must(t, 201, u+" through A")
	}
	m := a.do("POST", "/api/v1/models", map[string]any{"title": "Nền tảng số", "unit_code": "SO-C", "pillar": "economy",
		"sector": "commerce"}).must(t, 201, "a model of SO-C through A").str("id")
	a.do("POST", "/api/v1/units/SO-A/merge", map[string]any{"into_code": "SO-B", "effective_date": "2025-07-01"}).must(t, 200, "merge through A")
	a.do("POST", "/api/v1/units/SO-C/split", map[string]any{"effective_date": "2025-07-01",
		"parts": []map[string]any{{"into_code": "SO-D", "item_ids": []string{m}}}, "rest_into_code": "SO-B"}).must(t, 200, "split through A")

	start := time.Now()
	want := map[string][]string{"DT": {}, "SO-A": {"SO-B"}, "SO-B": {}, "SO-C": {"SO-D", "SO-B"}, "SO-D": {}}
	for got := unitSuccessors(b); !equalSuccessors(got, want); got = unitSuccessors(b) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("B's units 5 s after A's unit commands: %v, want %v", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("B saw A's unit commands after %v", time.Since(start).Round(time.Millisecond))
	// B decides on them: a proposal for a unit A registered, one for the unit A merged away.
	b.do("POST", "/api/v1/models", map[string]any{"title": "Bệnh án điện tử", "unit_code": "SO-D", "pillar": "society",
		"sector": "health"}).must(t, 201, "a model of SO-D through B")
	if r := b.do("POST", "/api/v1/models", map[string]any{"title": "Sổ tay", "unit_code": "SO-A", "pillar": "society",
		"sector": "health", "occurred_on": "2025-08-01"}); r.code != 422 || !strings.Contains(r.raw, "unit_code") {
		t.Fatalf("B proposes for SO-A, merged away by A: %d %s, want 422 naming unit_code", r.code, r.raw)
	}

	// And the other way: a unit B registers under one A registered is seen by A.
	b.do("POST", "/api/v1/units", map[string]any{"code": "SO-E", "name": "Sở SO-E", "kind": "department", "parent_code": "DT",
		"occurred_on": "2022-01-01"}).must(t, 201, "SO-E through B")
	start = time.Now()
	for _, ok := unitSuccessors(a)["SO-E"]; !ok; _, ok = unitSuccessors(a)["SO-E"] {
		if time.Since(start) > 5*time.Second {
			t.Fatal("A does not list SO-E 5 s after B registered it")
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.do("POST", "/api/v1/units/SO-E/merge", map[string]any{"into_code": "SO-D", "effective_date": "2026-01-01"}).must(t, 200, "A merges B's unit")
}

// unitSuccessors is GET /api/v1/units as each unit's successors.
func unitSuccessors(c client) map[string][]string {
	r := c.do("GET", "/api/v1/units", nil).must(c.t, 200, "units")
	out := map[string][]string{}
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		u, _ := it.(map[string]any)
		code, _ := u["code"].(string)
		succ := []string{}
		if s, ok := u["successors"].([]any); ok {
			for _, x := range s {
				succ = append(succ, x.(string))
			}
		} else if s, ok := u["successor_code"].(string); ok && s != "" {
			succ = append(succ, s)
		}
		out[code] = succ
	}
	return out
}

func equalSuccessors(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}
