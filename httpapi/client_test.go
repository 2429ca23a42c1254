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
	"time"

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

// A person reads their own write: the position a write answered with is sent on the reads of
// a client made WithMinPosition, and only on reads.
func TestClientReadsItsOwnWrite(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		sent []string // method, path and the Dxledger-Min-Position of each call
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Method+" "+r.URL.Path+" "+r.Header.Get("Dxledger-Min-Position"))
		mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/models":
			w.Header().Set("Dxledger-Position", "812/3")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"01M","version":1}`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/users":
			w.Header().Set("Dxledger-Position", "813/0")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"01U","token":"secret"}`)
		case r.URL.Path == "/api/v1/me":
			io.WriteString(w, `{"id":"01U","name":"Tài chính","role":"finance_officer","created_at":"2026-01-02T03:04:05Z"}`)
		default:
			io.WriteString(w, `{"rows":[],"total":{"registrations":1,"distinct_models":1}}`)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c := httpapi.NewClient(srv.URL, "tok", nil)

	w, err := c.Propose(ctx, "model", httpapi.Proposal{Title: "Chợ số", UnitCode: "DT", Pillar: "economy", Sector: "commerce"})
	if err != nil || w.Position != "812/3" || w.ID != "01M" {
		t.Fatalf("propose: got %+v, %v; want the Dxledger-Position 812/3", w, err)
	}
	u, err := c.CreateUser(ctx, httpapi.NewUser{Name: "Tài chính", Role: "finance_officer"})
	if err != nil || u.Position != "813/0" || u.Token != "secret" {
		t.Fatalf("create user: got %+v, %v; want the Dxledger-Position 813/0", u, err)
	}
	after := c.WithMinPosition(w.Position)
	if _, err := after.ModelCounts(ctx, httpapi.ReportQuery{GroupBy: "unit"}); err != nil {
		t.Fatal(err)
	}
	if me, err := after.Me(ctx); err != nil || me.ID != "01U" || me.Role != "finance_officer" {
		t.Errorf("me: got %+v, %v", me, err)
	}
	if _, err := after.Propose(ctx, "model", httpapi.Proposal{Title: "Y tế số"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModelCounts(ctx, httpapi.ReportQuery{GroupBy: "unit"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /api/v1/models ",
		"POST /api/v1/users ",
		"GET /api/v1/reports/model-counts 812/3",
		"GET /api/v1/me 812/3",
		"POST /api/v1/models ",              // a write never waits
		"GET /api/v1/reports/model-counts ", // the first client is unchanged
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(sent, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(sent, "\n"), strings.Join(want, "\n"))
	}
}

// A read answered 503 with Retry-After (the read models not yet at its position) is tried
// again after the delay, within a bound; anything else is answered at once.
func TestClientRetriesAStaleRead(t *testing.T) {
	t.Parallel()
	// stub answers 503 with retryAfter ("" for none) to the first n calls, then 200.
	stub := func(t *testing.T, n int, retryAfter string) (*httpapi.Client, func() int) {
		var (
			mu    sync.Mutex
			calls int
		)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			stale := calls <= n
			mu.Unlock()
			if stale {
				if retryAfter != "" {
					w.Header().Set("Retry-After", retryAfter)
				}
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"type":"about:blank","title":"Reports not yet current","status":503,"detail":"items behind"}`)
				return
			}
			w.Header().Set("Dxledger-Position", "9/0")
			io.WriteString(w, `{"id":"01P","version":2,"rows":[],"total":{"registrations":4,"distinct_models":3}}`)
		}))
		t.Cleanup(srv.Close)
		return httpapi.NewClient(srv.URL, "tok", nil).WithMinPosition("9/0"), func() int {
			mu.Lock()
			defer mu.Unlock()
			return calls
		}
	}
	// bounded is a subtest's context: it ends a client that would wait on and on.
	bounded := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	stale := func(err error) bool {
		var p *httpapi.Problem
		return errors.As(err, &p) && p.Status == 503 && p.Title == "Reports not yet current"
	}

	t.Run("after the delay it names", func(t *testing.T) {
		t.Parallel()
		ctx := bounded(t)
		c, calls := stub(t, 1, "1")
		start := time.Now()
		r, err := c.ModelCounts(ctx, httpapi.ReportQuery{GroupBy: "unit"})
		if took := time.Since(start); err != nil || r.Total.Registrations != 4 || calls() != 2 || took < time.Second {
			t.Errorf("got %+v, %v after %d calls in %v; want the report on the second call, a second later", r, err, calls(), took)
		}
	})
	t.Run("an HTTP date", func(t *testing.T) {
		t.Parallel()
		ctx := bounded(t)
		c, calls := stub(t, 2, "Mon, 02 Jan 2006 15:04:05 GMT")
		if r, err := c.ModelCounts(ctx, httpapi.ReportQuery{}); err != nil || r.Total.Registrations != 4 || calls() != 3 {
			t.Errorf("got %+v, %v after %d calls; want the report on the third call", r, err, calls())
		}
	})
	t.Run("gives up after the bound", func(t *testing.T) {
		t.Parallel()
		ctx := bounded(t)
		c, calls := stub(t, 1000, "0")
		start := time.Now()
		_, err := c.WithRetryFor(450*time.Millisecond).ModelCounts(ctx, httpapi.ReportQuery{})
		took := time.Since(start)
		if !stale(err) || calls() < 2 || calls() > 5 || took > 2*time.Second {
			t.Errorf("got %v after %d calls in %v; want the server's 503 after 2 to 5 calls (a try at most every 100 ms, for 450 ms)", err, calls(), took)
		}
	})
	t.Run("not when the delay passes the bound", func(t *testing.T) {
		t.Parallel()
		ctx := bounded(t)
		c, calls := stub(t, 1, "30")
		start := time.Now()
		_, err := c.ModelCounts(ctx, httpapi.ReportQuery{})
		if took := time.Since(start); !stale(err) || calls() != 1 || took > time.Second {
			t.Errorf("Retry-After 30: got %v after %d calls in %v; want the 503 at once (30 s is past the 10 s bound)", err, calls(), took)
		}
	})
	t.Run("not without Retry-After", func(t *testing.T) {
		t.Parallel()
		ctx := bounded(t)
		c, calls := stub(t, 1, "")
		if _, err := c.ModelCounts(ctx, httpapi.ReportQuery{}); !stale(err) || calls() != 1 {
			t.Errorf("got %v after %d calls; want the 503 at once", err, calls())
		}
	})
	t.Run("not a write", func(t *testing.T) {
		t.Parallel()
		ctx := bounded(t)
		c, calls := stub(t, 1, "0")
		if _, err := c.Propose(ctx, "project", httpapi.Proposal{Title: "x"}); !stale(err) || calls() != 1 {
			t.Errorf("got %v after %d calls; want the write's 503 at once, never sent twice", err, calls())
		}
	})
	t.Run("not once the context ends", func(t *testing.T) {
		t.Parallel()
		c, calls := stub(t, 1000, "1")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.ModelCounts(ctx, httpapi.ReportQuery{})
		if took := time.Since(start); err == nil || calls() != 1 || took > time.Second {
			t.Errorf("got %v after %d calls in %v; want an error when the context ends", err, calls(), took)
		}
	})
}
