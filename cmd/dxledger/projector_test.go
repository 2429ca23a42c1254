package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// rebuild draws a bar (rate and time left) on a terminal and writes plain log lines elsewhere.
func TestRebuildProgress(t *testing.T) {
	t.Parallel()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	var log bytes.Buffer
	p := rebuildProgress("items", 1000, tty, slog.New(slog.NewTextHandler(&log, nil)))
	for n := int64(100); n <= 1000; n += 100 {
		p.update(n)
		time.Sleep(15 * time.Millisecond)
	}
	p.done()
	tty.Close()
	screen, _ := io.ReadAll(ptmx)
	if !strings.Contains(string(screen), "rebuild items") || !strings.Contains(string(screen), "events") {
		t.Errorf("terminal shows %q; want a bar naming the projection and the rate in events", screen)
	}
	if log.Len() != 0 {
		t.Errorf("on a terminal the bar replaces the log lines, got %q", log.String())
	}

	var plain, plainLog bytes.Buffer
	q := rebuildProgress("items", 1000, &plain, slog.New(slog.NewTextHandler(&plainLog, nil)))
	q.update(100)
	q.done()
	if plain.Len() != 0 {
		t.Errorf("not a terminal: drew %q", plain.String())
	}
	if !strings.Contains(plainLog.String(), "rebuilding") || !strings.Contains(plainLog.String(), "events_per_s") {
		t.Errorf("not a terminal: logged %q, want a line with the rate", plainLog.String())
	}
}

// The projector is a worker of its own: it brings the projections up to date and stops on
// its context.
func TestProjectorCatchesUp(t *testing.T) {
	db := pgtest.New(t)
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=projector-bootstrap-token"}
	base, stop := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	admin := client{t, base, "projector-bootstrap-token"}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(context.Background(), `DELETE FROM projection_checkpoints; TRUNCATE pj_units`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"projector"}, env[:1], io.Discard, io.Discard) }()
	deadline := time.Now().Add(20 * time.Second)
	var n int
	for time.Now().Before(deadline) {
		if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pj_units`).Scan(&n); err == nil && n == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("projector: %v", err)
	}
	if n != 1 {
		t.Errorf("the projector wrote %d units, want 1", n)
	}
}
