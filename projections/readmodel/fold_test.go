package readmodel

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/eventstore"
)

// The one fold, held to the domain and to the three ways the projection keeps it. Random
// item histories — facts dated out of order (some before the proposal), recorded late, with
// suspensions, cancellations, evaluations, deadline flags and a planned end or none — are
// decoded as the projection decodes the store, and on a grid of business days and recording
// moments around every fact:
//   - fold agrees with item.Evolve on the events filtered the same way;
//   - the group deltas, written batch by batch as the live projection writes them (random
//     batches) and in one go as the rebuild does, sum to what fold says the item counts;
//   - today's rows, kept batch by batch as the live projection keeps them, end where the
//     rebuild's single fold puts them, and today's group sums are the deltas summed over
//     everything (overdue aside: it changes with the day).
func TestFoldAgrees(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(18, 1))
	histories := 150
	if testing.Short() {
		histories = 40
	}
	for n := range histories {
		kind := item.Project
		if n%3 == 0 {
			kind = item.Model
		}
		id := fmt.Sprintf("h%03d", n)
		evs, recs := randomHistory(rng, kind, id)
		batch := make([]eventstore.Record, len(evs))
		for i, e := range evs {
			typ, data, err := item.Encode(kind, e)
			if err != nil {
				t.Fatal(err)
			}
			batch[i] = eventstore.Record{StreamID: string(kind) + "-" + id, Version: int64(i), Type: typ, Data: data,
				Metadata: eventstore.Metadata{OccurredOn: e.Date().Time(utc), RecordedAt: time.UnixMicro(recs[i]).UTC()}}
		}
		items, rows, err := itemRows(batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || len(rows) != len(evs) {
			t.Fatalf("%s: %d items and %d facts from %d events", id, len(items), len(rows), len(evs))
		}
		facts := make([]fact, len(rows))
		for i := range rows {
			facts[i] = rows[i].fact
		}
		checkHistory(t, id, &items[0].info, facts, evs, cuts(rng, len(facts)))
		if t.Failed() {
			return // one history's failures are enough to read
		}
	}
}

// randomHistory is a proposal and up to a dozen facts in stream order, with their recording
// moments (never decreasing, some equal: one append).
func randomHistory(rng *rand.Rand, kind item.Kind, id string) ([]item.Event, []int64) {
	p := civil.Date{Year: 2022, Month: 1, Day: 1}.AddDays(rng.IntN(200))
	on := func() item.Fact { return item.Fact{On: p.AddDays(rng.IntN(130) - 10)} }
	end := civil.Date{}
	if rng.IntN(4) > 0 {
		end = p.AddDays(rng.IntN(150))
	}
	sources := item.Sources[:3]
	src := func() item.Source { return sources[rng.IntN(len(sources))] }
	amount := func() money.VND { return money.VND(1+rng.IntN(5)) * 100_000_000 }
	evs := []item.Event{&item.Proposed{Fact: item.Fact{On: p}, ID: id, Kind: kind, Title: "Mô hình " + id,
		UnitCode: []string{"SO-YT", "H-LAPVO"}[rng.IntN(2)], Pillar: item.Society, Sector: "health",
		EstimatedCost: money.VND(rng.IntN(8)) * 100_000_000, EndDate: end, WorkflowVersion: 1, Stage: item.StageProposed}}
	for range rng.IntN(13) {
		var e item.Event
		switch rng.IntN(15) {
		case 0, 1:
			e = &item.FundingRequested{Fact: on(), RequestID: fmt.Sprint("r", rng.IntN(3)), Source: src(), Amount: amount(),
				Year: 2022 + rng.IntN(2)}
		case 2, 3:
			e = &item.FundingApproved{Fact: on(), RequestID: fmt.Sprint("r", rng.IntN(3)), Source: src(), Amount: amount(),
				Year: 2022 + rng.IntN(2), Officers: []string{"f"}, Stage: item.StageFunded}
		case 4:
			e = &item.Disbursed{Fact: on(), Source: src(), Amount: amount()}
		case 5:
			e = &item.ProgressReported{Fact: on(), Percent: 10 * rng.IntN(11)}
		case 6:
			e = &item.Implemented{Fact: on(), Stage: item.StageImplemented}
		case 7:
			e = &item.Evaluated{Fact: on(), Rating: item.Ratings[rng.IntN(len(item.Ratings))], Score: 7, Stage: item.StageEvaluated}
		case 8:
			e = &item.Suspended{Fact: on(), Reason: "chờ", From: item.StageFunded, Stage: item.StageSuspended}
		case 9:
			e = &item.Resumed{Fact: on(), Stage: item.StageFunded}
		case 10:
			e = &item.Cancelled{Fact: on(), Reason: "trùng", Stage: item.StageCancelled}
		case 11:
			e = &item.MarkedSameAs{Fact: on(), ModelID: "m1"}
		case 13:
			e = &item.OwnFundingArranged{Fact: on(), Means: item.AllMeans[rng.IntN(len(item.AllMeans))], Stage: item.StageFunded}
		case 14:
			e = &item.Disbursed{Fact: on(), Source: src(), Amount: amount(), RequestID: fmt.Sprint("r", rng.IntN(3)), Year: 2022 + rng.IntN(2)}
		default:
			if rng.IntN(2) == 0 {
				e = &item.FlaggedNoProgress{Fact: on(), Days: 90}
			} else {
				e = &item.BecameOverdue{Fact: on(), EndDate: end}
			}
		}
		evs = append(evs, e)
	}
	recs := make([]int64, len(evs))
	rec := micros(p.Time(utc).Add(9 * time.Hour))
	for i := range recs {
		if i > 0 && rng.IntN(3) > 0 {
			rec += int64(1+rng.IntN(40*24)) * int64(time.Hour/time.Microsecond)
		}
		recs[i] = rec
	}
	return evs, recs
}

// cuts splits n facts into random batches: the end of each.
func cuts(rng *rand.Rand, n int) []int {
	var out []int
	for i := 1; i < n; i++ {
		if rng.IntN(3) == 0 {
			out = append(out, i)
		}
	}
	return append(out, n)
}

type sourceYear struct {
	source string
	year   int
}

func checkHistory(t *testing.T, id string, info *itemInfo, facts []fact, evs []item.Event, ends []int) {
	t.Helper()
	// The grid: around every fact's day and moment, the day after the planned end, and after
	// everything.
	var days, recs []int64
	for _, f := range facts {
		days = append(days, f.day-1, f.day, f.day+1)
		recs = append(recs, f.rec-1, f.rec)
	}
	if info.end != noEnd {
		days = append(days, info.end, info.end+1)
	}
	days, recs = append(days, always), append(recs, always)
	slices.Sort(days)
	slices.Sort(recs)
	days, recs = slices.Compact(days), slices.Compact(recs)

	live, rebuilt := newDeltaSet(), newDeltaSet()
	current := newCurrentChange()
	itemMoney := map[sourceYear]moneySums{} // pj_item_current_money, batch by batch
	var today figures
	start := 0
	for _, end := range ends {
		live.item(info, facts[:end], start)
		var diff []moneyEntry
		today, _, diff = current.item(&itemHistory{id: id, info: info, facts: facts[:end], nOld: start}, nil, nil)
		for _, d := range diff {
			k := sourceYear{d.source, d.year}
			m := itemMoney[k]
			for j := range m {
				m[j] += d.sums[j]
			}
			itemMoney[k] = m
		}
		start = end
	}
	rebuilt.item(info, facts, 0)

	for _, k := range recs {
		for _, d := range days {
			at := fmt.Sprintf("%s as of %s known at %s", id, showDay(d), showMoment(k))
			f, _ := fold(info, facts, d, k, nil)
			agreesWithEvolve(t, at, &f, replay(evs, facts, d, k))
			want := map[groupKey]metrics{}
			wantMoney := map[sourceYear]moneySums{}
			if c, _ := contributionAt(info, facts, d, k, nil); c.present {
				want[c.key] = c.m
				for _, e := range c.money {
					wantMoney[sourceYear{e.source, e.year}] = e.sums
				}
			}
			for _, ds := range []struct {
				name string
				s    *deltaSet
			}{{"live deltas", live}, {"rebuilt deltas", rebuilt}} {
				groups, money := sumDeltas(ds.s, d, k)
				if !maps.Equal(groups, want) {
					t.Errorf("%s: %s sum to %v, the fold says %v", at, ds.name, groups, want)
				}
				if !maps.Equal(money, wantMoney) {
					t.Errorf("%s: %s money sums to %v, the fold says %v", at, ds.name, money, wantMoney)
				}
			}
		}
	}
	if g, r := nonZero(live.groups), nonZero(rebuilt.groups); !maps.Equal(g, r) {
		t.Errorf("%s: live group deltas %v, rebuilt %v", id, g, r)
	}
	if g, r := nonZero(live.money), nonZero(rebuilt.money); !maps.Equal(g, r) {
		t.Errorf("%s: live money deltas %v, rebuilt %v", id, g, r)
	}

	// Today's rows.
	now, _ := fold(info, facts, always, always, nil)
	today.money, now.money = nil, nil // compared below, as rows
	if !reflect.DeepEqual(today, now) {
		t.Errorf("%s: today's row kept batch by batch %+v, folded at once %+v", id, today, now)
	}
	all, _ := fold(info, facts, always, always, nil)
	wantMoney := map[sourceYear]moneySums{}
	for _, e := range all.money {
		wantMoney[sourceYear{e.source, e.year}] = e.sums
	}
	if !maps.Equal(itemMoney, wantMoney) {
		t.Errorf("%s: today's money rows kept batch by batch %v, folded at once %v", id, itemMoney, wantMoney)
	}
	rb := newCurrentChange()
	rb.add(info, &all, 1)
	if g, r := nonZero(current.groups), nonZero(rb.groups); !maps.Equal(g, r) {
		t.Errorf("%s: today's group sums kept batch by batch %v, rebuilt %v", id, g, r)
	}
	if g, r := nonZero(current.money), nonZero(rb.money); !maps.Equal(g, r) {
		t.Errorf("%s: today's money sums kept batch by batch %v, rebuilt %v", id, g, r)
	}
	// Today's group sums are the deltas summed over every day and moment, overdue aside.
	deltas, _ := sumDeltas(rebuilt, always, always)
	for g, m := range deltas {
		m[mOverdue] = 0
		deltas[g] = m
	}
	if g := nonZero(rb.groups); !maps.Equal(g, deltas) {
		t.Errorf("%s: today's group sums %v, the deltas summed %v", id, g, deltas)
	}
}

// replay is the domain's state of the item from the events dated by d and recorded by k.
func replay(evs []item.Event, facts []fact, d, k int64) item.State {
	var s item.State
	for i, e := range evs {
		if facts[i].day <= d && facts[i].rec <= k {
			s = item.Evolve(s, e)
		}
	}
	return s
}

func agreesWithEvolve(t *testing.T, at string, f *figures, s item.State) {
	t.Helper()
	if f.present != s.Exists() {
		t.Errorf("%s: fold says present %v, Evolve exists %v", at, f.present, s.Exists())
		return
	}
	if !f.present {
		return
	}
	day := func(d civil.Date) int64 { return dayOr(d, noDay) }
	got := []any{f.stage, f.requested, f.approved, f.disbursed, f.progress, f.sameAs, f.firstFunded, f.lastProgress,
		f.flagged, f.overdue, f.ownFunding}
	want := []any{s.Stage, int64(s.Requested), int64(s.Approved), int64(s.Disbursed), s.Progress, s.SameAs,
		day(s.FirstFundedOn), day(s.LastProgressOn), day(s.FlaggedNoProgress), day(s.OverdueSince), s.OwnFunding != ""}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: fold gives stage, requested, approved, disbursed, progress, same as, first funded, last progress, "+
			"flagged, overdue %v; Evolve %v", at, got, want)
	}
	requested := map[sourceYear]int64{}
	for _, r := range s.Requests {
		requested[sourceYear{string(r.Source), r.Year}] += int64(r.Amount)
	}
	approved, disbursed := map[string]int64{}, map[string]int64{}
	for src, v := range s.ApprovedBySource {
		approved[string(src)] = int64(v)
	}
	for src, v := range s.DisbursedBySource {
		disbursed[string(src)] = int64(v)
	}
	gotReq, gotAppr, gotDisb := map[sourceYear]int64{}, map[string]int64{}, map[string]int64{}
	for _, e := range f.money {
		if e.sums[0] != 0 {
			gotReq[sourceYear{e.source, e.year}] += e.sums[0]
		}
		if e.sums[1] != 0 {
			gotAppr[e.source] += e.sums[1]
		}
		if e.sums[2] != 0 {
			gotDisb[e.source] += e.sums[2]
		}
	}
	if !maps.Equal(gotReq, requested) || !maps.Equal(gotAppr, approved) || !maps.Equal(gotDisb, disbursed) {
		t.Errorf("%s: fold's money requested %v approved %v disbursed %v; Evolve's %v, %v, %v", at, gotReq, gotAppr,
			gotDisb, requested, approved, disbursed)
	}
}

// sumDeltas sums the deltas dated by d and recorded by k, as a report reads them.
func sumDeltas(s *deltaSet, d, k int64) (map[groupKey]metrics, map[sourceYear]moneySums) {
	groups := map[groupKey]metrics{}
	for key, m := range s.groups {
		if key.day <= d && key.rec <= k {
			acc := groups[key.g]
			for j := range m {
				acc[j] += m[j]
			}
			groups[key.g] = acc
		}
	}
	money := map[sourceYear]moneySums{}
	for key, m := range s.money {
		if key.day <= d && key.rec <= k {
			acc := money[sourceYear{key.source, key.year}]
			for j := range m {
				acc[j] += m[j]
			}
			money[sourceYear{key.source, key.year}] = acc
		}
	}
	return nonZeroV(groups), nonZeroV(money)
}

// nonZero copies the entries of m that are not all zero.
func nonZero[K comparable, V metrics | moneySums](m map[K]*V) map[K]V {
	out := map[K]V{}
	for k, p := range m {
		var zero V
		if *p != zero {
			out[k] = *p
		}
	}
	return out
}

func nonZeroV[K comparable, V metrics | moneySums](m map[K]V) map[K]V {
	out := map[K]V{}
	for k, v := range m {
		var zero V
		if v != zero {
			out[k] = v
		}
	}
	return out
}

// The fold runs per item per point of its grid: with a buffer passed back it allocates nothing.
func TestFoldAllocatesNothing(t *testing.T) {
	info := &itemInfo{kind: "project", unit: "SO-YT", estimated: 5, end: noEnd}
	facts := []fact{{kind: factStage, stage: item.StageProposed}, {kind: factRequested, source: "oda", year: 2022, amount: 3},
		{kind: factApproved, source: "oda", year: 2022, amount: 2, stage: item.StageFunded},
		{kind: factDisbursed, source: "enterprise", year: 2023, amount: 1}, {kind: factProgress, percent: 40}}
	buf := make([]moneyEntry, 0, 16)
	allocs := testing.AllocsPerRun(100, func() {
		var f figures
		f, buf = fold(info, facts, always, always, buf[:0])
		_ = f.metrics(info, 10)
	})
	if allocs != 0 {
		t.Errorf("fold allocates %.0f times a call, want none", allocs)
	}
}

func showDay(d int64) string {
	if d == always {
		return "always"
	}
	return dayTime(d).Format(time.DateOnly)
}

func showMoment(k int64) string {
	if k == always {
		return "always"
	}
	return time.UnixMicro(k).UTC().Format(time.RFC3339Nano)
}
