package webui

import (
	"testing"
	"time"
)

func TestThrottleBlocksAGuesserAndForgetsAfterTheWindow(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now })
	for i := range maxFailures {
		if th.blocked("Cán bộ A") {
			t.Fatalf("blocked after %d failures", i)
		}
		th.failed("Cán bộ A")
		now = now.Add(time.Minute)
	}
	if !th.blocked("cán bộ a ") {
		t.Error("not blocked after 5 failures (name compared without case and spaces)")
	}
	if th.blocked("Cán bộ B") {
		t.Error("another name is blocked too")
	}
	now = now.Add(window)
	if th.blocked("Cán bộ A") {
		t.Error("still blocked after the window")
	}
	th.failed("Cán bộ A")
	th.succeeded("Cán bộ A")
	if n := len(th.failures); n != 0 {
		t.Errorf("%d names remembered after a success", n)
	}
}
