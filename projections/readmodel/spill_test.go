package readmodel

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The spilling sort gives the records in key order with equal keys summed, the same whether
// it spilled runs to files or not.
func TestSpillSortSumsInOrder(t *testing.T) {
	sum := func(dst, src []int64) { dst[2] += src[2] }
	for _, budget := range []int{1 << 20, 16 * 20} { // one run in memory; runs of 16 records
		s := newSpillSort("t", t.TempDir(), 3, 2, budget, sum)
		want := map[[2]int64]int64{}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 5000 {
			r := []int64{rng.Int64N(50) - 25, rng.Int64N(7), rng.Int64N(1000)}
			want[[2]int64{r[0], r[1]}] += r[2]
			if err := s.add(r); err != nil {
				t.Fatal(err)
			}
		}
		var got [][3]int64
		if err := s.each(func(r []int64) error { got = append(got, [3]int64{r[0], r[1], r[2]}); return nil }); err != nil {
			t.Fatal(err)
		}
		if budget < 1<<20 && len(s.runs) < 10 {
			t.Fatalf("budget %d: %d runs, want many", budget, len(s.runs))
		}
		if len(got) != len(want) {
			t.Fatalf("budget %d: %d keys, want %d", budget, len(got), len(want))
		}
		if !slices.IsSortedFunc(got, func(a, b [3]int64) int { return s.cmp(a[:2], b[:2]) }) {
			t.Fatalf("budget %d: not in key order", budget)
		}
		for _, r := range got {
			if want[[2]int64{r[0], r[1]}] != r[2] {
				t.Fatalf("budget %d: key %v summed to %d, want %d", budget, r[:2], r[2], want[[2]int64{r[0], r[1]}])
			}
		}
	}
}
