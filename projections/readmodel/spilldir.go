package readmodel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Where a rebuild's sorts spill their runs (spillSort): a directory of its own per rebuild,
// dxledger-rebuild-<pid>-<random>, under the spill root — the data directory's rebuild-tmp,
// or rebuild_temp_dir, as the rebuild command sets it (SetSpillRoot); the system's temporary
// directory when nothing sets it (tests). A rebuild removes its directory whenever it
// returns (done, failed, or stopped by SIGTERM through its context); what a killed process
// (kill -9, a crash) left is removed by the next rebuild under the same root, once that
// process is gone.
var spill struct {
	sync.Mutex
	root string
}

// spillPrefix begins the name of every rebuild's spill directory.
const spillPrefix = "dxledger-rebuild-"

// spillBytesPerEvent is what a rebuild of the items spills per event of the store, with room
// to spare: 1.4 GB at 10 M events measured (about 140 bytes an event).
const spillBytesPerEvent = 160

// SetSpillRoot sets where rebuilds spill (created if missing); "" is the system's temporary
// directory.
func SetSpillRoot(dir string) {
	spill.Lock()
	defer spill.Unlock()
	spill.root = dir
}

// SpillRoot is where rebuilds spill now.
func SpillRoot() string {
	spill.Lock()
	defer spill.Unlock()
	if spill.root == "" {
		return os.TempDir()
	}
	return spill.root
}

// newSpillDir makes the spill directory of one rebuild, having removed those of rebuilds
// whose process is gone.
func newSpillDir() (string, error) {
	root := SpillRoot()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("rebuild spill directory: %w", err)
	}
	RemoveStaleSpills(root)
	return os.MkdirTemp(root, fmt.Sprintf("%s%d-", spillPrefix, os.Getpid()))
}

// RemoveStaleSpills removes the spill directories under root left by processes no longer
// running, and says which it removed.
func RemoveStaleSpills(root string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var gone []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), spillPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || alive(pid) {
			continue
		}
		if os.RemoveAll(filepath.Join(root, e.Name())) == nil {
			gone = append(gone, filepath.Join(root, e.Name()))
		}
	}
	return gone
}

// alive reports whether process pid runs (signal 0; a process of another user is alive too).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// CheckSpillSpace refuses a rebuild of the items from events events when the spill root has
// clearly too little free space for its sorts: less than about spillBytesPerEvent an event.
func CheckSpillSpace(events int64) error {
	root := SpillRoot()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("rebuild spill directory: %w", err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		return fmt.Errorf("rebuild spill directory %s: %w", root, err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	need := events * spillBytesPerEvent
	if free < need {
		return fmt.Errorf("rebuilding the items from %d events sorts about %s in %s, which has %s free: free some space there or set rebuild_temp_dir (DXLEDGER_REBUILD_TEMP_DIR, --rebuild-temp-dir) to a directory with room",
			events, humanBytes(need), root, humanBytes(free))
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
