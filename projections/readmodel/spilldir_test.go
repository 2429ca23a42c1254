package readmodel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A rebuild is refused before it starts when the spill directory clearly lacks the room its
// sorts take, with a message naming the directory and the setting that moves it; a store that
// fits is let through.
func TestCheckSpillSpace(t *testing.T) {
	root := filepath.Join(t.TempDir(), "spill")
	SetSpillRoot(root)
	t.Cleanup(func() { SetSpillRoot("") })
	if err := CheckSpillSpace(1000); err != nil {
		t.Fatalf("1,000 events: %v", err)
	}
	err := CheckSpillSpace(1 << 50)
	if err == nil {
		t.Fatal("2^50 events: no refusal")
	}
	for _, want := range []string{root, "rebuild_temp_dir", "free"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
}

// newSpillDir makes a directory of this process's under the root, and removes those of
// processes that are gone, not those of processes alive.
func TestSpillDirsOfGoneProcessesRemoved(t *testing.T) {
	root := t.TempDir()
	SetSpillRoot(root)
	t.Cleanup(func() { SetSpillRoot("") })
	gone := filepath.Join(root, "dxledger-rebuild-999999999-x")
	live := filepath.Join(root, "dxledger-rebuild-1-x") // init is alive
	other := filepath.Join(root, "something-else")
	for _, d := range []string{gone, live, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := newSpillDir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != root || !strings.HasPrefix(filepath.Base(dir), "dxledger-rebuild-") {
		t.Errorf("spill directory %s, want one under %s", dir, root)
	}
	for d, want := range map[string]bool{gone: false, live: true, other: true, dir: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", d, err == nil, want)
		}
	}
}
