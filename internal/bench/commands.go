package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/workflows"
	"github.com/dxledger/dxledger/workflows/definition"
	"github.com/oklog/ulid/v2"
)

// CommandsOptions configures Commands.
type CommandsOptions struct {
	Clients  int // concurrent clients (default 4)
	Commands int // commands measured per stream length (default 2000)
	Short    int // events of a short item's history (default 10)
	Long     int // events of a long item's history (default 1000)
	Items    int // items of each length (default 16)
	// NoCache turns the handler's state cache off: every command loads its item's whole
	// stream (the path before issue 16).
	NoCache bool
}

// CommandLatency is one stream length's figures.
type CommandLatency struct {
	Events    int     `json:"history_events"`
	Commands  int     `json:"commands"`
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
	// FirstP99Millis is the p99 of each item's first command, before the cache knows the item.
	FirstP99Millis float64 `json:"first_p99_ms"`
}

// CommandsResult is what Commands measured.
type CommandsResult struct {
	Benchmark string         `json:"benchmark"`
	Clients   int            `json:"clients"`
	Seconds   float64        `json:"seconds"`
	PerSec    float64        `json:"commands_per_sec"`
	Short     CommandLatency `json:"short"`
	Long      CommandLatency `json:"long"`
	// RatioP99 is the long items' p99 over the short items' (issue 16: ≤ 1.5).
	RatioP99 float64              `json:"ratio_p99"`
	Cache    workflows.CacheStats `json:"cache"`
	// ReadsPerCommand and EventsReadPerCommand count the stream reads and the events they
	// returned, per measured command (both lengths together): load-insensitive evidence.
	ReadsPerCommand      float64 `json:"stream_reads_per_command"`
	EventsReadPerCommand float64 `json:"events_read_per_command"`
}

// countingStore counts the stream reads of the handler under test and the events they return.
type countingStore struct {
	*eventstore.Store
	reads, records atomic.Int64
}

func (c *countingStore) ReadStream(ctx context.Context, stream string, from int64) ([]eventstore.Record, error) {
	recs, err := c.Store.ReadStream(ctx, stream, from)
	c.reads.Add(1)
	c.records.Add(int64(len(recs)))
	return recs, err
}

// Print writes the result as JSON or as lines of text.
func (r CommandsResult) Print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	fmt.Fprintf(w, "%s: %d clients, %.0f commands/s over %.1fs\n", r.Benchmark, r.Clients, r.PerSec, r.Seconds)
	for _, l := range []CommandLatency{r.Short, r.Long} {
		fmt.Fprintf(w, "  items of %4d events: %d commands, p50 %.2f ms, p99 %.2f ms (each item's first command: p99 %.2f ms)\n",
			l.Events, l.Commands, l.P50Millis, l.P99Millis, l.FirstP99Millis)
	}
	_, err := fmt.Fprintf(w, "  p99 ratio %d / %d events: %.2f (target ≤ 1.5); per command %.2f stream reads returning %.1f events; state cache: %d hits, %d misses, %d stale, %d decided unread\n",
		r.Long.Events, r.Short.Events, r.RatioP99, r.ReadsPerCommand, r.EventsReadPerCommand, r.Cache.Hits, r.Cache.Misses, r.Cache.Stale, r.Cache.Unread)
	return err
}

// Commands measures the latency of one kind of command — a progress report by the item's unit's
// focal point, in process through workflows.Handler (authorisation, workflow definition, load,
// decide, append; no HTTP) — on items whose streams hold o.Short and o.Long events. The
// histories are written straight into the store (funding requests, approvals, payments and
// progress reports, the mix of a long life); each client then alternates between a short item
// and a long one, so both lengths are measured under the same load. Each item's first command
// is timed apart (the cache does not know the item yet); the rest are the figures.
func Commands(ctx context.Context, store *eventstore.Store, o CommandsOptions) (CommandsResult, error) {
	o.Clients = max(o.Clients, 0)
	if o.Clients == 0 {
		o.Clients = 4
	}
	if o.Commands <= 0 {
		o.Commands = 2000
	}
	if o.Short <= 0 {
		o.Short = 10
	}
	if o.Long <= 0 {
		o.Long = 1000
	}
	if o.Items <= 0 {
		o.Items = 16
	}
	reg, err := definition.NewRegistry(definition.Default())
	if err != nil {
		return CommandsResult{}, err
	}
	size := 0
	if o.NoCache {
		size = -1
	}
	counted := &countingStore{Store: store}
	h, err := workflows.NewHandler(workflows.Config{Store: counted, Definitions: reg, StateCacheSize: size})
	if err != nil {
		return CommandsResult{}, err
	}
	admin := workflows.Actor{UserID: "bench-admin", Role: role.Admin}
	code := "BC-" + ulid.Make().String()[18:]
	today := h.Today()
	if _, err := h.RegisterUnit(ctx, admin, unit.Register{Code: code, Name: "Sở (benchmark commands)", Kind: unit.Province, On: today.AddDays(-400)}, workflows.Options{}); err != nil {
		return CommandsResult{}, fmt.Errorf("set up: %w", err)
	}
	short, err := seedHistories(ctx, store, code, o.Items, o.Short, today)
	if err != nil {
		return CommandsResult{}, err
	}
	long, err := seedHistories(ctx, store, code, o.Items, o.Long, today)
	if err != nil {
		return CommandsResult{}, err
	}
	focal := workflows.Actor{UserID: "bench-focal", Role: role.FocalPoint, UnitCode: code}
	act := func(id string, n int) (time.Duration, error) {
		t0 := time.Now()
		_, err := h.Act(ctx, focal, item.Project, id, workflows.ActProgress,
			&item.ReportProgress{Meta: item.Meta{On: today}, Percent: 1 + n%99}, workflows.Options{})
		return time.Since(t0), err
	}
	// Each item's first command, cold, from the clients at once (which also opens the pool's
	// connections before the measured commands).
	firstShort, firstLong := make([]time.Duration, o.Items), make([]time.Duration, o.Items)
	var (
		fwg    sync.WaitGroup
		ferrMu sync.Mutex
		ferr   error
	)
	for c := range min(o.Clients, o.Items) {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			for i := c; i < o.Items; i += o.Clients {
				var err error
				if firstShort[i], err = act(short[i], 0); err == nil {
					firstLong[i], err = act(long[i], 0)
				}
				if err != nil {
					ferrMu.Lock()
					ferr = err
					ferrMu.Unlock()
					return
				}
			}
		}()
	}
	fwg.Wait()
	if ferr != nil {
		return CommandsResult{}, ferr
	}
	var (
		mu         sync.Mutex
		latS, latL []time.Duration
		first      error
		wg         sync.WaitGroup
	)
	perClient := (o.Commands + o.Clients - 1) / o.Clients
	counted.reads.Store(0)
	counted.records.Store(0)
	start := time.Now()
	for c := range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s, l []time.Duration
			for n := range perClient {
				// Client c takes items c, c+Clients, … in turn, so that no two clients
				// share an item (a command is not timed losing races).
				i := (c + n*o.Clients) % o.Items
				if o.Clients > o.Items {
					i = c % o.Items
				}
				ds, err := act(short[i], n)
				if err == nil {
					s = append(s, ds)
					var dl time.Duration
					dl, err = act(long[i], n)
					l = append(l, dl)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			latS, latL = append(latS, s...), append(latL, l...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return CommandsResult{}, first
	}
	lat := func(events int, d, firsts []time.Duration) CommandLatency {
		p50, p99 := percentiles(d)
		_, f99 := percentiles(firsts)
		return CommandLatency{Events: events, Commands: len(d), P50Millis: p50, P99Millis: p99, FirstP99Millis: f99}
	}
	r := CommandsResult{Benchmark: "commands (in process through workflows.Handler: report_progress)", Clients: o.Clients,
		Seconds: elapsed.Seconds(), PerSec: float64(len(latS)+len(latL)) / elapsed.Seconds(),
		Short: lat(o.Short, latS, firstShort), Long: lat(o.Long, latL, firstLong), Cache: h.CacheStats()}
	r.ReadsPerCommand = float64(counted.reads.Load()) / float64(len(latS)+len(latL))
	r.EventsReadPerCommand = float64(counted.records.Load()) / float64(len(latS)+len(latL))
	if o.NoCache {
		r.Benchmark += ", state cache off"
	}
	if r.Short.P99Millis > 0 {
		r.RatioP99 = r.Long.P99Millis / r.Short.P99Millis
	}
	return r, nil
}

// seedHistories writes n funded projects of unit code, each with a history of events events
// (proposal, request, approval, then a long life's mix: further requests and approvals,
// payments and progress reports), straight into the store, and returns their ids.
func seedHistories(ctx context.Context, store *eventstore.Store, code string, n, events int, today civil.Date) ([]string, error) {
	ids := make([]string, n)
	start := today.AddDays(-365)
	for k := range ids {
		id := ulid.Make().String()
		ids[k] = id
		f := func(d int) item.Fact { return item.Fact{On: start.AddDays(min(d/4, 360))} }
		evs := []item.Event{
			&item.Proposed{Fact: f(0), ID: id, Kind: item.Project, Title: "Dự án đo lệnh " + id, UnitCode: code, Pillar: item.Government,
				Sector: "general", EstimatedCost: 1_000_000_000_000, StartDate: start, EndDate: today.AddDays(700), WorkflowVersion: 1, Stage: item.StageProposed},
			&item.FundingRequested{Fact: f(1), RequestID: "r0", Source: "provincial_budget", Amount: 10_000_000_000, Year: start.Year},
			&item.FundingApproved{Fact: f(2), RequestID: "r0", Source: "provincial_budget", Year: start.Year, Amount: 10_000_000_000,
				Officers: []string{"bench"}, Stage: item.StageFunded},
		}
		for i := len(evs); i < events; i++ {
			r := fmt.Sprint("r", i/10)
			switch i % 10 {
			case 0:
				evs = append(evs, &item.FundingRequested{Fact: f(i), RequestID: r, Source: "provincial_budget", Amount: 1_000_000, Year: start.Year})
			case 1:
				evs = append(evs, &item.FundingApproved{Fact: f(i), RequestID: fmt.Sprint("r", (i-1)/10), Source: "provincial_budget", Year: start.Year,
					Amount: 1_000_000, Officers: []string{"bench"}, Stage: item.StageFunded})
			case 2, 3:
				evs = append(evs, &item.Disbursed{Fact: f(i), Source: "provincial_budget", Amount: money.VND(100_000)})
			default:
				evs = append(evs, &item.ProgressReported{Fact: f(i), Percent: i % 100})
			}
		}
		out := make([]eventstore.Event, len(evs))
		for i, e := range evs {
			typ, data, err := item.Encode(item.Project, e)
			if err != nil {
				return nil, err
			}
			out[i] = eventstore.Event{Type: typ, Data: data, Metadata: eventstore.Metadata{Actor: "bench", Role: "focal_point", Unit: code,
				OccurredOn: e.Date().Time(time.UTC)}}
		}
		stream, expected := workflows.StreamID(item.Project, id), eventstore.NoStream
		for len(out) > 0 {
			batch := out[:min(len(out), eventstore.MaxEventsPerAppend)]
			res, err := store.Append(ctx, stream, expected, batch)
			if err != nil {
				return nil, fmt.Errorf("seed %s: %w", stream, err)
			}
			out, expected = out[len(batch):], res.ToVersion
		}
	}
	return ids, nil
}
