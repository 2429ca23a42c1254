package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// "Same as" never forms a loop (DESIGN.md, invariant 14): M1 → M2 and M2 → M3 are accepted,
// M3 → M1 (through M2) and M2 → M1 (straight back) are 409, and the distinct count is
// registrations less the markings, whatever their order.
func TestSameAsCannotCloseALoop(t *testing.T) {
	db := pgtest.New(t)
	const token = "sameas-bootstrap-token-0000001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	rs := readSide{t, client{t, base, token}}
	rs.admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "province")
	m1, _ := rs.propose("Chợ số")
	m2, _ := rs.propose("Chợ 4.0")
	m3, _ := rs.propose("Chợ không tiền mặt")
	var pos string
	mark := func(from, to string, want int) {
		t.Helper()
		r := rs.admin.do("POST", "/api/v1/models/"+from+"/same-as", map[string]any{"model_id": to})
		if r.code != want {
			t.Fatalf("mark %s same as %s: %d %s, want %d", from, to, r.code, r.raw, want)
		}
		if want == 409 && r.body["status"] == nil {
			t.Errorf("a refused loop is not a problem: %s", r.raw)
		}
		if want == 200 {
			pos = r.header.Get("Dxledger-Position")
		}
	}
	mark(m1, m2, 200)
	mark(m2, m3, 200)
	mark(m3, m1, 409)
	mark(m2, m1, 409)
	mark(m3, m2, 409)
	mark(m1, m2, 200) // already so: nothing new, and still answered with a position
	distinct := func(what string, want float64) {
		t.Helper()
		regs, _ := rs.counts(pos)
		total := rs.admin.do("GET", "/api/v1/reports/model-counts?group_by=unit", nil, "Dxledger-Min-Position", pos).must(t, 200, "counts")
		tot, _ := total.body["total"].(map[string]any)
		if regs != 3 || tot["distinct_models"] != want {
			t.Errorf("%s: %d registrations, %v distinct; want 3, %v", what, regs, tot["distinct_models"], want)
		}
	}
	distinct("after M1 → M2 → M3", 1)

	// A marking made by mistake is undone, as an event; the model counts again, and the
	// marking the loop had refused is now allowed.
	unmark := rs.admin.do("DELETE", "/api/v1/models/"+m2+"/same-as", nil).must(t, 200, "undo M2 → M3")
	pos = unmark.header.Get("Dxledger-Position")
	distinct("after undoing M2 → M3", 2)
	events := rs.admin.do("GET", "/api/v1/models/"+m2+"/events", nil).must(t, 200, "M2's events")
	if !strings.Contains(events.raw, "same_as_unmarked") {
		t.Errorf("the undoing is not an event of M2: %s", events.raw)
	}
	mark(m3, m1, 200)
	distinct("after M3 → M1", 1)
	// The secretariat undoes it on the model's page.
	rs.admin.do("POST", "/api/v1/users", map[string]any{"name": "Thư ký BCĐ", "role": "steering_committee",
		"password": "mat-khau-thu-ky-1"}).must(t, 201, "a secretary")
	web := signIn(t, base, "Thư ký BCĐ", "mat-khau-thu-ky-1")
	after := web.submit(web.get("/items/model/"+m3), "form-unmark")
	if strings.Contains(after, `id="form-unmark"`) {
		t.Errorf("after undoing on the page, the model still shows the marking")
	}
	m := regexp.MustCompile(`min_position=([0-9]+%2F[0-9]+)`).FindStringSubmatch(after)
	_ = m
	pos = rs.admin.do("POST", "/api/v1/models/"+m1+"/same-as", map[string]any{"model_id": m2}).must(t, 200, "a no-op marking, for a position").header.Get("Dxledger-Position")
	distinct("after undoing M3 → M1 on the page", 2)
	rs.admin.do("DELETE", "/api/v1/models/"+m2+"/same-as", nil).must(t, 200, "undo what is not marked: nothing to do")
	focal := rs.admin.do("POST", "/api/v1/users", map[string]any{"name": "Cán bộ", "role": "focal_point", "unit_code": "DT"}).must(t, 201, "a focal point")
	(client{t, base, focal.str("token")}).do("DELETE", "/api/v1/models/"+m1+"/same-as", nil).must(t, 403, "a focal point undoing a marking")
}
