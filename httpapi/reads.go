package httpapi

import (
	"net/http"
	"sort"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/internal/identity"
)

type requestView struct {
	RequestID   string     `json:"request_id"`
	Source      string     `json:"source"`
	Amount      money.VND  `json:"amount_vnd"`
	Year        int        `json:"year"`
	RequestedOn civil.Date `json:"requested_on"`
	Endorsed    bool       `json:"endorsed"`
	Status      string     `json:"status"`
	Approved    money.VND  `json:"approved_vnd"`
	// Disbursed is what payments that name the request drew on it.
	Disbursed money.VND `json:"disbursed_vnd"`
	// AwaitingSecondOfficer is the amount a first finance officer approved, waiting for a
	// second one.
	AwaitingSecondOfficer *money.VND `json:"awaiting_second_officer_vnd,omitempty"`
	Officers              []string   `json:"officers,omitempty"`
	DecidedOn             civil.Date `json:"decided_on"`
}

type sourceView struct {
	Source    string    `json:"source"`
	Approved  money.VND `json:"approved_vnd"`
	Disbursed money.VND `json:"disbursed_vnd"`
}

type evaluationView struct {
	Rating string     `json:"rating"`
	Score  int        `json:"score"`
	Note   string     `json:"note,omitempty"`
	On     civil.Date `json:"evaluated_on"`
}

type itemView struct {
	ID              string     `json:"id"`
	Kind            string     `json:"kind"`
	Version         int64      `json:"version"`
	Title           string     `json:"title"`
	UnitCode        string     `json:"unit_code"`
	Pillar          string     `json:"pillar"`
	Sector          string     `json:"sector"`
	Scope           string     `json:"scope,omitempty"`
	ModelID         string     `json:"model_id,omitempty"`
	SameAs          string     `json:"same_as,omitempty"`
	Stage           string     `json:"stage"`
	SuspendedFrom   string     `json:"suspended_from,omitempty"`
	WorkflowVersion int        `json:"workflow_version"`
	ProposedOn      civil.Date `json:"proposed_on"`
	StartDate       civil.Date `json:"start_date"`
	EndDate         civil.Date `json:"end_date"`
	EstimatedCost   money.VND  `json:"estimated_cost_vnd"`
	Requested       money.VND  `json:"requested_vnd"`
	Approved        money.VND  `json:"approved_vnd"`
	Disbursed       money.VND  `json:"disbursed_vnd"`
	Gap             money.VND  `json:"gap_vnd"`
	// OwnFunding is how an item that needs no separate state funding is paid for
	// (regular_budget, enterprise, reuse), absent otherwise; OwnFundingOn the day it was said.
	OwnFunding      string          `json:"own_funding,omitempty"`
	OwnFundingOn    *civil.Date     `json:"own_funding_on,omitempty"`
	Progress        int             `json:"progress"`
	LastProgressOn  civil.Date      `json:"last_progress_on"`
	ImplementedOn   civil.Date      `json:"implemented_on"`
	Overdue         bool            `json:"overdue"`
	OverdueSince    civil.Date      `json:"overdue_since"`
	NoProgressFlag  civil.Date      `json:"no_progress_flagged_on"`
	FundingRequests []requestView   `json:"funding_requests"`
	Sources         []sourceView    `json:"sources"`
	Evaluation      *evaluationView `json:"evaluation"`
}

func viewOf(s item.State, version int64, today civil.Date) itemView {
	v := itemView{ID: s.ID, Kind: string(s.Kind), Version: version, Title: s.Title, UnitCode: s.UnitCode,
		Pillar: string(s.Pillar), Sector: s.Sector, Scope: s.Scope, ModelID: s.ModelID, SameAs: s.SameAs,
		Stage: string(s.Stage), SuspendedFrom: string(s.SuspendedFrom), WorkflowVersion: s.WorkflowVersion,
		ProposedOn: s.ProposedOn, StartDate: s.StartDate, EndDate: s.EndDate, EstimatedCost: s.EstimatedCost,
		Requested: s.Requested, Approved: s.Approved, Disbursed: s.Disbursed, Gap: s.Gap(), OwnFunding: string(s.OwnFunding),
		Progress: s.Progress, LastProgressOn: s.LastProgressOn, ImplementedOn: s.ImplementedOn,
		OverdueSince: s.OverdueSince, NoProgressFlag: s.FlaggedNoProgress,
		FundingRequests: []requestView{}, Sources: []sourceView{}}
	if s.OwnFunding != "" {
		on := s.OwnFundingOn
		v.OwnFundingOn = &on
	}
	switch s.Stage {
	case item.StageImplemented, item.StageEvaluated, item.StageCancelled:
	default:
		v.Overdue = !s.EndDate.IsZero() && today.After(s.EndDate)
	}
	for _, r := range s.Requests {
		rv := requestView{RequestID: r.ID, Source: string(r.Source), Amount: r.Amount, Year: r.Year, RequestedOn: r.RequestedOn,
			Endorsed: r.Endorsed, Status: string(r.Status), Approved: r.Approved, Disbursed: r.Disbursed, Officers: r.Officers, DecidedOn: r.DecidedOn}
		if r.FirstApproval != nil {
			amount := r.FirstApproval.Amount
			rv.AwaitingSecondOfficer = &amount
			rv.Officers = []string{r.FirstApproval.Officer}
		}
		v.FundingRequests = append(v.FundingRequests, rv)
	}
	for src, approved := range s.ApprovedBySource {
		v.Sources = append(v.Sources, sourceView{Source: string(src), Approved: approved, Disbursed: s.DisbursedBySource[src]})
	}
	sort.Slice(v.Sources, func(i, j int) bool { return v.Sources[i].Source < v.Sources[j].Source })
	if e := s.Evaluation; e != nil {
		v.Evaluation = &evaluationView{Rating: string(e.Rating), Score: e.Score, Note: e.Note, On: e.On}
	}
	return v
}

func (a *api) getItem(kind item.Kind) func(http.ResponseWriter, *http.Request, identity.User) {
	return func(w http.ResponseWriter, r *http.Request, u identity.User) {
		it, err := a.Handler.LoadItem(r.Context(), kind, r.PathValue("id"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		w.Header().Set("ETag", `"`+itoa(it.Version)+`"`)
		writeJSON(w, http.StatusOK, viewOf(it.State, it.Version, a.Handler.Today()))
	}
}

func (a *api) itemEvents(kind item.Kind) func(http.ResponseWriter, *http.Request, identity.User) {
	return func(w http.ResponseWriter, r *http.Request, u identity.User) {
		events, err := a.Handler.ItemEvents(r.Context(), kind, r.PathValue("id"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, events)
	}
}
