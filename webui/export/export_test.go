package export_test

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/webui/export"
	"github.com/xuri/excelize/v2"
)

const (
	soNN      = "Sở Nông nghiệp và Phát triển nông thôn"
	moneyVI   = `#,##0 "đ"`
	moneyEN   = `#,##0 "VND"`
	percentFm = `0.0"%"`
)

var (
	// 22/11/2026 14:05 in Vietnam.
	produced = time.Date(2026, 11, 22, 7, 5, 0, 0, time.UTC)
	// 02/01/2023 09:00 in Vietnam.
	knownAt = time.Date(2023, 1, 2, 2, 0, 0, 0, time.UTC)
	vn      = time.FixedZone("ICT", 7*60*60)

	unitLabels = map[string]string{
		"so_nn":      soNN,
		"so_tttt":    "Sở Thông tin và Truyền thông",
		"h_caolanh":  "Huyện Cao Lãnh",
		"tp_sadec":   "Thành phố Sa Đéc",
		"department": "Sở, ban, ngành",
		"locality":   "Huyện, thành phố",
	}
	// "x_new" has no parent and no label: it goes under "Khác" and shows its code.
	unitParents = map[string]string{
		"so_nn": "department", "so_tttt": "department", "h_caolanh": "locality", "tp_sadec": "locality",
	}
)

func ptr(v int64) *int64 { return &v }

func fundingByUnit() projections.FundingGapReport {
	rows := []projections.FundingGapRow{
		{Key: "h_caolanh", Estimated: ptr(2_500_000_000), Requested: 2_000_000_000, Approved: 1_500_000_000, Disbursed: 700_000_000, Gap: ptr(1_000_000_000), ItemsWithGap: ptr(1)},
		{Key: "so_nn", Estimated: ptr(8_000_000_000), Requested: 6_000_000_000, Approved: 5_000_000_000, Disbursed: 3_250_000_000, Gap: ptr(3_000_000_000), ItemsWithGap: ptr(2)},
		{Key: "so_tttt", Estimated: ptr(12_000_000_000), Requested: 12_000_000_000, Approved: 12_000_000_000, Disbursed: 9_000_000_000, Gap: ptr(0), ItemsWithGap: ptr(0)},
		{Key: "tp_sadec", Estimated: ptr(1_200_000_000), Requested: 900_000_000, Approved: 400_000_000, Disbursed: 0, Gap: ptr(800_000_000), ItemsWithGap: ptr(3)},
		{Key: "x_new", Estimated: ptr(300_000_000), Requested: 0, Approved: 0, Disbursed: 0, Gap: ptr(300_000_000), ItemsWithGap: ptr(1)},
	}
	total := projections.FundingGapRow{Key: "total", Estimated: new(int64), Gap: new(int64), ItemsWithGap: new(int64)}
	for _, r := range rows {
		*total.Estimated += *r.Estimated
		total.Requested += r.Requested
		total.Approved += r.Approved
		total.Disbursed += r.Disbursed
		*total.Gap += *r.Gap
		*total.ItemsWithGap += *r.ItemsWithGap
	}
	return projections.FundingGapReport{Rows: rows, Total: total}
}

// fundingBySource has rows without an estimate or a gap, as projections returns them; the
// total carries both.
func fundingBySource() projections.FundingGapReport {
	return projections.FundingGapReport{
		Rows: []projections.FundingGapRow{
			{Key: "central_budget", Requested: 10_000_000_000, Approved: 9_000_000_000, Disbursed: 7_000_000_000},
			{Key: "provincial_budget", Requested: 10_900_000_000, Approved: 9_900_000_000, Disbursed: 5_950_000_000},
		},
		Total: fundingByUnit().Total,
	}
}

func fundingByYear() projections.FundingGapReport {
	return projections.FundingGapReport{
		Rows: []projections.FundingGapRow{
			{Key: "2022", Requested: 15_000_000_000, Approved: 14_000_000_000, Disbursed: 10_000_000_000},
			{Key: "2023", Requested: 5_900_000_000, Approved: 4_900_000_000, Disbursed: 2_950_000_000},
		},
		Total: fundingByUnit().Total,
	}
}

func fundingCells(r projections.FundingGapRow) []any {
	opt := func(v *int64) any {
		if v == nil {
			return nil
		}
		return *v
	}
	return []any{opt(r.Estimated), r.Requested, r.Approved, r.Disbursed, opt(r.Gap), opt(r.ItemsWithGap)}
}

func TestFundingGapsVietnamese(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := export.Heading{AsOf: civil.Date{Year: 2022, Month: 12, Day: 31}, KnownAt: knownAt, Produced: produced, Location: vn}
	byUnit := fundingByUnit()
	err := export.FundingGaps(&buf, h, []export.Group[projections.FundingGapReport]{
		{By: "unit", Report: byUnit, Labels: unitLabels, Parent: unitParents},
		{By: "source", Report: fundingBySource(), Labels: map[string]string{"central_budget": "Ngân sách trung ương"}},
		{By: "year", Report: fundingByYear()},
	})
	if err != nil {
		t.Fatalf("FundingGaps: %v", err)
	}
	f := open(t, &buf)

	if got, want := f.GetSheetList(), []string{"Theo đơn vị", "Theo nguồn vốn", "Theo năm"}; !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	const sheet = "Theo đơn vị"
	checkHeading(t, f, sheet, "Khoảng trống kinh phí chuyển đổi số — theo đơn vị",
		"Số liệu tính đến ngày 31/12/2022, theo số liệu đã ghi nhận lúc 02/01/2023 09:00",
		"Lập lúc 22/11/2026 14:05")
	checkHeader(t, f, sheet, []string{"Đơn vị", "Mã", "Kinh phí dự kiến", "Đề nghị bố trí vốn", "Đã phê duyệt",
		"Đã giải ngân", "Kinh phí còn thiếu", "Số dự án, mô hình còn thiếu vốn"})

	rows := sheetRows(t, f, sheet)
	for _, r := range byUnit.Rows {
		name := unitLabels[r.Key]
		if name == "" {
			name = r.Key
		}
		i := findRow(t, rows, r.Key)
		checkCells(t, f, sheet, i, name, r.Key, fundingCells(r), moneyVI)
	}
	// The title of a department reads back byte for byte, diacritics and all.
	if got := cell(t, f, sheet, 1, findRow(t, rows, "so_nn")+1); !bytes.Equal([]byte(got), []byte(soNN)) {
		t.Errorf("name % x, want % x", got, soNN)
	}

	// Each parent's row holds the sums of its rows, which follow it.
	wantOrder := map[string][]string{"department": {"so_nn", "so_tttt"}, "locality": {"h_caolanh", "tp_sadec"}, "": {"x_new"}}
	parentNames := map[string]string{"department": "Sở, ban, ngành", "locality": "Huyện, thành phố", "": "Khác"}
	for parent, children := range wantOrder {
		var i int
		if parent == "" { // "Khác" has no code: find it by name
			i = findName(t, rows, "Khác")
		} else {
			i = findRow(t, rows, parent)
		}
		var sum projections.FundingGapRow
		sum.Estimated, sum.Gap, sum.ItemsWithGap = new(int64), new(int64), new(int64)
		for j, key := range children {
			if got := rows[i+1+j][1]; got != key {
				t.Errorf("row %d under %q: code %q, want %q", i+j+2, parent, got, key)
			}
			r := rowByKey(byUnit.Rows, key)
			*sum.Estimated += *r.Estimated
			sum.Requested += r.Requested
			sum.Approved += r.Approved
			sum.Disbursed += r.Disbursed
			*sum.Gap += *r.Gap
			*sum.ItemsWithGap += *r.ItemsWithGap
		}
		checkCells(t, f, sheet, i, parentNames[parent], parent, fundingCells(sum), moneyVI)
		checkBold(t, f, sheet, "A", i+1)
	}

	total := findName(t, rows, "Tổng cộng")
	if total != len(rows)-1 {
		t.Errorf("total on row %d, want the last row %d", total+1, len(rows))
	}
	checkCells(t, f, sheet, total, "Tổng cộng", "", fundingCells(byUnit.Total), moneyVI)
	checkBold(t, f, sheet, "C", total+1)

	// By source: no estimate or gap on the rows, both on the total.
	const bySource = "Theo nguồn vốn"
	checkHeading(t, f, bySource, "Khoảng trống kinh phí chuyển đổi số — theo nguồn vốn", "31/12/2022", "Lập lúc")
	rows = sheetRows(t, f, bySource)
	checkCells(t, f, bySource, findRow(t, rows, "central_budget"), "Ngân sách trung ương", "central_budget",
		fundingCells(fundingBySource().Rows[0]), moneyVI)
	checkCells(t, f, bySource, findRow(t, rows, "provincial_budget"), "provincial_budget", "provincial_budget",
		fundingCells(fundingBySource().Rows[1]), moneyVI)
	checkCells(t, f, bySource, findName(t, rows, "Tổng cộng"), "Tổng cộng", "", fundingCells(byUnit.Total), moneyVI)

	rows = sheetRows(t, f, "Theo năm")
	for _, r := range fundingByYear().Rows {
		checkCells(t, f, "Theo năm", findRow(t, rows, r.Key), r.Key, r.Key, fundingCells(r), moneyVI)
	}

	for _, s := range f.GetSheetList() {
		checkFrozen(t, f, s)
	}
}

func completionReport() projections.CompletionReport {
	rows := []projections.CompletionRow{
		{Key: "h_caolanh", Proposed: 2, Funded: 3, Implemented: 1, Evaluated: 0, Suspended: 0, Cancelled: 0, Overdue: 1, AverageProgress: 40.0},
		{Key: "so_nn", Proposed: 1, Funded: 2, Implemented: 4, Evaluated: 1, Suspended: 1, Cancelled: 1, Overdue: 2, AverageProgress: 72.5},
		{Key: "so_tttt", Proposed: 0, Funded: 1, Implemented: 2, Evaluated: 2, Suspended: 0, Cancelled: 0, Overdue: 0, AverageProgress: 91.2},
		{Key: "tp_sadec", Proposed: 4, Funded: 0, Implemented: 0, Evaluated: 0, Suspended: 1, Cancelled: 0, Overdue: 3, AverageProgress: 6.0},
	}
	return projections.CompletionReport{Rows: rows, Total: projections.CompletionRow{
		Key: "total", Proposed: 7, Funded: 6, Implemented: 7, Evaluated: 3, Suspended: 2, Cancelled: 1, Overdue: 6, AverageProgress: 54.3,
	}}
}

func completionCells(r projections.CompletionRow) []any {
	return []any{r.Proposed, r.Funded, r.Implemented, r.Evaluated, r.Suspended, r.Cancelled, r.Overdue, r.AverageProgress}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	report := completionReport()
	pillars := projections.CompletionReport{
		Rows: []projections.CompletionRow{
			{Key: "economy", Proposed: 3, Funded: 2, Implemented: 3, Evaluated: 1, Overdue: 2, AverageProgress: 50.0},
			{Key: "government", Proposed: 4, Funded: 4, Implemented: 4, Evaluated: 2, Suspended: 2, Cancelled: 1, Overdue: 4, AverageProgress: 57.1},
		},
		Total: report.Total,
	}
	h := export.Heading{Today: civil.Date{Year: 2026, Month: 11, Day: 22}, Produced: produced, Location: vn}
	err := export.Completion(&buf, h, []export.Group[projections.CompletionReport]{
		{By: "unit", Report: report, Labels: unitLabels, Parent: unitParents},
		{By: "pillar", Report: pillars, Labels: map[string]string{"economy": "Kinh tế số", "government": "Chính quyền số"}},
	})
	if err != nil {
		t.Fatalf("Completion: %v", err)
	}
	f := open(t, &buf)
	if got, want := f.GetSheetList(), []string{"Theo đơn vị", "Theo trụ cột"}; !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	const sheet = "Theo đơn vị"
	// No AsOf: the day is Today; no KnownAt: nothing about recording.
	checkHeading(t, f, sheet, "Tiến độ thực hiện dự án, mô hình chuyển đổi số — theo đơn vị",
		"Số liệu tính đến ngày 22/11/2026", "Lập lúc 22/11/2026 14:05")
	if got := cell(t, f, sheet, 1, 2); strings.Contains(got, "ghi nhận") {
		t.Errorf("as-of line %q mentions recording without KnownAt", got)
	}
	checkHeader(t, f, sheet, []string{"Đơn vị", "Mã", "Đề xuất", "Đã bố trí vốn", "Đã triển khai xong", "Đã đánh giá",
		"Tạm dừng", "Hủy bỏ", "Quá hạn", "Tiến độ bình quân"})
	checkFrozen(t, f, sheet)

	rows := sheetRows(t, f, sheet)
	for _, r := range report.Rows {
		checkCells(t, f, sheet, findRow(t, rows, r.Key), unitLabels[r.Key], r.Key, completionCells(r), "")
	}
	// Departments: so_nn has 9 items not cancelled at 72.5 (its cancelled one is no part of
	// the average), so_tttt 5 at 91.2: (652.5 + 456) / 14 = 79.18 → 79.2.
	checkCells(t, f, sheet, findRow(t, rows, "department"), "Sở, ban, ngành", "department",
		[]any{int64(1), int64(3), int64(6), int64(3), int64(1), int64(1), int64(2), 79.2}, "")
	// Localities: h_caolanh 6 items at 40, tp_sadec 5 at 6: (240 + 30) / 11 = 24.54 → 24.5.
	checkCells(t, f, sheet, findRow(t, rows, "locality"), "Huyện, thành phố", "locality",
		[]any{int64(6), int64(3), int64(1), int64(0), int64(1), int64(0), int64(4), 24.5}, "")
	total := findName(t, rows, "Tổng cộng")
	checkCells(t, f, sheet, total, "Tổng cộng", "", completionCells(report.Total), "")

	// Progress is a number with one decimal and a percent sign, not multiplied by 100.
	progress := "J" + strconv.Itoa(total+1)
	checkFormat(t, f, sheet, progress, percentFm)
	if got, err := f.GetCellValue(sheet, progress); err != nil || got != "54.3%" {
		t.Errorf("%s shows %q (%v), want 54.3%%", progress, got, err)
	}
	checkFormat(t, f, sheet, "C"+strconv.Itoa(total+1), "#,##0")

	rows = sheetRows(t, f, "Theo trụ cột")
	checkCells(t, f, "Theo trụ cột", findRow(t, rows, "government"), "Chính quyền số", "government", completionCells(pillars.Rows[1]), "")
}

func TestModelCountsEnglish(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	report := projections.ModelCountReport{Rows: []projections.ModelCountRow{
		{Key: "h_caolanh", Registrations: 4, DistinctModels: 3},
		{Key: "so_nn", Registrations: 7, DistinctModels: 5},
		{Key: "so_tttt", Registrations: 9, DistinctModels: 9},
	}}
	report.Total.Registrations, report.Total.DistinctModels = 20, 17
	h := export.Heading{
		Lang: "en", AsOf: civil.Date{Year: 2022, Month: 12, Day: 31}, KnownAt: knownAt, Produced: produced, Location: vn,
	}
	err := export.ModelCounts(&buf, h, []export.Group[projections.ModelCountReport]{
		{By: "unit", Report: report, Labels: unitLabels, Parent: unitParents},
		{By: "sector", Report: projections.ModelCountReport{Rows: []projections.ModelCountRow{{Key: "agriculture", Registrations: 20, DistinctModels: 17}}, Total: report.Total}},
	})
	if err != nil {
		t.Fatalf("ModelCounts: %v", err)
	}
	f := open(t, &buf)
	if got, want := f.GetSheetList(), []string{"By unit", "By sector"}; !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	const sheet = "By unit"
	checkHeading(t, f, sheet, "Digital-transformation model registrations — by unit",
		"Figures as of 31/12/2022, as recorded at 02/01/2023 09:00", "Produced 22/11/2026 14:05")
	checkHeader(t, f, sheet, []string{"Unit", "Code", "Registrations", "Distinct models"})
	checkFrozen(t, f, sheet)
	rows := sheetRows(t, f, sheet)
	for _, r := range report.Rows {
		checkCells(t, f, sheet, findRow(t, rows, r.Key), unitLabels[r.Key], r.Key, []any{r.Registrations, r.DistinctModels}, "")
	}
	checkCells(t, f, sheet, findRow(t, rows, "department"), "Sở, ban, ngành", "department", []any{int64(16), int64(14)}, "")
	checkCells(t, f, sheet, findRow(t, rows, "locality"), "Huyện, thành phố", "locality", []any{int64(4), int64(3)}, "")
	checkCells(t, f, sheet, findName(t, rows, "Total"), "Total", "", []any{int64(20), int64(17)}, "")
	checkHeader(t, f, "By sector", []string{"Sector", "Code", "Registrations", "Distinct models"})
}

func TestFundingGapsEnglishMoneyFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := export.Heading{Lang: "en", AsOf: civil.Date{Year: 2022, Month: 12, Day: 31}, Produced: produced}
	if err := export.FundingGaps(&buf, h, []export.Group[projections.FundingGapReport]{{By: "pillar", Report: fundingByUnit()}}); err != nil {
		t.Fatalf("FundingGaps: %v", err)
	}
	f := open(t, &buf)
	rows := sheetRows(t, f, "By pillar")
	checkCells(t, f, "By pillar", findRow(t, rows, "so_nn"), "so_nn", "so_nn", fundingCells(fundingByUnit().Rows[1]), moneyEN)
	// No Location: Vietnamese time all the same.
	checkHeading(t, f, "By pillar", "Digital-transformation funding gaps — by pillar", "Figures as of 31/12/2022", "Produced 22/11/2026 14:05")
}

func TestAsOfDefaultsToProducedDay(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	// 23:30 UTC on 21/11 is already 22/11 in Vietnam.
	h := export.Heading{Produced: time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC)}
	if err := export.ModelCounts(&buf, h, []export.Group[projections.ModelCountReport]{{By: "pillar"}}); err != nil {
		t.Fatalf("ModelCounts: %v", err)
	}
	f := open(t, &buf)
	checkHeading(t, f, "Theo trụ cột", "Đăng ký mô hình chuyển đổi số — theo trụ cột",
		"Số liệu tính đến ngày 22/11/2026", "Lập lúc 22/11/2026 06:30")
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	ok := export.Heading{Produced: produced}
	tests := []struct {
		name   string
		h      export.Heading
		groups []export.Group[projections.ModelCountReport]
		want   string
	}{
		{"no groups", ok, nil, "no groups"},
		{"unknown grouping", ok, []export.Group[projections.ModelCountReport]{{By: "province"}}, `group by "province"`},
		{"grouping twice", ok, []export.Group[projections.ModelCountReport]{{By: "unit"}, {By: "unit"}}, "twice"},
		{"unknown language", export.Heading{Lang: "fr", Produced: produced}, []export.Group[projections.ModelCountReport]{{By: "unit"}}, `language "fr"`},
		{"no production time", export.Heading{}, []export.Group[projections.ModelCountReport]{{By: "unit"}}, "produced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := export.ModelCounts(&buf, tt.h, tt.groups)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one about %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes on error", buf.Len())
			}
		})
	}
}

// open reads a workbook back, as Excel would, without recalculating anything.
func open(t *testing.T, buf *bytes.Buffer) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(buf)
	if err != nil {
		t.Fatalf("open the workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// sheetRows returns the raw cell values of a sheet; rows[i] is row i+1.
func sheetRows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("rows of %q: %v", sheet, err)
	}
	return rows
}

// findRow returns the 0-based index in rows of the data row whose code is key.
func findRow(t *testing.T, rows [][]string, key string) int {
	t.Helper()
	for i, r := range rows {
		if i >= 4 && len(r) > 1 && r[1] == key {
			return i
		}
	}
	t.Fatalf("no row with code %q", key)
	return 0
}

func findName(t *testing.T, rows [][]string, name string) int {
	t.Helper()
	for i, r := range rows {
		if i >= 4 && len(r) > 0 && r[0] == name {
			return i
		}
	}
	t.Fatalf("no row named %q", name)
	return 0
}

func rowByKey(rows []projections.FundingGapRow, key string) projections.FundingGapRow {
	for _, r := range rows {
		if r.Key == key {
			return r
		}
	}
	return projections.FundingGapRow{}
}

func cell(t *testing.T, f *excelize.File, sheet string, col, row int) string {
	t.Helper()
	ref, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, ref, err)
	}
	return v
}

func checkHeading(t *testing.T, f *excelize.File, sheet, title, asOf, produced string) {
	t.Helper()
	if got := cell(t, f, sheet, 1, 1); got != title {
		t.Errorf("%s title %q, want %q", sheet, got, title)
	}
	if got := cell(t, f, sheet, 1, 2); !strings.Contains(got, asOf) {
		t.Errorf("%s as-of line %q, want it to contain %q", sheet, got, asOf)
	}
	if got := cell(t, f, sheet, 1, 3); !strings.Contains(got, produced) {
		t.Errorf("%s produced line %q, want it to contain %q", sheet, got, produced)
	}
}

func checkHeader(t *testing.T, f *excelize.File, sheet string, want []string) {
	t.Helper()
	rows := sheetRows(t, f, sheet)
	if got := rows[3]; !slices.Equal(got, want) {
		t.Errorf("%s header %q, want %q", sheet, got, want)
	}
	for i := range want {
		col, _ := excelize.ColumnNumberToName(i + 1)
		checkBold(t, f, sheet, col, 4)
	}
}

func checkFrozen(t *testing.T, f *excelize.File, sheet string) {
	t.Helper()
	p, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatalf("panes of %s: %v", sheet, err)
	}
	if !p.Freeze || p.YSplit != 4 || p.XSplit != 0 || p.TopLeftCell != "A5" {
		t.Errorf("%s panes %+v, want frozen below row 4 (ySplit 4, top left A5)", sheet, p)
	}
}

func checkBold(t *testing.T, f *excelize.File, sheet, col string, row int) {
	t.Helper()
	s := style(t, f, sheet, col+strconv.Itoa(row))
	if s.Font == nil || !s.Font.Bold {
		t.Errorf("%s!%s%d is not bold", sheet, col, row)
	}
}

func style(t *testing.T, f *excelize.File, sheet, ref string) *excelize.Style {
	t.Helper()
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		t.Fatalf("style of %s!%s: %v", sheet, ref, err)
	}
	s, err := f.GetStyle(id)
	if err != nil {
		t.Fatalf("style %d: %v", id, err)
	}
	return s
}

func checkFormat(t *testing.T, f *excelize.File, sheet, ref, want string) {
	t.Helper()
	if s := style(t, f, sheet, ref); s.CustomNumFmt == nil || *s.CustomNumFmt != want {
		got := "none"
		if s.CustomNumFmt != nil {
			got = *s.CustomNumFmt
		}
		t.Errorf("%s!%s number format %q, want %q", sheet, ref, got, want)
	}
}

// checkCells compares the row at index i (row i+1) with a name, a code and values: int64 and
// float64 must be stored as numbers, nil as an empty cell. Money columns, those that want an
// int64 and whose format is moneyFormat when that is set, are checked for the VND format:
// in a funding-gap row, every column but the last.
func checkCells(t *testing.T, f *excelize.File, sheet string, i int, name, code string, want []any, moneyFormat string) {
	t.Helper()
	row := i + 1
	if got := cell(t, f, sheet, 1, row); got != name {
		t.Errorf("%s row %d name %q, want %q", sheet, row, got, name)
	}
	if got := cell(t, f, sheet, 2, row); got != code {
		t.Errorf("%s row %d code %q, want %q", sheet, row, got, code)
	}
	for j, w := range want {
		ref, _ := excelize.CoordinatesToCellName(j+3, row)
		raw := cell(t, f, sheet, j+3, row)
		if w == nil {
			if raw != "" {
				t.Errorf("%s!%s = %q, want empty", sheet, ref, raw)
			}
			continue
		}
		typ, err := f.GetCellType(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s!%s has type %v, want a number", sheet, ref, typ)
		}
		switch w := w.(type) {
		case int64:
			if got, err := strconv.ParseInt(raw, 10, 64); err != nil || got != w {
				t.Errorf("%s!%s = %q, want %d", sheet, ref, raw, w)
			}
			if moneyFormat != "" && j < len(want)-1 {
				checkFormat(t, f, sheet, ref, moneyFormat)
			}
		case float64:
			if got, err := strconv.ParseFloat(raw, 64); err != nil || got != w {
				t.Errorf("%s!%s = %q, want %v", sheet, ref, raw, w)
			}
		}
	}
}

// A workbook whose figures leave out set-aside events says so in its heading, with the count.
func TestHeadingSaysWhatIsSetAside(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lang, want string
	}{{"vi", "CHÚ Ý: số liệu chưa tính 3 sự kiện"}, {"en", "NOTE: the figures leave out 3 recorded events"}} {
		var buf bytes.Buffer
		h := export.Heading{Lang: c.lang, AsOf: civil.Date{Year: 2022, Month: 12, Day: 31}, Produced: produced, Location: vn, SetAsideEvents: 3}
		if err := export.ModelCounts(&buf, h, []export.Group[projections.ModelCountReport]{{By: "pillar", Report: projections.ModelCountReport{}}}); err != nil {
			t.Fatal(err)
		}
		f := open(t, &buf)
		line, err := f.GetCellValue(f.GetSheetList()[0], "A2")
		if err != nil || !strings.Contains(line, c.want) {
			t.Errorf("%s heading %q, %v; want it to say %q", c.lang, line, err, c.want)
		}
	}
}

// Units are listed in Vietnamese name order, not by code (issue 12 point 8): Sở Kế hoạch và
// Đầu tư (so_khdt) before Sở Khoa học và Công nghệ (so_khcn), whose code sorts first; "Đ"
// after "D".
func TestUnitsInVietnameseNameOrder(t *testing.T) {
	t.Parallel()
	labels := map[string]string{"so_khcn": "Sở Khoa học và Công nghệ", "so_khdt": "Sở Kế hoạch và Đầu tư",
		"so_dl": "Sở Du lịch", "so_dt": "Sở Đào tạo", "department": "Sở, ban, ngành"}
	parents := map[string]string{"so_khcn": "department", "so_khdt": "department", "so_dl": "department", "so_dt": "department"}
	var rows []projections.ModelCountRow
	for _, k := range []string{"so_dl", "so_dt", "so_khcn", "so_khdt"} { // code order, as reports answer
		rows = append(rows, projections.ModelCountRow{Key: k, Registrations: 1, DistinctModels: 1})
	}
	report := projections.ModelCountReport{Rows: rows}
	for _, parent := range []map[string]string{nil, parents} {
		var buf bytes.Buffer
		h := export.Heading{Produced: produced, Location: vn}
		if err := export.ModelCounts(&buf, h, []export.Group[projections.ModelCountReport]{{By: "unit", Report: report, Labels: labels, Parent: parent}}); err != nil {
			t.Fatal(err)
		}
		f := open(t, &buf)
		sheet := f.GetSheetList()[0]
		var got []string
		for _, r := range sheetRows(t, f, sheet) {
			if len(r) > 1 && strings.HasPrefix(r[1], "so_") {
				got = append(got, r[1])
			}
		}
		if want := []string{"so_dl", "so_dt", "so_khdt", "so_khcn"}; !slices.Equal(got, want) {
			t.Errorf("parents %v: units in the order %v, want %v", parent != nil, got, want)
		}
	}
}
