package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dxledger/dxledger/internal/demo"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// The demo as the programme really ran (issue 12): models carried out without state funding
// are implemented and evaluated among the 49 distinct ones; the funding rows by year mean the
// budget year throughout and add up; and the history was entered as it would have been, so
// that "as known at the meeting of 05/10/2023" differs from "as of 05/10/2023" — over the API
// and on the overview page.
func TestDemoAsTheProgrammeRan(t *testing.T) {
	t.Parallel() // a long end-to-end test on its own database and server: it overlaps another's waits
	db := pgtest.New(t)
	base, token, stop := runDemo(t, db.URL)
	defer stop()
	bcd := client{t, base, token}
	waitFor(t, bcd, "/api/v1/reports/completion?kind=model&group_by=unit", `"evaluated":7`)

	// Point 1: of the 69 registrations, 7 models were implemented and evaluated and 2 are under
	// way without state money; none of them is counted as a gap or as waiting for money.
	var done struct {
		Total struct {
			Proposed, Funded, Implemented, Evaluated int64
		} `json:"total"`
	}
	getJSON(t, bcd, "/api/v1/reports/completion?kind=model&group_by=unit", &done)
	if done.Total.Evaluated != 7 || done.Total.Funded != 2 || done.Total.Proposed != 60 {
		t.Errorf("models today: %+v, want 60 proposed, 2 funded, 7 evaluated", done.Total)
	}
	var models struct {
		Items []struct {
			ID, Title, Stage string
			SameAs           string `json:"same_as"`
		} `json:"items"`
	}
	getJSON(t, bcd, "/api/v1/models?stage=evaluated&limit=50", &models)
	if len(models.Items) != 7 {
		t.Fatalf("%d evaluated models listed, want 7", len(models.Items))
	}
	for _, m := range models.Items {
		if m.SameAs != "" {
			t.Errorf("evaluated model %q is not a distinct model (same as %s)", m.Title, m.SameAs)
		}
	}
	var one struct {
		WorkflowVersion int    `json:"workflow_version"`
		OwnFunding      string `json:"own_funding"`
		Gap             int64  `json:"gap_vnd"`
		Stage           string `json:"stage"`
	}
	getJSON(t, bcd, "/api/v1/models/"+models.Items[0].ID, &one)
	if one.WorkflowVersion != 2 || one.OwnFunding == "" || one.Stage != "evaluated" {
		t.Errorf("an evaluated model: %+v, want version 2, own funding named, evaluated", one)
	}
	events := bcd.do("GET", "/api/v1/models/"+models.Items[0].ID+"/events", nil).must(t, 200, "events")
	for _, typ := range []string{`"type":"model.workflow_version_changed.v1"`, `"type":"model.own_funding_arranged.v1"`} {
		if !strings.Contains(events.raw, typ) {
			t.Errorf("the evaluated model's history lacks %s: %s", typ, events.raw)
		}
	}

	// Point 2: by year, requested, approved and disbursed are the request's budget year; the
	// rows add up to the total, and no year has more spent than approved.
	var byYear struct {
		Rows []struct {
			Key          string
			Requested_   int64  `json:"requested_vnd"`
			Approved_    int64  `json:"approved_vnd"`
			Disbursed_   int64  `json:"disbursed_vnd"`
			ItemsWithGap *int64 `json:"items_with_gap"`
			Gap          *int64 `json:"gap_vnd"`
		} `json:"rows"`
		Total struct {
			Requested    int64  `json:"requested_vnd"`
			Approved     int64  `json:"approved_vnd"`
			Disbursed    int64  `json:"disbursed_vnd"`
			ItemsWithGap *int64 `json:"items_with_gap"`
		} `json:"total"`
	}
	getJSON(t, bcd, "/api/v1/reports/funding-gaps?group_by=year", &byYear)
	var req, appr, disb int64
	for _, r := range byYear.Rows {
		req, appr, disb = req+r.Requested_, appr+r.Approved_, disb+r.Disbursed_
		if r.Disbursed_ > r.Approved_ {
			t.Errorf("year %s: %d disbursed, more than the %d approved", r.Key, r.Disbursed_, r.Approved_)
		}
		if r.ItemsWithGap != nil || r.Gap != nil {
			t.Errorf("year %s: items_with_gap %v, gap %v; want both null", r.Key, r.ItemsWithGap, r.Gap)
		}
		if r.Key == "2023" && (r.Approved_ != 28_000_000_000 || r.Disbursed_ != 19_000_000_000) {
			t.Errorf("2023: %d approved, %d disbursed; want 28 and 19 tỷ (the requests of budget year 2023)", r.Approved_, r.Disbursed_)
		}
	}
	if req != byYear.Total.Requested || appr != byYear.Total.Approved || disb != byYear.Total.Disbursed {
		t.Errorf("year rows add up to %d/%d/%d, total %d/%d/%d", req, appr, disb,
			byYear.Total.Requested, byYear.Total.Approved, byYear.Total.Disbursed)
	}
	if byYear.Total.ItemsWithGap == nil {
		t.Error("the total's items_with_gap is null")
	}
	// Payments by the date they were made are a view of their own: 46 tỷ paid in 2023, the
	// same total.
	var paid struct {
		Rows []struct {
			Key       string `json:"key"`
			Disbursed int64  `json:"disbursed_vnd"`
		} `json:"rows"`
		Total struct {
			Disbursed int64 `json:"disbursed_vnd"`
		} `json:"total"`
	}
	getJSON(t, bcd, "/api/v1/reports/payments-by-date?group_by=year", &paid)
	in2023 := int64(-1)
	for _, r := range paid.Rows {
		if r.Key == "2023" {
			in2023 = r.Disbursed
		}
	}
	if in2023 != 46_000_000_000 || paid.Total.Disbursed != byYear.Total.Disbursed {
		t.Errorf("payments by date: %d in 2023, total %d; want 46 tỷ and the funding total %d", in2023, paid.Total.Disbursed, byYear.Total.Disbursed)
	}
	bcd.do("GET", "/api/v1/reports/payments-by-date?group_by=quarter", nil).must(t, 400, "payments by quarter")

	// Point 9: as of the meeting of 05/10/2023, with what is known today, against what the
	// books held on that day.
	type counts struct {
		Total struct {
			Registrations  int64 `json:"registrations"`
			DistinctModels int64 `json:"distinct_models"`
		} `json:"total"`
	}
	var asOf, knownAt counts
	getJSON(t, bcd, "/api/v1/reports/model-counts?group_by=unit&as_of=2023-10-05", &asOf)
	getJSON(t, bcd, "/api/v1/reports/model-counts?group_by=unit&as_of=2023-10-05&known_at=2023-10-05", &knownAt)
	if asOf.Total.DistinctModels != 49 || knownAt.Total.DistinctModels != 50 || knownAt.Total.Registrations != 69 {
		t.Errorf("distinct models as of 05/10/2023: %d, as known then: %d (of %d); want 49 and 50 of 69",
			asOf.Total.DistinctModels, knownAt.Total.DistinctModels, knownAt.Total.Registrations)
	}
	var doneAsOf, doneKnown struct {
		Total struct{ Implemented, Evaluated int64 } `json:"total"`
	}
	getJSON(t, bcd, "/api/v1/reports/completion?kind=model&group_by=unit&as_of=2023-10-05", &doneAsOf)
	getJSON(t, bcd, "/api/v1/reports/completion?kind=model&group_by=unit&as_of=2023-10-05&known_at=2023-10-05", &doneKnown)
	if doneAsOf.Total.Evaluated != 4 || doneKnown.Total.Evaluated != 3 {
		t.Errorf("models evaluated by 05/10/2023: %d as of, %d as known then; want 4 and 3", doneAsOf.Total.Evaluated, doneKnown.Total.Evaluated)
	}
	var gapsAsOf, gapsKnown struct {
		Total struct {
			Disbursed int64 `json:"disbursed_vnd"`
		} `json:"total"`
	}
	getJSON(t, bcd, "/api/v1/reports/funding-gaps?group_by=unit&as_of=2023-10-05", &gapsAsOf)
	getJSON(t, bcd, "/api/v1/reports/funding-gaps?group_by=unit&as_of=2023-10-05&known_at=2023-10-05", &gapsKnown)
	if gapsAsOf.Total.Disbursed-gapsKnown.Total.Disbursed < 4_000_000_000 {
		t.Errorf("disbursed by 05/10/2023: %d as of, %d as known then; want at least 4 tỷ entered after the meeting",
			gapsAsOf.Total.Disbursed, gapsKnown.Total.Disbursed)
	}
	// The demo's facts were recorded when they would have been entered, not when it loaded.
	var evs []struct {
		OccurredOn string    `json:"occurred_on"`
		RecordedAt time.Time `json:"recorded_at"`
	}
	getJSON(t, bcd, "/api/v1/models/"+models.Items[0].ID+"/events", &evs)
	if len(evs) == 0 || evs[0].RecordedAt.Year() > 2022 || evs[0].RecordedAt.Format("2006-01-02") <= evs[0].OccurredOn {
		t.Errorf("a 2022 registration recorded at %v (dated %v): want days after its date, in 2022", evs[0].RecordedAt, evs[0].OccurredOn)
	}

	// On the overview page, as a member of the secretariat sees it.
	b := newBrowser(t, base)
	b.signIn("Tổ giúp việc Ban Chỉ đạo CĐS tỉnh", demo.Password)
	b.open("/dashboard?as_of=2023-10-05")
	if got := b.text("#total-distinct"); got != "49" {
		t.Errorf("page, as of 05/10/2023: %s distinct models, want 49", got)
	}
	b.open("/dashboard?as_of=2023-10-05&known_at=2023-10-05")
	if got := b.text("#total-distinct"); got != "50" {
		t.Errorf("page, as known at 05/10/2023: %s distinct models, want 50", got)
	}
	// The funding rows by budget year on the page: 2023 with 28 tỷ approved and 19 tỷ
	// disbursed, no gap and no count of items with a gap.
	b.open("/dashboard?gap_by=year")
	row := b.eval(`[...document.querySelectorAll('#gaps-table tr[data-key="2023"] td')].map(td => td.innerText).join("|")`)
	if cells := strings.Split(row.(string), "|"); len(cells) != 6 || vndOf(t, cells[2]) != 28_000_000_000 ||
		vndOf(t, cells[3]) != 19_000_000_000 || cells[5] != "—" {
		t.Errorf("page, 2023 by budget year: %q; want 28 tỷ approved, 19 tỷ disbursed, no items with a gap", row)
	}
	// An evaluated model's page says how it was paid for, under which workflow version, and
	// shows the move to version 2 on its history.
	b.open("/items/model/" + models.Items[0].ID)
	if got := b.text("#workflow-version"); got != "2" {
		t.Errorf("item page: workflow version %q, want 2", got)
	}
	if !b.has("#own-funding") || !b.has(`#timeline li[data-type="model.workflow_version_changed.v1"]`) {
		t.Errorf("item page lacks the own funding or the move to version 2: %v", b.eval(`document.querySelector("main").innerText`))
	}
	b.open("/dashboard")
	evaluated := b.eval(`[...document.querySelectorAll("#completion-table tr.total td")].map(td => td.innerText).join("|")`)
	if cells := strings.Split(evaluated.(string), "|"); len(cells) < 5 || cells[4] == "0" {
		t.Errorf("overview today: the completion total shows no evaluated item: %v", evaluated)
	}
	b.signOut()

	// A focal point says on the item page that a model of their unit needs no separate state
	// funding: it is funded at once.
	var yt struct {
		Items []struct{ ID, Stage string } `json:"items"`
	}
	getJSON(t, bcd, "/api/v1/models?unit_code=SO-YT&stage=proposed", &yt)
	if len(yt.Items) == 0 {
		t.Fatal("Sở Y tế has no proposed model")
	}
	b.signIn("Cán bộ đầu mối Sở Y tế", demo.Password)
	b.open("/items/model/" + yt.Items[0].ID)
	if b.has("#form-workflow-version") {
		t.Error("a focal point is offered the move to another workflow version")
	}
	b.do("choose the means", chromedp.SetValue(chromedp.CSS("#own-funding-means"), "regular_budget"))
	b.submit("#form-own-funding button[type=submit]")
	if got := b.text("#stage"); got != "Đã bố trí vốn" {
		t.Errorf("stage after own funding: %q", got)
	}
	if got := b.text("#own-funding"); !strings.Contains(got, "Kinh phí thường xuyên") {
		t.Errorf("own funding shown as %q", got)
	}
}

// getJSON reads path into v, failing the test on any status but 200.
func getJSON(t *testing.T, c client, path string, v any) {
	t.Helper()
	r := c.do("GET", path, nil).must(t, 200, path)
	if err := json.Unmarshal([]byte(r.raw), v); err != nil {
		t.Fatalf("%s: %v: %s", path, err, r.raw)
	}
}

// waitFor waits until the answer to path holds want (the projections follow the demo's load).
func waitFor(t *testing.T, c client, path, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := c.do("GET", path, nil)
		if strings.Contains(r.raw, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %s: %s", path, want, r.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
