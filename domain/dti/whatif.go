package dti

import (
	"maps"
	"math/big"
)

// Link ties a project or model to the main index it should raise, by an expected gain in the
// index's value (0.05 raises 0.70 to 0.75); the what-if adds the gains of every link, and an
// index never goes above 1.
type Link struct {
	ItemID string `json:"item_id"`
	Index  string `json:"index"`
	Gain   string `json:"gain"`
}

// WhatIf is a plan's outcome: the base total, the total with the changes and links, and how
// far that is from the target score.
type WhatIf struct {
	Base     Score
	New      Score
	Target   Fixed4
	Gain     Fixed4 // New − Base, in published terms
	Distance Fixed4 // Target − New; zero or less means the target is reached
	Reached  bool
}

// PlanWhatIf scores base under f, then with changes (an index's new value) and links (gains
// added on top), and measures the new total against target.
func PlanWhatIf(f *Framework, base, changes map[string]string, links []Link, target Fixed4) (WhatIf, error) {
	b, err := Compute(f, base)
	if err != nil {
		return WhatIf{}, err
	}
	next := maps.Clone(base)
	maps.Copy(next, changes)
	if len(links) > 0 {
		one := big.NewRat(1, 1)
		for _, l := range links {
			g, ok := ParseValue(l.Gain)
			if !ok || g.r.Sign() < 0 || g.r.Cmp(one) > 0 {
				return WhatIf{}, &ValueError{Index: l.Index, Reason: "a link's gain must be a number from 0 to 1"}
			}
			cur, ok := ParseValue(next[l.Index])
			if !ok {
				return WhatIf{}, &ValueError{Index: l.Index, Reason: "a link names a main index with no value"}
			}
			sum := new(big.Rat).Add(cur.r, g.r)
			if sum.Cmp(one) > 0 {
				sum = one
			}
			next[l.Index] = sum.FloatString(12)
		}
	}
	n, err := Compute(f, next)
	if err != nil {
		return WhatIf{}, err
	}
	w := WhatIf{Base: b, New: n, Target: target, Gain: n.Total - b.Total, Distance: target - n.Total}
	w.Reached = w.Distance <= 0
	return w, nil
}
