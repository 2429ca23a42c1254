package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// reports reads the three reports a steering committee meeting looks at, with fields that
// name the moment of reading left out.
func reports(t *testing.T, c client) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, p := range []string{"/api/v1/reports/funding-gaps?group_by=unit", "/api/v1/reports/model-counts?group_by=unit",
		"/api/v1/reports/completion?group_by=unit&kind=model"} {
		r := c.do("GET", p, nil).must(t, 200, p)
		delete(r.body, "as_of")
		delete(r.body, "known_at")
		out[p] = r.body
	}
	return out
}

// sameReports waits (projections catch up after a start) until c's reports equal want.
func sameReports(t *testing.T, c client, want map[string]any, what string) {
	t.Helper()
	var got map[string]any
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = reports(t, c); reflect.DeepEqual(got, want) {
			return
		}
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	t.Errorf("%s: reports\n%s\nwant\n%s", what, g, w)
}

func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	return runCmdEnv(t, nil, args...)
}

func runCmdEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	var out strings.Builder
	if err := run(context.Background(), args, env, &out, io.Discard); err != nil {
		t.Fatalf("dxledger %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// Issue 13 point 1: `dxledger backup` beside a serving process under write load, `dxledger
// restore` into a new data directory: every event acknowledged before the backup began is
// there, an anchor taken before the backup still holds, verify is clean; quiet backups, both
// physical and logical, restore to the same reports; after a logical restore new appends
// follow the restored events in the global order (the projections see them).
func TestBackupUnderLoadAndRestore(t *testing.T) {
	t.Parallel() // a long end-to-end test on its own database and server: it overlaps another's waits
	work := t.TempDir()
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	const token = "backup-bootstrap-token-0001"
	env := []string{"DXLEDGER_BOOTSTRAP_TOKEN=" + token}
	dataA := filepath.Join(work, "a")
	base, stopA := startServe(t, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataA}, env)
	// Before anything is written, the source's transaction counter runs well ahead of a new
	// cluster's (as a store that has served for a while does): a logical restore must still
	// put new appends after the restored positions.
	conn, err := pgx.Connect(context.Background(), "postgres://dxledger@/dxledger?sslmode=disable&host="+url.QueryEscape(filepath.Join(dataA, "pg", "run")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `DO $$ BEGIN FOR i IN 1..20000 LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$`); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	focal := client{t, base, admin.do("POST", "/api/v1/users", map[string]any{"name": "Nguyễn Văn An", "role": "focal_point", "unit_code": "SO-YT"}).
		must(t, 201, "user").str("token")}
	propose := func(c client, n int) reply {
		return c.do("POST", "/api/v1/models", map[string]any{"title": fmt.Sprintf("Mô hình số %d", n), "unit_code": "SO-YT",
			"pillar": "society", "sector": "health", "estimated_cost_vnd": 1_000_000_000 + n})
	}
	for i := 0; i < 5; i++ {
		propose(focal, i).must(t, 201, "propose")
	}
	anchorBefore := filepath.Join(work, "before.txt")
	runCmd(t, "verify", "--data-dir", dataA, "--anchor-out", anchorBefore)

	// Writers run all through the backup; each remembers when its write was acknowledged.
	type ack struct {
		id string
		at time.Time
	}
	var (
		mu    sync.Mutex
		acks  []ack
		wg    sync.WaitGroup
		stop  = make(chan struct{})
		fails []string
	)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := propose(focal, 1000*w+i+100)
				mu.Lock()
				if r.code == 201 {
					acks = append(acks, ack{r.str("id"), time.Now()})
				} else {
					fails = append(fails, r.raw)
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Second)
	backupStart := time.Now()
	out := runCmd(t, "backup", filepath.Join(work, "under-load"), "--data-dir", dataA)
	t.Log(out)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(fails) > 0 {
		t.Fatalf("%d writes failed during the backup, first: %s", len(fails), fails[0])
	}
	var before []string
	for _, a := range acks {
		if a.at.Before(backupStart) {
			before = append(before, a.id)
		}
	}
	if len(before) == 0 || len(before) == len(acks) {
		t.Fatalf("%d of %d writes acknowledged before the backup: the load did not overlap it", len(before), len(acks))
	}

	// Quiet backups of both kinds, and the reports they must give back.
	want := reports(t, admin)
	time.Sleep(time.Second) // the projections catch up with the last writes
	want = reports(t, admin)
	runCmd(t, "backup", filepath.Join(work, "quiet-physical"), "--data-dir", dataA)
	runCmd(t, "backup", filepath.Join(work, "quiet-logical"), "--logical", "--data-dir", dataA)
	if err := stopA(); err != nil {
		t.Fatal(err)
	}

	// The backup taken under load.
	dataB := filepath.Join(work, "b")
	out = runCmd(t, "restore", filepath.Join(work, "under-load"), "--data-dir", dataB)
	if !strings.Contains(out, "verify clean") {
		t.Errorf("restore printed %q", out)
	}
	runCmd(t, "verify", "--data-dir", dataB, "--anchor", anchorBefore)
	baseB, stopB := startServe(t, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataB}, env)
	readerB := client{t, baseB, focal.token}
	for _, id := range before {
		readerB.do("GET", "/api/v1/models/"+id, nil).must(t, 200, "a model acknowledged before the backup")
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}

	// The quiet ones: the same reports; after the logical restore (new positions from a new
	// server), a new model is counted, so the projections read it after the restored events.
	// "managed" is the move to a managed PostgreSQL: the logical backup restored into an
	// empty database of another server (the tests' cluster) through DXLEDGER_DATABASE_URL.
	managed := pgtest.New(t)
	if _, err := managed.Pool.Exec(context.Background(), `CREATE DATABASE `+managed.Name+`_moved`); err != nil {
		t.Fatal(err)
	}
	movedURL := strings.Replace(managed.URL, "/"+managed.Name+"?", "/"+managed.Name+"_moved?", 1)
	for _, kind := range []string{"physical", "logical", "managed"} {
		data := filepath.Join(work, "r-"+kind)
		args, serveEnv := []string{"--data-dir", data}, env
		backup := filepath.Join(work, "quiet-"+kind)
		if kind == "managed" {
			backup = filepath.Join(work, "quiet-logical")
			args, serveEnv = nil, append([]string{"DXLEDGER_DATABASE_URL=" + movedURL}, env...)
		}
		restoreStart := time.Now()
		runCmdEnv(t, serveEnv, append([]string{"restore", backup}, args...)...)
		runCmdEnv(t, serveEnv, append([]string{"verify", "--anchor", anchorBefore}, args...)...)
		b, stop := startServe(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), serveEnv)
		c := client{t, b, focal.token}
		sameReports(t, c, want, kind+" restore")
		id := propose(c, 99999).must(t, 201, "propose after the restore").str("id")
		c.do("GET", "/api/v1/models/"+id, nil).must(t, 200, "the new model")
		dbURL := movedURL
		if kind != "managed" {
			dbURL = "postgres://dxledger@/dxledger?sslmode=disable&host=" + url.QueryEscape(filepath.Join(data, "pg", "run"))
		}
		newestIsLast(t, dbURL, "model-"+id, restoreStart)
		counted := false
		for deadline := time.Now().Add(30 * time.Second); !counted && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			counted = !reflect.DeepEqual(reports(t, c), want)
		}
		if !counted {
			t.Errorf("%s restore: a model proposed after the restore never reached the reports", kind)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		runCmdEnv(t, serveEnv, append([]string{"verify", "--anchor", anchorBefore}, args...)...)
	}
}

// newestIsLast checks the global order of the store at dbURL: the events of stream, appended
// after the restore, come after every restored event, and nothing is hidden from readers.
func newestIsLast(t *testing.T, dbURL, stream string, restoredBefore time.Time) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var after, hidden bool
	var restoredMax, newMin, xmin string
	if err := conn.QueryRow(ctx, `SELECT
		(SELECT min(tx_id) FROM events WHERE stream_id = $1) > (SELECT max(tx_id) FROM events WHERE recorded_at < $2),
		EXISTS (SELECT 1 FROM events WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot())),
		(SELECT max(tx_id) FROM events WHERE recorded_at < $2)::text, (SELECT min(tx_id) FROM events WHERE stream_id = $1)::text,
		pg_snapshot_xmin(pg_current_snapshot())::text`, stream, restoredBefore).Scan(&after, &hidden, &restoredMax, &newMin, &xmin); err != nil {
		t.Fatal(err)
	}
	if !after || hidden {
		t.Errorf("global order after the restore: the new stream starts at transaction %s, the restored events end at %s, readers see below %s; want the new events last and every event visible",
			newMin, restoredMax, xmin)
	}
}
