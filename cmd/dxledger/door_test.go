package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
	"golang.org/x/text/unicode/norm"
)

// Text that no column can hold — U+0000, other control characters, invalid UTF-8 — is refused
// at the door with a 400 naming the field, in a body, a query, a path or a form, and changes
// nothing; what passes is stored in NFC.
func TestPoisonTextRefusedAtTheDoor(t *testing.T) {
	db := pgtest.New(t)
	const token = "door-bootstrap-token-000000001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "province")
	model := func(title, scope string) string {
		return `{"title":"` + title + `","unit_code":"DT","pillar":"economy","sector":"general","scope":"` + scope + `"}`
	}
	bodies := []struct {
		name, path, body, field string
	}{
		{"U+0000 in a title", "/api/v1/models", model(`Chợ\u0000số`, ""), "title"},
		{"escape in a title", "/api/v1/models", model(`Chợ\u001bsố`, ""), "title"},
		{"line break in a title", "/api/v1/models", model(`Chợ\nsố`, ""), "title"},
		{"C1 control in a scope", "/api/v1/models", model("Chợ số", `a\u0085b`), "scope"},
		{"U+0000 in a scope", "/api/v1/models", model("Chợ số", `a\u0000b`), "scope"},
		{"invalid UTF-8 in a title", "/api/v1/models", model("Ch\xc0\xafsố", ""), "title"},
		{"invalid UTF-8 in a unit's name", "/api/v1/units", "{\"code\":\"X1\",\"name\":\"\xff\xfe\",\"kind\":\"department\",\"parent_code\":\"DT\"}", "name"},
		{"U+0000 in a user's name", "/api/v1/users", `{"name":"Nguyễn\u0000Văn A","role":"steering_committee"}`, "name"},
	}
	for _, c := range bodies {
		r := admin.do("POST", c.path, c.body)
		if r.code != http.StatusBadRequest || !strings.Contains(r.raw, `"field":"`+c.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", c.name, r.code, r.raw, c.field)
		}
	}
	queries := []struct{ name, path, field string }{
		{"invalid UTF-8 in a query", "/api/v1/models?unit_code=%c0%af", "unit_code"},
		{"U+0000 in a query", "/api/v1/projects?q=a%00b", "q"},
		{"invalid UTF-8 in a path", "/api/v1/models/%ff%fe", "path"},
		{"U+0000 in a path", "/api/v1/models/a%00b/events", "path"},
		{"invalid UTF-8 in a report's query", "/api/v1/reports/funding-gaps?group_by=%ff", "group_by"},
	}
	for _, c := range queries {
		r := admin.do("GET", c.path, nil)
		if r.code != http.StatusBadRequest || !strings.Contains(r.raw, `"field":"`+c.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", c.name, r.code, r.raw, c.field)
		}
	}
	var n int
	if err := db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE stream_id NOT LIKE 'unit-DT%' AND stream_id NOT LIKE 'user-%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("events after refused writes: %d (%v), want 0", n, err)
	}

	// What passes is NFC: a title typed decomposed (as some keyboards send it) is stored
	// composed, and a scope may hold paragraphs.
	decomposed := norm.NFD.String("Mô hình chợ số")
	r := admin.do("POST", "/api/v1/models", model(decomposed, `Dòng một\nDòng hai\tcột`)).must(t, 201, "decomposed title")
	got := admin.do("GET", "/api/v1/models/"+r.str("id"), nil).must(t, 200, "the model")
	if title := got.str("title"); title != "Mô hình chợ số" || !norm.NFC.IsNormalString(title) {
		t.Errorf("stored title %q, want the NFC form %q", title, "Mô hình chợ số")
	}
	if scope := got.str("scope"); scope != "Dòng một\nDòng hai\tcột" {
		t.Errorf("stored scope %q, want its line break and tab kept", scope)
	}
	// The list is read from a projection a few milliseconds behind the write.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		list := admin.do("GET", "/api/v1/models?q="+url.QueryEscape(norm.NFD.String("chợ số")), nil).must(t, 200, "search typed decomposed")
		items, _ := list.body["items"].([]any)
		if len(items) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("a search typed decomposed found %d models, want 1: %s", len(items), list.raw)
			break
		}
	}

	// The web pages: the same door, a 400 page in Vietnamese naming the field.
	web := func(method, path string, form url.Values) (int, string) {
		var req *http.Request
		if form != nil {
			req, _ = http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, base+path, nil)
		}
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, page := web("GET", "/login?next=%ff", nil); code != http.StatusBadRequest || !strings.Contains(page, "next") || !strings.Contains(page, "UTF-8") {
		t.Errorf("sign-in page with invalid UTF-8 in next: %d, want a 400 page naming next:\n%.400s", code, page)
	}
	if code, page := web("POST", "/login", url.Values{"name": {"Nguyễn\x00"}, "password": {"x"}}); code != http.StatusBadRequest || !strings.Contains(page, "U&#43;0000") {
		t.Errorf("sign-in with U+0000 in the name: %d, want a 400 page naming the character:\n%.400s", code, page)
	}
	// Media types are case-insensitive: the door reads every form the pages would read.
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"name": {"a\x00\xffb"}, "password": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a form sent as Application/X-WWW-Form-Urlencoded with U+0000: %v %v, want 400 at the door", resp.StatusCode, err)
	}
	if code, page := web("GET", "/items/%ff", nil); code != http.StatusBadRequest {
		t.Errorf("page path with invalid UTF-8: %d, want 400:\n%.400s", code, page)
	}
}
