package projector

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeTx is a batch's transaction on the lead's connection whose BEGIN goes out in the same
// round trip as its first statements (lockCheckpoints) and whose COMMIT goes with its last
// (the checkpoints' move): two round trips a batch fewer than pgx.BeginFunc, which sends each
// on its own. On a machine whose cores are busy with a thousand appends a second every round
// trip waits for the server's process to be scheduled, and a batch's transaction also holds
// the store's visibility fence for every append that began after it. Statements in between
// run on the connection as in any transaction; Begin makes a savepoint (applyCarefully).
type pipeTx struct {
	conn *pgx.Conn
	sp   string // the savepoint of a nested transaction; "" at the top
	n    *int   // savepoints made so far, for their names
	done bool
}

// beginWith sends BEGIN and then b in one round trip. The caller reads BEGIN's result and
// then b's from the returned BatchResults and closes them; whatever fails, end (below) ends
// the transaction.
func beginWith(ctx context.Context, conn *pgx.Conn, b *pgx.Batch) (*pipeTx, pgx.BatchResults) {
	var all pgx.Batch
	all.Queue(`BEGIN`)
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	return &pipeTx{conn: conn, n: new(int)}, conn.SendBatch(ctx, &all)
}

// commitWith sends b and COMMIT in one round trip.
func (t *pipeTx) commitWith(ctx context.Context, b *pgx.Batch) error {
	b.Queue(`COMMIT`)
	err := t.conn.SendBatch(ctx, b).Close()
	if err == nil {
		t.done = true
	}
	return err
}

// end rolls the transaction back unless it committed. A connection that cannot roll back is
// closed, so that it never runs another batch inside a failed transaction.
func (t *pipeTx) end() {
	if t.done {
		return
	}
	t.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := t.conn.Exec(ctx, `ROLLBACK`); err != nil {
		t.conn.Close(ctx)
	}
}

func (t *pipeTx) Begin(ctx context.Context) (pgx.Tx, error) {
	*t.n++
	sp := fmt.Sprintf("sp_%d", *t.n)
	if _, err := t.conn.Exec(ctx, "SAVEPOINT "+sp); err != nil {
		return nil, err
	}
	return &pipeTx{conn: t.conn, sp: sp, n: t.n}, nil
}

func (t *pipeTx) Commit(ctx context.Context) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	t.done = true
	if t.sp != "" {
		_, err := t.conn.Exec(ctx, "RELEASE SAVEPOINT "+t.sp)
		return err
	}
	_, err := t.conn.Exec(ctx, `COMMIT`)
	return err
}

func (t *pipeTx) Rollback(ctx context.Context) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	t.done = true
	if t.sp != "" {
		_, err := t.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT "+t.sp)
		return err
	}
	_, err := t.conn.Exec(ctx, `ROLLBACK`)
	return err
}

func (t *pipeTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.conn.CopyFrom(ctx, table, cols, src)
}

func (t *pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}

func (t *pipeTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *pipeTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

func (t *pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}

func (t *pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}

func (t *pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}

func (t *pipeTx) Conn() *pgx.Conn { return t.conn }
