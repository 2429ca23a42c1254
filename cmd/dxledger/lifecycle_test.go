package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

type client struct {
	t     testing.TB
	base  string
	token string
}

type reply struct {
	code   int
	body   map[string]any
	raw    string
	header http.Header
}

func (c client) do(method, path string, body any, headers ...string) reply {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, raw: string(raw), header: resp.Header}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// must fails the test unless the reply has the wanted status.
func (r reply) must(t testing.TB, want int, what string) reply {
	t.Helper()
	if r.code != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.code, want, r.raw)
	}
	return r
}

func (r reply) str(key string) string { s, _ := r.body[key].(string); return s }

func (r reply) num(key string) int64 { f, _ := r.body[key].(float64); return int64(f) }

// A project's whole life over real HTTP against a real PostgreSQL: units and users by the
// administrator, a proposal by a department's focal point, a large funding request that
// needs the steering committee's endorsement, a partial approval, a disbursement, progress,
// completion and evaluation — with the refusals a demanding official would try on the way.
func TestProjectLifecycleOverHTTP(t *testing.T) {
	db := pgtest.New(t)
	const token = "lifecycle-bootstrap-token-0001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}

	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "register province")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-NNPTNT", "name": "Sở Nông nghiệp và Phát triển nông thôn", "kind": "department", "parent_code": "DT"}).must(t, 201, "register department")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}).must(t, 201, "register department")
	units := admin.do("GET", "/api/v1/units", nil).must(t, 200, "list units")
	if n := len(units.body["items"].([]any)); n != 3 {
		t.Fatalf("units: %d, want 3", n)
	}
	user := func(name, role, unit string) client {
		body := map[string]any{"name": name, "role": role}
		if unit != "" {
			body["unit_code"] = unit
		}
		r := admin.do("POST", "/api/v1/users", body).must(t, 201, "create "+role)
		return client{t, base, r.str("token")}
	}
	focal := user("Nguyễn Văn An", "focal_point", "SO-NNPTNT")
	otherFocal := user("Trần Thị Bình", "focal_point", "SO-YT")
	fin1 := user("Lê Văn Cường", "finance_officer", "")
	fin2 := user("Phạm Thị Dung", "finance_officer", "")
	bcd := user("Võ Văn Em", "steering_committee", "")

	users := admin.do("GET", "/api/v1/users", nil).must(t, 200, "list users")
	if strings.Contains(users.raw, "token") || strings.Contains(users.raw, "password") {
		t.Errorf("user list shows secrets: %s", users.raw)
	}
	focal.do("GET", "/api/v1/users", nil).must(t, 403, "focal point lists users")
	focal.do("GET", "/api/v1/models/duplicate-candidates", nil).must(t, 403, "focal point reviews duplicates")
	bcd.do("GET", "/api/v1/models/duplicate-candidates", nil).must(t, 200, "secretariat reviews duplicates")

	proposal := map[string]any{"title": "Nền tảng truy xuất nguồn gốc nông sản", "unit_code": "SO-NNPTNT", "pillar": "economy",
		"sector": "agriculture", "estimated_cost_vnd": 40_000_000_000, "start_date": ago(60), "end_date": ago(-365),
		"occurred_on": ago(60)}
	otherFocal.do("POST", "/api/v1/projects", proposal).must(t, 403, "another unit's focal point proposes for SO-NNPTNT")
	p := focal.do("POST", "/api/v1/projects", proposal).must(t, 201, "propose")
	id := p.str("id")
	if id == "" || p.num("version") != 1 {
		t.Fatalf("propose answered %s", p.raw)
	}
	path := "/api/v1/projects/" + id

	// A retry with the same Idempotency-Key returns the first answer and appends nothing.
	req := map[string]any{"source": "central_budget", "amount_vnd": 20_000_000_000, "year": 2022, "occurred_on": ago(55)}
	r1 := focal.do("POST", path+"/funding-requests", req, "Idempotency-Key", "req-1").must(t, 201, "request funding")
	r2 := focal.do("POST", path+"/funding-requests", req, "Idempotency-Key", "req-1").must(t, 201, "retry request funding")
	if r1.raw != r2.raw || r1.str("request_id") == "" {
		t.Fatalf("retry answered %s, first %s", r2.raw, r1.raw)
	}
	focal.do("POST", path+"/funding-requests", map[string]any{"source": "oda", "amount_vnd": 1, "year": 2022}, "Idempotency-Key", "req-1").
		must(t, 422, "same key, other body")
	rid := r1.str("request_id")
	otherFocal.do("POST", path+"/funding-requests", req).must(t, 403, "another unit's focal point asks for money")
	fin1.do("POST", path+"/progress", map[string]any{"percent": 10, "date": ago(50)}).must(t, 403, "finance reports progress")

	decision := path + "/funding-requests/" + rid + "/decision"
	fin1.do("POST", decision, map[string]any{"decision": "approve", "approved_vnd": 12_000_000_000, "occurred_on": ago(45)}).
		must(t, 422, "approve a 20 tỷ request before the committee endorsed it")
	bcd.do("POST", path+"/funding-requests/"+rid+"/endorsement", map[string]any{"note": "Đồng ý chủ trương", "occurred_on": ago(50)}).
		must(t, 200, "endorse")
	fin1.do("POST", decision, map[string]any{"decision": "approve", "approved_vnd": 25_000_000_000}).must(t, 422, "approve more than requested")
	fin1.do("POST", decision, map[string]any{"decision": "approve", "approved_vnd": 12_000_000_000, "occurred_on": ago(45)}).
		must(t, 200, "approve in part")
	fin2.do("POST", decision, map[string]any{"decision": "reject"}).must(t, 409, "decide the same request again")

	// If-Match pins the version: a stale one is a conflict.
	cur := focal.do("GET", path, nil).must(t, 200, "get")
	if cur.str("stage") != "funded" || cur.num("approved_vnd") != 12_000_000_000 || cur.num("gap_vnd") != 28_000_000_000 {
		t.Fatalf("after approval: %s", cur.raw)
	}
	v := cur.num("version")
	focal.do("POST", path+"/progress", map[string]any{"percent": 30, "date": ago(35)}, "If-Match", itoa(v-1)).must(t, 409, "stale If-Match")
	focal.do("POST", path+"/progress", map[string]any{"percent": 30, "date": ago(35)}, "If-Match", itoa(v)).must(t, 201, "progress")

	focal.do("POST", path+"/disbursements", map[string]any{"source": "central_budget", "amount_vnd": 13_000_000_000, "date": ago(30)}).
		must(t, 422, "disburse more than approved")
	focal.do("POST", path+"/disbursements", map[string]any{"source": "central_budget", "amount_vnd": 5_000_000_000, "date": ago(46)}).
		must(t, 422, "disburse before the approval")
	fin2.do("POST", path+"/disbursements", map[string]any{"source": "central_budget", "amount_vnd": 5_000_000_000, "date": ago(30)}).
		must(t, 201, "disburse")
	bcd.do("POST", path+"/evaluation", map[string]any{"rating": "effective", "score": 90}).must(t, 409, "evaluate before implemented")
	focal.do("POST", path+"/implemented", map[string]any{"date": ago(20), "note": "Đưa vào vận hành"}).must(t, 200, "implemented")
	bcd.do("POST", path+"/evaluation", map[string]any{"rating": "effective", "score": 90, "note": "Hiệu quả", "occurred_on": ago(10)}).
		must(t, 200, "evaluate")

	final := focal.do("GET", path, nil).must(t, 200, "get")
	if final.str("stage") != "evaluated" || final.num("disbursed_vnd") != 5_000_000_000 || final.num("progress") != 100 {
		t.Errorf("final state: %s", final.raw)
	}
	evs := focal.do("GET", path+"/events", nil).must(t, 200, "events")
	var list []map[string]any
	if err := json.Unmarshal([]byte(evs.raw), &list); err != nil {
		t.Fatalf("events are not a bare array: %s", evs.raw)
	}
	var types []string
	for _, e := range list {
		types = append(types, e["type"].(string))
		if e["actor"] == "" || e["occurred_on"] == nil || e["recorded_at"] == nil {
			t.Errorf("event without who/when: %v", e)
		}
	}
	want := "project.proposed.v2 project.funding_requested.v1 project.funding_endorsed.v1 project.funding_approved.v1 " +
		"project.progress_reported.v1 project.disbursed.v1 project.implemented.v1 project.evaluated.v1"
	if strings.Join(types, " ") != want {
		t.Errorf("events:\n got %s\nwant %s", strings.Join(types, " "), want)
	}
	if list[0]["occurred_on"] != ago(60) {
		t.Errorf("proposal's business date %v, want %s", list[0]["occurred_on"], ago(60))
	}

	// The steering committee's report, fed by the projections (which follow the store a moment
	// behind the writes).
	var gaps reply
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		gaps = bcd.do("GET", "/api/v1/reports/funding-gaps?group_by=unit", nil).must(t, 200, "funding gaps")
		if strings.Contains(gaps.raw, `"disbursed_vnd":5000000000`) {
			break
		}
	}
	wantRow := `{"key":"SO-NNPTNT","estimated_vnd":40000000000,"requested_vnd":20000000000,"approved_vnd":12000000000,"disbursed_vnd":5000000000,"gap_vnd":28000000000,"items_with_gap":1}`
	if !strings.Contains(gaps.raw, wantRow) {
		t.Errorf("funding gaps by unit:\n got %s\nwant a row %s", gaps.raw, wantRow)
	}
	before := bcd.do("GET", "/api/v1/reports/funding-gaps?group_by=unit&as_of="+ago(47), nil).must(t, 200, "funding gaps as of before the approval")
	if !strings.Contains(before.raw, `"approved_vnd":0`) || !strings.Contains(before.raw, `"requested_vnd":20000000000`) {
		t.Errorf("as of the day before the approval: %s", before.raw)
	}
	bcd.do("GET", "/api/v1/reports/funding-gaps?group_by=colour", nil).must(t, 400, "unknown group_by")
	bcd.do("GET", "/api/v1/reports/completion?group_by=unit&as_of=2022-02-30", nil).must(t, 400, "bad as_of")
	// The projections follow the store shortly after each write: wait for the evaluation.
	var done reply
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		done = bcd.do("GET", "/api/v1/reports/completion?group_by=unit&kind=project", nil).must(t, 200, "completion")
		if strings.Contains(done.raw, `"evaluated":1`) || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(done.raw, `"evaluated":1`) {
		t.Errorf("completion: %s", done.raw)
	}
}

// ago is the business date n days before today in the province (after, for negative n), so
// that no deadline falls due while the test runs.
func ago(n int) string {
	loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	return time.Now().In(loc).AddDate(0, 0, -n).Format(time.DateOnly)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBadInputChangesNothing(t *testing.T) {
	db := pgtest.New(t)
	const token = "bad-input-bootstrap-token-0001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "province")
	cases := []struct {
		name  string
		body  string
		code  int
		field string
	}{
		{"malformed JSON", `{"title":`, 400, ""},
		{"unknown field", `{"title":"x","unit_code":"DT","pillar":"economy","sector":"general","colour":"red"}`, 400, "colour"},
		{"fractional money", `{"title":"x","unit_code":"DT","pillar":"economy","sector":"general","estimated_cost_vnd":1.5}`, 400, "estimated_cost_vnd"},
		{"money as a string", `{"title":"x","unit_code":"DT","pillar":"economy","sector":"general","estimated_cost_vnd":"100"}`, 400, "estimated_cost_vnd"},
		{"overflowing money", `{"title":"x","unit_code":"DT","pillar":"economy","sector":"general","estimated_cost_vnd":99999999999999999999}`, 400, "estimated_cost_vnd"},
		{"money over the ceiling", `{"title":"x","unit_code":"DT","pillar":"economy","sector":"general","estimated_cost_vnd":9000000000000000000}`, 422, "estimated_cost_vnd"},
		{"negative money", `{"title":"x","unit_code":"DT","pillar":"economy","sector":"general","estimated_cost_vnd":-1}`, 422, "estimated_cost_vnd"},
		{"unknown pillar", `{"title":"x","unit_code":"DT","pillar":"space","sector":"general"}`, 422, "pillar"},
		{"empty title", `{"title":"   ","unit_code":"DT","pillar":"economy","sector":"general"}`, 422, "title"},
		{"impossible date", `{"title":"x","unit_code":"DT","pillar":"economy","sector":"general","start_date":"2023-02-30"}`, 400, "start_date"},
		{"future business date", `{"title":"x","unit_code":"DT","pillar":"economy","sector":"general","occurred_on":"2099-01-01"}`, 422, "occurred_on"},
		{"unknown unit", `{"title":"x","unit_code":"NOPE","pillar":"economy","sector":"general"}`, 422, "unit_code"},
		{"oversized body", `{"title":"` + strings.Repeat("a", 1<<20) + `"}`, 413, ""},
	}
	for _, c := range cases {
		r := admin.do("POST", "/api/v1/models", c.body)
		if r.code != c.code || r.body["status"] == nil {
			t.Errorf("%s: %d %s, want %d problem", c.name, r.code, r.raw, c.code)
			continue
		}
		if c.field != "" && !strings.Contains(r.raw, `"field":"`+c.field+`"`) {
			t.Errorf("%s: %s does not name %s", c.name, r.raw, c.field)
		}
	}
	var n int
	if err := db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE stream_id LIKE 'model-%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("events after refused writes: %d (%v), want 0", n, err)
	}
}
