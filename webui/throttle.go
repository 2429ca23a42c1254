package webui

import (
	"strings"
	"sync"
	"time"
)

// throttle slows down guessing passwords: after maxFailures wrong passwords for one name
// within window, that name is refused without checking for the rest of the window. It is
// in memory, per process: enough to turn a guessing script from thousands of tries an hour
// into a handful.
type throttle struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	now      func() time.Time
}

const (
	maxFailures = 5
	window      = 15 * time.Minute
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{failures: map[string][]time.Time{}, now: now}
}

func (t *throttle) key(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// recent drops the failures older than the window and returns those left.
func (t *throttle) recent(k string) []time.Time {
	cut := t.now().Add(-window)
	fs := t.failures[k]
	i := 0
	for i < len(fs) && fs[i].Before(cut) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, k)
	} else {
		t.failures[k] = fs
	}
	return fs
}

// attempt reports whether name may try a password now and, if so, counts the try as a failure
// until succeeded says otherwise — in one step, so that parallel tries cannot all slip in
// before the first one is counted.
func (t *throttle) attempt(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.key(name)
	fs := t.recent(k)
	if len(fs) >= maxFailures {
		return false
	}
	t.failures[k] = append(fs, t.now())
	if len(t.failures) > 10_000 { // a flood of made-up names must not grow the map forever
		for n := range t.failures {
			t.recent(n)
		}
	}
	return true
}

// succeeded forgets name's failures.
func (t *throttle) succeeded(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, t.key(name))
}
