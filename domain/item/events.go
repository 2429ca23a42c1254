package item

import (
	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/money"
)

// Event is a fact about an item. Every event carries its business date (occurred_on), which
// the codec keeps in the record's metadata rather than in the event's data.
type Event interface {
	Date() civil.Date
	setDate(civil.Date)
}

// Fact holds an event's business date.
type Fact struct {
	On civil.Date `json:"-"`
}

// Date is the business date of the event.
func (f Fact) Date() civil.Date { return f.On }

func (f *Fact) setDate(d civil.Date) { f.On = d }

// Proposed: the item was registered. WorkflowVersion is the definition it lives under for
// the rest of its life.
type Proposed struct {
	Fact
	ID              string     `json:"id"`
	Kind            Kind       `json:"kind"`
	Title           string     `json:"title"`
	UnitCode        string     `json:"unit_code"`
	Pillar          Pillar     `json:"pillar"`
	Sector          string     `json:"sector"`
	Scope           string     `json:"scope,omitempty"`
	ModelID         string     `json:"model_id,omitempty"`
	EstimatedCost   money.VND  `json:"estimated_cost_vnd"`
	StartDate       civil.Date `json:"start_date"`
	EndDate         civil.Date `json:"end_date"`
	WorkflowVersion int        `json:"workflow_version"`
	Stage           Stage      `json:"stage"`
}

// FundingRequested: the unit asked for money from one source for one year.
type FundingRequested struct {
	Fact
	RequestID string    `json:"request_id"`
	Source    Source    `json:"source"`
	Amount    money.VND `json:"amount_vnd"`
	Year      int       `json:"year"`
}

// FundingEndorsed: the steering committee endorsed a request.
type FundingEndorsed struct {
	Fact
	RequestID string `json:"request_id"`
	Note      string `json:"note,omitempty"`
}

// FundingApprovalProposed: the first of two finance officers approved a request whose
// amount needs two; the money is not approved until a second officer agrees.
type FundingApprovalProposed struct {
	Fact
	RequestID string    `json:"request_id"`
	Amount    money.VND `json:"approved_vnd"`
	Officer   string    `json:"officer"`
	Note      string    `json:"note,omitempty"`
}

// FundingApproved: a finance officer approved a request, in full or in part.
type FundingApproved struct {
	Fact
	RequestID string    `json:"request_id"`
	Source    Source    `json:"source"`
	Year      int       `json:"year"`
	Amount    money.VND `json:"approved_vnd"`
	Officers  []string  `json:"officers"`
	Note      string    `json:"note,omitempty"`
	Stage     Stage     `json:"stage"`
}

// FundingRejected: a finance officer refused a request.
type FundingRejected struct {
	Fact
	RequestID string `json:"request_id"`
	Officer   string `json:"officer"`
	Note      string `json:"note,omitempty"`
}

// Disbursed: money from one source was spent, drawn on one approved funding request.
// RequestID and Year (the request's budget year) are empty in payments recorded before
// payments named their request; the reports then count such a payment in the year it was
// made.
type Disbursed struct {
	Fact
	Source    Source    `json:"source"`
	Amount    money.VND `json:"amount_vnd"`
	RequestID string    `json:"request_id,omitempty"`
	Year      int       `json:"year,omitempty"`
}

// ProgressReported: the unit reported how far the work has come.
type ProgressReported struct {
	Fact
	Percent int    `json:"percent"`
	Note    string `json:"note,omitempty"`
}

// Implemented: the work is done.
type Implemented struct {
	Fact
	Note  string `json:"note,omitempty"`
	Stage Stage  `json:"stage"`
}

// Evaluated: the steering committee judged the result.
type Evaluated struct {
	Fact
	Rating Rating `json:"rating"`
	Score  int    `json:"score"`
	Note   string `json:"note,omitempty"`
	Stage  Stage  `json:"stage"`
}

// Suspended: work stopped for a while; From is the stage to go back to.
type Suspended struct {
	Fact
	Reason string `json:"reason"`
	From   Stage  `json:"from"`
	Stage  Stage  `json:"stage"`
}

// Resumed: work goes on, back in the stage it was suspended from.
type Resumed struct {
	Fact
	Note  string `json:"note,omitempty"`
	Stage Stage  `json:"stage"`
}

// Cancelled: the item was given up.
type Cancelled struct {
	Fact
	Reason string `json:"reason"`
	Stage  Stage  `json:"stage"`
}

// MarkedSameAs: the secretariat found this model registration to be the same model as
// another one (with a different scope); it is not counted as a distinct model.
type MarkedSameAs struct {
	Fact
	ModelID string `json:"model_id"`
}

// SameAsUnmarked: the marking was a mistake; the registration counts as a distinct model
// again from this event's business date. ModelID is the model it had been marked the same as.
type SameAsUnmarked struct {
	Fact
	ModelID string `json:"model_id"`
}

// FlaggedNoProgress: funded and no progress report for the definition's number of days.
type FlaggedNoProgress struct {
	Fact
	Since civil.Date `json:"since"`
	Days  int        `json:"days"`
}

// BecameOverdue: past the planned end date and not implemented.
type BecameOverdue struct {
	Fact
	EndDate civil.Date `json:"end_date"`
}

// OwnFundingArranged: the item needs no separate state funding — its unit carries it out with
// its regular budget, an enterprise partner carries it at no cost to the state, or it re-uses
// a system that exists. It is funded from this day: it may start, report progress, be
// implemented and be evaluated, and it has no funding gap.
type OwnFundingArranged struct {
	Fact
	Means Means  `json:"means"`
	Note  string `json:"note,omitempty"`
	Stage Stage  `json:"stage"`
}

// WorkflowVersionChanged: the item moved to a newer version of the workflow definition, one
// that mends a rule of the version it lived under (workflows/definition, "mends"). Its stage,
// money and history stay as they were.
type WorkflowVersionChanged struct {
	Fact
	From int    `json:"from"`
	To   int    `json:"to"`
	Note string `json:"note"`
}
