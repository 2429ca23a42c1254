package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// problemFields returns the fields a problem's errors name, in order.
func problemFields(r reply) []string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

// mergedUnitsServe starts serve on a fresh database and registers, on 2024-01-01, the province
// DT and its departments SO-A, SO-B and extra, then merges SO-A into SO-B on 2024-06-01; it
// returns the bootstrap admin's client.
func mergedUnitsServe(t *testing.T, token string, extra ...string) client {
	t.Helper()
	db := pgtest.New(t)
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Đơn vị DT", "kind": "province",
		"occurred_on": "2024-01-01"}).must(t, 201, "register DT")
	for _, code := range append([]string{"SO-A", "SO-B"}, extra...) {
		admin.do("POST", "/api/v1/units", map[string]any{"code": code, "name": "Đơn vị " + code, "kind": "department",
			"parent_code": "DT", "occurred_on": "2024-01-01"}).must(t, 201, "register "+code)
	}
	admin.do("POST", "/api/v1/units/SO-A/merge", map[string]any{"into_code": "SO-B", "effective_date": "2024-06-01"}).must(t, 200, "merge SO-A into SO-B")
	return admin
}

// An outside acceptance tester's bad input, as API.md writes the calls (Conventions: "for bad
// fields errors: [{field, message}]"): every refusal names the field the client sent, in the
// API's words — never a Go type — and a successor of a merge or split that does not exist or
// cannot take the unit in is a 422 naming into_code, rest_into_code or parts[i].into_code, as
// an unknown parent_code is (it was a 404 naming nothing; the unit of the path exists).
func TestRefusalsNameTheFieldSent(t *testing.T) {
	t.Parallel()
	admin := mergedUnitsServe(t, "conformance-bootstrap-token-01", "SO-C")

	goType := regexp.MustCompile(`\[\]|map\[|httpapi\.|json\.|\bstruct\b|\bint64\b|\bfloat64\b`)
	check := func(r reply, want int, what string, fields ...string) {
		t.Helper()
		if r.code != want {
			t.Errorf("%s: status %d, want %d: %s", what, r.code, want, r.raw)
			return
		}
		if got := problemFields(r); strings.Join(got, ",") != strings.Join(fields, ",") {
			t.Errorf("%s: the problem names %q, want %q: %s", what, got, fields, r.raw)
		}
		if goType.MatchString(r.raw) {
			t.Errorf("%s: the problem shows a Go type: %s", what, r.raw)
		}
	}

	// A merge's successor.
	check(admin.do("POST", "/api/v1/units/SO-B/merge", map[string]any{"into_code": "NOPE", "effective_date": "2024-07-01"}),
		422, "merge into a unit never registered", "into_code")
	check(admin.do("POST", "/api/v1/units/SO-B/merge", map[string]any{"into_code": "SO-A", "effective_date": "2024-07-01"}),
		422, "merge into a unit merged away", "into_code")
	check(admin.do("POST", "/api/v1/units/SO-B/merge", map[string]any{"into_code": "SO-B", "effective_date": "2024-07-01"}),
		422, "merge into itself", "into_code")
	check(admin.do("POST", "/api/v1/units/SO-C/merge", map[string]any{"into_code": "SO-B", "effective_date": "2023-06-01"}),
		422, "merge dated before the unit's registration", "effective_date")
	check(admin.do("POST", "/api/v1/units/SO-C/split", map[string]any{"effective_date": "2023-06-01", "parts": []any{}, "rest_into_code": "SO-B"}),
		422, "split dated before the unit's registration", "effective_date")
	check(admin.do("POST", "/api/v1/units/NOPE/merge", map[string]any{"into_code": "SO-B", "effective_date": "2024-07-01"}),
		404, "merge of a unit never registered (the path)")
	// A split's successors.
	check(admin.do("POST", "/api/v1/units/SO-B/split", map[string]any{"effective_date": "2024-07-01", "parts": []any{},
		"rest_into_code": "NOPE"}), 422, "split, the rest into a unit never registered", "rest_into_code")
	m1 := admin.do("POST", "/api/v1/models", map[string]any{"title": "Mô hình một", "unit_code": "SO-B", "pillar": "economy",
		"sector": "commerce", "occurred_on": "2024-02-01"}).must(t, 201, "a model of SO-B").str("id")
	m2 := admin.do("POST", "/api/v1/models", map[string]any{"title": "Mô hình hai", "unit_code": "SO-B", "pillar": "society",
		"sector": "health", "occurred_on": "2024-02-01"}).must(t, 201, "a model of SO-B").str("id")
	check(admin.do("POST", "/api/v1/units/SO-B/split", map[string]any{"effective_date": "2024-07-01",
		"parts":          []any{map[string]any{"into_code": "SO-C", "item_ids": []string{m1}}, map[string]any{"into_code": "SO-A", "item_ids": []string{m2}}},
		"rest_into_code": "SO-C"}), 422, "split, a part into a unit merged away", "parts[1].into_code")
	// occurred_on is never in the future (API.md, Conventions), a unit's registration too.
	check(admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-F", "name": "Sở tương lai", "kind": "department",
		"parent_code": "DT", "occurred_on": "2099-01-01"}), 422, "a unit registered in 2099", "occurred_on")
	// Wrong JSON types are 400 naming the field in the API's words.
	check(admin.do("POST", "/api/v1/units/SO-B/split", `{"effective_date":"2024-07-01","parts":"x","rest_into_code":"SO-C"}`),
		400, "split with parts a string", "parts")
	check(admin.do("POST", "/api/v1/dti/score", `{"framework":"922/QĐ-BTTTT","values":[1,2]}`),
		400, "DTI score with values a list", "values")
	check(admin.do("POST", "/api/v1/units", `{"code":"SO-D","name":7,"kind":"department"}`),
		400, "unit name a number", "name")
	// Nothing of the refused commands was recorded.
	units := admin.do("GET", "/api/v1/units", nil).must(t, 200, "units")
	if strings.Contains(units.raw, `"SO-D"`) || strings.Contains(units.raw, `"SO-F"`) || strings.Count(units.raw, `"successor_code"`) != 1 || strings.Contains(units.raw, `"successors"`) {
		t.Errorf("units after the refusals: %s", units.raw)
	}

	// A report's bad parameter is named: kind is not group_by.
	check(admin.do("GET", "/api/v1/reports/completion?group_by=unit&kind=widget", nil), 400, "completion of kind widget", "kind")
	check(admin.do("GET", "/api/v1/reports/completion?group_by=colour&kind=model", nil), 400, "completion by colour", "group_by")
	check(admin.do("GET", "/api/v1/reports/model-counts?group_by=source", nil), 400, "model counts by source", "group_by")

	// A bad read-your-writes position names what carried it: the header, or the parameter.
	check(admin.do("GET", "/api/v1/reports/model-counts?group_by=unit", nil, "Dxledger-Min-Position", "not-a-position"),
		400, "a bad Dxledger-Min-Position header", "Dxledger-Min-Position")
	check(admin.do("GET", "/api/v1/reports/model-counts?group_by=unit&min_position=not-a-position", nil),
		400, "a bad min_position parameter", "min_position")
}

// A replayed POST /api/v1/users/{id}/tokens (Idempotency-Key) returns the first answer without
// the secret (API.md, Conventions): the same token_id, name, created_at and expires_at as the
// first answer and the token list — created_at was the time its event was recorded instead.
func TestTokenReplayIsTheFirstAnswer(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const token = "conformance-bootstrap-token-02"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	id := admin.do("POST", "/api/v1/users", map[string]any{"name": "Phạm Văn Thử", "role": "steering_committee"}).must(t, 201, "a user").str("id")
	path := "/api/v1/users/" + id + "/tokens"
	first := admin.do("POST", path, map[string]any{"name": "laptop", "expires_in_days": 30}, "Idempotency-Key", "token-once").must(t, 201, "issue")
	again := admin.do("POST", path, map[string]any{"name": "laptop", "expires_in_days": 30}, "Idempotency-Key", "token-once").must(t, 201, "replay")
	if first.str("token") == "" || again.str("token") != "" {
		t.Fatalf("the first answer carries the secret, the replay not: %s / %s", first.raw, again.raw)
	}
	for _, k := range []string{"token_id", "name", "created_at", "expires_at", "id"} {
		if first.str(k) != again.str(k) {
			t.Errorf("%s: first %q, replay %q", k, first.str(k), again.str(k))
		}
	}
	p1, err1 := eventstore.ParsePosition(first.header.Get("Dxledger-Position"))
	p2, err2 := eventstore.ParsePosition(again.header.Get("Dxledger-Position"))
	if first.num("version") != again.num("version") || err1 != nil || err2 != nil || p2.TxID < p1.TxID || p2.TxID == p1.TxID && p2.Seq < p1.Seq {
		t.Errorf("replay: version %d, position %q; first %d, %q", again.num("version"), again.header.Get("Dxledger-Position"),
			first.num("version"), first.header.Get("Dxledger-Position"))
	}
	list := admin.do("GET", path, nil).must(t, 200, "tokens")
	if !strings.Contains(list.raw, `"created_at":"`+first.str("created_at")+`"`) {
		t.Errorf("the list's created_at is not the first answer's %s: %s", first.str("created_at"), list.raw)
	}
}

// API.md, Conventions: "Every write accepts an optional occurred_on (YYYY-MM-DD, not in the
// future)" — the account writes too (they refused it as an unknown field, 400). It is kept as
// the change's business date and shown in the account's history; one in the future is a 422
// naming it and changes nothing.
func TestAccountWritesTakeOccurredOn(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const token = "conformance-bootstrap-token-03"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	const on = "2024-03-01"
	id := admin.do("POST", "/api/v1/users", map[string]any{"name": "Võ Thị Ngày", "role": "steering_committee", "occurred_on": on}).
		must(t, 201, "create with occurred_on").str("id")
	u := "/api/v1/users/" + id
	admin.do("POST", u+"/grant", map[string]any{"role": "finance_officer", "occurred_on": on}).must(t, 200, "grant with occurred_on")
	tok := admin.do("POST", u+"/tokens", map[string]any{"name": "x", "occurred_on": on}).must(t, 201, "token with occurred_on").str("token_id")
	admin.do("POST", u+"/suspend", map[string]any{"reason": "nghỉ", "occurred_on": on}).must(t, 200, "suspend with occurred_on")
	admin.do("POST", u+"/reactivate", map[string]any{"occurred_on": on}).must(t, 200, "reactivate with occurred_on")
	admin.do("POST", u+"/password", map[string]any{"password": "mat-khau-rat-dai-01", "occurred_on": on}).must(t, 200, "password with occurred_on")
	if tok == "" {
		t.Fatal("no token_id")
	}
	before := admin.do("GET", u+"/events", nil).must(t, 200, "history").raw
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/users", map[string]any{"name": "Ngày mai", "role": "steering_committee"}},
		{u + "/grant", map[string]any{"role": "steering_committee"}},
		{u + "/tokens", map[string]any{"name": "y"}},
		{u + "/suspend", map[string]any{"reason": "x"}},
		{u + "/reactivate", map[string]any{}},
		{u + "/password", map[string]any{"password": "mat-khau-rat-dai-02"}},
	} {
		c.body["occurred_on"] = "2099-01-01"
		r := admin.do("POST", c.path, c.body)
		if r.code != 422 || strings.Join(problemFields(r), ",") != "occurred_on" {
			t.Errorf("POST %s dated 2099: %d %s, want 422 naming occurred_on", c.path, r.code, r.raw)
		}
		c.body["occurred_on"] = "2024-02-30"
		if r := admin.do("POST", c.path, c.body); r.code != 400 || strings.Join(problemFields(r), ",") != "occurred_on" {
			t.Errorf("POST %s dated 2024-02-30: %d %s, want 400 naming occurred_on", c.path, r.code, r.raw)
		}
	}
	hist := admin.do("GET", u+"/events", nil).must(t, 200, "history")
	if hist.raw != before {
		t.Errorf("the refused changes changed the history:\n%s\n%s", before, hist.raw)
	}
	var events []map[string]any
	if err := json.Unmarshal([]byte(hist.raw), &events); err != nil || len(events) < 7 {
		t.Fatalf("history: %v %s", err, hist.raw)
	}
	for _, e := range events {
		if e["occurred_on"] != on {
			t.Errorf("%v v%v: occurred_on %v, want %s", e["type"], e["version"], e["occurred_on"], on)
		}
	}
	if users := admin.do("GET", "/api/v1/users", nil).must(t, 200, "users").raw; strings.Contains(users, "Ngày mai") {
		t.Errorf("a user dated 2099 was created: %s", users)
	}
}

// A list or an indicators report filtered by a unit code that no unit ever had is a 400
// naming unit_code, not an empty answer an official would read as "this unit has none"; a
// unit merged away since, and the province's own scope, still answer.
func TestUnknownUnitFilterIsRefused(t *testing.T) {
	t.Parallel()
	admin := mergedUnitsServe(t, "conformance-bootstrap-token-02")
	for _, path := range []string{"/api/v1/models?unit_code=SO-X", "/api/v1/projects?unit_code=so-b",
		"/api/v1/reports/indicators?year=2025&unit_code=SO-X", "/api/v1/indicators?unit_code=SO-X"} {
		r := admin.do("GET", path, nil)
		if r.code != 400 || strings.Join(problemFields(r), ",") != "unit_code" {
			t.Errorf("GET %s: %d naming %q, want 400 naming unit_code: %s", path, r.code, problemFields(r), r.raw)
		}
	}
	for _, path := range []string{"/api/v1/models?unit_code=SO-B", "/api/v1/projects?unit_code=SO-A",
		"/api/v1/reports/indicators?year=2025&unit_code=SO-A", "/api/v1/indicators?unit_code=province",
		"/api/v1/reports/indicators?year=2025&unit_code=DT"} {
		admin.do("GET", path, nil).must(t, 200, path)
	}
}
