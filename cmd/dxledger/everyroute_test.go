package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// Issue 14 point 6: no route answers 500 to bad input. Every route of the OpenAPI document and
// every page is called with the review's inputs — invalid UTF-8 and U+0000 in each path
// parameter and in the query (`?unit_code=%c0%af`), every body field set to U+0000, a body that
// is not UTF-8, undecodable header values (If-Match, Idempotency-Key, Dxledger-Min-Position,
// X-Request-ID, Authorization, cookies) — and must answer 4xx, never 5xx; a bad path or query
// is 400. Forms are posted with U+0000 in every field, and with text where numbers and dates
// belong.
func TestNoServerErrorOnAnyRoute(t *testing.T) {
	db := pgtest.New(t)
	const token = "everyroute-bootstrap-token-01"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "province")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}).must(t, 201, "department")
	focalUser := admin.do("POST", "/api/v1/users", map[string]any{"name": "Đầu mối", "role": "focal_point", "unit_code": "SO-YT"}).must(t, 201, "focal")
	focal := client{t, base, focalUser.str("token")}
	admin2 := admin.do("POST", "/api/v1/users", map[string]any{"name": "Quản trị trang", "role": "admin", "password": "mật-khẩu-quản-trị"}).must(t, 201, "admin2")
	p := focal.do("POST", "/api/v1/projects", map[string]any{"title": "Bệnh án điện tử", "unit_code": "SO-YT", "pillar": "society",
		"sector": "health", "estimated_cost_vnd": 5_000_000_000, "start_date": ago(30), "end_date": ago(-300), "occurred_on": ago(30)}).must(t, 201, "project")
	m := focal.do("POST", "/api/v1/models", map[string]any{"title": "Chợ số", "unit_code": "SO-YT", "pillar": "economy", "sector": "commerce"}).must(t, 201, "model")
	rid := focal.do("POST", "/api/v1/projects/"+p.str("id")+"/funding-requests", map[string]any{"source": "oda", "amount_vnd": 1_000_000, "year": 2026}).
		must(t, 201, "request").str("request_id")
	tokenID := admin.do("GET", "/api/v1/users/"+focalUser.str("id")+"/tokens", nil).must(t, 200, "tokens")
	var tl struct {
		Items []struct {
			ID string `json:"token_id"`
		} `json:"items"`
	}
	_ = json.Unmarshal([]byte(tokenID.raw), &tl)
	ids := map[string]string{"code": "SO-YT", "request_id": rid, "token_id": tl.Items[0].ID}
	idFor := func(path string) string {
		if strings.HasPrefix(path, "/api/v1/models/") {
			return m.str("id")
		}
		if strings.HasPrefix(path, "/api/v1/users/") {
			return focalUser.str("id")
		}
		return p.str("id")
	}

	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]struct {
							Type string `json:"type"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(admin.do("GET", "/api/v1/openapi.json", nil).must(t, 200, "openapi").raw), &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	var paths []string
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	calls := 0
	check := func(c client, method, path, body string, want int, headers ...string) {
		t.Helper()
		calls++
		r := c.do(method, path, body, headers...)
		if r.code >= 500 || (want != 0 && r.code != want) {
			t.Errorf("%s %s %.80q %q: %d %.200s, want %s", method, path, body, headers, r.code, r.raw, wantText(want))
		}
	}
	for _, tmpl := range paths {
		concrete := param.ReplaceAllStringFunc(tmpl, func(s string) string {
			name := strings.Trim(s, "{}")
			if name == "id" {
				return idFor(tmpl)
			}
			return ids[name]
		})
		for method, op := range doc.Paths[tmpl] {
			method = strings.ToUpper(method)
			for _, c := range []client{admin, focal} {
				// Each path parameter in turn, poisoned.
				for _, loc := range param.FindAllStringIndex(tmpl, -1) {
					for _, bad := range []string{"%ff%fe", "a%00b", "%c0%af"} {
						poisoned := param.ReplaceAllStringFunc(tmpl[:loc[0]], func(s string) string {
							if strings.Trim(s, "{}") == "id" {
								return idFor(tmpl)
							}
							return ids[strings.Trim(s, "{}")]
						}) + bad + param.ReplaceAllStringFunc(tmpl[loc[1]:], func(s string) string {
							if strings.Trim(s, "{}") == "id" {
								return idFor(tmpl)
							}
							return ids[strings.Trim(s, "{}")]
						})
						check(c, method, poisoned, "", 400)
					}
				}
				check(c, method, concrete+"?unit_code=%c0%af", "", 400)
				check(c, method, concrete+"?q=a%00b&as_of=%ff", "", 400)
				check(c, method, concrete, "", 0, "If-Match", "\xff\xfe", "Idempotency-Key", "\xc0\xaf", "X-Request-ID", "\xff")
				check(c, method, concrete, "", 0, "Dxledger-Min-Position", "\xc0\xaf")
				check(c, method, concrete+"?min_position=%ff", "", 0)
				if op.RequestBody != nil {
					fields := map[string]any{}
					for name, prop := range op.RequestBody.Content["application/json"].Schema.Properties {
						if prop.Type == "string" {
							fields[name] = "Chợ\u0000số"
						} else {
							fields[name] = 1
						}
					}
					js, _ := json.Marshal(fields)
					check(c, method, concrete, string(js), 0)
					check(c, method, concrete, "{\"name\":\"\xff\xfe\",\"note\":\"\xc0\xaf\"}", 0)
					check(c, method, concrete, `{"name":"\ud800"}`, 0)
				}
			}
		}
	}
	// Bearer tokens no one could have been given.
	for _, tok := range []string{"\xff\xfe", "dxl_\xc0\xaf", strings.Repeat("x", 600)} {
		check(client{t, base, tok}, "GET", "/api/v1/me", "", 401)
	}

	// The pages, signed in as an administrator with a password.
	cookie, csrf := webSession(t, base, "Quản trị trang", "mật-khẩu-quản-trị", "")
	web := func(method, path string, form url.Values, want int) {
		t.Helper()
		calls++
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		if req == nil {
			req, _ = http.NewRequest(method, base+"/", body)
			req.URL.Opaque = path
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept", "text/html")
		req.AddCookie(cookie)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 || (want != 0 && resp.StatusCode != want) {
			t.Errorf("page %s %s %v: %d, want %s\n%.300s", method, path, form, resp.StatusCode, wantText(want), b)
		}
	}
	item := "project/" + p.str("id")
	user := admin2.str("id")
	pages := []string{"/", "/login", "/dashboard", "/export/funding-gaps", "/items", "/items/" + item, "/my", "/my/new/project",
		"/queue", "/duplicates", "/admin/units", "/admin/users", "/admin/users/" + user, "/admin/reports", "/account", "/setup/nope", "/lang/en",
		// The pages issues 12 and 15 brought (merged beside this test).
		"/indicators", "/my/indicators", "/admin/units/SO-YT/split", "/export/indicators.xlsx", "/export/payments-by-date"}
	for _, pg := range pages {
		web("GET", pg, nil, 0)
		web("GET", pg+"?unit_code=%c0%af", nil, 400)
		web("GET", pg+"?as_of=%ff&known_at=%00&next=%ff", nil, 400)
		web("GET", pg+"?as_of=☃&known_at=☃&group_by=☃&stage=☃&kind=☃&cursor=☃&limit=☃&q=☃&next=☃", nil, 0)
	}
	for _, pg := range []string{"/items/%ff%fe", "/items/project/%ff", "/items/project/a%00b", "/admin/users/%ff", "/setup/%ff%fe", "/export/%ff", "/my/new/%00"} {
		web("GET", pg, nil, 400)
	}
	forms := map[string][]string{
		"/items/" + item + "/progress":                      {"percent", "date", "note"},
		"/items/" + item + "/requests/" + rid + "/decision": {"approved_vnd", "note", "decision"},
		// The forms issues 12 and 15 brought (merged beside this test).
		"/items/" + item + "/funding-request":              {"source", "amount_vnd", "year", "occurred_on"},
		"/items/" + item + "/disbursement":                 {"source", "amount_vnd", "date", "request_id", "occurred_on"},
		"/items/" + item + "/own-funding":                  {"means", "note", "occurred_on"},
		"/items/" + item + "/workflow-version":             {"to_version", "note", "occurred_on"},
		"/indicators/actual":                               {"code", "year", "value", "date", "method", "estimator", "evidence", "note", "back"},
		"/admin/units/SO-YT/split":                         {"effective_date", "rest_into_code", "into_" + p.str("id")},
		"/my/new/project":                                  {"title", "unit_code", "pillar", "sector", "estimated_cost_vnd", "start_date", "end_date"},
		"/duplicates/" + m.str("id"):                       {"model_id"},
		"/admin/units":                                     {"code", "name", "kind", "parent_code"},
		"/admin/units/SO-YT/merge":                         {"into_code", "effective_date"},
		"/admin/users":                                     {"name", "role", "unit_code", "password"},
		"/admin/users/" + user + "/password":               {"password"},
		"/admin/users/" + user + "/suspend":                {"reason"},
		"/admin/users/" + user + "/reactivate":             {"note"},
		"/admin/users/" + user + "/grant":                  {"role", "unit_code"},
		"/admin/users/" + user + "/tokens":                 {"name", "expires_in_days"},
		"/admin/users/" + user + "/tokens/tok_nope/revoke": {},
		"/account/tokens":                                  {"name", "expires_in_days"},
		"/account/password":                                {"current_password", "password"},
		"/setup/nope":                                      {"name", "password", "password2"},
		"/login":                                           {"name", "password", "next"},
	}
	for path, fields := range forms {
		poison, junk := url.Values{"csrf": {csrf}, "key": {"k\x00"}}, url.Values{"csrf": {csrf}}
		for _, f := range fields {
			poison.Set(f, "a\x00b")
			junk.Set(f, "☃ 31/02/2026 -1e999")
		}
		web("POST", path, poison, 400)
		bad := url.Values{"csrf": {csrf}, "name": {"\xff\xfe"}}
		web("POST", path, bad, 400)
		if path != "/admin/users/"+user+"/suspend" && path != "/account/password" {
			web("POST", path, junk, 0)
		}
	}
	// Header values a browser would never send.
	if code := rawRequest(t, base, "GET /login HTTP/1.1\r\nHost: x\r\nCookie: dxl_session=\xff\x01\r\nAccept-Language: \xc0\xaf\r\n\r\n"); code >= 500 {
		t.Errorf("odd cookie and Accept-Language: %d", code)
	}
	t.Logf("%d calls", calls)
}

func wantText(want int) string {
	if want == 0 {
		return "a 4xx or a success"
	}
	return fmt.Sprint(want)
}

// rawRequest writes a request as bytes (a client may send what Go's would not) and returns the
// status.
func rawRequest(t *testing.T, base, req string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	var proto string
	var code int
	if _, err := fmt.Fscan(conn, &proto, &code); err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return code
}

// webSession signs in through the form and returns the session cookie and its form token.
func webSession(t *testing.T, base, name, password, xff string) (*http.Cookie, string) {
	t.Helper()
	jar := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := jar.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var login string
	for _, c := range resp.Cookies() {
		if c.Name == "dxl_login" {
			login = c.Value
		}
	}
	form := url.Values{"name": {name}, "password": {password}, "csrf": {login}, "next": {"/"}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "dxl_login", Value: login})
	resp, err = jar.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "dxl_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("sign in as %s: %d, no session", name, resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", base+"/account", nil)
	req.AddCookie(session)
	resp, err = jar.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mm := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if mm == nil {
		t.Fatalf("no form token on /account: %.300s", b)
	}
	return session, string(mm[1])
}
