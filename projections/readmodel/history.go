package readmodel

import (
	"container/list"
	"sync"
)

// History keeps, for the items a live projection touched last, what it folded them from: the
// proposal of record and the facts up to a version. A batch then reads from pj_item_facts only
// the facts after that version, not every earlier fact of every item it touches again (on a
// busy item, the read grew with its life: 60-70% of PostgreSQL's statement time under 16
// clients' commands, BENCHMARKS.md "Commands over HTTP, stop 22").
//
// It can never be stale: a fact is a pure function of its event, and the store never changes
// an event, so the facts of an item up to a version are the same whoever applied them, in
// whichever batch, committed or not. What it remembers is checked against each batch: an
// item whose batch starts at or below the version remembered (a batch applied again after a
// rollback, a projection reset) is read whole and remembered afresh. Bounded by the number of
// facts it holds, least recently used first out.
type History struct {
	mu    sync.Mutex
	max   int // facts
	facts int
	lru   *list.List // of *historyEntry, most recent first
	byID  map[string]*list.Element
}

type historyEntry struct {
	id    string
	info  *itemInfo
	facts []fact // versions 1..upTo that are facts, in version order
	upTo  int64
}

// NewHistory returns a History holding at most maxFacts facts (about 100 bytes each).
func NewHistory(maxFacts int) *History {
	return &History{max: maxFacts, lru: list.New(), byID: map[string]*list.Element{}}
}

// defaultHistoryFacts bounds a live projection's History: ~20 MB.
const defaultHistoryFacts = 200_000

// take returns what h remembers of item id when it ends before version from (the item's
// first version in the batch), and forgets it otherwise.
func (h *History) take(id string, from int64) (*historyEntry, bool) {
	if h == nil {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	el, ok := h.byID[id]
	if !ok {
		return nil, false
	}
	e := el.Value.(*historyEntry)
	if e.upTo >= from {
		h.remove(el)
		return nil, false
	}
	h.lru.MoveToFront(el)
	return e, true
}

// keep remembers item id's proposal and facts up to version upTo.
func (h *History) keep(id string, info *itemInfo, facts []fact, upTo int64) {
	if h == nil || info == nil || len(facts) > h.max/4 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.byID[id]; ok {
		h.remove(el)
	}
	e := &historyEntry{id: id, info: info, facts: facts[:len(facts):len(facts)], upTo: upTo}
	h.byID[id] = h.lru.PushFront(e)
	h.facts += len(facts)
	for h.facts > h.max {
		h.remove(h.lru.Back())
	}
}

func (h *History) remove(el *list.Element) {
	e := h.lru.Remove(el).(*historyEntry)
	delete(h.byID, e.id)
	h.facts -= len(e.facts)
}
