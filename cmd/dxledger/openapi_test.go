package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// The OpenAPI document and the routes cannot drift apart: every operation it lists is served
// (never the router's own 404 or 405), and none but /healthz and /metrics answers without a
// token.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	db := pgtest.New(t)
	const token = "openapi-bootstrap-token-0001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	client{t, base, ""}.do("GET", "/api/v1/openapi.json", nil).must(t, 401, "openapi without a token")
	r := admin.do("GET", "/api/v1/openapi.json", nil).must(t, 200, "openapi")
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(r.raw), &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %v, openapi %q", err, doc.OpenAPI)
	}
	ops := 0
	for path, methods := range doc.Paths {
		for method := range methods {
			ops++
			concrete := strings.NewReplacer("{id}", "01M82AAAAAAAAAAAAAAAAAAAAA", "{request_id}", "r", "{code}", "NOPE").Replace(path)
			m := strings.ToUpper(method)
			for _, who := range []client{admin, {t, base, ""}} {
				req, _ := http.NewRequest(m, base+concrete, strings.NewReader("{}"))
				if who.token != "" {
					req.Header.Set("Authorization", "Bearer "+who.token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var p struct {
					Detail string `json:"detail"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&p)
				resp.Body.Close()
				if resp.StatusCode == 405 || strings.HasPrefix(p.Detail, "no such route") {
					t.Errorf("%s %s is documented but not served (%d %s)", m, path, resp.StatusCode, p.Detail)
				}
				public := path == "/healthz" || path == "/readyz" || path == "/metrics"
				if who.token == "" && !public && resp.StatusCode != 401 {
					t.Errorf("%s %s without a token: %d, want 401", m, path, resp.StatusCode)
				}
			}
		}
	}
	if ops < 35 {
		t.Errorf("the document lists only %d operations", ops)
	}
}

// The conventions of API.md that the document declares hold without any tool: If-Match on a
// unit's merge and on a create, 415 for a body that is not JSON, 400 for malformed JSON, 422
// for a well-formed body whose values break a rule (an unknown decision too), Idempotency-Key
// on a unit's registration.
func TestWritesHonourTheConventions(t *testing.T) {
	db := pgtest.New(t)
	const token = "conventions-bootstrap-token-0001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	unit := func(code, kind, parent string) map[string]any {
		return map[string]any{"code": code, "name": "Đơn vị " + code, "kind": kind, "parent_code": parent}
	}
	admin.do("POST", "/api/v1/units", unit("DT", "province", "")).must(t, 201, "province")
	first := admin.do("POST", "/api/v1/units", unit("SO-A", "department", "DT"), "Idempotency-Key", "unit-a").must(t, 201, "department")
	again := admin.do("POST", "/api/v1/units", unit("SO-A", "department", "DT"), "Idempotency-Key", "unit-a").must(t, 201, "replay")
	if first.raw != again.raw {
		t.Errorf("a replay answered %s, the first %s", again.raw, first.raw)
	}
	admin.do("POST", "/api/v1/units", unit("SO-X", "department", "DT"), "Idempotency-Key", "unit-a").must(t, 422, "the same key, another body")
	admin.do("POST", "/api/v1/units", unit("SO-B", "department", "DT"), "If-Match", "3").must(t, 409, "a create at version 3")
	admin.do("POST", "/api/v1/units", unit("SO-B", "department", "DT"), "If-Match", "0").must(t, 201, "a create at version 0")

	merge := map[string]any{"into_code": "SO-A", "effective_date": ago(0)}
	admin.do("POST", "/api/v1/units/SO-B/merge", merge, "If-Match", "99").must(t, 409, "merge at a version the unit is not at")
	admin.do("POST", "/api/v1/units/SO-B/merge", merge, "If-Match", "x").must(t, 400, "merge with an If-Match that is no version")
	if r := admin.do("GET", "/api/v1/units", nil).must(t, 200, "units"); strings.Contains(r.raw, `"successor_code":"SO-A"`) {
		t.Fatalf("a refused merge merged: %s", r.raw)
	}
	admin.do("POST", "/api/v1/units/SO-B/merge", merge, "If-Match", `"1"`).must(t, 200, "merge at the version read (an ETag)")

	admin.do("POST", "/api/v1/units", `{"code":`).must(t, 400, "malformed JSON")
	admin.do("POST", "/api/v1/units", unit("SO-C", "planet", "DT")).must(t, 422, "an unknown kind")
	admin.do("POST", "/api/v1/units", `{"code":"SO-C","name":"x","kind":"department","parent_code":"DT"}`, "Content-Type", "text/plain").
		must(t, 415, "a JSON body sent as text/plain")

	fp := client{t, base, admin.do("POST", "/api/v1/users", map[string]any{"name": "An", "role": "focal_point", "unit_code": "SO-A"}).must(t, 201, "focal point").str("token")}
	fin := client{t, base, admin.do("POST", "/api/v1/users", map[string]any{"name": "Bình", "role": "finance_officer"}).must(t, 201, "finance").str("token")}
	id := fp.do("POST", "/api/v1/models", map[string]any{"title": "Chợ 4.0", "unit_code": "SO-A", "pillar": "economy", "sector": "commerce"}).must(t, 201, "model").str("id")
	fp.do("POST", "/api/v1/models", map[string]any{"title": "Chợ 4.0", "unit_code": "SO-A", "pillar": "economy", "sector": "commerce",
		"end_date": ago(-30)}).must(t, 400, "a model with a project's field")
	rid := fp.do("POST", "/api/v1/models/"+id+"/funding-requests", map[string]any{"source": "oda", "amount_vnd": 1_000_000, "year": 2026}).
		must(t, 201, "funding request").str("request_id")
	r := fin.do("POST", "/api/v1/models/"+id+"/funding-requests/"+rid+"/decision", map[string]any{"decision": "maybe"}).must(t, 422, "an unknown decision")
	if !strings.Contains(r.raw, `"field":"decision"`) {
		t.Errorf("an unknown decision's problem does not name the field: %s", r.raw)
	}
	fp.do("POST", "/api/v1/models/"+id+"/progress", map[string]any{"percent": 10}).must(t, 422, "progress without its date")
	fp.do("POST", "/api/v1/models/"+id+"/resume", nil).must(t, 409, "resume with no body, not suspended")
}
