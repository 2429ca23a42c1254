package eventstore

import (
	"context"
	"fmt"
	"time"
)

// StreamPos is a place in the store read in stream order: after the event of stream Stream
// at Version (the zero value: before every stream).
type StreamPos struct {
	Stream  string
	Version int64
}

// ReadInStreamOrder returns up to limit events at or before upTo in the global order, after
// from in stream order: each stream's events in version order, the streams in the order of
// stream_id (the events_stream_version index, read from its start in keyset chunks). A rebuild
// reads the store this way to hold one stream at a time instead of every stream it has seen
// (issue 16 point 3). The set of events at or before upTo is the one a read in the global order
// up to upTo sees only once every transaction that could still add to it has ended: call
// WaitSettled(upTo) first.
func (s *Store) ReadInStreamOrder(ctx context.Context, from StreamPos, upTo Position, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 1000
	}
	recs, err := s.queryRecords(ctx, limit, readInStreamOrderSQL, from.Stream, from.Version, upTo.TxID, upTo.Seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read in stream order after %s v%d: %w", from.Stream, from.Version, err)
	}
	return recs, nil
}

const readInStreamOrderSQL = `SELECT ` + recordColumns + ` FROM events
WHERE (stream_id, version) > ($1, $2)
  AND (tx_id, seq) <= ($3::xid8, $4)
ORDER BY stream_id, version
LIMIT $5`

// WaitSettled waits until no transaction that could still commit an event at or before p is
// running: p's transaction is below every running one (ReadAll's rule), so the events at or
// before p are all committed and visible, and stay the same set.
func (s *Store) WaitSettled(ctx context.Context, p Position) error {
	for {
		var settled bool
		if err := s.pool.QueryRow(ctx, `SELECT $1::xid8 < pg_snapshot_xmin(pg_current_snapshot())`, p.TxID).Scan(&settled); err != nil {
			return fmt.Errorf("wait for %s to settle: %w", p, err)
		}
		if settled {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
