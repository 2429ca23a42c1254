package webui

import (
	"testing"

	"github.com/dxledger/dxledger/domain/civil"
)

func TestMoneyIsWrittenAndReadTheVietnameseWay(t *testing.T) {
	for _, c := range []struct {
		v      int64
		vi, en string
	}{
		{0, "0 đ", "0 đ"}, {999, "999 đ", "999 đ"}, {1000, "1.000 đ", "1,000 đ"},
		{8_000_000_000, "8.000.000.000 đ", "8,000,000,000 đ"}, {-1_500_000, "-1.500.000 đ", "-1,500,000 đ"},
	} {
		if got := vnd(langVI, c.v); got != c.vi {
			t.Errorf("vnd(vi, %d) = %q, want %q", c.v, got, c.vi)
		}
		if got := vnd(langEN, c.v); got != c.en {
			t.Errorf("vnd(en, %d) = %q, want %q", c.v, got, c.en)
		}
	}
	for in, want := range map[string]int64{
		"1500000000": 1_500_000_000, "1.500.000.000": 1_500_000_000, "1 500 000 000": 1_500_000_000,
		"1,500,000,000 đ": 1_500_000_000, " 12.000 ₫ ": 12_000, "0": 0,
	} {
		if got, ok := parseVND(in); !ok || got != want {
			t.Errorf("parseVND(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	// A Vietnamese decimal, a misplaced group, letters or an overflow are refused, never
	// read as some other amount.
	for _, in := range []string{"1,5", "1.50", "12.3456", "abc", "", "đ", "-5", "1e9", ".500", "99999999999999999999"} {
		if got, ok := parseVND(in); ok {
			t.Errorf("parseVND(%q) = %d, want refused", in, got)
		}
	}
}

func TestDatesAreDayMonthYear(t *testing.T) {
	d, err := parseDay("31/12/2022")
	if err != nil || d != (civil.Date{Year: 2022, Month: 12, Day: 31}) {
		t.Errorf("parseDay(31/12/2022) = %v, %v", d, err)
	}
	if d, err := parseDay("1/3/2025"); err != nil || dmy(d) != "01/03/2025" {
		t.Errorf("parseDay(1/3/2025) = %v, %v", d, err)
	}
	if d, err := parseDay("2022-12-31"); err != nil || dmy(d) != "31/12/2022" {
		t.Errorf("parseDay(2022-12-31) = %v, %v", d, err)
	}
	for _, in := range []string{"31/02/2022", "12/31/2022", "2022/12/31", "hôm qua"} {
		if _, err := parseDay(in); err == nil {
			t.Errorf("parseDay(%q) accepted", in)
		}
	}
}

func TestEveryLabelHasBothLanguages(t *testing.T) {
	for k, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("label %q lacks a language: %q", k, m)
		}
	}
}
