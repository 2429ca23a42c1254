package indicator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// Number is an indicator figure, exact: a decimal written as it was given ("56.67", "100",
// "3700000000000"), compared as a rational, never through a float.
type Number string

var decimal = regexp.MustCompile(`^-?[0-9]{1,16}(\.[0-9]{1,6})?$`)

// ParseNumber reads a decimal with at most 16 digits before the point and 6 after it.
func ParseNumber(s string) (Number, error) {
	s = strings.TrimSpace(s)
	if !decimal.MatchString(s) {
		return "", fmt.Errorf("%q is not a decimal number (at most 16 digits, 6 decimals)", s)
	}
	r, _ := new(big.Rat).SetString(s)
	return canonical(r, s), nil
}

// canonical keeps s's decimals but drops a "-0" and leading zeros.
func canonical(r *big.Rat, s string) Number {
	if r.Sign() == 0 {
		return "0"
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return Number(out)
}

// NumberOf is r written with up to four decimals (a value computed from a numerator and a
// denominator).
func NumberOf(r *big.Rat) Number {
	s := strings.TrimRight(strings.TrimRight(r.FloatString(4), "0"), ".")
	if s == "" || s == "-0" {
		s = "0"
	}
	return Number(s)
}

// Rat is n as an exact rational; the zero Number is 0.
func (n Number) Rat() *big.Rat {
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return new(big.Rat)
	}
	return r
}

// IsZero reports whether n is unset.
func (n Number) IsZero() bool { return n == "" }

// Cmp compares n and m exactly.
func (n Number) Cmp(m Number) int { return n.Rat().Cmp(m.Rat()) }

// Float is n as a float64, for drawing a bar (never for a comparison).
func (n Number) Float() float64 {
	f, _ := n.Rat().Float64()
	return f
}

// MarshalJSON writes n as a JSON number (null when unset).
func (n Number) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("null"), nil
	}
	return []byte(n), nil
}

// UnmarshalJSON reads a JSON number or a string holding one.
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = ""
		return nil
	}
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	v, err := ParseNumber(s)
	if err != nil {
		return err
	}
	*n = v
	return nil
}
