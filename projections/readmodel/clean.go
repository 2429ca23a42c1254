package readmodel

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
)

// A read model must not die on one event the store holds. The door (the domain and the API)
// refuses control characters, impossible numbers and unknown fields, but the store is an
// append-only log: it may hold events from before the door was shut, or from a bug, and it
// can never be corrected. So every value is made storable where events are decoded into rows
// and facts (itemRows, unitRow) — once, before anything is keyed, summed or written — and the
// live projection and the rebuild take the same values from there.
//
// What PostgreSQL refuses, and what becomes of it:
//   - U+0000 in text: replaced by U+FFFD, not removed. Codes and sources are keys (pj_units'
//     primary key, the groups of the reports): removing the NUL would make "SO-YT\x00" the
//     unit "SO-YT" — one unit's figures counted under another, or a duplicate key — whereas
//     U+FFFD keeps the two apart and leaves a visible mark on the officials' pages where the
//     text lost something (FoldTitle reads it as punctuation, so search is unaffected).
//   - invalid UTF-8: each bad sequence becomes U+FFFD, as encoding/json already does for a
//     JSON string (this catches whatever reaches a row by another road).
//   - other C0 and C1 control characters (and DEL), which PostgreSQL stores but a one-line
//     field must not hold: a space, as the door's rule (item's forbidden); a multi-line field
//     (a scope) keeps tab, CR and LF.
//   - an amount outside 0..money.Ceiling: the nearest bound. PostgreSQL adds the live
//     projection's amounts into bigint sums and refuses an overflow, where the rebuild's Go
//     sums would silently wrap; within the ceiling 9,000 figures of one sum still fit.
//   - a percent outside 0..100: the nearest bound (the int4 columns; 150% done is done).
//   - a year the int4 column cannot hold: 0, the column's "no year" — wrapped, two years
//     could become one key twice in one statement.
//   - an item kind neither model nor project: the event type's (itemRows), else the item
//     would count in no report.

// line makes a one-line field (a title, a name, a code, a key) storable.
func line(s string) string { return clean(s, false) }

// multiline makes a multi-line field (a scope) storable: as line, but tab, CR and LF stay.
func multiline(s string) string { return clean(s, true) }

func clean(s string, lines bool) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			ok = false
			break
		}
	}
	if ok {
		return s // printable ASCII, nearly every value: no allocation
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == 0:
			return utf8.RuneError // U+FFFD
		case lines && (r == '\t' || r == '\n' || r == '\r'):
			return r
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return ' '
		}
		return r
	}, s)
}

// amount is v within 0..money.Ceiling.
func amount(v money.VND) int64 { return int64(min(max(v, 0), money.Ceiling)) }

// percent is p within 0..100.
func percent(p int) int { return min(max(p, 0), 100) }

// year is y, or 0 when an int4 column cannot hold it.
func year(y int) int {
	if y < math.MinInt32 || y > math.MaxInt32 {
		return 0
	}
	return y
}

// stage is s made storable.
func stage(s item.Stage) item.Stage { return canonical(item.Stages, item.Stage(line(string(s)))) }

// source makes a funding source storable and canonical (below).
func source(s item.Source) string {
	return string(canonical(item.Sources, item.Source(line(string(s)))))
}

// canonical returns the copy of s held in known when s is one of them, else s. An item's facts
// are folded again for every point of the reports' grid a batch touches, comparing their
// sources and stages each time (fold); two strings that share their bytes compare without
// reading them, and an item with thousands of funding requests spent a fifth of serve's CPU
// comparing "provincial_budget" byte by byte (BENCHMARKS.md, stop 25).
func canonical[S ~string](known []S, s S) S {
	for _, k := range known {
		if k == s {
			return k
		}
	}
	return s
}

// knownItemType reports whether the item codec knows the event type typ. Every type it knows
// decodes an empty object (no field is required), so a type whose empty object does not
// decode is one it does not know: a type written by a later version of the programme, which
// a read model skips, as it skips the known events it does not count. Known types whose data
// does not decode remain errors.
func knownItemType(typ string) bool {
	_, err := item.Decode(typ, []byte("{}"), civil.Date{})
	return err == nil
}
