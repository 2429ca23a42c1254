package dti

import (
	"errors"
	"testing"

	"github.com/dxledger/dxledger/domain/fault"
)

func framework922() *Framework {
	return &Framework{Code: "922/QĐ-BTTTT", FromYear: 2020, ToYear: 2023, Divisor: 1000, Complete: true, Indices: []Index{
		{Code: "awareness", Points: 100}, {Code: "institutions", Points: 100}, {Code: "infrastructure", Points: 100},
		{Code: "workforce", Points: 100}, {Code: "cybersecurity", Points: 100}, {Code: "digital_government", Points: 200},
		{Code: "digital_economy", Points: 150}, {Code: "digital_society", Points: 150}, {Code: "smart_city", Points: 0}}}
}

// Đà Nẵng 2022 (INDICATORS.md): the eight published values give the published 0.8002.
func TestDaNang2022(t *testing.T) {
	t.Parallel()
	s, err := Compute(framework922(), map[string]string{"awareness": "1.0000", "institutions": "0.9000", "infrastructure": "0.8253",
		"workforce": "0.8487", "cybersecurity": "0.7578", "digital_government": "0.8575", "digital_economy": "0.7836", "digital_society": "0.5197"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Total.String(); got != "0.8002" {
		t.Errorf("total %s, want 0.8002", got)
	}
	if got := s.Exact.FloatString(6); got != "0.800175" {
		t.Errorf("exact %s, want 0.800175", got)
	}
}

func TestRoundsHalfUpExactly(t *testing.T) {
	t.Parallel()
	// 0.00005 exactly: a float sum could land on either side.
	f := &Framework{Code: "x", FromYear: 2020, Divisor: 1, Complete: true, Indices: []Index{{Code: "a", Points: 1}}}
	s, err := Compute(f, map[string]string{"a": "0.00005"})
	if err != nil || s.Total != 1 {
		t.Errorf("0.00005 → %v %v, want 0.0001", s.Total, err)
	}
}

func TestRefusesMissingAndOutOfRange(t *testing.T) {
	t.Parallel()
	_, err := Compute(framework922(), map[string]string{"awareness": "1.2", "institutions": "x"})
	if fault.KindOf(err) != fault.Invalid {
		t.Fatalf("kind %v, want invalid", fault.KindOf(err))
	}
	fields := fault.FieldsOf(err)
	if len(fields) != 8 { // 1 out of range, 1 not a number, 6 missing
		t.Errorf("fields %v, want 8", fields)
	}
	if _, err := (&Registry{}).Score("nope", nil); !errors.Is(err, ErrUnknownFramework) {
		t.Errorf("unknown framework: %v", err)
	}
}

func TestWhatIf(t *testing.T) {
	t.Parallel()
	base := map[string]string{"awareness": "0.6", "institutions": "0.6", "infrastructure": "0.6", "workforce": "0.6",
		"cybersecurity": "0.6", "digital_government": "0.6", "digital_economy": "0.6", "digital_society": "0.6"}
	w, err := PlanWhatIf(framework922(), base, map[string]string{"digital_economy": "0.7"},
		[]Link{{ItemID: "p1", Index: "digital_government", Gain: "0.05"}, {ItemID: "p2", Index: "awareness", Gain: "0.9"}}, 6077)
	if err != nil {
		t.Fatal(err)
	}
	// 0.6 + 0.015 (economy +0.1×150) + 0.01 (government +0.05×200) + 0.04 (awareness to 1: +0.4×100)
	if w.Base.Total != 6000 || w.New.Total != 6650 || w.Distance != 6077-6650 || !w.Reached {
		t.Errorf("what-if %+v", w)
	}
}

func TestParseValueRefusesHugeExponents(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"1e-99999999", "1e999999", "1/3", "0x1p-2"} {
		if _, ok := ParseValue(s); ok {
			t.Errorf("%q read as a value", s)
		}
	}
	for _, s := range []string{"1e-1", "0.8253", "1", "5E-5"} {
		if _, ok := ParseValue(s); !ok {
			t.Errorf("%q refused", s)
		}
	}
}
