package readmodel

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
)

// copyBuf builds rows of PostgreSQL's binary COPY format from typed values, without boxing
// each value in an interface and planning its encoding as pgx.CopyFrom does: a rebuild writes
// a few million rows this way. Days are counted from 1970-01-01 and moments in microseconds
// since then, as elsewhere in this package.
type copyBuf struct {
	b []byte
	w io.Writer
}

// pgEpoch is 2000-01-01, where PostgreSQL counts dates and timestamps from.
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1_000_000
)

func (c *copyBuf) row(fields int) error {
	if len(c.b) >= 1<<16 {
		if _, err := c.w.Write(c.b); err != nil {
			return err
		}
		c.b = c.b[:0]
	}
	c.b = binary.BigEndian.AppendUint16(c.b, uint16(fields))
	return nil
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

// copyBinary writes the rows that fill appends (fill calls row before each) into table, in
// binary COPY, with the rows built on another goroutine while PostgreSQL takes the earlier
// ones.
func copyBinary(ctx context.Context, tx pgx.Tx, table string, cols []string, fill func(c *copyBuf) error) error {
	quoted := make([]string, len(cols))
	for i, col := range cols {
		quoted[i] = pgx.Identifier{col}.Sanitize()
	}
	sql := "COPY " + pgx.Identifier{table}.Sanitize() + " (" + strings.Join(quoted, ", ") + ") FROM STDIN (FORMAT binary)"
	pr, pw := io.Pipe()
	go func() {
		c := &copyBuf{b: make([]byte, 0, 1<<17), w: pw}
		c.b = append(c.b, "PGCOPY\n\xff\r\n\x00"...)
		c.b = binary.BigEndian.AppendUint32(c.b, 0) // flags
		c.b = binary.BigEndian.AppendUint32(c.b, 0) // header extension
		err := fill(c)
		if err == nil {
			c.b = binary.BigEndian.AppendUint16(c.b, math.MaxUint16) // -1: the end
			_, err = pw.Write(c.b)
		}
		pw.CloseWithError(err)
	}()
	_, err := tx.Conn().PgConn().CopyFrom(ctx, pr, sql)
	pr.CloseWithError(io.ErrClosedPipe) // stops fill if PostgreSQL refused the rows
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}
