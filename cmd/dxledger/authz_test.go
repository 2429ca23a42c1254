package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// samples are valid bodies per path (after {kind} expansion), so that a call reaches the
// authorisation check rather than stopping at a field error.
var samples = map[string]string{
	"/api/v1/units":               `{"code":"SO-TEST","name":"Sở thử","kind":"department","parent_code":"DT"}`,
	"/api/v1/units/{code}/merge":  `{"into_code":"SO-YT","effective_date":"2024-01-01"}`,
	"/api/v1/units/{code}/split":  `{"effective_date":"2024-01-01","rest_into_code":"SO-YT","parts":[]}`,
	"/api/v1/users":               `{"name":"Người thử","role":"steering_committee"}`,
	"/api/v1/models":              `{"title":"Mô hình thử","unit_code":"SO-YT","pillar":"society","sector":"health"}`,
	"/api/v1/projects":            `{"title":"Dự án thử","unit_code":"SO-YT","pillar":"society","sector":"health","estimated_cost_vnd":1000,"start_date":"2024-01-01","end_date":"2030-01-01"}`,
	"/api/v1/models/{id}/same-as": `{"model_id":"OTHER"}`,
	"funding-requests":            `{"source":"oda","amount_vnd":1000,"year":2024}`,
	"endorsement":                 `{"note":"đồng ý"}`,
	"decision":                    `{"decision":"approve","approved_vnd":1}`,
	"disbursements":               `{"source":"oda","amount_vnd":1,"date":"2024-06-01"}`,
	"progress":                    `{"percent":10,"date":"2024-06-01"}`,
	"implemented":                 `{"date":"2024-06-01"}`,
	"evaluation":                  `{"rating":"effective","score":80}`,
	"suspend":                     `{"reason":"chờ"}`,
	"resume":                      `{}`,
	"cancel":                      `{"reason":"trùng"}`,
	"reactivate":                  `{}`,
	"password":                    `{"password":"mật-khẩu-đủ-dài"}`,
	"tokens":                      `{"name":"thử"}`,
	"grant":                       `{"role":"steering_committee"}`,
	"own-funding":                 `{"means":"enterprise"}`,
	"workflow-version":            `{"version":2,"note":"sửa quy trình"}`,
	"/api/v1/dti/score":           `{"framework":"922/QĐ-BTTTT","values":{"awareness":1,"institutions":0.9,"infrastructure":0.8253,"workforce":0.8487,"cybersecurity":0.7578,"digital_government":0.8575,"digital_economy":0.7836,"digital_society":0.5197}}`,
	"/api/v1/dti/what-if":         `{"framework":"922/QĐ-BTTTT","values":{"awareness":1,"institutions":0.9,"infrastructure":0.8253,"workforce":0.8487,"cybersecurity":0.7578,"digital_government":0.8575,"digital_economy":0.7836,"digital_society":0.5197},"target":0.6077}`,
	"results":                     `{"year":2022,"source":"published","values":{"awareness":1,"institutions":0.9,"infrastructure":0.8253,"workforce":0.8487,"cybersecurity":0.7578,"digital_government":0.8575,"digital_economy":0.7836,"digital_society":0.5197},"rank":1,"of":63}`,
	"links":                       `{"year":2023,"item_id":"NONE","index":"awareness","gain":0.01}`,
	"/api/v1/indicators":          `{"code":"T-1","name_vi":"Thử","name_en":"Test","measure":"percentage","direction":"higher","pillar":"society","unit_code":"SO-YT"}`,
	"revisions":                   `{"name_vi":"Thử","name_en":"Test","measure":"percentage","direction":"higher","pillar":"society","effective_date":"2024-01-01"}`,
	"baselines":                   `{"year":2020,"value":10}`,
	"targets":                     `{"year":2025,"value":80}`,
	"actuals":                     `{"year":2023,"value":50,"method":"official","estimator":"Sở"}`,
}

func sampleFor(path string) string {
	if s, ok := samples[path]; ok {
		return s
	}
	return samples[path[strings.LastIndex(path, "/")+1:]]
}

// The authorisation matrix, generated from the route table (the OpenAPI document's "Who"):
// every route × every role × the item's own unit or another's. A role the table leaves out
// gets 403, a focal point of another unit gets 403 on an item's writes, and a role it lets in
// never gets 401 or 403.
func TestAuthorisationMatrix(t *testing.T) {
	db := pgtest.New(t)
	const token = "authz-bootstrap-token-00001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	for _, u := range []string{"SO-YT", "SO-GDDT"} {
		admin.do("POST", "/api/v1/units", map[string]any{"code": u, "name": u, "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	}
	user := func(role, unit string) string {
		body := map[string]any{"name": role + " " + unit, "role": role}
		if unit != "" {
			body["unit_code"] = unit
		}
		return admin.do("POST", "/api/v1/users", body).must(t, 201, "user").str("token")
	}
	tokens := map[string]string{"admin": token, "focal_point": user("focal_point", "SO-YT"), "finance_officer": user("finance_officer", ""),
		"steering_committee": user("steering_committee", "")}
	other := user("focal_point", "SO-GDDT")
	own := client{t, base, tokens["focal_point"]}
	ids := map[string]string{}
	for _, coll := range []string{"models", "projects"} {
		r := own.do("POST", "/api/v1/"+coll, sampleFor("/api/v1/"+coll)).must(t, 201, "create "+coll)
		ids[coll] = r.str("id")
	}
	req := own.do("POST", "/api/v1/projects/"+ids["projects"]+"/funding-requests", samples["funding-requests"]).must(t, 201, "request")
	requestID := req.str("request_id")

	r := admin.do("GET", "/api/v1/openapi.json", nil).must(t, 200, "openapi")
	var doc struct {
		Paths map[string]map[string]struct {
			Description string `json:"description"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(r.raw), &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for path, methods := range doc.Paths {
		for method, op := range methods {
			who := strings.TrimPrefix(op.Description, "Who: ")
			if who == "public" {
				continue
			}
			coll := "projects"
			if strings.HasPrefix(path, "/api/v1/models") {
				coll = "models"
			}
			concrete := strings.NewReplacer("{id}", ids[coll], "{request_id}", requestID, "{code}", "SO-GDDT").Replace(path)
			body := ""
			if method == "post" {
				body = sampleFor(path)
				if body == "" {
					t.Fatalf("no sample body for %s", path)
				}
			}
			itemWrite := method == "post" && strings.Contains(path, "{id}")
			for role, tok := range tokens {
				allowed := who == "any" || strings.Contains(who, role)
				code := call(t, method, base+concrete, tok, body)
				switch {
				case !allowed && code != 403:
					t.Errorf("%s %s as %s: %d, want 403 (who: %s)", method, path, role, code, who)
				case allowed && (code == 401 || code == 403):
					t.Errorf("%s %s as %s: %d, want it let in (who: %s)", method, path, role, code, who)
				}
				checked++
			}
			if strings.Contains(who, "focal_point") && itemWrite {
				if code := call(t, method, base+concrete, other, body); code != 403 {
					t.Errorf("%s %s as another unit's focal point: %d, want 403", method, path, code)
				}
				checked++
			}
		}
	}
	if checked < 120 {
		t.Fatalf("only %d calls checked", checked)
	}
}

func call(t *testing.T, method, url, token, body string) int {
	t.Helper()
	req, _ := http.NewRequest(strings.ToUpper(method), url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
