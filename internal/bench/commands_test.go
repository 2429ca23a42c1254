package bench_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/bench"
	"github.com/dxledger/dxledger/internal/pgtest"
)

// bench commands runs, small, and shows what the state cache changes in counts, not times:
// with it a command reads its item's newest events only, without it the whole stream.
func TestCommandsBenchmarkRuns(t *testing.T) {
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	o := bench.CommandsOptions{Clients: 2, Commands: 20, Short: 10, Long: 200, Items: 2}
	cached, err := bench.Commands(ctx, store, o)
	if err != nil {
		t.Fatal(err)
	}
	var text, js strings.Builder
	if err := cached.Print(&text, false); err != nil || !regexp.MustCompile(`(?s)^commands \(in process.*items of   10 events: 20 commands, p50 .*items of  200 events: 20 commands, .*p99 ratio 200 / 10 events: [0-9.]+ .*per command 0.00 stream reads.*decided unread`).MatchString(text.String()) {
		t.Errorf("prints %q (%v)", text.String(), err)
	}
	if err := cached.Print(&js, true); err != nil || json.Unmarshal([]byte(js.String()), &bench.CommandsResult{}) != nil {
		t.Errorf("--json: %q (%v)", js.String(), err)
	}
	// Each client's commands follow its own: every measured command is decided on the state
	// remembered with the write before it, and reads nothing.
	if cached.ReadsPerCommand != 0 || cached.Cache.Unread < 40 {
		t.Errorf("with the cache: %.2f stream reads per command, %d decided unread; want none and every measured command unread",
			cached.ReadsPerCommand, cached.Cache.Unread)
	}
	o.NoCache = true
	cold, err := bench.Commands(ctx, store, o)
	if err != nil {
		t.Fatal(err)
	}
	if cold.EventsReadPerCommand < 100 {
		t.Errorf("without the cache: %.1f events read per command, want the whole streams (≥ 100)", cold.EventsReadPerCommand)
	}
}
