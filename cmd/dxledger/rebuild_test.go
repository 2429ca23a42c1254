package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// Issue 11: `dxledger rebuild` beside a serving process on the same database loses nothing.
// Models are proposed through the API while two rebuilds run; the rebuild swaps its tables in
// and serve's follower goes on from the rebuild's position, so the reports then count every
// model proposed, each once, and set nothing aside.
func TestRebuildBesideServeLosesNothing(t *testing.T) {
	db := pgtest.New(t)
	const token = "rebuild-bootstrap-token-000001"
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token}
	base, stop := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	defer stop()
	rs := readSide{t, client{t, base, token}}
	rs.admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "province")
	for i := range 50 {
		if id, _ := rs.propose(fmt.Sprintf("Trước %d", i)); id == "" {
			t.Fatal("propose before the rebuilds failed")
		}
	}

	var (
		mu       sync.Mutex
		proposed = 50
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				id, _ := rs.propose(fmt.Sprintf("Trong %d-%d", w, i))
				if id == "" {
					continue // refused or timed out: not proposed (counted only when acknowledged)
				}
				mu.Lock()
				proposed++
				mu.Unlock()
			}
		}()
	}
	for i := range 2 {
		if err := run(context.Background(), []string{"rebuild"}, env[:1], io.Discard, io.Discard); err != nil {
			cancel()
			wg.Wait()
			t.Fatalf("rebuild %d: %v", i, err)
		}
	}
	time.Sleep(300 * time.Millisecond) // serve's follower takes over while the writers go on
	cancel()
	wg.Wait()

	// A proposal after every acknowledged one: its position is past theirs.
	id, pos := rs.propose("Sau")
	if id == "" {
		t.Fatal("propose after the rebuilds failed")
	}
	proposed++
	n, aside := rs.counts(pos)
	// Every model in the store, and none twice, also in the projection's own rows.
	var items, events int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM pj_items),
		(SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'model-%')`).Scan(&items, &events); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d models proposed, %d during the rebuilds; counted %d, %d rows in pj_items, %d set aside",
		proposed, proposed-50, n, items, aside)
	// A proposal whose answer was lost may be in the store all the same: the store decides.
	if n != events || aside != 0 || events < int64(proposed) {
		t.Fatalf("after the rebuilds: %d registrations, %d set aside, %d models in the store; want %d, 0, at least %d",
			n, aside, events, events, proposed)
	}
	if items != events {
		t.Fatalf("pj_items has %d rows for %d models in the store", items, events)
	}
}
