package projector

import (
	"context"
	"errors"
	"fmt"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5"
)

// RetryResult is what Retry did for one projection.
type RetryResult struct {
	Projection string
	Applied    int      // set-aside events applied now
	Still      int      // set-aside events that still fail, with the rest of their streams
	Streams    []string // the streams still set aside
}

// Retry applies the events set aside for ps again, stream by stream in their order, once the
// cause is fixed (a new binary, a repaired row). A stream whose events all apply leaves the
// set-aside list; one that fails again stays, with the new error. It holds each projection's
// checkpoint row while it works, so that a follower in any process waits for it and then
// sees the streams that are no longer set aside.
func (r *Runner) Retry(ctx context.Context, ps []Projection) ([]RetryResult, error) {
	var out []RetryResult
	for _, p := range ps {
		res, err := r.retry(ctx, p)
		if err != nil {
			return out, fmt.Errorf("retry %s: %w", p.Name(), err)
		}
		out = append(out, res)
	}
	return out, nil
}

func (r *Runner) retry(ctx context.Context, p Projection) (RetryResult, error) {
	res := RetryResult{Projection: p.Name()}
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		// Only what the projection has passed is retried: a row past its checkpoint (a rebuild
		// moved the checkpoint back under events set aside meanwhile) is met again by the
		// follower, which sets it aside again while its stream is held; applying it here too
		// would apply it twice.
		var cp eventstore.Position
		err := tx.QueryRow(ctx, `SELECT tx_id, seq FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, p.Name()).Scan(&cp.TxID, &cp.Seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // never followed: nothing set aside to retry
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT tx_id, seq FROM projection_set_aside
			WHERE projection = $1 AND (tx_id, seq) <= ($2::xid8, $3) ORDER BY tx_id, seq`, p.Name(), cp.TxID, cp.Seq)
		if err != nil {
			return err
		}
		at, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (eventstore.Position, error) {
			var pos eventstore.Position
			err := row.Scan(&pos.TxID, &pos.Seq)
			return pos, err
		})
		if err != nil || len(at) == 0 {
			return err
		}
		recs, err := r.store.ReadAt(ctx, at)
		if err != nil {
			return err
		}
		var order []string
		byStream := map[string][]eventstore.Record{}
		for _, rec := range recs {
			if byStream[rec.StreamID] == nil {
				order = append(order, rec.StreamID)
			}
			byStream[rec.StreamID] = append(byStream[rec.StreamID], rec)
		}
		for _, stream := range order {
			events := byStream[stream]
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			if aerr := p.Apply(ctx, sp, events); aerr != nil {
				if err := sp.Rollback(ctx); err != nil {
					return err
				}
				if transient(aerr) {
					return aerr
				}
				res.Still += len(events)
				res.Streams = append(res.Streams, stream)
				if _, err := tx.Exec(ctx, `UPDATE projection_set_aside SET error = $4
					WHERE projection = $1 AND tx_id = $2::xid8 AND seq = $3`,
					p.Name(), events[0].Position.TxID, events[0].Position.Seq, truncate(aerr.Error(), 2000)); err != nil {
					return err
				}
				r.log.Warn("set-aside events still fail", "projection", p.Name(), "stream_id", stream,
					"position", events[0].Position.String(), "err", aerr)
				continue
			}
			if err := sp.Commit(ctx); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM projection_set_aside WHERE projection = $1 AND stream_id = $2
				AND (tx_id, seq) <= ($3::xid8, $4)`, p.Name(), stream, cp.TxID, cp.Seq); err != nil {
				return err
			}
			res.Applied += len(events)
		}
		// The reports' cache keys on the checkpoints: what they read has changed.
		_, err = tx.Exec(ctx, `UPDATE projection_checkpoints SET updated_at = now() WHERE name = $1`, p.Name())
		return err
	})
	return res, err
}
