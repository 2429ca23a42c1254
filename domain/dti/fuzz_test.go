package dti

import (
	"math/big"
	"testing"
)

// Any values: Compute never panics, and a total it gives is within [0, 1] and is the exact
// sum rounded to four decimals.
func FuzzCompute(f *testing.F) {
	f.Add("1.0000", "0.9", "0.8253", "0.5197")
	f.Add("1e-1", "-0", "0.00005", "1")
	f.Add("x", "2", "", "0.99999")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		fw := &Framework{Code: "f", FromYear: 2020, Divisor: 1000, Complete: true,
			Indices: []Index{{Code: "a", Points: 100}, {Code: "b", Points: 200}, {Code: "c", Points: 300}, {Code: "d", Points: 400}}}
		s, err := Compute(fw, map[string]string{"a": a, "b": b, "c": c, "d": d})
		if err != nil {
			return
		}
		if s.Total < 0 || s.Total > 10000 {
			t.Fatalf("total %s outside [0, 1]", s.Total)
		}
		sum := new(big.Rat)
		for _, w := range s.ByIndex {
			sum.Add(sum, w.Weighted)
		}
		if Round4(sum) != s.Total {
			t.Fatalf("total %s is not the rounded sum %s", s.Total, sum.FloatString(8))
		}
	})
}
