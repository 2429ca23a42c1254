package wmbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Consumer groups. The members of a group that subscribe to one topic take turns: the active
// member holds a session-level advisory lock on (group, topic) on a connection of its own and
// delivers from the group's saved position, saving each acknowledged position before it sends
// the next message; the others try to take the lock every RetryInterval. The lock ends with
// its session, so a member that dies — process, connection or server — frees the group at
// once. A row lock (SELECT … FOR UPDATE) would do the same with one flaw that rules it out:
// it gives the holder a transaction id for as long as it holds it, and an open transaction
// with an id holds back pg_snapshot_xmin, which would stop every reader of the store's
// global order (eventstore.ReadAll) until the message in flight was acknowledged.
//
// The lock key is (hashtext(group), hashtext(topic)) in PostgreSQL's two-int4 advisory key
// space. Two pairs that hash alike would only make their groups take turns with each other.

// errStandby says that another member of the group is active.
var errStandby = errors.New("another member of the group is active")

const (
	tryLockSQL = `SELECT pg_try_advisory_lock(hashtext($1), hashtext($2))`
	unlockSQL  = `SELECT pg_advisory_unlock(hashtext($1), hashtext($2))`

	// One round trip: the CTE's insert is not visible to the second SELECT (same snapshot),
	// so exactly one of the two branches returns a row.
	loadOffsetSQL = `WITH created AS (
	INSERT INTO wmbridge_offsets (consumer_group, topic) VALUES ($1, $2)
	ON CONFLICT DO NOTHING
	RETURNING tx_id, seq
)
SELECT tx_id, seq FROM created
UNION ALL
SELECT tx_id, seq FROM wmbridge_offsets WHERE consumer_group = $1 AND topic = $2`

	// Compare-and-set: if the row is not where this member left it, another member has
	// moved it and this one is no longer the only active member.
	saveOffsetSQL = `UPDATE wmbridge_offsets SET tx_id = $3::xid8, seq = $4, updated_at = now()
WHERE consumer_group = $1 AND topic = $2 AND tx_id = $5::xid8 AND seq = $6`
)

// saveTimeout bounds the database calls that must finish even while the subscription stops:
// saving an acknowledged position and releasing the lock.
const saveTimeout = 5 * time.Second

// runGroup keeps trying to become the group's active member on the topic and serves while it
// is, until ctx ends.
func (sub *subscription) runGroup(ctx context.Context) {
	for {
		err := sub.serveGroup(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, errStandby) {
			sub.log.Warn("consumer group subscription failed; retrying", "err", err)
		}
		if sleep(ctx, sub.cfg.RetryInterval) != nil {
			return
		}
	}
}

// serveGroup takes the group's lock, if it is free, and delivers from the saved position
// until ctx ends or a database call fails.
func (sub *subscription) serveGroup(ctx context.Context) error {
	group := sub.cfg.ConsumerGroup
	conn, err := sub.cfg.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("consumer group %s on %s: %w", group, sub.topic, err)
	}
	var locked bool
	if err := conn.QueryRow(ctx, tryLockSQL, group, sub.topic).Scan(&locked); err != nil || !locked {
		conn.Release()
		if err != nil {
			return fmt.Errorf("consumer group %s on %s: lock: %w", group, sub.topic, err)
		}
		return errStandby
	}
	defer sub.unlock(conn)

	var pos eventstore.Position
	if err := conn.QueryRow(ctx, loadOffsetSQL, group, sub.topic).Scan(&pos.TxID, &pos.Seq); err != nil {
		return fmt.Errorf("consumer group %s on %s: load position: %w", group, sub.topic, err)
	}
	sub.log.Debug("consumer group member active", "position", pos.String())
	return sub.store.Subscribe(ctx, pos, eventstore.SubscribeConfig{BatchSize: sub.cfg.BatchSize},
		func(ctx context.Context, batch []eventstore.Record) error {
			for _, r := range batch {
				if !sub.matches(r.StreamID) {
					continue
				}
				if err := sub.deliver(ctx, r); err != nil {
					return err
				}
				if err := sub.saveOffset(ctx, conn, pos, r.Position); err != nil {
					return err
				}
				pos = r.Position
			}
			return nil
		})
}

// saveOffset moves the group's position from old to p. It runs even when ctx has just
// ended, so that an Ack that came in before Close is not lost.
func (sub *subscription) saveOffset(ctx context.Context, conn *pgxpool.Conn, old, p eventstore.Position) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	tag, err := conn.Exec(ctx, saveOffsetSQL, sub.cfg.ConsumerGroup, sub.topic, p.TxID, p.Seq, old.TxID, old.Seq)
	if err != nil {
		return fmt.Errorf("consumer group %s on %s: save position %s: %w", sub.cfg.ConsumerGroup, sub.topic, p, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("consumer group %s on %s: position moved away from %s by another member", sub.cfg.ConsumerGroup, sub.topic, old)
	}
	return nil
}

// unlock releases the group's lock and the connection. If the lock cannot be released
// cleanly it closes the connection, which ends the session and with it the lock.
func (sub *subscription) unlock(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
	defer cancel()
	var released bool
	if err := conn.QueryRow(ctx, unlockSQL, sub.cfg.ConsumerGroup, sub.topic).Scan(&released); err != nil || !released {
		_ = conn.Conn().Close(ctx)
	}
	conn.Release()
}
