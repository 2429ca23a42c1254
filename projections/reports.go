package projections

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/jackc/pgx/v5/pgxpool"
)

var utc = time.UTC

// ErrBadQuery is matched by errors about a report's parameters (HTTP 400).
var ErrBadQuery = errors.New("bad report query")

// Query says which moment a report describes. The zero value is today, as known now.
type Query struct {
	// AsOf is the business day: facts dated on or before it, units as merged by then.
	AsOf civil.Date
	// KnownAt is the recording moment: only what the store had recorded by then.
	KnownAt time.Time
}

// Reports answers the report calls of API.md from the read models.
type Reports struct {
	pool *pgxpool.Pool
	now  func() time.Time
	loc  *time.Location
}

// NewReports returns the report queries; now and loc say what "today" is.
func NewReports(pool *pgxpool.Pool, now func() time.Time, loc *time.Location) *Reports {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = utc
	}
	return &Reports{pool: pool, now: now, loc: loc}
}

func (r *Reports) resolve(q Query) (asOf civil.Date, knownAt time.Time) {
	now := r.now()
	asOf, knownAt = q.AsOf, q.KnownAt
	if asOf.IsZero() {
		asOf = civil.Of(now.In(r.loc))
	}
	if knownAt.IsZero() {
		knownAt = now.Add(time.Hour) // a little ahead: recorded_at comes from the store's clock
	}
	return asOf, knownAt
}

// snapshot is every item as it stood on asOf, as known at knownAt.
type snapshot struct {
	asOf  civil.Date
	units map[string]unitRow
	merge map[string]mergeRow
}

type unitRow struct{ code, name, kind string }

type mergeRow struct {
	into string
	on   civil.Date
}

type sums struct{ requested, approved, disbursed int64 }

type itemRow struct {
	id, kind, title, unit, pillar, sector, modelID string
	estimated                                      int64
	endDate                                        civil.Date
	stage                                          string
	progress                                       int
	sameAs                                         string
	bySource                                       map[string]*sums
	byYear                                         map[int]*sums
	total                                          sums
}

// load reads the read models filtered by both times and hands each item, its facts folded in
// stream order (the order a replay of the filtered events would use), to each as soon as its
// rows are read: memory holds one item at a time, not the whole programme.
//
// "Today, as known now" (the zero Query) reads each item already folded, from pj_item_current,
// instead of folding its facts; bySource and byYear are filled only when money is set.
func (r *Reports) load(ctx context.Context, q Query, kind string, money bool, each func(s *snapshot, it *itemRow)) (*snapshot, error) {
	now := q == Query{}
	asOf, knownAt := r.resolve(q)
	day := asOf.Time(utc)
	s := &snapshot{asOf: asOf, units: map[string]unitRow{}, merge: map[string]mergeRow{}}
	rows, err := r.pool.Query(ctx, `SELECT code, name, kind FROM pj_units WHERE recorded_at <= $1`, knownAt)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var u unitRow
		if err := rows.Scan(&u.code, &u.name, &u.kind); err != nil {
			return nil, err
		}
		s.units[u.code] = u
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = r.pool.Query(ctx, `SELECT code, into_code, effective_date FROM pj_unit_merges
		WHERE effective_date <= $1 AND recorded_at <= $2`, day, knownAt)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			code string
			m    mergeRow
			on   time.Time
		)
		if err := rows.Scan(&code, &m.into, &on); err != nil {
			return nil, err
		}
		m.on = civil.Of(on)
		s.merge[code] = m
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if now {
		return s, r.current(ctx, s, kind, money, each)
	}

	rows, err = r.pool.Query(ctx, `SELECT i.item_id, i.kind, i.title, i.unit_code, i.pillar, i.sector, i.model_id,
			i.estimated_vnd, i.end_date, f.fact, f.source, f.year, f.amount, f.stage, f.percent, f.ref
		FROM pj_items i JOIN pj_item_facts f USING (item_id)
		WHERE i.proposed_on <= $1 AND i.recorded_at <= $2 AND f.occurred_on <= $1 AND f.recorded_at <= $2
		  AND ($3 = '' OR i.kind = $3)
		ORDER BY f.item_id, f.version`, day, knownAt, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cur *itemRow
	for rows.Next() {
		var (
			it                       itemRow
			end                      *time.Time
			fact, source, stage, ref string
			year, percent            int
			amount                   int64
		)
		if err := rows.Scan(&it.id, &it.kind, &it.title, &it.unit, &it.pillar, &it.sector, &it.modelID, &it.estimated, &end,
			&fact, &source, &year, &amount, &stage, &percent, &ref); err != nil {
			return nil, err
		}
		if cur == nil || cur.id != it.id {
			if cur != nil {
				each(s, cur)
			}
			cur = &it
			cur.bySource, cur.byYear = map[string]*sums{}, map[int]*sums{}
			if end != nil {
				cur.endDate = civil.Of(*end)
			}
		}
		add := func(f func(*sums)) {
			f(&cur.total)
			f(cur.bySourceOf(source))
			f(cur.byYearOf(year))
		}
		switch fact {
		case "requested":
			add(func(m *sums) { m.requested += amount })
		case "approved":
			add(func(m *sums) { m.approved += amount })
		case "disbursed":
			add(func(m *sums) { m.disbursed += amount })
		case "progress":
			cur.progress = percent
		case "same_as":
			cur.sameAs = ref
		}
		if stage != "" {
			cur.stage = stage
		}
		if stage == "implemented" {
			cur.progress = 100
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		each(s, cur)
	}
	return s, nil
}

// current hands each item as it stands now, from pj_item_current (and its money per source
// and year from pj_item_current_money when money is set).
func (r *Reports) current(ctx context.Context, s *snapshot, kind string, money bool, each func(*snapshot, *itemRow)) error {
	query := `SELECT c.item_id, c.kind, c.unit_code, c.pillar, c.sector, c.estimated_vnd, c.end_date, c.requested_vnd,
			c.approved_vnd, c.disbursed_vnd, c.stage, c.progress, c.same_as, '', 0, 0::bigint, 0::bigint, 0::bigint
		FROM pj_item_current c WHERE $1 = '' OR c.kind = $1`
	if money {
		query = `SELECT c.item_id, c.kind, c.unit_code, c.pillar, c.sector, c.estimated_vnd, c.end_date, c.requested_vnd,
			c.approved_vnd, c.disbursed_vnd, c.stage, c.progress, c.same_as, coalesce(m.source, ''), coalesce(m.year, 0),
			coalesce(m.requested_vnd, 0), coalesce(m.approved_vnd, 0), coalesce(m.disbursed_vnd, 0)
		FROM pj_item_current c LEFT JOIN pj_item_current_money m USING (item_id)
		WHERE $1 = '' OR c.kind = $1 ORDER BY c.item_id`
	}
	rows, err := r.pool.Query(ctx, query, kind)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cur *itemRow
	for rows.Next() {
		var (
			it              itemRow
			end             *time.Time
			source          string
			year            int
			req, appr, disb int64
		)
		if err := rows.Scan(&it.id, &it.kind, &it.unit, &it.pillar, &it.sector, &it.estimated, &end, &it.total.requested,
			&it.total.approved, &it.total.disbursed, &it.stage, &it.progress, &it.sameAs, &source, &year, &req, &appr, &disb); err != nil {
			return err
		}
		if cur == nil || cur.id != it.id {
			if cur != nil {
				each(s, cur)
			}
			cur = &it
			cur.bySource, cur.byYear = map[string]*sums{}, map[int]*sums{}
			if end != nil {
				cur.endDate = civil.Of(*end)
			}
		}
		if source != "" {
			for _, m := range []*sums{cur.bySourceOf(source), cur.byYearOf(year)} {
				m.requested += req
				m.approved += appr
				m.disbursed += disb
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur != nil {
		each(s, cur)
	}
	return nil
}

func (it *itemRow) bySourceOf(src string) *sums {
	if it.bySource[src] == nil {
		it.bySource[src] = &sums{}
	}
	return it.bySource[src]
}

func (it *itemRow) byYearOf(y int) *sums {
	if it.byYear[y] == nil {
		it.byYear[y] = &sums{}
	}
	return it.byYear[y]
}

// successor follows the merges in effect on the snapshot's day.
func (s *snapshot) successor(code string) string {
	for range len(s.merge) + 1 {
		m, ok := s.merge[code]
		if !ok {
			return code
		}
		code = m.into
	}
	return code
}

func (s *snapshot) key(it *itemRow, groupBy string) (string, error) {
	switch groupBy {
	case "unit":
		return s.successor(it.unit), nil
	case "unit_kind":
		return s.units[s.successor(it.unit)].kind, nil
	case "pillar":
		return it.pillar, nil
	case "sector":
		return it.sector, nil
	}
	return "", fmt.Errorf("group_by %q: %w", groupBy, ErrBadQuery)
}

// FundingGapRow is one row of the funding-gaps report (API.md).
type FundingGapRow struct {
	Key          string `json:"key"`
	Estimated    *int64 `json:"estimated_vnd"`
	Requested    int64  `json:"requested_vnd"`
	Approved     int64  `json:"approved_vnd"`
	Disbursed    int64  `json:"disbursed_vnd"`
	Gap          *int64 `json:"gap_vnd"`
	ItemsWithGap int64  `json:"items_with_gap"`
}

// FundingGapReport is the funding-gaps report.
type FundingGapReport struct {
	Rows  []FundingGapRow `json:"rows"`
	Total FundingGapRow   `json:"total"`
}

// FundingGaps groups estimated, requested, approved and disbursed money and the gap by unit,
// pillar, sector, source or year. Cancelled items are left out.
func (r *Reports) FundingGaps(ctx context.Context, groupBy string, q Query) (FundingGapReport, error) {
	switch groupBy {
	case "unit", "pillar", "sector", "source", "year":
	default:
		return FundingGapReport{}, fmt.Errorf("group_by %q: want unit, pillar, sector, source or year: %w", groupBy, ErrBadQuery)
	}
	rows := map[string]*FundingGapRow{}
	row := func(key string, withItem bool) *FundingGapRow {
		if rows[key] == nil {
			rows[key] = &FundingGapRow{Key: key}
			if withItem {
				rows[key].Estimated, rows[key].Gap = new(int64), new(int64)
			}
		}
		return rows[key]
	}
	total := FundingGapRow{Key: "total", Estimated: new(int64), Gap: new(int64)}
	_, err := r.load(ctx, q, "", groupBy == "source" || groupBy == "year", func(s *snapshot, it *itemRow) {
		if it.stage == "cancelled" {
			return
		}
		gap := max(0, it.estimated-it.total.approved)
		*total.Estimated += it.estimated
		*total.Gap += gap
		total.Requested += it.total.requested
		total.Approved += it.total.approved
		total.Disbursed += it.total.disbursed
		if gap > 0 {
			total.ItemsWithGap++
		}
		switch groupBy {
		case "source":
			for src, m := range it.bySource {
				rw := row(src, false)
				rw.Requested += m.requested
				rw.Approved += m.approved
				rw.Disbursed += m.disbursed
			}
		case "year":
			for y, m := range it.byYear {
				rw := row(strconv.Itoa(y), false)
				rw.Requested += m.requested
				rw.Approved += m.approved
				rw.Disbursed += m.disbursed
			}
		default:
			k, _ := s.key(it, groupBy)
			rw := row(k, true)
			*rw.Estimated += it.estimated
			*rw.Gap += gap
			rw.Requested += it.total.requested
			rw.Approved += it.total.approved
			rw.Disbursed += it.total.disbursed
			if gap > 0 {
				rw.ItemsWithGap++
			}
		}
	})
	if err != nil {
		return FundingGapReport{}, fmt.Errorf("funding gaps: %w", err)
	}
	out := FundingGapReport{Rows: []FundingGapRow{}, Total: total}
	for _, rw := range rows {
		out.Rows = append(out.Rows, *rw)
	}
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Key < out.Rows[j].Key })
	return out, nil
}

// ModelCountRow is one row of the model-counts report.
type ModelCountRow struct {
	Key            string `json:"key"`
	Registrations  int64  `json:"registrations"`
	DistinctModels int64  `json:"distinct_models"`
}

// ModelCountReport is the model-counts report.
type ModelCountReport struct {
	Rows  []ModelCountRow `json:"rows"`
	Total struct {
		Registrations  int64 `json:"registrations"`
		DistinctModels int64 `json:"distinct_models"`
	} `json:"total"`
}

// ModelCounts counts model registrations and distinct models (a registration marked the same
// as another is not distinct; a distinct model counts in its own registration's group).
func (r *Reports) ModelCounts(ctx context.Context, groupBy string, q Query) (ModelCountReport, error) {
	switch groupBy {
	case "unit", "unit_kind", "pillar", "sector":
	default:
		return ModelCountReport{}, fmt.Errorf("group_by %q: want unit, unit_kind, pillar or sector: %w", groupBy, ErrBadQuery)
	}
	rows := map[string]*ModelCountRow{}
	var out ModelCountReport
	_, err := r.load(ctx, q, "model", false, func(s *snapshot, it *itemRow) {
		k, _ := s.key(it, groupBy)
		if rows[k] == nil {
			rows[k] = &ModelCountRow{Key: k}
		}
		rows[k].Registrations++
		out.Total.Registrations++
		if it.sameAs == "" {
			rows[k].DistinctModels++
			out.Total.DistinctModels++
		}
	})
	if err != nil {
		return ModelCountReport{}, fmt.Errorf("model counts: %w", err)
	}
	out.Rows = []ModelCountRow{}
	for _, rw := range rows {
		out.Rows = append(out.Rows, *rw)
	}
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Key < out.Rows[j].Key })
	return out, nil
}

// CompletionRow is one row of the completion report.
type CompletionRow struct {
	Key             string  `json:"key"`
	Proposed        int64   `json:"proposed"`
	Funded          int64   `json:"funded"`
	Implemented     int64   `json:"implemented"`
	Evaluated       int64   `json:"evaluated"`
	Suspended       int64   `json:"suspended"`
	Cancelled       int64   `json:"cancelled"`
	Overdue         int64   `json:"overdue"`
	AverageProgress float64 `json:"average_progress"`
	progressSum     int64
	items           int64
}

// CompletionReport is the completion report.
type CompletionReport struct {
	Rows  []CompletionRow `json:"rows"`
	Total CompletionRow   `json:"total"`
}

// Completion counts items by their stage on the day, the overdue ones on top, and the average
// reported progress.
func (r *Reports) Completion(ctx context.Context, kind, groupBy string, q Query) (CompletionReport, error) {
	switch kind {
	case "", "model", "project":
	default:
		return CompletionReport{}, fmt.Errorf("kind %q: want model or project: %w", kind, ErrBadQuery)
	}
	switch groupBy {
	case "unit", "unit_kind", "pillar", "sector":
	default:
		return CompletionReport{}, fmt.Errorf("group_by %q: want unit, unit_kind, pillar or sector: %w", groupBy, ErrBadQuery)
	}
	rows := map[string]*CompletionRow{}
	total := CompletionRow{Key: "total"}
	_, err := r.load(ctx, q, kind, false, func(s *snapshot, it *itemRow) {
		k, _ := s.key(it, groupBy)
		if rows[k] == nil {
			rows[k] = &CompletionRow{Key: k}
		}
		for _, rw := range []*CompletionRow{rows[k], &total} {
			switch it.stage {
			case "proposed":
				rw.Proposed++
			case "funded":
				rw.Funded++
			case "implemented":
				rw.Implemented++
			case "evaluated":
				rw.Evaluated++
			case "suspended":
				rw.Suspended++
			case "cancelled":
				rw.Cancelled++
			}
			switch it.stage {
			case "implemented", "evaluated", "cancelled":
			default:
				if !it.endDate.IsZero() && s.asOf.After(it.endDate) {
					rw.Overdue++
				}
			}
			rw.items++
			rw.progressSum += int64(it.progress)
		}
	})
	if err != nil {
		return CompletionReport{}, fmt.Errorf("completion: %w", err)
	}
	out := CompletionReport{Rows: []CompletionRow{}}
	for _, rw := range rows {
		rw.AverageProgress = average(rw.progressSum, rw.items)
		out.Rows = append(out.Rows, *rw)
	}
	total.AverageProgress = average(total.progressSum, total.items)
	out.Total = total
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Key < out.Rows[j].Key })
	return out, nil
}

func average(sum, n int64) float64 {
	if n == 0 {
		return 0
	}
	return math.Round(float64(sum)/float64(n)*10) / 10
}
