package demo

import (
	"fmt"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/workflows"
)

// indicatorDef is one of the province's indicators, with its 2022 actual (seed 000).
type indicatorDef struct {
	code, unit, pillar, vi, en string
	actual                     indicator.Number
	note                       string // "trên 50%": the seed gives a floor
}

// Indicators are the 2022 results of seed 000 (shared/INDICATORS.md), by pillar.
var Indicators = []indicatorDef{
	{"CQ-DVC4", "VP-UBND", "government", "Thủ tục hành chính đủ điều kiện cung cấp dịch vụ công trực tuyến mức độ 4", "Administrative procedures eligible as level-4 online public services", "100", ""},
	{"CQ-VBDT", "SO-TTTT", "government", "Văn bản trao đổi qua môi trường mạng (trừ văn bản mật)", "Documents exchanged electronically (except secret)", "100", ""},
	{"CQ-DLMO", "SO-TTTT", "government", "Cơ quan nhà nước cung cấp dữ liệu mở", "State agencies providing open data", "30", ""},
	{"CQ-KNS", "SO-NV", "government", "Cán bộ, công chức, viên chức được bồi dưỡng kỹ năng số", "Officials trained in basic digital skills", "79.2", ""},
	{"KT-TMDT", "SO-CT", "economy", "Doanh nghiệp nhỏ và vừa kinh doanh trên sàn thương mại điện tử", "SMEs trading on e-commerce platforms", "57", ""},
	{"KT-MUASAM", "SO-CT", "economy", "Dân số tham gia mua sắm trực tuyến", "Population shopping online", "56.67", ""},
	{"KT-OCOP", "SO-NNPTNT", "economy", "Sản phẩm OCOP có mặt trên sàn thương mại điện tử", "OCOP products on e-commerce platforms", "100", ""},
	{"KT-IOT", "SO-NNPTNT", "economy", "Nông dân ứng dụng IoT vào sản xuất", "Farmers applying IoT in production", "10", ""},
	{"KT-NSLD", "SO-KHDT", "economy", "Tăng năng suất lao động hằng năm", "Labour productivity growth per year", "13.77", ""},
	{"XH-BANGRONG", "SO-TTTT", "society", "Hộ gia đình có kết nối Internet băng rộng cố định", "Households with fixed broadband", "79.5", ""},
	{"XH-SMARTPHONE", "SO-TTTT", "society", "Thuê bao di động sử dụng điện thoại thông minh", "Mobile subscribers using smartphones", "75.3", ""},
	{"XH-TKTT", "SO-TTTT", "society", "Dân số có tài khoản thanh toán điện tử", "Population with an e-payment account", "55", ""},
	{"XH-KNS", "SO-TTTT", "society", "Dân số có kiến thức số, kỹ năng số cơ bản", "Population with basic digital skills", "50", "trên 50% (báo cáo ghi \"trên 50%\")"},
	{"XH-DANHTINH", "SO-TTTT", "society", "Dân số có danh tính số", "Population with a digital identity", "100", ""},
	{"XH-GIAODUC", "SO-GDDT", "society", "Cơ sở giáo dục quản lý, dạy và học trên môi trường số", "Schools teaching and managing on digital platforms", "80", "trên 80% (báo cáo ghi \"trên 80%\")"},
	{"XH-HSSK", "SO-YT", "society", "Dân số có hồ sơ sức khỏe điện tử", "Population with an electronic health record", "80", ""},
	{"XH-KCBTX", "SO-YT", "society", "Cơ sở khám, chữa bệnh triển khai tư vấn khám, chữa bệnh từ xa", "Clinics offering remote consultation", "81.5", ""},
}

// target is a target of the demo: its figure, who set it, and whether the seeds give it.
type target struct {
	code         string
	year         int
	value        indicator.Number
	source       string
	illustrative bool
}

// Targets2022 are the 15 plan targets of 2022 the province reported on: 13 met or exceeded
// (6 exceeded, 7 met), 2 missed, as seed 000 and INDICATORS.md say. The national 2022 plan
// gives two; the others are marked illustrative.
var Targets2022 = []target{
	{"XH-BANGRONG", 2022, "75", "Kế hoạch CĐS quốc gia năm 2022", false},
	{"XH-SMARTPHONE", 2022, "85", "Kế hoạch CĐS quốc gia năm 2022", false},
	{"CQ-KNS", 2022, "70", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"KT-TMDT", 2022, "50", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"KT-MUASAM", 2022, "50", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"XH-TKTT", 2022, "50", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"XH-KCBTX", 2022, "80", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"CQ-DVC4", 2022, "100", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"CQ-VBDT", 2022, "100", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"KT-OCOP", 2022, "100", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"XH-DANHTINH", 2022, "100", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"XH-HSSK", 2022, "80", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"XH-GIAODUC", 2022, "80", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"XH-KNS", 2022, "50", "Kế hoạch CĐS tỉnh năm 2022", true},
	{"CQ-DLMO", 2022, "50", "Kế hoạch CĐS tỉnh năm 2022", true},
	// 2023, from the national plan for 2023 (the province's follow it).
	{"XH-BANGRONG", 2023, "85", "Kế hoạch CĐS quốc gia năm 2023 (tỉnh áp dụng)", false},
	{"XH-HSSK", 2023, "80", "Kế hoạch CĐS quốc gia năm 2023 (tỉnh áp dụng)", false},
	// 2025, from Decisions 749/QĐ-TTg and 411/QĐ-TTg (the province's own follow them).
	{"XH-BANGRONG", 2025, "80", "749/QĐ-TTg (chỉ tiêu quốc gia, tỉnh áp dụng)", false},
	{"XH-SMARTPHONE", 2025, "80", "749/QĐ-TTg (chỉ tiêu quốc gia, tỉnh áp dụng)", false},
	{"XH-TKTT", 2025, "50", "749/QĐ-TTg (chỉ tiêu quốc gia, tỉnh áp dụng)", false},
	{"XH-KNS", 2025, "70", "411/QĐ-TTg (chỉ tiêu quốc gia, tỉnh áp dụng)", false},
	{"XH-HSSK", 2025, "90", "411/QĐ-TTg (chỉ tiêu quốc gia, tỉnh áp dụng)", false},
	{"KT-KTS", 2025, "20", "749/QĐ-TTg (chỉ tiêu quốc gia, tỉnh áp dụng)", false},
}

func (l *loader) indicator(key, code string, c indicator.Command) {
	if l.err != nil {
		return
	}
	// Recorded as it would have been: a few days to weeks after the fact's own date.
	l.record(key, "indicator-"+code, indicatorDate(c), 2, 20)
	if _, err := l.h.IndicatorCommand(l.ctx, l.actors["bcd"], code, c, opts(key)); err != nil {
		l.err = fmt.Errorf("indicator %s (%s): %w", code, key, err)
	}
}

// indicators records the programme's indicators, the 2022 actuals of seed 000, the targets of
// 2022, 2023 and 2025, the digital economy's two estimates, and the DTI: Đồng Tháp's 2022 rank
// (39/63, 9/13 in the Mekong Delta, its values illustrative), Đà Nẵng's published 2022 values,
// and a plan linking two models to the main index each should raise.
func (l *loader) indicators(models map[string]string) {
	for _, d := range Indicators {
		l.indicator("ind:"+d.code, d.code, indicator.Define{Definition: indicator.Definition{Code: d.code, NameVI: d.vi, NameEN: d.en,
			Measure: indicator.Percentage, Direction: indicator.Higher, Pillar: d.pillar, UnitCode: d.unit,
			Frameworks: []string{"NQ 04-NQ/TU", "749/QĐ-TTg"}}, EffectiveDate: day("2022-01-01")})
	}
	l.indicator("ind:KT-KTS", "KT-KTS", indicator.Define{Definition: indicator.Definition{Code: "KT-KTS",
		NameVI: "Tỷ trọng kinh tế số trong GRDP", NameEN: "Digital economy as a share of GRDP", Measure: indicator.Percentage,
		Direction: indicator.Higher, Pillar: "economy", UnitCode: "SO-KHDT", Frameworks: []string{"749/QĐ-TTg", "411/QĐ-TTg", "DTI:digital_economy"},
		CountsEstimator: "UBND tỉnh Đồng Tháp"}, EffectiveDate: day("2022-01-01")})
	for _, t := range Targets2022 {
		l.indicator(fmt.Sprintf("target:%s:%d", t.code, t.year), t.code, indicator.SetTarget{Scope: indicator.Province, Year: t.year,
			Value: t.value, Source: t.source, Illustrative: t.illustrative, On: day(fmt.Sprintf("%d-01-15", min(t.year, 2022)))})
	}
	l.indicator("baseline:KT-KTS", "KT-KTS", indicator.SetBaseline{Scope: indicator.Province, Year: 2020, Value: "2.5",
		Source: "(minh họa / illustrative)", On: day("2022-01-15")})
	for _, d := range Indicators {
		l.indicator("actual:2022:"+d.code, d.code, indicator.ReportActual{Scope: indicator.Province, Year: 2022, Value: d.actual,
			Date: day("2023-04-07"), Method: indicator.Official, Estimator: "UBND tỉnh Đồng Tháp",
			Evidence: "Báo cáo 01 năm thực hiện Nghị quyết 04-NQ/TU (07/04/2023)", Note: d.note})
	}
	// Two estimators, two numbers: the province's 3.7% for 2022 counts; the ministry's 6.42% for
	// 09/2023 is kept beside it.
	l.indicator("actual:2022:KT-KTS", "KT-KTS", indicator.ReportActual{Scope: indicator.Province, Year: 2022, Value: "3.7",
		Date: day("2023-04-07"), Method: indicator.Estimate, Estimator: "UBND tỉnh Đồng Tháp", Evidence: "Báo cáo 01 năm thực hiện Nghị quyết 04-NQ/TU"})
	l.indicator("actual:2023:KT-KTS:ministry", "KT-KTS", indicator.ReportActual{Scope: indicator.Province, Year: 2023, Value: "6.42",
		Date: day("2023-09-30"), Method: indicator.Estimate, Estimator: "Bộ Thông tin và Truyền thông", Evidence: "Ước tính của Bộ TT&TT, 09/2023"})

	if l.err != nil {
		return
	}
	bcd := l.actors["bcd"]
	record := func(key string, c dti.RecordResult) {
		if l.err != nil {
			return
		}
		l.record(key, "dti-"+c.Province, day("2023-10-05"), 0, 0)
		if _, err := l.h.RecordDTIResult(l.ctx, bcd, c, workflows.Options{IdempotencyKey: "demo:" + key, Route: "demo", OccurredOn: day("2023-10-05")}); err != nil {
			l.err = fmt.Errorf("DTI %s: %w", key, err)
		}
	}
	record("dti:DANANG:2022", dti.RecordResult{ResultRecorded: dti.ResultRecorded{Province: "DANANG", Year: 2022, Framework: "922/QĐ-BTTTT",
		Source: dti.Published, Rank: 1, Of: 63, Total: 8002, Values: map[string]string{"awareness": "1.0000", "institutions": "0.9000",
			"infrastructure": "0.8253", "workforce": "0.8487", "cybersecurity": "0.7578", "digital_government": "0.8575",
			"digital_economy": "0.7836", "digital_society": "0.5197"}, Note: "Đà Nẵng, DTI 2022 (công bố)"}, TotalGiven: true})
	record("dti:DT:2022", dti.RecordResult{ResultRecorded: dti.ResultRecorded{Province: "DT", Year: 2022, Framework: "922/QĐ-BTTTT",
		Source: dti.Published, Rank: 39, Of: 63, RegionRank: 9, RegionOf: 13, PlaceScores: map[string]dti.Fixed4{"25": 6077},
		Values: map[string]string{"awareness": "0.6200", "institutions": "0.6500", "infrastructure": "0.5900", "workforce": "0.4400",
			"cybersecurity": "0.5300", "digital_government": "0.6200", "digital_economy": "0.3000", "digital_society": "0.5400"},
		Illustrative: true, Note: "Hạng 39/63 (9/13 ĐBSCL) theo công bố; giá trị các chỉ số chính là minh họa (illustrative)."}})
	link := func(key, model, index, gain, note string) {
		if l.err != nil {
			return
		}
		l.record(key, "dti-DT", day("2023-10-05"), 0, 0)
		if _, err := l.h.LinkDTIGain(l.ctx, bcd, dti.GainLinked{Province: "DT", Year: 2023, ItemID: models[model], Index: index, Gain: gain, Note: note},
			workflows.Options{IdempotencyKey: "demo:" + key, Route: "demo", OccurredOn: day("2023-10-05")}); err != nil {
			l.err = fmt.Errorf("DTI link %s: %w", key, err)
		}
	}
	link("dti-link:d09", "d09", "digital_economy", "0.05", "Đưa hợp tác xã lên sàn TMĐT (minh họa)")
	link("dti-link:d17", "d17", "digital_government", "0.03", "Cổng DVC và e-Dongthap (minh họa)")
}

// indicatorDate is the business date of an indicator command, from which the demo's recording
// lags.
func indicatorDate(c indicator.Command) civil.Date {
	switch c := c.(type) {
	case indicator.Define:
		return c.EffectiveDate
	case indicator.Revise:
		return c.EffectiveDate
	case indicator.SetBaseline:
		return c.On
	case indicator.SetTarget:
		return c.On
	case indicator.ReportActual:
		return c.Date
	}
	return day("2022-01-03")
}
