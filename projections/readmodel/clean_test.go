package readmodel

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/eventstore"
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

// The facts a batch decodes hold the programme's own copies of the funding sources and stages
// they name, so that fold compares them without reading their bytes; anything else is kept
// as it came.
func TestFactsHoldCanonicalSourcesAndStages(t *testing.T) {
	t.Parallel()
	same := func(a, b string) bool { return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b) }
	data, err := json.Marshal(map[string]any{"request_id": "r1", "source": strings.Clone("provincial_budget"),
		"amount_vnd": 1_000_000, "year": 2026})
	if err != nil {
		t.Fatal(err)
	}
	_, facts, err := itemRows([]eventstore.Record{{StreamID: "project-1", Version: 2, Type: "project.funding_requested.v1",
		Data: data, Metadata: eventstore.Metadata{OccurredOn: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), RecordedAt: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != 1 || facts[0].fact.kind != factRequested {
		t.Fatalf("facts %+v, want one funding request", facts)
	}
	if src := facts[0].fact.source; src != "provincial_budget" || !same(src, string(item.Sources[1])) {
		t.Errorf("the fact's source %q is not item.Sources' copy", src)
	}
	if got := stage(item.Stage(strings.Clone("implemented"))); !same(string(got), string(item.StageImplemented)) {
		t.Errorf("stage %q is not item.StageImplemented's copy", got)
	}
	if got := source(item.Source(strings.Clone("oda"))); !same(got, string(item.Sources[5])) {
		t.Errorf("source %q is not item.Sources' copy", got)
	}
	if got := source(item.Source("a new budget")); got != "a new budget" {
		t.Errorf("an unknown source became %q", got)
	}
}
