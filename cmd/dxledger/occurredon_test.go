package main

import (
	"cmp"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// Every write accepts an optional occurred_on (API.md, "Conventions"): each write of the
// indicators, the DTI and the units' successions records it as the event's business date, and
// refuses a day that is no day (400) or in the future (422), naming the field and recording
// nothing.
func TestIndicatorAndDTIWritesRecordOccurredOn(t *testing.T) {
	db := pgtest.New(t)
	const token = "occurred-bootstrap-token-00001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	ctx := context.Background()
	for _, u := range []map[string]any{
		{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province", "occurred_on": "2021-01-01"},
		{"code": "SO-TTTT", "name": "Sở TT&TT", "kind": "department", "parent_code": "DT", "occurred_on": "2021-01-01"},
		{"code": "SO-KHCN", "name": "Sở KH&CN", "kind": "department", "parent_code": "DT", "occurred_on": "2021-01-01"},
		{"code": "SO-A", "name": "Sở A", "kind": "department", "parent_code": "DT", "occurred_on": "2021-01-01"},
	} {
		admin.do("POST", "/api/v1/units", u).must(t, 201, "unit "+u["code"].(string))
	}
	model := admin.do("POST", "/api/v1/models", map[string]any{"title": "Nền tảng số", "unit_code": "SO-TTTT", "pillar": "economy",
		"sector": "commerce"}).must(t, 201, "model").str("id")
	values := map[string]any{"awareness": 1, "institutions": 0.9, "infrastructure": 0.8253, "workforce": 0.8487, "cybersecurity": 0.7578,
		"digital_government": 0.8575, "digital_economy": 0.7836, "digital_society": 0.5197}
	definition := map[string]any{"code": "XH-BANGRONG", "name_vi": "Hộ gia đình có Internet băng rộng cố định", "name_en": "Households with fixed broadband",
		"measure": "percentage", "direction": "higher", "pillar": "society", "unit_code": "SO-TTTT"}
	with := func(body map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range body {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	// Each write, and the business date it records when occurred_on is given ("": occurred_on;
	// a revision's is its effective date, occurred_on only checked).
	writes := []struct {
		path   string
		body   map[string]any
		status int
		on     string
	}{
		{"/api/v1/indicators", definition, 201, ""},
		{"/api/v1/indicators/XH-BANGRONG/revisions", with(definition, "name_en", "Households with fixed broadband Internet", "effective_date", "2024-06-01"), 201, "2024-06-01"},
		{"/api/v1/indicators/XH-BANGRONG/targets", map[string]any{"year": 2022, "value": 75}, 201, ""},
		{"/api/v1/indicators/XH-BANGRONG/baselines", map[string]any{"year": 2021, "value": 60}, 201, ""},
		{"/api/v1/indicators/XH-BANGRONG/actuals", map[string]any{"year": 2023, "value": 79.5, "method": "official", "estimator": "UBND tỉnh"}, 201, ""},
		{"/api/v1/dti/DT/results", map[string]any{"year": 2022, "source": "published", "values": values, "total": 0.8002}, 201, ""},
		{"/api/v1/dti/DT/links", map[string]any{"year": 2022, "item_id": model, "index": "digital_economy", "gain": 0.01}, 201, ""},
		{"/api/v1/units/SO-A/merge", map[string]any{"into_code": "SO-KHCN", "effective_date": "2025-03-01"}, 200, ""},
	}
	last := func() (int64, string) {
		var (
			seq int64
			on  time.Time
		)
		if err := db.Pool.QueryRow(ctx, `SELECT seq, occurred_on FROM events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &on); err != nil {
			t.Fatal(err)
		}
		return seq, on.Format("2006-01-02")
	}
	future := time.Now().AddDate(0, 0, 3).Format("2006-01-02")
	for i, w := range writes {
		before, _ := last()
		for _, bad := range []struct {
			on     string
			status int
		}{{"2023-02-30", 400}, {future, 422}} {
			r := admin.do("POST", w.path, with(w.body, "occurred_on", bad.on))
			if r.code != bad.status || !strings.Contains(r.raw, `"field":"occurred_on"`) {
				t.Errorf("%s with occurred_on %s: %d %s, want %d naming occurred_on", w.path, bad.on, r.code, r.raw, bad.status)
			}
		}
		if seq, _ := last(); seq != before {
			t.Errorf("%s: a refused occurred_on recorded an event", w.path)
		}
		day := time.Date(2024, 3, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		admin.do("POST", w.path, with(w.body, "occurred_on", day)).must(t, w.status, w.path)
		if _, on := last(); on != cmp.Or(w.on, day) {
			t.Errorf("%s with occurred_on %s: the event's business date is %s, want %s", w.path, day, on, cmp.Or(w.on, day))
		}
	}
}
