package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// A unit's merge accepts occurred_on as every write does (API.md, "Conventions"): the day the
// merger was decided, recorded as the event's business date beside its effective date; a day
// in the future is refused naming the field.
func TestMergeAcceptsOccurredOn(t *testing.T) {
	db := pgtest.New(t)
	const token = "units-bootstrap-token-00000001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province", "occurred_on": "2022-01-01"}).must(t, 201, "province")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-TNMT", "name": "Sở Tài nguyên và Môi trường", "kind": "department",
		"parent_code": "DT", "occurred_on": "2022-01-01"}).must(t, 201, "a department")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-NNMT", "name": "Sở Nông nghiệp và Môi trường", "kind": "department",
		"parent_code": "DT", "occurred_on": "2022-01-01"}).must(t, 201, "its successor")
	future := time.Now().AddDate(0, 0, 3).Format("2006-01-02")
	r := admin.do("POST", "/api/v1/units/SO-TNMT/merge", map[string]any{"into_code": "SO-NNMT", "effective_date": "2025-03-01", "occurred_on": future})
	if r.code != 422 || !strings.Contains(r.raw, `"field":"occurred_on"`) {
		t.Fatalf("a merge decided in the future: %d %s, want 422 naming occurred_on", r.code, r.raw)
	}
	admin.do("POST", "/api/v1/units/SO-TNMT/merge", map[string]any{"into_code": "SO-NNMT", "effective_date": "2025-03-01",
		"occurred_on": "2025-02-20"}).must(t, 200, "a merge decided on 20/02/2025")
	var on time.Time
	if err := db.Pool.QueryRow(t.Context(), `SELECT occurred_on FROM events WHERE stream_id LIKE '%SO-TNMT%' ORDER BY version DESC LIMIT 1`).Scan(&on); err != nil {
		t.Fatal(err)
	}
	if got := on.Format("2006-01-02"); got != "2025-02-20" {
		t.Errorf("the merge's business date is %s, want 2025-02-20", got)
	}
}
