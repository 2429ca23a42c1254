package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// Every account change is an event of the account's stream with its actor; suspension and a
// password reset end every token and session at once; reactivation leaves revoked tokens
// revoked; a token past its end stops.
func TestAccountLifecycle(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ids := newStore(t, db, func() time.Time { return now })
	ctx := context.Background()
	admin, _, err := ids.Create(ctx, identity.System, identity.NewUser{Name: "Quản trị", Role: identity.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	by := identity.ActorOf(admin, "req-1")
	u, first, err := ids.Create(ctx, by, identity.NewUser{Name: "Cán bộ tài chính", Role: identity.RoleFinanceOfficer, Password: "mật-khẩu-ban-đầu"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Authenticate(ctx, first); err != nil {
		t.Fatalf("first token: %v", err)
	}
	short, secret, _, err := ids.IssueToken(ctx, identity.ActorOf(u, "req-2"), u.ID, "máy tính", 24*time.Hour)
	if err != nil || short.Name != "máy tính" || !short.ExpiresAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("issue token: %+v %v", short, err)
	}
	now = now.Add(25 * time.Hour)
	if _, err := ids.Authenticate(ctx, secret); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("a token past its end: %v, want 401", err)
	}
	if _, err := ids.Authenticate(ctx, first); err != nil {
		t.Errorf("the default token after a day: %v", err)
	}
	sess, _, err := ids.StartSession(ctx, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Suspend(ctx, identity.ActorOf(u, "x"), u.ID, "tự"); !errors.Is(err, identity.ErrSelfSuspend) {
		t.Errorf("self-suspension: %v", err)
	}
	if _, err := ids.Suspend(ctx, by, u.ID, "nghỉ việc"); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Authenticate(ctx, first); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("a token after suspension: %v, want 401", err)
	}
	if _, err := ids.Session(ctx, sess); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("a session after suspension: %v", err)
	}
	if _, err := ids.SignIn(ctx, "Cán bộ tài chính", "mật-khẩu-ban-đầu"); !errors.Is(err, identity.ErrSuspended) {
		t.Errorf("signing in while suspended: %v", err)
	}
	if _, err := ids.Reactivate(ctx, by, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Authenticate(ctx, first); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("a token revoked by the suspension came back with the reactivation: %v", err)
	}
	if _, err := ids.SignIn(ctx, "Cán bộ tài chính", "mật-khẩu-ban-đầu"); err != nil {
		t.Errorf("signing in after reactivation: %v", err)
	}
	_, again, _, err := ids.IssueToken(ctx, by, u.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.SetPassword(ctx, by, u.ID, "mật-khẩu-mới-2026"); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Authenticate(ctx, again); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("a token after a password reset: %v, want 401", err)
	}
	hist, err := ids.History(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, actor string }{
		{identity.EvCreated, admin.ID}, {identity.EvTokenIssued, admin.ID}, {identity.EvTokenIssued, u.ID},
		{identity.EvSuspended, admin.ID}, {identity.EvTokenRevoke, admin.ID}, {identity.EvReactivated, admin.ID},
		{identity.EvTokenIssued, admin.ID}, {identity.EvPasswordSet, admin.ID}, {identity.EvTokenRevoke, admin.ID},
	}
	if len(hist) != len(want) {
		t.Fatalf("history: %d events, want %d: %+v", len(hist), len(want), hist)
	}
	for i, w := range want {
		if hist[i].Type != w.typ || hist[i].Actor != w.actor || hist[i].Version != int64(i+1) {
			t.Errorf("history[%d] = %s by %s v%d, want %s by %s", i, hist[i].Type, hist[i].Actor, hist[i].Version, w.typ, w.actor)
		}
	}
}

// DESIGN.md invariant 15: a person takes part in a two-person rule only if their role was
// granted, and their credentials were last set by someone else, before the request.
func TestSeparationOfDuties(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ids := newStore(t, db, func() time.Time { return now })
	ctx := context.Background()
	admin, _, err := ids.Create(ctx, identity.System, identity.NewUser{Name: "Quản trị", Role: identity.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	by := identity.ActorOf(admin, "")
	tick := func() { now = now.Add(time.Minute) }
	before, _, _ := ids.Create(ctx, by, identity.NewUser{Name: "Cũ", Role: identity.RoleFinanceOfficer, Password: "mật-khẩu-ban-đầu"})
	reset, _, _ := ids.Create(ctx, by, identity.NewUser{Name: "Bị đặt lại", Role: identity.RoleFinanceOfficer, Password: "mật-khẩu-ban-đầu"})
	regranted, _, _ := ids.Create(ctx, by, identity.NewUser{Name: "Đổi vai", Role: identity.RoleFocalPoint, UnitCode: "SO-YT"})
	tick()
	requested := now
	tick()
	after, _, _ := ids.Create(ctx, by, identity.NewUser{Name: "Mới", Role: identity.RoleFinanceOfficer})
	if _, err := ids.SetPassword(ctx, identity.ActorOf(before, ""), before.ID, "mật-khẩu-tự-đổi"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := ids.IssueToken(ctx, identity.ActorOf(before, ""), before.ID, "của tôi", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.SetPassword(ctx, by, reset.ID, "mật-khẩu-quản-trị-đặt"); err != nil {
		t.Fatal(err)
	}
	// Taking over a reset account by changing "its own" password afterwards does not wash the
	// reset out: the last credentials someone else set are still after the request.
	if _, err := ids.SetPassword(ctx, identity.ActorOf(reset, ""), reset.ID, "mật-khẩu-tự-đổi-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Grant(ctx, by, regranted.ID, identity.RoleFinanceOfficer, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		id   string
		ok   bool
	}{
		{"made before, own password and token changed after", before.ID, true},
		{"made after the request", after.ID, false},
		{"password reset by an administrator after", reset.ID, false},
		{"role granted after", regranted.ID, false},
	} {
		err := ids.CheckSeparation(ctx, c.id, requested)
		if c.ok && err != nil || !c.ok && !errors.Is(err, identity.ErrSeparationOfDuties) {
			t.Errorf("%s: %v, want allowed=%v", c.name, err, c.ok)
		}
	}
}

// Issue 14 point 7: a web session ends after the idle timeout without use, however long its
// life; one in use lives on.
func TestSessionIdleTimeout(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ids := newStore(t, db, func() time.Time { return now })
	ctx := context.Background()
	u, _, err := ids.Create(ctx, identity.System, identity.NewUser{Name: "Cán bộ", Role: identity.RoleSteeringCommittee, NoToken: true})
	if err != nil {
		t.Fatal(err)
	}
	busy, _, _ := ids.StartSession(ctx, u.ID, 12*time.Hour)
	idle, _, _ := ids.StartSession(ctx, u.ID, 12*time.Hour)
	for range 4 { // two hours of use, every 20 minutes
		now = now.Add(20 * time.Minute)
		if _, err := ids.Session(ctx, busy); err != nil {
			t.Fatalf("a session in use after %v: %v", now.Sub(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)), err)
		}
	}
	if _, err := ids.Session(ctx, idle); !errors.Is(err, identity.ErrSessionExpired) {
		t.Errorf("a session unused for two hours: %v, want expired", err)
	}
}
