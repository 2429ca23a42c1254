package identity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// A change this Store makes is refused on the very next request, whatever the notification
// does: here the cache is live with no LISTEN connection at all, so only the change's own
// forgetting can drop what was kept. And an answer read before a forgetting is not kept.
func TestTokenCacheForgetsItsOwnChangeAtOnce(t *testing.T) {
	db := pgtest.New(t)
	es, err := eventstore.New(db.Pool, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(es.Close)
	s := New(db.Pool, Config{Events: es})
	s.cache.entries = map[[32]byte]tokenEntry{}
	s.cache.reset(true)
	ctx := context.Background()
	admin, _, err := s.Create(ctx, System, NewUser{Name: "Quản trị", Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	u, tok, err := s.Create(ctx, ActorOf(admin, "r"), NewUser{Name: "Cán bộ", Role: RoleFocalPoint, UnitCode: "SO-YT"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.TokenLookups(); n != 1 {
		t.Fatalf("3 requests read the token %d times, want 1 (kept)", n)
	}
	if _, err := s.Suspend(ctx, ActorOf(admin, "r2"), u.ID, "nghỉ việc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("suspended by this Store, the next request: %v, want refused", err)
	}

	// Read, then a change is told, then the answer would be stored: it is not.
	key := [32]byte{1}
	gen, keep := s.cache.begin()
	s.cache.forget()
	s.cache.put(key, gen, tokenEntry{user: u, read: time.Now()})
	if _, ok := s.cache.get(key, time.Now(), time.Now()); !keep || ok {
		t.Fatalf("an answer read before a change was kept (live %v)", keep)
	}
	// And nothing is used past TokenCacheMaxAge.
	gen, _ = s.cache.begin()
	s.cache.put(key, gen, tokenEntry{user: u, read: time.Now().Add(-TokenCacheMaxAge)})
	if _, ok := s.cache.get(key, time.Now(), time.Now()); ok {
		t.Fatal("an entry older than TokenCacheMaxAge was used")
	}
}
