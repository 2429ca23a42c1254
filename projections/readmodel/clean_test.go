package readmodel

import (
	"math"
	"testing"

	"github.com/dxledger/dxledger/domain/money"
)

func TestClean(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, line, multiline string }{
		{"Khám sức khỏe", "Khám sức khỏe", "Khám sức khỏe"},
		{"SO-YT", "SO-YT", "SO-YT"},
		{"a\x00b", "a\uFFFDb", "a\uFFFDb"},
		{"Tr\xffm y t\xc3", "Tr\uFFFDm y t\uFFFD", "Tr\uFFFDm y t\uFFFD"},
		{"a\tb\nc\rd", "a b c d", "a\tb\nc\rd"},
		{"a\x01b\x1fc\x7fd\u0085e\u009ff", "a b c d e f", "a b c d e f"},
		{"\x00\xc0\x80", "\uFFFD\uFFFD", "\uFFFD\uFFFD"}, // an overlong NUL: one invalid run, one U+FFFD
	} {
		if got := line(c.in); got != c.line {
			t.Errorf("line(%q) = %q, want %q", c.in, got, c.line)
		}
		if got := multiline(c.in); got != c.multiline {
			t.Errorf("multiline(%q) = %q, want %q", c.in, got, c.multiline)
		}
	}
	for _, c := range [][2]money.VND{{-1, 0}, {0, 0}, {5, 5}, {money.Ceiling + 1, money.Ceiling}, {math.MaxInt64, money.Ceiling}} {
		if got := amount(c[0]); got != int64(c[1]) {
			t.Errorf("amount(%d) = %d, want %d", c[0], got, c[1])
		}
	}
	for _, c := range [][2]int{{-3, 0}, {42, 42}, {101, 100}, {math.MaxInt64, 100}} {
		if got := percent(c[0]); got != c[1] {
			t.Errorf("percent(%d) = %d, want %d", c[0], got, c[1])
		}
	}
	for _, c := range [][2]int{{2022, 2022}, {-1, -1}, {math.MaxInt32 + 1, 0}, {math.MinInt32 - 1, 0}} {
		if got := year(c[0]); got != c[1] {
			t.Errorf("year(%d) = %d, want %d", c[0], got, c[1])
		}
	}
}
