package webui

import (
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Parallel tries from one address are counted as they start: 50 at once let exactly
// maxAddrFailures through.
func TestThrottleCountsParallelTries(t *testing.T) {
	th := newThrottle(time.Now)
	var wg sync.WaitGroup
	var allowed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if ok, _ := th.admit("203.0.113.5"); ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != maxAddrFailures {
		t.Errorf("%d of 50 parallel tries allowed, want %d", n, maxAddrFailures)
	}
}

func TestSafeNextStaysOnThisSite(t *testing.T) {
	for in, want := range map[string]string{
		"/dashboard?as_of=2022-12-31": "/dashboard?as_of=2022-12-31", "/items/project/01ABC": "/items/project/01ABC",
		"//evil.example": "/", "/\\evil.example": "/", "/\t/evil.example": "/", "/\n/evil.example": "/",
		"https://evil.example": "/", "evil.example": "/", "/login?next=/x": "/", "": "/", "/%09/evil.example": "/%09/evil.example",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// Issue 14 point 5: an address that guessed wrong too often is refused, others are not; an
// account's tries are slowed, never refused one at a time, wherever they come from; another
// account's success resets nothing; the window forgets.
func TestThrottleSlowsWithoutLockingOut(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now })
	victim := []string{"victim"}
	tries := 0
	guess := func() {
		ok, _ := th.admit("203.0.113.5")
		if !ok {
			return
		}
		tries++
		if _, ok := th.pace(victim); !ok {
			t.Fatal("a lone try refused by the account's pace")
		}
		th.failed(victim)
		now = now.Add(time.Second)
	}
	for range maxAddrFailures - 1 {
		guess()
	}
	// The attacker's success on their own account, from the same address, resets nothing.
	if ok, _ := th.admit("203.0.113.5"); !ok {
		t.Fatal("refused before the limit")
	}
	th.succeeded("203.0.113.5", "attacker")
	for range 20 - maxAddrFailures {
		guess()
	}
	if tries != maxAddrFailures {
		t.Errorf("%d wrong tries from one address got through, want %d", tries, maxAddrFailures)
	}
	// The owner, from another address, waits their turn (a few seconds at most) and is let in.
	if ok, _ := th.admit("198.51.100.7"); !ok {
		t.Fatal("the owner's address is refused")
	}
	wait, ok := th.pace(victim)
	if !ok || wait > maxAccountDelay {
		t.Errorf("the owner waits %v (ok=%v), want at most %v", wait, ok, maxAccountDelay)
	}
	if len(th.accounts["victim"].failures) != maxAddrFailures {
		t.Errorf("victim's failures: %d", len(th.accounts["victim"].failures))
	}
	th.succeeded("198.51.100.7", "victim")
	if th.accounts["victim"] != nil {
		t.Error("the owner's success did not forget their failures")
	}
	now = now.Add(window)
	if ok, _ := th.admit("203.0.113.5"); !ok {
		t.Error("the address is still refused after the window")
	}
}

func TestClientAddressTrustsOnlyConfiguredProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct{ remote, xff, want string }{
		{"198.51.100.7:5000", "", "198.51.100.7"},
		{"198.51.100.7:5000", "1.2.3.4", "198.51.100.7"}, // a client's own header is ignored
		{"10.0.0.2:5000", "1.2.3.4", "1.2.3.4"},
		{"10.0.0.2:5000", "9.9.9.9, 1.2.3.4, 10.0.0.3", "1.2.3.4"}, // the nearest untrusted hop
		{"10.0.0.2:5000", "", "10.0.0.2"},
		{"[::ffff:198.51.100.7]:5000", "", "198.51.100.7"},
	} {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientAddr(r, trusted); got != c.want {
			t.Errorf("clientAddr(%s, XFF %q) = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}
