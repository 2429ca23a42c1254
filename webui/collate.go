package webui

import (
	"slices"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// byName orders rows by the Vietnamese collation of their names (Sở Kế hoạch… before Sở Khoa
// học…; tone marks after the letters they sit on), not by code. A collator serves one
// goroutine, so each sort makes its own.
func byName[R any](rows []R, name func(R) string) {
	c := collate.New(language.Vietnamese)
	slices.SortStableFunc(rows, func(a, b R) int { return c.CompareString(name(a), name(b)) })
}
