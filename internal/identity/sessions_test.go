package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T, db *pgtest.DB, now func() time.Time) *identity.Store {
	t.Helper()
	es, err := eventstore.New(db.Pool, eventstore.Config{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(es.Close)
	return identity.New(db.Pool, identity.Config{Events: es, Now: now})
}

// Sessions end when they expire and when the password is reset; passwords are checked by
// bcrypt, with bcrypt's 72-byte limit told as such rather than failing inside it.
func TestSessionsAndPasswords(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ids := newStore(t, db, func() time.Time { return now })
	ctx := context.Background()
	u, _, err := ids.Create(ctx, identity.System, identity.NewUser{Name: "Cán bộ đầu mối Sở Y tế", Role: identity.RoleFocalPoint, UnitCode: "SO-YT", Password: "mật-khẩu-ban-đầu"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.SignIn(ctx, "Cán bộ đầu mối Sở Y tế", "sai-mật-khẩu-rồi"); !errors.Is(err, identity.ErrBadCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := ids.SignIn(ctx, "Không có ai", "mật-khẩu-ban-đầu"); !errors.Is(err, identity.ErrBadCredentials) {
		t.Errorf("unknown name: %v", err)
	}
	got, err := ids.SignIn(ctx, "Cán bộ đầu mối Sở Y tế", "mật-khẩu-ban-đầu")
	if err != nil || got.ID != u.ID {
		t.Fatalf("sign in: %v %v", got, err)
	}
	token, sess, err := ids.StartSession(ctx, u.ID, time.Hour)
	if err != nil || sess.CSRF == "" || sess.User.ID != u.ID {
		t.Fatalf("start session: %+v %v", sess, err)
	}
	if s, err := ids.Session(ctx, token); err != nil || s.CSRF != sess.CSRF {
		t.Errorf("session: %+v %v", s, err)
	}
	now = now.Add(time.Hour)
	if _, err := ids.Session(ctx, token); !errors.Is(err, identity.ErrSessionExpired) {
		t.Errorf("after its hour: %v, want expired", err)
	}
	token, _, err = ids.StartSession(ctx, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.SetPassword(ctx, identity.System, u.ID, "ngắn"); !errors.Is(err, identity.ErrWeakPassword) {
		t.Errorf("short password: %v", err)
	}
	if _, err := ids.SetPassword(ctx, identity.System, u.ID, strings.Repeat("ệ", 25)); !errors.Is(err, identity.ErrLongPassword) {
		t.Errorf("75-byte password: %v", err)
	}
	if _, err := ids.SetPassword(ctx, identity.System, u.ID, "mật-khẩu-mới-2026"); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Session(ctx, token); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("a session after the password was reset: %v, want signed out", err)
	}
	if _, err := ids.SignIn(ctx, "Cán bộ đầu mối Sở Y tế", "mật-khẩu-ban-đầu"); !errors.Is(err, identity.ErrBadCredentials) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, err := ids.SignIn(ctx, "Cán bộ đầu mối Sở Y tế", "mật-khẩu-mới-2026"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if err := ids.EndSession(ctx, token); err != nil {
		t.Fatal(err)
	}
}
