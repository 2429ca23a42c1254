package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/internal/pgtest"
	"golang.org/x/crypto/bcrypt"
)

// Passwords are stored at bcrypt's default cost. (The end-to-end tests lower it with
// SetPasswordCostForTests to keep the race detector's run short; this package does not, so
// the product's cost is checked here.)
func TestPasswordsStoredAtTheDefaultCost(t *testing.T) {
	db := pgtest.New(t)
	ids := newStore(t, db, time.Now)
	u, _, err := ids.Create(context.Background(), identity.System, identity.NewUser{Name: "Cán bộ", Role: identity.RoleFocalPoint, UnitCode: "SO-YT", Password: "mật-khẩu-ban-đầu"})
	if err != nil {
		t.Fatal(err)
	}
	var hash string
	if err := db.Pool.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE user_id = $1`, u.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("stored at cost %d (%v), want bcrypt.DefaultCost %d", cost, err, bcrypt.DefaultCost)
	}
}
