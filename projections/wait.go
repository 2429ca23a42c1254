package projections

import (
	"context"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"strings"
	"time"

	"github.com/dxledger/dxledger/eventstore"
)

// followed names the read models a report or a list reads; a read that waits for a position
// waits for all of them.
var followed = []string{"units", "items", "indicators"}

// DefaultWait bounds how long a read waits for the projections to reach a position.
const DefaultWait = 2 * time.Second

// StaleError is a read that asked for a position the projections had not reached in time.
type StaleError struct {
	Position string
	Waited   time.Duration
	Behind   []string // the projections still behind it
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("the reports have not yet taken in position %s after %s (%s behind); try again shortly",
		e.Position, e.Waited.Round(time.Millisecond), strings.Join(e.Behind, ", "))
}

// maxWaitPause is the longest pause between two looks at the checkpoints while a read waits
// for a position. A batch of the projections commits every 5-15 ms at 1,000 events/s; a look
// is a read of three rows by primary key (~0.05 ms), so a waiting read costs the server
// little and finds its position at most this long after the batch that passes it (20 ms
// before, as much as the batch itself).
const maxWaitPause = 4 * time.Millisecond

// WaitFor returns once every read model has applied the write at position (a value a write
// answered with, API.md's Dxledger-Position), or a *StaleError after limit. A position that
// is not one is ErrBadQuery.
func (r *Reports) WaitFor(ctx context.Context, position string, limit time.Duration) error {
	want, err := eventstore.ParsePosition(position)
	if err != nil {
		return fmt.Errorf("%w: min_position: %v", ErrBadQuery, err)
	}
	if limit <= 0 {
		limit = DefaultWait
	}
	// A position past the store's newest is none this server answered with: waiting for it
	// would only end in a 503.
	var head eventstore.Position
	err = r.pool.QueryRow(ctx, `SELECT tx_id, seq FROM events ORDER BY tx_id DESC, seq DESC LIMIT 1`).Scan(&head.TxID, &head.Seq)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("store head: %w", err)
	}
	if head.Less(want) {
		return fmt.Errorf("%w: min_position %s is past the store's newest position", ErrBadQuery, position)
	}
	start := time.Now()
	pause := time.Millisecond
	for {
		behind, err := r.behind(ctx, want)
		if err != nil {
			return err
		}
		if len(behind) == 0 {
			return nil
		}
		waited := time.Since(start)
		if waited >= limit {
			return &StaleError{Position: position, Waited: waited, Behind: behind}
		}
		t := time.NewTimer(min(pause, limit-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, maxWaitPause)
	}
}

// behind lists the read models whose checkpoint is before want.
func (r *Reports) behind(ctx context.Context, want eventstore.Position) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT name, tx_id, seq FROM projection_checkpoints WHERE name = ANY($1)`, followed)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	at := map[string]eventstore.Position{}
	for rows.Next() {
		var (
			name string
			p    eventstore.Position
		)
		if err := rows.Scan(&name, &p.TxID, &p.Seq); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		at[name] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	var behind []string
	for _, name := range followed {
		if p, ok := at[name]; !ok || p.Less(want) {
			behind = append(behind, name)
		}
	}
	return behind, nil
}

// IsStale reports whether err is a read that timed out waiting for a position.
func IsStale(err error) bool {
	var s *StaleError
	return errors.As(err, &s)
}
