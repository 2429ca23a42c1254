// Package item is the lifecycle of a transformation model or a project: proposed, funded from
// several sources in full or in part, implemented with progress reports and disbursements,
// evaluated — or suspended, resumed, cancelled. It is pure: Decide turns a command into new
// facts or refuses it, Evolve folds a fact into the state. Which stage an action may start
// from and who may fire it is the workflow definition's business (workflows/); the command
// carries the stage the definition leads to. Money and date rules live here.
package item

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/domain/money"
)

// Request is a funding request and what became of it.
type Request struct {
	ID          string
	Source      Source
	Amount      money.VND
	Year        int
	RequestedOn civil.Date
	Endorsed    bool
	// FirstApproval is set while an approval waits for a second finance officer.
	FirstApproval *FundingApprovalProposed
	Status        RequestStatus
	Approved      money.VND
	Officers      []string
	DecidedOn     civil.Date
	// Disbursed is what the payments that name this request drew on it.
	Disbursed money.VND
}

// RequestStatus is where a funding request stands.
type RequestStatus string

// The statuses of a request.
const (
	RequestPending  RequestStatus = "pending"
	RequestApproved RequestStatus = "approved"
	RequestRejected RequestStatus = "rejected"
)

// State is an item as its events made it.
type State struct {
	ID              string
	Kind            Kind
	Version         int64 // number of events applied
	Title           string
	UnitCode        string
	Pillar          Pillar
	Sector          string
	Scope           string
	ModelID         string
	EstimatedCost   money.VND
	StartDate       civil.Date
	EndDate         civil.Date
	WorkflowVersion int
	Stage           Stage
	SuspendedFrom   Stage
	ProposedOn      civil.Date
	FirstFundedOn   civil.Date
	Requests        []Request
	Requested       money.VND
	Approved        money.VND
	Disbursed       money.VND
	// ApprovedBySource and DisbursedBySource hold the money per funding source.
	ApprovedBySource  map[Source]money.VND
	DisbursedBySource map[Source]money.VND
	// Payments are the disbursements with their dates, so that money can be checked as of
	// every day (DESIGN.md, invariant 13), not only in total.
	Payments []Payment
	// OwnFunding is how the item is paid for when it needs no separate state funding ("" until
	// its unit says so); OwnFundingOn is the day it did.
	OwnFunding        Means
	OwnFundingOn      civil.Date
	Progress          int
	LastProgressOn    civil.Date
	ImplementedOn     civil.Date
	Evaluation        *Evaluated
	SameAs            string
	FlaggedNoProgress civil.Date // the last time the no-progress flag was raised
	OverdueSince      civil.Date

	// What makes a funding request cost the same on an item with 5 requests as on one with
	// 5,000 (issue 16: commands flat in stream length), where each used to copy the whole list
	// and look ids up one by one. States are values shared between goroutines (the handlers'
	// state cache), so Requests is never written where another state can see it:
	//   - reqTail is the claimed length of the backing array of Requests: the first state of
	//     length n to add a request claims slot n (compare-and-swap) and writes it in place;
	//     any other state of length n that adds one copies. No state reads past its length.
	//   - reqIndex maps an id to its position, added to by every state sharing it; an entry is
	//     trusted only where the state's own Requests hold that id at that position, and an id
	//     with no entry is in none of them (each index is built whole or grown with its states).
	//   - reqScan is set once a stream names a request id twice (Decide refuses it; old streams
	//     are folded as they are): lookups then scan, as they always did.
	reqTail  *requestTail
	reqIndex *requestIndex
	reqScan  bool
}

type requestTail struct{ n atomic.Int64 }

type requestIndex struct {
	mu  sync.Mutex
	pos map[string]int
}

// Plain is the state without the bookkeeping that makes its funding requests cheap to add and
// find, for comparing two states field by field (reflect.DeepEqual).
func (s State) Plain() State {
	s.reqTail, s.reqIndex, s.reqScan = nil, nil, false
	return s
}

// requestAt returns the position of the funding request with the given id, or -1.
func (s State) requestAt(id string) int {
	if s.reqIndex != nil && !s.reqScan {
		s.reqIndex.mu.Lock()
		i, ok := s.reqIndex.pos[id]
		s.reqIndex.mu.Unlock()
		if !ok {
			return -1
		}
		if i < len(s.Requests) && s.Requests[i].ID == id {
			return i
		}
	}
	for i := range s.Requests {
		if s.Requests[i].ID == id {
			return i
		}
	}
	return -1
}

// addRequest appends r to Requests without copying the list when this state may claim the
// next slot of its backing array, and indexes it.
func (s *State) addRequest(r Request) {
	n := len(s.Requests)
	if s.requestAt(r.ID) >= 0 {
		s.reqScan = true
	}
	if s.reqTail != nil && n < cap(s.Requests) && s.reqTail.n.CompareAndSwap(int64(n), int64(n+1)) {
		s.Requests = s.Requests[:n+1]
		s.Requests[n] = r
	} else {
		grown := make([]Request, n+1, max(4, 2*n))
		copy(grown, s.Requests)
		grown[n] = r
		s.Requests = grown
		s.reqTail = &requestTail{}
		s.reqTail.n.Store(int64(n + 1))
	}
	if s.reqScan {
		return
	}
	if s.reqIndex == nil {
		s.reqIndex = &requestIndex{pos: make(map[string]int, n+1)}
		for i, q := range s.Requests {
			s.reqIndex.pos[q.ID] = i
		}
		return
	}
	s.reqIndex.mu.Lock()
	s.reqIndex.pos[r.ID] = n
	s.reqIndex.mu.Unlock()
}

// Payment is one disbursement: money spent from a source on a day.
type Payment struct {
	Source Source
	On     civil.Date
	Amount money.VND
	// RequestID is the funding request the payment drew on ("" for a payment recorded before
	// payments named their request).
	RequestID string
}

// Exists reports whether the item was proposed.
func (s State) Exists() bool { return s.ID != "" }

// Gap is the funding gap (API.md): the estimated cost less what was approved, never below
// zero; none for an item that needs no separate state funding.
func (s State) Gap() money.VND {
	if s.OwnFunding != "" {
		return 0
	}
	return max(0, s.EstimatedCost-s.Approved)
}

// Request returns the funding request with the given id.
func (s State) Request(id string) (Request, bool) {
	if i := s.requestAt(id); i >= 0 {
		return s.Requests[i], true
	}
	return Request{}, false
}

// Errors Decide returns. The typed ones carry the numbers; all match errors.Is on a sentinel.
// Each has a kind (fault.KindOf) and a message code, for the adapters.
var (
	ErrNotFound         = fault.New(fault.NotFound, "item.not_found", "item not found")
	ErrAlreadyExists    = fault.New(fault.Conflict, "item.already_exists", "item already exists")
	ErrRequestNotFound  = fault.New(fault.NotFound, "item.request_not_found", "funding request not found")
	ErrAlreadyDecided   = fault.New(fault.Conflict, "item.already_decided", "funding request already decided")
	ErrNeedsEndorsement = fault.New(fault.Refused, "item.needs_endorsement", "the steering committee must endorse this request before finance decides it")
	ErrSameOfficer      = fault.New(fault.Refused, "item.same_officer", "the second approval must come from another finance officer")
	ErrNotAModel        = fault.New(fault.Refused, "item.not_a_model", "only a model registration can be marked the same as another model")
	ErrSecondApproval   = fault.New(fault.Refused, "item.second_approval", "the second approval must confirm the amount of the first")
	ErrTooEarly         = fault.New(fault.Invalid, "item.too_early", "the business date is before a fact it depends on")
	ErrTooMuch          = fault.New(fault.Invalid, "item.too_much", "amount exceeds what is allowed")
	ErrOwnFunding       = fault.New(fault.Conflict, "item.own_funding_arranged", "the item already says how it is paid for without separate state funding")
)

// OverApprovalError: more approved than was requested.
type OverApprovalError struct {
	RequestID string
	Requested money.VND
	Approved  money.VND
}

func (e *OverApprovalError) Error() string {
	return fmt.Sprintf("request %s: approving %d đồng, but only %d were requested", e.RequestID, e.Approved, e.Requested)
}

// Is makes errors.Is(err, ErrTooMuch) true.
func (e *OverApprovalError) Is(target error) bool { return target == ErrTooMuch }

// Kind is fault.Invalid.
func (e *OverApprovalError) Kind() fault.Kind { return fault.Invalid }

// Fields refuses approved_vnd; the message shows the amount requested.
func (e *OverApprovalError) Fields() []fault.Field {
	return []fault.Field{{Name: "approved_vnd", Code: "item.over_approval", Message: e.Error(), Args: []any{e.Requested}}}
}

// OverDisbursementError: more disbursed from a source than was approved from it.
type OverDisbursementError struct {
	Source    Source
	Approved  money.VND
	Disbursed money.VND
	Amount    money.VND
}

func (e *OverDisbursementError) Error() string {
	return fmt.Sprintf("disbursing %d đồng from %s: %d approved, %d already disbursed, %d left",
		e.Amount, e.Source, e.Approved, e.Disbursed, e.Approved-e.Disbursed)
}

// Is makes errors.Is(err, ErrTooMuch) true.
func (e *OverDisbursementError) Is(target error) bool { return target == ErrTooMuch }

// Kind is fault.Invalid.
func (e *OverDisbursementError) Kind() fault.Kind { return fault.Invalid }

// Fields refuses amount_vnd; the message shows what is left of the source.
func (e *OverDisbursementError) Fields() []fault.Field {
	return []fault.Field{{Name: "amount_vnd", Code: "item.over_disbursement", Message: e.Error(), Args: []any{e.Approved - e.Disbursed}}}
}

// DateError: a business date breaks an ordering rule. Rule says which in English; Code names
// it for a translation, and After is the date of the fact it may not come before.
type DateError struct {
	Field string
	Date  civil.Date
	Rule  string
	Code  string
	After civil.Date
}

func dateError(field string, d civil.Date, code, rule string, after civil.Date) *DateError {
	return &DateError{Field: field, Date: d, Rule: rule + " " + after.String(), Code: code, After: after}
}

func (e *DateError) Error() string { return fmt.Sprintf("%s %s: %s", e.Field, e.Date, e.Rule) }

// Is makes errors.Is(err, ErrTooEarly) true.
func (e *DateError) Is(target error) bool { return target == ErrTooEarly }

// Kind is fault.Invalid.
func (e *DateError) Kind() fault.Kind { return fault.Invalid }

// Fields refuses the date's field; the message shows the date it may not come before.
func (e *DateError) Fields() []fault.Field {
	return []fault.Field{{Name: e.Field, Code: e.Code, Message: e.Rule, Args: []any{e.After}}}
}

// Evolve folds one event into the state. It never fails and accepts every event ever stored.
func Evolve(s State, e Event) State {
	s.Version++
	switch e := e.(type) {
	case *Proposed:
		s.ID, s.Kind, s.Title, s.UnitCode = e.ID, e.Kind, e.Title, e.UnitCode
		s.Pillar, s.Sector, s.Scope, s.ModelID = e.Pillar, e.Sector, e.Scope, e.ModelID
		s.EstimatedCost, s.StartDate, s.EndDate = e.EstimatedCost, e.StartDate, e.EndDate
		s.WorkflowVersion, s.Stage, s.ProposedOn = e.WorkflowVersion, e.Stage, e.On
		s.ApprovedBySource = map[Source]money.VND{}
		s.DisbursedBySource = map[Source]money.VND{}
	case *FundingRequested:
		s.addRequest(Request{ID: e.RequestID, Source: e.Source, Amount: e.Amount,
			Year: e.Year, RequestedOn: e.On, Status: RequestPending})
		s.Requested += e.Amount
	case *FundingEndorsed:
		s.updateRequest(e.RequestID, func(r *Request) { r.Endorsed = true })
	case *FundingApprovalProposed:
		s.updateRequest(e.RequestID, func(r *Request) { r.FirstApproval = e })
	case *FundingApproved:
		s.updateRequest(e.RequestID, func(r *Request) {
			r.Status, r.Approved, r.Officers, r.DecidedOn, r.FirstApproval = RequestApproved, e.Amount, e.Officers, e.On, nil
		})
		s.Approved += e.Amount
		s.ApprovedBySource = addTo(s.ApprovedBySource, e.Source, e.Amount)
		if s.FirstFundedOn.IsZero() {
			s.FirstFundedOn = e.On
		}
		s.Stage = e.Stage
	case *FundingRejected:
		s.updateRequest(e.RequestID, func(r *Request) {
			r.Status, r.Officers, r.DecidedOn, r.FirstApproval = RequestRejected, []string{e.Officer}, e.On, nil
		})
	case *Disbursed:
		s.Disbursed += e.Amount
		s.DisbursedBySource = addTo(s.DisbursedBySource, e.Source, e.Amount)
		s.Payments = append(slices.Clone(s.Payments), Payment{Source: e.Source, On: e.On, Amount: e.Amount, RequestID: e.RequestID})
		if e.RequestID != "" {
			s.updateRequest(e.RequestID, func(r *Request) { r.Disbursed += e.Amount })
		}
	case *OwnFundingArranged:
		s.Stage, s.OwnFunding, s.OwnFundingOn = e.Stage, e.Means, e.On
		if s.FirstFundedOn.IsZero() {
			s.FirstFundedOn = e.On
		}
	case *WorkflowVersionChanged:
		s.WorkflowVersion = e.To
	case *ProgressReported:
		s.Progress, s.LastProgressOn = e.Percent, e.On
	case *Implemented:
		s.Stage, s.ImplementedOn = e.Stage, e.On
		s.Progress = 100
	case *Evaluated:
		s.Stage, s.Evaluation = e.Stage, e
	case *Suspended:
		s.Stage, s.SuspendedFrom = e.Stage, e.From
	case *Resumed:
		s.Stage, s.SuspendedFrom = e.Stage, ""
	case *Cancelled:
		s.Stage = e.Stage
	case *MarkedSameAs:
		s.SameAs = e.ModelID
	case *SameAsUnmarked:
		s.SameAs = ""
	case *FlaggedNoProgress:
		s.FlaggedNoProgress = e.On
	case *BecameOverdue:
		s.OverdueSince = e.On
	}
	return s
}

// updateRequest changes the funding request with the given id (each of them, in a stream that
// named one twice) in a copy of the list; positions do not move, so the index stays shared.
func (s *State) updateRequest(id string, f func(*Request)) {
	i := s.requestAt(id)
	if i < 0 {
		return
	}
	n := len(s.Requests)
	grown := make([]Request, n, max(4, n+n/4))
	copy(grown, s.Requests)
	s.Requests = grown
	s.reqTail = &requestTail{}
	s.reqTail.n.Store(int64(n))
	if !s.reqScan {
		f(&s.Requests[i])
		return
	}
	for i := range s.Requests {
		if s.Requests[i].ID == id {
			f(&s.Requests[i])
		}
	}
}

func addTo(m map[Source]money.VND, src Source, v money.VND) map[Source]money.VND {
	out := make(map[Source]money.VND, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[src] += v
	return out
}

// Fold applies events in order to the zero state.
func Fold(events []Event) State {
	var s State
	for _, e := range events {
		s = Evolve(s, e)
	}
	return s
}
