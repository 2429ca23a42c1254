package readmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5"
)

// Indicators is the read model of the indicators and the DTI: one row per fact, with its
// business date and recording moment (migrations/00040). The live path and the rebuild write
// the same rows through the same Apply, so a rebuild gives exactly the rows it had.
type Indicators struct{}

// Name is "indicators".
func (Indicators) Name() string { return "indicators" }

// Tables is the one table it keeps.
func (Indicators) Tables() []string { return []string{"pj_indicator_facts"} }

// Reset empties the table.
func (Indicators) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE pj_indicator_facts`)
	return err
}

// IsIndicatorStream reports whether stream holds indicator or DTI facts.
func IsIndicatorStream(stream string) bool {
	return strings.HasPrefix(stream, "indicator-") || strings.HasPrefix(stream, "dti-")
}

// Apply writes each indicator or DTI event as a row. An event type this version does not
// know (a later version's) is skipped; one that does not decode fails the batch, and the
// runner sets it aside with the rest of its stream.
func (Indicators) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Record) error {
	for _, r := range batch {
		if !IsIndicatorStream(r.StreamID) {
			continue
		}
		row, ok, err := indicatorRow(r)
		if err != nil {
			return fmt.Errorf("%s v%d: %w", r.StreamID, r.Version, err)
		}
		if !ok {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pj_indicator_facts (stream_id, version, subject, event_type, on_date, recorded_at, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (stream_id, version) DO NOTHING`,
			line(r.StreamID), r.Version, row.subject, r.Type, row.on.Time(utc), r.Metadata.RecordedAt, row.data); err != nil {
			return fmt.Errorf("%s v%d: %w", r.StreamID, r.Version, err)
		}
	}
	return nil
}

type indicatorFact struct {
	subject string
	on      civil.Date
	data    string
}

// indicatorRow decodes r and re-encodes it: the row holds what the domain's codec reads.
func indicatorRow(r eventstore.Record) (indicatorFact, bool, error) {
	on := civil.Of(r.Metadata.OccurredOn.UTC())
	if strings.HasPrefix(r.StreamID, "dti-") {
		e, err := dti.Decode(r.Type, r.Data)
		if errors.Is(err, dti.ErrUnknownEventType) {
			return indicatorFact{}, false, nil
		}
		if err != nil {
			return indicatorFact{}, false, err
		}
		_, data, err := dti.Encode(e)
		if err != nil {
			return indicatorFact{}, false, err
		}
		return indicatorFact{subject: line(e.ProvinceCode()), on: sane(on), data: line(string(data))}, true, nil
	}
	e, err := indicator.Decode(r.Type, r.Data)
	if errors.Is(err, indicator.ErrUnknownEventType) {
		return indicatorFact{}, false, nil
	}
	if err != nil {
		return indicatorFact{}, false, err
	}
	switch e := e.(type) {
	case indicator.Defined:
		on = e.EffectiveDate
	case indicator.Revised:
		on = e.EffectiveDate
	case indicator.BaselineSet:
		on = e.On
	case indicator.TargetSet:
		on = e.On
	case indicator.ActualReported:
		on = e.Date
	}
	_, data, err := indicator.Encode(e)
	if err != nil {
		return indicatorFact{}, false, err
	}
	return indicatorFact{subject: line(e.IndicatorCode()), on: sane(on), data: line(string(data))}, true, nil
}

// sane keeps a business date inside the days the programme accepts (the codec reads only
// those; metadata from elsewhere might not).
func sane(d civil.Date) civil.Date {
	if d.IsZero() || d.Before(civil.Earliest) {
		return civil.Earliest
	}
	if d.After(civil.Latest) {
		return civil.Latest
	}
	return d
}

// NewBulk starts an in-memory rebuild: the events (a few hundred) are kept and applied at the
// end, by Apply.
func (Indicators) NewBulk(*slog.Logger) projector.Bulk { return &indicatorsBulk{} }

type indicatorsBulk struct{ recs []eventstore.Record }

func (b *indicatorsBulk) Add(batch []eventstore.Record) error {
	for _, r := range batch {
		if IsIndicatorStream(r.StreamID) {
			b.recs = append(b.recs, r)
		}
	}
	return nil
}

// AnyOrder: Write puts the events in the global order (a rebuild in stream order adds them
// stream by stream).
func (b *indicatorsBulk) AnyOrder() {}

func (b *indicatorsBulk) Write(ctx context.Context, tx pgx.Tx) error {
	slices.SortFunc(b.recs, func(x, y eventstore.Record) int { return comparePositions(x.Position, y.Position) })
	return Indicators{}.Apply(ctx, tx, b.recs)
}

// Load writes the rows in one short transaction.
func (b *indicatorsBulk) Load(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return b.Write(ctx, tx) })
}

// NeedsIndexes is true: Apply writes with ON CONFLICT.
func (b *indicatorsBulk) NeedsIndexes() bool { return true }
