// Package httpapi is the JSON API of shared/API.md: a thin adapter that authenticates the
// caller and hands work to the command handler and the projections' queries. It holds no rules
// and never touches the store directly.
package httpapi

import (
	"context"
	"errors"
	"github.com/dxledger/dxledger/projections"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Authenticator finds the user a bearer token belongs to.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (identity.User, error)
}

// Deps are what the API needs.
type Deps struct {
	// Health reports whether the store answers.
	Health func(ctx context.Context) error
	// Metrics serves /metrics.
	Metrics http.Handler
	// Registerer receives the HTTP metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Auth       Authenticator
	// Handler executes commands and loads items; Users manages people and tokens.
	Handler *workflows.Handler
	Users   *identity.Store
	// Reports answers the report calls; Location is the province's time zone.
	Reports  Reports
	Location *time.Location
	Logger   *slog.Logger
	// States and Followers feed GET /readyz: where each read model stands against the store,
	// and this process's followers (nil when the projections run elsewhere); MaxLag is how far
	// behind a projection may be and still be ready.
	States    States
	Followers func() []Follower
	MaxLag    time.Duration
	// MinPositionWait bounds how long a read waits for its Dxledger-Min-Position (default
	// projections.DefaultWait).
	MinPositionWait time.Duration
}

type api struct {
	Deps
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New returns the API's handler.
func New(d Deps) (http.Handler, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	a := &api{Deps: d}
	a.requests, a.duration = newHTTPMetrics()
	if d.Registerer != nil {
		if err := errors.Join(d.Registerer.Register(a.requests), d.Registerer.Register(a.duration)); err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	rt := &router{mux: mux}
	rt.handle("GET /healthz", http.HandlerFunc(a.healthz))
	if d.States != nil {
		rt.handle("GET /readyz", http.HandlerFunc(a.readyz))
	}
	if d.Metrics != nil {
		rt.handle("GET /metrics", d.Metrics)
	}
	rt.handle("GET /api/v1/me", a.authed(a.me))
	if d.Handler != nil {
		a.itemRoutes(rt)
		a.unitRoutes(rt)
	}
	if d.Users != nil {
		a.userRoutes(rt)
	}
	if d.Reports != nil && d.Handler != nil {
		a.reportRoutes(rt)
		a.indicatorRoutes(rt)
	}
	doc, err := rt.openAPI()
	if err != nil {
		return nil, err
	}
	rt.handle("GET /api/v1/openapi.json", a.authed(func(w http.ResponseWriter, r *http.Request, u identity.User) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The router's own answers are problems too: 405 (with Allow) when the path exists
		// for other methods, 404 otherwise.
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeProblem(w, Problem{Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allowed, ", ")})
			return
		}
		writeProblem(w, Problem{Status: http.StatusNotFound, Detail: "no such route: " + r.Method + " " + r.URL.Path})
	})
	return a.observe(door(mux)), nil
}

func (a *api) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.Health(ctx); err != nil {
		a.Logger.Warn("health check failed", "err", err, "request_id", requestID(r.Context()))
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Detail: "the store does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *api) me(w http.ResponseWriter, r *http.Request, u identity.User) {
	writeJSON(w, http.StatusOK, u)
}

func newHTTPMetrics() (*prometheus.CounterVec, *prometheus.HistogramVec) {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dxledger_http_requests_total", Help: "HTTP requests by route and status code."},
			[]string{"route", "code"}),
		prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dxledger_http_request_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)},
			[]string{"route"})
}

// errNoToken refuses a request without a bearer token.
var errNoToken = fault.New(fault.Unauthenticated, "httpapi.no_token", "send Authorization: Bearer <token>")

// authed wraps a handler that needs a user: no or a bad bearer token is 401.
func (a *api) authed(h func(http.ResponseWriter, *http.Request, identity.User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers to a bearer of a secret are that person's, and some carry secrets (a new
		// token): no cache keeps any of them.
		w.Header().Set("Cache-Control", "no-store")
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dxledger"`)
			a.fail(w, r, errNoToken)
			return
		}
		u, err := a.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if fault.KindOf(err) == fault.Unauthenticated {
				w.Header().Set("WWW-Authenticate", `Bearer realm="dxledger", error="invalid_token"`)
			}
			a.fail(w, r, err)
			return
		}
		if r.Method == http.MethodGet && !a.caughtUp(w, r) {
			return
		}
		h(w, r, u)
	})
}

// caughtUp makes a read that carries a write's position (Dxledger-Min-Position, or
// min_position) wait until the read models include that write: up to MinPositionWait, then
// 503 with Retry-After. It reports whether the read may go on.
func (a *api) caughtUp(w http.ResponseWriter, r *http.Request) bool {
	pos, field := r.Header.Get(MinPositionHeader), MinPositionHeader
	if q := r.URL.Query(); q.Has("min_position") {
		pos, field = q.Get("min_position"), "min_position"
		q.Del("min_position")
		r.URL.RawQuery = q.Encode()
	}
	if pos == "" || a.Reports == nil {
		return true
	}
	err := a.Reports.WaitFor(r.Context(), pos, a.MinPositionWait)
	var stale *projections.StaleError
	switch {
	case err == nil:
		return true
	case errors.Is(err, projections.ErrBadQuery):
		// The problem names what the client sent: the header, or the query parameter.
		writeProblem(w, Problem{Status: http.StatusBadRequest, Detail: field + " is not a position this server answered with",
			Errors: []FieldError{{Field: field, Message: "must be a Dxledger-Position value"}}})
	case errors.As(err, &stale):
		w.Header().Set("Retry-After", "1")
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Title: "Reports not yet current", Detail: stale.Error()})
	default:
		a.fail(w, r, err)
	}
	return false
}

type ctxKey int

const requestIDKey ctxKey = iota

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// observe gives every request an id (X-Request-ID, kept if the client sent a sane one),
// recovers panics as a 500 problem without internals, counts and times the request by route,
// and logs it once.
func (a *api) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < '!' || c > '~' }) {
			id = ulid.Make().String()
		}
		w.Header().Set("X-Request-ID", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.Logger.Error("panic serving request", "panic", p, "request_id", id, "path", r.URL.Path)
				if sw.status == 0 {
					writeProblem(sw, Problem{Status: http.StatusInternalServerError, Detail: "the request could not be completed; request id " + id})
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			a.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			a.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			if route != "GET /metrics" && route != "GET /healthz" && route != "GET /readyz" {
				a.Logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
					"duration_ms", time.Since(start).Milliseconds(), "request_id", id)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
