package webui

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/internal/identity"
)

// The accounts pages give the API's "Accounts" abilities to the pages (issue 14): an
// administrator's page per account — its history, suspend and reactivate, reset the password,
// tokens (issue, list, revoke), grant a role — and everyone's own page — their tokens and their
// password. And the first-run setup page, where the first administrator chooses a name and a
// password.

func (s *server) accountRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/users/{id}", s.signedIn(s.accountPage))
	mux.HandleFunc("POST /admin/users/{id}/suspend", s.form(s.accountWrite("suspend")))
	mux.HandleFunc("POST /admin/users/{id}/reactivate", s.form(s.accountWrite("reactivate")))
	mux.HandleFunc("POST /admin/users/{id}/grant", s.form(s.accountWrite("grant")))
	mux.HandleFunc("POST /admin/users/{id}/tokens", s.form(s.accountWrite("token")))
	mux.HandleFunc("POST /admin/users/{id}/tokens/{tid}/revoke", s.form(s.accountWrite("revoke")))
	mux.HandleFunc("GET /account", s.signedIn(s.accountPage))
	mux.HandleFunc("POST /account/tokens", s.form(s.accountWrite("token")))
	mux.HandleFunc("POST /account/tokens/{tid}/revoke", s.form(s.accountWrite("revoke")))
	mux.HandleFunc("POST /account/password", s.form(s.accountWrite("own-password")))
	mux.HandleFunc("GET /setup/{secret}", s.setupPage)
	mux.HandleFunc("POST /setup/{secret}", s.setup)
}

type accountData struct {
	Account identity.User
	Own     bool // the signed-in person's own page
	Base    string
	History []identity.HistoryEvent
	Tokens  []identity.Token
	Roles   []string
	Form    *form
	Token   string // a new token, shown once
}

// FormOf is the submitted form of that name coming back with errors, or nil.
func (d *accountData) FormOf(name string) *form {
	if d.Form != nil && d.Form.Name == name {
		return d.Form
	}
	return nil
}

// target is whose account a request is about: the path's for an administrator's page, the
// signed-in person's own otherwise.
func target(r *http.Request, rq *request) (id string, own bool) {
	if id := r.PathValue("id"); id != "" {
		return id, id == rq.user.ID
	}
	return rq.user.ID, true
}

func (s *server) accountPage(w http.ResponseWriter, r *http.Request, rq *request) {
	s.renderAccount(w, r, rq, http.StatusOK, &accountData{})
}

func (s *server) renderAccount(w http.ResponseWriter, r *http.Request, rq *request, status int, d *accountData) {
	id, own := target(r, rq)
	admin := r.PathValue("id") != ""
	if admin && rq.user.Role != identity.RoleAdmin {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	var err error
	if d.Account, err = s.Users.Get(r.Context(), id); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	if d.Tokens, err = s.Users.Tokens(r.Context(), id); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	if admin {
		if d.History, err = s.Users.History(r.Context(), id); err != nil {
			s.failErr(w, r, rq, err)
			return
		}
		d.Base = "/admin/users/" + url.PathEscape(id)
	} else {
		d.Base = "/account"
	}
	d.Own = own && !admin
	d.Roles = []string{identity.RoleFocalPoint, identity.RoleFinanceOfficer, identity.RoleSteeringCommittee, identity.RoleAdmin}
	p := s.newPage(r, rq, d.Account.Name)
	p.Data = d
	s.render(w, status, "account", p)
}

// accountWrite handles one account form; what is its name, and the form's.
func (s *server) accountWrite(what string) func(http.ResponseWriter, *http.Request, *request) {
	return func(w http.ResponseWriter, r *http.Request, rq *request) {
		id, _ := target(r, rq)
		admin := r.PathValue("id") != ""
		if admin && rq.user.Role != identity.RoleAdmin {
			s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
			return
		}
		by := identity.ActorOf(rq.user, rq.id)
		rd := newReader(r, rq.lang)
		again := func(w http.ResponseWriter, r *http.Request, rq *request, status int, f *form) {
			s.renderAccount(w, r, rq, status, &accountData{Form: f})
		}
		back := "/account?ok=1"
		if admin {
			back = "/admin/users/" + url.PathEscape(id) + "?ok=1"
		}
		ctx := r.Context()
		switch what {
		case "suspend":
			reason := rd.required("reason")
			s.write(w, r, rq, rd, what, again, func() (string, error) {
				_, err := s.Users.Suspend(ctx, by, id, reason)
				return back, err
			})
		case "reactivate":
			note := rd.text("note")
			s.write(w, r, rq, rd, what, again, func() (string, error) {
				_, err := s.Users.Reactivate(ctx, by, id, note)
				return back, err
			})
		case "grant":
			rl, unitCode := rd.required("role"), rd.text("unit_code")
			if _, err := role.Parse(rl); err != nil && rl != "" {
				rd.fail("role", "Vui lòng chọn một vai trò.", "Choose a role.")
			}
			switch {
			case rl == identity.RoleFocalPoint && unitCode == "":
				rd.fail("unit_code", "Cán bộ đầu mối cần thuộc một đơn vị.", "A focal point belongs to a unit.")
			case rl != identity.RoleFocalPoint && unitCode != "":
				rd.fail("unit_code", "Chỉ cán bộ đầu mối thuộc một đơn vị.", "Only a focal point belongs to a unit.")
			case unitCode != "":
				if units, err := s.Handler.Units(ctx); err == nil {
					if u, ok := units.Lookup(unitCode); !ok || !u.ActiveOn(s.Handler.Today()) {
						rd.fail("unit_code", "Không có đơn vị này (hoặc đã sáp nhập).", "No such unit (or it was merged).")
					}
				}
			}
			s.write(w, r, rq, rd, what, again, func() (string, error) {
				_, err := s.Users.Grant(ctx, by, id, rl, unitCode)
				return back, err
			})
		case "revoke":
			s.write(w, r, rq, rd, what, again, func() (string, error) {
				_, err := s.Users.RevokeToken(ctx, by, id, r.PathValue("tid"))
				return back, err
			})
		case "own-password":
			current, password := rd.required("current_password"), rd.required("password")
			if f := rd.done(what); f != nil {
				again(w, r, rq, http.StatusUnprocessableEntity, f)
				return
			}
			s.write(w, r, rq, rd, what, again, func() (string, error) {
				if err := s.Users.CheckPassword(ctx, id, current); err != nil {
					return "", err
				}
				if _, err := s.Users.SetPassword(ctx, by, id, password); err != nil {
					return "", err
				}
				// Every session ended with the change, this one too: sign this browser in again.
				token, _, err := s.Users.StartSession(ctx, id, s.SessionTTL)
				if err != nil {
					return "", err
				}
				setCookie(w, r, sessionCookie, token, s.SessionTTL)
				return back, nil
			})
		case "token":
			name := rd.text("name")
			days := 0
			if rd.text("expires_in_days") != "" {
				days = rd.number("expires_in_days", 1, 3650)
			}
			if f := rd.done(what); f != nil {
				again(w, r, rq, http.StatusUnprocessableEntity, f)
				return
			}
			// The answer shows the token, so a reload posts again: the form's key shows the
			// same token instead of making another.
			key := r.PostForm.Get("key")
			if token, ok := s.created.get("token:" + key); ok {
				s.renderAccount(w, r, rq, http.StatusCreated, &accountData{Token: token})
				return
			}
			_, secret, _, err := s.Users.IssueToken(ctx, by, id, name, time.Duration(days)*24*time.Hour)
			if err != nil {
				if f, ok := refused(rq.lang, what, r.PostForm, err); ok {
					again(w, r, rq, http.StatusUnprocessableEntity, f)
					return
				}
				s.failErr(w, r, rq, err)
				return
			}
			s.created.put("token:"+key, secret)
			s.renderAccount(w, r, rq, http.StatusCreated, &accountData{Token: secret})
		default:
			s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		}
	}
}

type setupData struct {
	Secret, Name string
	Form         *form
}

func (s *server) setupPage(w http.ResponseWriter, r *http.Request) {
	rq := &request{lang: langOf(r), id: w.Header().Get("X-Request-ID")}
	if err := s.Users.ValidSetupLink(r.Context(), r.PathValue("secret")); err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	p := s.newPage(r, rq, tr(rq.lang, "setup.title"))
	p.Data = &setupData{Secret: r.PathValue("secret")}
	s.render(w, http.StatusOK, "setup", p)
}

// setup creates the first administrator with the name and password chosen on the setup page,
// and signs them in. The link's secret, unguessable and in the path, is what a forged form from
// another site would lack.
func (s *server) setup(w http.ResponseWriter, r *http.Request) {
	rq := &request{lang: langOf(r), id: w.Header().Get("X-Request-ID")}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, rq, http.StatusBadRequest, "err.badquery")
		return
	}
	secret := r.PathValue("secret")
	rd := newReader(r, rq.lang)
	name, password := rd.required("name"), rd.required("password")
	if len([]rune(name)) > 200 {
		rd.fail("name", "Tên tối đa 200 ký tự.", "At most 200 characters.")
	}
	if password != "" && password != r.PostForm.Get("password2") {
		rd.fail("password2", "Hai lần nhập mật khẩu không khớp.", "The two passwords differ.")
	}
	show := func(status int, f *form) {
		p := s.newPage(r, rq, tr(rq.lang, "setup.title"))
		p.Data = &setupData{Secret: secret, Form: f}
		s.render(w, status, "setup", p)
	}
	if f := rd.done("setup"); f != nil {
		show(http.StatusUnprocessableEntity, f)
		return
	}
	u, err := s.Users.UseSetupLink(r.Context(), secret, name, password)
	if err != nil {
		if f, ok := refused(rq.lang, "setup", r.PostForm, err); ok && !errors.Is(err, identity.ErrSetupLink) {
			show(http.StatusUnprocessableEntity, f)
			return
		}
		s.failErr(w, r, rq, err)
		return
	}
	token, _, err := s.Users.StartSession(r.Context(), u.ID, s.SessionTTL)
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	s.Logger.Info("first administrator created from the setup link", "user", u.ID)
	setCookie(w, r, sessionCookie, token, s.SessionTTL)
	http.Redirect(w, r, "/admin/users?ok=1", http.StatusSeeOther)
}
