package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PaymentRow is money paid out in one calendar year or month, by the date of the payment.
type PaymentRow struct {
	Key       string `json:"key"`
	Disbursed int64  `json:"disbursed_vnd"`
}

// PaymentReport is the payments-by-date report.
type PaymentReport struct {
	Rows  []PaymentRow `json:"rows"`
	Total PaymentRow   `json:"total"`
	// SetAsideEvents: see FundingGapReport.
	SetAsideEvents int64 `json:"set_aside_events"`
}

// Payments groups the money disbursed by the calendar year (group_by=year) or month
// (group_by=month, YYYY-MM) in which it was paid — the treasury's view, beside the funding
// gaps by year, whose rows are the budget year of the request a payment drew on. Like the
// funding gaps it leaves out items cancelled by the query's day, so that its total is theirs.
func (r *Reports) Payments(ctx context.Context, groupBy string, q Query) (PaymentReport, error) {
	format := map[string]string{"year": "YYYY", "month": "YYYY-MM"}[groupBy]
	if format == "" {
		return PaymentReport{}, fmt.Errorf("group_by %q: want year or month: %w", groupBy, ErrBadQuery)
	}
	asOf, knownAt := r.resolve(q)
	// An item's stage on the day, as known at the moment, is that of its last fact (in stream
	// order) that names a stage, as the fold has it.
	rows, err := r.pool.Query(ctx, `SELECT to_char(f.occurred_on, @format), sum(f.amount)::bigint
		FROM pj_item_facts f
		WHERE f.fact = 'disbursed' AND f.occurred_on <= @day AND f.recorded_at <= @known
		  AND coalesce((SELECT s.stage FROM pj_item_facts s
		      WHERE s.item_id = f.item_id AND s.stage <> '' AND s.occurred_on <= @day AND s.recorded_at <= @known
		      ORDER BY s.version DESC LIMIT 1), '') <> 'cancelled'
		GROUP BY 1 ORDER BY 1`,
		pgx.NamedArgs{"format": format, "day": asOf.Time(time.UTC), "known": knownAt})
	if err != nil {
		return PaymentReport{}, fmt.Errorf("payments: %w", err)
	}
	out := PaymentReport{Rows: []PaymentRow{}, Total: PaymentRow{Key: "total"}}
	for rows.Next() {
		var row PaymentRow
		if err := rows.Scan(&row.Key, &row.Disbursed); err != nil {
			rows.Close()
			return PaymentReport{}, fmt.Errorf("payments: %w", err)
		}
		out.Rows = append(out.Rows, row)
		out.Total.Disbursed += row.Disbursed
	}
	if err := rows.Err(); err != nil {
		return PaymentReport{}, fmt.Errorf("payments: %w", err)
	}
	if out.SetAsideEvents, err = r.setAsideEvents(ctx); err != nil {
		return out, fmt.Errorf("payments: %w", err)
	}
	return out, nil
}
