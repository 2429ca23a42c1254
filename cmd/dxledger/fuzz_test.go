package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// FuzzWriteBodies throws arbitrary bodies at the write calls (invariant 8): never a 5xx, and a
// refused write records nothing. (The deadline manager may record a flag meanwhile: events of
// the system are not counted.)
func FuzzWriteBodies(f *testing.F) {
	for _, seed := range []string{
		`{"title":"Trạm y tế xã số","unit_code":"SO-YT","pillar":"society","sector":"health","estimated_cost_vnd":1000000000,"start_date":"2024-01-01","end_date":"2025-01-01"}`,
		`{"source":"oda","amount_vnd":5,"year":2024}`,
		`{"percent":50,"date":"2024-05-05"}`,
		`{"amount_vnd":1e3}`, `{"amount_vnd":"5"}`, `{"amount_vnd":-1}`, `{"amount_vnd":99999999999999999999999}`,
		`{"title":null}`, `[]`, `"x"`, `{`, ``, `{"title":"\u0000"}`, `{"start_date":"2024-02-30"}`,
		`{"occurred_on":"9999-12-31"}`, `{"year":1e9}`, "{\"title\":\"\xff\"}",
	} {
		f.Add(0, seed)
		f.Add(1, seed)
		f.Add(2, seed)
	}
	srv := startFuzzServer(f)
	f.Fuzz(func(t *testing.T, route int, body string) {
		paths := []string{"/api/v1/projects", "/api/v1/projects/" + srv.item + "/funding-requests",
			"/api/v1/projects/" + srv.item + "/progress"}
		path := paths[(route%len(paths)+len(paths))%len(paths)]
		var before int
		if err := srv.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE role <> 'system'`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", srv.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+srv.focal)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q: status %d", path, body, resp.StatusCode)
		}
		var after int
		if err := srv.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE role <> 'system'`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 400 && after != before {
			var typ, actor string
			_ = srv.db.Pool.QueryRow(context.Background(), `SELECT event_type, actor FROM events ORDER BY seq DESC LIMIT 1`).Scan(&typ, &actor)
			t.Fatalf("%s %q: refused with %d but %d events were recorded (last: %s by %s)", path, body, resp.StatusCode, after-before, typ, actor)
		}
	})
}

type fuzzServer struct {
	base, focal, item string
	db                *pgtest.DB
}

// startFuzzServer starts serve with a unit, a focal point and a project, for the whole fuzz run.
func startFuzzServer(t testing.TB) fuzzServer {
	db := pgtest.New(t)
	const token = "fuzz-bootstrap-token-000001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	focal := admin.do("POST", "/api/v1/users", map[string]any{"name": "Đầu mối", "role": "focal_point", "unit_code": "SO-YT"}).must(t, 201, "user").str("token")
	p := client{t, base, focal}.do("POST", "/api/v1/projects", map[string]any{"title": "Bệnh án điện tử", "unit_code": "SO-YT",
		"pillar": "society", "sector": "health", "estimated_cost_vnd": 5_000_000_000, "start_date": ago(30), "end_date": ago(-300),
		"occurred_on": ago(30)}).must(t, 201, "propose")
	return fuzzServer{base: base, focal: focal, item: p.str("id"), db: db}
}
