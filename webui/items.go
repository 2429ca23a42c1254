package webui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/workflows"
)

func (s *server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /dashboard", s.signedIn(s.dashboard))
	mux.HandleFunc("GET /export/{report}", s.signedIn(s.export))
	mux.HandleFunc("GET /items", s.signedIn(s.items))
	mux.HandleFunc("GET /items/{kind}/{id}", s.signedIn(s.itemPage))
	mux.HandleFunc("POST /items/{kind}/{id}/{action}", s.form(s.itemAction))
	mux.HandleFunc("POST /items/{kind}/{id}/requests/{rid}/{action}", s.form(s.itemAction))
	mux.HandleFunc("GET /my", s.signedIn(s.myUnit))
	mux.HandleFunc("GET /my/new/{kind}", s.signedIn(s.newItemPage))
	mux.HandleFunc("POST /my/new/{kind}", s.form(s.newItem))
	mux.HandleFunc("GET /queue", s.signedIn(s.queue))
	mux.HandleFunc("GET /duplicates", s.signedIn(s.duplicates))
	mux.HandleFunc("POST /duplicates/{id}", s.form(s.confirmDuplicate))
	mux.HandleFunc("GET /admin/units", s.signedIn(s.adminUnits))
	mux.HandleFunc("POST /admin/units", s.form(s.registerUnit))
	mux.HandleFunc("POST /admin/units/{code}/merge", s.form(s.mergeUnit))
	mux.HandleFunc("GET /admin/units/{code}/split", s.signedIn(s.splitPage))
	mux.HandleFunc("POST /admin/units/{code}/split", s.form(s.splitUnit))
	mux.HandleFunc("GET /admin/users", s.signedIn(s.adminUsers))
	mux.HandleFunc("GET /admin/reports", s.signedIn(s.reportsHealth))
	mux.HandleFunc("POST /admin/users", s.form(s.createUser))
	mux.HandleFunc("POST /admin/users/{id}/password", s.form(s.setPassword))
}

var kindOf = map[string]item.Kind{"model": item.Model, "project": item.Project}

// family is what belongs to unit code on day (its own items, its merged and split
// predecessors'): the items a row of a report grouped by unit stands for.
func family(units *unit.Directory, code string, day civil.Date) unit.Family {
	return units.FamilyAsOf(code, day)
}

// kindFamily is the unit codes of kind k: a report grouped by unit kind counts an item under
// the kind of its own unit, whatever became of it.
func kindFamily(units *unit.Directory, k string) []string {
	var out []string
	for _, u := range units.All() {
		if string(u.Kind) == k {
			out = append(out, u.Code)
		}
	}
	return out
}

type itemsData struct {
	names
	Kind, Unit, UnitKind, Stage, Pillar, Sector, Q, AsOf string
	Overdue                                              bool
	Items                                                []projections.ListItem
	Next                                                 string
	Stages, Pillars, Sectors                             []string
}

func (d *itemsData) Name(by, key string) string { return d.of(by, key) }

// items lists models and projects by the filters a report's figure links with.
func (s *server) items(w http.ResponseWriter, r *http.Request, rq *request) {
	v := r.URL.Query()
	ctx := r.Context()
	n, ok := s.names(w, r, rq)
	if !ok {
		return
	}
	d := &itemsData{names: n, Kind: pick(r, "kind", "", "model", "project"),
		Unit: v.Get("unit"), UnitKind: v.Get("unit_kind"), Stage: pick(r, "stage", "", "proposed", "funded", "implemented", "evaluated", "suspended", "cancelled"),
		Pillar: pick(r, "pillar", "", "government", "economy", "society"), Sector: v.Get("sector"), Q: v.Get("q"),
		Overdue: v.Get("overdue") == "1", Stages: []string{"proposed", "funded", "implemented", "evaluated", "suspended", "cancelled"},
		Pillars: []string{"government", "economy", "society"}, Sectors: item.DefaultSectors}
	day := s.Handler.Today()
	if a, err := parseDay(v.Get("as_of")); err == nil && !a.After(day) {
		day, d.AsOf = a, a.String()
	}
	q := projections.ListQuery{Kind: d.Kind, Stage: d.Stage, Pillar: d.Pillar, Sector: d.Sector, Q: d.Q, Limit: 100, Cursor: v.Get("cursor")}
	if len(q.Q) > 200 {
		q.Q = q.Q[:200]
	}
	switch {
	case d.Unit != "":
		fam := family(n.units, d.Unit, day)
		q.Units, q.ExceptItems, q.ItemIDs = fam.Units, fam.Except, fam.Items
	case d.UnitKind != "":
		if q.Units = kindFamily(n.units, d.UnitKind); len(q.Units) == 0 {
			q.Units = []string{"-"}
		}
	}
	if d.Overdue {
		q.PastEndBefore = s.Handler.Today()
	}
	if d.AsOf != "" {
		q.AsOf = day
	}
	var err error
	if d.Items, d.Next, err = s.Reports.List(ctx, q); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	p := s.newPage(r, rq, tr(rq.lang, "nav.items"))
	p.Data = d
	s.render(w, http.StatusOK, "items", p)
}

// eventView is one event of an item's timeline, for people.
type eventView struct {
	workflows.EventView
	What     string
	Who      string
	UnitName string
	Fields   []kv
}

type kv struct{ K, V string }

type itemData struct {
	names
	Kind      string
	Item      workflows.Item
	Events    []eventView
	Permitted []string
	Forms     map[string]*form
	Sources   []item.Source
	Ratings   []item.Rating
	Means     []item.Means
	Today     string
	Pending   []item.Request
	Approved  []item.Request // the approved requests, which a payment may name
	Mending   int            // the newer workflow version the person may move the item to, or 0
}

// May reports whether the signed-in person may take action now.
func (d *itemData) May(action string) bool { return slices.Contains(d.Permitted, action) }

// Form is the submitted form of that name coming back with errors, or nil.
func (d *itemData) Form(name string) *form { return d.Forms[name] }

func (d *itemData) Name(by, key string) string { return d.of(by, key) }

// itemPage is one model or project: what it is, its money per request and source, and the
// timeline of its events — who, when, from which unit, what changed.
func (s *server) itemPage(w http.ResponseWriter, r *http.Request, rq *request) {
	s.renderItem(w, r, rq, http.StatusOK, nil)
}

func (s *server) loadItemData(r *http.Request, rq *request) (*itemData, error) {
	kind, ok := kindOf[r.PathValue("kind")]
	if !ok {
		return nil, workflows.ErrNotFound
	}
	ctx := r.Context()
	it, err := s.Handler.LoadItem(ctx, kind, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	evs, err := s.Handler.ItemEvents(ctx, kind, it.ID)
	if err != nil {
		return nil, err
	}
	units, err := s.Handler.Units(ctx)
	if err != nil {
		return nil, err
	}
	people, err := s.Users.List(ctx)
	if err != nil {
		return nil, err
	}
	who := map[string]string{}
	for _, u := range people {
		who[u.ID] = u.Name
	}
	d := &itemData{names: names{lang: rq.lang, units: units}, Kind: string(kind), Item: it, Sources: item.Sources,
		Ratings: item.Ratings, Means: item.AllMeans, Today: s.Handler.Today().String(), Forms: map[string]*form{}}
	for _, e := range evs {
		ev := eventView{EventView: e, What: eventLabel(rq.lang, e.Type), Who: who[e.Actor], UnitName: d.of("unit", e.Unit)}
		if ev.Who == "" {
			ev.Who = e.Actor
		}
		ev.Fields = eventFields(rq.lang, e.Data, func(k, v string) string {
			switch k {
			case "unit_code":
				return d.of("unit", v)
			case "officer", "actor":
				if n := who[v]; n != "" {
					return n
				}
			}
			return v
		})
		d.Events = append(d.Events, ev)
	}
	for _, q := range it.Requests {
		if q.Status == item.RequestPending {
			d.Pending = append(d.Pending, q)
		}
		if q.Status == item.RequestApproved {
			d.Approved = append(d.Approved, q)
		}
	}
	d.Mending = s.Handler.Mending(it.WorkflowVersion, it.Stage, rq.actor().Role)
	if d.Permitted, err = s.Handler.Permitted(ctx, rq.actor(), it); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *server) renderItem(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
	d, err := s.loadItemData(r, rq)
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	if f != nil {
		d.Forms[f.Name] = f
	}
	p := s.newPage(r, rq, d.Item.Title)
	p.Data = d
	s.render(w, status, "item", p)
}

// itemAction takes one of the item forms: a funding request, a decision, an endorsement, a
// disbursement, progress, implemented, an evaluation.
func (s *server) itemAction(w http.ResponseWriter, r *http.Request, rq *request) {
	kind, ok := kindOf[r.PathValue("kind")]
	if !ok {
		s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		return
	}
	rd := newReader(r, rq.lang)
	action, name := "", r.PathValue("action")
	var cmd item.Command
	rid := r.PathValue("rid")
	switch {
	case rid == "" && name == "funding-request":
		action = workflows.ActRequestFunding
		src := item.Source(rd.required("source"))
		cmd = &item.RequestFunding{Meta: item.Meta{On: rd.date("occurred_on", false)}, Source: src,
			Amount: money.VND(rd.money("amount_vnd", true)), Year: rd.number("year", civil.Earliest.Year, civil.Latest.Year)}
	case rid == "" && name == "disbursement":
		action = workflows.ActDisburse
		c := &item.Disburse{Meta: item.Meta{On: rd.date("date", true)}, RequestID: rd.text("request_id"),
			Amount: money.VND(rd.money("amount_vnd", true))}
		if c.RequestID == "" {
			c.Source = item.Source(rd.required("source"))
		} else {
			c.Source = item.Source(rd.text("source")) // may be left out: the request's
		}
		cmd = c
	case rid == "" && name == "own-funding":
		action = workflows.ActOwnFunding
		cmd = &item.ArrangeOwnFunding{Meta: item.Meta{On: rd.date("occurred_on", false)}, Means: item.Means(rd.required("means")),
			Note: rd.text("note")}
	case rid == "" && name == "workflow-version":
		action = workflows.ActAdoptVersion
		cmd = &item.ChangeWorkflowVersion{Meta: item.Meta{On: rd.date("occurred_on", false)}, To: rd.number("to_version", 1, 1<<20),
			Note: rd.required("note")}
	case rid == "" && name == "progress":
		action = workflows.ActProgress
		cmd = &item.ReportProgress{Meta: item.Meta{On: rd.date("date", true)}, Percent: rd.number("percent", 0, 100), Note: rd.text("note")}
	case rid == "" && name == "implemented":
		action = workflows.ActImplemented
		cmd = &item.MarkImplemented{Meta: item.Meta{On: rd.date("date", true)}, Note: rd.text("note")}
	case rid == "" && name == "evaluation":
		action = workflows.ActEvaluate
		cmd = &item.Evaluate{Meta: item.Meta{On: rd.date("occurred_on", false)}, Rating: item.Rating(rd.required("rating")),
			Score: rd.number("score", 0, 100), Note: rd.text("note")}
	case rid != "" && name == "decision":
		c := &item.DecideFunding{Meta: item.Meta{On: rd.date("occurred_on", false)}, RequestID: rid, Note: rd.text("note")}
		switch rd.text("decision") {
		case "approve":
			action, c.Approve = workflows.ActApprove, true
			c.Amount = money.VND(rd.money("approved_vnd", true))
		case "reject":
			action = workflows.ActReject
		default:
			rd.fail("decision", "Vui lòng chọn phê duyệt hoặc không phê duyệt.", "Choose approve or reject.")
		}
		cmd = c
		name = "decision-" + rid
	case rid == "" && name == "unmark-same-as":
		action = workflows.ActSameAs // undoing a marking takes the rights of making one
		cmd = &item.UnmarkSameAs{Meta: item.Meta{On: rd.date("occurred_on", false)}}
	case rid != "" && name == "endorsement":
		action = workflows.ActEndorse
		cmd = &item.EndorseFunding{Meta: item.Meta{On: rd.date("occurred_on", false)}, RequestID: rid, Note: rd.text("note")}
		name = "endorsement-" + rid
	default:
		s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		return
	}
	s.write(w, r, rq, rd, name, s.renderItem, func() (string, error) {
		var err error
		if c, ok := cmd.(*item.ChangeWorkflowVersion); ok {
			_, err = s.Handler.AdoptVersion(r.Context(), rq.actor(), kind, r.PathValue("id"), *c, options(r, "web "+r.URL.Path))
		} else {
			_, err = s.Handler.Act(r.Context(), rq.actor(), kind, r.PathValue("id"), action, cmd, options(r, "web "+r.URL.Path))
		}
		if next := r.PostForm.Get("next"); next != "" {
			return safeNext(next), err
		}
		return "/items/" + string(kind) + "/" + r.PathValue("id") + "?ok=1", err
	})
}

// eventLabel names an event type ("project.funding_requested.v1") for people.
func eventLabel(lang, typ string) string {
	_, name, _ := strings.Cut(typ, ".")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	return label(lang, "ev", name)
}

// eventFields shows what an event recorded: its data's fields, money and dates written the
// official's way, codes named.
func eventFields(lang string, data []byte, name func(field, code string) string) []kv {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // amounts are int64 đồng, not floats
	if dec.Decode(&m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		switch k {
		case "id", "kind", "workflow_version", "on", "occurred_on":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		var v string
		switch x := m[k].(type) {
		case nil:
			continue
		case json.Number:
			n, err := x.Int64()
			switch {
			case err != nil:
				v = x.String()
			case strings.HasSuffix(k, "_vnd") || k == "amount":
				v = vnd(lang, n)
			case k == "year":
				v = x.String()
			default:
				v = count(lang, n)
			}
		case string:
			if x == "" {
				continue
			}
			v = x
			if d, err := civil.Parse(x); err == nil {
				v = dmy(d)
			}
			switch k {
			case "source", "stage", "pillar", "sector", "rating", "means":
				v = label(lang, k, x)
			default:
				v = name(k, v)
			}
		case []any:
			names := make([]string, 0, len(x))
			for _, e := range x {
				if s, ok := e.(string); ok {
					names = append(names, name(strings.TrimSuffix(k, "s"), s))
				}
			}
			v = strings.Join(names, ", ")
		case bool:
			v = map[bool]string{true: "✓", false: "✗"}[x]
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		out = append(out, kv{K: fieldLabel(lang, k), V: v})
	}
	return out
}

func fieldLabel(lang, k string) string {
	if _, ok := messages["f."+k]; ok {
		return tr(lang, "f."+k)
	}
	return k
}
