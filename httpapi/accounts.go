package httpapi

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"time"

	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
)

// The account calls of API.md, "Accounts": every change is an event of the account's stream
// (identity), answered with {id, version} and its position.

type suspendBody struct {
	Reason     string `json:"reason" api:"required;maxlen=2000;example=left the department"`
	OccurredOn string `json:"occurred_on" api:"format=date;desc=the business date of the change (not in the future), by default today"`
}

type passwordBody struct {
	Password string `json:"password" api:"required;minlen=password_min;maxlen=password_max"`
	// CurrentPassword is required of a person changing their own password.
	CurrentPassword string `json:"current_password" api:"desc=the current password: required of the account's owner changing their own"`
	OccurredOn      string `json:"occurred_on" api:"format=date;desc=the business date of the change (not in the future), by default today"`
}

type tokenBody struct {
	Name          string `json:"name" api:"maxlen=200;example=báo cáo tự động"`
	ExpiresInDays *int   `json:"expires_in_days" api:"min=1;max=token_days;desc=days until the token ends (by default the server's token lifetime)"`
	OccurredOn    string `json:"occurred_on" api:"format=date;desc=the business date of the change (not in the future), by default today"`
}

type grantBody struct {
	Role       string `json:"role" api:"required;enum=role;example=focal_point"`
	UnitCode   string `json:"unit_code" api:"desc=a focal point's unit (only a focal point has one);example=SO-CT"`
	OccurredOn string `json:"occurred_on" api:"format=date;desc=the business date of the change (not in the future), by default today"`
}

// issuedToken is POST /users/{id}/tokens's answer: the secret is shown once.
type issuedToken struct {
	TokenID   string    `json:"token_id" api:"desc=the token's id (tok_ and a ULID), for listing and revoking"`
	Token     string    `json:"token,omitempty" api:"desc=the bearer token, shown once (a replay answers without it)"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	ID        string    `json:"id" api:"format=ulid;desc=the account's id"`
	Version   int64     `json:"version" api:"min=1;desc=the account stream's version after the write: send it as If-Match"`
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
		a.fail(w, r, workflows.Conflict(err)) // If-Match not met: 409, as for every stream
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
		ctx, err := a.accountRequest(w, r, &b, true)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		ch, err := a.Users.Suspend(ctx, by(r, u), r.PathValue("id"), b.Reason)
		a.changed(w, r, ch, err, http.StatusOK)
	}))
	rt.handle("POST /api/v1/users/{id}/reactivate", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "reactivate a user", false) {
			return
		}
		var b reactivateBody
		ctx, err := a.accountRequest(w, r, &b, true)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		ch, err := a.Users.Reactivate(ctx, by(r, u), r.PathValue("id"), b.Note)
		a.changed(w, r, ch, err, http.StatusOK)
	}))
	rt.handle("POST /api/v1/users/{id}/password", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "set a password", true) {
			return
		}
		var b passwordBody
		// Idempotency-Key is not honoured here: its fingerprint of the body would keep a hash
		// of the password in the store; setting the same password twice is harmless.
		ctx, err := a.accountRequest(w, r, &b, false)
		if err != nil {
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
		ch, err := a.Users.SetPassword(ctx, by(r, u), id, b.Password)
		a.changed(w, r, ch, err, http.StatusOK)
	}))
	rt.handle("POST /api/v1/users/{id}/tokens", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		if !a.allowed(w, r, u, "issue a token", true) {
			return
		}
		var b tokenBody
		fp, err := decode(w, r, &b) // expires_in_days 1 to 3650 and name's length: its api tags
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
		ctx, err := withIfMatch(r, identity.Request{OccurredOn: on})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		var ttl time.Duration
		if b.ExpiresInDays != nil {
			ttl = time.Duration(*b.ExpiresInDays) * 24 * time.Hour
		}
		t, secret, ch, err := a.Users.IssueTokenOnce(ctx, by(r, u), r.PathValue("id"), b.Name, ttl, once)
		if err != nil {
			a.fail(w, r, workflows.Conflict(err))
			return
		}
		a.setPosition(w, r, ch.Position)
		w.Header().Set("Cache-Control", "no-store") // the answer carries a token
		// A replay answers the same token without its secret (API.md): Token is then left out.
		writeJSON(w, http.StatusCreated, issuedToken{TokenID: t.ID, Token: secret, Name: t.Name,
			CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, ID: ch.ID, Version: ch.Version})
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
		ctx, err := withIfMatch(r, identity.Request{})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		ch, err := a.Users.RevokeToken(ctx, by(r, u), r.PathValue("id"), r.PathValue("token_id"))
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
		ctx, err := a.accountRequest(w, r, &b, true)
		if err != nil {
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
		ch, err := a.Users.Grant(ctx, by(r, u), r.PathValue("id"), string(rl), b.UnitCode)
		a.changed(w, r, ch, err, http.StatusOK)
	}))
}

// reactivateBody is POST /users/{id}/reactivate's (API.md: note?).
type reactivateBody struct {
	Note       string `json:"note" api:"maxlen=2000"`
	OccurredOn string `json:"occurred_on" api:"format=date;desc=the business date of the change (not in the future), by default today"`
}

// accountRequest decodes an account change's body into b (its api tags: 422 naming the
// field) and returns the context the change runs with: If-Match, and Idempotency-Key when
// once (identity.WithRequest).
func (a *api) accountRequest(w http.ResponseWriter, r *http.Request, b any, once bool) (context.Context, error) {
	fp, err := decode(w, r, b)
	if err != nil {
		return nil, err
	}
	var req identity.Request
	if req.OccurredOn, err = a.occurredOn(b); err != nil {
		return nil, err
	}
	if once {
		if req.Once, err = onceOf(r, fp); err != nil {
			return nil, err
		}
	}
	return withIfMatch(r, req)
}

// withIfMatch adds the request's If-Match to req and carries it in the request's context.
func withIfMatch(r *http.Request, req identity.Request) (context.Context, error) {
	o, err := options(r, nil)
	if err != nil {
		return nil, err
	}
	req.IfMatch = o.IfMatch
	return identity.WithRequest(r.Context(), req), nil
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

// occurredOn reads the optional occurred_on of an account change's body b (its OccurredOn
// field): a real day, not in the future (API.md, Conventions), as the midnight its events
// keep; zero when none is given.
func (a *api) occurredOn(b any) (time.Time, error) {
	v := reflect.Indirect(reflect.ValueOf(b)).FieldByName("OccurredOn")
	if !v.IsValid() || v.String() == "" {
		return time.Time{}, nil
	}
	var f fields
	on := f.date("occurred_on", v.String())
	if today := a.Handler.Today(); f == nil && on.After(today) {
		f.rule("occurred_on", "must not be in the future (today is "+today.String()+")")
	}
	if err := f.err(); err != nil {
		return time.Time{}, err
	}
	return time.Date(on.Year, on.Month, on.Day, 0, 0, 0, 0, time.UTC), nil
}
