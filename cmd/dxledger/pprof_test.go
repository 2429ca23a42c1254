package main

import (
	"net/http"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// Issue 16 point 5: serve's runtime profiles (/debug/pprof/, for finding what holds its memory)
// are guarded as /metrics is: with metrics_token, only to its bearer.
func TestProfilesBehindTheMetricsGuard(t *testing.T) {
	db := pgtest.New(t)
	const secret = "metrics-secret-token-000002"
	base, stop := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_METRICS_TOKEN=" + secret})
	defer stop()
	if code, _ := get(t, base+"/debug/pprof/heap", ""); code != http.StatusUnauthorized {
		t.Errorf("/debug/pprof/heap without the token: %d, want 401", code)
	}
	if code, body := get(t, base+"/debug/pprof/heap?debug=1", secret); code != 200 || len(body) < 100 {
		t.Errorf("/debug/pprof/heap with the token: %d, %d bytes", code, len(body))
	}
}
