package readmodel

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyBuf builds rows of PostgreSQL's binary COPY format from typed values, without boxing
// each value in an interface and planning its encoding as pgx.CopyFrom does: a rebuild writes
// a few million rows this way. Days are counted from 1970-01-01 and moments in microseconds
// since then, as elsewhere in this package.
//
// The rows go in chunks, each its own COPY and so its own transaction (the connection is in
// no transaction): a chunk ends after chunkRows rows or chunkTime, whichever comes first, so
// that no transaction of a rebuild holds an xid, which holds back every reader of the store,
// for more than a fraction of a second even on a busy machine.
type copyBuf struct {
	b       []byte
	w       *io.PipeWriter // the open chunk's; nil between chunks
	chunks  chan<- *io.PipeReader
	rows    int       // in the open chunk
	started time.Time // the open chunk's
}

// A chunk's limits: a COPY takes 300,000-1,000,000 narrow rows a second here. Variables only
// so that tests, whose tables are small, can make them smaller (beside_test.go).
var (
	chunkRows = 100_000
	chunkTime = 250 * time.Millisecond
)

// pgEpoch is 2000-01-01, where PostgreSQL counts dates and timestamps from.
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1_000_000
)

func (c *copyBuf) row(fields int) error {
	if c.w != nil && (c.rows >= chunkRows || c.rows%512 == 0 && time.Since(c.started) >= chunkTime) {
		if err := c.end(); err != nil {
			return err
		}
	}
	if c.w == nil {
		pr, pw := io.Pipe()
		c.chunks <- pr
		c.w, c.rows, c.started = pw, 0, time.Now()
		c.b = append(c.b, "PGCOPY\n\xff\r\n\x00"...)
		c.b = binary.BigEndian.AppendUint32(c.b, 0) // flags
		c.b = binary.BigEndian.AppendUint32(c.b, 0) // header extension
	}
	if len(c.b) >= 1<<16 {
		if _, err := c.w.Write(c.b); err != nil {
			return err
		}
		c.b = c.b[:0]
	}
	c.rows++
	c.b = binary.BigEndian.AppendUint16(c.b, uint16(fields))
	return nil
}

// end ends the open chunk: its COPY then commits.
func (c *copyBuf) end() error {
	c.b = binary.BigEndian.AppendUint16(c.b, math.MaxUint16) // -1: the end
	_, err := c.w.Write(c.b)
	c.b = c.b[:0]
	c.w.Close()
	c.w = nil
	return err
}

func (c *copyBuf) text(s string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)))
	c.b = append(c.b, s...)
}

func (c *copyBuf) int8(v int64) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
}

func (c *copyBuf) int4(v int) {
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(int32(v)))
}

func (c *copyBuf) boolean(v bool) {
	c.b = binary.BigEndian.AppendUint32(c.b, 1)
	if v {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

func (c *copyBuf) null() { c.b = binary.BigEndian.AppendUint32(c.b, math.MaxUint32) }

// date writes a day number (noDay: NULL).
func (c *copyBuf) date(day int64) {
	if day == noDay {
		c.null()
		return
	}
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(int32(day-pgEpochDays)))
}

// moment writes a timestamptz in microseconds since 1970 (minMoment: -infinity).
func (c *copyBuf) moment(us int64) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	if us == minMoment {
		c.b = append(c.b, 0x80, 0, 0, 0, 0, 0, 0, 0) // math.MinInt64
		return
	}
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(us-pgEpochMicros))
}

// copyBinary writes the rows that fill appends (fill calls row before each) into table on
// conn, which is in no transaction, in binary COPY, in chunks each committed on its own (see
// copyBuf), with the rows built on another goroutine while PostgreSQL takes the earlier ones.
func copyBinary(ctx context.Context, conn *pgx.Conn, table string, cols []string, fill func(c *copyBuf) error) error {
	quoted := make([]string, len(cols))
	for i, col := range cols {
		quoted[i] = pgx.Identifier{col}.Sanitize()
	}
	sql := "COPY " + pgx.Identifier{table}.Sanitize() + " (" + strings.Join(quoted, ", ") + ") FROM STDIN (FORMAT binary)"
	chunks := make(chan *io.PipeReader)
	filled := make(chan error, 1)
	go func() {
		defer close(chunks)
		c := &copyBuf{b: make([]byte, 0, 1<<17), chunks: chunks}
		err := fill(c)
		if c.w != nil {
			if err == nil {
				err = c.end()
			} else {
				c.w.CloseWithError(err)
			}
		}
		filled <- err
	}()
	var err error
	for pr := range chunks {
		if err == nil {
			_, err = conn.PgConn().CopyFrom(ctx, pr, sql)
		}
		// Stops fill if PostgreSQL refused the rows; after a failure, every chunk fill starts
		// is refused at once, so fill ends soon.
		pr.CloseWithError(io.ErrClosedPipe)
	}
	if ferr := <-filled; err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// copyRows writes rows into table on conn, which is in no transaction, in committed chunks of
// copyRowsChunk rows.
func copyRows(ctx context.Context, conn *pgx.Conn, table string, cols []string, rows [][]any) error {
	const copyRowsChunk = 20_000
	for len(rows) > 0 {
		n := min(len(rows), copyRowsChunk)
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows[:n])); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}
