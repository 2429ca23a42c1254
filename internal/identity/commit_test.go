package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// An account change whose transaction fails after its events were appended leaves neither:
// the history does not run ahead of the account's row. Before, the append committed on its
// own: the stream held a suspension the tables did not, and the row's version stayed behind
// the stream, so that every later change of the account was a conflict, for good (since
// issue 13 the database checks every append's expected version).
func TestAFailedCommitLeavesNoHistory(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ids := newStore(t, db, func() time.Time { return now })
	ctx := context.Background()
	admin, _, err := ids.Create(ctx, identity.System, identity.NewUser{Name: "Quản trị", Role: identity.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	by := identity.ActorOf(admin, "req-1")
	u, tok, err := ids.Create(ctx, by, identity.NewUser{Name: "Cán bộ tài chính", Role: identity.RoleFinanceOfficer, Password: "mật-khẩu-ban-đầu"})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_id = $1`, identity.StreamID(u.ID)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	// The row's update fails once, after the events were appended (a commit that fails: a lost
	// connection, a cancelled request).
	for _, q := range []string{
		`CREATE FUNCTION fail_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the commit fails'; END $$`,
		`CREATE TRIGGER fail_version BEFORE UPDATE OF version ON users FOR EACH ROW EXECUTE FUNCTION fail_version()`} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ids.Suspend(ctx, by, u.ID, "tạm dừng"); err == nil {
		t.Fatal("the change succeeded although its transaction failed")
	}
	if _, err := db.Pool.Exec(ctx, `DROP TRIGGER fail_version ON users`); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != before {
		t.Errorf("the failed change left %d events on the account's stream", n-before)
	}
	if _, err := ids.Authenticate(ctx, tok); err != nil {
		t.Errorf("the account is not suspended, yet its token fails: %v", err)
	}
	if _, err := ids.Suspend(ctx, by, u.ID, "tạm dừng"); err != nil {
		t.Fatalf("the account can change again: %v", err)
	}
	if _, err := ids.Authenticate(ctx, tok); !errors.Is(err, identity.ErrUnauthenticated) && !errors.Is(err, identity.ErrSuspended) {
		t.Errorf("a suspended account's token: %v", err)
	}
}
