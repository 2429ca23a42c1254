package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dxledger/dxledger/httpapi"
	"github.com/oklog/ulid/v2"
)

// HTTPOptions configures the load generator over real HTTP against a running server: HTTPReads
// sends GETs open-loop at a fixed rate; HTTPCommands has clients post funding requests as fast
// as the server answers.
type HTTPOptions struct {
	URL   string // the server, such as http://127.0.0.1:8080
	Token string // a bearer token; an administrator's for HTTPCommands, which sets up its data
	// Paths are the GETs of HTTPReads, taken in turn (default: the three reports by unit).
	Paths   []string
	Rate    int // HTTPReads: requests per second, sent whatever the answers' pace (default 200)
	Clients int // HTTPCommands: clients posting funding requests (default 16)
	Seconds int // how long (default 20)
}

func (o *HTTPOptions) setDefaults() {
	if len(o.Paths) == 0 {
		o.Paths = []string{"/api/v1/reports/funding-gaps?group_by=unit", "/api/v1/reports/model-counts?group_by=unit",
			"/api/v1/reports/completion?group_by=unit"}
	}
	if o.Rate <= 0 {
		o.Rate = 200
	}
	if o.Clients <= 0 {
		o.Clients = 16
	}
	if o.Seconds <= 0 {
		o.Seconds = 20
	}
}

// client is an API client whose connections are enough for the load.
func (o HTTPOptions) client() *httpapi.Client {
	return httpapi.NewClient(o.URL, o.Token, &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}})
}

// printHTTP is the line of text of an HTTP result.
func printHTTP(w io.Writer, r Result) {
	fmt.Fprintf(w, "%s: %d requests in %.1fs: %.0f/s answered, p50 %.1f ms, p99 %.1f ms\n",
		r.Benchmark, r.Events, r.Seconds, r.EventsPerSec, r.P50Millis, r.P99Millis)
}

// HTTPReads sends GETs of o.Paths in turn at o.Rate per second for o.Seconds, each on its own
// goroutine, and measures the answers; any failed request fails the benchmark.
func HTTPReads(ctx context.Context, o HTTPOptions) (Result, error) {
	o.setDefaults()
	c, paths := o.client(), o.Paths
	var (
		mu      sync.Mutex
		lat     []time.Duration
		failed  int
		lastErr error
		wg      sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(o.Rate))
	defer tick.Stop()
	start := time.Now()
	deadline := start.Add(time.Duration(o.Seconds) * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		<-tick.C
		path := paths[i%len(paths)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			var out json.RawMessage
			err := c.Get(ctx, path, &out)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				lastErr = err
				return
			}
			lat = append(lat, d)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed > 0 {
		return Result{}, fmt.Errorf("%d of %d requests failed, the last: %w", failed, failed+len(lat), lastErr)
	}
	p50, p99 := percentiles(lat)
	return Result{Benchmark: "http reads " + strings.Join(paths, " "), Events: len(lat), Seconds: elapsed.Seconds(),
		EventsPerSec: float64(len(lat)) / elapsed.Seconds(), P50Millis: p50, P99Millis: p99, text: printHTTP}, nil
}

// HTTPCommands sets up a unit, a focal point and one project per client (o.Token must be an
// administrator's), then has o.Clients clients post funding requests as fast as the server
// answers for o.Seconds.
func HTTPCommands(ctx context.Context, o HTTPOptions) (Result, error) {
	o.setDefaults()
	clients, seconds := o.Clients, o.Seconds
	focal, projects, err := setUpProjects(ctx, o.client(), clients)
	if err != nil {
		return Result{}, err
	}
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	start := time.Now()
	err = closedLoop(clients, start.Add(time.Duration(seconds)*time.Second), func(i int) error {
		t0 := time.Now()
		_, err := focal.RequestFunding(ctx, "project", projects[i],
			httpapi.FundingRequest{Source: "provincial_budget", AmountVND: 1_000_000, Year: time.Now().Year()})
		if err == nil {
			mu.Lock()
			lat = append(lat, time.Since(t0))
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		return Result{}, err
	}
	elapsed := time.Since(start)
	p50, p99 := percentiles(lat)
	return Result{Benchmark: fmt.Sprintf("http commands (%d clients, POST funding-requests)", clients), Writers: clients,
		Events: len(lat), Seconds: elapsed.Seconds(), EventsPerSec: float64(len(lat)) / elapsed.Seconds(), P50Millis: p50, P99Millis: p99,
		text: printHTTP}, nil
}

// closedLoop runs step(i) again and again on each of n clients until deadline, each client
// waiting for its answer before the next (a closed loop); the first error stops that client and
// is returned once all have stopped.
func closedLoop(n int, deadline time.Time, step func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := step(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// setUpProjects registers a unit, a focal point of it and n projects of hers (admin must be an
// administrator's client), and returns her client and the projects' ids.
func setUpProjects(ctx context.Context, admin *httpapi.Client, n int) (*httpapi.Client, []string, error) {
	code := "BENCH-" + ulid.Make().String()[18:]
	if _, err := admin.RegisterUnit(ctx, httpapi.Unit{Code: "BENCH-DT", Name: "Tỉnh (benchmark)", Kind: "province"}); err != nil {
		var p *httpapi.Problem
		if !errors.As(err, &p) || p.Status != http.StatusConflict {
			return nil, nil, fmt.Errorf("set up: %w", err)
		}
	}
	if _, err := admin.RegisterUnit(ctx, httpapi.Unit{Code: code, Name: "Sở (benchmark)", Kind: "department", ParentCode: "BENCH-DT"}); err != nil {
		return nil, nil, fmt.Errorf("set up: %w", err)
	}
	user, err := admin.CreateUser(ctx, httpapi.NewUser{Name: "Đầu mối (benchmark)", Role: "focal_point", UnitCode: code})
	if err != nil {
		return nil, nil, fmt.Errorf("set up: %w", err)
	}
	focal := admin.WithToken(user.Token)
	today := time.Now().Format(time.DateOnly)
	projects := make([]string, n)
	for i := range projects {
		ok, err := focal.Propose(ctx, "project", httpapi.Proposal{Title: fmt.Sprintf("Dự án đo tải %d", i), UnitCode: code,
			Pillar: "government", Sector: "general", EstimatedCostVND: 1_000_000_000_000, StartDate: today,
			EndDate: time.Now().AddDate(2, 0, 0).Format(time.DateOnly)})
		if err != nil {
			return nil, nil, fmt.Errorf("set up: %w", err)
		}
		projects[i] = ok.ID
	}
	return focal, projects, nil
}

// HTTPWaited measures read-your-writes over HTTP: o.Clients clients each post a funding request
// and, as soon as it is answered, GET o.Paths[0] with the write's position in
// Dxledger-Min-Position (the server waits until its read models include the write), again
// and again for o.Seconds. The result is the waited reads' latency; the writes' is in
// Writes. o.Token must be an administrator's: it sets up the projects.
func HTTPWaited(ctx context.Context, o HTTPOptions) (Result, error) {
	o.setDefaults()
	clients, seconds := o.Clients, o.Seconds
	focal, projects, err := setUpProjects(ctx, o.client(), clients)
	if err != nil {
		return Result{}, err
	}
	path := o.Paths[0]
	var (
		mu          sync.Mutex
		reads, wris []time.Duration
	)
	start := time.Now()
	err = closedLoop(clients, start.Add(time.Duration(seconds)*time.Second), func(i int) error {
		t0 := time.Now()
		w, err := focal.RequestFunding(ctx, "project", projects[i],
			httpapi.FundingRequest{Source: "provincial_budget", AmountVND: 1_000_000, Year: time.Now().Year()})
		t1 := time.Now()
		var out json.RawMessage
		if err == nil {
			err = focal.WithMinPosition(w.Position).Get(ctx, path, &out)
		}
		t2 := time.Now()
		if err == nil {
			mu.Lock()
			wris, reads = append(wris, t1.Sub(t0)), append(reads, t2.Sub(t1))
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		return Result{}, err
	}
	elapsed := time.Since(start)
	p50, p99 := percentiles(reads)
	w50, w99 := percentiles(wris)
	return Result{Benchmark: fmt.Sprintf("http waited reads (%d clients: POST funding-requests, then GET %s with its Dxledger-Min-Position)", clients, path),
		Writers: clients, Events: len(reads), Seconds: elapsed.Seconds(), EventsPerSec: float64(len(reads)) / elapsed.Seconds(),
		P50Millis: p50, P99Millis: p99, Writes: &Latency{P50Millis: w50, P99Millis: w99},
		text: func(w io.Writer, r Result) {
			printHTTP(w, r)
			fmt.Fprintf(w, "the writes before them: p50 %.1f ms, p99 %.1f ms\n", r.Writes.P50Millis, r.Writes.P99Millis)
		}}, nil
}
