package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Group commit (issue 16). One append is one row; a transaction per row costs a commit (a WAL
// flush, the locks of a commit) and a round trip each, which is all a bare INSERT costs too.
// So appends that arrive while others are being committed wait, and go together in one
// transaction: one pipelined batch (pgx.Batch, one Sync: an implicit transaction) holding one
// guarded INSERT per append. Each append keeps its own statement — its own expected-version
// guard, its own hash chain, its own command record — and its own answer:
//
//   - When fewer than groupsInFlight groups are being committed, an append goes at once: an
//     idle store never waits for a timer, and a group of one is today's single statement.
//   - Two appends of one stream never share a group, nor are two groups holding the same
//     stream in flight at once: the second waits for the first's answer.
//   - In a group, a version taken meanwhile inserts nothing (ON CONFLICT DO NOTHING): that
//     caller gets its *ConflictError as alone, the others commit. Any error of the group's
//     transaction (invalid data in one append, a deadlock with another process) rolls the
//     whole group back; its appends are then sent again one by one, so only the guilty one
//     fails.
//   - A group shares its transaction id: its events become visible together, at its commit,
//     and the readers' fence (tx_id below the oldest running transaction) treats it as any
//     transaction. Each statement takes its own seq numbers, so positions stay unique and in
//     order, and each caller is answered the position of its own last event.
//   - A caller whose context ends while it waits in the queue is answered ctx.Err() and
//     nothing was sent. Once its group is sent it waits for the group's answer, which is the
//     truth: if the group committed, so did its append. When every caller of a group has
//     given up, the server is asked to cancel it, and the answer is still read: rolled back
//     (each caller gets its ctx.Err()) or committed (each gets its result).
//
// Appends inside a caller's transaction (InTx) are never grouped: they run in that
// transaction.
const (
	groupsInFlight  = 2                // groups being committed at once
	groupMaxAppends = 64               // appends in one group
	groupMaxEvents  = 2000             // events in one group (an append of up to MaxEventsPerAppend always fits alone)
	groupAbandon    = 10 * time.Second // how long a group all of whose callers gave up is waited for
)

type grouper struct {
	mu          sync.Mutex
	maxInFlight int
	maxAppends  int
	maxEvents   int
	inFlight    int
	busy        map[string]struct{} // streams of the groups in flight
	queue       []*pending

	transactions, appends, retries atomic.Int64 // for GroupStats
}

// GroupStats counts the store's group commits since it was opened.
type GroupStats struct {
	Transactions int64 // transactions sent by the grouper (a group of one included)
	Appends      int64 // appends they held
	Retries      int64 // groups rolled back and sent again one by one
}

// GroupStats returns how the store's appends were grouped so far (InTx appends are not
// counted: they are never grouped).
func (s *Store) GroupStats() GroupStats {
	return GroupStats{s.group.transactions.Load(), s.group.appends.Load(), s.group.retries.Load()}
}

func newGrouper() grouper {
	return grouper{maxInFlight: groupsInFlight, maxAppends: groupMaxAppends, maxEvents: groupMaxEvents,
		busy: make(map[string]struct{})}
}

type pendingState uint8

const (
	queued   pendingState = iota
	leading               // its goroutine sends the group (group holds it first)
	taken                 // in a group that another caller's goroutine sends
	answered              // out (or alone) is set
)

// pending is one caller's append on its way through the grouper. state is guarded by
// grouper.mu; out and alone are written before the caller is woken.
type pending struct {
	p     *prepared
	ctx   context.Context
	wake  chan struct{} // one token: "lead your group" or "answered"
	state pendingState
	group []*pending // for the leader
	out   outcome
	alone bool // the group rolled back: send the statement alone
}

// submit sends p alone or in a group and returns the database's answer.
func (g *grouper) submit(ctx context.Context, s *Store, p *prepared) outcome {
	pd := &pending{p: p, ctx: ctx, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, pd)
	g.dispatch()
	g.mu.Unlock()
	select {
	case <-pd.wake:
	case <-ctx.Done():
		g.mu.Lock()
		if pd.state == queued {
			g.queue = slices.DeleteFunc(g.queue, func(q *pending) bool { return q == pd })
			g.mu.Unlock()
			return outcome{err: ctx.Err()}
		}
		g.mu.Unlock()
		<-pd.wake // its group is formed: its answer is the group's
	}
	if pd.state == leading {
		s.runGroup(pd.group)
	}
	if pd.alone {
		return p.runAlone(ctx, s.pool)
	}
	return pd.out
}

// dispatch forms groups from the queue, oldest first, while fewer than maxInFlight are in
// flight, and wakes each group's leader. g.mu is held.
func (g *grouper) dispatch() {
	for g.inFlight < g.maxInFlight && len(g.queue) > 0 {
		var group []*pending
		events := 0
		rest := g.queue[:0]
		for _, pd := range g.queue {
			_, busy := g.busy[pd.p.stream]
			if busy || len(group) == g.maxAppends || (len(group) > 0 && events+pd.p.n > g.maxEvents) {
				rest = append(rest, pd)
				continue
			}
			g.busy[pd.p.stream] = struct{}{}
			group = append(group, pd)
			events += pd.p.n
		}
		clear(g.queue[len(rest):])
		g.queue = rest
		if len(group) == 0 {
			return
		}
		g.inFlight++
		for _, pd := range group[1:] {
			pd.state = taken
		}
		group[0].state, group[0].group = leading, group
		group[0].wake <- struct{}{}
	}
}

// finish frees the group's slot and streams, starts the next groups and wakes the group's
// callers (the leader is the caller of finish).
func (g *grouper) finish(group []*pending) {
	g.mu.Lock()
	g.inFlight--
	for _, pd := range group {
		delete(g.busy, pd.p.stream)
		pd.state = answered
	}
	g.dispatch()
	g.mu.Unlock()
	for _, pd := range group[1:] {
		pd.wake <- struct{}{}
	}
}

// runGroup sends a group — alone on the leader's context if it is one append — sets each
// member's outcome and finishes it.
func (s *Store) runGroup(group []*pending) {
	if len(group) == 1 {
		group[0].out = group[0].p.runAlone(group[0].ctx, s.pool)
	} else {
		s.commitGroup(group)
	}
	s.metrics.groupSize.Observe(float64(len(group)))
	s.group.transactions.Add(1)
	s.group.appends.Add(int64(len(group)))
	s.group.finish(group)
}

// commitGroup sends the group's statements in one pipelined batch: one transaction, one
// commit. Its statements go in stream order, so that two groups (of this process or another)
// lock the rows of the streams they share in the same order and cannot deadlock each other.
func (s *Store) commitGroup(group []*pending) {
	conn, err := s.pool.Acquire(context.Background())
	if err != nil {
		for _, pd := range group {
			pd.alone = true // nothing was sent
		}
		return
	}
	// The batch is read to its end whatever the callers do, so that each is answered what
	// the database did. When every caller has given up, the server is asked to cancel the
	// statements (a rolled-back group answers each its own ctx.Err() below); only if it does
	// not answer within groupAbandon is the connection dropped and the outcome unknown. A
	// connection a cancel request was sent for is closed, not returned to the pool: the
	// request could still reach its next query.
	ctx, cancel := context.WithCancel(context.Background())
	var (
		left      atomic.Int64
		cancelMu  sync.Mutex
		finished  bool
		cancelled bool
		stops     = make([]func() bool, 0, len(group))
	)
	left.Store(int64(len(group)))
	for _, pd := range group {
		stops = append(stops, context.AfterFunc(pd.ctx, func() {
			if left.Add(-1) != 0 {
				return
			}
			cancelMu.Lock()
			defer cancelMu.Unlock()
			if finished {
				return
			}
			cancelled = true
			cctx, ccancel := context.WithTimeout(context.Background(), groupAbandon)
			defer ccancel()
			conn.Conn().PgConn().CancelRequest(cctx)
			time.AfterFunc(groupAbandon, cancel)
		}))
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
		cancelMu.Lock()
		finished = true
		if cancelled {
			conn.Conn().Close(context.Background())
		}
		cancelMu.Unlock()
		cancel()
		conn.Release()
	}()
	sorted := slices.Clone(group)
	slices.SortFunc(sorted, func(a, b *pending) int { return strings.Compare(a.p.stream, b.p.stream) })
	batch := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(sorted))}
	for _, pd := range sorted {
		batch.Queue(pd.p.groupQuery, pd.p.args...)
	}
	br := conn.SendBatch(ctx, batch)
	for _, pd := range sorted {
		var count int64
		if err = br.QueryRow().Scan(&pd.out.pos.TxID, &pd.out.pos.Seq, &count); err != nil {
			break
		}
		// The statement inserts the whole append or nothing (groupWhole).
		pd.out.inserted = count > 0
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return
	}
	// The server refused something (or nothing was sent): the transaction rolled back, and
	// each append goes again by itself, where its own error, if any, is its own.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || pgconn.SafeToRetry(err) {
		s.metrics.groupRetries.Inc()
		s.group.retries.Add(1)
		for _, pd := range group {
			pd.out, pd.alone = outcome{}, true
		}
		return
	}
	for _, pd := range group {
		pd.out = outcome{err: fmt.Errorf("committed together with %d other appends, outcome unknown: %w", len(group)-1, err)}
	}
}
