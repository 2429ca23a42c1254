package readmodel

import (
	"fmt"
	"math"

	"github.com/dxledger/dxledger/domain/item"
)

// The one fold: how an item's facts become the figures the reports count. The live group
// deltas (deltas.go), today's rows (items.go, queueCurrent) and the rebuild (rebuild.go) all
// call fold; TestFoldAgrees holds the three to it and to the domain's item.Evolve.

// factKind is what a fact of an item's life records; pj_item_facts keeps its name.
type factKind uint8

const (
	factStage     factKind = iota + 1 // the item's stage changed (proposed, implemented, …)
	factRequested                     // funding requested
	factApproved                      // funding approved (and the stage it leads to)
	factDisbursed                     // money spent
	factProgress                      // a progress report
	factSameAs                        // marked the same model as another
	factFlagged                       // the deadline manager's no-progress flag
	factOverdue                       // the deadline manager's overdue mark
)

var factNames = [...]string{factStage: "stage", factRequested: "requested", factApproved: "approved",
	factDisbursed: "disbursed", factProgress: "progress", factSameAs: "same_as", factFlagged: "flagged",
	factOverdue: "overdue"}

// String is the fact's name in pj_item_facts.
func (k factKind) String() string {
	if int(k) < len(factNames) && factNames[k] != "" {
		return factNames[k]
	}
	return fmt.Sprintf("factKind(%d)", k)
}

func parseFactKind(s string) (factKind, error) {
	for k, name := range factNames {
		if name != "" && name == s {
			return factKind(k), nil
		}
	}
	return 0, fmt.Errorf("unknown fact %q", s)
}

// counted reports whether facts of kind k change what the reports count; the deadline
// manager's flags only set dates of today's row.
func (k factKind) counted() bool { return k != factFlagged && k != factOverdue }

// fact is one fact of an item's life, in stream order. Days are days since 1970-01-01 and
// moments microseconds since then, as the store records them.
type fact struct {
	kind        factKind
	stage       item.Stage // the stage it leads to, "" when it leaves the stage alone
	source, ref string     // ref: a request id, a rating or the model marked the same
	year        int
	percent     int
	amount      int64
	day, rec    int64
}

// itemInfo is what an item was proposed as.
type itemInfo struct {
	kind, unit, pillar, sector string
	estimated                  int64
	end                        int64 // noEnd when the item has no planned end
	proposed, recorded         int64
}

const (
	noEnd = math.MaxInt64
	// noDay is a date column left NULL.
	noDay = math.MinInt64
	// always is past every day and moment: fold at (always, always) is the item today.
	always = math.MaxInt64
)

// moneySums is requested, approved and disbursed.
type moneySums [3]int64

// moneyEntry is an item's money of one funding source and year.
type moneyEntry struct {
	source string
	year   int
	sums   moneySums
}

// figures is an item folded at one business day and recording moment.
type figures struct {
	// present: the item was proposed by the day and recorded by the moment, so it counts.
	present                        bool
	stage                          item.Stage
	requested, approved, disbursed int64
	progress                       int
	sameAs                         string
	// ownFunding: the item needs no separate state funding (item.OwnFundingArranged): it has
	// no funding gap.
	ownFunding bool
	// money by source and year, in order of first appearance: a window of the buffer given
	// to fold.
	money []moneyEntry
	// The dates the deadline manager looks for (noDay when unset): the first approval's day,
	// the last progress report's, the last flags'.
	firstFunded, lastProgress, flagged, overdue int64
}

// fold is the item at day d as known at moment k: its facts dated on or before d and
// recorded by k, in stream order — the same fold as the domain's item.Evolve on the events
// filtered the same way. With info nil (facts of an item whose proposal the projection has
// not seen) the facts are folded but the item is not present. The item's money is appended to
// money, which fold returns grown: a caller that passes its buffer back folds without
// allocating.
func fold(info *itemInfo, facts []fact, d, k int64, money []moneyEntry) (figures, []moneyEntry) {
	f := blankFigures()
	if info != nil {
		if info.proposed > d || info.recorded > k {
			return f, money
		}
		f.present = true
	}
	return foldOn(f, facts, d, k, money)
}

// blankFigures is an item before its first fact.
func blankFigures() figures {
	return figures{firstFunded: noDay, lastProgress: noDay, flagged: noDay, overdue: noDay}
}

// foldOn goes on folding f, the item folded at (d, k) on the facts before these, with facts:
// the same as folding them all at once. Its money is copied to the end of money first, so a
// window of money that f or an earlier fold returned stays as it was.
func foldOn(f figures, facts []fact, d, k int64, money []moneyEntry) (figures, []moneyEntry) {
	base := len(money)
	money = append(money, f.money...)
	for i := range facts {
		x := &facts[i]
		if x.day > d || x.rec > k {
			continue
		}
		col := -1
		switch x.kind {
		case factRequested:
			f.requested, col = f.requested+x.amount, 0
		case factApproved:
			f.approved, col = f.approved+x.amount, 1
			if f.firstFunded == noDay {
				f.firstFunded = x.day
			}
		case factDisbursed:
			f.disbursed, col = f.disbursed+x.amount, 2
		case factProgress:
			f.progress, f.lastProgress = x.percent, x.day
		case factSameAs:
			f.sameAs = x.ref
		case factFlagged:
			f.flagged = x.day
		case factOverdue:
			f.overdue = x.day
		case factStage:
			// item.OwnFundingArranged is the one stage fact that leads to funded and names
			// something (its means); a resume to funded names nothing.
			if x.stage == item.StageFunded && x.ref != "" {
				f.ownFunding = true
				if f.firstFunded == noDay {
					f.firstFunded = x.day
				}
			}
		}
		if x.stage != "" {
			f.stage = x.stage
		}
		if x.stage == item.StageImplemented {
			f.progress = 100
		}
		if col >= 0 {
			j := base
			for ; j < len(money); j++ {
				if money[j].source == x.source && money[j].year == x.year {
					break
				}
			}
			if j == len(money) {
				money = append(money, moneyEntry{source: x.source, year: x.year})
			}
			money[j].sums[col] += x.amount
		}
	}
	f.money = money[base:len(money):len(money)]
	return f, money
}

// finished reports whether an item in stage s is done with, so never overdue.
func finished(s item.Stage) bool {
	return s == item.StageImplemented || s == item.StageEvaluated || s == item.StageCancelled
}

// Positions of the figures of a group row, in the order of the tables' columns.
const (
	mItems = iota
	mDistinct
	mWithGap
	mOverdue
	mEstimated
	mRequested
	mApproved
	mDisbursed
	mGap
	mProgress
	nMetrics
)

// metrics are the figures of a group row: what items add up to.
type metrics [nMetrics]int64

// groupKey is a group of the reports' rows.
type groupKey struct {
	kind, unit, pillar, sector string
	stage                      item.Stage
}

func (f *figures) group(info *itemInfo) groupKey {
	return groupKey{info.kind, info.unit, info.pillar, info.sector, f.stage}
}

// metrics is what the item adds to its group on day d: overdue when it is past its planned
// end on d and not finished. Today's rows keep no overdue count (it changes with the day, not
// with events): they take the metrics at noDay, where nothing is overdue.
func (f *figures) metrics(info *itemInfo, d int64) metrics {
	var m metrics
	gap := max(0, info.estimated-f.approved)
	if f.ownFunding {
		gap = 0 // paid for without separate state funding: nothing is missing
	}
	m[mItems] = 1
	if f.sameAs == "" {
		m[mDistinct] = 1
	}
	if gap > 0 {
		m[mWithGap] = 1
	}
	if !finished(f.stage) && info.end != noEnd && d > info.end {
		m[mOverdue] = 1
	}
	m[mEstimated] = info.estimated
	m[mRequested], m[mApproved], m[mDisbursed] = f.requested, f.approved, f.disbursed
	m[mGap] = gap
	m[mProgress] = int64(f.progress)
	return m
}

// countedMoney is the money the reports count by source and year: none of a cancelled item.
func (f *figures) countedMoney() []moneyEntry {
	if f.stage == item.StageCancelled {
		return nil
	}
	return f.money
}
