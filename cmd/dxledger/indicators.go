package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

const indicatorUsage = `Usage:
  dxledger indicator report --year Y [--as-of YYYY-MM-DD] [--known-at T] [--unit CODE] [--json] [--no-wait]
  dxledger indicator actual CODE --year Y --value V --method official|estimate|automated --estimator WHO
                                 [--date YYYY-MM-DD] [--evidence DOC] [--note TEXT] [--scope province|UNIT]
  dxledger dti score [--framework 922/QĐ-BTTTT] INDEX=VALUE ...   (the eight main indices, each 0 to 1)
  dxledger dti show PROVINCE [--json]
  dxledger dti what-if --province CODE [INDEX=VALUE ...] [--target SCORE] [--json]
`

// pairs reads INDEX=VALUE arguments as JSON numbers.
func pairs(args []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want INDEX=VALUE", a)
		}
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("%q: the value must be a number", a)
		}
		out[k] = json.RawMessage(v)
	}
	return out, nil
}

// cmdIndicator is the terminal client's indicators: a year's report, and an actual reported.
func cmdIndicator(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "report" && args[0] != "actual") {
		fmt.Fprint(stderr, indicatorUsage)
		return errUsage
	}
	var (
		year                                                  int
		asOf, knownAt, unitCode                               string
		value, date, method, estimator, evidence, note, scope string
		asJSON, noWait                                        bool
	)
	tc, fs, err := newClient("indicator "+args[0], args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.IntVar(&year, "year", 0, "the target year")
		fs.StringVar(&asOf, "as-of", "", "the programme at the end of this day (YYYY-MM-DD)")
		fs.StringVar(&knownAt, "known-at", "", "only what had been recorded by then (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&unitCode, "unit", "", "a unit's own targets instead of the province's")
		fs.StringVar(&value, "value", "", "the figure")
		fs.StringVar(&date, "date", "", "the figure's business date (default today)")
		fs.StringVar(&method, "method", "official", "official, estimate or automated")
		fs.StringVar(&estimator, "estimator", "", "who gave the figure")
		fs.StringVar(&evidence, "evidence", "", "the document behind it")
		fs.StringVar(&note, "note", "", "a note")
		fs.StringVar(&scope, "scope", "province", "province or a unit's code")
		fs.BoolVar(&asJSON, "json", false, "print the answer as JSON")
		fs.BoolVar(&noWait, "no-wait", false, "answer at once, without waiting for the reports to include your last write")
	})
	if err != nil {
		return err
	}
	if args[0] == "actual" {
		if fs.NArg() != 1 {
			return errors.New("indicator actual: give the indicator's code")
		}
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return errors.New("indicator actual: --value must be a number")
		}
		body := map[string]any{"year": year, "value": json.RawMessage(value), "method": method, "estimator": estimator,
			"evidence": evidence, "note": note, "scope": scope}
		if date != "" {
			body["date"] = date
		}
		out, err := tc.Write(ctx, "POST", "/api/v1/indicators/"+url.PathEscape(fs.Arg(0))+"/actuals", body)
		if err != nil {
			return err
		}
		tc.wrote(ctx, out.Position)
		fmt.Fprintf(stdout, "actual of %s for %d recorded (version %d)\n", out.ID, year, out.Version)
		return nil
	}
	c, _, err := tc.reader(ctx, noWait)
	if err != nil {
		return err
	}
	q := url.Values{"year": {strconv.Itoa(year)}}
	for k, v := range map[string]string{"as_of": asOf, "known_at": knownAt, "unit_code": unitCode} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var rep struct {
		Rows []struct {
			Code, Name, Status string
			Target, Actual     json.Number
		} `json:"rows"`
		Total          map[string]int `json:"total"`
		TargetsMet     int            `json:"targets_met"`
		TargetsCounted int            `json:"targets_counted"`
		HardToReach    []string       `json:"hard_to_reach"`
	}
	var raw json.RawMessage
	if err := c.Get(ctx, "/api/v1/reports/indicators?"+q.Encode(), &raw); err != nil {
		return err
	}
	if asJSON {
		_, err := fmt.Fprintln(stdout, string(raw))
		return err
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "code\ttarget\tactual\tstatus\tname\t")
	for _, r := range rep.Rows {
		actual := string(r.Actual)
		if actual == "" {
			actual = "–"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", r.Code, r.Target, actual, r.Status, r.Name)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "targets met (met + exceeded): %d of %d\n", rep.TargetsMet, rep.TargetsCounted)
	if len(rep.HardToReach) > 0 {
		fmt.Fprintf(stdout, "hard to reach: %s\n", strings.Join(rep.HardToReach, ", "))
	}
	return nil
}

// cmdDTI is the terminal client's DTI: a score, a province's years, a what-if.
func cmdDTI(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "score" && args[0] != "show" && args[0] != "what-if") {
		fmt.Fprint(stderr, indicatorUsage)
		return errUsage
	}
	var (
		framework, province, target string
		asJSON                      bool
	)
	tc, fs, err := newClient("dti "+args[0], args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&framework, "framework", "", "the DTI framework (default 922/QĐ-BTTTT)")
		fs.StringVar(&province, "province", "", "the province's code")
		fs.StringVar(&target, "target", "", "the target score (default: the 25th place of the last published year)")
		fs.BoolVar(&asJSON, "json", false, "print the answer as JSON")
	})
	if err != nil {
		return err
	}
	var out map[string]any
	switch args[0] {
	case "score":
		values, err := pairs(fs.Args())
		if err != nil {
			return err
		}
		if framework == "" {
			framework = "922/QĐ-BTTTT"
		}
		if err := tc.Do(ctx, "POST", "/api/v1/dti/score", map[string]any{"framework": framework, "values": values}, &out); err != nil {
			return err
		}
	case "show":
		if fs.NArg() != 1 {
			return errors.New("dti show: give the province's code")
		}
		if err := tc.Get(ctx, "/api/v1/dti/"+url.PathEscape(fs.Arg(0)), &out); err != nil {
			return err
		}
	case "what-if":
		changes, err := pairs(fs.Args())
		if err != nil {
			return err
		}
		body := map[string]any{"province": province, "changes": changes}
		if framework != "" {
			body["framework"] = framework
		}
		if target != "" {
			body["target"] = json.RawMessage(target)
		}
		if err := tc.Do(ctx, "POST", "/api/v1/dti/what-if", body, &out); err != nil {
			return err
		}
	}
	if asJSON || args[0] == "show" {
		return json.NewEncoder(stdout).Encode(out)
	}
	if args[0] == "score" {
		fmt.Fprintf(stdout, "%s: %v\n", out["framework"], out["total"])
		return nil
	}
	fmt.Fprintf(stdout, "now %v, with the plan %v, target %v (%v): ", out["base_total"], out["new_total"], out["target"], out["target_from"])
	if reached, _ := out["reached"].(bool); reached {
		fmt.Fprintln(stdout, "reached")
	} else {
		fmt.Fprintf(stdout, "short by %v\n", out["distance"])
	}
	return nil
}
