package readmodel

import (
	"context"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/demo"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"golang.org/x/crypto/bcrypt"
)

// The demo makes 34 people with passwords: at bcrypt's default cost that is a minute of CPU
// under the race detector (internal/identity's own tests check the default cost).
func init() { identity.SetPasswordCostForTests(bcrypt.MinCost) }

// The branches meet here: the demo records its history late and out of order (recorded_at
// goes back and forth along the store's order, issue 12), with splits, accounts' streams and
// indicator and DTI facts, while the live projections cut small buckets of recording time and
// write deltas (the lag work). Live, then rebuilt from zero, the tables are the same.
func TestDemoRebuildEqualsLive(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(t, db.Pool)
	r := newRunner(t, db.Pool, store, Units{}, Items{BucketFacts: 40, History: NewHistory(100_000)}, Indicators{})
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- r.FollowAll(ctx) }()

	rec, err := demo.NewRecorder(db.Pool, time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(db.Pool, identity.Config{Events: store})
	if _, err := demo.Load(context.Background(), rec, ids); err != nil {
		rec.Close()
		t.Fatal(err)
	}
	rec.Close()
	pjtest.CaughtUp(t, r, store)
	cancel()
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	var aside int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM projection_set_aside`).Scan(&aside); err != nil || aside != 0 {
		t.Fatalf("%d events set aside (%v)", aside, err)
	}
	live := pjtest.Tables(t, db.Pool)
	var ind int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pj_indicator_facts`).Scan(&ind); err != nil || ind == 0 {
		t.Fatalf("the demo's indicator facts: %d rows (%v)", ind, err)
	}
	for _, p := range r.Projections() {
		if _, err := r.Rebuild(context.Background(), p, nil); err != nil {
			t.Fatal(err)
		}
	}
	rebuilt := pjtest.Tables(t, db.Pool)
	sameRows(t, live, rebuilt)
	t.Logf("%d rows, live and rebuilt equal", len(live))
}
