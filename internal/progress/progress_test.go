package progress_test

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/dxledger/dxledger/internal/progress"
)

// A rebuild draws a bar (rate and time left) on a terminal and writes plain log lines elsewhere.
func TestProgress(t *testing.T) {
	t.Parallel()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	var log bytes.Buffer
	p := progress.New(tty, 1000, "rebuild items", slog.New(slog.NewTextHandler(&log, nil)), "rebuilding", "projection", "items")
	for n := int64(100); n <= 1000; n += 100 {
		p.Update(n)
		time.Sleep(15 * time.Millisecond)
	}
	p.Done()
	tty.Close()
	screen, _ := io.ReadAll(ptmx)
	if !strings.Contains(string(screen), "rebuild items") || !strings.Contains(string(screen), "events") {
		t.Errorf("terminal shows %q; want a bar naming the projection and the rate in events", screen)
	}
	if log.Len() != 0 {
		t.Errorf("on a terminal the bar replaces the log lines, got %q", log.String())
	}

	var plain, plainLog bytes.Buffer
	q := progress.New(&plain, 1000, "rebuild items", slog.New(slog.NewTextHandler(&plainLog, nil)), "rebuilding", "projection", "items")
	q.Update(100)
	q.Done()
	if plain.Len() != 0 {
		t.Errorf("not a terminal: drew %q", plain.String())
	}
	if !strings.Contains(plainLog.String(), "rebuilding") || !strings.Contains(plainLog.String(), "events_per_s") {
		t.Errorf("not a terminal: logged %q, want a line with the rate", plainLog.String())
	}
}
