package identity

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// costAtStart is the product's cost, read when the package is initialised: before any test
// (or the init in cost_test.go) lowers it.
var costAtStart = passwordCost

// Passwords are stored at bcrypt's default cost; the tests' own, lower cost is only theirs.
func TestPasswordsStoredAtTheDefaultCost(t *testing.T) {
	if costAtStart != bcrypt.DefaultCost {
		t.Errorf("passwords are hashed at cost %d, want bcrypt.DefaultCost %d", costAtStart, bcrypt.DefaultCost)
	}
	h, err := hashPassword("mật-khẩu-ban-đầu")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost(h); err != nil || cost != passwordCost {
		t.Errorf("hashPassword made cost %d (%v), want the configured %d", cost, err, passwordCost)
	}
}
