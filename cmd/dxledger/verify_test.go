package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// `dxledger verify` names the row changed by hand and exits non-zero; a clean store passes.
func TestVerifyCommand(t *testing.T) {
	db := pgtest.New(t)
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=verify-bootstrap-token-01"}
	base, stop := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	admin := client{t, base, "verify-bootstrap-token-01"}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"verify"}, env[:1], &out, io.Discard); err != nil {
		t.Fatalf("verify of an untouched store: %v\n%s", err, out.String())
	}
	// Two units, and the bootstrap administrator's account (created, token issued): accounts
	// are streams verified like every other.
	if !strings.Contains(out.String(), "4 events in 3 streams checked, 0 problems") {
		t.Errorf("verify printed %q", out.String())
	}
	for _, q := range []string{`ALTER TABLE events DISABLE TRIGGER events_append_only`,
		`UPDATE events SET data = '{"code":"SO-YT","name":"Sở Y tế (sửa tay)","kind":"department","parent_code":"DT","effective_date":"2020-01-01"}' WHERE stream_id = 'unit-SO-YT'`} {
		if _, err := db.Pool.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	err := run(context.Background(), []string{"verify"}, env[:1], &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "TAMPERED: stream unit-SO-YT version 1") {
		t.Errorf("verify after a hand edit: err %v, printed %q; want the row named and an error", err, out.String())
	}
}

// `dxledger verify --anchor-out` writes an anchor a clean store extends; once the newest event
// is deleted by hand (which the hash chain alone cannot see), `verify --anchor` says so and
// exits non-zero, and no new anchor is written over a broken log.
func TestVerifyAnchorCommand(t *testing.T) {
	db := pgtest.New(t)
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=verify-bootstrap-token-02"}
	base, stop := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	admin := client{t, base, "verify-bootstrap-token-02"}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "DT", "name": "Tỉnh Đồng Tháp", "kind": "province"}).must(t, 201, "unit")
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-YT", "name": "Sở Y tế", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	anchor := filepath.Join(t.TempDir(), "anchor.txt")
	var out strings.Builder
	if err := run(context.Background(), []string{"verify", "--anchor-out", anchor}, env[:1], &out, io.Discard); err != nil {
		t.Fatalf("verify --anchor-out: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "events: ") || !strings.Contains(out.String(), "events_sha256: ") {
		t.Errorf("verify --anchor-out printed %q, want the anchor", out.String())
	}
	admin.do("POST", "/api/v1/units", map[string]any{"code": "SO-TC", "name": "Sở Tài chính", "kind": "department", "parent_code": "DT"}).must(t, 201, "unit")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"verify", "--anchor", anchor}, env[:1], &out, io.Discard); err != nil {
		t.Fatalf("verify --anchor of a log that grew after it: %v\n%s", err, out.String())
	}
	for _, q := range []string{`ALTER TABLE events DISABLE TRIGGER events_append_only`,
		`DELETE FROM events WHERE stream_id = 'unit-SO-YT'`} {
		if _, err := db.Pool.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"verify"}, env[:1], &out, io.Discard); err != nil {
		t.Fatalf("plain verify cannot see a deleted newest event, yet: %v", err)
	}
	out.Reset()
	again := filepath.Join(t.TempDir(), "again.txt")
	err := run(context.Background(), []string{"verify", "--anchor", anchor, "--anchor-out", again}, env[:1], &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "TAMPERED:") || !strings.Contains(out.String(), "deleted") {
		t.Errorf("verify --anchor after the newest anchored event was deleted: err %v, printed %q; want an error naming the deletion", err, out.String())
	}
	if _, err := os.Stat(again); err == nil {
		t.Error("an anchor was written over a log that fails its checks")
	}
}
