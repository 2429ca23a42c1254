package webui

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/webui/export"
)

// reportGroupings are the groupings each report is exported with: one sheet each.
var reportGroupings = map[string][]string{
	"funding-gaps": {"unit", "pillar", "sector", "source", "year"},
	"model-counts": {"unit", "unit_kind", "pillar", "sector"},
	"completion":   {"unit", "unit_kind", "pillar", "sector"},
}

// export sends a report as an Excel workbook: a sheet per grouping, units under their kind
// with subtotals, as of the day and as known at the moment the dashboard shows.
func (s *server) export(w http.ResponseWriter, r *http.Request, rq *request) {
	name := r.PathValue("report")
	if len(name) > 5 && name[len(name)-5:] == ".xlsx" {
		name = name[:len(name)-5]
	}
	bys, ok := reportGroupings[name]
	if !ok {
		s.fail(w, r, rq, http.StatusNotFound, "err.notfound")
		return
	}
	m, ok := s.readMoment(r)
	if !ok {
		s.fail(w, r, rq, http.StatusBadRequest, "err.badquery")
		return
	}
	ctx := r.Context()
	n, ok := s.names(w, r, rq)
	if !ok {
		return
	}
	h := export.Heading{Lang: rq.lang, AsOf: m.Query.AsOf, Today: m.Today, KnownAt: m.Query.KnownAt, Produced: s.Now(), Location: s.Location}
	// Labels name every key of every grouping, and the unit kinds the units sit under.
	labels := func(keys []string, by string) map[string]string {
		out := map[string]string{}
		for _, k := range keys {
			out[k] = n.of(by, k)
		}
		for _, k := range []string{"province", "department", "district", "commune"} {
			out[k] = n.of("unit_kind", k)
		}
		return out
	}
	parents := func(by string, keys []string) map[string]string {
		if by != "unit" {
			return nil
		}
		out := map[string]string{}
		for _, k := range keys {
			if u, ok := n.units.Lookup(k); ok {
				out[k] = string(u.Kind)
			}
		}
		return out
	}
	var (
		buf bytes.Buffer
		err error
	)
	switch name {
	case "funding-gaps":
		err = exportGroups(bys, func(by string) (projections.FundingGapReport, error) {
			rep, err := s.Reports.FundingGaps(ctx, by, m.Query)
			h.SetAsideEvents = max(h.SetAsideEvents, rep.SetAsideEvents)
			return rep, err
		},
			func(r projections.FundingGapReport) []string {
				return keysOf(r.Rows, func(x projections.FundingGapRow) string { return x.Key })
			},
			labels, parents, func(g []export.Group[projections.FundingGapReport]) error { return export.FundingGaps(&buf, h, g) })
	case "model-counts":
		err = exportGroups(bys, func(by string) (projections.ModelCountReport, error) {
			rep, err := s.Reports.ModelCounts(ctx, by, m.Query)
			h.SetAsideEvents = max(h.SetAsideEvents, rep.SetAsideEvents)
			return rep, err
		},
			func(r projections.ModelCountReport) []string {
				return keysOf(r.Rows, func(x projections.ModelCountRow) string { return x.Key })
			},
			labels, parents, func(g []export.Group[projections.ModelCountReport]) error { return export.ModelCounts(&buf, h, g) })
	case "completion":
		err = exportGroups(bys, func(by string) (projections.CompletionReport, error) {
			rep, err := s.Reports.Completion(ctx, "", by, m.Query)
			h.SetAsideEvents = max(h.SetAsideEvents, rep.SetAsideEvents)
			return rep, err
		},
			func(r projections.CompletionReport) []string {
				return keysOf(r.Rows, func(x projections.CompletionRow) string { return x.Key })
			},
			labels, parents, func(g []export.Group[projections.CompletionReport]) error { return export.Completion(&buf, h, g) })
	}
	if err != nil {
		s.failErr(w, r, rq, err)
		return
	}
	day := m.Day().String()
	file := name + "-" + day + ".xlsx"
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"; filename*=UTF-8''`+url.PathEscape(file))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// exportGroups runs one report per grouping and hands the sheets to write.
func exportGroups[R any](bys []string, run func(by string) (R, error), keys func(R) []string,
	labels func([]string, string) map[string]string, parents func(string, []string) map[string]string,
	write func([]export.Group[R]) error) error {
	groups := make([]export.Group[R], 0, len(bys))
	for _, by := range bys {
		rep, err := run(by)
		if err != nil {
			return err
		}
		k := keys(rep)
		groups = append(groups, export.Group[R]{By: by, Report: rep, Labels: labels(k, by), Parent: parents(by, k)})
	}
	return write(groups)
}

func keysOf[T any](rows []T, key func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = key(r)
	}
	return out
}
