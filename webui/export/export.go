// Package export writes the steering committee's reports as Excel workbooks (.xlsx): one sheet
// per grouping, with a title, the moment the figures describe, a frozen header, the rows, a
// subtotal per parent group and the report's total.
//
// It formats report values that projections already computed; it queries nothing. Cells hold
// numbers, not text: money is whole đồng shown through a number format, so officials can add
// and filter in Excel.
package export

import (
	"io"
	"math"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/projections"
)

// Heading says what the workbook describes.
type Heading struct {
	Lang     string         // "vi" (default) or "en"
	AsOf     civil.Date     // zero: today (write the date that Today holds then)
	Today    civil.Date     // the day the report was produced for when AsOf is zero
	KnownAt  time.Time      // zero: everything recorded
	Produced time.Time      // when the file was made
	Location *time.Location // for printing Produced/KnownAt (Asia/Ho_Chi_Minh in production); nil: UTC+7
	// SetAsideEvents is how many stored events the figures leave out because the projections
	// could not apply them (projections' set_aside_events): the heading says so when above 0.
	SetAsideEvents int64
}

// Group is one grouping of a report: one sheet.
type Group[R any] struct {
	By     string // unit, unit_kind, pillar, sector, source, year
	Report R
	Labels map[string]string // key → display name (unit code → unit name, pillar code → Vietnamese name...); missing keys show the key; also names the Parent groups
	Parent map[string]string // optional, for By == "unit": key → parent group (unit kind: "department"/"locality"/...), rows grouped under it with a subtotal per parent
}

// FundingGaps writes the funding-gaps report, one sheet per group.
func FundingGaps(w io.Writer, h Heading, groups []Group[projections.FundingGapReport]) error {
	return write(w, h, groups, fundingGaps, func(r projections.FundingGapReport) ([]projections.FundingGapRow, projections.FundingGapRow) {
		return r.Rows, r.Total
	})
}

// ModelCounts writes the model-counts report, one sheet per group.
func ModelCounts(w io.Writer, h Heading, groups []Group[projections.ModelCountReport]) error {
	return write(w, h, groups, modelCounts, func(r projections.ModelCountReport) ([]projections.ModelCountRow, projections.ModelCountRow) {
		return r.Rows, projections.ModelCountRow{Key: "total", Registrations: r.Total.Registrations, DistinctModels: r.Total.DistinctModels}
	})
}

// Completion writes the completion report, one sheet per group.
func Completion(w io.Writer, h Heading, groups []Group[projections.CompletionReport]) error {
	return write(w, h, groups, completion, func(r projections.CompletionReport) ([]projections.CompletionRow, projections.CompletionRow) {
		return r.Rows, r.Total
	})
}

var fundingGaps = report[projections.FundingGapRow]{
	title: func(w *words) string { return w.fundingGaps },
	key:   func(r projections.FundingGapRow) string { return r.Key },
	columns: []column[projections.FundingGapRow]{
		// Grouped by source or year a row has no estimate and no gap: the cells stay empty.
		{head: func(w *words) string { return w.estimated }, kind: money, value: func(r projections.FundingGapRow) any { return optional(r.Estimated) }},
		{head: func(w *words) string { return w.requested }, kind: money, value: func(r projections.FundingGapRow) any { return r.Requested }},
		{head: func(w *words) string { return w.approved }, kind: money, value: func(r projections.FundingGapRow) any { return r.Approved }},
		{head: func(w *words) string { return w.disbursed }, kind: money, value: func(r projections.FundingGapRow) any { return r.Disbursed }},
		{head: func(w *words) string { return w.gap }, kind: money, value: func(r projections.FundingGapRow) any { return optional(r.Gap) }},
		{head: func(w *words) string { return w.itemsWithGap }, kind: count, value: func(r projections.FundingGapRow) any { return optional(r.ItemsWithGap) }},
	},
	sum: func(key string, rows []projections.FundingGapRow) projections.FundingGapRow {
		s := projections.FundingGapRow{Key: key}
		for _, r := range rows {
			s.Estimated = addOptional(s.Estimated, r.Estimated)
			s.Requested += r.Requested
			s.Approved += r.Approved
			s.Disbursed += r.Disbursed
			s.Gap = addOptional(s.Gap, r.Gap)
			s.ItemsWithGap = addOptional(s.ItemsWithGap, r.ItemsWithGap)
		}
		return s
	},
}

var modelCounts = report[projections.ModelCountRow]{
	title: func(w *words) string { return w.modelCounts },
	key:   func(r projections.ModelCountRow) string { return r.Key },
	columns: []column[projections.ModelCountRow]{
		{head: func(w *words) string { return w.registrations }, kind: count, value: func(r projections.ModelCountRow) any { return r.Registrations }},
		{head: func(w *words) string { return w.distinctModels }, kind: count, value: func(r projections.ModelCountRow) any { return r.DistinctModels }},
	},
	sum: func(key string, rows []projections.ModelCountRow) projections.ModelCountRow {
		s := projections.ModelCountRow{Key: key}
		for _, r := range rows {
			s.Registrations += r.Registrations
			s.DistinctModels += r.DistinctModels
		}
		return s
	},
}

var completion = report[projections.CompletionRow]{
	title: func(w *words) string { return w.completion },
	key:   func(r projections.CompletionRow) string { return r.Key },
	columns: []column[projections.CompletionRow]{
		{head: func(w *words) string { return w.proposed }, kind: count, value: func(r projections.CompletionRow) any { return r.Proposed }},
		{head: func(w *words) string { return w.funded }, kind: count, value: func(r projections.CompletionRow) any { return r.Funded }},
		{head: func(w *words) string { return w.implemented }, kind: count, value: func(r projections.CompletionRow) any { return r.Implemented }},
		{head: func(w *words) string { return w.evaluated }, kind: count, value: func(r projections.CompletionRow) any { return r.Evaluated }},
		{head: func(w *words) string { return w.suspended }, kind: count, value: func(r projections.CompletionRow) any { return r.Suspended }},
		{head: func(w *words) string { return w.cancelled }, kind: count, value: func(r projections.CompletionRow) any { return r.Cancelled }},
		{head: func(w *words) string { return w.overdue }, kind: count, value: func(r projections.CompletionRow) any { return r.Overdue }},
		{head: func(w *words) string { return w.avg }, kind: percent, value: func(r projections.CompletionRow) any { return r.AverageProgress }},
	},
	sum: sumCompletion,
}

// sumCompletion adds the counts of rows. Their average progress is weighted by their items
// that are not cancelled (every item is in exactly one stage; cancelled ones are left out of
// the average). The rows' averages are already rounded to one decimal,
// so the parent's average can differ from the exact one by at most 0.05 — below what the
// format shows.
func sumCompletion(key string, rows []projections.CompletionRow) projections.CompletionRow {
	s := projections.CompletionRow{Key: key}
	var items int64
	var weighted float64
	for _, r := range rows {
		s.Proposed += r.Proposed
		s.Funded += r.Funded
		s.Implemented += r.Implemented
		s.Evaluated += r.Evaluated
		s.Suspended += r.Suspended
		s.Cancelled += r.Cancelled
		s.Overdue += r.Overdue
		n := r.Proposed + r.Funded + r.Implemented + r.Evaluated + r.Suspended
		items += n
		weighted += r.AverageProgress * float64(n)
	}
	if items > 0 {
		s.AverageProgress = math.Round(weighted/float64(items)*10) / 10
	}
	return s
}

// optional is the amount, or nil (an empty cell) when there is none.
func optional(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// addOptional adds v to sum; a sum stays nil until some row has an amount.
func addOptional(sum, v *int64) *int64 {
	if v == nil {
		return sum
	}
	if sum == nil {
		sum = new(int64)
	}
	*sum += *v
	return sum
}
