package eventstore

import (
	"context"
	"fmt"
)

// Problem is one place where the stored events do not match their hash chain.
type Problem struct {
	Seq      int64  // the row's global sequence number (0 for a stream-level problem)
	EventID  string // the event's id, "" for a stream-level problem
	StreamID string
	Version  int64
	Reason   string
}

func (p Problem) String() string {
	if p.EventID == "" {
		return fmt.Sprintf("stream %s: %s", p.StreamID, p.Reason)
	}
	return fmt.Sprintf("stream %s version %d (event %s, row %d): %s", p.StreamID, p.Version, p.EventID, p.Seq, p.Reason)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Streams  int64
	Events   int64
	Problems []Problem
}

// Verify walks every stream and recomputes its hash chain with the same function Append used
// (dx_event_hash). A row whose content was changed by hand no longer matches its hash; a
// deleted row leaves a gap in the versions; a changed or removed last event no longer matches
// the stream's head. progress, when not nil, is called every 10,000 events.
func (s *Store) Verify(ctx context.Context, progress func(events int64)) (VerifyReport, error) {
	var rep VerifyReport
	rows, err := s.pool.Query(ctx, verifySQL)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	var (
		p          Problem
		hashOK     bool
		gap        bool
		lastStream string
	)
	for rows.Next() {
		if err := rows.Scan(&p.Seq, &p.EventID, &p.StreamID, &p.Version, &hashOK, &gap); err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
		rep.Events++
		if p.StreamID != lastStream {
			rep.Streams++
			lastStream = p.StreamID
		}
		switch {
		case gap: // the hash cannot match either: its predecessor is not the one it was chained to
			rep.Problems = append(rep.Problems, Problem{p.Seq, p.EventID, p.StreamID, p.Version,
				"the version before this one is missing: a row was deleted"})
		case !hashOK:
			rep.Problems = append(rep.Problems, Problem{p.Seq, p.EventID, p.StreamID, p.Version,
				"content does not match its hash: the row was changed outside the store"})
		}
		if progress != nil && rep.Events%10000 == 0 {
			progress(rep.Events)
		}
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	heads, err := s.pool.Query(ctx, headsSQL)
	if err != nil {
		return rep, fmt.Errorf("verify heads: %w", err)
	}
	defer heads.Close()
	for heads.Next() {
		var stream, reason string
		if err := heads.Scan(&stream, &reason); err != nil {
			return rep, fmt.Errorf("verify heads: %w", err)
		}
		rep.Problems = append(rep.Problems, Problem{StreamID: stream, Reason: reason})
	}
	return rep, heads.Err()
}

const verifySQL = `SELECT seq, event_id, stream_id, version,
	hash = dx_event_hash(lag(hash) OVER w, event_id, stream_id, version, event_type, data,
		occurred_on, recorded_at, actor, role, unit, request_id, correlation_id, causation_id),
	version <> coalesce(lag(version) OVER w, 0) + 1
FROM events
WINDOW w AS (PARTITION BY stream_id ORDER BY version)
ORDER BY stream_id, version`

// A stream's head (version and last hash) must match its newest event.
const headsSQL = `SELECT s.stream_id,
	CASE WHEN e.stream_id IS NULL THEN 'the stream has no events left'
	     WHEN e.version <> s.version THEN format('the stream is at version %s but its newest event is %s: events were deleted or added by hand', s.version, e.version)
	     ELSE 'the newest event does not match the stream head hash: it was changed or replaced by hand' END
FROM streams s
LEFT JOIN LATERAL (SELECT e.stream_id, e.version, e.hash FROM events e WHERE e.stream_id = s.stream_id ORDER BY version DESC LIMIT 1) e ON true
WHERE e.stream_id IS NULL OR e.version <> s.version OR e.hash IS DISTINCT FROM s.last_hash
ORDER BY s.stream_id`
