package identity_test

import (
	"golang.org/x/crypto/bcrypt"

	"github.com/dxledger/dxledger/internal/identity"
)

// This package's tests make and compare dozens of passwords: under the race detector each
// takes seconds at the default cost. What they check does not depend on the cost; the
// product's cost is checked by TestPasswordsStoredAtTheDefaultCost (cost_internal_test.go),
// which reads it before this init runs.
func init() { identity.SetPasswordCostForTests(bcrypt.MinCost) }
