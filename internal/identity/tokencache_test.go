package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// A server keeps what a token belongs to (CacheTokens) and still refuses a revoked token, a
// suspended account and a token past its end: at once when it made the change itself, within
// the change's notification when another process did (bound checked here: 500 ms, well under
// the 2 s TokenCacheMaxAge, so it is the notification that does it, not the age).
func TestTokenCacheHonoursRevocation(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv, other := newStore(t, db, clock), newStore(t, db, clock) // other: another process, such as `dxledger user`
	ctx := context.Background()
	listen, stop := context.WithCancel(ctx)
	defer stop()
	srv.CacheTokens(listen)

	admin, _, err := other.Create(ctx, identity.System, identity.NewUser{Name: "Quản trị", Role: identity.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	by := identity.ActorOf(admin, "req")
	newUser := func(name string) (identity.User, string) {
		u, tok, err := other.Create(ctx, by, identity.NewUser{Name: name, Role: identity.RoleFocalPoint, UnitCode: "SO-YT"})
		if err != nil {
			t.Fatal(err)
		}
		return u, tok
	}
	auth := func(tok string) (identity.User, error) { return srv.Authenticate(ctx, tok) }
	// cached waits until a second Authenticate of tok reads nothing (the LISTEN connection is up).
	cached := func(tok string) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			if _, err := auth(tok); err != nil {
				t.Fatal(err)
			}
			n := srv.TokenLookups()
			if _, err := auth(tok); err != nil {
				t.Fatal(err)
			}
			if srv.TokenLookups() == n {
				return
			}
		}
		t.Fatal("Authenticate reads the token every time: nothing is cached")
	}
	refusedWithin := func(what, tok string, bound time.Duration) {
		t.Helper()
		start := time.Now()
		for {
			_, err := auth(tok)
			if errors.Is(err, identity.ErrUnauthenticated) {
				t.Logf("%s: refused after %v", what, time.Since(start))
				return
			}
			if time.Since(start) > bound {
				t.Fatalf("%s: still accepted %v later (err %v)", what, time.Since(start), err)
			}
			time.Sleep(time.Millisecond)
		}
	}

	// Revoked by another process.
	u1, tok1 := newUser("Cán bộ một")
	cached(tok1)
	toks, err := other.Tokens(ctx, u1.ID)
	if err != nil || len(toks) != 1 {
		t.Fatalf("tokens: %v %v", toks, err)
	}
	if _, err := other.RevokeToken(ctx, by, u1.ID, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	refusedWithin("token revoked by another process", tok1, 500*time.Millisecond)

	// Account suspended by another process.
	u2, tok2 := newUser("Cán bộ hai")
	cached(tok2)
	if _, err := other.Suspend(ctx, by, u2.ID, "nghỉ việc"); err != nil {
		t.Fatal(err)
	}
	refusedWithin("account suspended by another process", tok2, 500*time.Millisecond)

	// Suspended by this server: refused on the very next request.
	u3, tok3 := newUser("Cán bộ ba")
	cached(tok3)
	if _, err := srv.Suspend(ctx, by, u3.ID, "nghỉ việc"); err != nil {
		t.Fatal(err)
	}
	if _, err := auth(tok3); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Fatalf("account suspended by this server, the next request: %v, want refused", err)
	}

	// A role granted elsewhere is the role of the next requests.
	u4, tok4 := newUser("Cán bộ bốn")
	cached(tok4)
	if _, err := other.Grant(ctx, by, u4.ID, identity.RoleSteeringCommittee, ""); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		got, err := auth(tok4)
		if err == nil && got.Role == identity.RoleSteeringCommittee {
			break
		}
		if time.Since(start) > 500*time.Millisecond {
			t.Fatalf("granted elsewhere: still %q (%v)", got.Role, err)
		}
	}

	// A token past its end is refused though it was kept.
	u5, _ := newUser("Cán bộ năm")
	_, short, _, err := srv.IssueToken(ctx, identity.ActorOf(u5, "r"), u5.ID, "ngắn", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cached(short)
	now = now.Add(time.Hour)
	if _, err := auth(short); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Fatalf("a kept token past its end: %v, want refused", err)
	}

	// Without the LISTEN connection nothing is kept.
	_, tok6 := newUser("Cán bộ sáu")
	stop()
	time.Sleep(100 * time.Millisecond)
	n := srv.TokenLookups()
	for range 3 {
		if _, err := auth(tok6); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.TokenLookups() - n; got != 3 {
		t.Fatalf("with the listener stopped, 3 requests read %d times, want 3", got)
	}
}
