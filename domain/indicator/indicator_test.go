package indicator

import (
	"errors"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/fault"
)

func day(y int, m time.Month, d int) civil.Date { return civil.Date{Year: y, Month: m, Day: d} }

func def(code string, dir Direction) Defined {
	return Defined{Definition: Definition{Code: code, NameVI: "Chỉ tiêu " + code, NameEN: "Indicator " + code, Measure: Percentage,
		Direction: dir, Pillar: "society", UnitCode: "SO-TTTT"}, EffectiveDate: day(2021, 1, 1)}
}

func target(code string, y int, v Number) TargetSet {
	return TargetSet{Code: code, Scope: Province, Year: y, Value: v, On: day(2021, 1, 1)}
}

func actual(code string, y int, v Number, on civil.Date, est string) ActualReported {
	return ActualReported{Code: code, Scope: Province, Year: y, Value: v, Date: on, Method: Official, Estimator: est}
}

func TestStatusOfAnEndedYear(t *testing.T) {
	t.Parallel()
	facts := []Event{
		def("A", Higher), target("A", 2022, "75"), actual("A", 2022, "79.5", day(2023, 4, 7), "UBND"),
		def("B", Higher), target("B", 2022, "85"), actual("B", 2022, "75.3", day(2023, 4, 7), "UBND"),
		def("C", Higher), target("C", 2022, "100"), actual("C", 2022, "100", day(2023, 4, 7), "UBND"),
		def("D", Higher), target("D", 2022, "30"),
		def("E", Lower), target("E", 2022, "10"), actual("E", 2022, "8", day(2023, 1, 5), "UBND"),
		// a correction: same date, recorded later, wins
		def("F", Higher), target("F", 2022, "50"), actual("F", 2022, "40", day(2023, 1, 5), "UBND"), actual("F", 2022, "50", day(2023, 1, 5), "UBND"),
	}
	rep := Fold(facts, 2022, day(2023, 10, 5), Province)
	want := map[string]Status{"A": Exceeded, "B": Missed, "C": Met, "D": NoData, "E": Exceeded, "F": Met}
	for _, r := range rep.Rows {
		if r.Status != want[r.Code] {
			t.Errorf("%s: %s, want %s", r.Code, r.Status, want[r.Code])
		}
	}
	if rep.Total != (Totals{Met: 2, Exceeded: 2, Missed: 1, NoData: 1}) {
		t.Errorf("totals %+v", rep.Total)
	}
	if got := len(rep.HardToReach()); got != 1 {
		t.Errorf("hard to reach %d, want 1", got)
	}
}

func TestStatusOfAYearInProgress(t *testing.T) {
	t.Parallel()
	base := func(code string, v Number) BaselineSet {
		return BaselineSet{Code: code, Scope: Province, Year: 2020, Value: v, On: day(2021, 1, 1)}
	}
	// Path from 2020 (end) to 2025 (end): at the end of 2022, 2/5 of the way.
	facts := []Event{
		def("ON", Higher), base("ON", "50"), target("ON", 2025, "100"), actual("ON", 2022, "70", day(2023, 3, 1), "x"), // expected 70
		def("RISK", Higher), base("RISK", "50"), target("RISK", 2025, "100"), actual("RISK", 2022, "66", day(2023, 3, 1), "x"), // short 4 ≤ 5
		def("OFF", Higher), base("OFF", "50"), target("OFF", 2025, "100"), actual("OFF", 2022, "60", day(2023, 3, 1), "x"), // short 10 > 5
		def("NONE", Higher), base("NONE", "50"), target("NONE", 2025, "100"),
		def("DONE", Higher), target("DONE", 2025, "100"), actual("DONE", 2022, "100", day(2023, 3, 1), "x"),
	}
	rep := Fold(facts, 2025, day(2023, 10, 5), Province)
	want := map[string]Status{"ON": OnTrack, "RISK": AtRisk, "OFF": OffTrack, "NONE": NoData, "DONE": OnTrack}
	for _, r := range rep.Rows {
		if r.Status != want[r.Code] {
			t.Errorf("%s: %s (expected %s), want %s", r.Code, r.Status, r.Expected, want[r.Code])
		}
	}
	if rep.Ended {
		t.Error("2025 read in 2023 counted as ended")
	}
}

// Two estimators, two numbers: the definition says whose counts; the other is kept beside it.
func TestTheEstimatorThatCounts(t *testing.T) {
	t.Parallel()
	d := def("KTS", Higher)
	d.CountsEstimator = "UBND tỉnh"
	facts := []Event{d, target("KTS", 2022, "5"),
		actual("KTS", 2022, "3.7", day(2023, 1, 10), "UBND tỉnh"), actual("KTS", 2022, "6.42", day(2023, 9, 1), "Bộ TT&TT")}
	rep := Fold(facts, 2022, day(2023, 12, 31), Province)
	r := rep.Rows[0]
	if r.Actual != "3.7" || r.Status != Missed || len(r.OtherEstimates) != 1 || r.OtherEstimates[0].Value != "6.42" {
		t.Errorf("row %+v", r)
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	s := State{}
	if _, err := Decide(s, "X", ReportActual{Scope: Province, Year: 2022, Value: "1", Method: Official, Estimator: "a"}); !errors.Is(err, ErrNotDefined) {
		t.Errorf("actual of an undefined indicator: %v", err)
	}
	ev, err := Decide(s, "X", Define{Definition: Definition{NameVI: "x", NameEN: "x", Measure: Percentage, Direction: Higher, Pillar: "economy"}, EffectiveDate: day(2022, 1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s = Evolve(s, ev[0])
	ev, err = Decide(s, "X", ReportActual{Scope: Province, Year: 2022, Numerator: "57", Denominator: "100", Date: day(2022, 12, 31), Method: Estimate, Estimator: "Sở Công Thương"})
	if err != nil || ev[0].(ActualReported).Value != "57" {
		t.Errorf("from numerator and denominator: %v %v", ev, err)
	}
	_, err = Decide(s, "X", ReportActual{Scope: "bad scope", Year: 1999, Value: "-200", Method: "guess", Date: day(2022, 1, 1)})
	fields := map[string]bool{}
	for _, f := range fault.FieldsOf(err) {
		fields[f.Name] = true
	}
	for _, f := range []string{"scope", "year", "value", "method", "estimator"} {
		if !fields[f] {
			t.Errorf("field %s not refused: %v", f, err)
		}
	}
	if fault.KindOf(err) != fault.Invalid {
		t.Errorf("kind %v", fault.KindOf(err))
	}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range []Event{def("A", Higher), target("A", 2025, "80"), actual("A", 2022, "79.5", day(2023, 4, 7), "UBND"),
		BaselineSet{Code: "A", Scope: "SO-YT", Year: 2020, Value: "1", On: day(2021, 1, 1)}, Revised{Definition: def("A", Lower).Definition, EffectiveDate: day(2023, 1, 1)}} {
		typ, data, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(typ, data)
		if err != nil {
			t.Fatalf("%s %s: %v", typ, data, err)
		}
		typ2, data2, _ := Encode(back)
		if typ2 != typ || string(data2) != string(data) {
			t.Errorf("round trip %s: %s != %s", typ, data2, data)
		}
	}
}

// A unit's own targets and figures are its scope's; a revision's definition is the one shown.
func TestScopeAndRevision(t *testing.T) {
	t.Parallel()
	d := def("A", Higher)
	rev := Revised{Definition: d.Definition, EffectiveDate: day(2023, 1, 1)}
	rev.NameVI = "Tên mới"
	facts := []Event{d, rev,
		target("A", 2022, "50"), TargetSet{Code: "A", Scope: "SO-YT", Year: 2022, Value: "90", On: day(2022, 1, 1)},
		actual("A", 2022, "60", day(2023, 1, 5), "x"), ActualReported{Code: "A", Scope: "SO-YT", Year: 2022, Value: "80", Date: day(2023, 1, 5), Method: Official, Estimator: "x"}}
	prov := Fold(facts, 2022, day(2023, 6, 1), "")
	unit := Fold(facts, 2022, day(2023, 6, 1), "SO-YT")
	if prov.Rows[0].Status != Exceeded || prov.Rows[0].Name != "Tên mới" {
		t.Errorf("province %+v", prov.Rows[0])
	}
	if unit.Rows[0].Status != Missed || unit.Rows[0].Actual != "80" || unit.Rows[0].Scope != "SO-YT" {
		t.Errorf("unit %+v", unit.Rows[0])
	}
}
