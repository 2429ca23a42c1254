package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
)

type pending struct {
	kind item.Kind
	id   string
	ver  int64
	e    item.Event
	at   time.Time
}

// A history with late entries (recorded weeks after their business date) and a merge; every
// report, for every pair of as_of and known_at, must equal a fresh replay of the events
// filtered the same way.
func TestReportsEqualFilteredReplay(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	clk := pjtest.NewClock(time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC))
	store, err := eventstore.New(db.Pool, eventstore.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pjtest.SeedUnits(t, store)

	rng := rand.New(rand.NewPCG(42, 42))
	var all []pending
	for i := 0; i < 80; i++ {
		kind := item.Project
		if i%2 == 0 {
			kind = item.Model
		}
		id := fmt.Sprintf("i%03d", i)
		shift := rng.IntN(300) // days: spread the lives over 2022-2023
		var last time.Time
		for v, e := range pjtest.LifeOf(rng, kind, id) {
			moveDate(e, shift)
			at := e.Date().Time(time.UTC).Add(time.Duration(9+rng.IntN(8)) * time.Hour)
			if rng.IntN(4) == 0 {
				at = at.AddDate(0, 0, 10+rng.IntN(90)) // entered late
			}
			if at.Before(last) {
				at = last.Add(time.Minute)
			}
			last = at
			all = append(all, pending{kind, id, int64(v), e, at})
		}
		if kind == item.Model && i > 10 && rng.IntN(3) == 0 {
			target := fmt.Sprintf("i%03d", rng.IntN(i/2)*2)
			on := civil.Of(last.AddDate(0, 0, 5))
			all = append(all, pending{kind, id, -1, &item.MarkedSameAs{Fact: item.Fact{On: on}, ModelID: target}, last.AddDate(0, 0, 20)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	versions := map[string]int64{}
	for _, p := range all {
		clk.Set(p.at)
		key := string(p.kind) + "-" + p.id
		pjtest.AppendItem(t, store, p.kind, p.id, versions[key], p.e)
		versions[key]++
	}
	// A project funded exactly to its estimate: no gap, and not an item with a gap.
	clk.Set(time.Date(2023, 3, 1, 9, 0, 0, 0, time.UTC))
	f := func(d string) item.Fact { return item.Fact{On: day(d)} }
	pjtest.AppendItem(t, store, item.Project, "exact", 0,
		&item.Proposed{Fact: f("2023-01-10"), ID: "exact", Kind: item.Project, Title: "Cân đối đủ vốn", UnitCode: "SO-YT",
			Pillar: item.Society, Sector: "health", EstimatedCost: 2_000_000_000, StartDate: pjtest.Day("2023-02-01"),
			EndDate: pjtest.Day("2024-02-01"), WorkflowVersion: 1, Stage: item.StageProposed},
		&item.FundingRequested{Fact: f("2023-01-12"), RequestID: "r1", Source: "oda", Amount: 2_000_000_000, Year: 2023},
		&item.FundingApproved{Fact: f("2023-02-01"), RequestID: "r1", Source: "oda", Year: 2023, Amount: 2_000_000_000,
			Officers: []string{"f"}, Stage: item.StageFunded})
	// Projects whose planned end falls in the month of "now" (2026-01-15): before it (overdue),
	// the day before it (overdue from today on), on it and after it (not yet).
	for _, end := range []string{"2026-01-10", "2026-01-14", "2026-01-15", "2026-01-20"} {
		id := "end-" + end
		pjtest.AppendItem(t, store, item.Project, id, 0, &item.Proposed{Fact: f("2023-04-01"), ID: id, Kind: item.Project,
			Title: "Kết thúc " + end, UnitCode: "SO-GDDT", Pillar: item.Society, Sector: "education", EstimatedCost: 1_000_000_000,
			StartDate: pjtest.Day("2023-05-01"), EndDate: day(end), WorkflowVersion: 1, Stage: item.StageProposed})
	}
	clk.Set(time.Date(2025, 2, 20, 9, 0, 0, 0, time.UTC))
	pjtest.AppendUnit(t, store, unit.Merged{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: pjtest.Day("2025-03-01")}, 1)
	pjtest.AppendUnit(t, store, unit.Merged{Code: "H-LAPVO", IntoCode: "DT", EffectiveDate: pjtest.Day("2025-07-01")}, 1)

	r := newRunner(t, db.Pool, store)
	// Small buckets of recording time, so that reports read the sums of closed buckets.
	for _, p := range []projector.Projection{readmodel.Units{}, readmodel.Items{BucketFacts: 37, History: readmodel.NewHistory(64)}} {
		if _, err := r.Rebuild(context.Background(), p, nil); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := store.ReadPrefix(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	reports := NewReports(db.Pool, func() time.Time { return now }, time.UTC)
	// Days that end their month, first days, and days within a month (whose month's single rows
	// are read by one of four quadrants: each is checked, forced, besides the one picked).
	asOfs := []string{"2022-02-01", "2022-05-01", "2022-06-17", "2022-12-31", "2023-03-14", "2023-08-01", "2025-03-01",
		"2025-12-31"}
	knownAts := []time.Time{time.Date(2022, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 25, 0, 0, 0, 0, time.UTC), {}}
	checked := 0
	for _, a := range asOfs {
		for _, k := range knownAts {
			q := Query{AsOf: day(a), KnownAt: k}
			want := replay(t, recs, q, now)
			for _, quadrant := range []byte{0, 'A', 'B', 'C', 'D'} {
				if quadrant != 0 && k.IsZero() {
					continue
				}
				reports.quadrant = quadrant
				a := fmt.Sprintf("%s (quadrant %q)", a, quadrant)
				for _, g := range []string{"unit", "pillar", "source", "year"} {
					got, err := reports.FundingGaps(context.Background(), g, q)
					if err != nil {
						t.Fatal(err)
					}
					same(t, fmt.Sprintf("funding gaps by %s as of %s known at %v", g, a, k), got, want.gaps(g))
				}
				for _, g := range []string{"unit", "unit_kind"} {
					got, err := reports.ModelCounts(context.Background(), g, q)
					if err != nil {
						t.Fatal(err)
					}
					same(t, fmt.Sprintf("model counts by %s as of %s known at %v", g, a, k), got, want.counts(g))
					gotC, err := reports.Completion(context.Background(), "", g, q)
					if err != nil {
						t.Fatal(err)
					}
					same(t, fmt.Sprintf("completion by %s as of %s known at %v", g, a, k), gotC, want.completion(g))
				}
			}
			reports.quadrant = 0
			checked++
		}
	}
	// "Now" is read from the current tables, not the facts: it must say the same as the facts
	// folded up to today, as known now.
	explicit := Query{AsOf: civil.Of(now), KnownAt: now.Add(time.Hour)}
	for _, g := range []string{"unit", "pillar", "sector", "source", "year"} {
		fast, err := reports.FundingGaps(context.Background(), g, Query{})
		if err != nil {
			t.Fatal(err)
		}
		slow, _ := reports.FundingGaps(context.Background(), g, explicit)
		same(t, "funding gaps now by "+g, fast, slow)
	}
	for _, g := range []string{"unit", "unit_kind", "pillar", "sector"} {
		fast, _ := reports.ModelCounts(context.Background(), g, Query{})
		slow, _ := reports.ModelCounts(context.Background(), g, explicit)
		same(t, "model counts now by "+g, fast, slow)
		for _, kind := range []string{"", "model", "project"} {
			fastC, _ := reports.Completion(context.Background(), kind, g, Query{})
			slowC, _ := reports.Completion(context.Background(), kind, g, explicit)
			same(t, "completion now by "+g+" of "+kind, fastC, slowC)
		}
	}

	// The history must make the times matter, or the test proves nothing.
	early, _ := reports.FundingGaps(context.Background(), "unit", Query{AsOf: pjtest.Day("2022-12-31"), KnownAt: knownAts[1]})
	late, _ := reports.FundingGaps(context.Background(), "unit", Query{AsOf: pjtest.Day("2022-12-31")})
	if early.Total.Disbursed == late.Total.Disbursed {
		t.Errorf("late entries changed nothing: disbursed %d either way", late.Total.Disbursed)
	}
	before, _ := reports.FundingGaps(context.Background(), "unit", Query{AsOf: pjtest.Day("2025-02-28")})
	after, _ := reports.FundingGaps(context.Background(), "unit", Query{AsOf: pjtest.Day("2025-03-01")})
	if hasKey(after.Rows, "SO-KHDT") || !hasKey(before.Rows, "SO-KHDT") {
		t.Errorf("merge of SO-KHDT on 2025-03-01: rows before %v, after %v", keys(before.Rows), keys(after.Rows))
	}
	t.Logf("%d (as_of, known_at) pairs checked against a replay of %d events", checked, len(recs))
}

func hasKey(rows []FundingGapRow, k string) bool {
	for _, r := range rows {
		if r.Key == k {
			return true
		}
	}
	return false
}

func keys(rows []FundingGapRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Key)
	}
	return out
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// moveDate shifts an event's business date and the dates it carries by days.
func moveDate(e item.Event, days int) {
	switch e := e.(type) {
	case *item.Proposed:
		e.On, e.StartDate, e.EndDate = e.On.AddDays(days), e.StartDate.AddDays(days), e.EndDate.AddDays(days)
	case *item.FundingRequested:
		e.On = e.On.AddDays(days)
	case *item.FundingApproved:
		e.On = e.On.AddDays(days)
	case *item.Disbursed:
		e.On = e.On.AddDays(days)
	case *item.ProgressReported:
		e.On = e.On.AddDays(days)
	case *item.Implemented:
		e.On = e.On.AddDays(days)
	case *item.Cancelled:
		e.On = e.On.AddDays(days)
	case *item.Suspended:
		e.On = e.On.AddDays(days)
	}
}

// replayed is the reference: item states folded from the filtered events with the domain's
// own Evolve, and the unit successions in effect.
type replayed struct {
	asOf  civil.Date
	items []item.State
	// disbursedByYear[i] is items[i]'s money spent, by the budget year of the request it drew on.
	disbursedByYear []map[int]int64
	kinds           map[string]string
	merge           map[string]string
}

func replay(t *testing.T, recs []eventstore.Record, q Query, now time.Time) replayed {
	t.Helper()
	known := q.KnownAt
	if known.IsZero() {
		known = now.Add(time.Hour)
	}
	rp := replayed{asOf: q.AsOf, kinds: map[string]string{}, merge: map[string]string{}}
	states := map[string]item.State{}
	byYear := map[string]map[int]int64{}
	var order []string
	for _, r := range recs {
		on := civil.Of(r.Metadata.OccurredOn)
		if r.Metadata.RecordedAt.After(known) {
			continue
		}
		if len(r.StreamID) > 5 && r.StreamID[:5] == "unit-" {
			e, err := unit.Decode(r.Type, r.Data)
			if err != nil {
				t.Fatal(err)
			}
			switch e := e.(type) {
			case unit.Registered:
				rp.kinds[e.Code] = string(e.Kind)
			case unit.Merged:
				if !e.EffectiveDate.After(q.AsOf) {
					rp.merge[e.Code] = e.IntoCode
				}
			}
			continue
		}
		if on.After(q.AsOf) {
			continue
		}
		e, err := item.Decode(r.Type, r.Data, on)
		if err != nil {
			t.Fatal(err)
		}
		if _, seen := states[r.StreamID]; !seen {
			order = append(order, r.StreamID)
		}
		states[r.StreamID] = item.Evolve(states[r.StreamID], e)
		if d, ok := e.(*item.Disbursed); ok {
			if byYear[r.StreamID] == nil {
				byYear[r.StreamID] = map[int]int64{}
			}
			y := d.Year // the request's budget year; the payment's own for one that names none
			if y == 0 {
				y = on.Year
			}
			byYear[r.StreamID][y] += int64(d.Amount)
		}
	}
	for _, s := range order {
		rp.items = append(rp.items, states[s])
		rp.disbursedByYear = append(rp.disbursedByYear, byYear[s])
	}
	return rp
}

func (rp replayed) successor(code string) string {
	for i := 0; i <= len(rp.merge); i++ {
		next, ok := rp.merge[code]
		if !ok {
			break
		}
		code = next
	}
	return code
}

func (rp replayed) key(s item.State, g string) string {
	switch g {
	case "unit":
		return rp.successor(s.UnitCode)
	case "unit_kind": // the kind of the item's own unit, whatever became of it (DESIGN.md invariant 12)
		return rp.kinds[s.UnitCode]
	case "pillar":
		return string(s.Pillar)
	}
	return s.Sector
}

func (rp replayed) gaps(g string) FundingGapReport {
	rows := map[string]*FundingGapRow{}
	get := func(k string, item bool) *FundingGapRow {
		if rows[k] == nil {
			rows[k] = &FundingGapRow{Key: k}
			if item {
				rows[k].Estimated, rows[k].Gap, rows[k].ItemsWithGap = new(int64), new(int64), new(int64)
			}
		}
		return rows[k]
	}
	total := FundingGapRow{Key: "total", Estimated: new(int64), Gap: new(int64), ItemsWithGap: new(int64)}
	for i, s := range rp.items {
		if s.Stage == item.StageCancelled {
			continue
		}
		gap := int64(max(0, s.EstimatedCost-s.Approved))
		if s.OwnFunding != "" {
			gap = 0
		}
		*total.Estimated += int64(s.EstimatedCost)
		*total.Gap += gap
		total.Requested += int64(s.Requested)
		total.Approved += int64(s.Approved)
		total.Disbursed += int64(s.Disbursed)
		if gap > 0 {
			*total.ItemsWithGap++
		}
		switch g {
		case "source", "year":
			for _, rq := range s.Requests {
				k := string(rq.Source)
				if g == "year" {
					k = strconv.Itoa(rq.Year)
				}
				row := get(k, false)
				row.Requested += int64(rq.Amount)
				row.Approved += int64(rq.Approved)
			}
			if g == "source" {
				for src, d := range s.DisbursedBySource {
					get(string(src), false).Disbursed += int64(d)
				}
			} else {
				for y, d := range rp.disbursedByYear[i] {
					get(strconv.Itoa(y), false).Disbursed += d
				}
			}
		default:
			row := get(rp.key(s, g), true)
			*row.Estimated += int64(s.EstimatedCost)
			*row.Gap += gap
			row.Requested += int64(s.Requested)
			row.Approved += int64(s.Approved)
			row.Disbursed += int64(s.Disbursed)
			if gap > 0 {
				*row.ItemsWithGap++
			}
		}
	}
	out := FundingGapReport{Rows: []FundingGapRow{}, Total: total}
	for _, r := range rows {
		out.Rows = append(out.Rows, *r)
	}
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Key < out.Rows[j].Key })
	return out
}

func (rp replayed) counts(g string) ModelCountReport {
	rows := map[string]*ModelCountRow{}
	var out ModelCountReport
	for _, s := range rp.items {
		if s.Kind != item.Model {
			continue
		}
		k := rp.key(s, g)
		if rows[k] == nil {
			rows[k] = &ModelCountRow{Key: k}
		}
		rows[k].Registrations++
		out.Total.Registrations++
		if s.SameAs == "" {
			rows[k].DistinctModels++
			out.Total.DistinctModels++
		}
	}
	out.Rows = []ModelCountRow{}
	for _, r := range rows {
		out.Rows = append(out.Rows, *r)
	}
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Key < out.Rows[j].Key })
	return out
}

func (rp replayed) completion(g string) CompletionReport {
	type acc struct {
		row        CompletionRow
		sum, count int64
	}
	rows := map[string]*acc{}
	total := &acc{row: CompletionRow{Key: "total"}}
	for _, s := range rp.items {
		k := rp.key(s, g)
		if rows[k] == nil {
			rows[k] = &acc{row: CompletionRow{Key: k}}
		}
		for _, a := range []*acc{rows[k], total} {
			switch s.Stage {
			case item.StageProposed:
				a.row.Proposed++
			case item.StageFunded:
				a.row.Funded++
			case item.StageImplemented:
				a.row.Implemented++
			case item.StageEvaluated:
				a.row.Evaluated++
			case item.StageSuspended:
				a.row.Suspended++
			case item.StageCancelled:
				a.row.Cancelled++
			}
			if s.Stage != item.StageImplemented && s.Stage != item.StageEvaluated && s.Stage != item.StageCancelled &&
				!s.EndDate.IsZero() && rp.asOf.After(s.EndDate) {
				a.row.Overdue++
			}
			if s.Stage != item.StageCancelled {
				a.sum += int64(s.Progress)
				a.count++
			}
		}
	}
	avg := func(a *acc) float64 {
		if a.count == 0 {
			return 0
		}
		return math.Round(float64(a.sum)/float64(a.count)*10) / 10
	}
	out := CompletionReport{Rows: []CompletionRow{}}
	for _, a := range rows {
		a.row.AverageProgress = avg(a)
		out.Rows = append(out.Rows, a.row)
	}
	total.row.AverageProgress = avg(total)
	out.Total = total.row
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Key < out.Rows[j].Key })
	return out
}
