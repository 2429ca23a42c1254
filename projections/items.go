package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5"
)

// Items is the read model of models and projects: what each was proposed as (pj_items) and
// every counted fact of its life, effective-dated (pj_item_facts); each item as it stands now
// and today's sums per group (pj_item_current, pj_group_*); and the group deltas that give
// the reports of any past day as known at any moment (pj_group_deltas and the like, deltas.go).
type Items struct {
	// bucketFacts is how many facts a bucket of recording time holds (deltas.go); zero means
	// defaultBucketFacts. Tests make it small.
	bucketFacts int
}

// Name is "items".
func (Items) Name() string { return "items" }

// Reset empties the tables.
func (Items) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE pj_items, pj_item_facts, pj_item_current, pj_item_current_money, pj_group_current,
		pj_group_money, pj_group_open_end, pj_group_deltas, pj_money_deltas, pj_delta_buckets, pj_group_delta_sums,
		pj_money_delta_sums, pj_group_open_sums, pj_money_open_sums, pj_group_all_sums, pj_money_all_sums`)
	return err
}

func isItemStream(s string) bool {
	return strings.HasPrefix(s, "model-") || strings.HasPrefix(s, "project-")
}

// decodeRows turns a batch into item and fact rows, on two goroutines when it is large (JSON
// decoding is the slow part of a rebuild).
func decodeRows(batch []eventstore.Record) (items, facts [][]any, err error) {
	if len(batch) < 1000 {
		return itemRows(batch)
	}
	half := len(batch) / 2
	var (
		wg                  sync.WaitGroup
		items2, facts2      [][]any
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

// Apply writes the batch's rows with COPY: one round trip per table, whatever the batch size.
func (it Items) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Record) error {
	items, facts, err := decodeRows(batch)
	if err != nil {
		return err
	}
	in, err := it.loadDeltas(ctx, tx, items, facts)
	if err != nil {
		return err
	}
	// The group deltas are folded on another goroutine while the other rows are written.
	deltas := make(chan *deltaSet, 1)
	if in != nil {
		go func() { deltas <- in.compute() }()
	}
	// Every statement of the batch goes in one round trip, in order: the new rows, today's
	// rows and sums, then the group deltas (waiting for their fold).
	var b pgx.Batch
	queueItems(&b, items, facts)
	queueCurrent(&b, items, facts)
	if in == nil {
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, &b).Close()
	}
	return writeDeltas(ctx, tx, &b, <-deltas, in.bk)
}

// Column positions in the rows itemRows builds.
const (
	itemID, itemKind, itemTitle, itemUnit, itemPillar, itemSector, itemScope, itemModel, itemEstimated, itemStart, itemEnd = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	itemProposed, itemRecorded                                                                                             = 11, 12
	factItem, factVersion, factKind, factDay, factAt, factSource, factYear, factAmount, factStage, factPercent, factRef    = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
)

type currentDelta struct {
	requested, approved, disbursed int64
	stage                          string
	progress                       int
	progressSet                    bool
	sameAs                         string
	sameAsSet                      bool
	// The dates the deadline process manager looks for, as the domain's State keeps them:
	// the first approval's day, the last progress report's day, the last flags' days.
	firstFunded, lastProgress, flagged, overdue *time.Time
}

type moneyKey struct {
	item, source string
	year         int
}

// queueCurrent queues what folds the batch's facts into pj_item_current and
// pj_item_current_money, the same fold the reports apply to the facts (reports.go, load), so
// that "now" can be read without folding.
func queueCurrent(b *pgx.Batch, items, facts [][]any) {
	if len(items) > 0 {
		n := len(items)
		ids, kinds, units, pillars, sectors := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
			make([]string, n)
		est := make([]int64, n)
		ends := make([]*time.Time, n)
		for i, it := range items {
			ids[i], kinds[i], units[i], pillars[i], sectors[i] = it[itemID].(string), it[itemKind].(string),
				it[itemUnit].(string), it[itemPillar].(string), it[itemSector].(string)
			est[i] = it[itemEstimated].(int64)
			if end, ok := it[itemEnd].(time.Time); ok {
				ends[i] = &end
			}
		}
		b.Queue(`INSERT INTO pj_item_current (item_id, kind, unit_code, pillar, sector, estimated_vnd, end_date, stage)
			SELECT *, '' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::date[])`,
			ids, kinds, units, pillars, sectors, est, ends)
	}
	deltas := map[string]*currentDelta{}
	var order []string
	money := map[moneyKey]*[3]int64{}
	var moneyOrder []moneyKey
	for _, f := range facts {
		id := f[factItem].(string)
		d := deltas[id]
		if d == nil {
			d = &currentDelta{}
			deltas[id] = d
			order = append(order, id)
		}
		amount, stage := f[factAmount].(int64), f[factStage].(string)
		day := f[factDay].(time.Time)
		col := -1
		switch f[factKind].(string) {
		case "requested":
			d.requested, col = d.requested+amount, 0
		case "approved":
			d.approved, col = d.approved+amount, 1
			if d.firstFunded == nil {
				d.firstFunded = &day
			}
		case "disbursed":
			d.disbursed, col = d.disbursed+amount, 2
		case "progress":
			d.progress, d.progressSet = f[factPercent].(int), true
			d.lastProgress = &day
		case "same_as":
			d.sameAs, d.sameAsSet = f[factRef].(string), true
		case "flagged":
			d.flagged = &day
		case "overdue":
			d.overdue = &day
		}
		if stage != "" {
			d.stage = stage
		}
		if stage == "implemented" {
			d.progress, d.progressSet = 100, true
		}
		if col >= 0 {
			k := moneyKey{id, f[factSource].(string), f[factYear].(int)}
			if money[k] == nil {
				money[k] = &[3]int64{}
				moneyOrder = append(moneyOrder, k)
			}
			money[k][col] += amount
		}
	}
	// The money of the touched items leaves its group first and comes back, changed, at the end.
	moveGroupMoney(b, order, -1)
	if len(order) > 0 {
		n := len(order)
		ids, stages, sameAs := make([]string, n), make([]string, n), make([]string, n)
		req, appr, disb := make([]int64, n), make([]int64, n), make([]int64, n)
		progress := make([]int32, n)
		progressSet, sameAsSet := make([]bool, n), make([]bool, n)
		funded, progressed, flagged, overdue := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		for i, id := range order {
			d := deltas[id]
			ids[i], stages[i], sameAs[i] = id, d.stage, d.sameAs
			req[i], appr[i], disb[i] = d.requested, d.approved, d.disbursed
			progress[i], progressSet[i], sameAsSet[i] = int32(d.progress), d.progressSet, d.sameAsSet
			funded[i], progressed[i], flagged[i], overdue[i] = d.firstFunded, d.lastProgress, d.flagged, d.overdue
		}
		// One statement updates the items and moves their contributions between the groups of
		// pj_group_current: the CTE "old" sees the rows as they were before the UPDATE (every
		// part of a statement sees one snapshot), RETURNING gives them as they are after.
		b.Queue(`WITH d AS (
				SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::int[], $7::bool[],
					$8::text[], $9::bool[], $10::date[], $11::date[], $12::date[], $13::date[])
					AS d(item_id, req, appr, disb, stage, progress, progress_set, same_as, same_as_set, funded, progressed, flagged, overdue)),
			old AS (SELECT c.* FROM pj_item_current c JOIN d USING (item_id)),
			upd AS (UPDATE pj_item_current c SET
				requested_vnd = c.requested_vnd + d.req, approved_vnd = c.approved_vnd + d.appr,
				disbursed_vnd = c.disbursed_vnd + d.disb,
				stage = CASE WHEN d.stage <> '' THEN d.stage ELSE c.stage END,
				progress = CASE WHEN d.progress_set THEN d.progress ELSE c.progress END,
				same_as = CASE WHEN d.same_as_set THEN d.same_as ELSE c.same_as END,
				first_funded_on = coalesce(c.first_funded_on, d.funded),
				last_progress_on = coalesce(d.progressed, c.last_progress_on),
				flagged_on = coalesce(d.flagged, c.flagged_on),
				overdue_since = coalesce(d.overdue, c.overdue_since)
				FROM d WHERE c.item_id = d.item_id
				RETURNING c.*),
			contrib AS (
				SELECT -1 AS sign, * FROM old WHERE stage <> ''
				UNION ALL
				SELECT 1, * FROM upd WHERE stage <> ''),
			open_end AS (
				INSERT INTO pj_group_open_end AS o (kind, unit_code, pillar, sector, stage, end_month, items)
				SELECT kind, unit_code, pillar, sector, stage, date_trunc('month', end_date)::date, sum(sign)::bigint
				FROM contrib
				WHERE end_date IS NOT NULL AND stage NOT IN ('implemented', 'evaluated', 'cancelled')
				GROUP BY kind, unit_code, pillar, sector, stage, date_trunc('month', end_date)::date
				ON CONFLICT (kind, unit_code, pillar, sector, stage, end_month) DO UPDATE SET items = o.items + EXCLUDED.items)
			INSERT INTO pj_group_current AS g (kind, unit_code, pillar, sector, stage, items, distinct_models, with_gap,
				estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd, gap_vnd, progress)
			SELECT kind, unit_code, pillar, sector, stage, sum(sign)::bigint,
				coalesce(sum(sign) FILTER (WHERE same_as = ''), 0)::bigint,
				coalesce(sum(sign) FILTER (WHERE estimated_vnd > approved_vnd), 0)::bigint,
				sum(sign * estimated_vnd)::bigint, sum(sign * requested_vnd)::bigint, sum(sign * approved_vnd)::bigint,
				sum(sign * disbursed_vnd)::bigint, sum(sign * greatest(0, estimated_vnd - approved_vnd))::bigint,
				sum(sign * progress)::bigint
			FROM contrib GROUP BY kind, unit_code, pillar, sector, stage
			ON CONFLICT (kind, unit_code, pillar, sector, stage) DO UPDATE SET
				items = g.items + EXCLUDED.items, distinct_models = g.distinct_models + EXCLUDED.distinct_models,
				with_gap = g.with_gap + EXCLUDED.with_gap, estimated_vnd = g.estimated_vnd + EXCLUDED.estimated_vnd,
				requested_vnd = g.requested_vnd + EXCLUDED.requested_vnd, approved_vnd = g.approved_vnd + EXCLUDED.approved_vnd,
				disbursed_vnd = g.disbursed_vnd + EXCLUDED.disbursed_vnd, gap_vnd = g.gap_vnd + EXCLUDED.gap_vnd,
				progress = g.progress + EXCLUDED.progress`, ids, req, appr, disb, stages, progress, progressSet, sameAs, sameAsSet,
			funded, progressed, flagged, overdue)
		// A group every item has left is not kept (a rebuild never makes it); partial indexes
		// of migration 00014 find these rows.
		b.Queue(`DELETE FROM pj_group_current WHERE items = 0`)
		b.Queue(`DELETE FROM pj_group_open_end WHERE items = 0`)
	}
	if len(moneyOrder) > 0 {
		n := len(moneyOrder)
		ids, sources := make([]string, n), make([]string, n)
		years := make([]int32, n)
		req, appr, disb := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, k := range moneyOrder {
			m := money[k]
			ids[i], sources[i], years[i] = k.item, k.source, int32(k.year)
			req[i], appr[i], disb[i] = m[0], m[1], m[2]
		}
		b.Queue(`INSERT INTO pj_item_current_money AS c (item_id, source, year, requested_vnd, approved_vnd, disbursed_vnd)
			SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[])
			ON CONFLICT (item_id, source, year) DO UPDATE SET
				requested_vnd = c.requested_vnd + EXCLUDED.requested_vnd,
				approved_vnd = c.approved_vnd + EXCLUDED.approved_vnd,
				disbursed_vnd = c.disbursed_vnd + EXCLUDED.disbursed_vnd`, ids, sources, years, req, appr, disb)
	}
	moveGroupMoney(b, order, 1)
}

// moveGroupMoney queues what adds (sign 1) or takes away (sign -1) the money of items to or
// from pj_group_money, under each item's kind and cancelled status as they are then. Queued
// before and after a batch's updates, it moves exactly what the batch changed; a group left
// with no money is dropped.
func moveGroupMoney(b *pgx.Batch, items []string, sign int64) {
	if len(items) == 0 {
		return
	}
	b.Queue(`INSERT INTO pj_group_money AS g (kind, cancelled, source, year, requested_vnd, approved_vnd, disbursed_vnd)
		SELECT c.kind, c.stage = 'cancelled', m.source, m.year, ($2 * sum(m.requested_vnd))::bigint,
			($2 * sum(m.approved_vnd))::bigint, ($2 * sum(m.disbursed_vnd))::bigint
		FROM pj_item_current_money m JOIN pj_item_current c USING (item_id)
		WHERE m.item_id = ANY($1)
		GROUP BY c.kind, c.stage = 'cancelled', m.source, m.year
		ON CONFLICT (kind, cancelled, source, year) DO UPDATE SET
			requested_vnd = g.requested_vnd + EXCLUDED.requested_vnd, approved_vnd = g.approved_vnd + EXCLUDED.approved_vnd,
			disbursed_vnd = g.disbursed_vnd + EXCLUDED.disbursed_vnd`, items, sign)
	if sign > 0 {
		b.Queue(`DELETE FROM pj_group_money WHERE requested_vnd = 0 AND approved_vnd = 0 AND disbursed_vnd = 0`)
	}
}

// itemRows decodes item events into pj_items and pj_item_facts rows.
func itemRows(batch []eventstore.Record) (items, facts [][]any, err error) {
	for _, r := range batch {
		if !isItemStream(r.StreamID) {
			continue
		}
		on := civil.Of(r.Metadata.OccurredOn)
		e, err := item.Decode(r.Type, r.Data, on)
		if err != nil {
			return nil, nil, fmt.Errorf("%s v%d: %w", r.StreamID, r.Version, err)
		}
		id := r.StreamID[strings.IndexByte(r.StreamID, '-')+1:]
		day := r.Metadata.OccurredOn
		at := r.Metadata.RecordedAt
		fact := func(kind string, source string, year int, amount int64, stage string, percent int, ref string) {
			facts = append(facts, []any{id, r.Version, kind, day, at, source, year, amount, stage, percent, ref})
		}
		switch e := e.(type) {
		case *item.Proposed:
			items = append(items, []any{id, string(e.Kind), e.Title, e.UnitCode, string(e.Pillar), e.Sector, e.Scope, e.ModelID,
				int64(e.EstimatedCost), dateOrNil(e.StartDate), dateOrNil(e.EndDate), day, at, Fold(e.Title)})
			fact("stage", "", 0, 0, string(e.Stage), 0, "")
		case *item.FundingRequested:
			fact("requested", string(e.Source), e.Year, int64(e.Amount), "", 0, e.RequestID)
		case *item.FundingApproved:
			fact("approved", string(e.Source), e.Year, int64(e.Amount), string(e.Stage), 0, e.RequestID)
		case *item.Disbursed:
			fact("disbursed", string(e.Source), on.Year, int64(e.Amount), "", 0, "")
		case *item.ProgressReported:
			fact("progress", "", 0, 0, "", e.Percent, "")
		case *item.Implemented:
			fact("stage", "", 0, 0, string(e.Stage), 100, "")
		case *item.Evaluated:
			fact("stage", "", 0, 0, string(e.Stage), 0, string(e.Rating))
		case *item.Suspended:
			fact("stage", "", 0, 0, string(e.Stage), 0, "")
		case *item.Resumed:
			fact("stage", "", 0, 0, string(e.Stage), 0, "")
		case *item.Cancelled:
			fact("stage", "", 0, 0, string(e.Stage), 0, "")
		case *item.MarkedSameAs:
			fact("same_as", "", 0, 0, "", 0, e.ModelID)
		case *item.FlaggedNoProgress:
			fact("flagged", "", 0, 0, "", 0, "")
		case *item.BecameOverdue:
			fact("overdue", "", 0, 0, "", 0, "")
		}
	}
	return items, facts, nil
}

// queueItems queues the batch's pj_items and pj_item_facts rows.
func queueItems(b *pgx.Batch, items, facts [][]any) {
	if n := len(items); n > 0 {
		var c [14][]any
		for j := range c {
			c[j] = make([]any, n)
		}
		for i, row := range items {
			for j := range c {
				c[j][i] = row[j]
			}
		}
		b.Queue(`INSERT INTO pj_items (item_id, kind, title, unit_code, pillar, sector, scope, model_id, estimated_vnd,
				start_date, end_date, proposed_on, recorded_at, title_folded)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
				$9::bigint[], $10::date[], $11::date[], $12::date[], $13::timestamptz[], $14::text[])`,
			c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13])
	}
	if n := len(facts); n > 0 {
		var c [11][]any
		for j := range c {
			c[j] = make([]any, n)
		}
		for i, row := range facts {
			for j := range c {
				c[j][i] = row[j]
			}
		}
		b.Queue(`INSERT INTO pj_item_facts (item_id, version, fact, occurred_on, recorded_at, source, year, amount, stage,
				percent, ref)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::date[], $5::timestamptz[], $6::text[], $7::int[],
				$8::bigint[], $9::text[], $10::int[], $11::text[])`,
			c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10])
	}
}

func dateOrNil(d civil.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.Time(utc)
}

// Units is the read model of units and their successions.
type Units struct{}

// Name is "units".
func (Units) Name() string { return "units" }

// Reset empties the tables.
func (Units) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE pj_units, pj_unit_merges`)
	return err
}

// Apply writes unit registrations, renames and merges.
func (Units) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Record) error {
	for _, r := range batch {
		if !strings.HasPrefix(r.StreamID, "unit-") {
			continue
		}
		e, err := unit.Decode(r.Type, r.Data)
		if err != nil {
			return fmt.Errorf("%s v%d: %w", r.StreamID, r.Version, err)
		}
		at := r.Metadata.RecordedAt
		switch e := e.(type) {
		case unit.Registered:
			_, err = tx.Exec(ctx, `INSERT INTO pj_units (code, name, kind, parent_code, registered_on, recorded_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, e.Code, e.Name, string(e.Kind), e.ParentCode, e.On.Time(utc), at)
		case unit.Renamed:
			_, err = tx.Exec(ctx, `UPDATE pj_units SET name = $2 WHERE code = $1`, e.Code, e.Name)
		case unit.Merged:
			_, err = tx.Exec(ctx, `INSERT INTO pj_unit_merges (code, into_code, effective_date, recorded_at)
				VALUES ($1, $2, $3, $4)`, e.Code, e.IntoCode, e.EffectiveDate.Time(utc), at)
		}
		if err != nil {
			return fmt.Errorf("%s v%d: %w", r.StreamID, r.Version, err)
		}
	}
	return nil
}
