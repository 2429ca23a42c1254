package httpapi

import (
	"errors"
	"net/http"
	"sort"
	"strconv"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type unitBody struct {
	Code       string `json:"code" api:"required;maxlen=32;example=SO-CT"`
	Name       string `json:"name" api:"required;maxlen=title;example=Sở Công Thương"`
	Kind       string `json:"kind" api:"required;enum=unit_kind;example=department"`
	ParentCode string `json:"parent_code" api:"desc=the unit it belongs to (a department or district: the province);example=DT"`
	OccurredOn string `json:"occurred_on" api:"desc=the business date (not in the future), by default today"`
}

type mergeBody struct {
	IntoCode      string `json:"into_code" api:"required;example=SO-KHDT"`
	EffectiveDate string `json:"effective_date" api:"required;example=2023-01-01"`
	// OccurredOn is when the merger was decided or recorded as a fact (API.md: every write
	// accepts it); EffectiveDate is when the unit's history starts rolling up.
	OccurredOn string `json:"occurred_on" api:"desc=the business date of the merger's record (not in the future), by default today"`
}

type splitBody struct {
	EffectiveDate string          `json:"effective_date" api:"required;format=date;desc=the first day the successors hold the unit's items;example=2025-07-01"`
	Parts         []splitPartBody `json:"parts" api:"desc=at most 100: the items each named successor takes"`
	RestIntoCode  string          `json:"rest_into_code" api:"required;desc=the successor that takes every item no part names;example=SO-B"`
	OccurredOn    string          `json:"occurred_on" api:"format=date;desc=the business date of the split's record (not in the future), by default today"`
}

type splitPartBody struct {
	IntoCode string   `json:"into_code" api:"required;example=SO-C"`
	ItemIDs  []string `json:"item_ids" api:"desc=the ids of the unit's models and projects this successor takes"`
}

type unitView struct {
	Code           string     `json:"code"`
	Name           string     `json:"name"`
	Kind           string     `json:"kind" api:"enum=unit_kind"`
	ParentCode     string     `json:"parent_code"`
	SuccessorCode  string     `json:"successor_code,omitempty"`
	Successors     []string   `json:"successors,omitempty"`
	EffectiveUntil civil.Date `json:"effective_until,omitzero"`
}

func (a *api) unitRoutes(rt *router) {
	rt.handle("POST /api/v1/units", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var (
			b unitBody
			c unit.Register
		)
		o, ok := a.prepare(w, r, &b, func(f *fields) {
			c = unit.Register{Code: b.Code, Name: b.Name, Kind: unit.Kind(b.Kind), ParentCode: b.ParentCode, On: f.date("occurred_on", b.OccurredOn)}
		})
		if !ok {
			return
		}
		res, err := a.Handler.RegisterUnit(r.Context(), actor(r, u), c, o)
		a.respond(w, r, res, err, http.StatusCreated)
	}))
	rt.handle("POST /api/v1/units/{code}/merge", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var (
			b mergeBody
			c unit.Merge
		)
		o, ok := a.prepareOn(w, r, &b, &b.OccurredOn, func(f *fields) {
			c = unit.Merge{Code: r.PathValue("code"), IntoCode: b.IntoCode, EffectiveDate: f.requiredDate("effective_date", b.EffectiveDate)}
			if b.IntoCode == "" {
				f.add("into_code", "is required")
			}
		})
		if !ok {
			return
		}
		res, err := a.Handler.MergeUnit(r.Context(), actor(r, u), c, o)
		a.respond(w, r, res, err, http.StatusOK)
	}))
	rt.handle("POST /api/v1/units/{code}/split", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var (
			b splitBody
			c unit.SplitUnit
		)
		o, ok := a.prepareOn(w, r, &b, &b.OccurredOn, func(f *fields) {
			c = unit.SplitUnit{Code: r.PathValue("code"), EffectiveDate: f.requiredDate("effective_date", b.EffectiveDate), RestIntoCode: b.RestIntoCode}
			if len(b.Parts) > 100 {
				f.rule("parts", "at most 100 parts")
			}
			for _, p := range b.Parts {
				c.Parts = append(c.Parts, unit.SplitPart{IntoCode: p.IntoCode, ItemIDs: p.ItemIDs})
			}
		})
		if !ok {
			return
		}
		res, err := a.Handler.SplitUnit(r.Context(), actor(r, u), c, o)
		a.respond(w, r, res, err, http.StatusOK)
	}))
	rt.handle("GET /api/v1/units", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		var (
			f    fields
			asOf civil.Date
		)
		if s := r.URL.Query().Get("as_of"); s != "" {
			asOf = f.date("as_of", s)
		}
		if err := f.err(); err != nil {
			a.fail(w, r, err)
			return
		}
		d, err := a.Handler.Units(r.Context())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		items := []unitView{}
		for _, s := range d.All() {
			if !asOf.IsZero() && asOf.Before(s.Registered) {
				continue // not yet a unit that day
			}
			v := unitView{Code: s.Code, Name: s.Name, Kind: string(s.Kind), ParentCode: s.ParentCode}
			// As of a day, a unit ended later still stood on its own then.
			if end := s.EndedOn(); !end.IsZero() && (asOf.IsZero() || !end.After(asOf)) {
				v.SuccessorCode, v.EffectiveUntil = s.MergedInto, end
				if s.Split != nil {
					v.Successors = s.Successors()
				}
			}
			items = append(items, v)
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Code < items[j].Code })
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	}))
}

type userBody struct {
	Name       string `json:"name" api:"required;maxlen=200;example=Nguyễn Văn An"`
	Role       string `json:"role" api:"required;enum=role;example=focal_point"`
	UnitCode   string `json:"unit_code" api:"desc=a focal point's unit (only a focal point has one);example=SO-CT"`
	Password   string `json:"password" api:"minlen=password_min;maxlen=password_max;desc=for signing in to the web pages"`
	OccurredOn string `json:"occurred_on" api:"format=date;desc=the business date of the account's creation (not in the future), by default today"`
}

func (a *api) userRoutes(rt *router) {
	rt.handle("POST /api/v1/users", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if u.Role != string(role.Admin) {
			a.fail(w, r, &workflows.ForbiddenError{Role: role.Role(u.Role), Action: "create a user", Reason: "only an administrator manages users"})
			return
		}
		var b userBody
		fp, err := decode(w, r, &b)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		once, err := onceOf(r, fp)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		on, err := a.occurredOn(&b)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		var bad fields
		rl, err := role.Parse(b.Role)
		if err != nil {
			bad.add("role", "must be admin, focal_point, finance_officer or steering_committee")
		}
		if b.Name == "" || len([]rune(b.Name)) > 200 {
			bad.add("name", "is required, at most 200 characters")
		}
		switch {
		case rl == role.FocalPoint && b.UnitCode == "":
			bad.add("unit_code", "a focal point is bound to one unit")
		case rl != role.FocalPoint && b.UnitCode != "" && err == nil:
			bad.add("unit_code", "only a focal point is bound to a unit")
		}
		if b.Password != "" && (len([]rune(b.Password)) < identity.MinPasswordLength || len(b.Password) > 72) {
			bad.add("password", "must have 12 to 72 characters")
		}
		if b.UnitCode != "" {
			// Only a unit that exists today takes an account (issue 14: not a merged one).
			if err := a.Handler.CheckBindable(r.Context(), "unit_code", b.UnitCode); err != nil {
				var fe *unit.FieldError
				if !errors.As(err, &fe) {
					a.fail(w, r, err)
					return
				}
				bad.add("unit_code", fe.Reason)
			}
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		created, token, err := a.Users.Create(identity.WithRequest(r.Context(), identity.Request{OccurredOn: on}), identity.ActorOf(u, requestID(r.Context())),
			identity.NewUser{Name: b.Name, Role: string(rl), UnitCode: b.UnitCode, Password: b.Password, TokenName: "first", Once: once})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.setPosition(w, r, "")                     // every write answers with a position (API.md), accounts too
		w.Header().Set("Cache-Control", "no-store") // the answer carries a token
		answer := map[string]any{"id": created.ID, "token": token, "name": created.Name, "role": created.Role, "unit_code": created.UnitCode}
		if token == "" { // a replay: the same account, never its secret again (API.md)
			delete(answer, "token")
		}
		writeJSON(w, http.StatusCreated, answer)
	}))
	rt.handle("GET /api/v1/users", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if u.Role != string(role.Admin) {
			a.fail(w, r, &workflows.ForbiddenError{Role: role.Role(u.Role), Action: "list users", Reason: "only an administrator manages users"})
			return
		}
		users, err := a.Users.List(r.Context())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if users == nil {
			users = []identity.User{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": users})
	}))
	a.accountRoutes(rt)
}

// unprocessable is a 422 with the fields that break a rule.
type unprocessable struct{ fields []FieldError }

func (e *unprocessable) Error() string { return "some fields break a rule" }

// Kind is fault.Invalid.
func (e *unprocessable) Kind() fault.Kind { return fault.Invalid }

// Fields are the fields that break a rule.
func (e *unprocessable) Fields() []fault.Field { return faultFields(e.fields, "httpapi.invalid") }
