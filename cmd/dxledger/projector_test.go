package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

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
