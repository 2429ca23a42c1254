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
	"strings"
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
	pool querier // the serving pool; one connection while WarmUp runs on it
	now  func() time.Time
	loc  *time.Location
	// quadrant, when set ('A'..'D'), is the quadrant a report known at a past moment reads
	// instead of the one pickQuadrant expects smallest (tests: every quadrant gives the same).
	quadrant byte
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

// queueUnits queues the reads of the units and the merges and splits in effect on asOf, as
// known at knownAt, into b: the snapshot is filled when the batch is sent. The three tables are
// small (one row per unit, merge or split); queued with the report's own queries they cost no
// round trip of their own.
func queueUnits(b *pgx.Batch, asOf civil.Date, knownAt time.Time) *snapshot {
	s := &snapshot{asOf: asOf, units: map[string]string{}, merge: map[string]string{}, split: map[string]map[string]string{}}
	b.Queue(`SELECT code, kind FROM pj_units WHERE recorded_at <= $1`, knownAt).Query(func(rows pgx.Rows) error {
		var code, kind string
		_, err := pgx.ForEachRow(rows, []any{&code, &kind}, func() error { s.units[code] = kind; return nil })
		return err
	})
	b.Queue(`SELECT code, into_code FROM pj_unit_merges WHERE effective_date <= $1 AND recorded_at <= $2`,
		asOf.Time(utc), knownAt).Query(func(rows pgx.Rows) error {
		var code, into string
		_, err := pgx.ForEachRow(rows, []any{&code, &into}, func() error { s.merge[code] = into; return nil })
		return err
	})
	b.Queue(`SELECT code, item_id, into_code FROM pj_unit_splits WHERE effective_date <= $1 AND recorded_at <= $2`,
		asOf.Time(utc), knownAt).Query(func(rows pgx.Rows) error {
		var code, id, into string
		_, err := pgx.ForEachRow(rows, []any{&code, &id, &into}, func() error {
			if s.split[code] == nil {
				s.split[code] = map[string]string{}
			}
			s.split[code][id] = into
			return nil
		})
		return err
	})
	return s
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

// reading is what one report call reads: the units as merged and split on its day, its parts,
// its money (when asked) and the count of set-aside events.
type reading struct {
	s        *snapshot
	parts    []part
	moneys   []moneyPart
	setAside int64
}

// parts returns the partial aggregates of the items of kind ("" for all) as they stood on the
// query's day, as known at its moment, and, when money is set, their money by source and year.
// A report grouped by groupBy reads only the dimension it needs: the parts carry only that one
// of unit, pillar and sector.
//
// Only the completion report counts overdue items; the others pass overdue false and skip
// that count, the one figure of today that is not kept summed.
//
// Everything is read in one round trip (one pgx.Batch: the units, the parts, the money, the
// set-aside count); a report known at a past moment first reads which bucket of recording time
// holds that moment (deltaPlan), and a report grouped by unit whose units were split folds the
// split units' items afterwards (splitAway).
func (r *Reports) parts(ctx context.Context, q Query, kind, groupBy string, money, overdue bool) (reading, error) {
	asOf, knownAt := r.resolve(q)
	var (
		out    reading
		b      pgx.Batch
		finish func()
	)
	dim := groupBy
	switch groupBy {
	case "unit_kind":
		dim = "unit"
	case "source", "year":
		dim = "pillar" // only the total: the fewest rows
	}
	var plan *deltaPlan
	if q != (Query{}) && !q.KnownAt.IsZero() {
		var err error
		if plan, err = r.deltaPlan(ctx, asOf, knownAt); err != nil {
			return out, err
		}
	}
	queueSerial(&b)
	out.s = queueUnits(&b, asOf, knownAt)
	switch {
	case q == (Query{}):
		finish = queueCurrent(&b, &out, asOf, kind, dim, money, overdue)
	case q.KnownAt.IsZero():
		args := pgx.NamedArgs{"dim": dim, "kind": kind, "day": asOf.Time(utc), "cut": monthCut(asOf).Time(utc)}
		queueParts(&b, &out, groupAllSQL, args, dim)
		if money {
			queueMoney(&b, &out, moneyAllSQL, args)
		}
	case plan != nil: // nil: nothing was recorded by then, no parts
		args := pgx.NamedArgs{"dim": dim, "kind": kind, "day": asOf.Time(utc), "cut": monthCut(asOf).Time(utc),
			"known": knownAt, "bucket": plan.bucket, "starts": plan.starts}
		if plan.partial { // the days of the quadrant read row by row: up to asOf, or after it
			args["days"] = daysOf(monthCut(asOf), asOf)
			if plan.quadrant == 'C' || plan.quadrant == 'D' {
				args["days"] = daysOf(asOf.AddDays(1), monthLast(asOf))
			}
		}
		queueParts(&b, &out, deltasSQL(groupFamily, plan.quadrant, plan.partial), args, dim)
		if money {
			queueMoney(&b, &out, deltasSQL(moneyFamily, plan.quadrant, plan.partial), args)
		}
	}
	b.Queue(`SELECT count(*) FROM projection_set_aside WHERE projection = ANY($1)`, followed).QueryRow(func(row pgx.Row) error {
		return row.Scan(&out.setAside)
	})
	if err := r.pool.SendBatch(ctx, &b).Close(); err != nil {
		return out, err
	}
	if finish != nil {
		finish()
	}
	if groupBy == "unit" {
		var err error
		if out.parts, err = r.splitAway(ctx, out.s, out.parts, kind, knownAt); err != nil {
			return out, err
		}
	}
	return out, nil
}

// queueSerial queues, first in a report's batch, the settings its queries run with: no
// parallel workers and no JIT compilation. A batch is one implicit transaction (one Sync), so
// set_config(…, true) holds for the batch's queries and ends with it; the pooled connection
// keeps its own settings. A report reads a few thousand rows by index: on the 10 M store the
// planner chose a parallel plan for a report known at a past moment, and starting its two
// workers cost more than the work (EXPLAIN ANALYZE, bucket 306: 162 ms with workers, 55 ms
// without, the same rows and buffers).
func queueSerial(b *pgx.Batch) {
	b.Queue(`SELECT set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)`)
}

// queueParts queues a query returning parts of one dimension (key, stage and the ten figures).
func queueParts(b *pgx.Batch, out *reading, sql string, args pgx.NamedArgs, dim string) {
	b.Queue(sql, args).Query(func(rows pgx.Rows) error {
		var err error
		out.parts, err = collectParts(rows, dim)
		return err
	})
}

// collectParts reads parts of one dimension: key, stage and the ten figures.
func collectParts(rows pgx.Rows, dim string) ([]part, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (part, error) {
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
}

// queueMoney queues a query returning money by source and year.
func queueMoney(b *pgx.Batch, out *reading, sql string, args ...any) {
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var err error
		out.moneys, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (moneyPart, error) {
			var m moneyPart
			err := row.Scan(&m.source, &m.year, &m.requested, &m.approved, &m.disbursed)
			return m, err
		})
		return err
	})
}

// queueCurrent queues the reads of today's parts of one report dimension (dim), already
// summed by the projection (pj_group_current), and of the overdue items, which depend on the
// day rather than on events. Today's overdue count is the report's as of today, as known now:
// the overdue figure of the group deltas summed up to today (pj_group_all_sums: the month
// rows before this month, the day rows of this month up to today). No fact is dated after its
// recording day (the domain refuses a fact in the future), so the deltas up to today hold
// every fact, and an item counts as overdue there exactly when it is not finished and today
// is past its planned end (fold.go, metrics), as pj_item_current would say. Reading them
// costs the report's keys × the months of the programme (3,132 rows by unit on the 10 M
// store, however many events), where the open items by planned end (pj_group_open_end, full
// groups × months: 36,708 rows) and this month's single items (pj_item_current, one heap
// page an item: ~1,000 an elapsed day at 10 M) grew with the store. Both are grouped by the
// dimension's key and stage in SQL: ~50 rows instead of one per full group (810 on the dense
// store). The returned function adds the overdue counts to the parts once the batch has been
// read.
func queueCurrent(b *pgx.Batch, out *reading, today civil.Date, kind, dim string, money, overdue bool) func() {
	args := pgx.NamedArgs{"kind": kind, "dim": dim}
	b.Queue(`SELECT `+dimKey+`, stage, sum(items)::bigint, sum(distinct_models)::bigint,
			sum(with_gap)::bigint, 0::bigint, sum(estimated_vnd)::bigint, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint,
			sum(disbursed_vnd)::bigint, sum(gap_vnd)::bigint, sum(progress)::bigint
		FROM pj_group_current WHERE @kind = '' OR kind = @kind
		GROUP BY 1, stage`, args).Query(func(rows pgx.Rows) error {
		var err error
		out.parts, err = collectParts(rows, dim)
		return err
	})
	type groupKey struct {
		key   string
		stage item.Stage
	}
	type late struct {
		k groupKey
		n int64
	}
	var overdues []late
	if overdue {
		oargs := pgx.NamedArgs{"kind": kind, "dim": dim, "today": today.Time(utc),
			"month": civil.Date{Year: today.Year, Month: today.Month, Day: 1}.Time(utc)}
		b.Queue(`SELECT key, stage, sum(overdue)::bigint FROM pj_group_all_sums
			WHERE dim = @dim AND ((span = 'month' AND day < @month) OR (span = 'day' AND day >= @month AND day <= @today))
			  AND (@kind = '' OR kind = @kind)
			GROUP BY key, stage HAVING sum(overdue) <> 0`, oargs).Query(func(rows pgx.Rows) error {
			var l late
			_, err := pgx.ForEachRow(rows, []any{&l.k.key, &l.k.stage, &l.n}, func() error {
				overdues = append(overdues, l)
				return nil
			})
			return err
		})
	}
	if money {
		queueMoney(b, out, `SELECT source, year, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint,
				sum(disbursed_vnd)::bigint
			FROM pj_group_money WHERE NOT cancelled AND ($1 = '' OR kind = $1)
			GROUP BY source, year`, kind)
	}
	return func() {
		if len(overdues) == 0 {
			return
		}
		index := make(map[groupKey]int, len(out.parts))
		for i, p := range out.parts {
			index[groupKey{p.dimKey(dim), p.stage}] = i
		}
		for _, l := range overdues {
			if i, ok := index[l.k]; ok {
				out.parts[i].overdue = l.n
			}
		}
	}
}

// dimKey is the SQL of a group's key in report dimension @dim.
const dimKey = `CASE @dim::text WHEN 'unit' THEN unit_code WHEN 'pillar' THEN pillar ELSE sector END`

// dimKey is the part's key in report dimension dim.
func (p part) dimKey(dim string) string {
	switch dim {
	case "unit":
		return p.unit
	case "pillar":
		return p.pillar
	}
	return p.sector
}

// monthCut is the first day not summed by whole months for a report as of asOf: the first of
// its month, or of the next month when asOf ends its month (no single rows needed then).
func monthCut(asOf civil.Date) civil.Date {
	if next := asOf.AddDays(1); next.Day == 1 {
		return next
	}
	return civil.Date{Year: asOf.Year, Month: asOf.Month, Day: 1}
}

// monthLast is the last day of asOf's month.
func monthLast(asOf civil.Date) civil.Date {
	return civil.Of(time.Date(asOf.Year, asOf.Month+1, 0, 0, 0, 0, 0, utc))
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

// deltaPlan says how a report known at a past moment reads the group deltas (deltas.go): the
// bucket of recording time that holds the moment, and which quadrant of asOf's month the
// report reads row by row.
type deltaPlan struct {
	bucket   int
	starts   pgtype.Timestamptz
	partial  bool // asOf does not end its month: some of its month's days are read
	quadrant byte // 'A', 'B', 'C' or 'D': see deltasSQL
}

// deltaPlan reads the bucket holding knownAt (nil when nothing was recorded by then) and
// picks the quadrant of asOf's month expected to hold the fewest rows.
func (r *Reports) deltaPlan(ctx context.Context, asOf civil.Date, knownAt time.Time) (*deltaPlan, error) {
	p := &deltaPlan{partial: !monthCut(asOf).After(asOf)}
	var before, total int64 // facts counted in the buckets before p.bucket, and in all
	err := r.pool.QueryRow(ctx, `SELECT b.bucket, b.starts_at,
			(SELECT coalesce(sum(facts), 0)::bigint FROM pj_delta_buckets WHERE bucket < b.bucket),
			(SELECT coalesce(sum(facts), 0)::bigint FROM pj_delta_buckets)
		FROM pj_delta_buckets b WHERE b.starts_at <= $1 ORDER BY b.bucket DESC LIMIT 1`, knownAt).
		Scan(&p.bucket, &p.starts, &before, &total)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.quadrant = r.quadrant
	if p.quadrant == 0 {
		p.quadrant = pickQuadrant(asOf, p.bucket, before, total)
	}
	return p, nil
}

// pickQuadrant picks, of the four quadrants of asOf's month cut by asOf (days up to it, days
// after) and by the start of the bucket holding known_at (rows recorded before, rows recorded
// from then on), the one expected to hold the fewest rows, taking the rows' days and recording
// moments as independent: the share of the month's days, times the share of the facts counted
// before that bucket (before of total).
func pickQuadrant(asOf civil.Date, bucket int, before, total int64) byte {
	if bucket == 0 || total <= 0 {
		return 'A' // nothing recorded before the bucket: quadrant A is empty
	}
	early := float64(before) / float64(total)
	days := float64(asOf.Day) / float64(monthLast(asOf).Day)
	costs := [4]float64{days * early, days * (1 - early), (1 - days) * early, (1 - days) * (1 - early)}
	best := 0
	for i, c := range costs {
		if c < costs[best] {
			best = i
		}
	}
	return byte('A' + best)
}

// family names the tables of one kind of group deltas: the group figures by report dimension,
// or money by source and year.
type family struct {
	raw, all, sums string // the single rows; their sums per day and month; per closed bucket and month
	key, rawKey    string // the key columns of the sums' rows and of the single rows
	dim            string // the condition on the report dimension of the sums' rows
	figures        []string
	outer          string // the select list of the total, its GROUP BY and HAVING (%s: the union)
}

var groupFamily = family{
	raw: "pj_group_deltas", all: "pj_group_all_sums", sums: "pj_group_delta_sums",
	key:    "key, stage",
	rawKey: "CASE @dim::text WHEN 'unit' THEN unit_code WHEN 'pillar' THEN pillar ELSE sector END AS key, stage",
	dim:    "dim = @dim AND ",
	figures: []string{"items", "distinct_models", "with_gap", "overdue", "estimated_vnd", "requested_vnd",
		"approved_vnd", "disbursed_vnd", "gap_vnd", "progress"},
	outer: `SELECT key, stage, sum(items)::bigint, sum(distinct_models)::bigint, sum(with_gap)::bigint,
		sum(overdue)::bigint, sum(estimated_vnd)::bigint, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint,
		sum(disbursed_vnd)::bigint, sum(gap_vnd)::bigint, sum(progress)::bigint
	FROM (%s) d
	GROUP BY key, stage
	HAVING sum(items) <> 0`,
}

var moneyFamily = family{
	raw: "pj_money_deltas", all: "pj_money_all_sums", sums: "pj_money_delta_sums",
	key: "source, year", rawKey: "source, year",
	figures: []string{"requested_vnd", "approved_vnd", "disbursed_vnd"},
	outer: `SELECT source, year, sum(requested_vnd)::bigint, sum(approved_vnd)::bigint, sum(disbursed_vnd)::bigint
	FROM (%s) d
	GROUP BY source, year
	HAVING sum(requested_vnd) <> 0 OR sum(approved_vnd) <> 0 OR sum(disbursed_vnd) <> 0`,
}

// cols is the figures, negated when sign is negative.
func (f family) cols(sign int) string {
	out := make([]string, len(f.figures))
	for i, c := range f.figures {
		if sign < 0 {
			c = "-" + c + " AS " + c
		}
		out[i] = c
	}
	return strings.Join(out, ", ")
}

// sumsOf selects the closed bucket's sums (recorded before @starts) of the months where.
func (f family) sumsOf(where string, sign int) string {
	return fmt.Sprintf(`SELECT %s, %s FROM %s WHERE bucket = @bucket::int - 1 AND %smonth %s AND (@kind = '' OR kind = @kind)`,
		f.key, f.cols(sign), f.sums, f.dim, where)
}

// allOf selects the sums of every row whatever its recording moment, of span ('day' or
// 'month') and the days where.
func (f family) allOf(span, where string, sign int) string {
	return fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %sspan = '%s' AND %s AND (@kind = '' OR kind = @kind)`,
		f.key, f.cols(sign), f.all, f.dim, span, where)
}

// rawDays selects the single rows of the days @days recorded before @starts (rec "<") or from
// it on (">="), one day at a time: with the day fixed, the primary key (day, recorded_at, …)
// reads only the rows on the right side of @starts, where a range of days would read them all
// and filter (EXPLAIN on the dense store: every row of the days read, or every row recorded
// before @starts through the recorded_at index and the heap). The days come as an array, not
// generate_series: PostgreSQL 15 guesses 1,000 rows for generate_series over dates and then
// joins by merging a scan of the whole table, with JIT compilation on top (~0.7 s).
func (f family) rawDays(rec string, sign int) string {
	return fmt.Sprintf(`SELECT %s, %s FROM unnest(@days::date[]) AS g(d)
		CROSS JOIN LATERAL (SELECT * FROM %s x WHERE x.day = g.d AND x.recorded_at %s @starts
			AND (@kind = '' OR x.kind = @kind)) x`, f.rawKey, f.cols(sign), f.raw, rec)
}

// daysOf lists the days from..to.
func daysOf(from, to civil.Date) []time.Time {
	var out []time.Time
	for d := from; !d.After(to); d = d.AddDays(1) {
		out = append(out, d.Time(utc))
	}
	return out
}

// deltasSQL sums the deltas of family f dated on or before @day and recorded by @known:
//   - the months before @cut recorded before @starts: the sums kept for the bucket before @bucket;
//   - the rows recorded from @starts to @known (the bucket holding @known), any day up to @day;
//   - when partial, the days of @day's month up to @day recorded before @starts. Of that month's
//     rows, cut by @day and by @starts into quadrants A (up to @day, before @starts), B (up to
//     @day, from @starts on), C (after @day, before @starts) and D (after @day, from @starts on),
//     A is wanted. The sums give A+B (day sums), A+C (the bucket's month sum) and A+B+C+D (the
//     month sum), so A is read from any one quadrant's single rows: A itself, (A+B) − B,
//     (A+C) − C, or (A+B) + (A+C) − (A+B+C+D) + D. The plan reads the smallest.
func deltasSQL(f family, quadrant byte, partial bool) string {
	parts := []string{
		f.sumsOf("< @cut", 1),
		fmt.Sprintf(`SELECT %s, %s FROM %s WHERE recorded_at >= @starts AND recorded_at <= @known AND day <= @day
			AND (@kind = '' OR kind = @kind)`, f.rawKey, f.cols(1), f.raw),
	}
	if partial {
		days := "day >= @cut AND day <= @day"
		switch quadrant {
		case 'A':
			parts = append(parts, f.rawDays("<", 1))
		case 'B':
			parts = append(parts, f.allOf("day", days, 1), f.rawDays(">=", -1))
		case 'C':
			parts = append(parts, f.sumsOf("= @cut", 1), f.rawDays("<", -1))
		default:
			parts = append(parts, f.allOf("day", days, 1), f.sumsOf("= @cut", 1), f.allOf("month", "day = @cut", -1),
				f.rawDays(">=", 1))
		}
	}
	return fmt.Sprintf(f.outer, strings.Join(parts, "\n\t\tUNION ALL\n\t\t"))
}

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
	rd, err := r.parts(ctx, q, "", groupBy, byMoney, false)
	s, parts, moneys := rd.s, rd.parts, rd.moneys
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
	out.SetAsideEvents = rd.setAside
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
	rd, err := r.parts(ctx, q, "model", groupBy, false, false)
	s, parts := rd.s, rd.parts
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
	out.SetAsideEvents = rd.setAside
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
	rd, err := r.parts(ctx, q, kind, groupBy, false, true)
	s, parts := rd.s, rd.parts
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
	out.SetAsideEvents = rd.setAside
	return out, nil
}

func average(sum, n int64) float64 {
	if n == 0 {
		return 0
	}
	return math.Round(float64(sum)/float64(n)*10) / 10
}
