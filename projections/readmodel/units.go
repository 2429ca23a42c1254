package readmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

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
	_, err := tx.Exec(ctx, `TRUNCATE pj_units, pj_unit_merges`)
	return err
}

// Apply writes unit registrations, renames and merges. A unit registered or merged a second
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

func (u *unitsBulk) Write(ctx context.Context, tx pgx.Tx) error {
	return Units{}.Apply(ctx, tx, u.recs)
}
