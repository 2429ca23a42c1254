// Package webui is the officials' web pages: the steering committee's meeting dashboard, a
// focal point's unit, the finance officer's queue, the secretariat's duplicate candidates,
// the administrator's units and users, and one page per model or project. Like httpapi it is a
// thin adapter — it signs people in, reads forms and hands work to the command handler and
// the projections' queries — and holds no rules of its own. Pages are server-rendered from
// embedded templates, Vietnamese first; nothing is fetched from another site.
package webui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/workflows"
	"github.com/oklog/ulid/v2"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Reports is what the pages read of the projections.
type Reports interface {
	FundingGaps(ctx context.Context, groupBy string, q projections.Query) (projections.FundingGapReport, error)
	ModelCounts(ctx context.Context, groupBy string, q projections.Query) (projections.ModelCountReport, error)
	Completion(ctx context.Context, kind, groupBy string, q projections.Query) (projections.CompletionReport, error)
	DuplicateCandidates(ctx context.Context) ([]projections.DuplicateCandidate, error)
	List(ctx context.Context, q projections.ListQuery) ([]projections.ListItem, string, error)
	Attention(ctx context.Context, units, except, itemIDs []string, today civil.Date, noProgressDays int) ([]projections.Attention, error)
	Undecided(ctx context.Context, limit int) ([]item.Ref, error)
	// WaitFor returns once the read models have applied the write at position, or a
	// *projections.StaleError after limit.
	WaitFor(ctx context.Context, position string, limit time.Duration) error
	// States says where each read model stands: its lag and the events it set aside.
	States(ctx context.Context) ([]projections.ProjectionState, error)
}

// Deps are what the pages need.
type Deps struct {
	Handler  *workflows.Handler
	Users    *identity.Store
	Reports  Reports
	Location *time.Location // the province's time zone
	Logger   *slog.Logger
	// MinPositionWait bounds how long a page waits to show the official's own write (default
	// projections.DefaultWait).
	MinPositionWait time.Duration
	Now             func() time.Time
	// SessionTTL is how long a sign-in lasts; 12 hours (a working day and some) when zero.
	SessionTTL time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For names the client (the sign-in
	// throttle counts failures per client address); from anyone else it is ignored.
	TrustedProxies []netip.Prefix
}

type server struct {
	Deps
	pages    map[string]*template.Template
	throttle *throttle
	created  *onceTokens
}

const (
	sessionCookie = "dxl_session"
	loginCookie   = "dxl_login" // the sign-in form's CSRF token, before there is a session
	langCookie    = "dxl_lang"
)

// New returns the pages' handler. Mount it at "/" beside the API.
func New(d Deps) (http.Handler, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SessionTTL == 0 {
		d.SessionTTL = 12 * time.Hour
	}
	s := &server{Deps: d, throttle: newThrottle(d.Now), created: &onceTokens{tokens: map[string]onceToken{}, now: d.Now}}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	mux.Handle("GET /favicon.ico", cacheFor(24*time.Hour, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write(favicon)
	})))
	mux.HandleFunc("GET /{$}", s.signedIn(s.home))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.form(s.logout))
	mux.HandleFunc("GET /lang/{lang}", s.switchLang)
	s.routes(mux)
	s.accountRoutes(mux)
	mux.HandleFunc("/", s.notFound)
	return s.recover(s.door(mux)), nil
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+itoa(int64(d/time.Second)))
		h.ServeHTTP(w, r)
	})
}

var favicon = []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b5cad"/><path d="M4 11h2V7H4zm3 0h2V4H7zm3 0h2V8h-2z" fill="#fff"/></svg>`)

// request is what every signed-in page knows about its caller.
type request struct {
	user identity.User
	csrf string
	lang string
	id   string // the request id, in logs and in error pages
}

func (rq *request) actor() workflows.Actor {
	return workflows.Actor{UserID: rq.user.ID, Role: role.Role(rq.user.Role), UnitCode: rq.user.UnitCode, RequestID: rq.id}
}

func (rq *request) is(roles ...string) bool {
	for _, r := range roles {
		if rq.user.Role == r {
			return true
		}
	}
	return false
}

func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEN {
		return langEN
	}
	return langVI
}

// recover turns a panic into the error page, logged with the request id.
func (s *server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				id := w.Header().Get("X-Request-ID")
				s.Logger.Error("panic serving page", "panic", p, "request_id", id, "path", loggedPath(r))
				http.Error(w, tr(langOf(r), "err.internal")+" "+id, http.StatusInternalServerError)
			}
		}()
		w.Header().Set("X-Request-ID", ulid.Make().String())
		// Pages carry the session's form token, a new token or a setup link: no cache keeps
		// them (static files say otherwise for themselves).
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// signedIn serves h to a signed-in person; anyone else goes to the sign-in page, told why.
func (s *server) signedIn(h func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq, ok := s.session(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodGet && !s.caughtUp(w, r, rq) {
			return
		}
		h(w, r, rq)
	}
}

func (s *server) session(w http.ResponseWriter, r *http.Request) (*request, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		s.toLogin(w, r, "needed")
		return nil, false
	}
	sess, err := s.Users.Session(r.Context(), c.Value)
	switch {
	case errors.Is(err, identity.ErrSessionExpired):
		clearCookie(w, r, sessionCookie)
		s.toLogin(w, r, "expired")
		return nil, false
	case errors.Is(err, identity.ErrUnauthenticated):
		clearCookie(w, r, sessionCookie)
		s.toLogin(w, r, "needed")
		return nil, false
	case err != nil:
		s.Logger.Error("session", "err", err, "request_id", w.Header().Get("X-Request-ID"))
		http.Error(w, tr(langOf(r), "err.internal")+" "+w.Header().Get("X-Request-ID"), http.StatusInternalServerError)
		return nil, false
	}
	return &request{user: sess.User, csrf: sess.CSRF, lang: langOf(r), id: w.Header().Get("X-Request-ID")}, true
}

// form serves h a POSTed form from a signed-in person, after checking its CSRF token.
func (s *server) form(h func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, rq *request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, rq, http.StatusBadRequest, "err.badquery")
			return
		}
		if !identity.SameToken(r.PostForm.Get("csrf"), rq.csrf) {
			s.fail(w, r, rq, http.StatusForbidden, "signin.csrf")
			return
		}
		h(w, r, rq)
	})
}

func (s *server) toLogin(w http.ResponseWriter, r *http.Request, why string) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		next = "/"
	}
	http.Redirect(w, r, "/login?why="+why+"&next="+url.QueryEscape(next), http.StatusSeeOther)
}

// overTLS reports whether the browser reached us over TLS, directly or through a proxy that
// says so (a client lying about it only makes its own cookies stricter).
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: overTLS(r), SameSite: http.SameSiteLaxMode})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: overTLS(r), SameSite: http.SameSiteLaxMode})
}

// safeNext keeps a post-sign-in destination on this site: a path, with no scheme, no host, no
// backslash and no control character (browsers drop tabs and newlines, so "/\t/evil" would
// become "//evil").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "/login") ||
		strings.ContainsFunc(next, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}

type loginData struct {
	Name, Next, Why, CSRF string
	Wrong                 bool
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next")), Why: r.URL.Query().Get("why")})
}

func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	// One token per browser, kept while it is on the sign-in page: a second tab, or a request
	// the browser makes by itself, must not invalidate the form already shown.
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) > 20 && len(c.Value) < 100 {
		d.CSRF = c.Value
	} else {
		d.CSRF = identity.NewToken()
	}
	setCookie(w, r, loginCookie, d.CSRF, time.Hour)
	switch d.Why {
	case "expired", "needed", "csrf", "throttled", "suspended":
	default:
		d.Why = ""
	}
	s.render(w, status, "login", &page{Lang: langOf(r), Title: tr(langOf(r), "signin"), Data: d})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, tr(langOf(r), "err.badquery"), http.StatusBadRequest)
		return
	}
	d := loginData{Name: strings.TrimSpace(r.PostForm.Get("name")), Next: safeNext(r.PostForm.Get("next"))}
	c, err := r.Cookie(loginCookie)
	if err != nil || !identity.SameToken(c.Value, r.PostForm.Get("csrf")) {
		d.Why = "csrf"
		s.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	// Failures count per client address and per account, never per typed name; what was typed
	// is never logged (a password typed into the name field would land in the log).
	addr := clientAddr(r, s.TrustedProxies)
	reqID := w.Header().Get("X-Request-ID")
	if ok, retry := s.throttle.admit(addr); !ok {
		s.Logger.Warn("sign-in throttled", "client", addr, "request_id", reqID)
		w.Header().Set("Retry-After", strconv.Itoa(int(retry/time.Second)+1))
		d.Why = "throttled"
		s.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	accounts, err := s.Users.AccountsNamed(r.Context(), d.Name)
	if err != nil {
		s.Logger.Error("sign in", "err", err, "request_id", reqID)
		http.Error(w, tr(langOf(r), "err.internal"), http.StatusInternalServerError)
		return
	}
	wait, ok := s.throttle.pace(accounts)
	if !ok {
		s.Logger.Warn("sign-in throttled: too many tries on one account at once", "client", addr, "request_id", reqID)
		w.Header().Set("Retry-After", "10")
		d.Why = "throttled"
		s.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
	}
	u, err := s.Users.SignIn(r.Context(), d.Name, r.PostForm.Get("password"))
	if errors.Is(err, identity.ErrBadCredentials) {
		s.throttle.failed(accounts)
		s.Logger.Info("sign-in refused", "client", addr, "accounts", len(accounts), "request_id", reqID)
		d.Wrong = true
		s.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	if errors.Is(err, identity.ErrSuspended) {
		s.Logger.Info("sign-in refused: account suspended", "client", addr, "request_id", reqID)
		d.Why = "suspended"
		s.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	if err != nil {
		s.Logger.Error("sign in", "err", err, "request_id", reqID)
		http.Error(w, tr(langOf(r), "err.internal"), http.StatusInternalServerError)
		return
	}
	token, _, err := s.Users.StartSession(r.Context(), u.ID, s.SessionTTL)
	if err != nil {
		s.Logger.Error("start session", "err", err)
		http.Error(w, tr(langOf(r), "err.internal"), http.StatusInternalServerError)
		return
	}
	s.throttle.succeeded(addr, u.ID)
	if old, err := r.Cookie(sessionCookie); err == nil {
		_ = s.Users.EndSession(r.Context(), old.Value) // a browser holds one session
	}
	clearCookie(w, r, loginCookie)
	setCookie(w, r, sessionCookie, token, s.SessionTTL)
	s.Logger.Info("signed in", "user", u.ID, "role", u.Role)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request, rq *request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.Users.EndSession(r.Context(), c.Value); err != nil {
			s.Logger.Error("end session", "err", err)
		}
	}
	clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *server) switchLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != langEN {
		lang = langVI
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: overTLS(r)})
	back := safeNext(r.URL.Query().Get("back"))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// home sends each role to the page its day starts on.
func (s *server) home(w http.ResponseWriter, r *http.Request, rq *request) {
	to := "/dashboard"
	switch rq.user.Role {
	case identity.RoleFocalPoint:
		to = "/my"
	case identity.RoleFinanceOfficer:
		to = "/queue"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// notFound answers a path nobody serves: a page for a browser, signed in or not, and an RFC
// 9457 problem for any other client, as the API's router does.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "Not Found", "status": http.StatusNotFound,
			"detail": "no such route: " + r.Method + " " + r.URL.Path})
		return
	}
	rq := &request{lang: langOf(r), id: w.Header().Get("X-Request-ID")}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if sess, err := s.Users.Session(r.Context(), c.Value); err == nil {
			rq.user, rq.csrf = sess.User, sess.CSRF
		}
	}
	s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
}

// names loads the units for naming report keys; on failure it answers the request itself.
func (s *server) names(w http.ResponseWriter, r *http.Request, rq *request) (names, bool) {
	units, err := s.Handler.Units(r.Context())
	if err != nil {
		s.failErr(w, r, rq, err)
		return names{}, false
	}
	return names{lang: rq.lang, units: units}, true
}

// fail renders the error page with a message key.
func (s *server) fail(w http.ResponseWriter, r *http.Request, rq *request, status int, key string) {
	p := s.newPage(r, rq, tr(rq.lang, key))
	p.Data = errorData{Message: tr(rq.lang, key), Status: status}
	s.render(w, status, "error", p)
}

// failErr renders err as its error page; an error without a kind is the 500 page, logged
// here with the request id.
func (s *server) failErr(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	a := answerOf(rq.lang, err)
	msg := a.Message
	if a.Status == http.StatusInternalServerError {
		s.Logger.Error("page failed", "err", err, "request_id", rq.id, "path", loggedPath(r))
		msg += " " + rq.id
	}
	p := s.newPage(r, rq, a.Message)
	p.Data = errorData{Message: msg, Status: a.Status}
	s.render(w, a.Status, "error", p)
}

// loggedPath is a page's path as the log may show it: a setup link's secret left out.
func loggedPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/setup/") {
		return "/setup/…"
	}
	return r.URL.Path
}

type errorData struct {
	Message string
	Status  int
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
