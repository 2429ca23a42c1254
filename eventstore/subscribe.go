package eventstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// notifyChannel is the PostgreSQL channel that announces new events to other processes.
const notifyChannel = "dxledger_events"

// broadcast wakes every waiter at once: wait returns a channel that fire closes.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func (b *broadcast) init() { b.ch = make(chan struct{}) }

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcast) fire() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// signalAppended wakes local subscribers and asks the notifier to tell other processes.
// NOTIFY is sent after the commit, from its own goroutine and coalesced, rather than inside
// the append: a NOTIFY in the transaction takes a database-wide lock at commit, which
// serialises every writer's commit and defeats group commit.
func (s *Store) signalAppended() {
	s.startBackground() // a store that only writes still tells the others
	s.wake.fire()
	select {
	case s.appended <- struct{}{}:
	default:
	}
}

func (s *Store) startBackground() {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.closed || s.bgCancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.bgCancel = cancel
	s.bgDone.Add(2)
	go func() { defer s.bgDone.Done(); s.notifier(ctx) }()
	go func() { defer s.bgDone.Done(); s.listener(ctx) }()
}

// notifier sends at most one NOTIFY per couple of milliseconds, whatever the append rate.
func (s *Store) notifier(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.appended:
		}
		if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("notify failed; readers fall back to polling", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// listener holds one connection in LISTEN and wakes local subscribers on every notification,
// so appends by other processes are seen at once. When the connection fails, polling covers
// until it is back.
func (s *Store) listener(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.cfg.Logger.Warn("listen connection lost; polling until it is back", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// A connection left in LISTEN must not go back to the pool.
		conn.Conn().Close(context.Background())
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return err
		}
		s.wake.fire()
	}
}

// Handler receives a batch of records in global order. An error stops the subscription.
type Handler func(ctx context.Context, batch []Record) error

// SubscribeConfig tunes a subscription.
type SubscribeConfig struct {
	// BatchSize is the most records handed to the handler at once. Default 500.
	BatchSize int
	// OwnConnection has the subscription read on a connection it holds while it runs, rather
	// than one taken from the pool for each read: woken by an append, it then does not queue
	// behind the appends for the pool (at 1,000 appends/s a slow moment has every pooled
	// connection busy with one). For a few long-lived subscribers, such as the projections'
	// follower: each one holds a connection of the pool for as long as it runs.
	OwnConnection bool
	// Observe, when not nil, is told of every read the subscription makes (those that find
	// nothing too), on the subscription's goroutine, before the batch goes to the handler: the
	// lag benchmark splits each event's wait with it (read by a later read than the first after
	// its commit = hidden meanwhile by an older transaction still open, the fence).
	Observe func(Read)
}

// Read is one read of a subscription: when it was sent, when its rows were all in, and how
// many events it returned (full: as many as the batch size allows, so more may be waiting).
type Read struct {
	Start, End time.Time
	Events     int
	Full       bool
}

// Subscribe calls fn with every event after position after, in commit-safe global order,
// batch by batch, until ctx ends (it then returns nil) or fn fails (it returns fn's error).
// It wakes on appends of this process and on NOTIFY from others, and polls as a fallback.
// With cfg.OwnConnection it reads on a connection it holds while it runs.
func (s *Store) Subscribe(ctx context.Context, after Position, cfg SubscribeConfig, fn Handler) error {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	s.startBackground()
	var conn *pgxpool.Conn
	defer func() {
		if conn != nil {
			giveBack(conn)
		}
	}()
	read := func() ([]Record, error) {
		if !cfg.OwnConnection {
			return s.ReadAll(ctx, after, cfg.BatchSize)
		}
		if conn == nil {
			c, err := s.pool.Acquire(ctx)
			if err == nil {
				// The read is the same statement every time, with a new position: its
				// generic plan (the global order's index, from the position on) is the plan
				// every custom one comes to, and planning it anew took 0.2 ms of each read's
				// 0.25 ms. Set back before the connection goes back to the pool (giveBack).
				if _, err = c.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
					c.Release()
				}
			}
			if err != nil {
				return nil, fmt.Errorf("read all after %s: %w", after, err)
			}
			conn = c
		}
		rows, err := conn.Query(ctx, readAllSQL, after.TxID, after.Seq, cfg.BatchSize)
		var recs []Record
		if err == nil {
			recs, err = scanRecords(rows, cfg.BatchSize)
		}
		if err != nil {
			giveBack(conn) // the pool closes it if it is broken; the next read takes another
			conn = nil
			return nil, fmt.Errorf("read all after %s: %w", after, err)
		}
		return recs, nil
	}
	// After a wake that found nothing (an older transaction still open hides newer rows),
	// look again soon, backing off to the poll interval.
	retry := s.cfg.PollInterval
	for {
		woken := s.wake.wait()
		var began time.Time
		if cfg.Observe != nil {
			began = time.Now()
		}
		batch, err := read()
		if cfg.Observe != nil {
			cfg.Observe(Read{Start: began, End: time.Now(), Events: len(batch), Full: len(batch) == cfg.BatchSize})
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.cfg.Logger.Warn("subscription read failed; retrying", "position", after.String(), "err", err)
			batch = nil
		}
		if len(batch) > 0 {
			if err := fn(ctx, batch); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("subscription at %s: %w", after, err)
			}
			s.metrics.readEvents.Add(float64(len(batch)))
			after = batch[len(batch)-1].Position
			retry = time.Millisecond
			if len(batch) == cfg.BatchSize {
				continue
			}
		}
		timer := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-woken:
			timer.Stop()
			retry = time.Millisecond
		case <-timer.C:
			retry = min(2*retry, s.cfg.PollInterval)
		}
	}
}

// giveBack returns a subscription's own connection to the pool with its planning setting
// back to the default; one that cannot take it back is closed rather than pooled.
func giveBack(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, `RESET plan_cache_mode`); err != nil {
		conn.Conn().Close(ctx)
	}
	conn.Release()
}
