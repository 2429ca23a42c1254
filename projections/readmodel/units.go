package readmodel

import (
	"context"
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
