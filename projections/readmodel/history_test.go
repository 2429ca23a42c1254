package readmodel

import "testing"

func TestHistoryRemembersBelowTheBatchAndForgetsAbove(t *testing.T) {
	h := NewHistory(10)
	info := &itemInfo{kind: "model"}
	h.keep("a", info, []fact{{day: 1}, {day: 2}}, 4)
	if e, ok := h.take("a", 5); !ok || e.upTo != 4 || len(e.facts) != 2 || e.info != info {
		t.Fatalf("take at the next version: %+v, %v", e, ok)
	}
	// A batch that starts at or below what is remembered (applied again after a rollback, a
	// reset) reads the item whole: the entry goes.
	if _, ok := h.take("a", 4); ok {
		t.Fatal("an entry at the batch's own version was used")
	}
	if _, ok := h.take("a", 9); ok {
		t.Fatal("the entry survived a batch below it")
	}
	// Appending to what take returned must not change what is remembered.
	h.keep("b", info, []fact{{day: 1}}, 1)
	e, _ := h.take("b", 2)
	_ = append(e.facts, fact{day: 99})
	if e2, _ := h.take("b", 2); len(e2.facts) != 1 || cap(e2.facts) != 1 {
		t.Fatalf("remembered facts share their array with a batch: len %d cap %d", len(e2.facts), cap(e2.facts))
	}
	// Bounded by facts, least recently used out; an item too large for it is not kept.
	for i, id := range []string{"c", "d", "e", "f"} {
		h.keep(id, info, []fact{{}, {}, {}}, int64(i+1))
	}
	if h.facts > 10 {
		t.Fatalf("%d facts held, bound 10", h.facts)
	}
	if _, ok := h.take("c", 100); ok {
		t.Fatal("the least recently used item was not evicted")
	}
	h.keep("big", info, make([]fact, 3), 3) // 3 > 10/4
	if _, ok := h.take("big", 100); ok {
		t.Fatal("an item larger than a quarter of the bound was kept")
	}
}
