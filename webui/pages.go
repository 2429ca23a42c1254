package webui

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/workflows"
)

// noProgressDays is how long a funded item may go without a progress report before its
// focal point's page asks for one.
const noProgressDays = 90

type myData struct {
	names
	Unit      string
	Attention []projections.Attention
	Items     []projections.ListItem
}

func (d *myData) Name(by, key string) string { return d.of(by, key) }

// myUnit is a focal point's page: their unit's models and projects and what is missing.
func (s *server) myUnit(w http.ResponseWriter, r *http.Request, rq *request) {
	if rq.user.Role != identity.RoleFocalPoint || rq.user.UnitCode == "" {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	ctx := r.Context()
	n, ok := s.names(w, r, rq)
	if !ok {
		return
	}
	d := &myData{names: n, Unit: rq.user.UnitCode}
	fam := family(n.units, rq.user.UnitCode, s.Handler.Today())
	var err error
	if d.Attention, err = s.Reports.Attention(ctx, fam.Units, fam.Except, fam.Items, s.Handler.Today(), noProgressDays); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	if d.Items, _, err = s.Reports.List(ctx, projections.ListQuery{Units: fam.Units, ExceptItems: fam.Except, ItemIDs: fam.Items, Limit: 200}); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	p := s.newPage(r, rq, tr(rq.lang, "my.title"))
	p.Data = d
	s.render(w, http.StatusOK, "my", p)
}

type newItemData struct {
	Kind string
	// Units the focal point may register for: their own and those theirs took over (for
	// history dated before the merger or split); a choice only when there are several.
	Units   []unitOption
	Form    *form
	Pillars []string
	Sectors []string
	Today   string
}

func (s *server) newItemPage(w http.ResponseWriter, r *http.Request, rq *request) {
	s.renderNewItem(w, r, rq, http.StatusOK, nil)
}

func (s *server) renderNewItem(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
	kind := r.PathValue("kind")
	if _, ok := kindOf[kind]; !ok {
		s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		return
	}
	if !rq.is(identity.RoleFocalPoint, identity.RoleAdmin) {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	p := s.newPage(r, rq, tr(rq.lang, "my.new."+kind))
	d := &newItemData{Kind: kind, Form: f, Pillars: []string{"government", "economy", "society"}, Sectors: item.DefaultSectors,
		Today: s.Handler.Today().String()}
	if rq.user.Role == identity.RoleFocalPoint {
		units, err := s.Handler.Units(r.Context())
		if err != nil {
			s.failErr(w, r, rq, err)
			return
		}
		d.Units = s.ownUnits(rq, units)
	}
	p.Data = d
	s.render(w, status, "new", p)
}

// newItem registers a model or proposes a project for the focal point's unit.
func (s *server) newItem(w http.ResponseWriter, r *http.Request, rq *request) {
	kind, ok := kindOf[r.PathValue("kind")]
	if !ok {
		s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		return
	}
	rd := newReader(r, rq.lang)
	c := item.Propose{Meta: item.Meta{On: rd.date("occurred_on", false)}, Kind: kind, Title: rd.required("title"),
		UnitCode: rq.user.UnitCode, Pillar: item.Pillar(rd.required("pillar")), Sector: rd.required("sector"),
		Scope: rd.text("scope"), EstimatedCost: money.VND(rd.money("estimated_cost_vnd", kind == item.Project)),
		StartDate: rd.date("start_date", false), EndDate: rd.date("end_date", false)}
	if rq.user.Role == identity.RoleAdmin {
		c.UnitCode = rd.required("unit_code")
	} else if u := rd.text("unit_code"); u != "" {
		c.UnitCode = u // a unit theirs took over, for history dated before that; the handler checks
	}
	s.write(w, r, rq, rd, "new", s.renderNewItem, func() (string, error) {
		res, err := s.Handler.Propose(r.Context(), rq.actor(), c, options(r, "web /my/new"))
		return "/items/" + string(kind) + "/" + res.ID + "?ok=1", err
	})
}

// waiting is a funding request waiting for a decision, with its item.
type waiting struct {
	Item    workflows.Item
	Request item.Request
}

type queueData struct {
	names
	Waiting []waiting
}

func (d *queueData) Name(by, key string) string { return d.of(by, key) }

// queue is the finance officer's list of funding requests that wait for a decision, oldest
// first; each links to its item, where the history stands beside the decision form.
func (s *server) queue(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.is(identity.RoleFinanceOfficer, identity.RoleSteeringCommittee, identity.RoleAdmin) {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	ctx := r.Context()
	refs, err := s.Reports.Undecided(ctx, 200)
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	n, ok := s.names(w, r, rq)
	if !ok {
		return
	}
	d := &queueData{names: n}
	for _, ref := range refs {
		it, err := s.Handler.LoadItem(ctx, ref.Kind, ref.ID)
		if err != nil {
			s.failErr(w, r, rq, err)
			return
		}
		for _, q := range it.Requests {
			if q.Status == item.RequestPending {
				d.Waiting = append(d.Waiting, waiting{Item: it, Request: q})
			}
		}
	}
	sort.SliceStable(d.Waiting, func(i, j int) bool { return d.Waiting[i].Request.RequestedOn.Before(d.Waiting[j].Request.RequestedOn) })
	p := s.newPage(r, rq, tr(rq.lang, "queue.title"))
	p.Data = d
	s.render(w, http.StatusOK, "queue", p)
}

type dupData struct {
	names
	Candidates []projections.DuplicateCandidate
	Form       *form
}

func (d *dupData) Name(by, key string) string { return d.of(by, key) }

// duplicates is the secretariat's list of registrations that may be one model, with a
// confirm button on each pair.
func (s *server) duplicates(w http.ResponseWriter, r *http.Request, rq *request) {
	s.renderDuplicates(w, r, rq, http.StatusOK, nil)
}

func (s *server) renderDuplicates(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
	if err := workflows.MayReviewDuplicates(role.Role(rq.user.Role)); err != nil {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	ctx := r.Context()
	n, ok := s.names(w, r, rq)
	if !ok {
		return
	}
	d := &dupData{names: n, Form: f}
	var err error
	if d.Candidates, err = s.Reports.DuplicateCandidates(ctx); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	p := s.newPage(r, rq, tr(rq.lang, "dup.title"))
	p.Data = d
	s.render(w, status, "duplicates", p)
}

// confirmDuplicate marks model {id} the same as the posted model_id.
func (s *server) confirmDuplicate(w http.ResponseWriter, r *http.Request, rq *request) {
	rd := newReader(r, rq.lang)
	c := &item.MarkSameAs{ModelID: rd.required("model_id")}
	s.write(w, r, rq, rd, "same-as", s.renderDuplicates, func() (string, error) {
		_, err := s.Handler.Act(r.Context(), rq.actor(), item.Model, r.PathValue("id"), workflows.ActSameAs, c, options(r, "web /duplicates"))
		return "/duplicates?ok=1", err
	})
}

type unitsData struct {
	Units []unit.State
	Kinds []string
	Form  *form
	Today string
}

func (s *server) adminUnits(w http.ResponseWriter, r *http.Request, rq *request) {
	s.renderUnits(w, r, rq, http.StatusOK, nil)
}

func (s *server) renderUnits(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
	if rq.user.Role != identity.RoleAdmin {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	units, err := s.Handler.Units(r.Context())
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	all := units.All()
	byName(all, func(u unit.State) string { return u.Name })
	p := s.newPage(r, rq, tr(rq.lang, "nav.units"))
	p.Data = &unitsData{Units: all, Kinds: []string{"province", "department", "district", "commune"}, Form: f, Today: s.Handler.Today().String()}
	s.render(w, status, "units", p)
}

func (s *server) registerUnit(w http.ResponseWriter, r *http.Request, rq *request) {
	rd := newReader(r, rq.lang)
	c := unit.Register{Code: strings.ToUpper(rd.required("code")), Name: rd.required("name"), Kind: unit.Kind(rd.required("kind")),
		ParentCode: rd.text("parent_code"), On: rd.date("occurred_on", false)}
	s.write(w, r, rq, rd, "unit", s.renderUnits, func() (string, error) {
		_, err := s.Handler.RegisterUnit(r.Context(), rq.actor(), c, options(r, "web /admin/units"))
		return "/admin/units?ok=1", err
	})
}

func (s *server) mergeUnit(w http.ResponseWriter, r *http.Request, rq *request) {
	rd := newReader(r, rq.lang)
	c := unit.Merge{Code: r.PathValue("code"), IntoCode: rd.required("into_code"), EffectiveDate: rd.date("effective_date", true)}
	s.write(w, r, rq, rd, "merge-"+c.Code, s.renderUnits, func() (string, error) {
		_, err := s.Handler.MergeUnit(r.Context(), rq.actor(), c, options(r, "web /admin/units/merge"))
		return "/admin/units?ok=1", err
	})
}

// FormOf is the submitted form of that name coming back with errors, or nil.
func (d *unitsData) FormOf(name string) *form {
	if d.Form != nil && d.Form.Name == name {
		return d.Form
	}
	return nil
}

// FormOf is the submitted form of that name coming back with errors, or nil.
func (d *usersData) FormOf(name string) *form {
	if d.Form != nil && d.Form.Name == name {
		return d.Form
	}
	return nil
}

type usersData struct {
	Users []identity.User
	Roles []string
	Form  *form
	Token string // a new user's API token, shown once
}

func (s *server) adminUsers(w http.ResponseWriter, r *http.Request, rq *request) {
	s.renderUsers(w, r, rq, http.StatusOK, &usersData{})
}

func (s *server) renderUsers(w http.ResponseWriter, r *http.Request, rq *request, status int, d *usersData) {
	if rq.user.Role != identity.RoleAdmin {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	var err error
	if d.Users, err = s.Users.List(r.Context()); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	d.Roles = []string{identity.RoleFocalPoint, identity.RoleFinanceOfficer, identity.RoleSteeringCommittee, identity.RoleAdmin}
	p := s.newPage(r, rq, tr(rq.lang, "nav.users"))
	p.Data = d
	s.render(w, status, "users", p)
}

func (s *server) createUser(w http.ResponseWriter, r *http.Request, rq *request) {
	if rq.user.Role != identity.RoleAdmin {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	rd := newReader(r, rq.lang)
	name, rl, unitCode, password := rd.required("name"), rd.required("role"), rd.text("unit_code"), rd.required("password")
	if _, err := role.Parse(rl); err != nil && rl != "" {
		rd.fail("role", "Vui lòng chọn một vai trò.", "Choose a role.")
	}
	if rl == identity.RoleFocalPoint {
		if unitCode == "" {
			rd.fail("unit_code", "Cán bộ đầu mối cần thuộc một đơn vị.", "A focal point belongs to a unit.")
		} else if units, err := s.Handler.Units(r.Context()); err == nil {
			if u, ok := units.Lookup(unitCode); !ok || !u.ActiveOn(s.Handler.Today()) {
				rd.fail("unit_code", "Không có đơn vị này (hoặc đã sáp nhập).", "No such unit (or it was merged).")
			}
		}
	}
	if len([]rune(password)) < identity.MinPasswordLength && password != "" {
		rd.fail("password", "Mật khẩu phải có ít nhất 12 ký tự.", "The password needs at least 12 characters.")
	}
	if f := rd.done("user"); f != nil {
		s.renderUsers(w, r, rq, http.StatusUnprocessableEntity, &usersData{Form: f})
		return
	}
	// The page that shows the new token is the answer to the post, so a reload posts again:
	// the form's key makes that show the same user's token instead of creating another.
	key := r.PostForm.Get("key")
	if token, ok := s.created.get(key); ok {
		s.renderUsers(w, r, rq, http.StatusCreated, &usersData{Token: token})
		return
	}
	_, token, err := s.Users.Create(r.Context(), identity.ActorOf(rq.user, rq.id),
		identity.NewUser{Name: name, Role: rl, UnitCode: unitCode, Password: password, TokenName: "first"})
	if err == nil {
		s.created.put(key, token)
	}
	if err != nil {
		if f, ok := refused(rq.lang, "user", r.PostForm, err); ok {
			s.renderUsers(w, r, rq, http.StatusUnprocessableEntity, &usersData{Form: f})
			return
		}
		s.failErr(w, r, rq, err)
		return
	}
	s.renderUsers(w, r, rq, http.StatusCreated, &usersData{Token: token})
}

func (s *server) setPassword(w http.ResponseWriter, r *http.Request, rq *request) {
	if rq.user.Role != identity.RoleAdmin {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	rd := newReader(r, rq.lang)
	password := rd.required("password")
	name := "password-" + r.PathValue("id")
	again := func(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
		s.renderUsers(w, r, rq, status, &usersData{Form: f})
	}
	s.write(w, r, rq, rd, name, again, func() (string, error) {
		_, err := s.Users.SetPassword(r.Context(), identity.ActorOf(rq.user, rq.id), r.PathValue("id"), password)
		return "/admin/users?ok=1", err
	})
}

// onceTokens remembers, for ten minutes, the token each create-user form's key produced.
type onceTokens struct {
	mu     sync.Mutex
	tokens map[string]onceToken
	now    func() time.Time
}

type onceToken struct {
	token string
	at    time.Time
}

func (o *onceTokens) get(key string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.tokens[key]
	if !ok || key == "" || o.now().Sub(t.at) > 10*time.Minute {
		return "", false
	}
	return t.token, true
}

func (o *onceTokens) put(key, token string) {
	if key == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, t := range o.tokens {
		if o.now().Sub(t.at) > 10*time.Minute {
			delete(o.tokens, k)
		}
	}
	o.tokens[key] = onceToken{token: token, at: o.now()}
}
