package webui

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// throttle slows down guessing passwords without locking the real owner out (issue 14 point 5).
// Failures are counted twice:
//
//   - per client address: after maxAddrFailures wrong passwords within window, that address is
//     refused (429) until its oldest failure leaves the window. Spraying one password across
//     many names from one place is stopped here; nobody else is.
//   - per account (user id, not name: names are not unique): after freeAccountFailures, each
//     further try on that account waits its turn, one per accountDelay (doubling with each
//     failure up to maxAccountDelay), from wherever it comes. A guesser spread over many
//     addresses gets one try every few seconds; the owner signs in a few seconds late, never
//     refused.
//
// A success forgets only the failures of the account that succeeded (and the try it made
// itself): another account's success, from the same address or the same name, resets nothing.
// It is in memory, per process.
type throttle struct {
	mu       sync.Mutex
	now      func() time.Time
	addrs    map[string][]time.Time
	accounts map[string]*accountTries
}

type accountTries struct {
	failures []time.Time
	next     time.Time // when the next try's turn comes
}

const (
	maxAddrFailures     = 10
	freeAccountFailures = 3
	window              = 15 * time.Minute
	accountDelay        = 100 * time.Millisecond
	maxAccountDelay     = 3 * time.Second
	// maxQueue refuses a try whose turn is further away than this (many at once on one account).
	maxQueue = 10 * time.Second
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, addrs: map[string][]time.Time{}, accounts: map[string]*accountTries{}}
}

func recent(fs []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(fs) && fs[i].Before(cut) {
		i++
	}
	return fs[i:]
}

// admit reports whether addr may try a password now and, if so, counts the try as a failure of
// the address until succeeded says otherwise — in one step, so that parallel tries cannot all
// slip in before the first is counted. When refused, retry is when the address may try again.
func (t *throttle) admit(addr string) (ok bool, retry time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	fs := recent(t.addrs[addr], now.Add(-window))
	if len(fs) >= maxAddrFailures {
		t.addrs[addr] = fs
		return false, fs[0].Add(window).Sub(now)
	}
	t.addrs[addr] = append(fs, now)
	t.sweep(now)
	return true, 0
}

// pace returns how long a try on these accounts must wait for its turn, taking the turn; false
// when the queue is too long.
func (t *throttle) pace(accounts []string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, id := range accounts {
		a := t.accounts[id]
		if a == nil {
			continue
		}
		a.failures = recent(a.failures, now.Add(-window))
		if n := len(a.failures); n > freeAccountFailures {
			if w := a.next.Sub(now); w > wait {
				wait = w
			}
		}
	}
	if wait > maxQueue {
		return 0, false
	}
	for _, id := range accounts {
		a := t.accounts[id]
		if a == nil || len(a.failures) <= freeAccountFailures {
			continue
		}
		d := accountDelay << min(len(a.failures)-freeAccountFailures-1, 10)
		a.next = now.Add(wait + min(d, maxAccountDelay))
	}
	return wait, true
}

// failed counts a wrong password against each account the name could be.
func (t *throttle) failed(accounts []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, id := range accounts {
		a := t.accounts[id]
		if a == nil {
			a = &accountTries{}
			t.accounts[id] = a
		}
		a.failures = append(recent(a.failures, now.Add(-window)), now)
	}
}

// succeeded withdraws the try addr made for account and forgets account's failures; nobody
// else's.
func (t *throttle) succeeded(addr, account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fs := t.addrs[addr]; len(fs) > 0 {
		t.addrs[addr] = fs[:len(fs)-1]
	}
	delete(t.accounts, account)
}

// sweep forgets what the window has passed once the maps grow large: a flood of made-up
// addresses must not grow them forever.
func (t *throttle) sweep(now time.Time) {
	if len(t.addrs)+len(t.accounts) < 10_000 {
		return
	}
	cut := now.Add(-window)
	for k, fs := range t.addrs {
		if len(recent(fs, cut)) == 0 {
			delete(t.addrs, k)
		}
	}
	for k, a := range t.accounts {
		if len(recent(a.failures, cut)) == 0 && a.next.Before(now) {
			delete(t.accounts, k)
		}
	}
}

// clientAddr is the address a request came from: the connection's, or, when the connection is
// from a proxy the configuration trusts, the nearest address in X-Forwarded-For that is not a
// trusted proxy. A client's own X-Forwarded-For is ignored.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a hop we cannot read: stop at the last one we could
		}
		addr = a.Unmap()
		if !isTrusted(addr) {
			break
		}
	}
	return addr.String()
}
