package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
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

// Issue 16 point 3: `dxledger rebuild` heeds SIGTERM while it folds: the process stops, drops
// what it built beside the live tables, leaves the live tables and checkpoints as they were
// and says so.
func TestRebuildStopsOnSIGTERM(t *testing.T) {
	db := pgtest.New(t)
	bin := dxledgerBinary(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DXLEDGER_DATABASE_URL=" + db.URL}
	gen := exec.Command(bin, "bench", "generate", "--bulk", "--events", "150000")
	gen.Env = env
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	if err := run(context.Background(), []string{"rebuild"}, env[2:], io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	type state struct {
		oid                   uint32
		facts, deltas, checks int64
		checkpoints, schemas  string
	}
	read := func() state {
		var s state
		if err := db.Pool.QueryRow(context.Background(), `SELECT 'pj_item_facts'::regclass::oid,
			(SELECT count(*) FROM pj_item_facts), (SELECT count(*) FROM pj_group_deltas), (SELECT count(*) FROM projection_checkpoints),
			(SELECT string_agg(name || ' ' || tx_id || '/' || seq || ' ' || events, ', ' ORDER BY name) FROM projection_checkpoints),
			(SELECT coalesce(string_agg(nspname, ', '), '') FROM pg_namespace WHERE nspname LIKE 'pj_rebuild%')`).
			Scan(&s.oid, &s.facts, &s.deltas, &s.checks, &s.checkpoints, &s.schemas); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := read()
	if before.facts < 150000 || before.checks == 0 {
		t.Fatalf("after the first rebuild: %+v", before)
	}

	// Its sorts spill under rebuild_temp_dir, not the system's temporary directory, in a
	// directory of their own, removed on SIGTERM; one a killed rebuild left (its process is
	// gone) is removed by this one.
	spillRoot, sysTmp := filepath.Join(t.TempDir(), "spill"), t.TempDir()
	stale := filepath.Join(spillRoot, "dxledger-rebuild-999999999-left")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "group-0"), make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	spills := func(dir string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, "dxledger-rebuild-*"))
		return m
	}
	cmd := exec.Command(bin, "rebuild")
	cmd.Env = append(slices.Clone(env), "DXLEDGER_REBUILD_TEMP_DIR="+spillRoot, "TMPDIR="+sysTmp)
	var log lockedBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The first batch is read (the progress line comes at once): the items' load reads,
	// folds and writes from the new tables' creation on.
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(log.String(), `msg=rebuilding`); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the rebuild did not start loading within 60 s:\n%s", log.String())
		}
	}
	own := fmt.Sprintf("dxledger-rebuild-%d-", cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got := spills(spillRoot)
		if len(got) == 1 && strings.HasPrefix(filepath.Base(got[0]), own) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spill directories under rebuild_temp_dir while it folds: %v, want its own (%s…) alone, the stale one removed", got, own)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the rebuild did not stop within 20 s of SIGTERM:\n%s", log.String())
	}
	out := log.String()
	if err == nil {
		t.Fatalf("the rebuild exited 0 after SIGTERM:\n%s", out)
	}
	if !strings.Contains(out, "stopped by a signal") || !strings.Contains(out, "the live tables and checkpoints are as they were") {
		t.Fatalf("the rebuild did not say it stopped and left the live tables:\n%s", out)
	}
	if strings.Contains(out, "after 0 events read") || !strings.Contains(out, `step="create tables"`) {
		t.Fatalf("SIGTERM came before the rebuild folded anything; the test proves nothing:\n%s", out)
	}
	if strings.Contains(out, `step=swap`) {
		t.Fatalf("the rebuild swapped its tables in after SIGTERM:\n%s", out)
	}
	if left := append(spills(spillRoot), spills(sysTmp)...); len(left) > 0 {
		t.Fatalf("spill directories left after SIGTERM: %v", left)
	}
	if after := read(); after != before {
		t.Fatalf("live tables or checkpoints changed by the stopped rebuild:\n before %+v\n after  %+v", before, after)
	}
	t.Logf("stopped: %s", out[strings.LastIndex(out, "dxledger:"):])
}
