package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dxledger/dxledger/config"
	"github.com/spf13/pflag"
)

// The terminal client: the API's calls from a shell, with DXLEDGER_TOKEN (and DXLEDGER_API_URL)
// from the environment, answers as aligned tables or --json, and errors as the problem's title
// and detail.

const clientUsage = `Usage:
  dxledger report funding-gaps|model-counts|completion --group-by KEY [--as-of YYYY-MM-DD] [--known-at T] [--kind model|project] [--json]
  dxledger model|project propose --title T --unit CODE --pillar P --sector S [--scope S] [--estimated-cost-vnd N]
                                 [--start-date D] [--end-date D] [--model-id ID] [--occurred-on D]
  dxledger funding request --project ID --source S --amount-vnd N --year Y [--occurred-on D]
  dxledger funding decide  --project ID --request ID --decision approve|reject [--approved-vnd N] [--note TEXT]

The server is DXLEDGER_API_URL (default http://127.0.0.1:8080); the token DXLEDGER_TOKEN.
`

// apiClient calls the API with a bearer token.
type apiClient struct {
	base, token string
	http        *http.Client
}

// clientProblem is an API error as the client shows it.
type clientProblem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (p *clientProblem) Error() string {
	msg := fmt.Sprintf("%s (%d): %s", p.Title, p.Status, p.Detail)
	for _, f := range p.Errors {
		msg += fmt.Sprintf("\n  %s: %s", f.Field, f.Message)
	}
	return msg
}

func (c apiClient) call(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		p := &clientProblem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		_ = json.Unmarshal(raw, p)
		return p
	}
	return json.Unmarshal(raw, out)
}

// newClient reads the configuration (DXLEDGER_API_URL, DXLEDGER_TOKEN) for a client command.
func newClient(name string, args, environ []string, stderr io.Writer, flags func(*pflag.FlagSet)) (apiClient, *pflag.FlagSet, error) {
	cfg, fs, err := loadConfig(name, args, environ, stderr, flags)
	if err != nil {
		return apiClient{}, nil, err
	}
	return clientFor(cfg), fs, nil
}

func clientFor(cfg config.Config) apiClient {
	return apiClient{base: strings.TrimRight(cfg.APIURL, "/"), token: cfg.Token, http: &http.Client{Timeout: 60 * time.Second}}
}

func cmdReport(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "funding-gaps" && args[0] != "model-counts" && args[0] != "completion") {
		fmt.Fprint(stderr, clientUsage)
		return errUsage
	}
	report := args[0]
	var groupBy, asOf, knownAt, kind string
	var asJSON bool
	c, _, err := newClient("report "+report, args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&groupBy, "group-by", "unit", "grouping: unit, unit_kind, pillar, sector, source, year")
		fs.StringVar(&asOf, "as-of", "", "the programme at the end of this day (YYYY-MM-DD)")
		fs.StringVar(&knownAt, "known-at", "", "only what had been recorded by then (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&kind, "kind", "", "completion only: model or project")
		fs.BoolVar(&asJSON, "json", false, "print the answer as JSON")
	})
	if err != nil {
		return err
	}
	q := url.Values{"group_by": {groupBy}}
	for k, v := range map[string]string{"as_of": asOf, "known_at": knownAt, "kind": kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Rows  []map[string]any `json:"rows"`
		Total map[string]any   `json:"total"`
	}
	if err := c.call(ctx, "GET", "/api/v1/reports/"+report+"?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	columns := map[string][]string{
		"funding-gaps": {"key", "estimated_vnd", "requested_vnd", "approved_vnd", "disbursed_vnd", "gap_vnd", "items_with_gap"},
		"model-counts": {"key", "registrations", "distinct_models"},
		"completion":   {"key", "proposed", "funded", "implemented", "evaluated", "suspended", "cancelled", "overdue", "average_progress"},
	}[report]
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, strings.Join(columns, "\t")+"\t")
	for n, row := range append(out.Rows, out.Total) {
		cells := make([]string, len(columns))
		for i, col := range columns {
			cells[i] = cell(row[col])
		}
		if n == len(out.Rows) {
			cells[0] = "total"
		}
		fmt.Fprintln(w, strings.Join(cells, "\t")+"\t")
	}
	return w.Flush()
}

// cell prints a JSON value: whole numbers with . grouping (Vietnamese), null as "–".
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "–"
	case string:
		return v
	case float64:
		if v == float64(int64(v)) {
			return group(int64(v))
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return fmt.Sprint(v)
}

func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func cmdPropose(ctx context.Context, kind string, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "propose" {
		fmt.Fprint(stderr, clientUsage)
		return errUsage
	}
	var title, unit, pillar, sector, scope, start, end, modelID, on string
	var cost int64
	c, _, err := newClient(kind+" propose", args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&title, "title", "", "title")
		fs.StringVar(&unit, "unit", "", "unit code")
		fs.StringVar(&pillar, "pillar", "", "government, economy or society")
		fs.StringVar(&sector, "sector", "", "sector code")
		fs.StringVar(&scope, "scope", "", "scope")
		fs.Int64Var(&cost, "estimated-cost-vnd", 0, "estimated cost in đồng")
		fs.StringVar(&start, "start-date", "", "planned start (YYYY-MM-DD)")
		fs.StringVar(&end, "end-date", "", "planned end (YYYY-MM-DD)")
		fs.StringVar(&modelID, "model-id", "", "projects: the model it belongs to")
		fs.StringVar(&on, "occurred-on", "", "business date, if not today")
	})
	if err != nil {
		return err
	}
	body := map[string]any{"title": title, "unit_code": unit, "pillar": pillar, "sector": sector}
	for k, v := range map[string]string{"scope": scope, "start_date": start, "end_date": end, "model_id": modelID, "occurred_on": on} {
		if v != "" {
			body[k] = v
		}
	}
	if cost != 0 {
		body["estimated_cost_vnd"] = cost
	}
	var out struct {
		ID      string `json:"id"`
		Version int64  `json:"version"`
	}
	if err := c.call(ctx, "POST", "/api/v1/"+kind+"s", body, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s proposed (version %d)\n", kind, out.ID, out.Version)
	return nil
}

func cmdFunding(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "request" && args[0] != "decide") {
		fmt.Fprint(stderr, clientUsage)
		return errUsage
	}
	var project, source, request, decision, note, on string
	var amount, approved int64
	var year int
	c, fs, err := newClient("funding "+args[0], args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&project, "project", "", "project id")
		fs.StringVar(&source, "source", "", "funding source")
		fs.Int64Var(&amount, "amount-vnd", 0, "amount asked for, in đồng")
		fs.IntVar(&year, "year", 0, "budget year")
		fs.StringVar(&request, "request", "", "funding request id")
		fs.StringVar(&decision, "decision", "", "approve or reject")
		fs.Int64Var(&approved, "approved-vnd", 0, "amount approved, in đồng")
		fs.StringVar(&note, "note", "", "note")
		fs.StringVar(&on, "occurred-on", "", "business date, if not today")
	})
	if err != nil {
		return err
	}
	if project == "" {
		return errors.New("funding: --project is required")
	}
	var (
		path string
		body = map[string]any{}
	)
	if on != "" {
		body["occurred_on"] = on
	}
	if args[0] == "request" {
		path = "/api/v1/projects/" + url.PathEscape(project) + "/funding-requests"
		body["source"], body["amount_vnd"], body["year"] = source, amount, year
	} else {
		if request == "" {
			return errors.New("funding decide: --request is required")
		}
		path = "/api/v1/projects/" + url.PathEscape(project) + "/funding-requests/" + url.PathEscape(request) + "/decision"
		body["decision"] = decision
		if fs.Changed("approved-vnd") {
			body["approved_vnd"] = approved
		}
		if note != "" {
			body["note"] = note
		}
	}
	var out struct {
		ID        string `json:"id"`
		Version   int64  `json:"version"`
		RequestID string `json:"request_id"`
	}
	if err := c.call(ctx, "POST", path, body, &out); err != nil {
		return err
	}
	if out.RequestID != "" {
		fmt.Fprintf(stdout, "funding request %s on project %s (version %d)\n", out.RequestID, out.ID, out.Version)
		return nil
	}
	fmt.Fprintf(stdout, "decision recorded on project %s (version %d)\n", out.ID, out.Version)
	return nil
}
