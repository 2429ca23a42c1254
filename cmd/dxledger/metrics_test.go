package main

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// Issue 14 point 7: /metrics behind configuration. With metrics_token it asks for that bearer
// token; with metrics_addr it is served there alone and the main address does not serve it;
// with neither it answers this machine only (and not a request a proxy forwarded).
func TestMetricsBehindConfiguration(t *testing.T) {
	db := pgtest.New(t)
	const secret = "metrics-secret-token-000001"
	base, stop := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_METRICS_TOKEN=" + secret})
	if code, _ := get(t, base+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	if code, _ := get(t, base+"/metrics", "wrong-token-but-long-enough"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", code)
	}
	if code, body := get(t, base+"/metrics", secret); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics with the token: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Its own address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	base, stop = startServe(t, []string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", metricsAddr},
		[]string{"DXLEDGER_DATABASE_URL=" + db.URL})
	if code, _ := get(t, base+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the main address beside metrics_addr: %d, want 404", code)
	}
	if code, body := get(t, "http://"+metricsAddr+"/metrics", ""); code != 200 || !strings.Contains(body, "dxledger_http_requests_total") {
		t.Errorf("/metrics on metrics_addr: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Neither: loopback only, and not a forwarded request.
	base, _ = startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, []string{"DXLEDGER_DATABASE_URL=" + db.URL})
	if code, _ := get(t, base+"/metrics", ""); code != 200 {
		t.Errorf("/metrics from this machine: %d, want 200", code)
	}
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics forwarded by a proxy: %v %v, want 403", resp.StatusCode, err)
	}
}
