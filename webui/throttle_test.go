package webui

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Parallel tries are counted as they start: 50 at once let exactly five through.
func TestThrottleCountsParallelTries(t *testing.T) {
	th := newThrottle(time.Now)
	var wg sync.WaitGroup
	var allowed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if th.attempt("Cán bộ C") {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != maxFailures {
		t.Errorf("%d of 50 parallel tries allowed, want %d", n, maxFailures)
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

func TestThrottleBlocksAGuesserAndForgetsAfterTheWindow(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now })
	for i := range maxFailures {
		if !th.attempt("Cán bộ A") {
			t.Fatalf("blocked after %d failures", i)
		}
		now = now.Add(time.Minute)
	}
	if th.attempt("cán bộ a ") {
		t.Error("not blocked after 5 failures (name compared without case and spaces)")
	}
	if !th.attempt("Cán bộ B") {
		t.Error("another name is blocked too")
	}
	now = now.Add(window)
	if !th.attempt("Cán bộ A") {
		t.Error("still blocked after the window")
	}
	th.succeeded("Cán bộ A")
	th.succeeded("Cán bộ B")
	if n := len(th.failures); n != 0 {
		t.Errorf("%d names remembered after a success", n)
	}
}
