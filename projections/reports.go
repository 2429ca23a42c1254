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
	"github.com/jackc/pgx/v5"
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

// snapshot holds the units as merged on asOf, as known at knownAt.
type snapshot struct {
	asOf  civil.Date
	units map[string]string // code → kind
	merge map[string]string // code → successor, merges in effect
}

// part is a partial aggregate: items of one unit, pillar, sector and stage, summed. Both paths
// produce parts — "now" with SQL GROUP BY over pj_item_current, "as of" by folding each item's
// facts — and the reports combine parts the same way, so the two cannot disagree on how a
// row is counted.
type part struct {
	unit, pillar, sector, stage                              string
	items, distinct, overdue, withGap                        int64
	estimated, requested, approved, disbursed, gap, progress int64
}

// moneyPart is money of one funding source and year, of items that are not cancelled.
type moneyPart struct {
	source                         string
	year                           int
	requested, approved, disbursed int64
}

type sums struct{ requested, approved, disbursed int64 }

type sourceYear struct {
	source string
	year   int
}

// units reads the units and the merges in effect on asOf, as known at knownAt.
func (r *Reports) units(ctx context.Context, asOf civil.Date, knownAt time.Time) (*snapshot, error) {
	s := &snapshot{asOf: asOf, units: map[string]string{}, merge: map[string]string{}}
	rows, err := r.pool.Query(ctx, `SELECT code, kind FROM pj_units WHERE recorded_at <= $1`, knownAt)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var code, kind string
		if err := rows.Scan(&code, &kind); err != nil {
			rows.Close()
			return nil, err
		}
		s.units[code] = kind
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = r.pool.Query(ctx, `SELECT code, into_code FROM pj_unit_merges WHERE effective_date <= $1 AND recorded_at <= $2`,
		asOf.Time(utc), knownAt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var code, into string
		if err := rows.Scan(&code, &into); err != nil {
			return nil, err
		}
		s.merge[code] = into
	}
	return s, rows.Err()
}

// parts returns the partial aggregates of the items of kind ("" for all) as they stood on the
// query's day, as known at its moment, and, when money is set, their money by source and year.
//
// Only the completion report counts overdue items; the others pass overdue false and skip
// that count, the one figure of today that is not kept summed.
func (r *Reports) parts(ctx context.Context, q Query, kind string, money, overdue bool) (*snapshot, []part, []moneyPart, error) {
	asOf, knownAt := r.resolve(q)
	s, err := r.units(ctx, asOf, knownAt)
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		parts  []part
		moneys []moneyPart
	)
	if q == (Query{}) {
		parts, moneys, err = r.currentParts(ctx, asOf, kind, money, overdue)
	} else {
		parts, moneys, err = r.foldedParts(ctx, asOf, knownAt, kind, money)
	}
	return s, parts, moneys, err
}

// currentParts reads today's parts, already summed by the projection (pj_group_current), and
// counts the overdue items, which depend on the day rather than on events, from the items
// past their end date.
func (r *Reports) currentParts(ctx context.Context, today civil.Date, kind string, money, overdue bool) ([]part, []moneyPart, error) {
	rows, err := r.pool.Query(ctx, `SELECT unit_code, pillar, sector, stage, sum(items)::bigint, sum(distinct_models)::bigint,
			sum(with_gap)::bigint, sum(estimated_vnd)::bigint, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint,
			sum(disbursed_vnd)::bigint, sum(gap_vnd)::bigint, sum(progress)::bigint
		FROM pj_group_current WHERE $1 = '' OR kind = $1
		GROUP BY unit_code, pillar, sector, stage`, kind)
	if err != nil {
		return nil, nil, err
	}
	parts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (part, error) {
		var p part
		err := row.Scan(&p.unit, &p.pillar, &p.sector, &p.stage, &p.items, &p.distinct, &p.withGap,
			&p.estimated, &p.requested, &p.approved, &p.disbursed, &p.gap, &p.progress)
		return p, err
	})
	if err != nil {
		return nil, nil, err
	}
	if !overdue {
		return r.currentMoney(ctx, parts, kind, money)
	}
	type groupKey struct{ unit, pillar, sector, stage string }
	index := make(map[groupKey]int, len(parts))
	for i, p := range parts {
		index[groupKey{p.unit, p.pillar, p.sector, p.stage}] = i
	}
	// Overdue: the open items whose planned end falls in a month before this one, kept
	// summed, and this month's open items whose end is before today.
	monthStart := civil.Date{Year: today.Year, Month: today.Month, Day: 1}.Time(utc)
	rows, err = r.pool.Query(ctx, `SELECT unit_code, pillar, sector, stage, sum(n)::bigint FROM (
			SELECT unit_code, pillar, sector, stage, items AS n FROM pj_group_open_end
			WHERE end_month < $3 AND ($1 = '' OR kind = $1)
			UNION ALL
			SELECT unit_code, pillar, sector, stage, 1 FROM pj_item_current
			WHERE end_date >= $3 AND end_date < $2 AND stage NOT IN ('implemented', 'evaluated', 'cancelled')
			  AND ($1 = '' OR kind = $1)) o
		GROUP BY unit_code, pillar, sector, stage`, kind, today.Time(utc), monthStart)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var (
			k groupKey
			n int64
		)
		if err := rows.Scan(&k.unit, &k.pillar, &k.sector, &k.stage, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if i, ok := index[k]; ok {
			parts[i].overdue = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return r.currentMoney(ctx, parts, kind, money)
}

// currentMoney adds today's money by source and year when money is set.
func (r *Reports) currentMoney(ctx context.Context, parts []part, kind string, money bool) ([]part, []moneyPart, error) {
	if !money {
		return parts, nil, nil
	}
	rows, err := r.pool.Query(ctx, `SELECT source, year, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint,
			sum(disbursed_vnd)::bigint
		FROM pj_group_money WHERE NOT cancelled AND ($1 = '' OR kind = $1)
		GROUP BY source, year`, kind)
	if err != nil {
		return nil, nil, err
	}
	moneys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moneyPart, error) {
		var m moneyPart
		err := row.Scan(&m.source, &m.year, &m.requested, &m.approved, &m.disbursed)
		return m, err
	})
	return parts, moneys, err
}

// foldedParts folds every item's facts dated on or before asOf and recorded by knownAt, in
// stream order (the order a replay of the filtered events would use), one item at a time.
func (r *Reports) foldedParts(ctx context.Context, asOf civil.Date, knownAt time.Time, kind string, money bool) ([]part, []moneyPart, error) {
	day := asOf.Time(utc)
	rows, err := r.pool.Query(ctx, `SELECT i.item_id, i.unit_code, i.pillar, i.sector, i.estimated_vnd, i.end_date,
			f.fact, f.source, f.year, f.amount, f.stage, f.percent, f.ref
		FROM pj_items i JOIN pj_item_facts f USING (item_id)
		WHERE i.proposed_on <= $1 AND i.recorded_at <= $2 AND f.occurred_on <= $1 AND f.recorded_at <= $2
		  AND ($3 = '' OR i.kind = $3)
		ORDER BY f.item_id, f.version`, day, knownAt, kind)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type partKey struct{ unit, pillar, sector, stage string }
	parts := map[partKey]*part{}
	moneys := map[sourceYear]*sums{}
	type itemState struct {
		id, unit, pillar, sector, stage, sameAs string
		estimated                               int64
		end                                     *time.Time
		progress                                int64
		total                                   sums
		money                                   map[sourceYear]*sums
	}
	var cur *itemState
	flush := func() {
		if cur == nil {
			return
		}
		k := partKey{cur.unit, cur.pillar, cur.sector, cur.stage}
		p := parts[k]
		if p == nil {
			p = &part{unit: k.unit, pillar: k.pillar, sector: k.sector, stage: k.stage}
			parts[k] = p
		}
		gap := max(0, cur.estimated-cur.total.approved)
		p.items++
		if cur.sameAs == "" {
			p.distinct++
		}
		switch cur.stage {
		case "implemented", "evaluated", "cancelled":
		default:
			if cur.end != nil && asOf.After(civil.Of(*cur.end)) {
				p.overdue++
			}
		}
		if gap > 0 {
			p.withGap++
		}
		p.estimated += cur.estimated
		p.requested += cur.total.requested
		p.approved += cur.total.approved
		p.disbursed += cur.total.disbursed
		p.gap += gap
		p.progress += cur.progress
		if money && cur.stage != "cancelled" {
			for mk, m := range cur.money {
				if moneys[mk] == nil {
					moneys[mk] = &sums{}
				}
				moneys[mk].requested += m.requested
				moneys[mk].approved += m.approved
				moneys[mk].disbursed += m.disbursed
			}
		}
	}
	for rows.Next() {
		var (
			it                       itemState
			fact, source, stage, ref string
			year, percent            int
			amount                   int64
		)
		if err := rows.Scan(&it.id, &it.unit, &it.pillar, &it.sector, &it.estimated, &it.end,
			&fact, &source, &year, &amount, &stage, &percent, &ref); err != nil {
			return nil, nil, err
		}
		if cur == nil || cur.id != it.id {
			flush()
			cur = &it
			cur.money = map[sourceYear]*sums{}
		}
		add := func(f func(*sums)) {
			f(&cur.total)
			mk := sourceYear{source, year}
			if cur.money[mk] == nil {
				cur.money[mk] = &sums{}
			}
			f(cur.money[mk])
		}
		switch fact {
		case "requested":
			add(func(m *sums) { m.requested += amount })
		case "approved":
			add(func(m *sums) { m.approved += amount })
		case "disbursed":
			add(func(m *sums) { m.disbursed += amount })
		case "progress":
			cur.progress = int64(percent)
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
		return nil, nil, err
	}
	flush()
	out := make([]part, 0, len(parts))
	for _, p := range parts {
		out = append(out, *p)
	}
	outM := make([]moneyPart, 0, len(moneys))
	for k, m := range moneys {
		outM = append(outM, moneyPart{source: k.source, year: k.year, requested: m.requested, approved: m.approved, disbursed: m.disbursed})
	}
	return out, outM, nil
}

// successor follows the merges in effect on the snapshot's day.
func (s *snapshot) successor(code string) string {
	for range len(s.merge) + 1 {
		into, ok := s.merge[code]
		if !ok {
			return code
		}
		code = into
	}
	return code
}

func (s *snapshot) key(p part, groupBy string) string {
	switch groupBy {
	case "unit":
		return s.successor(p.unit)
	case "unit_kind":
		return s.units[s.successor(p.unit)]
	case "pillar":
		return p.pillar
	}
	return p.sector
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

func (row *FundingGapRow) addPart(p part) {
	*row.Estimated += p.estimated
	*row.Gap += p.gap
	row.Requested += p.requested
	row.Approved += p.approved
	row.Disbursed += p.disbursed
	row.ItemsWithGap += p.withGap
}

// FundingGaps groups estimated, requested, approved and disbursed money and the gap by unit,
// pillar, sector, source or year. Cancelled items are left out. Grouped by source or year, a
// row has no estimate and no gap: those belong to the item; the total carries them.
func (r *Reports) FundingGaps(ctx context.Context, groupBy string, q Query) (FundingGapReport, error) {
	byMoney := groupBy == "source" || groupBy == "year"
	switch groupBy {
	case "unit", "pillar", "sector", "source", "year":
	default:
		return FundingGapReport{}, fmt.Errorf("group_by %q: want unit, pillar, sector, source or year: %w", groupBy, ErrBadQuery)
	}
	s, parts, moneys, err := r.parts(ctx, q, "", byMoney, false)
	if err != nil {
		return FundingGapReport{}, fmt.Errorf("funding gaps: %w", err)
	}
	rows := map[string]*FundingGapRow{}
	total := FundingGapRow{Key: "total", Estimated: new(int64), Gap: new(int64)}
	for _, p := range parts {
		if p.stage == "cancelled" {
			continue
		}
		total.addPart(p)
		if byMoney {
			continue
		}
		k := s.key(p, groupBy)
		if rows[k] == nil {
			rows[k] = &FundingGapRow{Key: k, Estimated: new(int64), Gap: new(int64)}
		}
		rows[k].addPart(p)
	}
	for _, m := range moneys {
		k := m.source
		if groupBy == "year" {
			k = strconv.Itoa(m.year)
		}
		if rows[k] == nil {
			rows[k] = &FundingGapRow{Key: k}
		}
		rows[k].Requested += m.requested
		rows[k].Approved += m.approved
		rows[k].Disbursed += m.disbursed
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
	s, parts, _, err := r.parts(ctx, q, "model", false, false)
	if err != nil {
		return ModelCountReport{}, fmt.Errorf("model counts: %w", err)
	}
	rows := map[string]*ModelCountRow{}
	var out ModelCountReport
	for _, p := range parts {
		k := s.key(p, groupBy)
		if rows[k] == nil {
			rows[k] = &ModelCountRow{Key: k}
		}
		rows[k].Registrations += p.items
		rows[k].DistinctModels += p.distinct
		out.Total.Registrations += p.items
		out.Total.DistinctModels += p.distinct
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

func (row *CompletionRow) addPart(p part) {
	switch p.stage {
	case "proposed":
		row.Proposed += p.items
	case "funded":
		row.Funded += p.items
	case "implemented":
		row.Implemented += p.items
	case "evaluated":
		row.Evaluated += p.items
	case "suspended":
		row.Suspended += p.items
	case "cancelled":
		row.Cancelled += p.items
	}
	row.Overdue += p.overdue
	row.items += p.items
	row.progressSum += p.progress
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
	s, parts, _, err := r.parts(ctx, q, kind, false, true)
	if err != nil {
		return CompletionReport{}, fmt.Errorf("completion: %w", err)
	}
	rows := map[string]*CompletionRow{}
	total := CompletionRow{Key: "total"}
	for _, p := range parts {
		k := s.key(p, groupBy)
		if rows[k] == nil {
			rows[k] = &CompletionRow{Key: k}
		}
		rows[k].addPart(p)
		total.addPart(p)
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
