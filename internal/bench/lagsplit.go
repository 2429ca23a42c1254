package bench

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/projections/projector"
)

// sent is one event of the lag benchmark: its stream, its position, when Append was called and
// how long it took.
type sent struct {
	stream string
	pos    eventstore.Position
	at     time.Time
	took   time.Duration
}

// applied is one committed batch of the follower, with the read that brought it.
type applied struct {
	pos   eventstore.Position
	at    time.Time
	n     int
	took  time.Duration
	read  eventstore.Read
	batch projector.Batch
}

// lagSplit is where one event's time went, from the call to Append to the commit of the batch
// that applied it. The parts add up to the whole.
type lagSplit struct {
	total time.Duration
	// append: the call to Append until it returned (the event is committed and durable).
	append time.Duration
	// queued: from then until the follower's next read began: the follower was applying the
	// batch before, or had not yet woken.
	queued time.Duration
	// hidden: from that read until the read that returned the event: reads in between missed
	// a committed event, hidden by the fence (an older transaction with an xid still open).
	hidden  time.Duration
	misses  int  // reads that missed it
	limited bool // one of them was full: the event was past the batch size, not hidden
	// read: the read that returned it.
	read time.Duration
	// lead: from the read's end until the batch had the lead's connection (the lease check
	// may hold it).
	lead time.Duration
	// tx: the batch's transaction, from BEGIN to the commit's answer, and its steps.
	tx    time.Duration
	steps projector.Steps
}

// split places an event's wait on the follower's reads and its batch.
func split(s sent, a applied, reads []eventstore.Read) lagSplit {
	ret := s.at.Add(s.took)
	own := a.read
	sp := lagSplit{total: a.at.Sub(s.at), append: s.took}
	// The first read that began after the append returned (or its own, if earlier).
	k := sort.Search(len(reads), func(i int) bool { return !reads[i].Start.Before(ret) })
	first := own.Start
	if k < len(reads) && reads[k].Start.Before(own.Start) {
		first = reads[k].Start
		for i := k; i < len(reads) && reads[i].Start.Before(own.Start); i++ {
			sp.misses++
			sp.limited = sp.limited || reads[i].Full
		}
	}
	if first.Before(ret) {
		// Its read began between the commit and Append's return: the append's tail overlaps.
		sp.append = first.Sub(s.at)
	} else {
		sp.queued = first.Sub(ret)
	}
	sp.hidden = own.Start.Sub(first)
	sp.read = own.End.Sub(own.Start)
	sp.lead = a.batch.Locked.Sub(own.End)
	sp.tx = a.batch.Committed.Sub(a.batch.Locked)
	sp.steps = a.batch.Steps
	return sp
}

// busy is the share of the time from start to the last batch's commit in which the follower
// was reading or applying a batch (a read that found nothing is not counted), in percent.
func busy(seen []applied, start time.Time) float64 {
	if len(seen) == 0 || seen[len(seen)-1].at.Before(start) {
		return 0
	}
	var sum time.Duration
	for _, a := range seen {
		from := a.read.Start
		if from.IsZero() {
			return 0 // not observed (the items alone)
		}
		if from.Before(start) {
			from = start
		}
		if a.at.After(from) {
			sum += a.at.Sub(from)
		}
	}
	return 100 * float64(sum) / float64(seen[len(seen)-1].at.Sub(start))
}

// LagSplit is where the events' time went, in mean milliseconds: over every event, and over
// the slowest 1% (those at or above the p99), so that a p99 can be read as its parts.
type LagSplit struct {
	Projections []string `json:"projections"`
	All         LagParts `json:"all"`
	Slowest     LagParts `json:"slowest_1pct"`
	Worst       LagParts `json:"worst"`
}

// LagParts are the parts of lagSplit in milliseconds, and how many events were hidden.
type LagParts struct {
	Events       int     `json:"events"`
	Total        float64 `json:"total_ms"`
	Append       float64 `json:"append_ms"`
	Queued       float64 `json:"queued_ms"`
	Hidden       float64 `json:"hidden_ms"`
	HiddenEvents int     `json:"hidden_events"`
	Limited      float64 `json:"past_batch_size_ms"`
	Read         float64 `json:"read_ms"`
	Lead         float64 `json:"lead_ms"`
	Tx           float64 `json:"tx_ms"`
	// The transaction's steps: BEGIN with the checkpoints' lock, each projection's Apply (in
	// the order of Projections), the checkpoints' move with COMMIT.
	TxLock   float64   `json:"tx_lock_ms"`
	TxApply  []float64 `json:"tx_apply_ms"`
	TxCommit float64   `json:"tx_commit_ms"`
}

func parts(ss []lagSplit) LagParts {
	var p LagParts
	if len(ss) == 0 {
		return p
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(len(ss)) }
	for _, s := range ss {
		p.Total += ms(s.total)
		p.Append += ms(s.append)
		p.Queued += ms(s.queued)
		if s.limited {
			p.Limited += ms(s.hidden)
		} else {
			p.Hidden += ms(s.hidden)
		}
		p.Read += ms(s.read)
		p.Lead += ms(s.lead)
		p.Tx += ms(s.tx)
		p.TxLock += ms(s.steps.Lock)
		p.TxCommit += ms(s.steps.Commit)
		if p.TxApply == nil {
			p.TxApply = make([]float64, len(s.steps.Apply))
		}
		for i, d := range s.steps.Apply {
			if i < len(p.TxApply) {
				p.TxApply[i] += ms(d)
			}
		}
		if s.misses > 0 && !s.limited {
			p.HiddenEvents++
		}
	}
	p.Events = len(ss)
	return p
}

func summarise(ss []lagSplit, names []string) *LagSplit {
	if len(ss) == 0 {
		return nil
	}
	ss = slices.Clone(ss)
	slices.SortFunc(ss, func(a, b lagSplit) int { return int(a.total - b.total) })
	p99 := ss[min(len(ss)-1, int(0.99*float64(len(ss))))].total
	from, _ := slices.BinarySearchFunc(ss, p99, func(s lagSplit, t time.Duration) int { return int(s.total - t) })
	return &LagSplit{Projections: names, All: parts(ss), Slowest: parts(ss[from:]), Worst: parts(ss[len(ss)-1:])}
}

func (l *LagSplit) print(w io.Writer) {
	fmt.Fprintln(w, "where the time went (mean ms: append; waiting for the follower's next read; hidden from reads by an older open transaction [events]; past a full read's batch size; the read; the lead's connection; the batch's transaction):")
	for _, r := range []struct {
		name string
		p    LagParts
	}{{"every event", l.All}, {"slowest 1%", l.Slowest}, {"the slowest", l.Worst}} {
		p := r.p
		fmt.Fprintf(w, "  %-12s %6d events, %7.1f ms = append %.1f + queued %.1f + hidden %.1f [%d] + past the limit %.1f + read %.1f + lead %.1f + tx %.1f",
			r.name, p.Events, p.Total, p.Append, p.Queued, p.Hidden, p.HiddenEvents, p.Limited, p.Read, p.Lead, p.Tx)
		fmt.Fprintf(w, " (lock %.1f", p.TxLock)
		for i, a := range p.TxApply {
			if i < len(l.Projections) {
				fmt.Fprintf(w, ", %s %.1f", l.Projections[i], a)
			}
		}
		fmt.Fprintf(w, ", commit %.1f)\n", p.TxCommit)
	}
}
