package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
)

// The account calls of API.md, "Accounts": every change is an event of the account's stream
// (identity), answered with {id, version} and its position.

type suspendBody struct {
	Reason string `json:"reason"`
}

type passwordBody struct {
	Password string `json:"password"`
	// CurrentPassword is required of a person changing their own password.
	CurrentPassword string `json:"current_password"`
}

type tokenBody struct {
	Name          string `json:"name"`
	ExpiresInDays *int   `json:"expires_in_days"`
}

type grantBody struct {
	Role     string `json:"role"`
	UnitCode string `json:"unit_code"`
}

// allowed refuses anyone but an administrator; self also lets the account's owner through.
func (a *api) allowed(w http.ResponseWriter, r *http.Request, u identity.User, action string, self bool) bool {
	if u.Role == string(role.Admin) || (self && u.ID == r.PathValue("id")) {
		return true
	}
	reason := "only an administrator manages users"
	if self {
		reason = "only an administrator, or the account's owner, may do this"
	}
	a.fail(w, r, &workflows.ForbiddenError{Role: role.Role(u.Role), Action: action, Reason: reason})
	return false
}

func (a *api) changed(w http.ResponseWriter, r *http.Request, ch identity.Change, err error, status int) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.setPosition(w, r, ch.Position)
	writeJSON(w, status, writeResponse{ID: ch.ID, Version: ch.Version})
}

func (a *api) accountRoutes(rt *router) {
	by := func(r *http.Request, u identity.User) identity.Actor {
		return identity.ActorOf(u, requestID(r.Context()))
	}
	rt.handle("POST /api/v1/users/{id}/suspend", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "suspend a user", false) {
			return
		}
		var b suspendBody
		if _, err := decode(w, r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		var bad fields
		if b.Reason == "" || len([]rune(b.Reason)) > 2000 {
			bad.add("reason", "is required, at most 2000 characters")
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		ch, err := a.Users.Suspend(r.Context(), by(r, u), r.PathValue("id"), b.Reason)
		a.changed(w, r, ch, err, http.StatusOK)
	}))
	rt.handle("POST /api/v1/users/{id}/reactivate", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "reactivate a user", false) {
			return
		}
		var b noteBody
		if _, err := decode(w, r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		if len([]rune(b.Note)) > 2000 {
			a.fail(w, r, &unprocessable{fields: []FieldError{{Field: "note", Message: "at most 2000 characters"}}})
			return
		}
		ch, err := a.Users.Reactivate(r.Context(), by(r, u), r.PathValue("id"), b.Note)
		a.changed(w, r, ch, err, http.StatusOK)
	}))
	rt.handle("POST /api/v1/users/{id}/password", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "set a password", true) {
			return
		}
		var b passwordBody
		if _, err := decode(w, r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		id := r.PathValue("id")
		if u.ID == id {
			// Changing one's own password needs the current one: a stolen token alone must
			// not take over the account.
			if err := a.Users.CheckPassword(r.Context(), id, b.CurrentPassword); err != nil {
				a.fail(w, r, err)
				return
			}
		}
		ch, err := a.Users.SetPassword(r.Context(), by(r, u), id, b.Password)
		a.changed(w, r, ch, err, http.StatusOK)
	}))
	rt.handle("POST /api/v1/users/{id}/tokens", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "issue a token", true) {
			return
		}
		var b tokenBody
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
		var bad fields
		var ttl time.Duration
		if b.ExpiresInDays != nil {
			if *b.ExpiresInDays < 1 || *b.ExpiresInDays > 3650 {
				bad.add("expires_in_days", "must be 1 to 3650")
			}
			ttl = time.Duration(*b.ExpiresInDays) * 24 * time.Hour
		}
		if len([]rune(b.Name)) > 200 {
			bad.add("name", "at most 200 characters")
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		t, secret, ch, err := a.Users.IssueTokenOnce(r.Context(), by(r, u), r.PathValue("id"), b.Name, ttl, once)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.setPosition(w, r, ch.Position)
		w.Header().Set("Cache-Control", "no-store") // the answer carries a token
		answer := map[string]any{"token_id": t.ID, "token": secret, "name": t.Name,
			"created_at": t.CreatedAt, "expires_at": t.ExpiresAt, "id": ch.ID, "version": ch.Version}
		if secret == "" { // a replay: the same token, never its secret again (API.md)
			delete(answer, "token")
		}
		writeJSON(w, http.StatusCreated, answer)
	}))
	rt.handle("GET /api/v1/users/{id}/tokens", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "list tokens", true) {
			return
		}
		ts, err := a.Users.Tokens(r.Context(), r.PathValue("id"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if ts == nil {
			ts = []identity.Token{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": ts})
	}))
	rt.handle("DELETE /api/v1/users/{id}/tokens/{token_id}", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "revoke a token", true) {
			return
		}
		ch, err := a.Users.RevokeToken(r.Context(), by(r, u), r.PathValue("id"), r.PathValue("token_id"))
		a.changed(w, r, ch, err, http.StatusOK)
	}))
	rt.handle("GET /api/v1/users/{id}/events", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "read an account's history", false) {
			return
		}
		h, err := a.Users.History(r.Context(), r.PathValue("id"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, h)
	}))
	rt.handle("POST /api/v1/users/{id}/grant", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "grant a role", false) {
			return
		}
		var b grantBody
		if _, err := decode(w, r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		rl, bad, err := a.checkRole(r, b.Role, b.UnitCode)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if len(bad) > 0 {
			a.fail(w, r, &unprocessable{fields: bad})
			return
		}
		ch, err := a.Users.Grant(r.Context(), by(r, u), r.PathValue("id"), string(rl), b.UnitCode)
		a.changed(w, r, ch, err, http.StatusOK)
	}))
}

// onceOf reads Idempotency-Key for an account write.
func onceOf(r *http.Request, fingerprint []byte) (identity.Once, error) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 {
		return identity.Once{}, &badRequest{detail: "Idempotency-Key: at most 200 characters"}
	}
	return identity.Once{Key: key, Fingerprint: fingerprint}, nil
}

// checkRole checks a role and the unit that goes with it.
func (a *api) checkRole(r *http.Request, roleName, unitCode string) (role.Role, fields, error) {
	var bad fields
	rl, err := role.Parse(roleName)
	if err != nil {
		bad.add("role", "must be admin, focal_point, finance_officer or steering_committee")
	}
	switch {
	case rl == role.FocalPoint && unitCode == "":
		bad.add("unit_code", "a focal point is bound to one unit")
	case rl != role.FocalPoint && unitCode != "" && err == nil:
		bad.add("unit_code", "only a focal point is bound to a unit")
	}
	if unitCode != "" && a.Handler != nil {
		// Only a unit that exists today takes an account (as POST /users: not a merged one).
		if err := a.Handler.CheckBindable(r.Context(), "unit_code", unitCode); err != nil {
			var fe *unit.FieldError
			if !errors.As(err, &fe) {
				return rl, nil, err
			}
			bad.add("unit_code", fe.Reason)
		}
	}
	return rl, bad, nil
}
