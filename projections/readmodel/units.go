package readmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"

	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5"
)

// Units is the read model of units and their successions.
type Units struct{}

// Name is "units".
func (Units) Name() string { return "units" }

// Reset empties the tables.
func (Units) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE pj_units, pj_unit_merges, pj_unit_splits`)
	return err
}

// Apply writes unit registrations, renames, merges and splits. A unit registered or merged a second
// time (the domain refuses both; the store may hold them) keeps its first registration or
// merge, and an event type the unit codec does not know (a later version's) is skipped.
func (Units) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Record) error {
	for _, r := range batch {
		if !strings.HasPrefix(r.StreamID, "unit-") {
			continue
		}
		e, err := unitRow(r)
		if errors.Is(err, unit.ErrUnknownEventType) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s v%d: %w", r.StreamID, r.Version, err)
		}
		at := r.Metadata.RecordedAt
		switch e := e.(type) {
		case unit.Registered:
			_, err = tx.Exec(ctx, `INSERT INTO pj_units (code, name, kind, parent_code, registered_on, recorded_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING`,
				e.Code, e.Name, string(e.Kind), e.ParentCode, e.On.Time(utc), at)
		case unit.Renamed:
			_, err = tx.Exec(ctx, `UPDATE pj_units SET name = $2 WHERE code = $1`, e.Code, e.Name)
		case unit.Merged:
			_, err = tx.Exec(ctx, `INSERT INTO pj_unit_merges (code, into_code, effective_date, recorded_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING`, e.Code, e.IntoCode, e.EffectiveDate.Time(utc), at)
		case unit.Split:
			ids, into := []string{""}, []string{e.RestIntoCode}
			for _, p := range e.Parts {
				for _, id := range p.ItemIDs {
					ids, into = append(ids, id), append(into, p.IntoCode)
				}
			}
			_, err = tx.Exec(ctx, `INSERT INTO pj_unit_splits (code, item_id, into_code, effective_date, recorded_at)
				SELECT $1, u.item_id, u.into_code, $4, $5 FROM unnest($2::text[], $3::text[]) AS u(item_id, into_code)
				ON CONFLICT (code, item_id) DO NOTHING`, e.Code, ids, into, e.EffectiveDate.Time(utc), at)
		}
		if err != nil {
			return fmt.Errorf("%s v%d: %w", r.StreamID, r.Version, err)
		}
	}
	return nil
}

// unitRow decodes a unit event with its texts made storable (clean.go). Its dates need
// nothing: the codec reads only dates between civil.Earliest and civil.Latest.
func unitRow(r eventstore.Record) (unit.Event, error) {
	e, err := unit.Decode(r.Type, r.Data)
	if err != nil {
		return nil, err
	}
	switch e := e.(type) {
	case unit.Registered:
		e.Code, e.Name, e.Kind, e.ParentCode = line(e.Code), line(e.Name), unit.Kind(line(string(e.Kind))), line(e.ParentCode)
		return e, nil
	case unit.Renamed:
		e.Code, e.Name = line(e.Code), line(e.Name)
		return e, nil
	case unit.Merged:
		e.Code, e.IntoCode = line(e.Code), line(e.IntoCode)
		return e, nil
	case unit.Split:
		e.Code, e.RestIntoCode = line(e.Code), line(e.RestIntoCode)
		parts := make([]unit.SplitPart, len(e.Parts))
		for i, p := range e.Parts {
			parts[i].IntoCode = line(p.IntoCode)
			for _, id := range p.ItemIDs {
				parts[i].ItemIDs = append(parts[i].ItemIDs, line(id))
			}
		}
		e.Parts = parts
		return e, nil
	}
	return e, nil
}

// NewBulk starts an in-memory rebuild: the unit events (a few hundred) are kept and applied
// at the end.
func (Units) NewBulk(*slog.Logger) projector.Bulk { return &unitsBulk{} }

type unitsBulk struct{ recs []eventstore.Record }

func (u *unitsBulk) Add(batch []eventstore.Record) error {
	for _, r := range batch {
		if strings.HasPrefix(r.StreamID, "unit-") {
			u.recs = append(u.recs, r)
		}
	}
	return nil
}

// AnyOrder: Write puts the events in the global order (a rebuild in stream order adds them
// stream by stream).
func (u *unitsBulk) AnyOrder() {}

func (u *unitsBulk) Write(ctx context.Context, tx pgx.Tx) error {
	slices.SortFunc(u.recs, func(x, y eventstore.Record) int { return comparePositions(x.Position, y.Position) })
	return Units{}.Apply(ctx, tx, u.recs)
}

// ItemPart is what one item adds to the reports at a business day as known at a moment: the
// same figures as the group rows, of one item, by the one fold (fold.go). Reports need them
// where a group row cannot say which successor an item went to: a split hands a unit's items
// to several.
type ItemPart struct {
	ItemID, Kind, Unit, Pillar, Sector string
	Stage                              item.Stage
	Items, Distinct, WithGap, Overdue  int64
	Estimated, Requested, Approved     int64
	Disbursed, Gap, Progress           int64
}

// Querier is what ItemParts reads with (a pool, a connection or a transaction).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ItemParts folds every item of the given units (of kind, "" for both) at the end of day as
// known at moment known, and returns those that count then.
func ItemParts(ctx context.Context, q Querier, units []string, kind string, day civil.Date, known time.Time) ([]ItemPart, error) {
	return itemParts(ctx, q, day, known, `i.unit_code = ANY($1) AND ($2 = '' OR i.kind = $2)`, units, kind)
}

// ItemPartsOf folds the items with the given ids, as ItemParts does.
func ItemPartsOf(ctx context.Context, q Querier, ids []string, day civil.Date, known time.Time) ([]ItemPart, error) {
	return itemParts(ctx, q, day, known, `i.item_id = ANY($1)`, ids)
}

func itemParts(ctx context.Context, q Querier, day civil.Date, known time.Time, where string, args ...any) ([]ItemPart, error) {
	rows, err := q.Query(ctx, `SELECT i.item_id, i.kind, i.unit_code, i.pillar, i.sector, i.estimated_vnd, i.end_date,
			i.proposed_on, i.recorded_at, f.fact, f.occurred_on, f.recorded_at, f.source, f.year, f.amount, f.stage,
			f.percent, f.ref
		FROM pj_items i LEFT JOIN pj_item_facts f USING (item_id)
		WHERE `+where+`
		ORDER BY i.item_id, f.version`, args...)
	if err != nil {
		return nil, fmt.Errorf("item parts: %w", err)
	}
	defer rows.Close()
	d, k := dayNum(day.Time(utc)), micros(known)
	var (
		out   []ItemPart
		id    string
		info  *itemInfo
		facts []fact
		buf   []moneyEntry
	)
	flush := func() {
		if info == nil {
			return
		}
		var c contribution
		c, buf = contributionAt(info, facts, d, k, buf[:0])
		if c.present {
			m := &c.m
			out = append(out, ItemPart{ItemID: id, Kind: info.kind, Unit: info.unit, Pillar: info.pillar, Sector: info.sector,
				Stage: c.key.stage, Items: m[mItems], Distinct: m[mDistinct], WithGap: m[mWithGap], Overdue: m[mOverdue],
				Estimated: m[mEstimated], Requested: m[mRequested], Approved: m[mApproved], Disbursed: m[mDisbursed],
				Gap: m[mGap], Progress: m[mProgress]})
		}
	}
	for rows.Next() {
		var (
			rid, kind, unitCode, pillar, sector string
			name, source, stage, ref            *string
			estimated                           int64
			amount                              *int64
			end, factDay, rec                   *time.Time
			proposedOn, at                      time.Time
			year, percent                       *int
		)
		if err := rows.Scan(&rid, &kind, &unitCode, &pillar, &sector, &estimated, &end, &proposedOn, &at, &name, &factDay, &rec,
			&source, &year, &amount, &stage, &percent, &ref); err != nil {
			return nil, fmt.Errorf("item parts: %w", err)
		}
		if rid != id || info == nil {
			flush()
			id, facts = rid, facts[:0]
			info = &itemInfo{kind: kind, unit: unitCode, pillar: pillar, sector: sector, estimated: estimated, end: noEnd,
				proposed: dayNum(proposedOn), recorded: micros(at)}
			if end != nil {
				info.end = dayNum(*end)
			}
		}
		if name == nil {
			continue
		}
		fk, err := parseFactKind(*name)
		if err != nil {
			return nil, fmt.Errorf("item parts: item %s: %w", rid, err)
		}
		facts = append(facts, fact{kind: fk, source: *source, stage: item.Stage(*stage), ref: *ref, year: *year,
			percent: *percent, amount: *amount, day: dayNum(*factDay), rec: micros(*rec)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("item parts: %w", err)
	}
	flush()
	return out, nil
}
