package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A panic in a handler is a 500 problem that tells the client nothing of the internals, and is
// logged once with the request id.
func TestPanicBecomesA500Problem(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	a := &api{Deps: Deps{Logger: slog.New(slog.NewTextHandler(&log, nil))}}
	a.requests, a.duration = newHTTPMetrics()
	srv := httptest.NewServer(a.observe(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state: password=hunter2")
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/boom", nil)
	req.Header.Set("X-Request-ID", "req-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("status %d, content type %q; want a 500 problem", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(body.String(), "hunter2") || !strings.Contains(body.String(), "req-42") {
		t.Errorf("body %q: want no internals and the request id", body.String())
	}
	if !strings.Contains(log.String(), "request_id=req-42") || !strings.Contains(log.String(), "panic") {
		t.Errorf("log %q: want the panic with the request id", log.String())
	}
}
