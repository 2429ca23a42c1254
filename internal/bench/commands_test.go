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
	if err := cached.Print(&text, false); err != nil || !regexp.MustCompile(`(?s)^commands \(in process.*items of   10 events: 20 commands, p50 .*items of  200 events: 20 commands, .*p99 ratio 200 / 10 events: [0-9.]+ .*per command 1.00 stream reads`).MatchString(text.String()) {
		t.Errorf("prints %q (%v)", text.String(), err)
	}
	if err := cached.Print(&js, true); err != nil || json.Unmarshal([]byte(js.String()), &bench.CommandsResult{}) != nil {
		t.Errorf("--json: %q (%v)", js.String(), err)
	}
	if cached.EventsReadPerCommand > 2 || cached.Cache.Hits < 40 {
		t.Errorf("with the cache: %.1f events read per command, %d hits; want at most 2 and every measured command a hit",
			cached.EventsReadPerCommand, cached.Cache.Hits)
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
