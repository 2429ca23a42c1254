package readmodel

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
)

// An item whose facts outgrow what the History keeps of one item leaves its last kept entry
// behind, remembered up to an earlier version than the batch before the next one: that batch
// must read the facts in between from pj_item_facts, and only an entry remembered up to the
// version right before the batch may skip the read. Each event here is its own batch and the
// History keeps at most 2 facts of an item (8/4), so from an item's third fact on its entry
// is stale; the live tables must still equal a rebuild's.
func TestHistoryStaleEntryReadsTheFactsBetween(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(t, db.Pool)
	pjtest.SeedUnits(t, store)
	r := newRunner(t, db.Pool, store, Units{}, Items{BucketFacts: 3, History: NewHistory(8)})
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- r.FollowAll(ctx) }()
	rng := rand.New(rand.NewPCG(23, 7))
	longest := 0
	for _, id := range []string{"h1", "h2", "h3"} {
		evs := pjtest.LifeOf(rng, item.Project, id)
		longest = max(longest, len(evs))
		for v, e := range evs {
			pjtest.AppendItem(t, store, item.Project, id, int64(v), e)
			pjtest.CaughtUp(t, r, store)
		}
	}
	if longest < 5 {
		t.Fatalf("the longest life has %d events: too short to leave a stale entry behind", longest)
	}
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	live := pjtest.Tables(t, db.Pool)
	for _, p := range r.Projections() {
		if _, err := r.Rebuild(context.Background(), p, nil); err != nil {
			t.Fatal(err)
		}
	}
	rebuilt := pjtest.Tables(t, db.Pool)
	sameRows(t, live, rebuilt)
}
