package readmodel

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The group deltas behind the reports "as of" a business day and "as known at" a moment
// (migration 00012 explains the tables).
//
// What an item adds to a report at day D as known at moment K is the fold, in stream order, of
// its facts dated on or before D and recorded by K (nothing before its proposal is both). For
// a fixed K it changes only on its facts' days and the day after its planned end (overdue);
// for a fixed D, only at its facts' moments. When a batch brings new facts for an item, the
// projection evaluates the item before the batch and after it on the grid of those days and
// moments, and writes the two-dimensional differences of (after − before), so that summing
// the rows with day ≤ D and recorded_at ≤ K gives what the batch changed at (D, K), for every
// D and K. Only the batch's items are folded, with their earlier facts.

// defaultBucketFacts is how many item facts a bucket of recording time holds before it closes.
// A report reads the single rows of one bucket (those recorded up to K in the bucket holding
// K), and every closed bucket keeps a copy of the month sums: smaller buckets mean less to read
// and more to keep.
const defaultBucketFacts = 16384

// contribution is what one item adds to a report at one (D, K).
type contribution struct {
	present bool
	key     groupKey
	m       metrics
	money   []moneyEntry // none when the item is cancelled
}

// contributionAt folds the item at (d, k), its money appended to buf.
func contributionAt(info *itemInfo, facts []fact, d, k int64, buf []moneyEntry) (contribution, []moneyEntry) {
	f, buf := fold(info, facts, d, k, buf)
	return contributionOf(info, &f, d), buf
}

func contributionOf(info *itemInfo, f *figures, d int64) contribution {
	if !f.present {
		return contribution{}
	}
	return contribution{present: true, key: f.group(info), m: f.metrics(info, d), money: f.countedMoney()}
}

type groupDeltaKey struct {
	g        groupKey
	day, rec int64
}

type moneyDeltaKey struct {
	kind, source string
	year         int
	day, rec     int64
}

// deltaSet sums the deltas of a batch by (group, day, recorded_at).
type deltaSet struct {
	groups map[groupDeltaKey]*metrics
	money  map[moneyDeltaKey]*moneySums
	// Scratch space, reused from item to item.
	days, recs    []int64
	after, before []contribution
	buf           []moneyEntry
	cell          cell
}

func newDeltaSet() *deltaSet {
	return &deltaSet{groups: map[groupDeltaKey]*metrics{}, money: map[moneyDeltaKey]*moneySums{}}
}

// cell gathers the contributions that meet at one point of an item's grid.
type cell struct {
	groups []groupAcc
	money  []moneyEntry
}

type groupAcc struct {
	key groupKey
	m   metrics
}

func (c *cell) add(x *contribution, sign int64) {
	if !x.present {
		return
	}
	i := slices.IndexFunc(c.groups, func(g groupAcc) bool { return g.key == x.key })
	if i < 0 {
		c.groups = append(c.groups, groupAcc{key: x.key})
		i = len(c.groups) - 1
	}
	for j := range x.m {
		c.groups[i].m[j] += sign * x.m[j]
	}
	for _, e := range x.money {
		j := slices.IndexFunc(c.money, func(m moneyEntry) bool { return m.source == e.source && m.year == e.year })
		if j < 0 {
			c.money = append(c.money, moneyEntry{source: e.source, year: e.year})
			j = len(c.money) - 1
		}
		for col := range e.sums {
			c.money[j].sums[col] += sign * e.sums[col]
		}
	}
}

// item adds what the facts all[nOld:] change in the item's contribution; all[:nOld] are the
// facts it had before. Facts the reports do not count (the deadline manager's flags) change
// nothing and add no point to the grid.
func (s *deltaSet) item(info *itemInfo, all []fact, nOld int) {
	r1 := int64(math.MaxInt64)
	for i := nOld; i < len(all); i++ {
		if all[i].kind.counted() {
			r1 = min(r1, all[i].rec)
		}
	}
	if r1 == math.MaxInt64 {
		return
	}
	// Below the earliest day, and before the earliest new moment, before and after agree.
	days, recs := s.days[:0], s.recs[:0]
	lastOld := int64(math.MinInt64) // the latest moment of the facts before the batch
	for i := range all {
		f := &all[i]
		if i < nOld {
			lastOld = max(lastOld, f.rec)
		}
		if !f.kind.counted() {
			continue
		}
		days = append(days, f.day)
		if f.rec >= r1 {
			recs = append(recs, f.rec)
		}
	}
	if info.end != noEnd {
		days = append(days, info.end+1)
	}
	slices.Sort(days)
	days = slices.Compact(days)
	slices.Sort(recs)
	recs = slices.Compact(recs)
	s.days, s.recs = days, recs
	nd := len(days)
	after := grow(s.after, nd*len(recs))
	var before []contribution
	if nOld > 0 {
		before = grow(s.before, nd*len(recs))
	}
	buf := s.buf[:0]
	if nOld > 0 && lastOld <= recs[0] && info.recorded <= recs[0] && inRecordingOrder(all[nOld:]) {
		// The usual batch: the item's earlier facts were all recorded before its new ones, and
		// the new ones in order. Then before the batch the item is the same at every moment of
		// recs, and after it is that fold gone on with the new facts recorded by each moment in
		// turn: the earlier facts are folded once a day instead of twice a point (an item with
		// thousands of funding requests made fold a third of serve's CPU; BENCHMARKS.md, stop 25).
		for i, d := range days {
			f, p := blankFigures(), nOld
			if info.proposed <= d {
				f.present = true
				f, buf = foldOn(f, all[:nOld], d, recs[0], buf)
			}
			b := contributionOf(info, &f, d)
			for j, k := range recs {
				q := p
				for q < len(all) && all[q].rec <= k {
					q++
				}
				if f.present {
					f, buf = foldOn(f, all[p:q], d, k, buf)
				}
				p = q
				before[j*nd+i], after[j*nd+i] = b, contributionOf(info, &f, d)
			}
		}
	} else {
		for j, k := range recs {
			for i, d := range days {
				after[j*nd+i], buf = contributionAt(info, all, d, k, buf)
				if nOld > 0 {
					before[j*nd+i], buf = contributionAt(info, all[:nOld], d, k, buf)
				}
			}
		}
	}
	s.after, s.buf = after, buf
	if nOld > 0 {
		s.before = before
	}
	c := &s.cell
	for j, k := range recs {
		for i, d := range days {
			c.groups, c.money = c.groups[:0], c.money[:0]
			for a := 0; a < 2; a++ {
				for b := 0; b < 2; b++ {
					ii, jj := i-a, j-b
					if ii < 0 || jj < 0 {
						continue
					}
					sign := int64(1 - 2*((a+b)%2))
					c.add(&after[jj*nd+ii], sign)
					if nOld > 0 {
						c.add(&before[jj*nd+ii], -sign)
					}
				}
			}
			s.addCell(c, info.kind, d, k)
		}
	}
}

// inRecordingOrder reports whether facts were recorded in their stream order.
func inRecordingOrder(facts []fact) bool {
	for i := 1; i < len(facts); i++ {
		if facts[i].rec < facts[i-1].rec {
			return false
		}
	}
	return true
}

// grow returns s resliced to n elements, reallocated only when too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (s *deltaSet) addCell(c *cell, kind string, d, k int64) {
	for _, g := range c.groups {
		if g.m == (metrics{}) {
			continue
		}
		key := groupDeltaKey{g.key, d, k}
		m := s.groups[key]
		if m == nil {
			m = &metrics{}
			s.groups[key] = m
		}
		for j := range g.m {
			m[j] += g.m[j]
		}
	}
	for _, e := range c.money {
		if e.sums == (moneySums{}) {
			continue
		}
		key := moneyDeltaKey{kind, e.source, e.year, d, k}
		m := s.money[key]
		if m == nil {
			m = &moneySums{}
			s.money[key] = m
		}
		for j := range e.sums {
			m[j] += e.sums[j]
		}
	}
}

// dayNum is the number of t's calendar day (in t's location) since 1970-01-01.
func dayNum(t time.Time) int64 {
	s := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, utc).Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

func monthOf(d int64) time.Time {
	t := dayTime(d)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, utc)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func moment(us int64) pgtype.Timestamptz {
	if us == math.MinInt64 {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return pgtype.Timestamptz{Time: time.UnixMicro(us).UTC(), Valid: true}
}

func fromMoment(t pgtype.Timestamptz) int64 {
	if t.InfinityModifier == pgtype.NegativeInfinity {
		return math.MinInt64
	}
	return t.Time.UnixMicro()
}

// buckets is where recording time is cut. Bucket i holds the moments from starts[i] to
// starts[i+1]; the last bucket is open.
type buckets struct {
	starts []int64
	// Of the buckets from first on (the one open when the batch began): facts counted and
	// the latest moment seen, as they are to be written.
	first  int
	facts  []int64
	maxRec []int64
	size   int64
	// seen is the latest moment of any fact counted before the batch (math.MinInt64 when
	// none): every delta row already written is recorded at or before it, since a row's
	// moment is one of its item's facts' moments and every fact is counted.
	seen int64
}

func loadBuckets(rows pgx.Rows, size int64) (*buckets, error) {
	b := &buckets{size: size}
	for rows.Next() {
		var (
			n          int
			start, max pgtype.Timestamptz
			facts      int64
		)
		if err := rows.Scan(&n, &start, &facts, &max); err != nil {
			return nil, err
		}
		if n != len(b.starts) {
			return nil, fmt.Errorf("pj_delta_buckets: bucket %d after %d", n, len(b.starts)-1)
		}
		b.starts = append(b.starts, fromMoment(start))
		b.facts, b.maxRec = []int64{facts}, []int64{fromMoment(max)}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(b.starts) == 0 {
		b.starts, b.facts, b.maxRec = []int64{math.MinInt64}, []int64{0}, []int64{math.MinInt64}
	}
	b.first = len(b.starts) - 1
	b.seen = b.maxRec[0]
	return b, nil
}

// count takes one more fact, in the store's order. A bucket that is full closes after the
// latest moment seen so far, so no moment already counted changes bucket, and a rebuild cuts
// time exactly where the live projection did, whatever the batches.
func (b *buckets) count(rec int64) {
	last := len(b.facts) - 1
	b.facts[last]++
	b.maxRec[last] = max(b.maxRec[last], rec)
	if b.facts[last] >= b.size {
		b.starts = append(b.starts, b.maxRec[last]+1)
		b.facts = append(b.facts, 0)
		b.maxRec = append(b.maxRec, b.maxRec[last])
	}
}

// of returns the bucket of a moment.
func (b *buckets) of(rec int64) int {
	return sort.Search(len(b.starts), func(i int) bool { return b.starts[i] > rec }) - 1
}

func (b *buckets) open() int { return len(b.starts) - 1 }

// earlierFactsSQL reads what the projection holds of the items that have facts in the batch
// but were proposed before it: their proposal and their earlier facts (versions below the
// batch's first for the item, and above what the projection's History remembers of it).
// The facts are read in a LATERAL subquery with OFFSET 0 so that the version range is part
// of the primary key's index condition: joined plainly, the planner parametrises the facts'
// scan on pj_items' item_id and filters the versions after reading every fact of the item
// (EXPLAIN on a 1 M store: 20 items, 5,780 buffers and 1.26 s cold; with the LATERAL 75
// buffers) — a cost that grew with each item's life while the History meant to remove it.
const earlierFactsSQL = `SELECT i.item_id, i.kind, i.unit_code, i.pillar, i.sector, i.estimated_vnd, i.end_date,
		i.proposed_on, i.recorded_at, f.fact, f.occurred_on, f.recorded_at, f.source, f.year, f.amount, f.stage,
		f.percent, f.ref
	FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(item_id, version, after)
	JOIN pj_items i USING (item_id)
	CROSS JOIN LATERAL (SELECT * FROM pj_item_facts f
		WHERE f.item_id = u.item_id AND f.version > u.after AND f.version < u.version OFFSET 0) f
	ORDER BY f.item_id, f.version`

// itemHistory is an item the batch touches: its proposal (nil when the projection never saw
// it) and its facts in stream order, the first nOld of them from earlier batches.
type itemHistory struct {
	id    string
	info  *itemInfo
	facts []fact
	nOld  int
}

// FinishRebuild vacuums the tables a rebuild loaded: reports read a month of the group deltas
// from the primary key alone only where the visibility map says every row is visible, and
// after a rebuild no page is marked yet (autovacuum would get there, a minute or more later);
// the first live batches would otherwise also set every page's hint bits, and plan without
// statistics.
func (Items) FinishRebuild(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `VACUUM (ANALYZE) pj_group_deltas, pj_money_deltas, pj_group_delta_sums, pj_money_delta_sums,
		pj_group_all_sums, pj_money_all_sums,
		pj_items, pj_item_facts, pj_item_current, pj_item_current_money, pj_group_current, pj_group_money`)
	return err
}

// batchInput is what a batch's rows of today and group deltas are computed from.
type batchInput struct {
	items []itemRow // the batch's proposals of items not proposed before: the rows of pj_items
	facts []factRow
	order []*itemHistory // the items the batch touches, in order of their first fact in it
	bk    *buckets
}

// load reads what the batch needs besides the batch, in one round trip: where the buckets of
// recording time stand, and the earlier facts of the items the batch touches. An item keeps
// its first proposal: a later one (the domain refuses it; the store may hold it) is only the
// stage fact it also is, as in the rebuild (itemsBulk.Add) — so the earlier facts are asked
// for of the items proposed in the batch too, which finds them proposed before.
func load(ctx context.Context, tx pgx.Tx, items []itemRow, facts []factRow, bucketSize int64, remembered *History) (*batchInput, error) {
	proposed := make(map[string]*itemInfo, len(items))
	for i := range items {
		if proposed[items[i].id] == nil {
			proposed[items[i].id] = &items[i].info
		}
	}
	hist := map[string]*itemHistory{}
	var (
		order       []*itemHistory
		oldIDs      []string
		oldVersions []int64
		after       []int64
	)
	for i := range facts {
		f := &facts[i]
		if hist[f.item] != nil {
			continue
		}
		h := &itemHistory{id: f.item, info: proposed[f.item]}
		hist[f.item] = h
		order = append(order, h)
		var upTo int64
		if e, ok := remembered.take(f.item, f.version); ok {
			h.info, h.facts, h.nOld, upTo = e.info, e.facts, len(e.facts), e.upTo
			if upTo == f.version-1 {
				continue // remembered up to the batch: nothing earlier to read
			}
		}
		oldIDs = append(oldIDs, f.item)
		oldVersions = append(oldVersions, f.version)
		after = append(after, upTo)
	}

	var b pgx.Batch
	b.Queue(`SELECT bucket, starts_at, facts, max_recorded_at FROM pj_delta_buckets ORDER BY bucket`)
	if len(oldIDs) > 0 {
		b.Queue(earlierFactsSQL, oldIDs, oldVersions, after)
	}
	res := tx.SendBatch(ctx, &b)
	rows, err := res.Query()
	if err != nil {
		res.Close()
		return nil, fmt.Errorf("delta buckets: %w", err)
	}
	bk, err := loadBuckets(rows, bucketSize)
	rows.Close()
	if err != nil {
		res.Close()
		return nil, fmt.Errorf("delta buckets: %w", err)
	}
	if len(oldIDs) > 0 {
		if err := loadEarlier(res, hist); err != nil {
			res.Close()
			return nil, fmt.Errorf("earlier facts: %w", err)
		}
	}
	if err := res.Close(); err != nil {
		return nil, err
	}
	for i := range facts {
		h := hist[facts[i].item]
		h.facts = append(h.facts, facts[i].fact)
	}
	var fresh []itemRow
	for i := range items {
		if h := hist[items[i].id]; h.nOld == 0 && h.info == &items[i].info {
			fresh = append(fresh, items[i])
		}
	}
	return &batchInput{items: fresh, facts: facts, order: order, bk: bk}, nil
}

// loadEarlier reads the rows of earlierFactsSQL into the items' histories.
func loadEarlier(res pgx.BatchResults, hist map[string]*itemHistory) error {
	rows, err := res.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, kind, unit, pillar, sector, name, src, stg, ref string
			estimated, amount                                   int64
			end                                                 *time.Time
			proposedOn, day, at, rec                            time.Time
			year, percent                                       int
		)
		if err := rows.Scan(&id, &kind, &unit, &pillar, &sector, &estimated, &end, &proposedOn, &at, &name, &day, &rec,
			&src, &year, &amount, &stg, &percent, &ref); err != nil {
			return err
		}
		fk, err := parseFactKind(name)
		if err != nil {
			return fmt.Errorf("item %s: %w", id, err)
		}
		h := hist[id]
		if h.nOld == 0 { // the proposal of record, whatever the batch proposes again
			h.info = &itemInfo{kind: kind, unit: unit, pillar: pillar, sector: sector, estimated: estimated, end: noEnd,
				proposed: dayNum(proposedOn), recorded: micros(at)}
			if end != nil {
				h.info.end = dayNum(*end)
			}
		}
		h.facts = append(h.facts, fact{kind: fk, source: source(item.Source(src)), stage: stage(item.Stage(stg)), ref: ref,
			year: year, percent: percent, amount: amount, day: dayNum(day), rec: micros(rec)})
		h.nOld++
	}
	return rows.Err()
}

// compute counts the batch's facts into the buckets and folds each item the batch touches,
// before and after it. No I/O: it runs while the batch's other rows are queued.
func (in *batchInput) compute() *deltaSet {
	for i := range in.facts {
		in.bk.count(in.facts[i].rec)
	}
	ds := newDeltaSet()
	for _, h := range in.order {
		if h.info == nil {
			continue // facts of an item never proposed: no report counts them
		}
		ds.item(h.info, h.facts, h.nOld)
	}
	return ds
}

// writeDeltas adds the batch's deltas to the tables, keeps the month sums of the closed
// buckets and records where the buckets stand.
func writeDeltas(ctx context.Context, tx pgx.Tx, b *pgx.Batch, ds *deltaSet, bk *buckets) error {
	// The single rows: those recorded after every row already written are new rows, inserted
	// plainly; the others (a batch that continues an append's moment, or a transaction that
	// committed after later ones) are added to what may be there.
	var fresh, old deltaCols
	type lateKey struct {
		bucket int
		month  int64
		g      groupKey
	}
	lateGroups := map[lateKey]*metrics{}
	first := bk.first
	// after[i] is what the batch recorded after the end of bucket first+i (i below the
	// buckets it closes), per dimension: the month rows of the sums it copies at that close
	// hold it, the closed bucket must not (queueClose).
	after := make([]map[allKey]*metrics, bk.open()-first)
	for i := range after {
		after[i] = map[allKey]*metrics{}
	}
	all := map[allKey]*metrics{}
	allMoney := map[allMoneyKey]*moneySums{}
	for k, m := range ds.groups {
		if *m == (metrics{}) {
			continue
		}
		addAll(all, k.g, k.day, m)
		if k.rec > bk.seen {
			fresh.add(k, m)
		} else {
			old.add(k, m)
		}
		if bucket := bk.of(k.rec); bucket >= first {
			for n := first; n < bucket; n++ {
				addMonth(after[n-first], k.g, k.day, m)
			}
		} else {
			lk := lateKey{bucket, monthOf(k.day).Unix(), k.g}
			if lateGroups[lk] == nil {
				lateGroups[lk] = &metrics{}
			}
			for j := range m {
				lateGroups[lk][j] += m[j]
			}
		}
	}
	groupsAt, moneyAt := -1, -1
	if len(fresh.days) > 0 {
		g := &fresh
		b.Queue(`INSERT INTO pj_group_deltas (day, recorded_at, kind, unit_code, pillar, sector, stage, items, distinct_models,
				with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress)
			SELECT * FROM unnest($1::date[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
				$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],
				$15::bigint[], $16::bigint[], $17::bigint[])`,
			g.days, g.recs, g.kind, g.unit, g.pillar, g.sector, g.stage,
			g.m[0], g.m[1], g.m[2], g.m[3], g.m[4], g.m[5], g.m[6], g.m[7], g.m[8], g.m[9])
	}
	if len(old.days) > 0 {
		g := &old
		groupsAt = b.Len()
		b.Queue(`WITH up AS (
				INSERT INTO pj_group_deltas AS g (day, recorded_at, kind, unit_code, pillar, sector, stage, items, distinct_models,
					with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress)
				SELECT * FROM unnest($1::date[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
					$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],
					$15::bigint[], $16::bigint[], $17::bigint[])
				ON CONFLICT (day, recorded_at, kind, unit_code, pillar, sector, stage) DO UPDATE SET
					items = g.items + EXCLUDED.items, distinct_models = g.distinct_models + EXCLUDED.distinct_models,
					with_gap = g.with_gap + EXCLUDED.with_gap, overdue = g.overdue + EXCLUDED.overdue,
					estimated_vnd = g.estimated_vnd + EXCLUDED.estimated_vnd, requested_vnd = g.requested_vnd + EXCLUDED.requested_vnd,
					approved_vnd = g.approved_vnd + EXCLUDED.approved_vnd, disbursed_vnd = g.disbursed_vnd + EXCLUDED.disbursed_vnd,
					gap_vnd = g.gap_vnd + EXCLUDED.gap_vnd, progress = g.progress + EXCLUDED.progress
				RETURNING day, recorded_at, kind, unit_code, pillar, sector, stage, `+zeroGroup+` AS zero)
			SELECT day, recorded_at, kind, unit_code, pillar, sector, stage FROM up WHERE zero`,
			g.days, g.recs, g.kind, g.unit, g.pillar, g.sector, g.stage,
			g.m[0], g.m[1], g.m[2], g.m[3], g.m[4], g.m[5], g.m[6], g.m[7], g.m[8], g.m[9])
	}
	var freshMoney, oldMoney moneyDeltaCols
	type lateMoneyKey struct {
		bucket       int
		month        int64
		kind, source string
		year         int
	}
	lateMoney := map[lateMoneyKey]*moneySums{}
	afterMoney := make([]map[allMoneyKey]*moneySums, bk.open()-first)
	for i := range afterMoney {
		afterMoney[i] = map[allMoneyKey]*moneySums{}
	}
	for k, m := range ds.money {
		if *m == (moneySums{}) {
			continue
		}
		addAllMoney(allMoney, k.kind, k.source, k.year, k.day, m)
		if k.rec > bk.seen {
			freshMoney.add(k, m)
		} else {
			oldMoney.add(k, m)
		}
		bucket := bk.of(k.rec)
		if bucket >= first {
			for n := first; n < bucket; n++ {
				addMoneyMonth(afterMoney[n-first], k.kind, k.source, k.year, k.day, m)
			}
		} else {
			lk := lateMoneyKey{bucket, monthOf(k.day).Unix(), k.kind, k.source, k.year}
			if lateMoney[lk] == nil {
				lateMoney[lk] = &moneySums{}
			}
			for j := range m {
				lateMoney[lk][j] += m[j]
			}
		}
	}
	if m := &freshMoney; len(m.days) > 0 {
		b.Queue(`INSERT INTO pj_money_deltas (day, recorded_at, kind, source, year, requested_vnd, approved_vnd, disbursed_vnd)
			SELECT * FROM unnest($1::date[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[],
				$8::bigint[])`,
			m.days, m.recs, m.kind, m.source, m.year, m.req, m.appr, m.disb)
	}
	if m := &oldMoney; len(m.days) > 0 {
		moneyAt = b.Len()
		b.Queue(`WITH up AS (
				INSERT INTO pj_money_deltas AS g (day, recorded_at, kind, source, year, requested_vnd, approved_vnd, disbursed_vnd)
				SELECT * FROM unnest($1::date[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[],
					$8::bigint[])
				ON CONFLICT (day, recorded_at, kind, source, year) DO UPDATE SET
					requested_vnd = g.requested_vnd + EXCLUDED.requested_vnd, approved_vnd = g.approved_vnd + EXCLUDED.approved_vnd,
					disbursed_vnd = g.disbursed_vnd + EXCLUDED.disbursed_vnd
				RETURNING day, recorded_at, kind, source, year, `+zeroMoney+` AS zero)
			SELECT day, recorded_at, kind, source, year FROM up WHERE zero`,
			m.days, m.recs, m.kind, m.source, m.year, m.req, m.appr, m.disb)
	}
	// Every recording moment's sums, per day and month, for the reports as of a day alone.
	allAt, allMoneyAt := queueAllSums(b, all, allMoney)
	// Rows recorded in buckets already closed (a transaction that committed after later
	// ones): every closed bucket's sums from theirs on take them too.
	lateAt, lateMoneyAt := -1, -1
	if len(lateGroups) > 0 {
		var (
			bs                                []int32
			months                            []time.Time
			kind, unit, pillar, sector, stage []string
			ms                                [nMetrics][]int64
		)
		for k, m := range lateGroups {
			bs, months = append(bs, int32(k.bucket)), append(months, time.Unix(k.month, 0).UTC())
			kind, unit, pillar, sector, stage = append(kind, k.g.kind), append(unit, k.g.unit), append(pillar, k.g.pillar),
				append(sector, k.g.sector), append(stage, string(k.g.stage))
			for j := range m {
				ms[j] = append(ms[j], m[j])
			}
		}
		// The rows brought to zero go by their keys (zeroLate), not by a scan of every closed
		// bucket's sums: that scan, 600 pages read from disk, took ~100 ms after a bucket
		// closed, once per batch that brought a late row.
		lateAt = b.Len()
		b.Queue(`WITH up AS (INSERT INTO pj_group_delta_sums AS s (bucket, dim, month, kind, key, stage, items, distinct_models, with_gap,
				overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress)
			SELECT n, x.dim, d.month, d.kind, x.key, d.stage, sum(d.items)::bigint, sum(d.distinct_models)::bigint,
				sum(d.with_gap)::bigint, sum(d.overdue)::bigint, sum(d.estimated_vnd)::bigint, sum(d.requested_vnd)::bigint,
				sum(d.approved_vnd)::bigint, sum(d.disbursed_vnd)::bigint, sum(d.gap_vnd)::bigint, sum(d.progress)::bigint
			FROM unnest($1::int[], $2::date[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
				$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],
				$16::bigint[], $17::bigint[]) AS d(bucket, month, kind, unit_code, pillar, sector, stage, items, distinct_models,
				with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress)
			CROSS JOIN LATERAL generate_series(d.bucket, $18::int - 1) AS n
			CROSS JOIN LATERAL (VALUES ('unit', d.unit_code), ('pillar', d.pillar), ('sector', d.sector)) AS x(dim, key)
			GROUP BY n, x.dim, d.month, d.kind, x.key, d.stage
			ON CONFLICT (bucket, dim, month, kind, key, stage) DO UPDATE SET `+addGroup+`
			RETURNING bucket, dim, month, kind, key, stage, `+zeroGroup+` AS zero)
			SELECT bucket, dim, month, kind, key, stage FROM up WHERE zero`,
			bs, months, kind, unit, pillar, sector, stage, ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], ms[6], ms[7], ms[8], ms[9], first)
	}
	if len(lateMoney) > 0 {
		var (
			bs             []int32
			months         []time.Time
			kind, source   []string
			years          []int32
			req, appr, dis []int64
		)
		for k, m := range lateMoney {
			bs, months = append(bs, int32(k.bucket)), append(months, time.Unix(k.month, 0).UTC())
			kind, source, years = append(kind, k.kind), append(source, k.source), append(years, int32(k.year))
			req, appr, dis = append(req, m[0]), append(appr, m[1]), append(dis, m[2])
		}
		lateMoneyAt = b.Len()
		b.Queue(`WITH up AS (INSERT INTO pj_money_delta_sums AS s (bucket, month, kind, source, year, requested_vnd, approved_vnd, disbursed_vnd)
			SELECT n, d.month, d.kind, d.source, d.year, sum(d.requested_vnd)::bigint, sum(d.approved_vnd)::bigint,
				sum(d.disbursed_vnd)::bigint
			FROM unnest($1::int[], $2::date[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[])
				AS d(bucket, month, kind, source, year, requested_vnd, approved_vnd, disbursed_vnd)
			CROSS JOIN LATERAL generate_series(d.bucket, $9::int - 1) AS n
			GROUP BY n, d.month, d.kind, d.source, d.year
			ON CONFLICT (bucket, month, kind, source, year) DO UPDATE SET
				requested_vnd = s.requested_vnd + EXCLUDED.requested_vnd, approved_vnd = s.approved_vnd + EXCLUDED.approved_vnd,
				disbursed_vnd = s.disbursed_vnd + EXCLUDED.disbursed_vnd
			RETURNING bucket, month, kind, source, year, `+zeroMoney+` AS zero)
			SELECT bucket, month, kind, source, year FROM up WHERE zero`,
			bs, months, kind, source, years, req, appr, dis, first)
	}
	// The buckets that closed in this batch: their sums are every row recorded up to their
	// end, which is the month rows of the all-sums as this batch leaves them, less what the
	// batch recorded after the end (migration 00041): ~2,000 rows copied by their primary key,
	// queued after the all-sums' upserts and before the zero rows they leave are deleted.
	for n := first; n < bk.open(); n++ {
		queueClose(b, n, after[n-first], afterMoney[n-first])
	}
	for i := range bk.facts {
		n := first + i
		b.Queue(`INSERT INTO pj_delta_buckets (bucket, starts_at, facts, max_recorded_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (bucket) DO UPDATE SET facts = EXCLUDED.facts, max_recorded_at = EXCLUDED.max_recorded_at`,
			n, moment(bk.starts[n]), bk.facts[i], moment(bk.maxRec[i]))
	}
	res := tx.SendBatch(ctx, b)
	var (
		zg  zeroGroupKeys
		zm  zeroMoneyKeys
		za  zeroAllKeys
		zam zeroAllMoneyKeys
		zl  zeroLateKeys
		zlm zeroLateMoneyKeys
	)
	for i := range b.Len() {
		var err error
		switch i {
		case groupsAt:
			err = collectColumns(res, &zg.days, &zg.recs, &zg.kinds, &zg.units, &zg.pillars, &zg.sectors, &zg.stages)
		case moneyAt:
			err = collectColumns(res, &zm.days, &zm.recs, &zm.kinds, &zm.sources, &zm.years)
		case allAt:
			err = collectColumns(res, &za.dims, &za.spans, &za.days, &za.kinds, &za.keys, &za.stages)
		case allMoneyAt:
			err = collectColumns(res, &zam.spans, &zam.days, &zam.kinds, &zam.sources, &zam.years)
		case lateAt:
			err = collectColumns(res, &zl.buckets, &zl.dims, &zl.months, &zl.kinds, &zl.keys, &zl.stages)
		case lateMoneyAt:
			err = collectColumns(res, &zlm.buckets, &zlm.months, &zlm.kinds, &zlm.sources, &zlm.years)
		default:
			_, err = res.Exec()
		}
		if err != nil {
			res.Close()
			return fmt.Errorf("group deltas: %w", err)
		}
	}
	if err := res.Close(); err != nil {
		return err
	}
	if err := deleteZeroAllSums(ctx, tx, &za, &zam); err != nil {
		return err
	}
	// A row that sums to zero says nothing: it goes, as it never appears in a rebuild that
	// sums the same changes in one batch. It takes two batches that meet at one moment (the
	// events of one append split between them).
	if len(zg.days) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM pj_group_deltas d
			USING unnest($1::date[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
				AS z(day, recorded_at, kind, unit_code, pillar, sector, stage)
			WHERE d.day = z.day AND d.recorded_at = z.recorded_at AND d.kind = z.kind AND d.unit_code = z.unit_code
			  AND d.pillar = z.pillar AND d.sector = z.sector AND d.stage = z.stage AND `+zeroGroupD,
			zg.days, zg.recs, zg.kinds, zg.units, zg.pillars, zg.sectors, zg.stages); err != nil {
			return err
		}
	}
	if len(zm.days) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM pj_money_deltas d
			USING unnest($1::date[], $2::timestamptz[], $3::text[], $4::text[], $5::int[]) AS z(day, recorded_at, kind, source, year)
			WHERE d.day = z.day AND d.recorded_at = z.recorded_at AND d.kind = z.kind AND d.source = z.source
			  AND d.year = z.year AND d.requested_vnd = 0 AND d.approved_vnd = 0 AND d.disbursed_vnd = 0`,
			zm.days, zm.recs, zm.kinds, zm.sources, zm.years); err != nil {
			return err
		}
	}
	if len(zl.buckets) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM pj_group_delta_sums d
			USING unnest($1::int[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[]) AS z(bucket, dim, month, kind, key, stage)
			WHERE d.bucket = z.bucket AND d.dim = z.dim AND d.month = z.month AND d.kind = z.kind AND d.key = z.key
			  AND d.stage = z.stage AND `+zeroGroupD,
			zl.buckets, zl.dims, zl.months, zl.kinds, zl.keys, zl.stages); err != nil {
			return err
		}
	}
	if len(zlm.buckets) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM pj_money_delta_sums d
			USING unnest($1::int[], $2::date[], $3::text[], $4::text[], $5::int[]) AS z(bucket, month, kind, source, year)
			WHERE d.bucket = z.bucket AND d.month = z.month AND d.kind = z.kind AND d.source = z.source AND d.year = z.year
			  AND d.requested_vnd = 0 AND d.approved_vnd = 0 AND d.disbursed_vnd = 0`,
			zlm.buckets, zlm.months, zlm.kinds, zlm.sources, zlm.years); err != nil {
			return err
		}
	}
	return nil
}

// deltaCols are rows of pj_group_deltas, column by column, as unnest takes them.
type deltaCols struct {
	days, recs                        []time.Time
	kind, unit, pillar, sector, stage []string
	m                                 [nMetrics][]int64
}

func (c *deltaCols) add(k groupDeltaKey, m *metrics) {
	c.days, c.recs = append(c.days, dayTime(k.day)), append(c.recs, time.UnixMicro(k.rec).UTC())
	c.kind, c.unit, c.pillar, c.sector, c.stage = append(c.kind, k.g.kind), append(c.unit, k.g.unit),
		append(c.pillar, k.g.pillar), append(c.sector, k.g.sector), append(c.stage, string(k.g.stage))
	for j := range m {
		c.m[j] = append(c.m[j], m[j])
	}
}

// moneyDeltaCols are rows of pj_money_deltas, column by column.
type moneyDeltaCols struct {
	days, recs      []time.Time
	kind, source    []string
	year            []int32
	req, appr, disb []int64
}

func (c *moneyDeltaCols) add(k moneyDeltaKey, m *moneySums) {
	c.days, c.recs = append(c.days, dayTime(k.day)), append(c.recs, time.UnixMicro(k.rec).UTC())
	c.kind, c.source, c.year = append(c.kind, k.kind), append(c.source, k.source), append(c.year, int32(k.year))
	c.req, c.appr, c.disb = append(c.req, m[0]), append(c.appr, m[1]), append(c.disb, m[2])
}

// The keys of the rows a batch brought to zero, column by column, as RETURNING gives them and
// unnest takes them back.
type (
	zeroGroupKeys struct {
		days, recs                             []time.Time
		kinds, units, pillars, sectors, stages []string
	}
	zeroMoneyKeys struct {
		days, recs     []time.Time
		kinds, sources []string
		years          []int32
	}
	zeroAllKeys struct {
		dims, spans         []string
		days                []time.Time
		kinds, keys, stages []string
	}
	zeroLateKeys struct {
		buckets             []int32
		dims                []string
		months              []time.Time
		kinds, keys, stages []string
	}
	zeroLateMoneyKeys struct {
		buckets        []int32
		months         []time.Time
		kinds, sources []string
		years          []int32
	}
	zeroAllMoneyKeys struct {
		spans          []string
		days           []time.Time
		kinds, sources []string
		years          []int32
	}
)

// collectColumns reads the rows of res into cols, one pointer per column to a slice of
// string, time.Time or int32.
func collectColumns(res pgx.BatchResults, cols ...any) error {
	rows, err := res.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]any, len(cols))
	for rows.Next() {
		for i, c := range cols {
			switch c := c.(type) {
			case *[]string:
				*c = append(*c, "")
				dest[i] = &(*c)[len(*c)-1]
			case *[]time.Time:
				*c = append(*c, time.Time{})
				dest[i] = &(*c)[len(*c)-1]
			case *[]int32:
				*c = append(*c, 0)
				dest[i] = &(*c)[len(*c)-1]
			default:
				return fmt.Errorf("collectColumns: column %d is a %T", i, c)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
	}
	return rows.Err()
}

const (
	// addGroup adds the incoming figures of a group row to the stored ones (ON CONFLICT … DO
	// UPDATE SET, the stored row aliased s).
	addGroup = `items = s.items + EXCLUDED.items, distinct_models = s.distinct_models + EXCLUDED.distinct_models,
		with_gap = s.with_gap + EXCLUDED.with_gap, overdue = s.overdue + EXCLUDED.overdue,
		estimated_vnd = s.estimated_vnd + EXCLUDED.estimated_vnd, requested_vnd = s.requested_vnd + EXCLUDED.requested_vnd,
		approved_vnd = s.approved_vnd + EXCLUDED.approved_vnd, disbursed_vnd = s.disbursed_vnd + EXCLUDED.disbursed_vnd,
		gap_vnd = s.gap_vnd + EXCLUDED.gap_vnd, progress = s.progress + EXCLUDED.progress`
	zeroGroup = `(items = 0 AND distinct_models = 0 AND with_gap = 0 AND overdue = 0 AND estimated_vnd = 0
		AND requested_vnd = 0 AND approved_vnd = 0 AND disbursed_vnd = 0 AND gap_vnd = 0 AND progress = 0)`
	zeroGroupD = `d.items = 0 AND d.distinct_models = 0 AND d.with_gap = 0 AND d.overdue = 0 AND d.estimated_vnd = 0
		AND d.requested_vnd = 0 AND d.approved_vnd = 0 AND d.disbursed_vnd = 0 AND d.gap_vnd = 0 AND d.progress = 0`
	zeroMoney = `(requested_vnd = 0 AND approved_vnd = 0 AND disbursed_vnd = 0)`
	// addGroupFrom adds the figures of the rows v to the stored rows s (UPDATE … SET … FROM v).
	addGroupFrom = `items = s.items + v.items, distinct_models = s.distinct_models + v.distinct_models,
		with_gap = s.with_gap + v.with_gap, overdue = s.overdue + v.overdue,
		estimated_vnd = s.estimated_vnd + v.estimated_vnd, requested_vnd = s.requested_vnd + v.requested_vnd,
		approved_vnd = s.approved_vnd + v.approved_vnd, disbursed_vnd = s.disbursed_vnd + v.disbursed_vnd,
		gap_vnd = s.gap_vnd + v.gap_vnd, progress = s.progress + v.progress`
	zeroGroupS = `(s.items = 0 AND s.distinct_models = 0 AND s.with_gap = 0 AND s.overdue = 0 AND s.estimated_vnd = 0
		AND s.requested_vnd = 0 AND s.approved_vnd = 0 AND s.disbursed_vnd = 0 AND s.gap_vnd = 0 AND s.progress = 0)`
)

// allKey is a row of pj_group_all_sums: the deltas of every recording moment summed per
// report dimension, kind and stage, for one day (span "day") or one month (span "month", day
// its first).
type allKey struct {
	dim, span string
	day       int64
	kind, key string
	stage     item.Stage
}

// allMoneyKey is a row of pj_money_all_sums.
type allMoneyKey struct {
	span         string
	day          int64
	kind, source string
	year         int
}

// addAll adds a group delta dated day to the sums of its day and of its month, per dimension.
func addAll(dst map[allKey]*metrics, g groupKey, day int64, m *metrics) {
	addSpan(dst, g, "day", day, m)
	addMonth(dst, g, day, m)
}

// addMonth adds a group delta dated day to the sums of its month alone, per dimension.
func addMonth(dst map[allKey]*metrics, g groupKey, day int64, m *metrics) {
	addSpan(dst, g, "month", dayNum(monthOf(day)), m)
}

// addSpan adds a group delta to the sums of one span (its day d, or its month d), per dimension.
func addSpan(dst map[allKey]*metrics, g groupKey, span string, d int64, m *metrics) {
	for _, x := range [...][2]string{{"unit", g.unit}, {"pillar", g.pillar}, {"sector", g.sector}} {
		k := allKey{x[0], span, d, g.kind, x[1], g.stage}
		a := dst[k]
		if a == nil {
			a = &metrics{}
			dst[k] = a
		}
		addMetrics(a, m)
	}
}

// addMoneyMonth adds a money delta dated day to the sums of its month alone.
func addMoneyMonth(dst map[allMoneyKey]*moneySums, kind, source string, year int, day int64, m *moneySums) {
	addMoneyAt(dst, allMoneyKey{"month", dayNum(monthOf(day)), kind, source, year}, m)
}

// addMoneyAt adds a money delta to the sums of key k.
func addMoneyAt(dst map[allMoneyKey]*moneySums, k allMoneyKey, m *moneySums) {
	a := dst[k]
	if a == nil {
		a = &moneySums{}
		dst[k] = a
	}
	addMoney(a, m)
}

// queueClose queues the close of bucket n: its sums, the month rows of pj_group_all_sums and
// pj_money_all_sums (every row recorded so far, per dimension) less after and afterMoney (what
// the batch recorded after n's end). The all-sums' upserts of the batch must be queued before.
// Rows that sum to zero are not written, as in a rebuild. A key of after may have no all-sums
// row: the batch's rows of that month may sum to zero across the cut (+1 before it, -1 after),
// leaving the all-sums as they were, without the row; the closed bucket then holds -after's.
// Hence the full join.
func queueClose(b *pgx.Batch, n int, after map[allKey]*metrics, afterMoney map[allMoneyKey]*moneySums) {
	var (
		dims, kinds, keys, stages []string
		months                    []time.Time
		ms                        [nMetrics][]int64
	)
	for k, m := range after {
		if *m == (metrics{}) {
			continue
		}
		dims, months = append(dims, k.dim), append(months, dayTime(k.day))
		kinds, keys, stages = append(kinds, k.kind), append(keys, k.key), append(stages, string(k.stage))
		for j := range m {
			ms[j] = append(ms[j], m[j])
		}
	}
	b.Queue(`INSERT INTO pj_group_delta_sums (bucket, dim, month, kind, key, stage, items, distinct_models, with_gap,
			overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress)
		SELECT * FROM (
			SELECT $1::int, dim, month, kind, key, stage,
				coalesce(a.items, 0) - coalesce(c.items, 0) AS items,
				coalesce(a.distinct_models, 0) - coalesce(c.distinct_models, 0) AS distinct_models,
				coalesce(a.with_gap, 0) - coalesce(c.with_gap, 0) AS with_gap,
				coalesce(a.overdue, 0) - coalesce(c.overdue, 0) AS overdue,
				coalesce(a.estimated_vnd, 0) - coalesce(c.estimated_vnd, 0) AS estimated_vnd,
				coalesce(a.requested_vnd, 0) - coalesce(c.requested_vnd, 0) AS requested_vnd,
				coalesce(a.approved_vnd, 0) - coalesce(c.approved_vnd, 0) AS approved_vnd,
				coalesce(a.disbursed_vnd, 0) - coalesce(c.disbursed_vnd, 0) AS disbursed_vnd,
				coalesce(a.gap_vnd, 0) - coalesce(c.gap_vnd, 0) AS gap_vnd,
				coalesce(a.progress, 0) - coalesce(c.progress, 0) AS progress
			FROM (SELECT dim, day AS month, kind, key, stage, items, distinct_models, with_gap, overdue, estimated_vnd,
					requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress
				FROM pj_group_all_sums WHERE dim = ANY('{pillar,sector,unit}'::text[]) AND span = 'month') a
			FULL JOIN unnest($2::text[], $3::date[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[],
				$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],
				$16::bigint[]) AS c(dim, month, kind, key, stage, items, distinct_models, with_gap, overdue, estimated_vnd,
				requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress) USING (dim, month, kind, key, stage)) s
		WHERE NOT `+zeroGroup,
		n, dims, months, kinds, keys, stages, ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], ms[6], ms[7], ms[8], ms[9])
	var (
		mMonths        []time.Time
		mKinds, mSrcs  []string
		mYears         []int32
		req, appr, dis []int64
	)
	for k, m := range afterMoney {
		if *m == (moneySums{}) {
			continue
		}
		mMonths, mKinds, mSrcs, mYears = append(mMonths, dayTime(k.day)), append(mKinds, k.kind), append(mSrcs, k.source),
			append(mYears, int32(k.year))
		req, appr, dis = append(req, m[0]), append(appr, m[1]), append(dis, m[2])
	}
	b.Queue(`INSERT INTO pj_money_delta_sums (bucket, month, kind, source, year, requested_vnd, approved_vnd, disbursed_vnd)
		SELECT * FROM (
			SELECT $1::int, month, kind, source, year,
				coalesce(a.requested_vnd, 0) - coalesce(c.requested_vnd, 0) AS requested_vnd,
				coalesce(a.approved_vnd, 0) - coalesce(c.approved_vnd, 0) AS approved_vnd,
				coalesce(a.disbursed_vnd, 0) - coalesce(c.disbursed_vnd, 0) AS disbursed_vnd
			FROM (SELECT day AS month, kind, source, year, requested_vnd, approved_vnd, disbursed_vnd
				FROM pj_money_all_sums WHERE span = 'month') a
			FULL JOIN unnest($2::date[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[])
				AS c(month, kind, source, year, requested_vnd, approved_vnd, disbursed_vnd) USING (month, kind, source, year)) s
		WHERE NOT `+zeroMoney,
		n, mMonths, mKinds, mSrcs, mYears, req, appr, dis)
}

// addAllMoney adds a money delta dated day to the sums of its day and of its month.
func addAllMoney(dst map[allMoneyKey]*moneySums, kind, source string, year int, day int64, m *moneySums) {
	addMoneyAt(dst, allMoneyKey{"day", day, kind, source, year}, m)
	addMoneyMonth(dst, kind, source, year, day, m)
}

// queueAllSums queues the upserts of a batch's sums into pj_group_all_sums and
// pj_money_all_sums, statements of the batch's one round trip. Each returns the keys of the
// rows it brought to zero; it returns their places in b (-1 when not queued).
//
// An upsert is an UPDATE of the rows there and an INSERT of the others, not INSERT … ON
// CONFLICT DO UPDATE: that locks each conflicting row before updating it, one WAL record for
// the lock and one for the update (EXPLAIN (ANALYZE, WAL) of 300 rows: 600 records, 59,100
// bytes; the UPDATE: 300, 42,900), and nearly every row a batch touches is already there. Only
// the leading projector writes these tables (the rebuild writes its own copies), so no other
// transaction inserts the same key between the two.
func queueAllSums(b *pgx.Batch, all map[allKey]*metrics, allMoney map[allMoneyKey]*moneySums) (groupsAt, moneyAt int) {
	groupsAt, moneyAt = -1, -1
	var (
		dims, spans, kinds, keys, stages []string
		days                             []time.Time
		ms                               [nMetrics][]int64
	)
	for k, m := range all {
		if *m == (metrics{}) {
			continue
		}
		dims, spans, days = append(dims, k.dim), append(spans, k.span), append(days, dayTime(k.day))
		kinds, keys, stages = append(kinds, k.kind), append(keys, k.key), append(stages, string(k.stage))
		for j := range m {
			ms[j] = append(ms[j], m[j])
		}
	}
	if len(dims) > 0 {
		groupsAt = b.Len()
		b.Queue(`WITH v AS (
				SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[], $7::bigint[],
					$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],
					$15::bigint[], $16::bigint[]) AS v(dim, span, day, kind, key, stage, items, distinct_models, with_gap,
					overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress)),
			up AS (
				UPDATE pj_group_all_sums s SET `+addGroupFrom+`
				FROM v WHERE s.dim = v.dim AND s.span = v.span AND s.day = v.day AND s.kind = v.kind AND s.key = v.key
				  AND s.stage = v.stage
				RETURNING s.dim, s.span, s.day, s.kind, s.key, s.stage, `+zeroGroupS+` AS zero),
			ins AS (
				INSERT INTO pj_group_all_sums SELECT * FROM v WHERE NOT EXISTS (SELECT FROM up WHERE up.dim = v.dim
					AND up.span = v.span AND up.day = v.day AND up.kind = v.kind AND up.key = v.key AND up.stage = v.stage))
			SELECT dim, span, day, kind, key, stage FROM up WHERE zero`,
			dims, spans, days, kinds, keys, stages, ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], ms[6], ms[7], ms[8], ms[9])
	}
	var (
		mSpans, mKinds, mSources []string
		mDays                    []time.Time
		mYears                   []int32
		req, appr, dis           []int64
	)
	for k, m := range allMoney {
		if *m == (moneySums{}) {
			continue
		}
		mSpans, mDays = append(mSpans, k.span), append(mDays, dayTime(k.day))
		mKinds, mSources, mYears = append(mKinds, k.kind), append(mSources, k.source), append(mYears, int32(k.year))
		req, appr, dis = append(req, m[0]), append(appr, m[1]), append(dis, m[2])
	}
	if len(mSpans) > 0 {
		moneyAt = b.Len()
		b.Queue(`WITH v AS (
				SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[],
					$8::bigint[]) AS v(span, day, kind, source, year, requested_vnd, approved_vnd, disbursed_vnd)),
			up AS (
				UPDATE pj_money_all_sums s SET requested_vnd = s.requested_vnd + v.requested_vnd,
					approved_vnd = s.approved_vnd + v.approved_vnd, disbursed_vnd = s.disbursed_vnd + v.disbursed_vnd
				FROM v WHERE s.span = v.span AND s.day = v.day AND s.kind = v.kind AND s.source = v.source AND s.year = v.year
				RETURNING s.span, s.day, s.kind, s.source, s.year,
					(s.requested_vnd = 0 AND s.approved_vnd = 0 AND s.disbursed_vnd = 0) AS zero),
			ins AS (
				INSERT INTO pj_money_all_sums SELECT * FROM v WHERE NOT EXISTS (SELECT FROM up WHERE up.span = v.span
					AND up.day = v.day AND up.kind = v.kind AND up.source = v.source AND up.year = v.year))
			SELECT span, day, kind, source, year FROM up WHERE zero`,
			mSpans, mDays, mKinds, mSources, mYears, req, appr, dis)
	}
	return groupsAt, moneyAt
}

// deleteZeroAllSums deletes, by their keys, the rows of pj_group_all_sums and
// pj_money_all_sums that a batch brought to zero (rare: a second round trip only then).
func deleteZeroAllSums(ctx context.Context, tx pgx.Tx, groups *zeroAllKeys, money *zeroAllMoneyKeys) error {
	if len(groups.dims) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM pj_group_all_sums d
			USING unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[]) AS z(dim, span, day, kind, key, stage)
			WHERE d.dim = z.dim AND d.span = z.span AND d.day = z.day AND d.kind = z.kind AND d.key = z.key
			  AND d.stage = z.stage AND `+zeroGroupD,
			groups.dims, groups.spans, groups.days, groups.kinds, groups.keys, groups.stages); err != nil {
			return fmt.Errorf("all sums: %w", err)
		}
	}
	if len(money.spans) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM pj_money_all_sums d
			USING unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::int[]) AS z(span, day, kind, source, year)
			WHERE d.span = z.span AND d.day = z.day AND d.kind = z.kind AND d.source = z.source AND d.year = z.year
			  AND d.requested_vnd = 0 AND d.approved_vnd = 0 AND d.disbursed_vnd = 0`,
			money.spans, money.days, money.kinds, money.sources, money.years); err != nil {
			return fmt.Errorf("all sums: %w", err)
		}
	}
	return nil
}
