package eventstore

import (
	"bytes"
	"context"
	"fmt"

	"github.com/oklog/ulid/v2"
)

// Problem is one place where the stored events do not match their hash chain.
type Problem struct {
	Seq      int64 // the row's global sequence number
	EventID  ulid.ULID
	StreamID string
	Version  int64
	Reason   string
}

func (p Problem) String() string {
	return fmt.Sprintf("stream %s version %d (event %s, row %d): %s", p.StreamID, p.Version, p.EventID, p.Seq, p.Reason)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Streams  int64
	Events   int64
	Problems []Problem
}

// Verify walks every stream in version order and recomputes its hash chain with the function
// Append used (chainHash). A row whose content was changed by hand no longer matches its hash;
// a row whose hash was also recomputed by hand breaks the link to the next row; a deleted row
// leaves a gap in the versions. progress, when not nil, is called every 100,000 events.
//
// A hash chain without an outside anchor cannot notice that a stream's newest events were
// deleted; the append-only trigger on the table refuses that short of a superuser disabling it.
func (s *Store) Verify(ctx context.Context, progress func(events int64)) (VerifyReport, error) {
	var rep VerifyReport
	rows, err := s.pool.Query(ctx, `SELECT seq, event_id, stream_id, version, event_type, data,
		occurred_on, recorded_at, actor, role, unit, request_id, correlation_id, causation_id, hash
		FROM events ORDER BY stream_id, version`)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	var (
		r           Record
		id          [16]byte
		stored      []byte
		prev        []byte
		prevVersion int64
		lastStream  string
	)
	m := &r.Metadata
	for rows.Next() {
		if err := rows.Scan(&r.Position.Seq, &id, &r.StreamID, &r.Version, &r.Type, &r.Data, &m.OccurredOn,
			&m.RecordedAt, &m.Actor, &m.Role, &m.Unit, &m.RequestID, &m.CorrelationID, &m.CausationID, &stored); err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
		r.ID = ulid.ULID(id)
		rep.Events++
		if rep.Events == 1 || r.StreamID != lastStream {
			rep.Streams++
			prev, prevVersion, lastStream = nil, 0, r.StreamID
		}
		problem := func(reason string) {
			rep.Problems = append(rep.Problems, Problem{r.Position.Seq, r.ID, r.StreamID, r.Version, reason})
		}
		switch {
		case r.Version != prevVersion+1:
			// Its hash cannot match either: it was chained to an event that is gone.
			problem(fmt.Sprintf("versions %d to %d are missing: rows were deleted", prevVersion+1, r.Version-1))
		case !bytes.Equal(stored, chainHash(prev, r.ID, r.StreamID, r.Version, r.Type, r.Data, r.Metadata)):
			problem("content does not match its hash: the row was changed outside the store")
		}
		prev, prevVersion = stored, r.Version
		if progress != nil && rep.Events%100000 == 0 {
			progress(rep.Events)
		}
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	return rep, nil
}
