package item

import (
	"encoding/json"
	"fmt"
	"github.com/dxledger/dxledger/domain/internal/strictjson"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/money"
)

// The stored event type names, one place for all of them. A name is "<kind>.<fact>.v<N>":
// the kind is the item's (model or project); renaming a Go type never changes what is stored.
// An old version is upcast here, on decoding, so Evolve only ever sees the current shape.
const (
	nameProposedV1        = "proposed.v1" // before workflow versions: upcast to v2
	nameProposed          = "proposed.v2"
	nameFundingRequested  = "funding_requested.v1"
	nameFundingEndorsed   = "funding_endorsed.v1"
	nameApprovalProposed  = "funding_approval_proposed.v1"
	nameFundingApproved   = "funding_approved.v1"
	nameFundingRejected   = "funding_rejected.v1"
	nameDisbursed         = "disbursed.v1"
	nameProgressReported  = "progress_reported.v1"
	nameImplemented       = "implemented.v1"
	nameEvaluated         = "evaluated.v1"
	nameSuspended         = "suspended.v1"
	nameResumed           = "resumed.v1"
	nameCancelled         = "cancelled.v1"
	nameMarkedSameAs      = "marked_same_as.v1"
	nameSameAsUnmarked    = "same_as_unmarked.v1"
	nameFlaggedNoProgress = "flagged_no_progress.v1"
	nameBecameOverdue     = "became_overdue.v1"
	nameOwnFunding        = "own_funding_arranged.v1"
	nameVersionChanged    = "workflow_version_changed.v1"
)

func nameOf(e Event) (string, error) {
	switch e.(type) {
	case *Proposed:
		return nameProposed, nil
	case *FundingRequested:
		return nameFundingRequested, nil
	case *FundingEndorsed:
		return nameFundingEndorsed, nil
	case *FundingApprovalProposed:
		return nameApprovalProposed, nil
	case *FundingApproved:
		return nameFundingApproved, nil
	case *FundingRejected:
		return nameFundingRejected, nil
	case *Disbursed:
		return nameDisbursed, nil
	case *ProgressReported:
		return nameProgressReported, nil
	case *Implemented:
		return nameImplemented, nil
	case *Evaluated:
		return nameEvaluated, nil
	case *Suspended:
		return nameSuspended, nil
	case *Resumed:
		return nameResumed, nil
	case *Cancelled:
		return nameCancelled, nil
	case *MarkedSameAs:
		return nameMarkedSameAs, nil
	case *SameAsUnmarked:
		return nameSameAsUnmarked, nil
	case *FlaggedNoProgress:
		return nameFlaggedNoProgress, nil
	case *BecameOverdue:
		return nameBecameOverdue, nil
	case *OwnFundingArranged:
		return nameOwnFunding, nil
	case *WorkflowVersionChanged:
		return nameVersionChanged, nil
	}
	return "", fmt.Errorf("item codec: no name for %T", e)
}

func newEvent(name string) Event {
	switch name {
	case nameProposed:
		return &Proposed{}
	case nameFundingRequested:
		return &FundingRequested{}
	case nameFundingEndorsed:
		return &FundingEndorsed{}
	case nameApprovalProposed:
		return &FundingApprovalProposed{}
	case nameFundingApproved:
		return &FundingApproved{}
	case nameFundingRejected:
		return &FundingRejected{}
	case nameDisbursed:
		return &Disbursed{}
	case nameProgressReported:
		return &ProgressReported{}
	case nameImplemented:
		return &Implemented{}
	case nameEvaluated:
		return &Evaluated{}
	case nameSuspended:
		return &Suspended{}
	case nameResumed:
		return &Resumed{}
	case nameCancelled:
		return &Cancelled{}
	case nameMarkedSameAs:
		return &MarkedSameAs{}
	case nameSameAsUnmarked:
		return &SameAsUnmarked{}
	case nameFlaggedNoProgress:
		return &FlaggedNoProgress{}
	case nameBecameOverdue:
		return &BecameOverdue{}
	case nameOwnFunding:
		return &OwnFundingArranged{}
	case nameVersionChanged:
		return &WorkflowVersionChanged{}
	}
	return nil
}

// Encode returns the stored type name and JSON data of e, an event of an item of kind k. The
// business date is not in the data: it goes to the record's occurred_on (e.Date()).
func Encode(k Kind, e Event) (typ string, data []byte, err error) {
	name, err := nameOf(e)
	if err != nil {
		return "", nil, err
	}
	if k != Model && k != Project {
		return "", nil, fmt.Errorf("item codec: kind %q", k)
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("item codec: %s: %w", name, err)
	}
	return string(k) + "." + name, data, nil
}

// Decode reads a stored event of type typ with business date on. Unknown types and unknown
// fields are errors; old versions are upcast to the current shape.
func Decode(typ string, data []byte, on civil.Date) (Event, error) {
	kind, name, ok := strings.Cut(typ, ".")
	if !ok || (Kind(kind) != Model && Kind(kind) != Project) {
		return nil, fmt.Errorf("item codec: %q is not a model or project event", typ)
	}
	if name == nameProposedV1 {
		return upcastProposedV1(data, on)
	}
	e := newEvent(name)
	if e == nil {
		return nil, fmt.Errorf("item codec: unknown event type %q", typ)
	}
	if err := strictjson.Object(data, e); err != nil {
		return nil, fmt.Errorf("item codec: %s: %w", typ, err)
	}
	e.setDate(on)
	return e, nil
}

// proposedV1 is the first shape of Proposed, stored before workflow definitions had
// versions: every such item lives under version 1 and started in "proposed".
type proposedV1 struct {
	ID            string     `json:"id"`
	Kind          Kind       `json:"kind"`
	Title         string     `json:"title"`
	UnitCode      string     `json:"unit_code"`
	Pillar        Pillar     `json:"pillar"`
	Sector        string     `json:"sector"`
	Scope         string     `json:"scope,omitempty"`
	ModelID       string     `json:"model_id,omitempty"`
	EstimatedCost money.VND  `json:"estimated_cost_vnd"`
	StartDate     civil.Date `json:"start_date"`
	EndDate       civil.Date `json:"end_date"`
}

func upcastProposedV1(data []byte, on civil.Date) (Event, error) {
	var old proposedV1
	if err := strictjson.Object(data, &old); err != nil {
		return nil, fmt.Errorf("item codec: proposed.v1: %w", err)
	}
	return &Proposed{Fact: Fact{On: on}, ID: old.ID, Kind: old.Kind, Title: old.Title, UnitCode: old.UnitCode,
		Pillar: old.Pillar, Sector: old.Sector, Scope: old.Scope, ModelID: old.ModelID,
		EstimatedCost: old.EstimatedCost, StartDate: old.StartDate, EndDate: old.EndDate,
		WorkflowVersion: 1, Stage: StageProposed}, nil
}
