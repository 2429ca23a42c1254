package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/dxledger/dxledger/projections"
)

// Follower is where a projection's follower in this process stands (serve runs one; a
// separate `dxledger projector` may lead instead, and this one then stands by).
type Follower struct {
	Name      string    `json:"-"`
	State     string    `json:"state" api:"enum=starting|standby|following|retrying|stopped"`
	Since     time.Time `json:"since"`
	Restarts  int64     `json:"restarts"`
	LastError string    `json:"last_error,omitempty"`
}

// States is what /readyz reads: where each read model stands against the store.
type States interface {
	States(ctx context.Context) ([]projections.ProjectionState, error)
}

type readyProjection struct {
	projections.ProjectionState
	Follower *Follower `json:"follower,omitempty"`
	Problems []string  `json:"problems,omitempty"`
}

type readyBody struct {
	Status      string            `json:"status" api:"enum=ready|not_ready"`
	MaxLag      float64           `json:"max_lag_seconds"`
	Projections []readyProjection `json:"projections"`
}

// readyz is the readiness answer (API.md): 200 when every projection is within the configured
// lag of the store's head and none holds set-aside events, 503 otherwise; the body names each
// projection's state either way. /healthz stays the liveness answer.
func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	states, err := a.States.States(ctx)
	if err != nil {
		a.Logger.Warn("readiness check failed", "err", err, "request_id", requestID(r.Context()))
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Detail: "the store does not answer"})
		return
	}
	followers := map[string]Follower{}
	if a.Followers != nil {
		for _, f := range a.Followers() {
			followers[f.Name] = f
		}
	}
	maxLag := a.MaxLag
	if maxLag <= 0 {
		maxLag = 30 * time.Second
	}
	body := readyBody{Status: "ready", MaxLag: maxLag.Seconds()}
	for _, s := range states {
		p := readyProjection{ProjectionState: s}
		if f, ok := followers[s.Name]; ok {
			p.Follower = &f
			if f.State == "retrying" || f.State == "stopped" {
				p.Problems = append(p.Problems, fmt.Sprintf("its follower here is %s: %s", f.State, f.LastError))
			}
		}
		if s.LagSeconds > maxLag.Seconds() {
			p.Problems = append(p.Problems, fmt.Sprintf("%d events behind the store, the oldest recorded %.1f s ago (more than %s)",
				s.LagEvents, s.LagSeconds, maxLag))
		}
		if s.SetAsideEvents > 0 {
			p.Problems = append(p.Problems, fmt.Sprintf("%d events set aside: it could not apply them (dxledger projections retry, once the cause is fixed)",
				s.SetAsideEvents))
		}
		if len(p.Problems) > 0 {
			body.Status = "not_ready"
		}
		body.Projections = append(body.Projections, p)
	}
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if body.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}
