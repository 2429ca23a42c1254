package main

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

	"github.com/oklog/ulid/v2"
	"github.com/spf13/pflag"
)

// cmdBenchHTTP is the load generator over real HTTP against a running server (DXLEDGER_API_URL,
// DXLEDGER_TOKEN): "reads" sends GETs open-loop at a fixed rate; "commands" has clients post
// funding requests as fast as the server answers (the token must be an administrator's: it
// sets up a unit, a focal point and one project per client).
func cmdBenchHTTP(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	var (
		paths                 []string
		rate, seconds, client int
		asJSON                bool
	)
	c, _, err := newClient("bench http", args, environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringArrayVar(&paths, "path", nil, "GET this path (repeat for several; default: the three reports)")
		fs.IntVar(&rate, "rate", 200, "reads: requests per second, sent whatever the answers' pace")
		fs.IntVar(&seconds, "seconds", 20, "how long")
		fs.IntVar(&client, "commands", 0, "instead of reads: this many clients posting funding requests")
		fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	})
	if err != nil {
		return err
	}
	c.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	var res benchResult
	if client > 0 {
		res, err = benchCommands(ctx, c, client, seconds)
	} else {
		if len(paths) == 0 {
			paths = []string{"/api/v1/reports/funding-gaps?group_by=unit", "/api/v1/reports/model-counts?group_by=unit",
				"/api/v1/reports/completion?group_by=unit"}
		}
		res, err = benchReads(ctx, c, paths, rate, seconds)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%s: %d requests in %.1fs: %.0f/s answered, p50 %.1f ms, p99 %.1f ms\n",
		res.Benchmark, res.Events, res.Seconds, res.EventsPerSec, res.P50Millis, res.P99Millis)
	return nil
}

func benchReads(ctx context.Context, c apiClient, paths []string, rate, seconds int) (benchResult, error) {
	var (
		mu      sync.Mutex
		lat     []time.Duration
		failed  int
		lastErr error
		wg      sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	start := time.Now()
	deadline := start.Add(time.Duration(seconds) * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		<-tick.C
		path := paths[i%len(paths)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			var out json.RawMessage
			err := c.call(ctx, "GET", path, nil, &out)
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
		return benchResult{}, fmt.Errorf("%d of %d requests failed, the last: %w", failed, failed+len(lat), lastErr)
	}
	p50, p99 := percentiles(lat)
	return benchResult{Benchmark: "http reads " + strings.Join(paths, " "), Events: len(lat), Seconds: elapsed.Seconds(),
		EventsPerSec: float64(len(lat)) / elapsed.Seconds(), P50Millis: p50, P99Millis: p99}, nil
}

func benchCommands(ctx context.Context, admin apiClient, clients, seconds int) (benchResult, error) {
	code := "BENCH-" + ulid.Make().String()[18:]
	var ok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := admin.call(ctx, "POST", "/api/v1/units", map[string]any{"code": "BENCH-DT", "name": "Tỉnh (benchmark)", "kind": "province"}, &ok); err != nil {
		var p *clientProblem
		if !errors.As(err, &p) || p.Status != http.StatusConflict {
			return benchResult{}, fmt.Errorf("set up: %w", err)
		}
	}
	if err := admin.call(ctx, "POST", "/api/v1/units", map[string]any{"code": code, "name": "Sở (benchmark)", "kind": "department", "parent_code": "BENCH-DT"}, &ok); err != nil {
		return benchResult{}, fmt.Errorf("set up: %w", err)
	}
	if err := admin.call(ctx, "POST", "/api/v1/users", map[string]any{"name": "Đầu mối (benchmark)", "role": "focal_point", "unit_code": code}, &ok); err != nil {
		return benchResult{}, fmt.Errorf("set up: %w", err)
	}
	focal := admin
	focal.token = ok.Token
	today := time.Now().Format(time.DateOnly)
	projects := make([]string, clients)
	for i := range projects {
		if err := focal.call(ctx, "POST", "/api/v1/projects", map[string]any{"title": fmt.Sprintf("Dự án đo tải %d", i), "unit_code": code,
			"pillar": "government", "sector": "general", "estimated_cost_vnd": 1_000_000_000_000, "start_date": today,
			"end_date": time.Now().AddDate(2, 0, 0).Format(time.DateOnly)}, &ok); err != nil {
			return benchResult{}, fmt.Errorf("set up: %w", err)
		}
		projects[i] = ok.ID
	}
	var (
		mu  sync.Mutex
		lat []time.Duration
		wg  sync.WaitGroup
		bad error
	)
	start := time.Now()
	deadline := start.Add(time.Duration(seconds) * time.Second)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				var out json.RawMessage
				err := focal.call(ctx, "POST", "/api/v1/projects/"+projects[i]+"/funding-requests",
					map[string]any{"source": "provincial_budget", "amount_vnd": 1_000_000, "year": time.Now().Year()}, &out)
				mu.Lock()
				if err != nil {
					bad = err
				} else {
					lat = append(lat, time.Since(t0))
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if bad != nil {
		return benchResult{}, bad
	}
	elapsed := time.Since(start)
	p50, p99 := percentiles(lat)
	return benchResult{Benchmark: fmt.Sprintf("http commands (%d clients, POST funding-requests)", clients), Writers: clients,
		Events: len(lat), Seconds: elapsed.Seconds(), EventsPerSec: float64(len(lat)) / elapsed.Seconds(), P50Millis: p50, P99Millis: p99}, nil
}
