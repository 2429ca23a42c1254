package httpapi

import (
	"errors"
	"net/http"

	"github.com/dxledger/dxledger/domain/fault"
)

// titles are the few refusals whose problem has a title of its own rather than the status
// text, by message code.
var titles = map[string]string{
	"workflows.conflict":             "Version conflict",
	"definition.transition":          "Not allowed in this stage",
	"definition.unknown_action":      "Not allowed in this stage",
	"workflows.idempotency_mismatch": "Idempotency key reused",
}

// problemOf maps an error to its HTTP problem, by its kind: the only place that knows which
// error is which status. The detail is the error's English message and the bad fields are
// the ones it names. Anything without a kind is a 500 whose details go to the log.
func problemOf(err error) (Problem, bool) {
	if errors.Is(err, errNotJSON) {
		return Problem{Status: http.StatusUnsupportedMediaType, Detail: err.Error()}, true
	}
	status, known := fault.KindOf(err).Status()
	if !known {
		return Problem{Status: http.StatusInternalServerError, Detail: "the request could not be completed"}, false
	}
	p := Problem{Status: status, Title: titles[fault.CodeOf(err)], Detail: err.Error()}
	for _, f := range fault.FieldsOf(err) {
		p.Errors = append(p.Errors, FieldError{Field: f.Name, Message: f.Message})
	}
	return p, true
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
