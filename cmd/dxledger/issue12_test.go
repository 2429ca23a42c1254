package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// Issue 12 over real HTTP: a model that needs no separate state funding is funded, reports
// progress, is implemented and evaluated, with no gap; an item of workflow version 1 moves to
// version 2 only by an explicit, recorded request of someone version 2 names; a disbursement
// names the request it draws on and counts in its budget year; nothing is dated before the
// fact it depends on (DESIGN.md invariant 13); cancelled items are left out of the average
// progress; source rows have no items_with_gap; and no client can set when a fact was recorded.
func TestIssue12OverHTTP(t *testing.T) {
	db := pgtest.New(t)
	const token = "issue12-bootstrap-token-00001"
	started := time.Now()
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	for _, u := range []map[string]any{{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"},
		{"code": "SO-CT", "name": "Sở Công Thương", "kind": "department", "parent_code": "DT"},
		{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}} {
		admin.do("POST", "/api/v1/units", u).must(t, 201, "register unit")
	}
	user := func(name, role, unit string) client {
		body := map[string]any{"name": name, "role": role}
		if unit != "" {
			body["unit_code"] = unit
		}
		return client{t, base, admin.do("POST", "/api/v1/users", body).must(t, 201, "create "+role).str("token")}
	}
	focal := user("Cán bộ Sở Công Thương", "focal_point", "SO-CT")
	other := user("Cán bộ Sở Y tế", "focal_point", "SO-YT")
	fin := user("Cán bộ Sở Tài chính", "finance_officer", "")
	bcd := user("Tổ giúp việc", "steering_committee", "")

	// Point 1: a model carried out by an enterprise partner, at no cost to the state.
	m := focal.do("POST", "/api/v1/models", map[string]any{"title": "Đưa hợp tác xã lên sàn thương mại điện tử", "unit_code": "SO-CT",
		"pillar": "economy", "sector": "commerce", "estimated_cost_vnd": 2_000_000_000, "occurred_on": ago(100)}).must(t, 201, "propose")
	path := "/api/v1/models/" + m.str("id")
	other.do("POST", path+"/own-funding", map[string]any{"means": "enterprise"}).must(t, 403, "another unit's focal point")
	bad := focal.do("POST", path+"/own-funding", map[string]any{"means": "lottery"}).must(t, 422, "unknown means")
	if !strings.Contains(bad.raw, `"field":"means"`) {
		t.Errorf("unknown means: %s", bad.raw)
	}
	focal.do("POST", path+"/progress", map[string]any{"percent": 10, "date": ago(95)}).must(t, 409, "progress while proposed")
	focal.do("POST", path+"/own-funding", map[string]any{"means": "enterprise", "note": "Sàn TMĐT hỗ trợ", "occurred_on": ago(90)}).
		must(t, 200, "own funding")
	focal.do("POST", path+"/own-funding", map[string]any{"means": "reuse"}).must(t, 409, "own funding twice")
	got := focal.do("GET", path, nil).must(t, 200, "get")
	if got.str("stage") != "funded" || got.str("own_funding") != "enterprise" || got.num("gap_vnd") != 0 || got.num("workflow_version") != 2 {
		t.Fatalf("after own funding: %s", got.raw)
	}
	want := `{"key":"SO-CT","estimated_vnd":2000000000,"requested_vnd":0,"approved_vnd":0,"disbursed_vnd":0,"gap_vnd":0,"items_with_gap":0}`
	waitReport(t, admin, "/api/v1/reports/funding-gaps?group_by=unit", want)
	waitReport(t, admin, "/api/v1/reports/completion?kind=model&group_by=unit", `{"key":"SO-CT","proposed":0,"funded":1`)
	var listed struct {
		Items []struct {
			ID  string `json:"id"`
			Gap int64  `json:"gap_vnd"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(admin.do("GET", "/api/v1/models?unit_code=SO-CT", nil).must(t, 200, "list").raw), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.Items) != 1 || listed.Items[0].Gap != 0 {
		t.Errorf("the unit's list shows a gap for the model carried out without state money: %+v", listed.Items)
	}
	focal.do("POST", path+"/progress", map[string]any{"percent": 60, "date": ago(40)}).must(t, 201, "progress")
	focal.do("POST", path+"/implemented", map[string]any{"date": ago(20)}).must(t, 200, "implemented")
	bcd.do("POST", path+"/evaluation", map[string]any{"rating": "effective", "score": 90}).must(t, 200, "evaluated")
	waitReport(t, admin, "/api/v1/reports/completion?kind=model&group_by=unit", `"evaluated":1`)

	// Point 1, the move: an item of version 1 (entered before version 2; written to the store
	// here, as the API now starts every item under version 2).
	store, err := eventstore.New(db.Pool, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const oldID = "01OLDVERSION000000000000000"
	if _, err := store.Append(context.Background(), "model-"+oldID, eventstore.NoStream, []eventstore.Event{{Type: "model.proposed.v2",
		Data:     []byte(`{"id":"` + oldID + `","kind":"model","title":"Chợ 4.0","unit_code":"SO-CT","pillar":"economy","sector":"commerce","estimated_cost_vnd":0,"start_date":null,"end_date":null,"workflow_version":1,"stage":"proposed"}`),
		Metadata: eventstore.Metadata{Actor: "test", Role: "focal_point", OccurredOn: time.Now().AddDate(0, 0, -300)}}}); err != nil {
		t.Fatal(err)
	}
	old := "/api/v1/models/" + oldID
	focal.do("POST", old+"/own-funding", map[string]any{"means": "enterprise"}).must(t, 409, "own funding under version 1")
	focal.do("POST", old+"/workflow-version", map[string]any{"version": 2, "note": "sửa quy trình"}).must(t, 403, "a focal point moves it")
	if r := bcd.do("POST", old+"/workflow-version", map[string]any{"version": 2}).must(t, 400, "without a note"); !strings.Contains(r.raw, `"field":"note"`) {
		t.Errorf("without a note: %s", r.raw)
	}
	bcd.do("POST", old+"/workflow-version", map[string]any{"version": 3, "note": "x"}).must(t, 422, "a version not loaded")
	bcd.do("POST", old+"/workflow-version", map[string]any{"version": 2, "note": "Quy trình phiên bản 2 sửa quy định sai của phiên bản 1"}).
		must(t, 200, "move to version 2")
	bcd.do("POST", old+"/workflow-version", map[string]any{"version": 2, "note": "lần nữa"}).must(t, 422, "move again")
	if v := bcd.do("GET", old, nil).must(t, 200, "get old"); v.num("workflow_version") != 2 || v.str("stage") != "proposed" {
		t.Errorf("after the move: %s", v.raw)
	}
	evs := bcd.do("GET", old+"/events", nil).must(t, 200, "events")
	if !strings.Contains(evs.raw, `"type":"model.workflow_version_changed.v1"`) || !strings.Contains(evs.raw, `"from":1,"to":2`) {
		t.Errorf("the move is not on the item's history: %s", evs.raw)
	}
	focal.do("POST", old+"/own-funding", map[string]any{"means": "enterprise"}).must(t, 200, "own funding under version 2")

	// Point 2 and invariant 13, on a project with two requests of one source, two budget years.
	p := focal.do("POST", "/api/v1/projects", map[string]any{"title": "Sàn giao dịch nông sản", "unit_code": "SO-CT", "pillar": "economy",
		"sector": "commerce", "estimated_cost_vnd": 10_000_000_000, "start_date": ago(200), "end_date": ago(-200), "occurred_on": ago(200)}).
		must(t, 201, "propose project")
	pp := "/api/v1/projects/" + p.str("id")
	r1 := focal.do("POST", pp+"/funding-requests", map[string]any{"source": "provincial_budget", "amount_vnd": 4_000_000_000, "year": 2024, "occurred_on": ago(190)}).
		must(t, 201, "request 2024").str("request_id")
	r2 := focal.do("POST", pp+"/funding-requests", map[string]any{"source": "provincial_budget", "amount_vnd": 3_000_000_000, "year": 2025, "occurred_on": ago(150)}).
		must(t, 201, "request 2025").str("request_id")
	// An approval dated before its request is refused (invariant 13).
	if r := fin.do("POST", pp+"/funding-requests/"+r2+"/decision", map[string]any{"decision": "approve", "approved_vnd": 3_000_000_000, "occurred_on": ago(160)}).
		must(t, 422, "approve before the request"); !strings.Contains(r.raw, `"field":"occurred_on"`) {
		t.Errorf("approval before its request: %s", r.raw)
	}
	fin.do("POST", pp+"/funding-requests/"+r1+"/decision", map[string]any{"decision": "approve", "approved_vnd": 4_000_000_000, "occurred_on": ago(180)}).must(t, 200, "approve r1")
	fin.do("POST", pp+"/funding-requests/"+r2+"/decision", map[string]any{"decision": "approve", "approved_vnd": 3_000_000_000, "occurred_on": ago(140)}).must(t, 200, "approve r2")
	// A payment dated before the approval of the request it names is refused (invariant 13).
	if r := fin.do("POST", pp+"/disbursements", map[string]any{"request_id": r2, "amount_vnd": 1_000_000_000, "date": ago(145)}).
		must(t, 422, "pay before the approval"); !strings.Contains(r.raw, `"field":"date"`) {
		t.Errorf("payment before its approval: %s", r.raw)
	}
	fin.do("POST", pp+"/disbursements", map[string]any{"request_id": "01NOSUCHREQUEST00000000000", "amount_vnd": 1, "date": ago(100)}).must(t, 422, "unknown request")
	fin.do("POST", pp+"/disbursements", map[string]any{"request_id": r2, "source": "central_budget", "amount_vnd": 1, "date": ago(100)}).must(t, 422, "another source")
	fin.do("POST", pp+"/disbursements", map[string]any{"request_id": r2, "amount_vnd": 3_000_000_001, "date": ago(100)}).must(t, 422, "more than the request")
	// Paid in the later calendar year from the earlier budget year's request, and the other way.
	fin.do("POST", pp+"/disbursements", map[string]any{"request_id": r2, "amount_vnd": 2_000_000_000, "date": ago(100)}).must(t, 201, "pay from r2")
	fin.do("POST", pp+"/disbursements", map[string]any{"source": "provincial_budget", "amount_vnd": 1_000_000_000, "date": ago(90)}).must(t, 201, "pay, no request named")
	var req struct {
		FundingRequests []struct {
			RequestID string `json:"request_id"`
			Disbursed int64  `json:"disbursed_vnd"`
		} `json:"funding_requests"`
	}
	if err := json.Unmarshal([]byte(fin.do("GET", pp, nil).must(t, 200, "get project").raw), &req); err != nil {
		t.Fatal(err)
	}
	for _, q := range req.FundingRequests {
		if want := map[string]int64{r1: 1_000_000_000, r2: 2_000_000_000}[q.RequestID]; q.Disbursed != want {
			t.Errorf("request %s: %d drawn, want %d (a payment naming none draws on the earliest approval)", q.RequestID, q.Disbursed, want)
		}
	}
	waitReport(t, admin, "/api/v1/reports/funding-gaps?group_by=year",
		`{"key":"2024","estimated_vnd":null,"requested_vnd":4000000000,"approved_vnd":4000000000,"disbursed_vnd":1000000000,"gap_vnd":null,"items_with_gap":null}`)
	waitReport(t, admin, "/api/v1/reports/funding-gaps?group_by=year",
		`{"key":"2025","estimated_vnd":null,"requested_vnd":3000000000,"approved_vnd":3000000000,"disbursed_vnd":2000000000,"gap_vnd":null,"items_with_gap":null}`)
	waitReport(t, admin, "/api/v1/reports/funding-gaps?group_by=source", `"key":"provincial_budget","estimated_vnd":null,"requested_vnd":7000000000,"approved_vnd":7000000000,"disbursed_vnd":3000000000,"gap_vnd":null,"items_with_gap":null}`)

	// Payments by the date they were made, a view of their own; a cancelled item is left out
	// from the day of its cancellation, as in the funding gaps.
	month := ago(100)[:7]
	waitReport(t, admin, "/api/v1/reports/payments-by-date?group_by=month", `{"key":"`+month+`","disbursed_vnd":2000000000}`)
	focal.do("POST", pp+"/cancel", map[string]any{"reason": "gộp vào dự án khác"}).must(t, 200, "cancel the project")
	waitReport(t, admin, "/api/v1/reports/payments-by-date?group_by=year", `"total":{"key":"total","disbursed_vnd":0}`)
	waitReport(t, admin, "/api/v1/reports/payments-by-date?group_by=year&as_of="+ago(1), `"total":{"key":"total","disbursed_vnd":3000000000}`)

	// Point 8: a cancelled item is no part of the average progress (SO-YT: one at 50 %, one
	// cancelled at 0 %).
	for i, title := range []string{"Hồ sơ sức khỏe điện tử", "Khám chữa bệnh từ xa"} {
		id := other.do("POST", "/api/v1/models", map[string]any{"title": title, "unit_code": "SO-YT", "pillar": "society", "sector": "health"}).
			must(t, 201, "propose").str("id")
		if i == 0 {
			other.do("POST", "/api/v1/models/"+id+"/own-funding", map[string]any{"means": "regular_budget"}).must(t, 200, "own funding")
			other.do("POST", "/api/v1/models/"+id+"/progress", map[string]any{"percent": 50, "date": ago(0)}).must(t, 201, "progress")
		} else {
			other.do("POST", "/api/v1/models/"+id+"/cancel", map[string]any{"reason": "trùng"}).must(t, 200, "cancel")
		}
	}
	waitReport(t, admin, "/api/v1/reports/completion?kind=model&group_by=unit",
		`{"key":"SO-YT","proposed":0,"funded":1,"implemented":0,"evaluated":0,"suspended":0,"cancelled":1,"overdue":0,"average_progress":50}`)

	// Point 9: no client sets when a fact was recorded: the field is refused, a header is
	// ignored, and the store stamps its own clock.
	if r := focal.do("POST", "/api/v1/models", map[string]any{"title": "Mô hình ghi lùi", "unit_code": "SO-CT", "pillar": "economy",
		"sector": "commerce", "recorded_at": "2023-01-01T00:00:00Z"}).must(t, 400, "recorded_at in the body"); !strings.Contains(r.raw, "recorded_at") {
		t.Errorf("recorded_at in the body: %s", r.raw)
	}
	id := focal.do("POST", "/api/v1/models", map[string]any{"title": "Mô hình ghi lùi", "unit_code": "SO-CT", "pillar": "economy", "sector": "commerce",
		"occurred_on": ago(400)}, "Recorded-At", "2023-01-01T00:00:00Z", "Dxledger-Recorded-At", "2023-01-01T00:00:00Z").must(t, 201, "propose").str("id")
	var recorded []struct {
		RecordedAt time.Time `json:"recorded_at"`
	}
	if err := json.Unmarshal([]byte(focal.do("GET", "/api/v1/models/"+id+"/events", nil).must(t, 200, "events").raw), &recorded); err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 1 || recorded[0].RecordedAt.Before(started.Add(-time.Second)) || recorded[0].RecordedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("recorded at %v, want between %v and now", recorded, started)
	}
}

// waitReport waits until the report at path holds want (the projections follow the writes).
func waitReport(t *testing.T, c client, path, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := c.do("GET", path, nil).must(t, 200, path)
		if strings.Contains(r.raw, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s lacks %s:\n%s", path, want, r.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The terminal client's item actions: a model that needs no separate state funding, said so
// from the terminal, is funded in the next report; a move to version 2 of an item already on
// it is refused with the problem's field.
func TestTerminalClientOwnFunding(t *testing.T) {
	db := pgtest.New(t)
	const token = "client-own-funding-token-0001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-CT", "name": "Sở Công Thương", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	focal := admin.do("POST", "/api/v1/users", map[string]any{"name": "Đầu mối CT", "role": "focal_point", "unit_code": "SO-CT"}).must(t, 201, "user").str("token")
	state := t.TempDir()
	cli := func(tok string, args ...string) (string, error) {
		var out, errs strings.Builder
		err := run(context.Background(), args, []string{"DXLEDGER_API_URL=" + base, "DXLEDGER_TOKEN=" + tok, "XDG_STATE_HOME=" + state}, &out, &errs)
		return out.String(), err
	}
	out, err := cli(focal, "model", "propose", "--title", "Chợ 4.0", "--unit", "SO-CT", "--pillar", "economy", "--sector", "commerce")
	f := strings.Fields(out)
	if err != nil || len(f) < 2 {
		t.Fatalf("propose: %v %q", err, out)
	}
	id := f[1]
	if out, err := cli(focal, "model", "own-funding", "--id", id, "--means", "enterprise", "--note", "Ngân hàng triển khai"); err != nil ||
		!strings.Contains(out, "own-funding recorded") {
		t.Fatalf("own-funding: %v %q", err, out)
	}
	table, err := cli(focal, "report", "completion", "--kind", "model", "--group-by", "unit", "--json")
	if err != nil || !strings.Contains(table, `"funded":1`) {
		t.Errorf("completion right after own-funding: %v\n%s", err, table)
	}
	if _, err := cli(admin.token, "model", "workflow-version", "--id", id, "--version", "2", "--note", "x"); err == nil ||
		!strings.Contains(err.Error(), "version") {
		t.Errorf("moving a version-2 item to version 2: %v", err)
	}
}
