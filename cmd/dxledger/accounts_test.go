package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// Accounts over HTTP (API.md, "Accounts"; issue 14 points 1 and 2): the old token after a
// password reset or a suspension gets 401; tokens are named, listed, revocable and expire; an
// owner makes their own; reactivation leaves revoked tokens revoked; every change is an event of
// the account's stream, with its actor, readable by administrators and verified by `dxledger
// verify`; answers carrying a token are not cached.
func TestAccountsOverHTTP(t *testing.T) {
	db := pgtest.New(t)
	const token = "accounts-bootstrap-token-0001"
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token, "DXLEDGER_TOKEN_TTL=720h"}
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	admin := client{t, base, token}
	me := admin.do("GET", "/api/v1/me", nil).must(t, 200, "me")
	adminID := me.str("id")

	created := admin.do("POST", "/api/v1/users", map[string]any{"name": "Lê Văn Cường", "role": "finance_officer", "password": "mật-khẩu-ban-đầu"}).
		must(t, 201, "create user")
	if created.header.Get("Cache-Control") != "no-store" {
		t.Errorf("POST /users carries a token with Cache-Control %q, want no-store", created.header.Get("Cache-Control"))
	}
	id, first := created.str("id"), created.str("token")
	if id == "" || first == "" {
		t.Fatalf("POST /users answered %s, want {id, token}", created.raw)
	}
	officer := client{t, base, first}
	officer.do("GET", "/api/v1/me", nil).must(t, 200, "the first token works")

	// A replayed POST whose first answer carried a secret returns the same id without it and
	// creates nothing (API.md, Conventions); the same key with another body is 422.
	body := map[string]any{"name": "Trần Văn Lặp", "role": "steering_committee"}
	r1 := admin.do("POST", "/api/v1/users", body, "Idempotency-Key", "u-1").must(t, 201, "create with a key")
	r2 := admin.do("POST", "/api/v1/users", body, "Idempotency-Key", "u-1").must(t, 201, "replay")
	if r2.str("id") != r1.str("id") || r2.str("token") != "" || r1.str("token") == "" {
		t.Errorf("replayed POST /users: first %s, replay %s; want the same id, the token only the first time", r1.raw, r2.raw)
	}
	admin.do("POST", "/api/v1/users", map[string]any{"name": "Khác", "role": "steering_committee"}, "Idempotency-Key", "u-1").must(t, 422, "same key, other body")
	t1 := admin.do("POST", "/api/v1/users/"+r1.str("id")+"/tokens", map[string]any{"name": "a"}, "Idempotency-Key", "t-1").must(t, 201, "token with a key")
	t2 := admin.do("POST", "/api/v1/users/"+r1.str("id")+"/tokens", map[string]any{"name": "a"}, "Idempotency-Key", "t-1").must(t, 201, "token replay")
	if t2.str("token_id") != t1.str("token_id") || t2.str("token") != "" {
		t.Errorf("replayed POST tokens: first %s, replay %s", t1.raw, t2.raw)
	}
	if n := len(admin.do("GET", "/api/v1/users/"+r1.str("id")+"/tokens", nil).body["items"].([]any)); n != 2 {
		t.Errorf("tokens after a replay: %d, want 2 (the first and the keyed one)", n)
	}

	// The owner makes their own token; another officer may not make one for them.
	own := officer.do("POST", "/api/v1/users/"+id+"/tokens", map[string]any{"name": "máy trạm", "expires_in_days": 7}).must(t, 201, "own token")
	if own.str("token") == "" || own.str("token_id") == "" || own.str("expires_at") == "" || own.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token answer %s (Cache-Control %q)", own.raw, own.header.Get("Cache-Control"))
	}
	officer.do("POST", "/api/v1/users/"+id+"/tokens", map[string]any{"expires_in_days": 0}).must(t, 422, "a token living 0 days")
	other := admin.do("POST", "/api/v1/users", map[string]any{"name": "Phạm Thị Dung", "role": "finance_officer"}).must(t, 201, "second officer")
	officer.do("POST", "/api/v1/users/"+other.str("id")+"/tokens", map[string]any{}).must(t, 403, "a token for someone else")
	officer.do("POST", "/api/v1/users/"+other.str("id")+"/suspend", map[string]any{"reason": "x"}).must(t, 403, "an officer suspends")
	officer.do("GET", "/api/v1/users/"+id+"/events", nil).must(t, 403, "an officer reads an account's history")

	list := officer.do("GET", "/api/v1/users/"+id+"/tokens", nil).must(t, 200, "list own tokens")
	items, _ := list.body["items"].([]any)
	if len(items) != 2 || strings.Contains(list.raw, first) || strings.Contains(list.raw, own.str("token")) {
		t.Fatalf("token list: %s, want 2 tokens and no secrets", list.raw)
	}
	// Revoked at once.
	admin.do("DELETE", "/api/v1/users/"+id+"/tokens/"+own.str("token_id"), nil).must(t, 200, "revoke")
	client{t, base, own.str("token")}.do("GET", "/api/v1/me", nil).must(t, 401, "a revoked token")
	admin.do("DELETE", "/api/v1/users/"+id+"/tokens/tok_nope", nil).must(t, 404, "revoke an unknown token")

	// A password reset ends every token, the first one included.
	admin.do("POST", "/api/v1/users/"+id+"/password", map[string]any{"password": "mật-khẩu-quản-trị"}).must(t, 200, "reset")
	officer.do("GET", "/api/v1/me", nil).must(t, 401, "the old token after a password reset")

	// A suspension ends every token; reactivation does not bring them back.
	second := client{t, base, admin.do("POST", "/api/v1/users/"+id+"/tokens", map[string]any{"name": "mới"}).must(t, 201, "new token").str("token")}
	second.do("GET", "/api/v1/me", nil).must(t, 200, "the new token")
	admin.do("POST", "/api/v1/users/"+id+"/suspend", map[string]any{}).must(t, 422, "suspend without a reason")
	admin.do("POST", "/api/v1/users/"+id+"/suspend", map[string]any{"reason": "chuyển công tác"}).must(t, 200, "suspend")
	second.do("GET", "/api/v1/me", nil).must(t, 401, "the token after a suspension")
	admin.do("POST", "/api/v1/users/"+id+"/tokens", map[string]any{}).must(t, 401, "a token for a suspended account")
	admin.do("POST", "/api/v1/users/"+adminID+"/suspend", map[string]any{"reason": "thử"}).must(t, 422, "an administrator suspends themself")
	admin.do("POST", "/api/v1/users/"+id+"/reactivate", map[string]any{"note": "trở lại"}).must(t, 200, "reactivate")
	second.do("GET", "/api/v1/me", nil).must(t, 401, "a token revoked by the suspension, after reactivation")
	admin.do("POST", "/api/v1/users/"+id+"/grant", map[string]any{"role": "steering_committee"}).must(t, 200, "grant")
	admin.do("POST", "/api/v1/users/"+id+"/grant", map[string]any{"role": "focal_point"}).must(t, 422, "a focal point without a unit")
	admin.do("POST", "/api/v1/users/NOPE/suspend", map[string]any{"reason": "x"}).must(t, 404, "suspend an unknown user")

	hist := admin.do("GET", "/api/v1/users/"+id+"/events", nil).must(t, 200, "history")
	var events []struct {
		Type, Actor string
		Version     int64
	}
	if err := json.Unmarshal([]byte(hist.raw), &events); err != nil {
		t.Fatal(err)
	}
	var types []string
	for i, e := range events {
		types = append(types, e.Type)
		if e.Version != int64(i+1) {
			t.Errorf("event %d has version %d", i, e.Version)
		}
		if e.Type != "token_issued.v1" && e.Actor != adminID {
			t.Errorf("%s by %q, want the administrator %s", e.Type, e.Actor, adminID)
		}
	}
	want := "account_created.v1 token_issued.v1 token_issued.v1 token_revoked.v1 password_set.v1 token_revoked.v1 token_issued.v1 " +
		"account_suspended.v1 token_revoked.v1 account_reactivated.v1 role_granted.v1"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("history:\n got %s\nwant %s", got, want)
	}
	if events[2].Actor != id {
		t.Errorf("the owner's own token is recorded as made by %q, want the owner", events[2].Actor)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"verify"}, []string{"DXLEDGER_DATABASE_URL=" + db.URL}, &out, &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'user-%'`).Scan(&n); err != nil || n != 4 {
		t.Errorf("account streams: %d (%v), want 4", n, err)
	}
}

// DESIGN.md invariant 15, the sock-puppet approval of the review: one administrator creates
// two finance officers after a 31 tỷ request was recorded and approves with both — refused;
// the officers who existed before approve; an officer who changed their own password still
// may; an officer whose password the administrator reset after the request may not, and
// neither may a steering-committee member created after it endorse.
func TestSockPuppetApprovalRefused(t *testing.T) {
	db := pgtest.New(t)
	const token = "sockpuppet-bootstrap-token-01"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "province")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}).must(t, 201, "department")
	user := func(name, role, unit string) (client, string) {
		body := map[string]any{"name": name, "role": role, "password": "mật-khẩu-ban-đầu"}
		if unit != "" {
			body["unit_code"] = unit
		}
		r := admin.do("POST", "/api/v1/users", body).must(t, 201, "create "+name)
		return client{t, base, r.str("token")}, r.str("id")
	}
	focal, _ := user("Đầu mối Sở Y tế", "focal_point", "SO-YT")
	fin1, fin1ID := user("Cán bộ tài chính 1", "finance_officer", "")
	fin2, fin2ID := user("Cán bộ tài chính 2", "finance_officer", "")
	bcd, _ := user("Ban chỉ đạo", "steering_committee", "")
	p := focal.do("POST", "/api/v1/projects", map[string]any{"title": "Bệnh án điện tử", "unit_code": "SO-YT", "pillar": "society",
		"sector": "health", "estimated_cost_vnd": 40_000_000_000, "start_date": ago(60), "end_date": ago(-300), "occurred_on": ago(60)}).
		must(t, 201, "propose")
	path := "/api/v1/projects/" + p.str("id")
	ask := func() string {
		return focal.do("POST", path+"/funding-requests", map[string]any{"source": "provincial_budget", "amount_vnd": 31_000_000_000, "year": 2026}).
			must(t, 201, "request 31 tỷ").str("request_id")
	}
	rid := ask()

	// After the request: the administrator makes two officers and a committee member.
	puppet1, _ := user("Bù nhìn 1", "finance_officer", "")
	puppet2, _ := user("Bù nhìn 2", "finance_officer", "")
	puppetBCD, _ := user("Bù nhìn BCĐ", "steering_committee", "")
	puppetBCD.do("POST", path+"/funding-requests/"+rid+"/endorsement", map[string]any{"note": "đồng ý"}).must(t, 403, "endorse by a member created after the request")
	bcd.do("POST", path+"/funding-requests/"+rid+"/endorsement", map[string]any{"note": "đồng ý"}).must(t, 200, "endorse by the committee")
	decision := path + "/funding-requests/" + rid + "/decision"
	approve := map[string]any{"decision": "approve", "approved_vnd": 31_000_000_000}
	r := puppet1.do("POST", decision, approve).must(t, 403, "the first sock puppet approves")
	if !strings.Contains(r.raw, "recorded") {
		t.Errorf("the refusal does not say why: %s", r.raw)
	}
	puppet2.do("POST", decision, approve).must(t, 403, "the second sock puppet approves")

	// The officer who changed their own password takes part; the one whose password the
	// administrator reset after the request does not.
	fin1.do("POST", "/api/v1/users/"+fin1ID+"/password", map[string]any{"password": "mật-khẩu-tự-đổi", "current_password": "sai"}).
		must(t, 422, "own password change with a wrong current password")
	fin1.do("POST", "/api/v1/users/"+fin1ID+"/password", map[string]any{"password": "mật-khẩu-tự-đổi", "current_password": "mật-khẩu-ban-đầu"}).
		must(t, 200, "own password change")
	fin1 = client{t, base, fin1.do("POST", "/api/v1/users/"+fin1ID+"/tokens", map[string]any{}).str("token")}
	if fin1.token != "" {
		t.Fatalf("a token survived the password change")
	}
	fin1 = client{t, base, admin.do("POST", "/api/v1/users/"+fin1ID+"/tokens", map[string]any{}).must(t, 201, "token by the admin").str("token")}
	fin1.do("POST", decision, approve).must(t, 403, "approve with credentials the administrator set after the request")

	// A fresh request, after which nobody else set fin2's credentials and fin1's were last set
	// by the administrator before it: both approve.
	rid2 := ask()
	bcd.do("POST", path+"/funding-requests/"+rid2+"/endorsement", map[string]any{}).must(t, 200, "endorse the second")
	d2 := path + "/funding-requests/" + rid2 + "/decision"
	fin1.do("POST", d2, approve).must(t, 200, "first approval")
	admin.do("POST", "/api/v1/users/"+fin2ID+"/password", map[string]any{"password": "mật-khẩu-quản-trị-đặt"}).must(t, 200, "admin resets fin2")
	fin2 = client{t, base, admin.do("POST", "/api/v1/users/"+fin2ID+"/tokens", map[string]any{}).must(t, 201, "fin2 token").str("token")}
	fin2.do("POST", d2, approve).must(t, 403, "the second approval by an officer the administrator took over")

	// The rule is met by two people whose credentials were set before the request.
	rid3 := ask()
	bcd.do("POST", path+"/funding-requests/"+rid3+"/endorsement", map[string]any{}).must(t, 200, "endorse the third")
	d3 := path + "/funding-requests/" + rid3 + "/decision"
	fin1.do("POST", d3, approve).must(t, 200, "first approval of the third")
	fin2.do("POST", d3, approve).must(t, 200, "second approval of the third")
}

// Issue 14 point 3: the demo's people — their roles, passwords and first tokens — exist before
// its requests were recorded, so its officers and committee take part in its two-person rules;
// the printed sample token works today.
func TestDemoPeoplePrecedeTheirRequests(t *testing.T) {
	t.Parallel() // a long end-to-end test on its own database and server: it overlaps another's waits
	db := pgtest.New(t)
	base, token, stop := runDemo(t, db.URL)
	defer stop()
	client{t, base, token}.do("GET", "/api/v1/me", nil).must(t, 200, "the printed steering committee token")
	var lastSet, firstRequest time.Time
	if err := db.Pool.QueryRow(context.Background(), `SELECT max(recorded_at) FROM events WHERE stream_id LIKE 'user-%'
		AND event_type IN ('account_created.v1', 'role_granted.v1', 'password_set.v1', 'token_issued.v1')`).Scan(&lastSet); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(context.Background(), `SELECT min(recorded_at) FROM events WHERE event_type LIKE '%.funding_requested.v1'`).Scan(&firstRequest); err != nil {
		t.Fatal(err)
	}
	if !lastSet.Before(firstRequest) {
		t.Errorf("the demo's accounts were last set at %s, its first request recorded at %s: its officers could not approve it", lastSet, firstRequest)
	}
}
