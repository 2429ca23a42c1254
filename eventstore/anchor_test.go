package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// anchoredStore is a store with a few streams and commands, an anchor taken, and events
// appended after the anchor (which the anchor allows).
func anchoredStore(t *testing.T) (*Store, func(...string), Anchor) {
	t.Helper()
	s, db := newStore(t)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		st := fmt.Sprintf("item-%d", i)
		if _, err := s.Append(ctx, st, NoStream, []Event{ev("item.proposed.v1", i)}, WithCommandID("cmd-"+st, []byte("fp"))); err != nil {
			t.Fatal(err)
		}
		for v := int64(1); v <= 2; v++ {
			if _, err := s.Append(ctx, st, v, []Event{ev("item.progress.v1", int(v))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, err := s.Anchor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.Events != 9 || a.Commands != 3 || a.LastStream != "item-3" || a.LastVersion != 3 {
		t.Fatalf("anchor = %+v, want 9 events, 3 commands, last item-3 version 3", a)
	}
	if _, err := s.Append(ctx, "item-1", 3, []Event{ev("item.progress.v1", 3)}, WithCommandID("cmd-later", []byte("fp"))); err != nil {
		t.Fatal(err)
	}
	exec := func(qs ...string) {
		t.Helper()
		qs = append([]string{`ALTER TABLE events DISABLE TRIGGER USER`}, qs...)
		for _, q := range append(qs, `ALTER TABLE events ENABLE TRIGGER USER`) {
			if _, err := db.Pool.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	return s, exec, a
}

// rehash recomputes the stored hashes of stream from version from on, as someone covering a
// hand edit would: the chain then verifies.
func rehash(t *testing.T, s *Store, stream string, from int64) {
	t.Helper()
	ctx := context.Background()
	recs, err := s.ReadStream(ctx, stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ALTER TABLE events DISABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	defer s.pool.Exec(ctx, `ALTER TABLE events ENABLE TRIGGER USER`)
	var prev []byte
	for _, r := range recs {
		h := chainHash(prev, r.ID, r.StreamID, r.Version, r.Type, r.Data, r.Metadata)
		if r.Version >= from {
			if _, err := s.pool.Exec(ctx, `UPDATE events SET hash = $1 WHERE stream_id = $2 AND version = $3`, h, stream, r.Version); err != nil {
				t.Fatal(err)
			}
		}
		prev = h
	}
}

// DESIGN.md invariant 9 as extended by issue 13: against an anchor taken earlier, every kind
// of hand edit a superuser can make to the log before the anchor is found — by Verify (the
// chain) or by CheckAnchor (the order and the hashes), and the command rows too.
func TestAnchorFindsEveryHandEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		edit func(t *testing.T, s *Store, exec func(...string))
		// which check finds it
		verify, anchor bool
	}{
		{"untouched, with events after the anchor", func(*testing.T, *Store, func(...string)) {}, false, false},
		{"a row's data changed", func(t *testing.T, s *Store, exec func(...string)) {
			exec(`UPDATE events SET data = '{"n":99}' WHERE stream_id = 'item-2' AND version = 2`)
		}, true, false},
		{"a stream's suffix rewritten with its hashes recomputed", func(t *testing.T, s *Store, exec func(...string)) {
			exec(`UPDATE events SET data = '{"n":99}' WHERE stream_id = 'item-2' AND version = 2`)
			rehash(t, s, "item-2", 2)
		}, false, true},
		{"the anchor's newest event deleted", func(t *testing.T, s *Store, exec func(...string)) {
			exec(`DELETE FROM events WHERE stream_id = 'item-3' AND version = 3`)
		}, false, true},
		{"a whole stream deleted with its command", func(t *testing.T, s *Store, exec func(...string)) {
			exec(`DELETE FROM events WHERE stream_id = 'item-2'`, `DELETE FROM commands WHERE stream_id = 'item-2'`)
		}, false, true},
		{"a middle event deleted", func(t *testing.T, s *Store, exec func(...string)) {
			exec(`DELETE FROM events WHERE stream_id = 'item-1' AND version = 2`)
		}, true, true},
		{"two events' places in the global order swapped", func(t *testing.T, s *Store, exec func(...string)) {
			exec(`UPDATE events SET tx_id = CASE stream_id WHEN 'item-1' THEN (SELECT tx_id FROM events WHERE stream_id = 'item-2' AND version = 1)
				ELSE (SELECT tx_id FROM events WHERE stream_id = 'item-1' AND version = 1) END
				WHERE version = 1 AND stream_id IN ('item-1', 'item-2')`)
		}, false, true},
		{"a forged event put first in the global order", func(t *testing.T, s *Store, exec func(...string)) {
			if _, err := s.Append(ctx, "forged", NoStream, []Event{ev("item.proposed.v1", 7)}); err != nil {
				t.Fatal(err)
			}
			exec(`UPDATE events SET tx_id = '3'::xid8 WHERE stream_id = 'forged'`)
		}, false, true},
		{"a command row changed", func(t *testing.T, s *Store, exec func(...string)) {
			exec(`UPDATE commands SET fingerprint = 'other' WHERE command_id = 'cmd-item-2'`)
		}, false, true},
		{"a command row deleted", func(t *testing.T, s *Store, exec func(...string)) {
			exec(`DELETE FROM commands WHERE command_id = 'cmd-item-1'`)
		}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, exec, a := anchoredStore(t)
			// The anchor goes through its printed form, as an operator keeps it.
			var buf bytes.Buffer
			if _, err := a.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			kept, err := ReadAnchor(&buf)
			if err != nil || kept != a {
				t.Fatalf("anchor read back = %+v, %v; want %+v", kept, err, a)
			}
			c.edit(t, s, exec)
			rep, err := s.Verify(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rep.Problems) > 0; got != c.verify {
				t.Errorf("verify found problems: %v (%v), want %v", got, rep.Problems, c.verify)
			}
			err = s.CheckAnchor(ctx, kept)
			if got := errors.Is(err, ErrAnchorBroken); got != c.anchor {
				t.Errorf("anchor check broken: %v (%v), want %v", got, err, c.anchor)
			}
			if err != nil && !errors.Is(err, ErrAnchorBroken) {
				t.Fatal(err)
			}
		})
	}
}

func TestReadAnchorRefusesGarbage(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"", "hello\n", anchorHeader + "\nevents: 3\n"} {
		if _, err := ReadAnchor(strings.NewReader(text)); err == nil {
			t.Errorf("ReadAnchor(%q) succeeded", text)
		}
	}
}
