package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dxledger/dxledger/httpapi"
)

// The client sends what the API expects and decodes what it answers; the server's end is
// driven through the binary in cmd/dxledger's component tests.
func TestClient(t *testing.T) {
	t.Parallel()
	type call struct{ method, path, auth, body string }
	var (
		mu  sync.Mutex
		got []call
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, call{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), string(b)})
		mu.Unlock()
		switch {
		case r.URL.Path == "/api/v1/reports/funding-gaps":
			io.WriteString(w, `{"rows":[{"key":"SO-GDDT","estimated_vnd":9,"requested_vnd":6,"approved_vnd":4,"disbursed_vnd":0,"gap_vnd":5,"items_with_gap":1}],
				"total":{"key":"","estimated_vnd":null,"requested_vnd":6,"approved_vnd":4,"disbursed_vnd":0,"gap_vnd":null,"items_with_gap":1}}`)
		case r.URL.Path == "/api/v1/projects" && r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"01P","version":1}`)
		case strings.HasSuffix(r.URL.Path, "/decision"):
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"some fields break a rule","errors":[{"field":"approved_vnd","message":"more than requested"}]}`)
		case r.URL.Path == "/api/v1/projects":
			io.WriteString(w, `{"items":[{"id":"01P","kind":"project","title":"Học liệu số","estimated_cost_vnd":9}],"next_cursor":null}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c := httpapi.NewClient(srv.URL+"/", "tok-1", nil)

	gaps, err := c.FundingGaps(ctx, httpapi.ReportQuery{GroupBy: "unit", AsOf: "2022-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps.Rows) != 1 || *gaps.Rows[0].Gap != 5 || gaps.Total.Gap != nil || gaps.Total.Requested != 6 {
		t.Errorf("funding gaps: got %+v", gaps)
	}

	w, err := c.WithToken("tok-2").Propose(ctx, "project", httpapi.Proposal{Title: "Học liệu số", UnitCode: "SO-GDDT", Pillar: "society", Sector: "education"})
	if err != nil || w.ID != "01P" || w.Version != 1 {
		t.Errorf("propose: got %+v, %v", w, err)
	}

	approved := int64(0)
	_, err = c.DecideFunding(ctx, "project", "01P", "r/1", httpapi.Decision{Decision: "approve", ApprovedVND: &approved})
	var p *httpapi.Problem
	if !errors.As(err, &p) || p.Status != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "approved_vnd" {
		t.Fatalf("refusal: got %#v, want the server's problem", err)
	}
	if want := "Unprocessable Entity (422): some fields break a rule\n  approved_vnd: more than requested"; err.Error() != want {
		t.Errorf("refusal reads %q, want %q", err.Error(), want)
	}

	page, err := c.Items(ctx, "project", httpapi.ListQuery{Stage: "funded", Limit: 10})
	if err != nil || len(page.Items) != 1 || page.Items[0].Title != "Học liệu số" || page.NextCursor != "" {
		t.Errorf("items: got %+v, %v", page, err)
	}

	// An answer that is not a problem still comes back as one, from its status.
	err = c.Get(ctx, "/nowhere", nil)
	if !errors.As(err, &p) || p.Status != 404 || p.Title != "Not Found" {
		t.Errorf("404 without a problem body: got %#v", err)
	}
	if _, err := c.Propose(ctx, "programme", httpapi.Proposal{}); err == nil {
		t.Error("propose a programme: no error")
	}

	want := []call{
		{"GET", "/api/v1/reports/funding-gaps?as_of=2022-12-31&group_by=unit", "Bearer tok-1", ""},
		{"POST", "/api/v1/projects", "Bearer tok-2", `{"title":"Học liệu số","unit_code":"SO-GDDT","pillar":"society","sector":"education"}`},
		{"POST", "/api/v1/projects/01P/funding-requests/r%2F1/decision", "Bearer tok-1", `{"decision":"approve","approved_vnd":0}`},
		{"GET", "/api/v1/projects?limit=10&stage=funded", "Bearer tok-1", ""},
		{"GET", "/nowhere", "Bearer tok-1", ""},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("calls: got %d %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			g, _ := json.Marshal(got[i])
			t.Errorf("call %d: got %s, want %+v", i, g, want[i])
		}
	}
}
