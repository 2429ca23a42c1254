package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
	"github.com/dxledger/dxledger/workflows/definition"
)

// problemOf maps an error to its HTTP problem. It is the only place that knows which error is
// which status; anything it does not know is a 500 whose details go to the log, not the client.
func problemOf(err error) (Problem, bool) {
	var (
		bad       *badRequest
		unproc    *unprocessable
		invalid   item.Invalid
		unitField *unit.FieldError
		conflict  *workflows.ConflictError
		forbidden *workflows.ForbiddenError
		trans     *definition.TransitionError
		dateErr   *item.DateError
		overAppr  *item.OverApprovalError
		overDisb  *item.OverDisbursementError
	)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return Problem{Status: http.StatusRequestEntityTooLarge, Detail: "the request body is larger than 1 MiB"}, true
	case errors.As(err, &bad):
		return Problem{Status: http.StatusBadRequest, Detail: bad.detail, Errors: bad.fields}, true
	case errors.As(err, &unproc):
		return Problem{Status: http.StatusUnprocessableEntity, Detail: "some fields break a rule", Errors: unproc.fields}, true
	case errors.As(err, &invalid):
		p := Problem{Status: http.StatusUnprocessableEntity, Detail: "some fields break a rule"}
		for _, f := range invalid {
			p.Errors = append(p.Errors, FieldError{Field: f.Field, Message: f.Message})
		}
		return p, true
	case errors.As(err, &unitField):
		return Problem{Status: http.StatusUnprocessableEntity, Detail: "some fields break a rule",
			Errors: []FieldError{{Field: unitField.Field, Message: unitField.Reason}}}, true
	case errors.Is(err, identity.ErrUnauthenticated):
		return Problem{Status: http.StatusUnauthorized, Detail: "the token is unknown"}, true
	case errors.As(err, &forbidden):
		return Problem{Status: http.StatusForbidden, Detail: forbidden.Error()}, true
	case errors.Is(err, workflows.ErrNotFound), errors.Is(err, item.ErrNotFound), errors.Is(err, unit.ErrNotRegistered):
		return Problem{Status: http.StatusNotFound, Detail: "no such item or unit"}, true
	case errors.Is(err, item.ErrRequestNotFound):
		return Problem{Status: http.StatusNotFound, Detail: "no such funding request on this item"}, true
	case errors.As(err, &conflict):
		return Problem{Status: http.StatusConflict, Title: "Version conflict",
			Detail: fmt.Sprintf("the item is at version %d, not %d; reload it and try again", conflict.Actual, conflict.Expected)}, true
	case errors.As(err, &trans):
		return Problem{Status: http.StatusConflict, Title: "Not allowed in this stage", Detail: trans.Error()}, true
	case errors.Is(err, item.ErrAlreadyDecided), errors.Is(err, item.ErrAlreadyExists), errors.Is(err, unit.ErrAlreadyRegistered):
		return Problem{Status: http.StatusConflict, Detail: err.Error()}, true
	case errors.Is(err, workflows.ErrIdempotencyMismatch):
		return Problem{Status: http.StatusUnprocessableEntity, Title: "Idempotency key reused",
			Detail: "this Idempotency-Key was used before with a different request body"}, true
	case errors.As(err, &overAppr):
		return Problem{Status: http.StatusUnprocessableEntity, Detail: overAppr.Error(),
			Errors: []FieldError{{Field: "approved_vnd", Message: overAppr.Error()}}}, true
	case errors.As(err, &overDisb):
		return Problem{Status: http.StatusUnprocessableEntity, Detail: overDisb.Error(),
			Errors: []FieldError{{Field: "amount_vnd", Message: overDisb.Error()}}}, true
	case errors.As(err, &dateErr):
		return Problem{Status: http.StatusUnprocessableEntity, Detail: dateErr.Error(),
			Errors: []FieldError{{Field: dateErr.Field, Message: dateErr.Rule}}}, true
	case errors.Is(err, item.ErrNeedsEndorsement), errors.Is(err, item.ErrSameOfficer), errors.Is(err, item.ErrSecondApproval),
		errors.Is(err, item.ErrNotAModel), errors.Is(err, unit.ErrInvalid), errors.Is(err, unit.ErrAlreadyMerged),
		errors.Is(err, unit.ErrDissolved), errors.Is(err, unit.ErrCycle), errors.Is(err, unit.ErrInvalidParent),
		errors.Is(err, unit.ErrBeforeRegistration), errors.Is(err, identity.ErrWeakPassword), errors.Is(err, identity.ErrLongPassword):
		return Problem{Status: http.StatusUnprocessableEntity, Detail: err.Error()}, true
	}
	return Problem{Status: http.StatusInternalServerError, Detail: "the request could not be completed"}, false
}

// fail writes err as a problem; unknown errors are logged with the request id.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, known := problemOf(err)
	if !known {
		a.Logger.Error("request failed", "err", err, "request_id", requestID(r.Context()), "path", r.URL.Path)
		p.Detail += "; request id " + requestID(r.Context())
	}
	writeProblem(w, p)
}
