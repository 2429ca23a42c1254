package eventstore

import (
	"context"
	"fmt"
)

// ReadPrefixCommitted returns the events of every stream whose id starts with prefix written
// by the transactions from horizon from on that have committed now, in (tx_id, seq) order —
// past the horizon now, unlike ReadPrefixSince: an older transaction still running may yet
// commit events of other streams before them, so a caller reads from the same from again
// later (and skips, by each stream's version, what it has). It is what a writer holding a
// lock its peers append under reads: every event they appended before letting the lock go,
// however long an unrelated transaction keeps the horizon back.
func (s *Store) ReadPrefixCommitted(ctx context.Context, prefix string, from uint64) ([]Record, error) {
	recs, err := s.queryRecords(ctx, 0, `SELECT `+recordColumns+` FROM events
		WHERE tx_id >= $1::xid8 AND left(stream_id, length($2)) = $2
		ORDER BY tx_id, seq`, from, prefix)
	if err != nil {
		return nil, fmt.Errorf("read %s* committed since %d: %w", prefix, from, err)
	}
	return recs, nil
}
