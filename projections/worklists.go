package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/jackc/pgx/v5"
)

// Attention is an open item of a unit that misses something its focal point should supply.
type Attention struct {
	ID, Kind, Title, Stage string
	EndDate                civil.Date
	// NoRequest: proposed and no funding requested yet.
	NoRequest bool
	// NoProgress: funded and no progress reported (since it was first funded) for
	// NoProgressDays or more.
	NoProgress bool
	// PastEnd: still open after its planned end date.
	PastEnd bool
}

// Attention lists the open items of units (but except; and the items itemIDs: a unit's family,
// unit.Family) that miss a funding request, a progress report
// within noProgressDays, or their end date, oldest first.
func (r *Reports) Attention(ctx context.Context, units, except, itemIDs []string, today civil.Date, noProgressDays int) ([]Attention, error) {
	rows, err := r.pool.Query(ctx, `SELECT i.item_id, i.kind, i.title, c.stage, c.requested_vnd,
			coalesce(c.last_progress_on, c.first_funded_on), i.end_date
		FROM pj_items i JOIN pj_item_current c USING (item_id)
		WHERE ((i.unit_code = ANY($1) AND NOT i.item_id = ANY(coalesce($2::text[], '{}'))) OR i.item_id = ANY($3))
		  AND c.stage IN ('proposed', 'funded', 'suspended')
		ORDER BY i.item_id`, units, except, itemIDs)
	if err != nil {
		return nil, fmt.Errorf("attention: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Attention, error) {
		var (
			a          Attention
			requested  int64
			since, end *time.Time
		)
		err := row.Scan(&a.ID, &a.Kind, &a.Title, &a.Stage, &requested, &since, &end)
		if end != nil {
			a.EndDate = civil.Of(*end)
			a.PastEnd = today.After(a.EndDate)
		}
		a.NoRequest = a.Stage == string(item.StageProposed) && requested == 0
		a.NoProgress = a.Stage == string(item.StageFunded) && since != nil && today.DaysSince(civil.Of(*since)) >= noProgressDays
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("attention: %w", err)
	}
	out := all[:0]
	for _, a := range all {
		if a.NoRequest || a.NoProgress || a.PastEnd {
			out = append(out, a)
		}
	}
	return out, nil
}

// Undecided returns the items that have a funding request with no approval yet, oldest
// request first, at most limit. A rejection is not a fact of these read models, so the caller
// loads each item to see which of its requests still wait.
func (r *Reports) Undecided(ctx context.Context, limit int) ([]item.Ref, error) {
	rows, err := r.pool.Query(ctx, `SELECT i.kind, i.item_id FROM (
			SELECT q.item_id, min(q.occurred_on) AS first FROM pj_item_facts q
			WHERE q.fact = 'requested' AND NOT EXISTS (
				SELECT 1 FROM pj_item_facts a WHERE a.item_id = q.item_id AND a.fact = 'approved' AND a.ref = q.ref)
			GROUP BY q.item_id) w
		JOIN pj_items i USING (item_id) JOIN pj_item_current c USING (item_id)
		WHERE c.stage IN ('proposed', 'funded')
		ORDER BY w.first, i.item_id LIMIT $1`, limit)
	return collectRefs(rows, err, "undecided requests")
}
