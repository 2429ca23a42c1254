package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dxledger/dxledger/httpapi"
	"github.com/spf13/pflag"
)

// The terminal client: the API's calls from a shell through httpapi.Client, with
// DXLEDGER_TOKEN (and DXLEDGER_API_URL) from the environment, answers as aligned tables or
// --json, and a refusal as the problem's title, status, detail and fields.
//
// A person sees their own write on their next read although each command is a process of its
// own: a write keeps the position it reached in a state file of its own for the server and the
// token's user, and a read sends it as Dxledger-Min-Position (API.md, "Conventions").

const clientUsage = `Usage:
  dxledger report funding-gaps|model-counts|completion --group-by KEY [--as-of YYYY-MM-DD] [--known-at T] [--kind model|project] [--json] [--no-wait]
  dxledger model|project propose --title T --unit CODE --pillar P --sector S [--scope S] [--estimated-cost-vnd N]
                                 [--start-date D] [--end-date D] [--model-id ID] [--occurred-on D]
  dxledger model|project own-funding --id ID --means regular_budget|enterprise|reuse [--note TEXT] [--occurred-on D]
  dxledger model|project workflow-version --id ID --version N --note TEXT [--occurred-on D]
  dxledger funding request --project ID --source S --amount-vnd N --year Y [--occurred-on D]
  dxledger funding decide  --project ID --request ID --decision approve|reject [--approved-vnd N] [--note TEXT]

The server is DXLEDGER_API_URL (default http://127.0.0.1:8080); the token DXLEDGER_TOKEN.
A write keeps the position it reached in $XDG_STATE_HOME/dxledger/positions (default
~/.local/state/dxledger/positions), one file per server and user, and a report waits (up to
10 s) until it includes that write; --no-wait reads without waiting.
`

// termClient is a client command's connection to the server, with where it keeps its user's
// last write.
type termClient struct {
	*httpapi.Client
	apiURL   string
	stateDir string // "" when the environment names none: positions are not kept
	stderr   io.Writer
}

// newClient parses a client command's flags and reads the configuration (DXLEDGER_API_URL,
// DXLEDGER_TOKEN) and the state directory (XDG_STATE_HOME, else HOME/.local/state).
func newClient(name string, args, environ []string, stderr io.Writer, flags func(*pflag.FlagSet)) (*termClient, *pflag.FlagSet, error) {
	cfg, fs, err := loadConfig(name, args, environ, stderr, flags)
	if err != nil {
		return nil, nil, err
	}
	return &termClient{Client: httpapi.NewClient(cfg.APIURL, cfg.Token, nil), apiURL: cfg.APIURL,
		stateDir: stateDir(environ), stderr: stderr}, fs, nil
}

// stateDir is where the terminal client keeps its state: $XDG_STATE_HOME/dxledger, else
// $HOME/.local/state/dxledger (the XDG base directory specification), "" when neither is set.
func stateDir(environ []string) string {
	if d := lookupEnv(environ, "XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "dxledger")
	}
	if h := lookupEnv(environ, "HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "dxledger")
	}
	return ""
}

// lookupEnv is the value of key in environ ("KEY=value" pairs; the last one counts).
func lookupEnv(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// reader returns the client a read command uses: one that waits for its user's last write
// kept in the state file, or, with noWait, no state directory or no write kept, one that does
// not wait; waits says which.
func (c *termClient) reader(ctx context.Context, noWait bool) (_ *httpapi.Client, waits bool, _ error) {
	if noWait || c.stateDir == "" {
		return c.Client, false, nil
	}
	path, err := c.positionPath(ctx)
	if err != nil {
		return nil, false, err
	}
	pos, err := loadPosition(path)
	if err != nil {
		return nil, false, fmt.Errorf("%w (remove the file, or read with --no-wait)", err)
	}
	return c.WithMinPosition(pos), pos != "", nil
}

// wrote keeps the position a write reached for its user's next read. The write has happened
// whatever comes of this, so a failure is only a warning.
func (c *termClient) wrote(ctx context.Context, position string) {
	if c.stateDir == "" || position == "" {
		return
	}
	path, err := c.positionPath(ctx)
	if err == nil {
		err = savePosition(path, c.apiURL, position)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "dxledger: the write's position is not kept, so the next report may not show it yet: %v\n", err)
	}
}

// positionPath is the state file of the client's server and its token's user (GET
// /api/v1/me): the file's name is a digest of the two, and neither the token nor anything
// made from it is stored.
func (c *termClient) positionPath(ctx context.Context) (string, error) {
	me, err := c.Me(ctx)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strings.TrimRight(c.apiURL, "/") + "\n" + me.ID))
	return filepath.Join(c.stateDir, "positions", hex.EncodeToString(sum[:16])+".json"), nil
}

// positionState is a state file's content: the position, and for whoever reads the file, the
// server it belongs to.
type positionState struct {
	APIURL   string `json:"api_url"`
	Position string `json:"position"`
}

// loadPosition reads the position kept in path; "" when there is none.
func loadPosition(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the last write's position: %w", err)
	}
	var st positionState
	if err := json.Unmarshal(b, &st); err != nil {
		return "", fmt.Errorf("read the last write's position from %s: %w", path, err)
	}
	return st.Position, nil
}

// savePosition replaces the position kept in path, atomically (a new file renamed over the
// old), readable by its owner only. Of two writes that finish together the last to save wins.
func savePosition(path, apiURL, position string) error {
	if u, err := url.Parse(apiURL); err == nil {
		apiURL = u.Redacted() // a password in the URL stays out of the file
	}
	b, err := json.Marshal(positionState{APIURL: apiURL, Position: position})
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".position-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // gone by then once renamed
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
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
		noWait bool
	)
	tc, _, err := newClient("report "+report, args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&q.GroupBy, "group-by", "unit", "grouping: unit, unit_kind, pillar, sector, source, year")
		fs.StringVar(&q.AsOf, "as-of", "", "the programme at the end of this day (YYYY-MM-DD)")
		fs.StringVar(&q.KnownAt, "known-at", "", "only what had been recorded by then (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&kind, "kind", "", "completion only: model or project")
		fs.BoolVar(&asJSON, "json", false, "print the answer as JSON")
		fs.BoolVar(&noWait, "no-wait", false, "answer at once, without waiting for the reports to include your last write")
	})
	if err != nil {
		return err
	}
	c, waits, err := tc.reader(ctx, noWait)
	if err != nil {
		return err
	}
	// stillBehind says what to do when the reports did not reach the user's last write in time.
	stillBehind := func(err error) error {
		if p := (*httpapi.Problem)(nil); waits && errors.As(err, &p) && p.Status == http.StatusServiceUnavailable {
			return fmt.Errorf("%w\nthe reports do not yet include your last write: try again, or add --no-wait to read them as they stand", err)
		}
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
			return stillBehind(err)
		}
		out, columns = r, []string{"key", "estimated_vnd", "requested_vnd", "approved_vnd", "disbursed_vnd", "gap_vnd", "items_with_gap"}
		for _, x := range append(r.Rows, r.Total) {
			rows = append(rows, []any{x.Key, x.Estimated, x.Requested, x.Approved, x.Disbursed, x.Gap, x.ItemsWithGap})
		}
	case "model-counts":
		r, err := c.ModelCounts(ctx, q)
		if err != nil {
			return stillBehind(err)
		}
		out, columns = r, []string{"key", "registrations", "distinct_models"}
		for _, x := range r.Rows {
			rows = append(rows, []any{x.Key, x.Registrations, x.DistinctModels})
		}
		rows = append(rows, []any{"", r.Total.Registrations, r.Total.DistinctModels})
	case "completion":
		r, err := c.Completion(ctx, kind, q)
		if err != nil {
			return stillBehind(err)
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
	if len(args) > 0 && (args[0] == "own-funding" || args[0] == "workflow-version") {
		return cmdItemAction(ctx, kind, args, environ, stdout, stderr)
	}
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
	c.wrote(ctx, out.Position)
	fmt.Fprintf(stdout, "%s %s proposed (version %d)\n", kind, out.ID, out.Version)
	return nil
}

// cmdItemAction is an action on one item: own-funding (the item needs no separate state
// funding) or workflow-version (move it to a newer version that mends its own).
func cmdItemAction(ctx context.Context, kind string, args, environ []string, stdout, stderr io.Writer) error {
	var (
		id, means, note, on string
		version             int
	)
	c, _, err := newClient(kind+" "+args[0], args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&id, "id", "", "the "+kind+"'s id")
		fs.StringVar(&means, "means", "", "own-funding: regular_budget, enterprise or reuse")
		fs.IntVar(&version, "version", 0, "workflow-version: the newer version")
		fs.StringVar(&note, "note", "", "note (workflow-version: why)")
		fs.StringVar(&on, "occurred-on", "", "business date, if not today")
	})
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("%s %s: --id is required", kind, args[0])
	}
	body := map[string]any{"note": note}
	if on != "" {
		body["occurred_on"] = on
	}
	if args[0] == "own-funding" {
		body["means"] = means
	} else {
		body["version"] = version
	}
	out, err := c.Write(ctx, "POST", "/api/v1/"+kind+"s/"+id+"/"+args[0], body)
	if err != nil {
		return err
	}
	c.wrote(ctx, out.Position)
	fmt.Fprintf(stdout, "%s %s: %s recorded (version %d)\n", kind, out.ID, args[0], out.Version)
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
		c.wrote(ctx, out.Position)
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
	c.wrote(ctx, out.Position)
	fmt.Fprintf(stdout, "decision recorded on project %s (version %d)\n", out.ID, out.Version)
	return nil
}
