package export_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/webui/export"
	"github.com/xuri/excelize/v2"
)

// A page hands the report that projections returned to FundingGaps, which writes the workbook
// (to an http.ResponseWriter in the web pages; to a buffer here, read back to show the sheet).
// The cells hold numbers; the separators below are excelize's rendering of the format, and
// Excel set to Vietnamese shows 8.000.000.000 đ.
func ExampleFundingGaps() {
	gap, withGap := int64(3_000_000_000), int64(2)
	estimated := int64(8_000_000_000)
	row := projections.FundingGapRow{
		Key: "so_nn", Estimated: &estimated, Requested: 6_000_000_000, Approved: 5_000_000_000,
		Disbursed: 3_250_000_000, Gap: &gap, ItemsWithGap: &withGap,
	}
	report := projections.FundingGapReport{Rows: []projections.FundingGapRow{row}, Total: row}

	var buf bytes.Buffer
	err := export.FundingGaps(&buf, export.Heading{
		AsOf:     civil.Date{Year: 2022, Month: time.December, Day: 31},
		Produced: time.Date(2026, 11, 22, 14, 5, 0, 0, time.FixedZone("ICT", 7*60*60)),
	}, []export.Group[projections.FundingGapReport]{{
		By:     "unit",
		Report: report,
		Labels: map[string]string{"so_nn": "Sở Nông nghiệp và Phát triển nông thôn", "department": "Sở, ban, ngành"},
		Parent: map[string]string{"so_nn": "department"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}

	f, err := excelize.OpenReader(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	rows, _ := f.GetRows("Theo đơn vị")
	for _, r := range rows {
		fmt.Println(r)
	}
	// Output:
	// [Khoảng trống kinh phí chuyển đổi số — theo đơn vị]
	// [Số liệu tính đến ngày 31/12/2022]
	// [Lập lúc 22/11/2026 14:05]
	// [Đơn vị Mã Kinh phí dự kiến Đề nghị bố trí vốn Đã phê duyệt Đã giải ngân Kinh phí còn thiếu Số dự án, mô hình còn thiếu vốn]
	// [Sở, ban, ngành department 8,000,000,000 đ 6,000,000,000 đ 5,000,000,000 đ 3,250,000,000 đ 3,000,000,000 đ 2]
	// [Sở Nông nghiệp và Phát triển nông thôn so_nn 8,000,000,000 đ 6,000,000,000 đ 5,000,000,000 đ 3,250,000,000 đ 3,000,000,000 đ 2]
	// [Tổng cộng  8,000,000,000 đ 6,000,000,000 đ 5,000,000,000 đ 3,250,000,000 đ 3,000,000,000 đ 2]
}
