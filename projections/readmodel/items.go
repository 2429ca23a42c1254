package readmodel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Items is the read model of models and projects: what each was proposed as (pj_items) and
// every fact of its life, effective-dated (pj_item_facts); each item as it stands now and
// today's sums per group (pj_item_current, pj_group_*); and the group deltas that give the
// reports of any past day as known at any moment (pj_group_deltas and the like, deltas.go).
// All three fold the facts with fold (fold.go).
type Items struct {
	// BucketFacts is how many facts a bucket of recording time holds (deltas.go); zero means
	// the default, 16384. Tests make it small. A projection's buckets are cut as it counts, so
	// a rebuild must use the size the live projection used.
	BucketFacts int
	// History, when not nil, remembers the facts of the items the projection touched last, so
	// that a batch reads only their newer facts (history.go). All gives each set of
	// projections its own.
	History *History
}

// Name is "items".
func (Items) Name() string { return "items" }

// Reset empties the tables.
func (Items) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE pj_items, pj_item_facts, pj_item_current, pj_item_current_money, pj_group_current,
		pj_group_money, pj_group_deltas, pj_money_deltas, pj_delta_buckets, pj_group_delta_sums,
		pj_money_delta_sums, pj_group_all_sums, pj_money_all_sums`)
	return err
}

func (it Items) bucketSize() int64 {
	if it.BucketFacts <= 0 {
		return defaultBucketFacts
	}
	return int64(it.BucketFacts)
}

func isItemStream(s string) bool {
	return strings.HasPrefix(s, "model-") || strings.HasPrefix(s, "project-")
}

// itemRow is a row of pj_items: an item as it was proposed.
type itemRow struct {
	id                          string
	info                        itemInfo
	title, scope, model, folded string
	start                       int64 // noDay when none
}

// factRow is a row of pj_item_facts.
type factRow struct {
	item    string
	version int64
	fact
}

// decodeRows turns a batch into item and fact rows, on two goroutines when it is large (JSON
// decoding is the slow part of a rebuild).
func decodeRows(batch []eventstore.Record) (items []itemRow, facts []factRow, err error) {
	if len(batch) < 1000 {
		return itemRows(batch)
	}
	half := len(batch) / 2
	var (
		wg                  sync.WaitGroup
		items2              []itemRow
		facts2              []factRow
		errFirst, errSecond error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		items2, facts2, errSecond = itemRows(batch[half:])
	}()
	items, facts, errFirst = itemRows(batch[:half])
	wg.Wait()
	if err := errors.Join(errFirst, errSecond); err != nil {
		return nil, nil, err
	}
	return append(items, items2...), append(facts, facts2...), nil
}

// itemRows decodes item events into pj_items and pj_item_facts rows.
func itemRows(batch []eventstore.Record) (items []itemRow, facts []factRow, err error) {
	for _, r := range batch {
		if !isItemStream(r.StreamID) {
			continue
		}
		on := civil.Of(r.Metadata.OccurredOn)
		e, err := item.Decode(r.Type, r.Data, on)
		if err != nil {
			if !knownItemType(r.Type) {
				continue // a later version's event: not one the read model counts
			}
			return nil, nil, fmt.Errorf("%s v%d: %w", r.StreamID, r.Version, err)
		}
		id := r.StreamID[strings.IndexByte(r.StreamID, '-')+1:]
		day, rec := dayNum(r.Metadata.OccurredOn), micros(r.Metadata.RecordedAt)
		add := func(f fact) {
			f.day, f.rec = day, rec
			facts = append(facts, factRow{item: id, version: r.Version, fact: f})
		}
		// Every text and number is made storable here, once (clean.go).
		switch e := e.(type) {
		case *item.Proposed:
			kind := e.Kind
			if kind != item.Model && kind != item.Project {
				// Every report counts one kind or the other: an item of neither would count in
				// none. The event type's prefix, which the codec checked, says which it is.
				kind = item.Kind(r.Type[:strings.IndexByte(r.Type, '.')])
			}
			items = append(items, itemRow{id: id, info: itemInfo{kind: string(kind), unit: line(e.UnitCode),
				pillar: line(string(e.Pillar)), sector: line(e.Sector), estimated: amount(e.EstimatedCost),
				end: dayOr(e.EndDate, noEnd), proposed: day, recorded: rec}, title: line(e.Title), scope: multiline(e.Scope),
				model: line(e.ModelID), folded: FoldTitle(line(e.Title)), start: dayOr(e.StartDate, noDay)})
			add(fact{kind: factStage, stage: stage(e.Stage)})
		case *item.FundingRequested:
			add(fact{kind: factRequested, source: source(e.Source), year: year(e.Year), amount: amount(e.Amount),
				ref: line(e.RequestID)})
		case *item.FundingApproved:
			add(fact{kind: factApproved, source: source(e.Source), year: year(e.Year), amount: amount(e.Amount),
				stage: stage(e.Stage), ref: line(e.RequestID)})
		case *item.Disbursed:
			// The budget year of the request the payment drew on; a payment recorded before
			// payments named their request counts in the year it was made.
			y := e.Year
			if y == 0 {
				y = on.Year
			}
			add(fact{kind: factDisbursed, source: source(e.Source), year: year(y), amount: amount(e.Amount),
				ref: line(e.RequestID)})
		case *item.ProgressReported:
			add(fact{kind: factProgress, percent: percent(e.Percent)})
		case *item.Implemented:
			add(fact{kind: factStage, stage: stage(e.Stage), percent: 100})
		case *item.Evaluated:
			add(fact{kind: factStage, stage: stage(e.Stage), ref: line(string(e.Rating))})
		case *item.Suspended:
			add(fact{kind: factStage, stage: stage(e.Stage)})
		case *item.Resumed:
			add(fact{kind: factStage, stage: stage(e.Stage)})
		case *item.Cancelled:
			add(fact{kind: factStage, stage: stage(e.Stage)})
		case *item.OwnFundingArranged:
			add(fact{kind: factStage, stage: stage(e.Stage), ref: line(string(e.Means))})
		case *item.MarkedSameAs:
			add(fact{kind: factSameAs, ref: line(e.ModelID)})
		case *item.SameAsUnmarked:
			add(fact{kind: factSameAs}) // counted as a distinct model again
		case *item.FlaggedNoProgress:
			add(fact{kind: factFlagged})
		case *item.BecameOverdue:
			add(fact{kind: factOverdue})
		}
	}
	return items, facts, nil
}

// dayOr is d's day number, or none when d is zero.
func dayOr(d civil.Date, none int64) int64 {
	if d.IsZero() {
		return none
	}
	return dayNum(d.Time(utc))
}

// Apply writes the batch's rows, today's rows and sums and the group deltas: every statement
// in one round trip, whatever the batch size, after one that reads what the batch continues.
func (it Items) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Record) error {
	items, facts, err := decodeRows(batch)
	if err != nil {
		return err
	}
	if len(facts) == 0 {
		return nil // every item has its proposal's fact: no facts, no items
	}
	in, err := load(ctx, tx, items, facts, it.bucketSize(), it.History)
	if err != nil {
		return err
	}
	// The group deltas are folded on another goroutine while the other rows are queued; both
	// only read the histories.
	deltas := make(chan *deltaSet, 1)
	go func() { deltas <- in.compute() }()
	var b pgx.Batch
	queueItems(&b, in.items, facts)
	queueCurrent(&b, in.order)
	if err := writeDeltas(ctx, tx, &b, <-deltas, in.bk); err != nil {
		return err
	}
	if it.History != nil {
		last := make(map[string]int64, len(in.order))
		for i := range facts {
			last[facts[i].item] = max(last[facts[i].item], facts[i].version)
		}
		for _, h := range in.order {
			it.History.keep(h.id, h.info, h.facts, last[h.id])
		}
	}
	return nil
}

// queueItems queues the batch's pj_items and pj_item_facts rows.
func queueItems(b *pgx.Batch, items []itemRow, facts []factRow) {
	if n := len(items); n > 0 {
		var (
			ids, kinds, titles, units, pillars, sectors, scopes, models, folded = make([]string, n), make([]string, n),
				make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n),
				make([]string, n), make([]string, n)
			est                    = make([]int64, n)
			starts, ends, proposed = make([]pgtype.Date, n), make([]pgtype.Date, n), make([]pgtype.Date, n)
			recorded               = make([]time.Time, n)
		)
		for i := range items {
			r := &items[i]
			ids[i], kinds[i], titles[i], units[i], pillars[i], sectors[i] = r.id, r.info.kind, r.title, r.info.unit,
				r.info.pillar, r.info.sector
			scopes[i], models[i], folded[i], est[i] = r.scope, r.model, r.folded, r.info.estimated
			starts[i], ends[i], proposed[i] = pgDate(r.start), pgDate(endDay(&r.info)), pgDate(r.info.proposed)
			recorded[i] = time.UnixMicro(r.info.recorded).UTC()
		}
		b.Queue(`INSERT INTO pj_items (item_id, kind, title, unit_code, pillar, sector, scope, model_id, estimated_vnd,
				start_date, end_date, proposed_on, recorded_at, title_folded)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
				$9::bigint[], $10::date[], $11::date[], $12::date[], $13::timestamptz[], $14::text[])`,
			ids, kinds, titles, units, pillars, sectors, scopes, models, est, starts, ends, proposed, recorded, folded)
	}
	if n := len(facts); n > 0 {
		var (
			ids, kinds, sources, stages, refs = make([]string, n), make([]string, n), make([]string, n), make([]string, n),
				make([]string, n)
			versions, amounts = make([]int64, n), make([]int64, n)
			years, percents   = make([]int32, n), make([]int32, n)
			days              = make([]pgtype.Date, n)
			recs              = make([]time.Time, n)
		)
		for i := range facts {
			f := &facts[i]
			ids[i], versions[i], kinds[i], days[i], recs[i] = f.item, f.version, f.kind.String(), pgDate(f.day),
				time.UnixMicro(f.rec).UTC()
			sources[i], years[i], amounts[i], stages[i], percents[i], refs[i] = f.source, int32(f.year), f.amount,
				string(f.stage), int32(f.percent), f.ref
		}
		b.Queue(`INSERT INTO pj_item_facts (item_id, version, fact, occurred_on, recorded_at, source, year, amount, stage,
				percent, ref)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::date[], $5::timestamptz[], $6::text[], $7::int[],
				$8::bigint[], $9::text[], $10::int[], $11::text[])`,
			ids, versions, kinds, days, recs, sources, years, amounts, stages, percents, refs)
	}
}

// pgDate is a day number as a date parameter (noDay: NULL).
func pgDate(day int64) pgtype.Date {
	if day == noDay {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: dayTime(day), Valid: true}
}

func endDay(info *itemInfo) int64 {
	if info.end == noEnd {
		return noDay
	}
	return info.end
}

type moneyGroupKey struct {
	kind      string
	cancelled bool
	source    string
	year      int
}

// currentChange sums what a batch changes in today's group tables.
type currentChange struct {
	groups map[groupKey]*metrics
	money  map[moneyGroupKey]*moneySums
}

func newCurrentChange() *currentChange {
	return &currentChange{groups: map[groupKey]*metrics{}, money: map[moneyGroupKey]*moneySums{}}
}

// add adds (sign 1) or takes away (sign -1) what an item folded today counts in today's group
// tables: its group's figures and its money under its kind and cancelled status.
func (c *currentChange) add(info *itemInfo, f *figures, sign int64) {
	if !f.present {
		return
	}
	if f.stage != "" {
		g := f.group(info)
		m := f.metrics(info, noDay)
		acc := c.groups[g]
		if acc == nil {
			acc = &metrics{}
			c.groups[g] = acc
		}
		for j := range m {
			acc[j] += sign * m[j]
		}
	}
	for _, e := range f.money {
		k := moneyGroupKey{info.kind, f.stage == item.StageCancelled, e.source, e.year}
		acc := c.money[k]
		if acc == nil {
			acc = &moneySums{}
			c.money[k] = acc
		}
		for j := range e.sums {
			acc[j] += sign * e.sums[j]
		}
	}
}

// item folds an item the batch touches before the batch and after it, and adds what the batch
// changed to today's group sums. It returns the item's row of today (meaningful when its
// proposal is known), and appends to diff what the batch changed in its money by source and
// year — the rows it opens included; both folds' money is appended to buf.
func (c *currentChange) item(h *itemHistory, buf, diff []moneyEntry) (figures, []moneyEntry, []moneyEntry) {
	var before, after figures
	before, buf = fold(h.info, h.facts[:h.nOld], always, always, buf)
	after, buf = fold(h.info, h.facts, always, always, buf)
	if h.info != nil {
		c.add(h.info, &before, -1)
		c.add(h.info, &after, 1)
	}
	for _, e := range after.money {
		known := false
		for _, o := range before.money {
			if o.source == e.source && o.year == e.year {
				known = true
				for j := range e.sums {
					e.sums[j] -= o.sums[j]
				}
			}
		}
		if !known || e.sums != (moneySums{}) {
			diff = append(diff, e)
		}
	}
	return after, buf, diff
}

// queueCurrent queues the rows of today of the items the batch touches — each folded with its
// earlier facts, before the batch and after it — and the change of today's group sums, so
// that "now" can be read without folding.
func queueCurrent(b *pgx.Batch, items []*itemHistory) {
	ch := newCurrentChange()
	var (
		buf, diff                             []moneyEntry
		ids, kinds, units, pillars, sectors   []string
		stages, sameAs                        []string
		est, req, appr, disb                  []int64
		progress                              []int32
		ends, funded, progressed, flagged, od []pgtype.Date
		mIDs, mSources                        []string
		mYears                                []int32
		mReq, mAppr, mDisb                    []int64
	)
	// The items with no fact before the batch come first: they have no row yet.
	isFresh := func(h *itemHistory) bool { return h.info != nil && h.nOld == 0 }
	ordered := make([]*itemHistory, 0, len(items))
	for _, h := range items {
		if isFresh(h) {
			ordered = append(ordered, h)
		}
	}
	nFresh := len(ordered)
	for _, h := range items {
		if !isFresh(h) {
			ordered = append(ordered, h)
		}
	}
	items = ordered
	for _, h := range items {
		var after figures
		after, buf, diff = ch.item(h, buf[:0], diff[:0])
		if info := h.info; info != nil {
			ids, kinds, units, pillars, sectors = append(ids, h.id), append(kinds, info.kind), append(units, info.unit),
				append(pillars, info.pillar), append(sectors, info.sector)
			est, ends = append(est, info.estimated), append(ends, pgDate(endDay(info)))
			req, appr, disb = append(req, after.requested), append(appr, after.approved), append(disb, after.disbursed)
			stages, progress, sameAs = append(stages, string(after.stage)), append(progress, int32(after.progress)),
				append(sameAs, after.sameAs)
			funded, progressed = append(funded, pgDate(after.firstFunded)), append(progressed, pgDate(after.lastProgress))
			flagged, od = append(flagged, pgDate(after.flagged)), append(od, pgDate(after.overdue))
		}
		for _, d := range diff {
			mIDs, mSources, mYears = append(mIDs, h.id), append(mSources, d.source), append(mYears, int32(d.year))
			mReq, mAppr, mDisb = append(mReq, d.sums[0]), append(mAppr, d.sums[1]), append(mDisb, d.sums[2])
		}
	}
	if n := nFresh; n > 0 {
		// Items with no fact before the batch have no row yet: a plain INSERT, no arbiter.
		b.Queue(`INSERT INTO pj_item_current (item_id, kind, unit_code, pillar, sector, estimated_vnd, end_date,
				requested_vnd, approved_vnd, disbursed_vnd, stage, progress, same_as, first_funded_on, last_progress_on,
				flagged_on, overdue_since)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::date[],
				$8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::int[], $13::text[], $14::date[], $15::date[],
				$16::date[], $17::date[])`,
			ids[:n], kinds[:n], units[:n], pillars[:n], sectors[:n], est[:n], ends[:n], req[:n], appr[:n], disb[:n],
			stages[:n], progress[:n], sameAs[:n], funded[:n], progressed[:n], flagged[:n], od[:n])
		ids, kinds, units, pillars, sectors, est, ends = ids[n:], kinds[n:], units[n:], pillars[n:], sectors[n:], est[n:], ends[n:]
		req, appr, disb, stages, progress, sameAs = req[n:], appr[n:], disb[n:], stages[n:], progress[n:], sameAs[n:]
		funded, progressed, flagged, od = funded[n:], progressed[n:], flagged[n:], od[n:]
	}
	if len(ids) > 0 {
		b.Queue(`INSERT INTO pj_item_current AS c (item_id, kind, unit_code, pillar, sector, estimated_vnd, end_date,
				requested_vnd, approved_vnd, disbursed_vnd, stage, progress, same_as, first_funded_on, last_progress_on,
				flagged_on, overdue_since)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::date[],
				$8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::int[], $13::text[], $14::date[], $15::date[],
				$16::date[], $17::date[])
			ON CONFLICT (item_id) DO UPDATE SET requested_vnd = EXCLUDED.requested_vnd,
				approved_vnd = EXCLUDED.approved_vnd, disbursed_vnd = EXCLUDED.disbursed_vnd, stage = EXCLUDED.stage,
				progress = EXCLUDED.progress, same_as = EXCLUDED.same_as, first_funded_on = EXCLUDED.first_funded_on,
				last_progress_on = EXCLUDED.last_progress_on, flagged_on = EXCLUDED.flagged_on,
				overdue_since = EXCLUDED.overdue_since`,
			ids, kinds, units, pillars, sectors, est, ends, req, appr, disb, stages, progress, sameAs, funded, progressed,
			flagged, od)
	}
	if len(mIDs) > 0 {
		b.Queue(`INSERT INTO pj_item_current_money AS c (item_id, source, year, requested_vnd, approved_vnd, disbursed_vnd)
			SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[])
			ON CONFLICT (item_id, source, year) DO UPDATE SET
				requested_vnd = c.requested_vnd + EXCLUDED.requested_vnd,
				approved_vnd = c.approved_vnd + EXCLUDED.approved_vnd,
				disbursed_vnd = c.disbursed_vnd + EXCLUDED.disbursed_vnd`, mIDs, mSources, mYears, mReq, mAppr, mDisb)
	}
	ch.queue(b)
}

// queue queues the change of today's group tables; a group every item has left is not kept
// (a rebuild never makes it). A row reaches zero only when the batch lowers it, so only the
// rows it lowers are looked at again, by their keys (no index names a figure: the updates
// of these rows, made by nearly every batch, stay HOT; migration 00017).
func (c *currentChange) queue(b *pgx.Batch) {
	var (
		kinds, units, pillars, sectors, stages []string
		ms                                     [nMetrics][]int64
		lowered                                groupKeyCols
	)
	for g, m := range c.groups {
		if *m == (metrics{}) {
			continue
		}
		kinds, units, pillars, sectors, stages = append(kinds, g.kind), append(units, g.unit), append(pillars, g.pillar),
			append(sectors, g.sector), append(stages, string(g.stage))
		for j := range m {
			ms[j] = append(ms[j], m[j])
		}
		if m[mItems] < 0 {
			lowered.add(g)
		}
	}
	if len(kinds) > 0 {
		// An UPDATE of the rows there and an INSERT of the others, not INSERT … ON CONFLICT DO
		// UPDATE, which writes a WAL record to lock each row before the one that updates it
		// (queueAllSums in deltas.go says more).
		b.Queue(`WITH v AS (
				SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
					$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])
					AS v(kind, unit_code, pillar, sector, stage, items, distinct_models, with_gap, estimated_vnd, requested_vnd,
					approved_vnd, disbursed_vnd, gap_vnd, progress)),
			up AS (
				UPDATE pj_group_current g SET items = g.items + v.items, distinct_models = g.distinct_models + v.distinct_models,
					with_gap = g.with_gap + v.with_gap, estimated_vnd = g.estimated_vnd + v.estimated_vnd,
					requested_vnd = g.requested_vnd + v.requested_vnd, approved_vnd = g.approved_vnd + v.approved_vnd,
					disbursed_vnd = g.disbursed_vnd + v.disbursed_vnd, gap_vnd = g.gap_vnd + v.gap_vnd,
					progress = g.progress + v.progress
				FROM v WHERE g.kind = v.kind AND g.unit_code = v.unit_code AND g.pillar = v.pillar AND g.sector = v.sector
				  AND g.stage = v.stage
				RETURNING g.kind, g.unit_code, g.pillar, g.sector, g.stage)
			INSERT INTO pj_group_current (kind, unit_code, pillar, sector, stage, items, distinct_models, with_gap,
				estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress)
			SELECT * FROM v WHERE NOT EXISTS (SELECT FROM up WHERE up.kind = v.kind AND up.unit_code = v.unit_code
				AND up.pillar = v.pillar AND up.sector = v.sector AND up.stage = v.stage)`,
			kinds, units, pillars, sectors, stages, ms[mItems], ms[mDistinct], ms[mWithGap], ms[mEstimated], ms[mRequested],
			ms[mApproved], ms[mDisbursed], ms[mGap], ms[mProgress])
	}
	if g := &lowered; len(g.kinds) > 0 {
		b.Queue(`DELETE FROM pj_group_current d
			USING unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS z(kind, unit_code, pillar, sector, stage)
			WHERE d.kind = z.kind AND d.unit_code = z.unit_code AND d.pillar = z.pillar AND d.sector = z.sector
			  AND d.stage = z.stage AND d.items = 0`,
			g.kinds, g.units, g.pillars, g.sectors, g.stages)
	}
	var (
		mKinds, mSources []string
		cancelled        []bool
		years            []int32
		req, appr, disb  []int64
		lowMoney         int
	)
	for k, m := range c.money {
		if *m == (moneySums{}) {
			continue
		}
		mKinds, cancelled, mSources, years = append(mKinds, k.kind), append(cancelled, k.cancelled), append(mSources, k.source),
			append(years, int32(k.year))
		req, appr, disb = append(req, m[0]), append(appr, m[1]), append(disb, m[2])
		if m[0] < 0 || m[1] < 0 || m[2] < 0 {
			lowMoney++
		}
	}
	if len(mKinds) > 0 {
		b.Queue(`INSERT INTO pj_group_money AS g (kind, cancelled, source, year, requested_vnd, approved_vnd, disbursed_vnd)
			SELECT * FROM unnest($1::text[], $2::bool[], $3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[])
			ON CONFLICT (kind, cancelled, source, year) DO UPDATE SET
				requested_vnd = g.requested_vnd + EXCLUDED.requested_vnd, approved_vnd = g.approved_vnd + EXCLUDED.approved_vnd,
				disbursed_vnd = g.disbursed_vnd + EXCLUDED.disbursed_vnd`,
			mKinds, cancelled, mSources, years, req, appr, disb)
		if lowMoney > 0 { // a small table (kinds × sources × years): no keys needed
			b.Queue(`DELETE FROM pj_group_money WHERE requested_vnd = 0 AND approved_vnd = 0 AND disbursed_vnd = 0`)
		}
	}
}

// groupKeyCols are group keys, column by column, as unnest takes them.
type groupKeyCols struct {
	kinds, units, pillars, sectors, stages []string
}

func (c *groupKeyCols) add(g groupKey) {
	c.kinds, c.units, c.pillars, c.sectors = append(c.kinds, g.kind), append(c.units, g.unit), append(c.pillars, g.pillar),
		append(c.sectors, g.sector)
	c.stages = append(c.stages, string(g.stage))
}
