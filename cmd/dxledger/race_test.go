package main

import (
	"strconv"
	"sync"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// 50 clients race If-Match on one project: exactly one wins each version, the rest get 409;
// 20 concurrent retries of one Idempotency-Key append once and all get the same answer.
func TestRacesOverHTTP(t *testing.T) {
	db := pgtest.New(t)
	const token = "race-bootstrap-token-000001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	focal := client{t, base, admin.do("POST", "/api/v1/users", map[string]any{"name": "Đầu mối Sở Y tế", "role": "focal_point", "unit_code": "SO-YT"}).must(t, 201, "user").str("token")}
	p := focal.do("POST", "/api/v1/projects", map[string]any{"title": "Bệnh án điện tử", "unit_code": "SO-YT", "pillar": "society",
		"sector": "health", "estimated_cost_vnd": 5_000_000_000, "start_date": ago(30), "end_date": ago(-300), "occurred_on": ago(30)}).must(t, 201, "propose")
	path := "/api/v1/projects/" + p.str("id")

	for round := int64(1); round <= 3; round++ {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			codes = map[int]int{}
		)
		for c := 0; c < 50; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := focal.do("POST", path+"/funding-requests", map[string]any{"source": "provincial_budget", "amount_vnd": 1_000_000 + c, "year": 2025},
					"If-Match", strconv.FormatInt(round, 10))
				mu.Lock()
				codes[r.code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[201] != 1 || codes[409] != 49 {
			t.Fatalf("round %d: status counts %v, want one 201 and 49 409", round, codes)
		}
	}

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		answers = map[string]int{}
	)
	for c := 0; c < 20; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := focal.do("POST", path+"/funding-requests", map[string]any{"source": "oda", "amount_vnd": 7_000_000, "year": 2025},
				"Idempotency-Key", "request-once")
			mu.Lock()
			answers[strconv.Itoa(r.code)+" "+r.raw]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(answers) != 1 {
		t.Errorf("concurrent retries got different answers: %v", answers)
	}
	var n int
	for a := range answers {
		if a[:3] != "201" {
			t.Errorf("retries answered %s, want 201", a)
		}
	}
	if err := db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE data->>'source' = 'oda'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("oda requests after 20 concurrent retries: %d (%v), want 1", n, err)
	}
}
