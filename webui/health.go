package webui

import (
	"net/http"

	"github.com/dxledger/dxledger/internal/identity"
)

// reportsHealth shows an administrator where each read model behind the reports stands: how
// far behind the store it is, and every event it could not apply and set aside, with why —
// what /readyz says, for a person.
func (s *server) reportsHealth(w http.ResponseWriter, r *http.Request, rq *request) {
	if rq.user.Role != identity.RoleAdmin {
		s.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
		return
	}
	states, err := s.Reports.States(r.Context())
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	p := s.newPage(r, rq, tr(rq.lang, "nav.reports_health"))
	p.Data = states
	s.render(w, http.StatusOK, "health", p)
}
