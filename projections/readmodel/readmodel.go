// Package readmodel holds the read models behind the steering committee's reports — units
// (Units) and models and projects (Items) — and the one fold that turns an item's facts into
// the figures they count (fold.go), kept three ways: today's rows, the group deltas that give
// any past day as known at any moment, and an in-memory rebuild that writes the same rows in
// bulk. projections/projector runs them; package projections queries their tables.
package readmodel

import (
	"strings"
	"time"
	"unicode"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/projections/projector"
	"golang.org/x/text/unicode/norm"
)

var utc = time.UTC

// All returns every projection, in the order they are run.
func All() []projector.Projection {
	return []projector.Projection{Units{}, Items{History: NewHistory(defaultHistoryFacts)}, Indicators{}}
}

// ByName returns the projection called name.
func ByName(name string) (projector.Projection, bool) {
	for _, p := range All() {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}

// FoldTitle normalises a Vietnamese title for comparison: Unicode NFD, tone marks and other
// diacritics removed (khỏe = khoẻ = khoe, hoà = hòa = hoa), đ/Đ as d, lower case, punctuation
// as space, runs of spaces as one.
func FoldTitle(s string) string {
	var b strings.Builder
	space := true
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining mark: tone or vowel diacritic
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimSpace(b.String())
}

// comparePositions orders positions in the store's global order.
func comparePositions(a, b eventstore.Position) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}
