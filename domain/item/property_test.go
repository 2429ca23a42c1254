package item

import (
	"encoding/binary"
	"testing"

	"github.com/dxledger/dxledger/domain/money"
)

// FuzzMoneyRules drives an item through a random sequence of commands and checks, after each
// step, the money invariants (DESIGN.md invariant 6): nothing negative, approved ≤ requested per
// request, disbursed ≤ approved per source, totals equal the sum of their parts.
func FuzzMoneyRules(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{1, 255, 255, 255, 255, 255, 255, 255, 127, 2, 0, 0, 0, 0, 0, 0, 0, 128})
	f.Fuzz(func(t *testing.T, script []byte) {
		s := Fold([]Event{proposed()})
		officers := []string{"u-fin1", "u-fin2"}
		for i := 0; len(script) >= 10; i++ {
			op, who := script[0]%6, script[1]
			amount := money.VND(binary.LittleEndian.Uint64(script[2:10]))
			script = script[10:]
			src := Sources[int(who)%len(Sources)]
			m := Meta{On: day("2022-06-01"), Today: today, Actor: officers[int(who)%2]}
			var c Command
			switch op {
			case 0:
				c = &RequestFunding{Meta: m, RequestID: string(rune('a' + i%26)), Source: src, Amount: amount, Year: 2022}
			case 1, 2:
				if len(s.Requests) == 0 {
					continue
				}
				r := s.Requests[int(who)%len(s.Requests)]
				c = &DecideFunding{Meta: m, RequestID: r.ID, Approve: op == 1, Amount: amount,
					EndorsementAbove: 15_000_000_000, TwoOfficersAbove: 30_000_000_000, To: StageFunded}
			case 3:
				if len(s.Requests) == 0 {
					continue
				}
				c = &EndorseFunding{Meta: m, RequestID: s.Requests[int(who)%len(s.Requests)].ID}
			default:
				c = &Disburse{Meta: m, Source: src, Amount: amount}
			}
			events, err := Decide(s, c)
			if err != nil {
				continue
			}
			for _, e := range events {
				s = Evolve(s, e)
			}
			check(t, s)
		}
	})
}

func check(t *testing.T, s State) {
	t.Helper()
	var requested, approved money.VND
	for _, r := range s.Requests {
		if r.Amount <= 0 || r.Approved < 0 || r.Approved > r.Amount {
			t.Fatalf("request %+v breaks 0 ≤ approved ≤ requested", r)
		}
		requested += r.Amount
		approved += r.Approved
	}
	if requested != s.Requested || approved != s.Approved {
		t.Fatalf("totals requested %d approved %d, parts %d %d", s.Requested, s.Approved, requested, approved)
	}
	var disbursed money.VND
	for src, d := range s.DisbursedBySource {
		if d < 0 || d > s.ApprovedBySource[src] {
			t.Fatalf("%s: disbursed %d, approved %d", src, d, s.ApprovedBySource[src])
		}
		disbursed += d
	}
	if disbursed != s.Disbursed || s.Disbursed > s.Approved {
		t.Fatalf("disbursed %d (parts %d), approved %d", s.Disbursed, disbursed, s.Approved)
	}
}
