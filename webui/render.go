package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/oklog/ulid/v2"
)

// page is what every template gets: the labels of its language, the signed-in person, the
// navigation, and the page's own Data.
type page struct {
	Lang, Title, Path, CSRF string
	User                    identity.User
	Nav                     []navLink
	Flash                   string
	Data                    any
	loc                     *time.Location
	now                     func() time.Time
}

type navLink struct {
	Href, Label string
	Current     bool
}

func (s *server) newPage(r *http.Request, rq *request, title string) *page {
	p := &page{Lang: rq.lang, Title: title, Path: r.URL.RequestURI(), CSRF: rq.csrf, User: rq.user, loc: s.Location, now: s.Now}
	add := func(href, key string) {
		p.Nav = append(p.Nav, navLink{Href: href, Label: tr(rq.lang, key), Current: r.URL.Path == href || strings.HasPrefix(r.URL.Path, href+"/")})
	}
	add("/dashboard", "nav.dashboard")
	switch rq.user.Role {
	case identity.RoleFocalPoint:
		add("/my", "nav.my")
		add("/my/indicators", "nav.my_indicators")
	case identity.RoleFinanceOfficer:
		add("/queue", "nav.queue")
	case identity.RoleSteeringCommittee:
		add("/duplicates", "nav.duplicates")
	case identity.RoleAdmin:
		add("/duplicates", "nav.duplicates")
		add("/admin/units", "nav.units")
		add("/admin/users", "nav.users")
		add("/admin/reports", "nav.reports_health")
	}
	add("/items", "nav.items")
	add("/indicators", "nav.indicators")
	if rq.user.ID != "" {
		add("/account", "nav.account")
	}
	if r.URL.Query().Get("ok") != "" {
		p.Flash = tr(rq.lang, "saved")
	}
	return p
}

// The helpers templates call on the page.

func (p *page) T(key string) string          { return tr(p.Lang, key) }
func (p *page) L(family, code string) string { return label(p.Lang, family, code) }
func (p *page) VND(v any) string             { return vnd(p.Lang, toInt(v)) }
func (p *page) N(v int64) string             { return count(p.Lang, v) }
func (p *page) Pct(v float64) string         { return percent(p.Lang, v) }
func (p *page) Date(d civil.Date) string     { return dmy(d) }
func (p *page) When(t time.Time) string      { return dmyhm(t, p.loc) }
func (p *page) Now() time.Time               { return p.now() }
func (p *page) Stages() []string             { return stages }
func (p *page) Key() string                  { return ulid.Make().String() }
func (p *page) Is(roles ...string) bool      { return contains(roles, p.User.Role) }
func (p *page) Other() string                { return map[string]string{langVI: langEN, langEN: langVI}[p.Lang] }
func (p *page) Selected(a, b string) template.HTMLAttr {
	if a == b {
		return "selected"
	}
	return ""
}

var stages = []string{"proposed", "funded", "implemented", "evaluated", "suspended", "cancelled"}

// toInt takes the whole numbers templates hand over: int64, int, money.VND.
func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case money.VND:
		return int64(x)
	}
	panic(fmt.Sprintf("webui: %T is not a whole number", v))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var funcs = template.FuncMap{
	"vndPtr": func(p *page, v *int64) string {
		if v == nil {
			return "—"
		}
		return p.VND(*v)
	},
	"nPtr": func(p *page, v *int64) string {
		if v == nil {
			return "—"
		}
		return p.N(*v)
	},
	// bar is a chart bar's width in percent of the largest value.
	"bar": func(v, most int64) string {
		if most <= 0 || v <= 0 {
			return "0"
		}
		return fmt.Sprintf("%.1f", float64(v)*100/float64(most))
	},
	"derefOr0": func(v *int64) int64 {
		if v == nil {
			return 0
		}
		return *v
	},
	"q": func(pairs ...string) template.URL { return template.URL(query(pairs...)) },
	// dict passes several values to a sub-template: dict "name" value ...
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
	"list": func(s ...string) []string { return s },
	// rankbar is a rank drawn as a bar: first place full, last place short.
	"rankbar": func(rank, of int) string {
		if of <= 0 || rank <= 0 {
			return "0"
		}
		return fmt.Sprintf("%.1f", float64(of-rank+1)*100/float64(of))
	},
	// dmyISO shows a YYYY-MM-DD value as dd/mm/yyyy; anything else is left as it is.
	"dmyISO": func(v any) string {
		s, _ := v.(string)
		if d, err := civil.Parse(s); err == nil {
			return dmy(d)
		}
		return s
	},
}

// query builds a query string from name, value pairs, leaving out empty values.
func query(pairs ...string) string {
	v := url.Values{}
	var order []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if !v.Has(pairs[i]) {
			order = append(order, pairs[i])
		}
		v.Set(pairs[i], pairs[i+1])
	}
	var b strings.Builder
	for _, k := range order {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v.Get(k)))
	}
	return b.String()
}

// parsePages parses each page template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes a page; a template error is a 500, not half a page.
func (s *server) render(w http.ResponseWriter, status int, name string, p *page) {
	if p.loc == nil {
		p.loc = s.Location
	}
	if p.now == nil {
		p.now = s.Now
	}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.Logger.Error("render", "page", name, "err", err, "request_id", w.Header().Get("X-Request-ID"))
		http.Error(w, tr(p.Lang, "err.internal")+" "+w.Header().Get("X-Request-ID"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
