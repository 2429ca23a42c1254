// Package projections answers the report calls of the adapters (httpapi, webui) from the read
// models' tables: funding gaps, model counts and completion "as of" a business day and "as
// known at" a past moment, lists, worklists and duplicate candidates. The read models are in
// projections/readmodel and their runner in projections/projector; this package runs neither.
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
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/projections/readmodel"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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

// snapshot holds the units as merged and split on asOf, as known at knownAt.
type snapshot struct {
	asOf  civil.Date
	units map[string]string // code → kind
	merge map[string]string // code → successor, merges in effect
	// split: code → item id → successor, splits in effect; item id "" is the rest's.
	split map[string]map[string]string
}

// part is a partial aggregate: items of one unit, pillar, sector and stage, summed. Both paths
// produce parts — "now" from the group sums kept with pj_item_current, "as of" from the group
// deltas, both written by the one fold of projections/readmodel (fold.go) — and the reports
// combine parts the same way, so the two cannot disagree on how a row is counted.
type part struct {
	// resolved: unit is already the successor the item went to (splitAway), not its own unit.
	resolved                                                 bool
	unit, pillar, sector                                     string
	stage                                                    item.Stage
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
	s := &snapshot{asOf: asOf, units: map[string]string{}, merge: map[string]string{}, split: map[string]map[string]string{}}
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
	for rows.Next() {
		var code, into string
		if err := rows.Scan(&code, &into); err != nil {
			rows.Close()
			return nil, err
		}
		s.merge[code] = into
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = r.pool.Query(ctx, `SELECT code, item_id, into_code FROM pj_unit_splits WHERE effective_date <= $1 AND recorded_at <= $2`,
		asOf.Time(utc), knownAt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var code, id, into string
		if err := rows.Scan(&code, &id, &into); err != nil {
			return nil, err
		}
		if s.split[code] == nil {
			s.split[code] = map[string]string{}
		}
		s.split[code][id] = into
	}
	return s, rows.Err()
}

// throughSplit reports whether the history of unit code passes a split in effect: its items
// then go to successors that depend on the item.
func (s *snapshot) throughSplit(code string) bool {
	for range len(s.merge) + len(s.split) + 1 {
		if into, ok := s.merge[code]; ok {
			code = into
			continue
		}
		return s.split[code] != nil
	}
	return false
}

// splitAway replaces, for a report grouped by unit, the parts of the units whose history
// passes a split in effect by their items' own parts (readmodel.ItemParts, the same fold),
// each keyed by the unit the item went to: a group row cannot say that.
func (r *Reports) splitAway(ctx context.Context, s *snapshot, parts []part, kind string, knownAt time.Time) ([]part, error) {
	if len(s.split) == 0 {
		return parts, nil
	}
	var units []string
	for code := range s.units {
		if s.throughSplit(code) {
			units = append(units, code)
		}
	}
	if len(units) == 0 {
		return parts, nil
	}
	kept := parts[:0]
	for _, p := range parts {
		if !s.throughSplit(p.unit) {
			kept = append(kept, p)
		}
	}
	items, err := readmodel.ItemParts(ctx, r.pool, units, kind, s.asOf, knownAt)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		kept = append(kept, part{unit: s.itemSuccessor(it.Unit, it.ItemID), pillar: it.Pillar, sector: it.Sector, stage: it.Stage,
			items: it.Items, distinct: it.Distinct, overdue: it.Overdue, withGap: it.WithGap, estimated: it.Estimated,
			requested: it.Requested, approved: it.Approved, disbursed: it.Disbursed, gap: it.Gap, progress: it.Progress,
			resolved: true})
	}
	return kept, nil
}

// itemSuccessor follows the merges and splits in effect on the snapshot's day from the item's
// unit.
func (s *snapshot) itemSuccessor(code, itemID string) string {
	for range len(s.merge) + len(s.split) + 1 {
		if into, ok := s.merge[code]; ok {
			code = into
			continue
		}
		sp, ok := s.split[code]
		if !ok {
			return code
		}
		into, ok := sp[itemID]
		if !ok {
			into = sp[""]
		}
		code = into
	}
	return code
}

// parts returns the partial aggregates of the items of kind ("" for all) as they stood on the
// query's day, as known at its moment, and, when money is set, their money by source and year.
// A report grouped by groupBy reads only the dimension it needs: parts of a past day or moment
// carry only that one of unit, pillar and sector.
//
// Only the completion report counts overdue items; the others pass overdue false and skip
// that count, the one figure of today that is not kept summed.
func (r *Reports) parts(ctx context.Context, q Query, kind, groupBy string, money, overdue bool) (*snapshot, []part, []moneyPart, error) {
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
		dim := groupBy
		switch groupBy {
		case "unit_kind":
			dim = "unit"
		case "source", "year":
			dim = "pillar" // only the total: the fewest rows
		}
		if q.KnownAt.IsZero() {
			parts, moneys, err = r.allParts(ctx, asOf, kind, dim, money)
		} else {
			parts, moneys, err = r.deltaParts(ctx, asOf, knownAt, kind, dim, money)
		}
	}
	if err == nil && groupBy == "unit" {
		parts, err = r.splitAway(ctx, s, parts, kind, knownAt)
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
	type groupKey struct {
		unit, pillar, sector string
		stage                item.Stage
	}
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

// allParts is deltaParts as known now (a query without known_at, the common case): the sums of
// every group delta dated on or before asOf, whatever its recording moment, kept per month and
// per day (pj_group_all_sums): the months before asOf's and the days of its month up to asOf.
func (r *Reports) allParts(ctx context.Context, asOf civil.Date, kind, dim string, money bool) ([]part, []moneyPart, error) {
	args := pgx.NamedArgs{"dim": dim, "kind": kind, "day": asOf.Time(utc), "cut": monthCut(asOf).Time(utc)}
	var b pgx.Batch
	b.Queue(groupAllSQL, args)
	if money {
		b.Queue(moneyAllSQL, args)
	}
	return r.sendParts(ctx, &b, dim, money)
}

// monthCut is the first day not summed by whole months for a report as of asOf: the first of
// its month, or of the next month when asOf ends its month (no single rows needed then).
func monthCut(asOf civil.Date) civil.Date {
	if next := asOf.AddDays(1); next.Day == 1 {
		return next
	}
	return civil.Date{Year: asOf.Year, Month: asOf.Month, Day: 1}
}

// groupAllSQL sums pj_group_all_sums: the months before @cut and the days from @cut to @day.
const groupAllSQL = `SELECT key, stage, sum(items)::bigint, sum(distinct_models)::bigint, sum(with_gap)::bigint,
		sum(overdue)::bigint, sum(estimated_vnd)::bigint, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint,
		sum(disbursed_vnd)::bigint, sum(gap_vnd)::bigint, sum(progress)::bigint
	FROM (
		SELECT key, stage, items, distinct_models, with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd,
			disbursed_vnd, gap_vnd, progress
		FROM pj_group_all_sums
		WHERE dim = @dim AND span = 'month' AND day < @cut AND (@kind = '' OR kind = @kind)
		UNION ALL
		SELECT key, stage, items, distinct_models, with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd,
			disbursed_vnd, gap_vnd, progress
		FROM pj_group_all_sums
		WHERE dim = @dim AND span = 'day' AND day >= @cut AND day <= @day AND (@kind = '' OR kind = @kind)) d
	GROUP BY key, stage
	HAVING sum(items) <> 0`

// moneyAllSQL is groupAllSQL for money by source and year.
const moneyAllSQL = `SELECT source, year, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint, sum(disbursed_vnd)::bigint
	FROM (
		SELECT source, year, requested_vnd, approved_vnd, disbursed_vnd
		FROM pj_money_all_sums
		WHERE span = 'month' AND day < @cut AND (@kind = '' OR kind = @kind)
		UNION ALL
		SELECT source, year, requested_vnd, approved_vnd, disbursed_vnd
		FROM pj_money_all_sums
		WHERE span = 'day' AND day >= @cut AND day <= @day AND (@kind = '' OR kind = @kind)) d
	GROUP BY source, year
	HAVING sum(requested_vnd) <> 0 OR sum(approved_vnd) <> 0 OR sum(disbursed_vnd) <> 0`

// deltaParts sums the group deltas (deltas.go) recorded by knownAt and dated on or before
// asOf, grouped by one dimension of the reports (dim: unit, pillar or sector; the parts carry
// only that one) and stage: the closed buckets' month sums for the months before asOf's, and
// the single rows for asOf's month and for the bucket that holds knownAt.
func (r *Reports) deltaParts(ctx context.Context, asOf civil.Date, knownAt time.Time, kind, dim string, money bool) ([]part, []moneyPart, error) {
	var (
		bucket int
		starts pgtype.Timestamptz
	)
	err := r.pool.QueryRow(ctx, `SELECT bucket, starts_at FROM pj_delta_buckets WHERE starts_at <= $1
		ORDER BY bucket DESC LIMIT 1`, knownAt).Scan(&bucket, &starts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	// Whole months come from the sums; a day that ends its month needs no single rows.
	args := pgx.NamedArgs{"dim": dim, "kind": kind, "day": asOf.Time(utc), "cut": monthCut(asOf).Time(utc), "known": knownAt,
		"bucket": bucket, "starts": starts}
	var b pgx.Batch
	b.Queue(groupDeltasSQL, args)
	if money {
		b.Queue(moneyDeltasSQL, args)
	}
	return r.sendParts(ctx, &b, dim, money)
}

// sendParts reads the parts of one dimension (and the money, when money is set) that the
// batch's queries return, in that order.
func (r *Reports) sendParts(ctx context.Context, b *pgx.Batch, dim string, money bool) ([]part, []moneyPart, error) {
	res := r.pool.SendBatch(ctx, b)
	defer res.Close()
	rows, err := res.Query()
	if err != nil {
		return nil, nil, err
	}
	parts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (part, error) {
		var (
			p   part
			key string
		)
		err := row.Scan(&key, &p.stage, &p.items, &p.distinct, &p.withGap, &p.overdue, &p.estimated, &p.requested,
			&p.approved, &p.disbursed, &p.gap, &p.progress)
		switch dim {
		case "unit":
			p.unit = key
		case "pillar":
			p.pillar = key
		default:
			p.sector = key
		}
		return p, err
	})
	if err != nil || !money {
		return parts, nil, err
	}
	rows, err = res.Query()
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

// groupDeltasSQL sums the group deltas dated on or before @day and recorded by @known, in
// three disjoint parts: months before @cut recorded before @starts (the sums kept for the
// bucket before @bucket), days from @cut to @day recorded before @starts, and every day up to
// @day recorded from @starts to @known (the bucket holding @known).
const groupDeltasSQL = `SELECT key, stage, sum(items)::bigint, sum(distinct_models)::bigint, sum(with_gap)::bigint,
		sum(overdue)::bigint, sum(estimated_vnd)::bigint, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint,
		sum(disbursed_vnd)::bigint, sum(gap_vnd)::bigint, sum(progress)::bigint
	FROM (
		SELECT key, stage, items, distinct_models, with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd,
			disbursed_vnd, gap_vnd, progress
		FROM pj_group_delta_sums
		WHERE bucket = @bucket::int - 1 AND dim = @dim AND month < @cut AND (@kind = '' OR kind = @kind)
		UNION ALL
		SELECT CASE @dim::text WHEN 'unit' THEN unit_code WHEN 'pillar' THEN pillar ELSE sector END, stage, items,
			distinct_models, with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress
		FROM pj_group_deltas
		WHERE day >= @cut AND day <= @day AND recorded_at < @starts AND (@kind = '' OR kind = @kind)
		UNION ALL
		SELECT CASE @dim::text WHEN 'unit' THEN unit_code WHEN 'pillar' THEN pillar ELSE sector END, stage, items,
			distinct_models, with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress
		FROM pj_group_deltas
		WHERE recorded_at >= @starts AND recorded_at <= @known AND day <= @day AND (@kind = '' OR kind = @kind)) d
	GROUP BY key, stage
	HAVING sum(items) <> 0`

// moneyDeltasSQL is groupDeltasSQL for money by source and year.
const moneyDeltasSQL = `SELECT source, year, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint, sum(disbursed_vnd)::bigint
	FROM (
		SELECT source, year, requested_vnd, approved_vnd, disbursed_vnd
		FROM pj_money_delta_sums
		WHERE bucket = @bucket::int - 1 AND month < @cut AND (@kind = '' OR kind = @kind)
		UNION ALL
		SELECT source, year, requested_vnd, approved_vnd, disbursed_vnd
		FROM pj_money_deltas
		WHERE day >= @cut AND day <= @day AND recorded_at < @starts AND (@kind = '' OR kind = @kind)
		UNION ALL
		SELECT source, year, requested_vnd, approved_vnd, disbursed_vnd
		FROM pj_money_deltas
		WHERE recorded_at >= @starts AND recorded_at <= @known AND day <= @day AND (@kind = '' OR kind = @kind)) d
	GROUP BY source, year
	HAVING sum(requested_vnd) <> 0 OR sum(approved_vnd) <> 0 OR sum(disbursed_vnd) <> 0`

// successor follows the merges (and of splits, the rest) in effect on the snapshot's day.
func (s *snapshot) successor(code string) string { return s.itemSuccessor(code, "") }

// key is the row a part counts in. Grouped by unit, the successor its items belong to on the
// report's day; grouped by unit kind, the kind of the unit the items belonged to when their
// facts happened — the item's own unit, whatever became of it (DESIGN.md invariant 12: a 2022
// district registration stays "district" in every report).
func (s *snapshot) key(p part, groupBy string) string {
	switch groupBy {
	case "unit":
		if p.resolved {
			return p.unit
		}
		return s.successor(p.unit)
	case "unit_kind":
		return s.units[p.unit]
	case "pillar":
		return p.pillar
	}
	return p.sector
}

// FundingGapRow is one row of the funding-gaps report (API.md). ItemsWithGap is null where
// the gap is (rows grouped by source or year).
type FundingGapRow struct {
	Key          string `json:"key"`
	Estimated    *int64 `json:"estimated_vnd"`
	Requested    int64  `json:"requested_vnd"`
	Approved     int64  `json:"approved_vnd"`
	Disbursed    int64  `json:"disbursed_vnd"`
	Gap          *int64 `json:"gap_vnd"`
	ItemsWithGap *int64 `json:"items_with_gap"`
}

// FundingGapReport is the funding-gaps report.
type FundingGapReport struct {
	Rows  []FundingGapRow `json:"rows"`
	Total FundingGapRow   `json:"total"`
	// SetAsideEvents counts the stored events the projections behind the report could not
	// apply (API.md): 0 normally; anything else means the figures leave those out.
	SetAsideEvents int64 `json:"set_aside_events"`
}

func (row *FundingGapRow) addPart(p part) {
	*row.Estimated += p.estimated
	*row.Gap += p.gap
	row.Requested += p.requested
	row.Approved += p.approved
	row.Disbursed += p.disbursed
	*row.ItemsWithGap += p.withGap
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
	s, parts, moneys, err := r.parts(ctx, q, "", groupBy, byMoney, false)
	if err != nil {
		return FundingGapReport{}, fmt.Errorf("funding gaps: %w", err)
	}
	rows := map[string]*FundingGapRow{}
	total := FundingGapRow{Key: "total", Estimated: new(int64), Gap: new(int64), ItemsWithGap: new(int64)}
	for _, p := range parts {
		if p.stage == item.StageCancelled {
			continue
		}
		total.addPart(p)
		if byMoney {
			continue
		}
		k := s.key(p, groupBy)
		if rows[k] == nil {
			rows[k] = &FundingGapRow{Key: k, Estimated: new(int64), Gap: new(int64), ItemsWithGap: new(int64)}
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
	if out.SetAsideEvents, err = r.setAsideEvents(ctx); err != nil {
		return out, fmt.Errorf("funding gaps: %w", err)
	}
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
	// SetAsideEvents: see FundingGapReport.
	SetAsideEvents int64 `json:"set_aside_events"`
}

// ModelCounts counts model registrations and distinct models (a registration marked the same
// as another is not distinct; a distinct model counts in its own registration's group).
func (r *Reports) ModelCounts(ctx context.Context, groupBy string, q Query) (ModelCountReport, error) {
	switch groupBy {
	case "unit", "unit_kind", "pillar", "sector":
	default:
		return ModelCountReport{}, fmt.Errorf("group_by %q: want unit, unit_kind, pillar or sector: %w", groupBy, ErrBadQuery)
	}
	s, parts, _, err := r.parts(ctx, q, "model", groupBy, false, false)
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
	if out.SetAsideEvents, err = r.setAsideEvents(ctx); err != nil {
		return out, fmt.Errorf("model counts: %w", err)
	}
	return out, nil
}

// CompletionRow is one row of the completion report. AverageProgress is the mean progress of
// the row's items that are not cancelled (0 when there are none): a cancelled item's progress
// is no part of how far the work has come.
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
	// SetAsideEvents: see FundingGapReport.
	SetAsideEvents int64 `json:"set_aside_events"`
}

func (row *CompletionRow) addPart(p part) {
	switch p.stage {
	case item.StageProposed:
		row.Proposed += p.items
	case item.StageFunded:
		row.Funded += p.items
	case item.StageImplemented:
		row.Implemented += p.items
	case item.StageEvaluated:
		row.Evaluated += p.items
	case item.StageSuspended:
		row.Suspended += p.items
	case item.StageCancelled:
		row.Cancelled += p.items
	}
	row.Overdue += p.overdue
	if p.stage != item.StageCancelled {
		row.items += p.items
		row.progressSum += p.progress
	}
}

// Completion counts items by their stage on the day, the overdue ones on top, and the average
// reported progress of those not cancelled.
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
	s, parts, _, err := r.parts(ctx, q, kind, groupBy, false, true)
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
	if out.SetAsideEvents, err = r.setAsideEvents(ctx); err != nil {
		return out, fmt.Errorf("completion: %w", err)
	}
	return out, nil
}

func average(sum, n int64) float64 {
	if n == 0 {
		return 0
	}
	return math.Round(float64(sum)/float64(n)*10) / 10
}
