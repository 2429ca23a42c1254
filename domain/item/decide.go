package item

import (
	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/money"
	"slices"
)

// Meta is what every command carries besides its own fields.
type Meta struct {
	// On is the business date of the fact; zero means Today.
	On civil.Date
	// Today is the current day in the province, from the handler's clock.
	Today civil.Date
	// Actor is the id of the user who gives the command.
	Actor string
}

// Command is something a user asks of an item.
type Command interface{ meta() *Meta }

func (m *Meta) meta() *Meta { return m }

// Propose registers a model or a project. Stage is the workflow definition's initial stage.
type Propose struct {
	Meta
	ID, Title, UnitCode, Sector, Scope, ModelID string
	Kind                                        Kind
	Pillar                                      Pillar
	EstimatedCost                               money.VND
	StartDate, EndDate                          civil.Date
	WorkflowVersion                             int
	Stage                                       Stage
}

// RequestFunding asks for money from one source for one year.
type RequestFunding struct {
	Meta
	RequestID string
	Source    Source
	Amount    money.VND
	Year      int
}

// EndorseFunding is the steering committee's endorsement of a request.
type EndorseFunding struct {
	Meta
	RequestID, Note string
}

// DecideFunding approves (in full or in part) or rejects a request. The thresholds come from
// the workflow definition the item lives under (0: no such guard).
type DecideFunding struct {
	Meta
	RequestID        string
	Approve          bool
	Amount           money.VND
	Note             string
	EndorsementAbove money.VND // a request above this needs an endorsement first
	TwoOfficersAbove money.VND // an approval above this needs two different officers
	To               Stage     // the stage an approval leads to
}

// Disburse records money spent from one source. RequestID names the approved funding request
// the payment draws on; without it the payment draws on the approved requests of its source
// decided on or before its date, the earliest approval first, each up to what is left of it
// (one Disbursed event per request drawn on). With a RequestID, Source may be left empty.
type Disburse struct {
	Meta
	Source    Source
	Amount    money.VND
	RequestID string
}

// ArrangeOwnFunding says the item needs no separate state funding and how it is paid for.
type ArrangeOwnFunding struct {
	Meta
	Means Means
	Note  string
	To    Stage
}

// ChangeWorkflowVersion moves the item to version To of the workflow definition. The handler
// has checked that To mends the item's version and that the actor may move it.
type ChangeWorkflowVersion struct {
	Meta
	To   int
	Note string
}

// ReportProgress records how far the work has come.
type ReportProgress struct {
	Meta
	Percent int
	Note    string
}

// MarkImplemented records that the work is done.
type MarkImplemented struct {
	Meta
	Note string
	To   Stage
}

// Evaluate records the steering committee's verdict.
type Evaluate struct {
	Meta
	Rating Rating
	Score  int
	Note   string
	To     Stage
}

// Suspend stops the work for a while.
type Suspend struct {
	Meta
	Reason string
	To     Stage
}

// Resume goes back to the stage the item was suspended from.
type Resume struct {
	Meta
	Note string
}

// Cancel gives the item up.
type Cancel struct {
	Meta
	Reason string
	To     Stage
}

// MarkSameAs marks a model registration as the same model as ModelID (which the handler has
// checked exists and is a model).
type MarkSameAs struct {
	Meta
	ModelID string
}

// UnmarkSameAs undoes a same-as marking made by mistake (nothing when there is none).
type UnmarkSameAs struct {
	Meta
}

// FlagNoProgress is the deadline process manager's: funded and no progress report for Days.
type FlagNoProgress struct {
	Meta
	Days int
}

// MarkOverdue is the deadline process manager's: past the planned end date, not implemented.
type MarkOverdue struct {
	Meta
}

// Decide turns a command into the events it causes, or refuses it with a typed error.
// Invalid input is reported field by field (Invalid).
func Decide(s State, c Command) ([]Event, error) {
	m := c.meta()
	if m.On.IsZero() {
		m.On = m.Today
	}
	var v Invalid
	if !m.Today.IsZero() && m.On.After(m.Today) {
		v.add("occurred_on", "item.in_future", "must not be in the future (today is %s)", m.Today)
	}
	if _, ok := c.(*Propose); !ok {
		if !s.Exists() {
			return nil, ErrNotFound
		}
		if m.On.Before(s.ProposedOn) {
			return nil, dateError("occurred_on", m.On, "item.before_proposed", "before the item was proposed on", s.ProposedOn)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	fact := Fact{On: m.On}
	switch c := c.(type) {
	case *Propose:
		return propose(s, c, fact)
	case *RequestFunding:
		return requestFunding(s, c, fact)
	case *EndorseFunding:
		r, err := pendingRequest(s, c.RequestID)
		if err != nil {
			return nil, err
		}
		if r.Endorsed {
			return nil, nil
		}
		var v Invalid
		note := text(&v, "note", c.Note, false, MaxNote)
		if m.On.Before(r.RequestedOn) {
			return nil, dateError("occurred_on", m.On, "item.before_requested", "before the request was made on", r.RequestedOn)
		}
		return one(&FundingEndorsed{Fact: fact, RequestID: c.RequestID, Note: note}, v)
	case *DecideFunding:
		return decideFunding(s, c, fact)
	case *Disburse:
		return disburse(s, c, fact)
	case *ArrangeOwnFunding:
		var v Invalid
		if !ValidMeans(c.Means) {
			v.add("means", "item.means", "must be regular_budget, enterprise or reuse")
		}
		note := text(&v, "note", c.Note, false, MaxNote)
		if err := v.err(); err != nil {
			return nil, err
		}
		if s.OwnFunding != "" {
			return nil, ErrOwnFunding
		}
		return []Event{&OwnFundingArranged{Fact: fact, Means: c.Means, Note: note, Stage: stageOr(c.To, s.Stage)}}, nil
	case *ChangeWorkflowVersion:
		var v Invalid
		note := text(&v, "note", c.Note, true, MaxNote)
		if c.To <= s.WorkflowVersion {
			v.add("version", "item.version_not_newer", "must be newer than the item's version %d", s.WorkflowVersion)
		}
		return one(&WorkflowVersionChanged{Fact: fact, From: s.WorkflowVersion, To: c.To, Note: note}, v)
	case *ReportProgress:
		var v Invalid
		if c.Percent < 0 || c.Percent > 100 {
			v.add("percent", "item.percent", "must be from 0 to 100")
		}
		note := text(&v, "note", c.Note, false, MaxNote)
		return one(&ProgressReported{Fact: fact, Percent: c.Percent, Note: note}, v)
	case *MarkImplemented:
		var v Invalid
		note := text(&v, "note", c.Note, false, MaxNote)
		return one(&Implemented{Fact: fact, Note: note, Stage: stageOr(c.To, s.Stage)}, v)
	case *Evaluate:
		var v Invalid
		if !ValidRating(c.Rating) {
			v.add("rating", "item.rating", "must be effective, partly_effective or not_effective")
		}
		if c.Score < 0 || c.Score > 100 {
			v.add("score", "item.score", "must be from 0 to 100")
		}
		note := text(&v, "note", c.Note, false, MaxNote)
		if !s.ImplementedOn.IsZero() && m.On.Before(s.ImplementedOn) {
			return nil, dateError("occurred_on", m.On, "item.before_implemented", "before the item was implemented on", s.ImplementedOn)
		}
		return one(&Evaluated{Fact: fact, Rating: c.Rating, Score: c.Score, Note: note, Stage: stageOr(c.To, s.Stage)}, v)
	case *Suspend:
		var v Invalid
		reason := text(&v, "reason", c.Reason, true, MaxNote)
		return one(&Suspended{Fact: fact, Reason: reason, From: s.Stage, Stage: stageOr(c.To, StageSuspended)}, v)
	case *Resume:
		var v Invalid
		note := text(&v, "note", c.Note, false, MaxNote)
		return one(&Resumed{Fact: fact, Note: note, Stage: stageOr(s.SuspendedFrom, s.Stage)}, v)
	case *Cancel:
		var v Invalid
		reason := text(&v, "reason", c.Reason, true, MaxNote)
		return one(&Cancelled{Fact: fact, Reason: reason, Stage: stageOr(c.To, StageCancelled)}, v)
	case *MarkSameAs:
		switch {
		case s.Kind != Model:
			return nil, ErrNotAModel
		case c.ModelID == "":
			return nil, Invalid{{Field: "model_id", Code: "item.required", Message: "must not be empty"}}
		case c.ModelID == s.ID:
			return nil, Invalid{{Field: "model_id", Code: "item.same_as_itself", Message: "a model cannot be the same as itself"}}
		case c.ModelID == s.SameAs:
			return nil, nil
		}
		return []Event{&MarkedSameAs{Fact: fact, ModelID: c.ModelID}}, nil
	case *UnmarkSameAs:
		if s.SameAs == "" {
			return nil, nil
		}
		return []Event{&SameAsUnmarked{Fact: fact, ModelID: s.SameAs}}, nil
	case *FlagNoProgress:
		since := s.LastProgressOn
		if since.IsZero() {
			since = s.FirstFundedOn
		}
		if since.IsZero() || !s.FlaggedNoProgress.Before(since) && !s.FlaggedNoProgress.IsZero() {
			return nil, nil // not funded yet, or already flagged since the last report
		}
		return []Event{&FlaggedNoProgress{Fact: fact, Since: since, Days: c.Days}}, nil
	case *MarkOverdue:
		if !s.OverdueSince.IsZero() || s.EndDate.IsZero() {
			return nil, nil
		}
		return []Event{&BecameOverdue{Fact: fact, EndDate: s.EndDate}}, nil
	}
	return nil, Invalid{{Field: "command", Code: "item.unknown_command", Message: "unknown command"}}
}

func one(e Event, v Invalid) ([]Event, error) {
	if err := v.err(); err != nil {
		return nil, err
	}
	return []Event{e}, nil
}

func stageOr(to, current Stage) Stage {
	if to == "" {
		return current
	}
	return to
}

func propose(s State, c *Propose, fact Fact) ([]Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	var v Invalid
	title := text(&v, "title", c.Title, true, MaxTitle)
	unit := text(&v, "unit_code", c.UnitCode, true, 32)
	sector := text(&v, "sector", c.Sector, true, 64)
	scope := text(&v, "scope", c.Scope, false, MaxNote)
	if c.ID == "" {
		v.add("id", "item.required", "must not be empty")
	}
	if c.Kind != Model && c.Kind != Project {
		v.add("kind", "item.kind", "must be model or project")
	}
	if !validPillar(c.Pillar) {
		v.add("pillar", "item.pillar", "must be government, economy or society")
	}
	if err := money.NonNegative(c.EstimatedCost); err != nil {
		v.amount("estimated_cost_vnd", err)
	}
	if c.Kind == Project {
		if c.EstimatedCost == 0 {
			v.add("estimated_cost_vnd", "item.project_needs_cost", "a project needs its estimated cost")
		}
		if c.StartDate.IsZero() {
			v.add("start_date", "item.project_needs_start", "a project needs its planned start date")
		}
		if c.EndDate.IsZero() {
			v.add("end_date", "item.project_needs_end", "a project needs its planned end date")
		}
	}
	if c.Kind == Model && c.ModelID != "" {
		v.add("model_id", "item.model_names_model", "only a project can name the model it belongs to")
	}
	if !c.StartDate.IsZero() && !c.EndDate.IsZero() && c.EndDate.Before(c.StartDate) {
		v.add("end_date", "item.end_before_start", "must not be before start_date (%s)", c.StartDate)
	}
	if c.WorkflowVersion < 1 {
		v.add("workflow_version", "item.workflow_version", "must be 1 or more")
	}
	if c.Stage == "" {
		v.add("stage", "item.initial_stage", "the initial stage must be given")
	}
	return one(&Proposed{Fact: fact, ID: c.ID, Kind: c.Kind, Title: title, UnitCode: unit, Pillar: c.Pillar,
		Sector: sector, Scope: scope, ModelID: c.ModelID, EstimatedCost: c.EstimatedCost, StartDate: c.StartDate,
		EndDate: c.EndDate, WorkflowVersion: c.WorkflowVersion, Stage: c.Stage}, v)
}

func requestFunding(s State, c *RequestFunding, fact Fact) ([]Event, error) {
	var v Invalid
	if c.RequestID == "" {
		v.add("request_id", "item.required", "must not be empty")
	} else if _, dup := s.Request(c.RequestID); dup {
		v.add("request_id", "item.request_id_used", "already used on this item")
	}
	if !ValidSource(c.Source) {
		v.add("source", "item.source", "must be one of central_budget, provincial_budget, district_budget, commune_budget, enterprise, oda, other")
	}
	if err := money.Positive(c.Amount); err != nil {
		v.amount("amount_vnd", err)
	} else if c.Amount > money.Ceiling-s.Requested {
		v.add("amount_vnd", "item.requests_total", "the item's requests would total more than %d đồng", money.Ceiling)
	}
	if c.Year < civil.Earliest.Year || c.Year > civil.Latest.Year {
		v.add("year", "item.year", "must be from %d to %d", civil.Earliest.Year, civil.Latest.Year)
	}
	return one(&FundingRequested{Fact: fact, RequestID: c.RequestID, Source: c.Source, Amount: c.Amount, Year: c.Year}, v)
}

func pendingRequest(s State, id string) (Request, error) {
	r, ok := s.Request(id)
	if !ok {
		return Request{}, ErrRequestNotFound
	}
	if r.Status != RequestPending {
		return Request{}, ErrAlreadyDecided
	}
	return r, nil
}

func decideFunding(s State, c *DecideFunding, fact Fact) ([]Event, error) {
	r, err := pendingRequest(s, c.RequestID)
	if err != nil {
		return nil, err
	}
	if fact.On.Before(r.RequestedOn) {
		return nil, dateError("occurred_on", fact.On, "item.before_requested", "before the request was made on", r.RequestedOn)
	}
	var v Invalid
	note := text(&v, "note", c.Note, false, MaxNote)
	if !c.Approve {
		return one(&FundingRejected{Fact: fact, RequestID: r.ID, Officer: c.Actor, Note: note}, v)
	}
	if err := money.Positive(c.Amount); err != nil {
		v.amount("approved_vnd", err)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if c.Amount > r.Amount {
		return nil, &OverApprovalError{RequestID: r.ID, Requested: r.Amount, Approved: c.Amount}
	}
	if c.EndorsementAbove > 0 && r.Amount > c.EndorsementAbove && !r.Endorsed {
		return nil, ErrNeedsEndorsement
	}
	if c.TwoOfficersAbove > 0 && c.Amount > c.TwoOfficersAbove {
		first := r.FirstApproval
		switch {
		case first == nil:
			return []Event{&FundingApprovalProposed{Fact: fact, RequestID: r.ID, Amount: c.Amount, Officer: c.Actor, Note: note}}, nil
		case first.Officer == c.Actor:
			return nil, ErrSameOfficer
		case first.Amount != c.Amount:
			return nil, ErrSecondApproval
		}
		return []Event{&FundingApproved{Fact: fact, RequestID: r.ID, Source: r.Source, Year: r.Year, Amount: c.Amount,
			Officers: []string{first.Officer, c.Actor}, Note: note, Stage: stageOr(c.To, s.Stage)}}, nil
	}
	return []Event{&FundingApproved{Fact: fact, RequestID: r.ID, Source: r.Source, Year: r.Year, Amount: c.Amount,
		Officers: []string{c.Actor}, Note: note, Stage: stageOr(c.To, s.Stage)}}, nil
}

func disburse(s State, c *Disburse, fact Fact) ([]Event, error) {
	var v Invalid
	var named Request
	if c.RequestID != "" {
		r, ok := s.Request(c.RequestID)
		switch {
		case !ok:
			v.add("request_id", "item.no_such_request", "no funding request of this item has this id")
		case r.Status != RequestApproved:
			v.add("request_id", "item.request_not_approved", "the funding request is not approved")
		case c.Source != "" && c.Source != r.Source:
			v.add("source", "item.source_of_request", "the request named draws on %s", r.Source)
		default:
			named, c.Source = r, r.Source
		}
	}
	if named.ID == "" && !ValidSource(c.Source) {
		v.add("source", "item.source", "must be one of central_budget, provincial_budget, district_budget, commune_budget, enterprise, oda, other")
	}
	if err := money.Positive(c.Amount); err != nil {
		v.amount("amount_vnd", err)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	approved, disbursed := s.ApprovedBySource[c.Source], s.DisbursedBySource[c.Source]
	if c.Amount > approved-disbursed { // both ≤ Ceiling·n: no overflow
		return nil, &OverDisbursementError{Source: c.Source, Approved: approved, Disbursed: disbursed, Amount: c.Amount}
	}
	if named.ID != "" {
		if fact.On.Before(named.DecidedOn) {
			return nil, dateError("date", fact.On, "item.before_request_approved", "before the request was approved on", named.DecidedOn)
		}
		if c.Amount > named.Approved-named.Disbursed {
			return nil, &OverDisbursementError{Source: c.Source, Approved: named.Approved, Disbursed: named.Disbursed, Amount: c.Amount}
		}
	}
	if first := s.firstApprovalOf(c.Source); fact.On.Before(first) {
		return nil, dateError("date", fact.On, "item.before_first_approval", "before the first approval from "+string(c.Source)+" on", first)
	}
	if short, ok := s.uncoveredFrom(c.Source, fact.On, c.Amount); ok {
		return nil, dateError("date", fact.On, "item.not_covered", "not covered by the money approved from "+string(c.Source)+
			", less what was disbursed, as of", short)
	}
	if named.ID != "" {
		return []Event{&Disbursed{Fact: fact, Source: c.Source, Amount: c.Amount, RequestID: named.ID, Year: named.Year}}, nil
	}
	// No request named: draw on the approved requests of the source decided by the payment's
	// date, the earliest approval first (in the order they were requested on the same day).
	var pool []Request
	for _, r := range s.Requests {
		if r.Status == RequestApproved && r.Source == c.Source && !fact.On.Before(r.DecidedOn) && r.Approved > r.Disbursed {
			pool = append(pool, r)
		}
	}
	slices.SortStableFunc(pool, func(a, b Request) int {
		switch {
		case a.DecidedOn.Before(b.DecidedOn):
			return -1
		case b.DecidedOn.Before(a.DecidedOn):
			return 1
		}
		return 0
	})
	var out []Event
	left := c.Amount
	for _, r := range pool {
		take := min(left, r.Approved-r.Disbursed)
		out = append(out, &Disbursed{Fact: fact, Source: c.Source, Amount: take, RequestID: r.ID, Year: r.Year})
		if left -= take; left == 0 {
			return out, nil
		}
	}
	// What is left was drawn, by later-dated payments, from requests approved by this date:
	// the payment must name the request it draws on.
	return nil, Invalid{{Field: "request_id", Code: "item.name_the_request",
		Message: "the requests approved by this date are drawn by other payments: name the request this payment draws on"}}
}

// uncoveredFrom finds the first day, on or after on, on which amount more disbursed from src
// would exceed what had been approved from src by then, less what had been disbursed by then
// (DESIGN.md, invariant 13: disbursed ≤ approved per source as of every day, not only today).
// The days to look at are on itself and each later day an approval or a payment of src falls.
func (s State) uncoveredFrom(src Source, on civil.Date, amount money.VND) (civil.Date, bool) {
	days := []civil.Date{on}
	for _, r := range s.Requests {
		if r.Status == RequestApproved && r.Source == src && on.Before(r.DecidedOn) {
			days = append(days, r.DecidedOn)
		}
	}
	for _, p := range s.Payments {
		if p.Source == src && on.Before(p.On) {
			days = append(days, p.On)
		}
	}
	slices.SortFunc(days, func(a, b civil.Date) int {
		switch {
		case a.Before(b):
			return -1
		case b.Before(a):
			return 1
		}
		return 0
	})
	for _, d := range days {
		var room money.VND
		for _, r := range s.Requests {
			if r.Status == RequestApproved && r.Source == src && !d.Before(r.DecidedOn) {
				room += r.Approved
			}
		}
		for _, p := range s.Payments {
			if p.Source == src && !d.Before(p.On) {
				room -= p.Amount
			}
		}
		if amount > room {
			return d, true
		}
	}
	return civil.Date{}, false
}

func (s State) firstApprovalOf(src Source) civil.Date {
	var first civil.Date
	for _, r := range s.Requests {
		if r.Status == RequestApproved && r.Source == src && (first.IsZero() || r.DecidedOn.Before(first)) {
			first = r.DecidedOn
		}
	}
	return first
}
