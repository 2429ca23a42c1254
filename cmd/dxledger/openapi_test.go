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
