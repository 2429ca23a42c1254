package workflows

import (
	"context"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
)

// Duties says whether a person may take part in a two-person rule over a request recorded at
// requested (DESIGN.md invariant 15): identity.Store answers from the person's account history.
type Duties interface {
	CheckSeparation(ctx context.Context, userID string, requested time.Time) error
}

// separateDuties refuses an endorsement, or an approval that needs two officers, by a person
// whose role was granted, or whose credentials were last set by someone else, after the request
// was recorded (recorded time, not its business date): one administrator cannot meet a
// two-person rule by creating or taking over accounts.
func (h *Handler) separateDuties(ctx context.Context, a Actor, it Item, cmd item.Command) error {
	if h.cfg.Duties == nil {
		return nil
	}
	var requestID string
	switch c := cmd.(type) {
	case *item.EndorseFunding:
		requestID = c.RequestID
	case *item.DecideFunding:
		if !c.Approve || c.TwoOfficersAbove <= 0 || c.Amount <= c.TwoOfficersAbove {
			return nil
		}
		requestID = c.RequestID
	default:
		return nil
	}
	recs, err := h.cfg.Store.ReadStream(ctx, StreamID(it.Kind, it.ID), 0)
	if err != nil {
		return err
	}
	for _, r := range recs {
		e, err := item.Decode(r.Type, r.Data, civil.Of(r.Metadata.OccurredOn))
		if err != nil {
			continue
		}
		if fr, ok := e.(*item.FundingRequested); ok && fr.RequestID == requestID {
			return h.cfg.Duties.CheckSeparation(ctx, a.UserID, r.Metadata.RecordedAt)
		}
	}
	return nil // no such request: the domain says so
}
