package webui

import "testing"

// The indicators' labels have both languages, and none hides (or is hidden by) the main
// catalogue's entry of the same key.
func TestIndicatorLabels(t *testing.T) {
	for k, m := range indicatorMessages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("label %q lacks a language: %q", k, m)
		}
		if _, dup := messages[k]; dup {
			t.Errorf("label %q is in both catalogues: the main one wins", k)
		}
	}
	for _, s := range []string{"met", "exceeded", "missed", "on_track", "at_risk", "off_track", "no_data"} {
		if label(langVI, "status", s) == s || label(langEN, "status", s) == s {
			t.Errorf("status %s has no written label", s)
		}
	}
}
