package main

import (
	"github.com/dxledger/dxledger/eventstore"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// A person sees their own write (DESIGN.md, invariant 11): every write answers with
// Dxledger-Position, and a read that sends it back waits until the projections have applied
// that write — or says 503 with Retry-After when they cannot in time. The projections are held
// back on purpose (a lock on their checkpoint row), so that a read that does not wait would
// show the figures from before the write.
func TestReadYourOwnWrites(t *testing.T) {
	db := pgtest.New(t)
	const token = "position-bootstrap-token-00001"
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token})
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "province")
	propose := func(title string, headers ...string) string {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/v1/models", strings.NewReader(
			`{"title":"`+title+`","unit_code":"DT","pillar":"economy","sector":"commerce"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		pos := resp.Header.Get("Dxledger-Position")
		if resp.StatusCode != 201 || pos == "" {
			t.Fatalf("propose %s: %d, position %q; want 201 with a Dxledger-Position", title, resp.StatusCode, pos)
		}
		return pos
	}
	registrations := func(r reply) float64 {
		total, _ := r.body["total"].(map[string]any)
		n, _ := total["registrations"].(float64)
		return n
	}
	// Let the first write settle, so that the checkpoint row exists to be held.
	first := propose("Chợ số")
	admin.do("GET", "/api/v1/reports/model-counts?group_by=unit", nil, "Dxledger-Min-Position", first).must(t, 200, "first read")

	hold := func(d time.Duration) {
		tx, err := db.Pool.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(t.Context(), `SELECT 1 FROM projection_checkpoints WHERE name = 'items' FOR UPDATE`); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(d)
			tx.Rollback(t.Context())
		}()
	}

	// Held for half a second: the read waits, then includes the write.
	hold(500 * time.Millisecond)
	pos := propose("Phố đi bộ không dùng tiền mặt")
	if r := admin.do("GET", "/api/v1/reports/model-counts?group_by=unit", nil); registrations(r) != 1 {
		t.Fatalf("a read without the position while the projections are held shows %v registrations, want 1 (the test holds nothing back)", registrations(r))
	}
	start := time.Now()
	r := admin.do("GET", "/api/v1/reports/model-counts?group_by=unit", nil, "Dxledger-Min-Position", pos).must(t, 200, "read with the write's position")
	if registrations(r) != 2 {
		t.Errorf("read with Dxledger-Min-Position after %v: %v registrations, want 2: %s", time.Since(start), registrations(r), r.raw)
	}
	// The same through the query parameter, on a list.
	hold(300 * time.Millisecond)
	pos = propose("Nông nghiệp số")
	l := admin.do("GET", "/api/v1/models?unit_code=DT&min_position="+pos, nil).must(t, 200, "list with min_position")
	if items, _ := l.body["items"].([]any); len(items) != 3 {
		t.Errorf("list with min_position: %d models, want 3: %s", len(items), l.raw)
	}

	// Held for longer than the read may wait: 503 with Retry-After, saying why.
	hold(3500 * time.Millisecond)
	pos = propose("Y tế số")
	req, _ := http.NewRequest("GET", base+"/api/v1/reports/model-counts?group_by=unit", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Dxledger-Min-Position", pos)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("read with a position the projections cannot reach in time: %d, Retry-After %q; want 503 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	time.Sleep(2 * time.Second)
	r = admin.do("GET", "/api/v1/reports/model-counts?group_by=unit", nil, "Dxledger-Min-Position", pos).must(t, 200, "read once released")
	if registrations(r) != 4 {
		t.Errorf("read once the projections were released: %v registrations, want 4", registrations(r))
	}

	// A retried write answers with a position at or after the first; a bad position is 400.
	keyed := propose("Du lịch số", "Idempotency-Key", "k-1")
	propose("Giáo dục số")
	replay := propose("Du lịch số", "Idempotency-Key", "k-1")
	kp, err1 := eventstore.ParsePosition(keyed)
	rp, err2 := eventstore.ParsePosition(replay)
	if err1 != nil || err2 != nil || rp.Less(kp) {
		t.Errorf("replayed write answered position %q, the first %q; want one at or after it", replay, keyed)
	}
	admin.do("GET", "/api/v1/reports/model-counts?group_by=unit", nil, "Dxledger-Min-Position", "not-a-position").must(t, 400, "bad position")
	admin.do("GET", "/api/v1/reports/model-counts?group_by=unit", nil, "Dxledger-Min-Position", "99999999/1").must(t, 400, "a position past the store's newest")
}
