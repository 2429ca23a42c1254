package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dxledger/dxledger/httpapi"
	"github.com/spf13/pflag"
)

// The terminal client: the API's calls from a shell through httpapi.Client, with
// DXLEDGER_TOKEN (and DXLEDGER_API_URL) from the environment, answers as aligned tables or
// --json, and a refusal as the problem's title, status, detail and fields.

const clientUsage = `Usage:
  dxledger report funding-gaps|model-counts|completion --group-by KEY [--as-of YYYY-MM-DD] [--known-at T] [--kind model|project] [--json]
  dxledger model|project propose --title T --unit CODE --pillar P --sector S [--scope S] [--estimated-cost-vnd N]
                                 [--start-date D] [--end-date D] [--model-id ID] [--occurred-on D]
  dxledger funding request --project ID --source S --amount-vnd N --year Y [--occurred-on D]
  dxledger funding decide  --project ID --request ID --decision approve|reject [--approved-vnd N] [--note TEXT]

The server is DXLEDGER_API_URL (default http://127.0.0.1:8080); the token DXLEDGER_TOKEN.
`

// newClient parses a client command's flags and reads the configuration (DXLEDGER_API_URL,
// DXLEDGER_TOKEN).
func newClient(name string, args, environ []string, stderr io.Writer, flags func(*pflag.FlagSet)) (*httpapi.Client, *pflag.FlagSet, error) {
	cfg, fs, err := loadConfig(name, args, environ, stderr, flags)
	if err != nil {
		return nil, nil, err
	}
	return httpapi.NewClient(cfg.APIURL, cfg.Token, nil), fs, nil
}

func cmdReport(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "funding-gaps" && args[0] != "model-counts" && args[0] != "completion") {
		fmt.Fprint(stderr, clientUsage)
		return errUsage
	}
	report := args[0]
	var (
		q      httpapi.ReportQuery
		kind   string
		asJSON bool
	)
	c, _, err := newClient("report "+report, args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&q.GroupBy, "group-by", "unit", "grouping: unit, unit_kind, pillar, sector, source, year")
		fs.StringVar(&q.AsOf, "as-of", "", "the programme at the end of this day (YYYY-MM-DD)")
		fs.StringVar(&q.KnownAt, "known-at", "", "only what had been recorded by then (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&kind, "kind", "", "completion only: model or project")
		fs.BoolVar(&asJSON, "json", false, "print the answer as JSON")
	})
	if err != nil {
		return err
	}
	var (
		out     any
		columns []string
		rows    [][]any // a row's values in columns' order; the last is the total
	)
	switch report {
	case "funding-gaps":
		r, err := c.FundingGaps(ctx, q)
		if err != nil {
			return err
		}
		out, columns = r, []string{"key", "estimated_vnd", "requested_vnd", "approved_vnd", "disbursed_vnd", "gap_vnd", "items_with_gap"}
		for _, x := range append(r.Rows, r.Total) {
			rows = append(rows, []any{x.Key, x.Estimated, x.Requested, x.Approved, x.Disbursed, x.Gap, x.ItemsWithGap})
		}
	case "model-counts":
		r, err := c.ModelCounts(ctx, q)
		if err != nil {
			return err
		}
		out, columns = r, []string{"key", "registrations", "distinct_models"}
		for _, x := range r.Rows {
			rows = append(rows, []any{x.Key, x.Registrations, x.DistinctModels})
		}
		rows = append(rows, []any{"", r.Total.Registrations, r.Total.DistinctModels})
	case "completion":
		r, err := c.Completion(ctx, kind, q)
		if err != nil {
			return err
		}
		out, columns = r, []string{"key", "proposed", "funded", "implemented", "evaluated", "suspended", "cancelled", "overdue", "average_progress"}
		for _, x := range append(r.Rows, r.Total) {
			rows = append(rows, []any{x.Key, x.Proposed, x.Funded, x.Implemented, x.Evaluated, x.Suspended, x.Cancelled, x.Overdue, x.AverageProgress})
		}
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, strings.Join(columns, "\t")+"\t")
	for n, row := range rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = cell(v)
		}
		if n == len(rows)-1 {
			cells[0] = "total"
		}
		fmt.Fprintln(w, strings.Join(cells, "\t")+"\t")
	}
	return w.Flush()
}

// cell prints a report's value: whole numbers with . grouping (Vietnamese), a fraction with
// one decimal, a missing amount as "–".
func cell(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return group(v)
	case *int64:
		if v == nil {
			return "–"
		}
		return group(*v)
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
	var p httpapi.Proposal
	c, _, err := newClient(kind+" propose", args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&p.Title, "title", "", "title")
		fs.StringVar(&p.UnitCode, "unit", "", "unit code")
		fs.StringVar(&p.Pillar, "pillar", "", "government, economy or society")
		fs.StringVar(&p.Sector, "sector", "", "sector code")
		fs.StringVar(&p.Scope, "scope", "", "scope")
		fs.Int64Var(&p.EstimatedCostVND, "estimated-cost-vnd", 0, "estimated cost in đồng")
		fs.StringVar(&p.StartDate, "start-date", "", "planned start (YYYY-MM-DD)")
		fs.StringVar(&p.EndDate, "end-date", "", "planned end (YYYY-MM-DD)")
		fs.StringVar(&p.ModelID, "model-id", "", "projects: the model it belongs to")
		fs.StringVar(&p.OccurredOn, "occurred-on", "", "business date, if not today")
	})
	if err != nil {
		return err
	}
	out, err := c.Propose(ctx, kind, p)
	if err != nil {
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
	var (
		project, request string
		approved         int64
		r                httpapi.FundingRequest
		d                httpapi.Decision
	)
	c, fs, err := newClient("funding "+args[0], args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&project, "project", "", "project id")
		fs.StringVar(&r.Source, "source", "", "funding source")
		fs.Int64Var(&r.AmountVND, "amount-vnd", 0, "amount asked for, in đồng")
		fs.IntVar(&r.Year, "year", 0, "budget year")
		fs.StringVar(&request, "request", "", "funding request id")
		fs.StringVar(&d.Decision, "decision", "", "approve or reject")
		fs.Int64Var(&approved, "approved-vnd", 0, "amount approved, in đồng")
		fs.StringVar(&d.Note, "note", "", "note")
		fs.StringVar(&r.OccurredOn, "occurred-on", "", "business date, if not today")
	})
	if err != nil {
		return err
	}
	if project == "" {
		return errors.New("funding: --project is required")
	}
	if args[0] == "request" {
		out, err := c.RequestFunding(ctx, "project", project, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "funding request %s on project %s (version %d)\n", out.RequestID, out.ID, out.Version)
		return nil
	}
	if request == "" {
		return errors.New("funding decide: --request is required")
	}
	if fs.Changed("approved-vnd") {
		d.ApprovedVND = &approved
	}
	d.OccurredOn = r.OccurredOn
	out, err := c.DecideFunding(ctx, "project", project, request, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "decision recorded on project %s (version %d)\n", out.ID, out.Version)
	return nil
}
