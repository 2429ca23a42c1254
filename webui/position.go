package webui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/dxledger/dxledger/projections"
)

// afterWrite is where a successful form sends the official: to, carrying the store's position
// (at or after the write just made), so that the next page waits until it shows the change.
func (s *server) afterWrite(r *http.Request, to string) string {
	pos, err := s.Handler.Position(r.Context())
	if err != nil || pos == "" {
		return to
	}
	u, err := url.Parse(to)
	if err != nil {
		return to
	}
	q := u.Query()
	q.Set("min_position", pos)
	u.RawQuery = q.Encode()
	return u.String()
}

// caughtUp makes a page opened with min_position wait (up to projections.DefaultWait) until
// the read models include that write; past that it shows a 503 page saying the figures are
// not yet current. It reports whether the page may be drawn.
func (s *server) caughtUp(w http.ResponseWriter, r *http.Request, rq *request) bool {
	q := r.URL.Query()
	if !q.Has("min_position") || s.Reports == nil {
		return true
	}
	err := s.Reports.WaitFor(r.Context(), q.Get("min_position"), s.MinPositionWait)
	var stale *projections.StaleError
	switch {
	case err == nil, errors.Is(err, projections.ErrBadQuery):
		// A bad or foreign position only loses the wait; the page is still worth showing.
		return true
	case errors.As(err, &stale):
		w.Header().Set("Retry-After", "1")
		s.fail(w, r, rq, http.StatusServiceUnavailable, "err.stale")
	default:
		s.failErr(w, r, rq, err)
	}
	return false
}
