package httpapi

import (
	"net/http"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
)

// kinds maps the URL's collection to the item kind.
var kinds = map[string]item.Kind{"models": item.Model, "projects": item.Project}

func actor(r *http.Request, u identity.User) workflows.Actor {
	return workflows.Actor{UserID: u.ID, Role: role.Role(u.Role), UnitCode: u.UnitCode, RequestID: requestID(r.Context())}
}

// options reads If-Match and Idempotency-Key.
func options(r *http.Request, fingerprint []byte) (workflows.Options, error) {
	o := workflows.Options{IdempotencyKey: r.Header.Get("Idempotency-Key"), Fingerprint: fingerprint, Route: r.Method + " " + r.URL.Path}
	if len(o.IdempotencyKey) > 200 {
		return o, &badRequest{detail: "Idempotency-Key: at most 200 characters"}
	}
	if v := r.Header.Get("If-Match"); v != "" {
		n, err := ifMatchVersion(v)
		if err != nil {
			return o, &badRequest{detail: err.Error(), fields: []FieldError{{Field: "If-Match", Message: err.Error()}}}
		}
		o.IfMatch = &n
	}
	return o, nil
}

// prepare reads a write call: the body, strictly, into body; build (which fills the command
// from it, naming bad fields); If-Match and Idempotency-Key. On any problem it answers the
// request itself and returns false.
func (a *api) prepare(w http.ResponseWriter, r *http.Request, body any, build func(*fields)) (workflows.Options, bool) {
	fp, err := decode(w, r, body)
	if err != nil {
		a.fail(w, r, err)
		return workflows.Options{}, false
	}
	var f fields
	build(&f)
	if err := f.err(); err != nil {
		a.fail(w, r, err)
		return workflows.Options{}, false
	}
	o, err := options(r, fp)
	if err != nil {
		a.fail(w, r, err)
		return workflows.Options{}, false
	}
	return o, true
}

// prepareOn is prepare for a write whose business date is the body's optional occurred_on
// (*occurredOn, a field of body): it is read once, with the other fields, into
// Options.OccurredOn.
func (a *api) prepareOn(w http.ResponseWriter, r *http.Request, body any, occurredOn *string, build func(*fields)) (workflows.Options, bool) {
	var on civil.Date
	o, ok := a.prepare(w, r, body, func(f *fields) {
		if build != nil {
			build(f)
		}
		on = f.date("occurred_on", *occurredOn)
	})
	o.OccurredOn = on
	return o, ok
}

type writeResponse struct {
	ID        string `json:"id" api:"desc=the item's ULID, or the unit's code"`
	Version   int64  `json:"version" api:"min=0;desc=the stream version after the write: send it as If-Match"`
	RequestID string `json:"request_id,omitempty" api:"format=ulid;desc=a funding request's id (POST …/funding-requests)"`
}

func (a *api) respond(w http.ResponseWriter, r *http.Request, res workflows.Result, err error, status int) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.setPosition(w, r, res.Position)
	writeJSON(w, status, writeResponse{ID: res.ID, Version: res.Version, RequestID: res.RequestID})
}

// PositionHeader carries the store position a write reached; MinPositionHeader (or the query
// parameter min_position) asks a read to include it (API.md, "Conventions").
const (
	PositionHeader    = "Dxledger-Position"
	MinPositionHeader = "Dxledger-Min-Position"
)

// setPosition answers a successful write with the position it reached; one that appended
// nothing now (a retry, a command already satisfied) answers with the store's newest, which
// is at or after whatever it stands on.
func (a *api) setPosition(w http.ResponseWriter, r *http.Request, pos string) {
	if pos == "" && a.Handler != nil {
		var err error
		if pos, err = a.Handler.Position(r.Context()); err != nil {
			a.Logger.Warn("store position for a write's answer", "err", err, "request_id", requestID(r.Context()))
			return
		}
	}
	if pos != "" {
		w.Header().Set(PositionHeader, pos)
	}
}

// modelBody is POST /models; projectBody is POST /projects: a project also names its model,
// its planned dates and its cost.
type modelBody struct {
	Title         string    `json:"title" api:"required;maxlen=title;example=Chợ 4.0 – thanh toán không dùng tiền mặt"`
	UnitCode      string    `json:"unit_code" api:"required;example=SO-CT"`
	Pillar        string    `json:"pillar" api:"required;enum=pillar;example=economy"`
	Sector        string    `json:"sector" api:"required;desc=a code of the sector list (the administrator can extend it);example=commerce"`
	Scope         string    `json:"scope" api:"maxlen=note"`
	EstimatedCost money.VND `json:"estimated_cost_vnd" api:"example=1500000000"`
	OccurredOn    string    `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

type projectBody struct {
	Title         string    `json:"title" api:"required;maxlen=title;example=Nền tảng dữ liệu nông nghiệp"`
	UnitCode      string    `json:"unit_code" api:"required;example=SO-NNPTNT"`
	Pillar        string    `json:"pillar" api:"required;enum=pillar;example=economy"`
	Sector        string    `json:"sector" api:"required;desc=a code of the sector list (the administrator can extend it);example=agriculture"`
	Scope         string    `json:"scope" api:"maxlen=note"`
	ModelID       string    `json:"model_id" api:"format=ulid;desc=the model the project carries out"`
	EstimatedCost money.VND `json:"estimated_cost_vnd" api:"required;min=1;example=40000000000"`
	StartDate     string    `json:"start_date" api:"required;example=2022-03-01"`
	EndDate       string    `json:"end_date" api:"required;example=2023-12-31"`
	OccurredOn    string    `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

// proposeBody is what either becomes.
type proposeBody = projectBody

func (a *api) propose(kind item.Kind) func(http.ResponseWriter, *http.Request, identity.User) {
	return func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var (
			b    proposeBody
			c    item.Propose
			body any = &b
			m    modelBody
		)
		if kind == item.Model {
			body = &m
		}
		o, ok := a.prepare(w, r, body, func(f *fields) {
			if kind == item.Model {
				b = proposeBody{Title: m.Title, UnitCode: m.UnitCode, Pillar: m.Pillar, Sector: m.Sector, Scope: m.Scope,
					EstimatedCost: m.EstimatedCost, OccurredOn: m.OccurredOn}
			}
			c = item.Propose{Meta: item.Meta{On: f.date("occurred_on", b.OccurredOn)}, Kind: kind, Title: b.Title,
				UnitCode: b.UnitCode, Pillar: item.Pillar(b.Pillar), Sector: b.Sector, Scope: b.Scope, ModelID: b.ModelID,
				EstimatedCost: b.EstimatedCost, StartDate: f.date("start_date", b.StartDate), EndDate: f.date("end_date", b.EndDate)}
		})
		if !ok {
			return
		}
		res, err := a.Handler.Propose(r.Context(), actor(r, u), c, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}
}

// act decodes body B, builds the command and runs it as action.
func act[B any](a *api, action string, status int, build func(*B, *fields, *http.Request) item.Command) func(http.ResponseWriter, *http.Request, identity.User) {
	return func(w http.ResponseWriter, r *http.Request, u identity.User) {
		kind, ok := kinds[r.PathValue("kind")]
		if !ok {
			a.fail(w, r, workflows.ErrNotFound)
			return
		}
		var (
			b B
			c item.Command
		)
		o, ok := a.prepare(w, r, &b, func(f *fields) { c = build(&b, f, r) })
		if !ok {
			return
		}
		name := action
		if d, ok := c.(*item.DecideFunding); ok && !d.Approve {
			name = workflows.ActReject // one call, two actions of the definition
		}
		res, err := a.Handler.Act(r.Context(), actor(r, u), kind, r.PathValue("id"), name, c, o)
		a.respond(w, r, res, err, status)
	}
}

type fundingRequestBody struct {
	Source     string    `json:"source" api:"required;enum=source;example=provincial_budget"`
	Amount     money.VND `json:"amount_vnd" api:"required;min=1;example=20000000000"`
	Year       int       `json:"year" api:"required;min=first_year;max=last_year;example=2022"`
	OccurredOn string    `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

type noteBody struct {
	Note       string `json:"note" api:"maxlen=note"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

type decisionBody struct {
	Decision   string     `json:"decision" api:"required;enum=decision;example=approve"`
	Approved   *money.VND `json:"approved_vnd" api:"desc=required when approving: the amount approved, at most the amount requested;example=12000000000"`
	Note       string     `json:"note" api:"maxlen=note"`
	OccurredOn string     `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

// moneyBody is a disbursement. request_id names the approved funding request it draws on
// (source may then be left out); without it the payment draws on the approved requests of its
// source decided by its date, the earliest approval first.
type moneyBody struct {
	Source     string    `json:"source" api:"enum=source;desc=required unless request_id names the request drawn on;example=provincial_budget"`
	Amount     money.VND `json:"amount_vnd" api:"required;min=1;example=5000000000"`
	Date       string    `json:"date" api:"desc=the day the money was spent (required unless occurred_on is given);example=2022-06-15"`
	RequestID  string    `json:"request_id" api:"format=ulid;desc=the approved funding request the payment draws on"`
	OccurredOn string    `json:"occurred_on" api:"desc=the business date, equal to date when both are given"`
}

// ownFundingBody says an item needs no separate state funding, and how it is paid for.
type ownFundingBody struct {
	Means      string `json:"means" api:"required;enum=means;example=regular_budget"`
	Note       string `json:"note" api:"maxlen=note"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

// workflowVersionBody moves an item to a newer workflow version that mends its own.
type workflowVersionBody struct {
	Version    *int   `json:"version" api:"required;min=1;example=2"`
	Note       string `json:"note" api:"required;maxlen=note;desc=why the item moves to the newer version"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

type progressBody struct {
	Percent    *int   `json:"percent" api:"required;min=0;max=100;example=60"`
	Date       string `json:"date" api:"desc=the day of the report (required unless occurred_on is given);example=2022-09-30"`
	Note       string `json:"note" api:"maxlen=note"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date, equal to date when both are given"`
}

type datedNoteBody struct {
	Date       string `json:"date" api:"desc=the day the work was done (required unless occurred_on is given);example=2023-11-30"`
	Note       string `json:"note" api:"maxlen=note"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date, equal to date when both are given"`
}

type evaluationBody struct {
	Rating     string `json:"rating" api:"required;enum=rating;example=effective"`
	Score      *int   `json:"score" api:"required;min=0;max=100;example=85"`
	Note       string `json:"note" api:"maxlen=note"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

type reasonBody struct {
	Reason     string `json:"reason" api:"required;maxlen=note;example=chờ điều chỉnh quy hoạch"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

type sameAsBody struct {
	ModelID    string `json:"model_id" api:"required;format=ulid;desc=the registration this one is the same model as"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

// unmarkBody is DELETE …/same-as: optional, the business date of the correction.
type unmarkBody struct {
	OccurredOn string `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

// businessDate: a write with a date field uses it; occurred_on is accepted too, and they
// must agree.
func businessDate(f *fields, date, occurredOn string) civil.Date {
	d := f.date("date", date)
	o := f.date("occurred_on", occurredOn)
	switch {
	case date == "":
		return o
	case occurredOn != "" && d != o:
		f.rule("occurred_on", "must equal date when both are given")
	}
	return d
}

func meta(f *fields, occurredOn string) item.Meta {
	return item.Meta{On: f.date("occurred_on", occurredOn)}
}

func (a *api) itemRoutes(rt *router) {
	for _, coll := range []string{"models", "projects"} {
		kind := kinds[coll]
		base := "/api/v1/" + coll
		rt.handle("POST "+base, a.authed(a.propose(kind)))
		rt.handle("GET "+base+"/{id}", a.authed(a.getItem(kind)))
		rt.handle("GET "+base+"/{id}/events", a.authed(a.itemEvents(kind)))
	}
	path := "/api/v1/{kind}/{id}"
	rt.handle("POST "+path+"/funding-requests", a.authed(act(a, workflows.ActRequestFunding, http.StatusCreated,
		func(b *fundingRequestBody, f *fields, r *http.Request) item.Command {
			return &itemRequestFunding{Meta: meta(f, b.OccurredOn), Source: item.Source(b.Source), Amount: b.Amount, Year: b.Year}
		})))
	rt.handle("POST "+path+"/funding-requests/{request_id}/endorsement", a.authed(act(a, workflows.ActEndorse, http.StatusOK,
		func(b *noteBody, f *fields, r *http.Request) item.Command {
			return &itemEndorse{Meta: meta(f, b.OccurredOn), RequestID: r.PathValue("request_id"), Note: b.Note}
		})))
	rt.handle("POST "+path+"/funding-requests/{request_id}/decision", a.authed(a.decision()))
	rt.handle("POST "+path+"/disbursements", a.authed(act(a, workflows.ActDisburse, http.StatusCreated,
		func(b *moneyBody, f *fields, r *http.Request) item.Command {
			if b.Date == "" && b.OccurredOn == "" {
				f.rule("date", "is required (YYYY-MM-DD)")
			}
			return &itemDisburse{Meta: item.Meta{On: businessDate(f, b.Date, b.OccurredOn)}, Source: item.Source(b.Source), Amount: b.Amount,
				RequestID: b.RequestID}
		})))
	rt.handle("POST "+path+"/own-funding", a.authed(act(a, workflows.ActOwnFunding, http.StatusOK,
		func(b *ownFundingBody, f *fields, r *http.Request) item.Command {
			if b.Means == "" {
				f.rule("means", "is required (regular_budget, enterprise or reuse)")
			}
			return &item.ArrangeOwnFunding{Meta: meta(f, b.OccurredOn), Means: item.Means(b.Means), Note: b.Note}
		})))
	rt.handle("POST "+path+"/workflow-version", a.authed(a.workflowVersion()))
	rt.handle("POST "+path+"/progress", a.authed(act(a, workflows.ActProgress, http.StatusCreated,
		func(b *progressBody, f *fields, r *http.Request) item.Command {
			if b.Percent == nil {
				f.add("percent", "is required (0 to 100)")
				b.Percent = new(int)
			}
			if b.Date == "" && b.OccurredOn == "" {
				f.rule("date", "is required (YYYY-MM-DD)")
			}
			return &itemProgress{Meta: item.Meta{On: businessDate(f, b.Date, b.OccurredOn)}, Percent: *b.Percent, Note: b.Note}
		})))
	rt.handle("POST "+path+"/implemented", a.authed(act(a, workflows.ActImplemented, http.StatusOK,
		func(b *datedNoteBody, f *fields, r *http.Request) item.Command {
			if b.Date == "" && b.OccurredOn == "" {
				f.rule("date", "is required (YYYY-MM-DD)")
			}
			return &itemImplemented{Meta: item.Meta{On: businessDate(f, b.Date, b.OccurredOn)}, Note: b.Note}
		})))
	rt.handle("POST "+path+"/evaluation", a.authed(act(a, workflows.ActEvaluate, http.StatusOK,
		func(b *evaluationBody, f *fields, r *http.Request) item.Command {
			if b.Score == nil {
				f.add("score", "is required (0 to 100)")
				b.Score = new(int)
			}
			return &itemEvaluate{Meta: meta(f, b.OccurredOn), Rating: item.Rating(b.Rating), Score: *b.Score, Note: b.Note}
		})))
	rt.handle("POST "+path+"/suspend", a.authed(act(a, workflows.ActSuspend, http.StatusOK,
		func(b *reasonBody, f *fields, r *http.Request) item.Command {
			return &itemSuspend{Meta: meta(f, b.OccurredOn), Reason: b.Reason}
		})))
	rt.handle("POST "+path+"/resume", a.authed(act(a, workflows.ActResume, http.StatusOK,
		func(b *noteBody, f *fields, r *http.Request) item.Command {
			return &itemResume{Meta: meta(f, b.OccurredOn), Note: b.Note}
		})))
	rt.handle("POST "+path+"/cancel", a.authed(act(a, workflows.ActCancel, http.StatusOK,
		func(b *reasonBody, f *fields, r *http.Request) item.Command {
			return &itemCancel{Meta: meta(f, b.OccurredOn), Reason: b.Reason}
		})))
	rt.handle("POST /api/v1/models/{id}/same-as", a.authed(a.sameAs()))
	rt.handle("DELETE /api/v1/models/{id}/same-as", a.authed(a.unmarkSameAs()))
}

// Local names for the domain's commands, so the route table above reads in one column.
type (
	itemRequestFunding = item.RequestFunding
	itemEndorse        = item.EndorseFunding
	itemDisburse       = item.Disburse
	itemProgress       = item.ReportProgress
	itemImplemented    = item.MarkImplemented
	itemEvaluate       = item.Evaluate
	itemSuspend        = item.Suspend
	itemResume         = item.Resume
	itemCancel         = item.Cancel
)

// decision is approve or reject: two actions of the definition behind one call.
func (a *api) decision() func(http.ResponseWriter, *http.Request, identity.User) {
	return act(a, workflows.ActApprove, http.StatusOK, func(b *decisionBody, f *fields, r *http.Request) item.Command {
		c := &item.DecideFunding{Meta: meta(f, b.OccurredOn), RequestID: r.PathValue("request_id"), Note: b.Note}
		switch b.Decision {
		case "approve":
			c.Approve = true
			if b.Approved == nil {
				f.rule("approved_vnd", "is required when approving")
			} else {
				c.Amount = *b.Approved
			}
		case "reject":
		default:
			f.add("decision", "must be approve or reject")
		}
		return c
	})
}

// unmarkSameAs undoes a same-as marking made by mistake, as an event; the same people may do
// it as may mark (the definition's mark_same_as), and undoing none is answered as done.
func (a *api) unmarkSameAs() func(http.ResponseWriter, *http.Request, identity.User) {
	h := act(a, workflows.ActSameAs, http.StatusOK, func(b *unmarkBody, f *fields, r *http.Request) item.Command {
		return &item.UnmarkSameAs{Meta: meta(f, b.OccurredOn)}
	})
	return func(w http.ResponseWriter, r *http.Request, u identity.User) {
		r.SetPathValue("kind", "models")
		h(w, r, u)
	}
}

func (a *api) sameAs() func(http.ResponseWriter, *http.Request, identity.User) {
	h := act(a, workflows.ActSameAs, http.StatusOK, func(b *sameAsBody, f *fields, r *http.Request) item.Command {
		if b.ModelID == "" {
			f.add("model_id", "is required")
		}
		return &item.MarkSameAs{Meta: meta(f, b.OccurredOn), ModelID: b.ModelID}
	})
	return func(w http.ResponseWriter, r *http.Request, u identity.User) {
		r.SetPathValue("kind", "models")
		h(w, r, u)
	}
}

// workflowVersion moves an item in flight to a newer version of the workflow definition that
// mends the version it lives under, as an event (workflows.Handler.AdoptVersion).
func (a *api) workflowVersion() func(http.ResponseWriter, *http.Request, identity.User) {
	return func(w http.ResponseWriter, r *http.Request, u identity.User) {
		kind, ok := kinds[r.PathValue("kind")]
		if !ok {
			a.fail(w, r, workflows.ErrNotFound)
			return
		}
		var (
			b workflowVersionBody
			c item.ChangeWorkflowVersion
		)
		o, ok := a.prepare(w, r, &b, func(f *fields) {
			if b.Version == nil {
				f.rule("version", "is required: the newer workflow version")
				b.Version = new(int)
			}
			if strings.TrimSpace(b.Note) == "" {
				f.rule("note", "is required: why the item moves to the newer version")
			}
			c = item.ChangeWorkflowVersion{Meta: meta(f, b.OccurredOn), To: *b.Version, Note: b.Note}
		})
		if !ok {
			return
		}
		res, err := a.Handler.AdoptVersion(r.Context(), actor(r, u), kind, r.PathValue("id"), c, o)
		a.respond(w, r, res, err, http.StatusOK)
	}
}
