package main

import (
	"bytes"
	"context"
	"time"

	"encoding/json"
	"github.com/chromedp/chromedp"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// The published main-index values of every province shared/INDICATORS.md gives (Đà Nẵng
// 2022), and the totals published for them: POST /api/v1/dti/score answers within 0.0001.
var published = []struct {
	province string
	year     int
	values   map[string]float64
	total    string
}{
	{"Đà Nẵng", 2022, map[string]float64{"awareness": 1.0000, "institutions": 0.9000, "infrastructure": 0.8253, "workforce": 0.8487,
		"cybersecurity": 0.7578, "digital_government": 0.8575, "digital_economy": 0.7836, "digital_society": 0.5197}, "0.8002"},
}

func TestDTIScoreAPI(t *testing.T) {
	db := pgtest.New(t)
	const token = "dti-bootstrap-token-000001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	for _, p := range published {
		r := admin.do("POST", "/api/v1/dti/score", map[string]any{"framework": "922/QĐ-BTTTT", "values": p.values}).must(t, 200, p.province)
		// The total is written with its four decimals, exactly as published.
		if !strings.Contains(r.raw, `"total":`+p.total) {
			t.Errorf("%s %d: %s, want total %s", p.province, p.year, r.raw, p.total)
		}
		var out struct {
			Framework string
			ByIndex   []struct {
				Code     string
				Points   int
				Weighted float64
			} `json:"by_index"`
		}
		_ = json.Unmarshal([]byte(r.raw), &out)
		if out.Framework != "922/QĐ-BTTTT" || len(out.ByIndex) != 8 || out.ByIndex[5].Code != "digital_government" || out.ByIndex[5].Points != 200 {
			t.Errorf("by_index %+v", out)
		}
	}
	// A value missing or outside [0, 1] is 422 naming it; a string is 422 too.
	for _, body := range []string{
		`{"framework":"922/QĐ-BTTTT","values":{"awareness":1}}`,
		`{"framework":"922/QĐ-BTTTT","values":{"awareness":1.2,"institutions":0.9,"infrastructure":0.8,"workforce":0.8,"cybersecurity":0.7,"digital_government":0.8,"digital_economy":0.7,"digital_society":0.5}}`,
		`{"framework":"922/QĐ-BTTTT","values":{"awareness":-0.1,"institutions":0.9,"infrastructure":0.8,"workforce":0.8,"cybersecurity":0.7,"digital_government":0.8,"digital_economy":0.7,"digital_society":0.5}}`,
		`{"framework":"922/QĐ-BTTTT","values":{"awareness":"x","institutions":0.9,"infrastructure":0.8,"workforce":0.8,"cybersecurity":0.7,"digital_government":0.8,"digital_economy":0.7,"digital_society":0.5}}`,
		`{"framework":"nope","values":{}}`,
	} {
		r := admin.do("POST", "/api/v1/dti/score", body)
		if r.code != 422 || !strings.Contains(r.raw, `"field"`) {
			t.Errorf("%s: %d %s, want 422 naming the field", body, r.code, r.raw)
		}
	}
	admin.do("POST", "/api/v1/dti/score", `{"framework":"922/QĐ-BTTTT","values":{},"extra":1}`).must(t, 400, "unknown field")

	// Results: a published total within 0.0001 of what the values give is kept as published;
	// one further off is refused; a self-assessment by main index and component is computed.
	values := published[0].values
	admin.do("POST", "/api/v1/dti/DANANG/results", map[string]any{"year": 2022, "source": "published", "values": values, "total": 0.8002,
		"rank": 1, "of": 63}).must(t, 201, "published")
	admin.do("POST", "/api/v1/dti/DANANG/results", map[string]any{"year": 2022, "source": "published", "values": values, "total": 0.8100,
		"rank": 1, "of": 63}).must(t, 422, "a total the values do not give")
	admin.do("POST", "/api/v1/dti/DANANG/results", map[string]any{"year": 2024, "source": "published", "values": values}).must(t, 422, "2024 under 405 without its points")
	admin.do("POST", "/api/v1/dti/DANANG/results", map[string]any{"year": 2023, "source": "self_assessment", "values": values,
		"components": map[string]any{"digital_government.dvc_truc_tuyen": 0.9}}).must(t, 201, "self-assessment")
	var r reply

	// Indicators: define, target, actual, the report.
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-TTTT", "name": "Sở TT&TT", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/indicators", map[string]any{"code": "XH-BANGRONG", "name_vi": "Hộ gia đình có Internet băng rộng cố định",
		"name_en": "Households with fixed broadband", "measure": "percentage", "direction": "higher", "pillar": "society",
		"frameworks": []string{"749/QĐ-TTg"}, "unit_code": "SO-TTTT", "effective_date": "2022-01-01"}).must(t, 201, "define")
	admin.do("POST", "/api/v1/indicators/XH-BANGRONG/targets", map[string]any{"year": 2022, "value": 75, "source": "Kế hoạch 2022", "occurred_on": "2022-01-10"}).must(t, 201, "target")
	pos := admin.do("POST", "/api/v1/indicators/XH-BANGRONG/actuals", map[string]any{"year": 2022, "value": 79.5, "date": "2023-04-07",
		"method": "official", "estimator": "UBND tỉnh", "evidence": "Báo cáo sơ kết NQ 04-NQ/TU"}).must(t, 201, "actual").header.Get("Dxledger-Position")
	admin.do("POST", "/api/v1/indicators/XH-BANGRONG/actuals", map[string]any{"year": 2022, "value": 79.5, "date": "2023-04-07",
		"method": "guess", "estimator": ""}).must(t, 422, "bad actual")
	r = admin.do("GET", "/api/v1/reports/indicators?year=2022", nil, "Dxledger-Min-Position", pos).must(t, 200, "report")
	r = admin.do("GET", "/api/v1/dti/DANANG", nil, "Dxledger-Min-Position", pos).must(t, 200, "DTI history")
	for _, want := range []string{`"total":0.8002,"rank":1,"of":63`, `"source":"self_assessment"`, `"components":{"digital_government.dvc_truc_tuyen":"0.9"}`} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("Đà Nẵng's DTI lacks %s: %s", want, r.raw)
		}
	}
	r = admin.do("GET", "/api/v1/reports/indicators?year=2022", nil, "Dxledger-Min-Position", pos).must(t, 200, "report")
	for _, want := range []string{`"code":"XH-BANGRONG"`, `"target":75`, `"actual":79.5`, `"status":"exceeded"`, `"exceeded":1`, `"set_aside_events":0`} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("report lacks %s: %s", want, r.raw)
		}
	}
	r = admin.do("GET", "/api/v1/reports/indicators?year=2022&known_at=2022-12-31", nil).must(t, 200, "report known at")
	if !strings.Contains(r.raw, `"rows":[]`) {
		t.Errorf("known at 2022-12-31 (before anything was recorded): %s", r.raw)
	}
	admin.do("GET", "/api/v1/reports/indicators", nil).must(t, 400, "no year")

	// The terminal client: a score, an actual reported, the report that includes it.
	env := []string{"DXLEDGER_API_URL=" + base, "DXLEDGER_TOKEN=" + token, "XDG_STATE_HOME=" + t.TempDir()}
	term := func(args ...string) string {
		t.Helper()
		var out, errs bytes.Buffer
		if err := run(context.Background(), args, env, &out, &errs); err != nil {
			t.Fatalf("dxledger %v: %v\n%s", args, err, errs.String())
		}
		return out.String()
	}
	if got := term("dti", "score", "awareness=1", "institutions=0.9", "infrastructure=0.8253", "workforce=0.8487", "cybersecurity=0.7578",
		"digital_government=0.8575", "digital_economy=0.7836", "digital_society=0.5197"); got != "922/QĐ-BTTTT: 0.8002\n" {
		t.Errorf("dti score: %q", got)
	}
	admin.do("POST", "/api/v1/indicators/XH-BANGRONG/targets", map[string]any{"year": 2023, "value": 85}).must(t, 201, "target 2023")
	term("indicator", "actual", "XH-BANGRONG", "--year", "2023", "--value", "86.1", "--date", "2024-01-15", "--estimator", "UBND tỉnh")
	if got := term("indicator", "report", "--year", "2023"); !strings.Contains(got, "exceeded") || !strings.Contains(got, "targets met (met + exceeded): 1 of 1") {
		t.Errorf("indicator report: %q", got)
	}
}

// The demo holds Đồng Tháp's 2022 actuals of seed 000 against the 2022 plan (13 of 15 targets
// met: 6 exceeded, 7 met) and against the 2025 targets, the 2022 DTI rank (39/63) and a
// what-if. Then, on the pages, the secretary records a 2023 actual late: the 2023 status
// changes, and "as known at" the moment of the meeting still shows what the meeting saw.
func TestIndicatorsDemoAndALateActual(t *testing.T) {
	t.Parallel() // a long end-to-end test on its own database and server: it overlaps another's waits
	db := pgtest.New(t)
	base, token, stop := runDemo(t, db.URL)
	defer stop()
	bcd := client{t, base, token}

	r := bcd.do("GET", "/api/v1/reports/indicators?year=2022", nil).must(t, 200, "2022")
	var rep struct {
		Rows []struct {
			Code, Status string
			Actual       json.Number
		}
		Total          map[string]int
		TargetsMet     int `json:"targets_met"`
		TargetsCounted int `json:"targets_counted"`
	}
	if err := json.Unmarshal([]byte(r.raw), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.TargetsMet != 13 || rep.TargetsCounted != 15 || rep.Total["exceeded"] != 6 || rep.Total["met"] != 7 || rep.Total["missed"] != 2 {
		t.Errorf("2022: %d of %d, totals %v; want 13 of 15 (6 exceeded, 7 met, 2 missed)", rep.TargetsMet, rep.TargetsCounted, rep.Total)
	}
	// 2022's actuals against the 2025 targets, as the committee read them on 05/10/2023.
	r = bcd.do("GET", "/api/v1/reports/indicators?year=2025&as_of=2023-10-05", nil).must(t, 200, "2025")
	rep.Rows = nil
	_ = json.Unmarshal([]byte(r.raw), &rep)
	want := map[string]string{"XH-BANGRONG": "at_risk", "XH-SMARTPHONE": "at_risk", "XH-TKTT": "on_track", "XH-KNS": "at_risk",
		"XH-HSSK": "at_risk", "KT-KTS": "off_track"}
	for _, row := range rep.Rows {
		if row.Status != want[row.Code] {
			t.Errorf("2025 as of 2023-10-05: %s %s, want %s", row.Code, row.Status, want[row.Code])
		}
	}
	if len(rep.Rows) != len(want) {
		t.Errorf("2025 rows %d, want %d: %s", len(rep.Rows), len(want), r.raw)
	}
	// Two estimators: the province's figure counts, the ministry's is kept beside it.
	if !strings.Contains(r.raw, `"other_estimates":[{"year":2023,"value":6.42`) || !strings.Contains(r.raw, `"actual":3.7`) {
		t.Errorf("2025: the ministry's estimate is not kept beside the province's: %s", r.raw)
	}
	r = bcd.do("GET", "/api/v1/dti/DT?as_of=2023-10-05", nil).must(t, 200, "DTI")
	if !strings.Contains(r.raw, `"rank":39,"of":63`) || !strings.Contains(r.raw, `"region_rank":9,"region_of":13`) {
		t.Errorf("DTI 2022 of Đồng Tháp: %s", r.raw)
	}
	r = bcd.do("POST", "/api/v1/dti/what-if", map[string]any{"province": "DT", "changes": map[string]any{"digital_economy": 0.6}}).must(t, 200, "what-if")
	for _, w := range []string{`"target":0.6077`, `"base_total":0.5330`, `"target_from":"place 25 of 2022"`} {
		if !strings.Contains(r.raw, w) {
			t.Errorf("what-if lacks %s: %s", w, r.raw)
		}
	}
	// base 0.5330; digital_economy 0.30 → 0.60 and its link's +0.05: 0.65 (+0.35 × 150 / 1000 =
	// +0.0525); digital_government's link +0.03 (+0.006): 0.5915, 0.0162 short of 0.6077.
	if !strings.Contains(r.raw, `"new_total":0.5915`) || !strings.Contains(r.raw, `"distance":0.0162`) {
		t.Errorf("what-if totals: %s", r.raw)
	}

	// The pages: a secretary records a 2023 actual late.
	b := newBrowser(t, base)
	b.signIn("Tổ giúp việc Ban Chỉ đạo CĐS tỉnh", "dongthap-2022")
	b.open("/indicators?year=2022")
	if got := b.text("#targets-met") + "/" + b.text("#targets-counted"); got != "13/15" {
		t.Errorf("2022 on the page: %s, want 13/15", got)
	}
	if got := b.text(`tr[data-code="XH-SMARTPHONE"] .status`); !strings.Contains(got, "Không đạt") {
		t.Errorf("a missed target reads %q: the status must be written, not only coloured", got)
	}
	if got := b.text(`#dti-trend tr[data-year="2022"] .rank`); got != "39/63" {
		t.Errorf("DTI 2022 rank on the page: %q", got)
	}
	if got := b.text("#wi-target"); !strings.HasPrefix(got, "0.6077") {
		t.Errorf("what-if target on the page: %q", got)
	}
	b.open("/dashboard?as_of=2023-10-05")
	if got := b.text("#dash-dti"); !strings.Contains(got, "39/63") {
		t.Errorf("the dashboard's DTI: %q", got)
	}
	// 2023 as of 05/10/2023: broadband 79.5 against 85 at risk, health records 80 against 80 on track.
	if got := strings.Join(strings.Fields(b.text(`#targets-by-pillar tr[data-pillar="society"]`)), " "); got != "Xã hội số 1 1 0 0" {
		t.Errorf("the dashboard's targets by pillar: %q", got)
	}
	b.open("/indicators?year=2023")
	if got := b.text(`tr[data-code="XH-BANGRONG"] .status`); !strings.Contains(got, "Chưa có số liệu") {
		t.Fatalf("2023 broadband before the late entry: %q", got)
	}
	// The meeting read the page in the minute before this one (the page's "known at" is to the
	// minute, to its end): the late entry below comes in a later minute without waiting up to a
	// minute for the next one. What the meeting saw was all recorded before that minute ended:
	// the demo records on its own clock, years back.
	loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	meeting := time.Now().In(loc).Truncate(time.Minute).Add(-time.Minute)
	b.do("code", chromedp.SetValue(chromedp.CSS("#actual-code"), "XH-BANGRONG"))
	b.fill("#actual-year", "2023")
	b.fill("#actual-value", "86,1")
	b.fill("#actual-date", "15/01/2024")
	b.do("method", chromedp.SetValue(chromedp.CSS("#actual-method"), "official"))
	b.fill("#actual-estimator", "UBND tỉnh Đồng Tháp")
	b.fill("#actual-evidence", "Báo cáo CĐS năm 2023")
	b.submit("#actual-submit")
	if got := b.text(`tr[data-code="XH-BANGRONG"] .status`); !strings.Contains(got, "Vượt") {
		t.Errorf("2023 broadband after the late entry: %q, want Vượt (exceeded: 86.1 against 85)", got)
	}
	b.open("/indicators?year=2023&known_at=" + meeting.Format("2006-01-02T15:04"))
	if got := b.text(`tr[data-code="XH-BANGRONG"] .status`); !strings.Contains(got, "Chưa có số liệu") {
		t.Errorf("2023 broadband as known at the meeting: %q, want what the meeting saw (no data)", got)
	}
	// The focal point's page: their unit's indicators to report, and only those in the form.
	b.signOut()
	b.signIn("Cán bộ đầu mối Sở Y tế", "dongthap-2022")
	b.open("/my/indicators?year=2022")
	if got := b.eval(`Array.from(document.querySelectorAll("table.indicators tbody tr")).map(r => r.dataset.code).join(",")`); got != "XH-HSSK,XH-KCBTX" {
		t.Errorf("the health department's indicators: %v, want XH-HSSK,XH-KCBTX", got)
	}
	if got := b.eval(`Array.from(document.querySelectorAll("#actual-code option")).map(o => o.value).filter(v => v).join(",")`); got != "XH-HSSK,XH-KCBTX" {
		t.Errorf("the health department may report %v, want XH-HSSK,XH-KCBTX", got)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		artifact(t, "indicators.png", png)
	}
}
