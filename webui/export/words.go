package export

// words is the catalogue of one language: every text a workbook shows. A struct rather than a
// map, so that a language missing a word does not compile.
type words struct {
	locale string // the workbook's language tag

	// Per grouping (Group.By): the sheet's name, the end of its title, the first column's head.
	sheet, titleBy, groupHead map[string]string

	code          string // the head of the code column
	titleSep      string // between a report's title and its grouping
	asOf          string // fmt: the as-of day
	knownAt       string // fmt: the recording moment, appended to asOf
	produced      string // fmt: when the file was made
	setAside      string // fmt: how many stored events the figures leave out, appended to asOf
	total         string
	noParent      string // the group of rows whose key has no Parent
	moneyFormat   string // Excel number format of a VND amount
	percentFormat string // Excel number format of an average progress (0–100)

	fundingGaps, modelCounts, completion string // report titles

	estimated, requested, approved, disbursed, gap, itemsWithGap                 string
	registrations, distinctModels                                                string
	proposed, funded, implemented, evaluated, suspended, cancelled, overdue, avg string
}

// The money format writes whole đồng with thousands grouped and the đồng sign the pages use
// (GLOSSARY.md: "8.000.000.000 đ"). In a format code "," means "the grouping separator of the
// reader's locale": Excel set to Vietnamese shows 8.000.000.000 đ, set to English 8,000,000,000 đ.
// Writing "." into the code instead would make Excel read it as a decimal point. The English
// workbook says VND, as the English pages do.
//
// Progress is stored as the report has it, 0–100 with one decimal, so the percent sign is a
// literal: Excel's own % would multiply by 100.
var (
	vi = words{
		locale: "vi-VN",
		sheet: map[string]string{
			"unit": "Theo đơn vị", "unit_kind": "Theo loại đơn vị", "pillar": "Theo trụ cột",
			"sector": "Theo lĩnh vực", "source": "Theo nguồn vốn", "year": "Theo năm",
		},
		titleBy: map[string]string{
			"unit": "theo đơn vị", "unit_kind": "theo loại đơn vị", "pillar": "theo trụ cột",
			"sector": "theo lĩnh vực", "source": "theo nguồn vốn", "year": "theo năm",
		},
		groupHead: map[string]string{
			"unit": "Đơn vị", "unit_kind": "Loại đơn vị", "pillar": "Trụ cột",
			"sector": "Lĩnh vực", "source": "Nguồn vốn", "year": "Năm",
		},
		code:          "Mã",
		titleSep:      " — ",
		asOf:          "Số liệu tính đến ngày %s",
		knownAt:       ", theo số liệu đã ghi nhận lúc %s",
		produced:      "Lập lúc %s",
		setAside:      ". CHÚ Ý: số liệu chưa tính %d sự kiện đã ghi mà hệ thống chưa xử lý được (đang để riêng, quản trị viên đã được báo)",
		total:         "Tổng cộng",
		noParent:      "Khác",
		moneyFormat:   `#,##0 "đ"`,
		percentFormat: `0.0"%"`,

		fundingGaps: "Khoảng trống kinh phí chuyển đổi số",
		modelCounts: "Đăng ký mô hình chuyển đổi số",
		completion:  "Tiến độ thực hiện dự án, mô hình chuyển đổi số",

		estimated:      "Kinh phí dự kiến",
		requested:      "Đề nghị bố trí vốn",
		approved:       "Đã phê duyệt",
		disbursed:      "Đã giải ngân",
		gap:            "Kinh phí còn thiếu",
		itemsWithGap:   "Số dự án, mô hình còn thiếu vốn",
		registrations:  "Lượt đăng ký",
		distinctModels: "Số mô hình (không trùng)",
		proposed:       "Đề xuất",
		funded:         "Đã bố trí vốn",
		implemented:    "Đã triển khai xong",
		evaluated:      "Đã đánh giá",
		suspended:      "Tạm dừng",
		cancelled:      "Hủy bỏ",
		overdue:        "Quá hạn",
		avg:            "Tiến độ bình quân",
	}
	en = words{
		locale: "en-US",
		sheet: map[string]string{
			"unit": "By unit", "unit_kind": "By unit kind", "pillar": "By pillar",
			"sector": "By sector", "source": "By funding source", "year": "By year",
		},
		titleBy: map[string]string{
			"unit": "by unit", "unit_kind": "by unit kind", "pillar": "by pillar",
			"sector": "by sector", "source": "by funding source", "year": "by year",
		},
		groupHead: map[string]string{
			"unit": "Unit", "unit_kind": "Unit kind", "pillar": "Pillar",
			"sector": "Sector", "source": "Funding source", "year": "Year",
		},
		code:          "Code",
		titleSep:      " — ",
		asOf:          "Figures as of %s",
		knownAt:       ", as recorded at %s",
		produced:      "Produced %s",
		setAside:      ". NOTE: the figures leave out %d recorded events the system could not process (set aside; the administrators are told)",
		total:         "Total",
		noParent:      "Other",
		moneyFormat:   `#,##0 "VND"`,
		percentFormat: `0.0"%"`,

		fundingGaps: "Digital-transformation funding gaps",
		modelCounts: "Digital-transformation model registrations",
		completion:  "Progress of digital-transformation projects and models",

		estimated:      "Estimated cost",
		requested:      "Requested",
		approved:       "Approved",
		disbursed:      "Disbursed",
		gap:            "Funding gap",
		itemsWithGap:   "Items with a gap",
		registrations:  "Registrations",
		distinctModels: "Distinct models",
		proposed:       "Proposed",
		funded:         "Funded",
		implemented:    "Implemented",
		evaluated:      "Evaluated",
		suspended:      "Suspended",
		cancelled:      "Cancelled",
		overdue:        "Overdue",
		avg:            "Average progress",
	}
)
