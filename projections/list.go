package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/projections/readmodel"
	"github.com/jackc/pgx/v5"
)

// ListQuery filters a list of models or projects. Empty fields do not filter.
type ListQuery struct {
	Kind     string // model or project
	UnitCode string
	Stage    string
	Pillar   string
	Sector   string
	// Q matches titles, ignoring tone marks, case and punctuation (see readmodel.FoldTitle).
	Q string
	// Units, when not empty, keeps items of any of these units (a unit and those merged into it)
	// but those in ExceptItems; ItemIDs adds items by id (those a split handed to the unit).
	// With either set, only those items are listed.
	Units, ExceptItems, ItemIDs []string
	// AsOf, when set, lists the items as they stood at the end of that day: those proposed by
	// then, with the stage, money and progress they had (the reports' fold), Stage filtering on
	// that stage. A page may then hold fewer than Limit items while next_cursor goes on.
	AsOf civil.Date
	// PastEndBefore, when set, keeps open items (proposed, funded, suspended) whose planned end
	// is before that day: the overdue ones.
	PastEndBefore civil.Date
	// Limit is the page size (1..200); Cursor the next_cursor of the previous page.
	Limit  int
	Cursor string
}

// ListItem is one model or project of a list, as it stands now.
type ListItem struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Title      string     `json:"title"`
	UnitCode   string     `json:"unit_code"`
	Pillar     string     `json:"pillar"`
	Sector     string     `json:"sector"`
	Stage      string     `json:"stage"`
	Estimated  int64      `json:"estimated_cost_vnd"`
	Requested  int64      `json:"requested_vnd"`
	Approved   int64      `json:"approved_vnd"`
	Disbursed  int64      `json:"disbursed_vnd"`
	Gap        int64      `json:"gap_vnd"`
	Progress   int        `json:"progress"`
	SameAs     string     `json:"same_as,omitempty"`
	ProposedOn civil.Date `json:"proposed_on"`
	EndDate    civil.Date `json:"end_date"`
}

// List returns a page of items, newest first (ids are ULIDs, so by when they were recorded),
// and the cursor of the next page ("" on the last).
func (r *Reports) List(ctx context.Context, q ListQuery) ([]ListItem, string, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	rows, err := r.pool.Query(ctx, `SELECT i.item_id, i.kind, i.title, i.unit_code, i.pillar, i.sector, c.stage,
			i.estimated_vnd, c.requested_vnd, c.approved_vnd, c.disbursed_vnd, c.progress, c.same_as, i.proposed_on, i.end_date,
			EXISTS (SELECT 1 FROM pj_item_facts f WHERE f.item_id = i.item_id AND f.fact = 'stage' AND f.stage = 'funded'
				AND f.ref <> '') AS own_funding -- item.OwnFundingArranged (readmodel/fold.go)
		FROM pj_items i JOIN pj_item_current c USING (item_id)
		WHERE ($1 = '' OR i.kind = $1) AND ($2 = '' OR i.unit_code = $2) AND ($3 = '' OR $13::date IS NOT NULL OR c.stage = $3)
		  AND ($4 = '' OR i.pillar = $4) AND ($5 = '' OR i.sector = $5)
		  AND ($6 = '' OR strpos(i.title_folded, $6) > 0) AND ($7 = '' OR i.item_id < $7)
		  AND (coalesce(cardinality($9::text[]), 0) + coalesce(cardinality($12::text[]), 0) = 0
		       OR (i.unit_code = ANY($9) AND NOT i.item_id = ANY(coalesce($11::text[], '{}'))) OR i.item_id = ANY($12))
		  AND ($10::date IS NULL OR (i.end_date < $10 AND c.stage IN ('proposed', 'funded', 'suspended')))
		  AND ($13::date IS NULL OR i.proposed_on <= $13)
		ORDER BY i.item_id DESC LIMIT $8`,
		q.Kind, q.UnitCode, q.Stage, q.Pillar, q.Sector, readmodel.FoldTitle(q.Q), q.Cursor, q.Limit+1, q.Units, dateOrNil(q.PastEndBefore),
		q.ExceptItems, q.ItemIDs, dateOrNil(q.AsOf))
	if err != nil {
		return nil, "", fmt.Errorf("list %ss: %w", q.Kind, err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ListItem, error) {
		var (
			it         ListItem
			proposed   time.Time
			end        *time.Time
			ownFunding bool
		)
		err := row.Scan(&it.ID, &it.Kind, &it.Title, &it.UnitCode, &it.Pillar, &it.Sector, &it.Stage, &it.Estimated,
			&it.Requested, &it.Approved, &it.Disbursed, &it.Progress, &it.SameAs, &proposed, &end, &ownFunding)
		it.ProposedOn = civil.Of(proposed)
		if end != nil {
			it.EndDate = civil.Of(*end)
		}
		if it.Stage != string(item.StageCancelled) && !ownFunding { // no gap without separate funding
			it.Gap = max(0, it.Estimated-it.Approved)
		}
		return it, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list %ss: %w", q.Kind, err)
	}
	next := ""
	if len(items) > q.Limit {
		items = items[:q.Limit]
		next = items[len(items)-1].ID
	}
	if !q.AsOf.IsZero() {
		if items, err = r.asOf(ctx, items, q); err != nil {
			return nil, "", fmt.Errorf("list %ss: %w", q.Kind, err)
		}
	}
	return items, next, nil
}

// asOf sets the page's items to what they were at the end of q.AsOf, as known now, and keeps
// those in q.Stage then.
func (r *Reports) asOf(ctx context.Context, items []ListItem, q ListQuery) ([]ListItem, error) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	_, knownAt := r.resolve(Query{})
	parts, err := readmodel.ItemPartsOf(ctx, r.pool, ids, q.AsOf, knownAt)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]readmodel.ItemPart, len(parts))
	for _, p := range parts {
		byID[p.ItemID] = p
	}
	out := items[:0]
	for _, it := range items {
		p, ok := byID[it.ID]
		if !ok || (q.Stage != "" && string(p.Stage) != q.Stage) {
			continue
		}
		it.Stage, it.Requested, it.Approved, it.Disbursed, it.Progress = string(p.Stage), p.Requested, p.Approved, p.Disbursed, int(p.Progress)
		it.Gap = 0
		if p.Stage != item.StageCancelled {
			it.Gap = p.Gap
		}
		out = append(out, it)
	}
	return out, nil
}

// Due lists, in item id order after the id after, at most limit of the items that may have a
// deadline due on today: in one of the stages noProgressIn and silent since their last
// progress report (or, without one, their first approval) for at least minDays, not flagged
// since; or in one of the stages overdueIn, past their planned end date and not yet marked
// overdue. The deadline process manager checks each against its own workflow definition, a
// page at a time, so that its memory does not grow with the store (a 10-million-event store
// has about a million such items on its first day).
func (r *Reports) Due(ctx context.Context, today civil.Date, noProgressIn []string, minDays int, overdueIn []string, after string, limit int) ([]item.Ref, error) {
	rows, err := r.pool.Query(ctx, `SELECT kind, item_id FROM pj_item_current WHERE `+dueWhere+`
		ORDER BY item_id LIMIT $6`, noProgressIn, today.Time(utc), minDays, overdueIn, after, limit)
	return collectRefs(rows, err, "due items")
}

// DueCount counts the items Due would list after the id after, all pages together: how many
// the deadline manager has still to look at.
func (r *Reports) DueCount(ctx context.Context, today civil.Date, noProgressIn []string, minDays int, overdueIn []string, after string) (int64, error) {
	var n int64
	err := r.pool.QueryRow(ctx, `SELECT count(*) FROM pj_item_current WHERE `+dueWhere,
		noProgressIn, today.Time(utc), minDays, overdueIn, after).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("due items: %w", err)
	}
	return n, nil
}

// dueWhere is Due's condition ($1 noProgressIn, $2 today, $3 minDays, $4 overdueIn, $5 after).
const dueWhere = `item_id > $5 AND (
	      (stage = ANY($1) AND coalesce(last_progress_on, first_funded_on) <= $2::date - $3::int
	       AND (flagged_on IS NULL OR flagged_on < coalesce(last_progress_on, first_funded_on)))
	   OR (stage = ANY($4) AND end_date < $2::date AND overdue_since IS NULL))`

// collectRefs reads (kind, item_id) rows.
func collectRefs(rows pgx.Rows, err error, what string) ([]item.Ref, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	refs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (item.Ref, error) {
		var ref item.Ref
		err := row.Scan(&ref.Kind, &ref.ID)
		return ref, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return refs, nil
}

func dateOrNil(d civil.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.Time(utc)
}
