// Package money is whole Vietnamese đồng as int64. There are no fractions of a đồng and no
// floats anywhere; amounts are bounded by Ceiling so that no sum in the programme can
// overflow (a province's whole budget is a few times 10^13 đồng).
package money

import (
	"errors"
	"fmt"
)

// VND is an amount of whole đồng.
type VND int64

// Ceiling is the largest amount any single figure may hold: 10^15 đồng (one million tỷ).
// Sums of up to 9,000 such figures still fit in int64.
const Ceiling VND = 1_000_000_000_000_000

// ErrNotPositive and ErrTooLarge are the reasons an amount is refused.
var (
	ErrNotPositive = errors.New("amount must be more than 0 đồng")
	ErrTooLarge    = fmt.Errorf("amount must be at most %d đồng", int64(Ceiling))
)

// Positive checks that v is a usable amount: more than zero and at most Ceiling.
func Positive(v VND) error {
	switch {
	case v <= 0:
		return ErrNotPositive
	case v > Ceiling:
		return ErrTooLarge
	}
	return nil
}

// NonNegative checks that v is zero or a usable amount.
func NonNegative(v VND) error {
	if v == 0 {
		return nil
	}
	return Positive(v)
}
