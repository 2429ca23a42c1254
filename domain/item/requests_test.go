package item

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/dxledger/dxledger/domain/money"
)

// withRequests is an item with n pending funding requests r0 … r(n-1).
func withRequests(n int) State {
	s := Evolve(State{}, proposed())
	for i := range n {
		s = Evolve(s, requested(fmt.Sprintf("r%d", i), "oda", 1_000, "2022-03-02"))
	}
	return s
}

// A funding request is added in place, not by copying the item's whole list (issue 16: a
// command costs the same on an item with 5,000 requests as on one with 5), and states that
// share a list never see each other's additions or changes.
func TestRequestsAddedInPlaceAndNeverShared(t *testing.T) {
	t.Parallel()
	base := withRequests(5000)
	next := Evolve(base, requested("a", "oda", 7, "2022-03-03"))
	if &next.Requests[0] != &base.Requests[0] {
		t.Fatal("adding a request to 5,000 copied the list")
	}
	// A sibling of next, from the same base: it must copy, not overwrite next's request.
	sibling := Evolve(base, requested("b", "oda", 9, "2022-03-03"))
	if &sibling.Requests[0] == &base.Requests[0] {
		t.Fatal("two states from one base wrote the same slot")
	}
	if r, _ := next.Request("a"); r.Amount != 7 || next.Requests[5000].ID != "a" {
		t.Fatalf("next lost its request: %+v", next.Requests[5000])
	}
	if sibling.Requests[5000].ID != "b" {
		t.Fatalf("sibling holds %+v", sibling.Requests[5000])
	}
	for _, c := range []struct {
		s    State
		id   string
		want bool
	}{{base, "a", false}, {base, "b", false}, {next, "b", false}, {sibling, "a", false},
		{next, "a", true}, {sibling, "b", true}, {base, "r4999", true}, {next, "r0", true}, {sibling, "r2500", true}} {
		if _, ok := c.s.Request(c.id); ok != c.want {
			t.Errorf("Request(%q) on a state of %d requests: found %v, want %v", c.id, len(c.s.Requests), ok, c.want)
		}
	}
	if len(base.Requests) != 5000 {
		t.Fatalf("base has %d requests", len(base.Requests))
	}
	// A change to one request is the changing state's alone.
	endorsed := Evolve(next, &FundingEndorsed{RequestID: "r10"})
	if r, _ := next.Request("r10"); r.Endorsed {
		t.Fatal("endorsing on one state endorsed on another")
	}
	if r, _ := endorsed.Request("r10"); !r.Endorsed {
		t.Fatal("not endorsed")
	}
	// And the lists are the same as a fold without any sharing gives.
	want := withRequests(5000)
	want.Requests = append(want.Requests, Request{ID: "a", Source: "oda", Amount: 7, Year: 2022, RequestedOn: day("2022-03-03"), Status: RequestPending})
	if !reflect.DeepEqual(next.Plain().Requests, want.Plain().Requests) {
		t.Fatal("next's requests differ from a plain fold's")
	}
}

// A stream that names a request id twice (Decide refuses it; a stored stream is folded as it
// is) finds the first and changes both, as the plain scan always did.
func TestRequestsNamedTwiceFoldAsBefore(t *testing.T) {
	t.Parallel()
	s := withRequests(3)
	s = Evolve(s, requested("r1", "oda", 99, "2022-03-04"))
	if r, _ := s.Request("r1"); r.Amount != 1_000 {
		t.Fatalf("Request found %+v, want the first r1", r)
	}
	s = Evolve(s, &FundingEndorsed{RequestID: "r1"})
	if !s.Requests[1].Endorsed || !s.Requests[3].Endorsed {
		t.Fatal("an endorsement of r1 did not reach both")
	}
}

// Many goroutines adding to and changing states from one shared state (the handlers' state
// cache hands one state to concurrent commands): run with -race.
func TestRequestsFromOneStateConcurrently(t *testing.T) {
	t.Parallel()
	base := withRequests(100)
	var wg sync.WaitGroup
	out := make([]State, 16)
	for g := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := base
			for i := range 50 {
				s = Evolve(s, requested(fmt.Sprintf("g%d-%d", g, i), "oda", money.VND(g+1), "2022-03-03"))
				if i%10 == 0 {
					s = Evolve(s, &FundingEndorsed{RequestID: fmt.Sprintf("r%d", i)})
				}
			}
			out[g] = s
		}()
	}
	wg.Wait()
	for g, s := range out {
		if len(s.Requests) != 150 {
			t.Fatalf("goroutine %d: %d requests", g, len(s.Requests))
		}
		for i := range 50 {
			r, ok := s.Request(fmt.Sprintf("g%d-%d", g, i))
			if !ok || r.Amount != money.VND(g+1) || s.Requests[100+i].ID != r.ID {
				t.Fatalf("goroutine %d: request %d is %+v (found %v)", g, i, s.Requests[100+i], ok)
			}
			if _, ok := s.Request(fmt.Sprintf("g%d-%d", (g+1)%16, i)); ok {
				t.Fatalf("goroutine %d sees another's request", g)
			}
		}
	}
	if len(base.Requests) != 100 || base.Requests[0].Endorsed {
		t.Fatal("the shared state changed")
	}
}
