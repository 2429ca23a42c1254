package workflows

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// CrossLock takes a lock that every process on the database shares, and returns how to
// free it. Config.UnitsLock is one: unit commands (register, merge, split) decide on the
// whole unit directory — a merge checks that its successor is alive and that no loop closes,
// a split that its successors live — so two of them, in two processes on one database, must
// not decide at once, or both pass their checks (A into B beside B into A) and the store
// holds a loop that neither alone would have been allowed. A stream's expected version
// guards one unit only.
type CrossLock func(ctx context.Context) (unlock func(), err error)

// AdvisoryLock is a CrossLock on pool's database: a PostgreSQL session-level advisory lock
// named name (the key (hashtext('dxledger'), hashtext(name))), held for as long as the caller
// holds it on a connection of its own, opened for it and outside the pool: the command under
// the lock needs the pool's connections for its own reads and append, and a small pool (the
// configuration accepts db_max_conns 1) whose connection held the lock would leave it none —
// the command would wait until its deadline. Closing the session frees the lock, however the
// command ended; a process that dies frees it with its session. Unit commands and same-as
// markings are rare, so the connection's set-up (a few ms) is paid seldom.
func AdvisoryLock(pool *pgxpool.Pool, name string) CrossLock {
	return func(ctx context.Context) (func(), error) {
		conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
		if err != nil {
			return nil, err
		}
		closeConn := func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn.Close(cctx)
		}
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('dxledger'), hashtext($1))`, name); err != nil {
			closeConn() // cancelled while waiting, the lock may yet have been granted: the session ends
			return nil, err
		}
		return closeConn, nil
	}
}

// serialUnits runs a unit command's decide and append alone: alone in this process, and
// alone across every process on the database when Config.UnitsLock is set. fn reads the
// directory afresh (currentUnits), so it decides on every unit command appended before it.
func (h *Handler) serialUnits(ctx context.Context, fn func() (Result, error)) (Result, error) {
	return alone(ctx, &h.unitCmdMu, h.cfg.UnitsLock, fn)
}

// alone runs fn holding mu (this process) and, when cross is set, cross's lock (every process
// on the database).
func alone(ctx context.Context, mu *sync.Mutex, cross CrossLock, fn func() (Result, error)) (Result, error) {
	mu.Lock()
	defer mu.Unlock()
	if cross != nil {
		unlock, err := cross(ctx)
		if err != nil {
			return Result{}, err
		}
		defer unlock()
	}
	return fn()
}
