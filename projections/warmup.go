package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/jackc/pgx/v5"
)

// querier is what the report queries need of the database: the pool of a serving process,
// or the one new connection WarmUp runs them on (both *pgxpool.Pool and *pgx.Conn).
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// WarmUp runs the reports' own reads once on conn, a connection just made, so that the first
// report a user asks for on it costs what the next ones do. A new PostgreSQL backend pays, the
// first time it runs a report: its catalog lookups and planning, the preparation of each
// statement (pgx keeps them per connection), and the first touch of each shared-buffer page
// (the page faults that map the shared memory into the new process; after a restart, also
// the read of the pages from the OS into the buffers). On the 10 M store that first call cost
// 15-30 ms where the next ones took 1-5 ms (BENCHMARKS.md, stop 24).
//
// What it reads is bounded by the report keys × the programme's months, never by events:
//   - today, every report dimension (unit, sector, pillar): the summed groups
//     (pj_group_current) and the overdue counts (pj_group_all_sums: each dimension's month
//     rows, which every report as of a past day also sums, and this month's day rows);
//   - today's money by source and year (pj_group_money);
//   - as of the end of last month, by source: the month rows' statements, and the money's
//     month rows (pj_money_all_sums);
//   - the units, merges and splits, and the set-aside count, read by every report.
//
// A report known at a past moment reads the rows of that moment's bucket: those are not
// warmed (they depend on the moment), only the tables' catalogs through the rest.
func WarmUp(ctx context.Context, conn *pgx.Conn, loc *time.Location) error {
	r := NewReports(nil, nil, loc)
	r.pool = conn
	for _, dim := range []string{"unit", "sector", "pillar"} {
		if _, err := r.Completion(ctx, "", dim, Query{}); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	if _, err := r.FundingGaps(ctx, "source", Query{}); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	asOf, _ := r.resolve(Query{})
	lastMonth := civil.Date{Year: asOf.Year, Month: asOf.Month, Day: 1}.AddDays(-1)
	if _, err := r.FundingGaps(ctx, "source", Query{AsOf: lastMonth}); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}
