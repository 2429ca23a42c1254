package projections

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
)

func appendIndicator(t *testing.T, s *eventstore.Store, clk *pjtest.Clock, at time.Time, expected int64, e indicator.Event) {
	t.Helper()
	clk.Set(at)
	typ, data, err := indicator.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), indicator.StreamID(e.IndicatorCode()), expected,
		[]eventstore.Event{{Type: typ, Data: data, Metadata: eventstore.Metadata{Actor: "test", OccurredOn: at}}}); err != nil {
		t.Fatal(err)
	}
}

// A 2023 actual entered late changes the 2023 status; as known at the meeting, the report
// still shows what the meeting saw. A rebuild gives exactly the rows the live path wrote.
func TestIndicatorReportAsKnownAt(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	clk := pjtest.NewClock(time.Date(2022, 1, 1, 9, 0, 0, 0, time.UTC))
	store, err := eventstore.New(db.Pool, eventstore.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d := func(s string) civil.Date { return pjtest.Day(s) }
	at := func(s string) time.Time { return d(s).Time(time.UTC).Add(10 * time.Hour) }
	def := indicator.Definition{Code: "BB", NameVI: "Hộ gia đình có băng rộng cố định", NameEN: "Households with fixed broadband",
		Measure: indicator.Percentage, Direction: indicator.Higher, Pillar: "society", UnitCode: "SO-TTTT"}
	appendIndicator(t, store, clk, at("2022-01-05"), 0, indicator.Defined{Definition: def, EffectiveDate: d("2022-01-05")})
	appendIndicator(t, store, clk, at("2022-01-05"), 1, indicator.TargetSet{Code: "BB", Scope: indicator.Province, Year: 2023, Value: "85", On: d("2022-01-05")})
	appendIndicator(t, store, clk, at("2022-01-05"), 2, indicator.TargetSet{Code: "BB", Scope: indicator.Province, Year: 2022, Value: "75", On: d("2022-01-05")})
	appendIndicator(t, store, clk, at("2023-04-07"), 3, indicator.ActualReported{Code: "BB", Scope: indicator.Province, Year: 2022, Value: "79.5",
		Date: d("2023-04-07"), Method: indicator.Official, Estimator: "UBND tỉnh", Evidence: "Báo cáo 1 năm NQ 04-NQ/TU"})
	// The meeting of 05/10/2023 … and the 2023 figure entered late, on 2024-03-01, dated 2024-01-15.
	appendIndicator(t, store, clk, at("2024-03-01"), 4, indicator.ActualReported{Code: "BB", Scope: indicator.Province, Year: 2023, Value: "86.1",
		Date: d("2024-01-15"), Method: indicator.Official, Estimator: "UBND tỉnh"})

	ps := []projector.Projection{readmodel.Indicators{}}
	r := newRunner(t, db.Pool, store, ps...)
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- r.FollowAll(ctx) }()
	pjtest.CaughtUp(t, r, store)
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	reports := NewReports(db.Pool, func() time.Time { return now }, time.UTC)
	status := func(year int, q Query) (indicator.Status, string) {
		t.Helper()
		rep, err := reports.Indicators(context.Background(), IndicatorQuery{Year: year, Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != 1 {
			t.Fatalf("rows %+v", rep.Rows)
		}
		return rep.Rows[0].Status, string(rep.Rows[0].Actual)
	}
	meeting := at("2023-10-05")
	for _, c := range []struct {
		year   int
		q      Query
		status indicator.Status
		actual string
	}{
		{2023, Query{}, indicator.Exceeded, "86.1"},
		// As of today 2023 has ended; as known at the meeting nothing for 2023 was recorded.
		{2023, Query{KnownAt: meeting}, indicator.NoData, ""},
		// On the meeting's day 2023 was in progress: 79.5 against 85, no baseline to draw a path from.
		{2023, Query{AsOf: d("2023-10-05"), KnownAt: meeting}, indicator.AtRisk, "79.5"},
		{2022, Query{}, indicator.Exceeded, "79.5"},
		{2022, Query{AsOf: d("2022-12-31")}, indicator.NoData, ""},
	} {
		st, a := status(c.year, c.q)
		if st != c.status || a != c.actual {
			t.Errorf("%d %+v: %s %q, want %s %q", c.year, c.q, st, a, c.status, c.actual)
		}
	}

	live := pjtest.Tables(t, db.Pool)
	if _, err := r.RebuildAll(context.Background(), ps, nil); err != nil {
		t.Fatal(err)
	}
	if rebuilt := pjtest.Tables(t, db.Pool); !slices.Equal(live, rebuilt) {
		t.Errorf("rebuild differs from live:\n%v\n%v", live, rebuilt)
	}
}

func TestDTIHistory(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	clk := pjtest.NewClock(time.Date(2023, 10, 1, 9, 0, 0, 0, time.UTC))
	store, err := eventstore.New(db.Pool, eventstore.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	res := dti.ResultRecorded{Province: "DT", Year: 2022, Framework: "922/QĐ-BTTTT", Source: dti.Published, Total: 5500, Rank: 39, Of: 63,
		Values: map[string]string{"awareness": "0.5"}, PlaceScores: map[string]dti.Fixed4{"25": 6077}}
	typ, data, _ := dti.Encode(res)
	if _, err := store.Append(context.Background(), dti.StreamID("DT"), 0, []eventstore.Event{{Type: typ, Data: data,
		Metadata: eventstore.Metadata{OccurredOn: clk.Now()}}}); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, db.Pool, store, readmodel.Indicators{})
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- r.FollowAll(ctx) }()
	pjtest.CaughtUp(t, r, store)
	cancel()
	<-followed
	reports := NewReports(db.Pool, func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }, time.UTC)
	h, err := reports.DTI(context.Background(), "DT", Query{})
	if err != nil {
		t.Fatal(err)
	}
	if lp := h.LastPublished(); lp == nil || lp.Published.Rank != 39 {
		t.Fatalf("history %+v", h)
	}
	if v, y, ok := h.TargetScore(25); !ok || v.String() != "0.6077" || y != 2022 {
		t.Errorf("target score %v %d %v", v, y, ok)
	}
	if h, _ := reports.DTI(context.Background(), "DT", Query{KnownAt: time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC)}); len(h.Years) != 0 {
		t.Errorf("known before it was recorded: %+v", h.Years)
	}
}
