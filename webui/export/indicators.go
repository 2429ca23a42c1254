package export

import (
	"fmt"
	"io"

	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/projections"
	"github.com/xuri/excelize/v2"
)

// IndicatorWords are the texts of the indicators' workbook in one language, given by the
// pages' catalogue (the status words, the headings).
type IndicatorWords struct {
	Title, DTITitle, Sheet, DTISheet                                        string
	Pillar, Code, Name, Baseline, Target, Actual, Status, Source, Estimator string
	Evidence, Summary, Year, Framework, Total, Rank, Region, SelfAssessed   string
	Illustrative                                                            string
	Statuses, Pillars                                                       map[string]string
}

// Indicators writes the indicator report of a year (one sheet: the rows by pillar, the status
// written out, the targets met of the targets counted) and the DTI's years (a second sheet).
func Indicators(w io.Writer, h Heading, wd IndicatorWords, rep projections.IndicatorReport, hist projections.DTIHistory) error {
	base, err := language(h.Lang)
	if err != nil {
		return err
	}
	asOf, produced := headingLines(base, h)
	f := excelize.NewFile()
	defer f.Close()
	sheet := wd.Sheet
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}})
	if err != nil {
		return err
	}
	set := func(sh string, row int, values ...any) error {
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return f.SetSheetRow(sh, cell, &values)
	}
	num := func(n indicator.Number) any {
		if n.IsZero() {
			return nil
		}
		v, _ := n.Rat().Float64()
		return v
	}
	if err := set(sheet, 1, fmt.Sprintf("%s %d", wd.Title, rep.Year)); err != nil {
		return err
	}
	_ = f.SetCellStyle(sheet, "A1", "A1", bold)
	_ = set(sheet, 2, asOf)
	_ = set(sheet, 3, produced)
	_ = set(sheet, 4, fmt.Sprintf("%s: %d / %d", wd.Summary, rep.TargetsMet, rep.TargetsCounted))
	heads := []any{wd.Pillar, wd.Code, wd.Name, wd.Baseline, wd.Target, wd.Actual, wd.Status, wd.Source, wd.Estimator, wd.Evidence}
	if err := set(sheet, 6, heads...); err != nil {
		return err
	}
	_ = f.SetCellStyle(sheet, "A6", "J6", head)
	row := 7
	for _, r := range rep.Rows {
		est, ev := "", ""
		if r.ActualDetail != nil {
			est, ev = r.ActualDetail.Estimator, r.ActualDetail.Evidence
		}
		src := r.TargetSource
		if r.Illustrative {
			src += " " + wd.Illustrative
		}
		if err := set(sheet, row, wd.Pillars[r.Pillar], r.Code, r.Name, num(r.Baseline), num(r.Target), num(r.Actual),
			wd.Statuses[string(r.Status)], src, est, ev); err != nil {
			return err
		}
		row++
	}
	for i, wdt := range []float64{14, 16, 60, 10, 10, 10, 18, 36, 24, 40} {
		col, _ := excelize.ColumnNumberToName(i + 1)
		_ = f.SetColWidth(sheet, col, col, wdt)
	}
	_ = f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 6, TopLeftCell: "A7", ActivePane: "bottomLeft"})

	if len(hist.Years) > 0 {
		ds := wd.DTISheet
		if _, err := f.NewSheet(ds); err != nil {
			return err
		}
		_ = set(ds, 1, wd.DTITitle+" — "+hist.Province)
		_ = f.SetCellStyle(ds, "A1", "A1", bold)
		_ = set(ds, 2, asOf)
		_ = set(ds, 4, wd.Year, wd.Framework, wd.Total, wd.Rank, wd.Region, wd.SelfAssessed)
		_ = f.SetCellStyle(ds, "A4", "F4", head)
		row := 5
		for _, y := range hist.Years {
			var fw, total, rank, region, self any
			if p := y.Published; p != nil {
				fw, total = p.Framework, p.Total.String()
				if p.Rank > 0 {
					rank = fmt.Sprintf("%d/%d", p.Rank, p.Of)
				}
				if p.RegionRank > 0 {
					region = fmt.Sprintf("%d/%d", p.RegionRank, p.RegionOf)
				}
				if p.Illustrative {
					total = p.Total.String() + " " + wd.Illustrative
				}
			}
			if s := y.SelfAssessment; s != nil {
				self = s.Total.String()
			}
			_ = set(ds, row, y.Year, fw, total, rank, region, self)
			row++
		}
		for i, wdt := range []float64{8, 18, 18, 10, 12, 14} {
			col, _ := excelize.ColumnNumberToName(i + 1)
			_ = f.SetColWidth(ds, col, col, wdt)
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}
