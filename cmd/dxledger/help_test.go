package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every command answers --help (and -h) with its help and exits 0 (run returns nil, main
// exits 0), without starting anything. The commands are read from the usage text, so a new one
// is checked too; a group's subcommands are listed here.
func TestEveryCommandHasHelp(t *testing.T) {
	subcommands := map[string][]string{
		"bench":       {"append", "read", "generate", "lag", "reports", "http"},
		"report":      {"funding-gaps", "model-counts", "completion"},
		"model":       {"propose"},
		"project":     {"propose"},
		"funding":     {"request", "decide"},
		"projections": {"retry"},
	}
	var commands [][]string
	for _, m := range regexp.MustCompile(`(?m)^  dxledger ([a-z]+)`).FindAllStringSubmatch(usage, -1) {
		commands = append(commands, []string{m[1]})
		for _, sub := range subcommands[m[1]] {
			commands = append(commands, []string{m[1], sub})
		}
	}
	// "report | model | project | funding" share a line of the usage.
	for _, extra := range []string{"model", "project", "funding"} {
		if !slices.ContainsFunc(commands, func(c []string) bool { return c[0] == extra }) {
			commands = append(commands, []string{extra})
			for _, sub := range subcommands[extra] {
				commands = append(commands, []string{extra, sub})
			}
		}
	}
	if len(commands) < 25 {
		t.Fatalf("found only %d commands in the usage: %v", len(commands), commands)
	}
	for _, c := range commands {
		for _, flag := range []string{"--help", "-h"} {
			args := append(slices.Clone(c), flag)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			var out, errOut bytes.Buffer
			err := run(ctx, args, nil, &out, &errOut)
			cancel()
			if err != nil {
				t.Errorf("dxledger %s: %v, want exit 0\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
				continue
			}
			if out.Len()+errOut.Len() == 0 {
				t.Errorf("dxledger %s printed no help", strings.Join(args, " "))
			}
		}
	}
}
