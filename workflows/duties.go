package workflows

import (
	"context"
	"time"

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
	// The recorded times come with the loaded item (LoadItem), not from a second read of the
	// whole stream; the first request recorded with the id counts.
	var first *requestRecorded
	for r := it.requested; r != nil; r = r.prev {
		if r.id == requestID {
			first = r
		}
	}
	if first == nil {
		return nil // no such request: the domain says so
	}
	return h.cfg.Duties.CheckSeparation(ctx, a.UserID, first.at)
}
