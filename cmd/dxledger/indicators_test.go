package main

import (
	"encoding/json"
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
	r := admin.do("GET", "/api/v1/reports/indicators?year=2022", nil, "Dxledger-Min-Position", pos).must(t, 200, "report")
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
}
