package unit

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// splitWorld: Sở LĐ-TB&XH, with a 2022 merger into it (Sở X), split on 01/03/2025 (GLOSSARY.md):
// item "bao-tro" to Sở Y tế, "nghe" to Sở GD&ĐT, the rest to Sở Nội vụ.
func splitWorld(t *testing.T) *Directory {
	t.Helper()
	var d Directory
	y2020 := day("2020-01-01")
	handle(t, &d, Register{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: Province, On: y2020})
	for _, c := range []string{"SO-LDTBXH", "SO-NV", "SO-YT", "SO-GDDT", "SO-X"} {
		handle(t, &d, Register{Code: c, Name: c, Kind: Department, ParentCode: "DT", ParentKind: Province, On: y2020})
	}
	handle(t, &d, Merge{Code: "SO-X", IntoCode: "SO-LDTBXH", EffectiveDate: day("2022-06-01")})
	c := SplitUnit{Code: "SO-LDTBXH", EffectiveDate: day("2025-03-01"), RestIntoCode: "SO-NV",
		Parts: []SplitPart{{IntoCode: "SO-YT", ItemIDs: []string{"bao-tro", "x-bao-tro"}}, {IntoCode: "SO-GDDT", ItemIDs: []string{"nghe"}}}}
	if err := d.CheckSplit(c.Code, c.Parts, c.RestIntoCode, c.EffectiveDate); err != nil {
		t.Fatal(err)
	}
	handle(t, &d, c)
	return &d
}

func TestSplitRoutesEachItemFromItsDate(t *testing.T) {
	d := splitWorld(t)
	before, on := day("2025-02-28"), day("2025-03-01")
	for _, c := range []struct {
		unit, item string
		asOf       string
		want       string
	}{
		{"SO-LDTBXH", "bao-tro", "2025-02-28", "SO-LDTBXH"},
		{"SO-LDTBXH", "bao-tro", "2025-03-01", "SO-YT"},
		{"SO-LDTBXH", "nghe", "2025-03-01", "SO-GDDT"},
		{"SO-LDTBXH", "viec-lam", "2025-03-01", "SO-NV"},
		{"SO-LDTBXH", "", "2025-03-01", "SO-NV"},
		{"SO-X", "x-bao-tro", "2022-05-31", "SO-X"},
		{"SO-X", "x-bao-tro", "2024-01-01", "SO-LDTBXH"},
		{"SO-X", "x-bao-tro", "2025-03-01", "SO-YT"},
		{"SO-X", "x-khac", "2025-03-01", "SO-NV"},
	} {
		if got := d.ItemSuccessorAsOf(c.unit, c.item, day(c.asOf)); got != c.want {
			t.Errorf("ItemSuccessorAsOf(%s, %q, %s) = %s, want %s", c.unit, c.item, c.asOf, got, c.want)
		}
	}
	s, _ := d.Lookup("SO-LDTBXH")
	if !s.ActiveOn(before) || s.ActiveOn(on) || s.EndedOn() != on {
		t.Errorf("the split unit lives until %s (ended %s)", before, s.EndedOn())
	}
	if got := s.Successors(); !slices.Equal(got, []string{"SO-YT", "SO-GDDT", "SO-NV"}) {
		t.Errorf("Successors() = %v", got)
	}
	// Families: what a list or a report row of each unit holds on the day.
	for _, c := range []struct {
		unit, asOf string
		want       Family
	}{
		{"SO-YT", "2025-03-01", Family{Units: []string{"SO-YT"}, Items: []string{"bao-tro", "x-bao-tro"}}},
		{"SO-NV", "2025-03-01", Family{Units: []string{"SO-LDTBXH", "SO-NV", "SO-X"}, Except: []string{"bao-tro", "nghe", "x-bao-tro"}}},
		{"SO-LDTBXH", "2025-02-28", Family{Units: []string{"SO-LDTBXH", "SO-X"}}},
		{"SO-LDTBXH", "2025-03-01", Family{Units: []string{""}}},
		{"SO-NONE", "2025-03-01", Family{Units: []string{"SO-NONE"}}},
	} {
		got := d.FamilyAsOf(c.unit, day(c.asOf))
		if !slices.Equal(got.Units, c.want.Units) || !slices.Equal(got.Except, c.want.Except) || !slices.Equal(got.Items, c.want.Items) {
			t.Errorf("FamilyAsOf(%s, %s) = %+v, want %+v", c.unit, c.asOf, got, c.want)
		}
	}
}

func TestSplitRefusals(t *testing.T) {
	d := splitWorld(t)
	s, _ := d.Lookup("SO-NV")
	var fe *FieldError
	if _, err := Decide(s, SplitUnit{Code: "SO-NV", EffectiveDate: day("2025-03-01")}); !errors.As(err, &fe) || fe.Field != "rest_into_code" {
		t.Errorf("no rest_into_code: %v", err)
	}
	twice := SplitUnit{Code: "SO-NV", EffectiveDate: day("2025-03-01"), RestIntoCode: "SO-YT",
		Parts: []SplitPart{{IntoCode: "SO-GDDT", ItemIDs: []string{"a"}}, {IntoCode: "SO-YT", ItemIDs: []string{"a"}}}}
	if _, err := Decide(s, twice); !errors.As(err, &fe) || fe.Code != "unit.item_twice" {
		t.Errorf("an item in two parts: %v", err)
	}
	if _, err := Decide(s, SplitUnit{Code: "SO-NV", EffectiveDate: day("2025-03-01"), RestIntoCode: "SO-NV"}); !errors.Is(err, ErrCycle) {
		t.Errorf("the rest into itself: %v", err)
	}
	gone, _ := d.Lookup("SO-LDTBXH")
	if _, err := Decide(gone, SplitUnit{Code: "SO-LDTBXH", EffectiveDate: day("2025-04-01"), RestIntoCode: "SO-YT"}); !errors.Is(err, ErrDissolved) {
		t.Errorf("splitting a split unit again: %v", err)
	}
	if err := d.CheckSplit("SO-NV", nil, "SO-LDTBXH", day("2025-04-01")); !errors.Is(err, ErrDissolved) {
		t.Errorf("a split unit as a successor: %v", err)
	}
}

// A kind has its life: no district is registered from 01/07/2025 on, while one dated before
// (history entered late) is.
func TestNoNewDistrictsAfterTheirEnd(t *testing.T) {
	reg := Register{Code: "H-MOI", Name: "Huyện Mới", Kind: District, ParentCode: "DT", ParentKind: Province}
	reg.On = day("2025-07-01")
	var fe *FieldError
	if _, err := Decide(State{}, reg); !errors.As(err, &fe) || fe.Field != "kind" || fe.Code != "unit.kind_ended" {
		t.Errorf("a district on 01/07/2025: %v, want a field error on kind", err)
	}
	reg.On = day("2025-06-30")
	if _, err := Decide(State{}, reg); err != nil {
		t.Errorf("a district on 30/06/2025: %v", err)
	}
	if !SourceLife("district_budget").On(day("2025-06-30")) || SourceLife("district_budget").On(day("2025-07-01")) || !SourceLife("oda").On(day("2030-01-01")) {
		t.Error("the sources' lives")
	}
}

func TestSplitCodecRoundTrip(t *testing.T) {
	e := Split{Code: "SO-LDTBXH", EffectiveDate: day("2025-03-01"), RestIntoCode: "SO-NV",
		Parts: []SplitPart{{IntoCode: "SO-YT", ItemIDs: []string{"01A", "01B"}}}}
	typ, data, err := Encode(e)
	if err != nil || typ != "unit.split.v1" {
		t.Fatalf("Encode: %s %v", typ, err)
	}
	const want = `{"code":"SO-LDTBXH","effective_date":"2025-03-01","parts":[{"into_code":"SO-YT","item_ids":["01A","01B"]}],"rest_into_code":"SO-NV"}`
	if string(data) != want {
		t.Errorf("Encode = %s, want %s", data, want)
	}
	got, err := Decode(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Errorf("Decode = %#v, want %#v", got, e)
	}
}
