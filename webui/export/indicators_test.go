package export

import (
	"bytes"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/projections"
	"github.com/xuri/excelize/v2"
)

func TestIndicatorsSheet(t *testing.T) {
	t.Parallel()
	rep := projections.IndicatorReport{Year: 2022, TargetsMet: 1, TargetsCounted: 1, Rows: []indicator.Row{{Code: "XH-BANGRONG",
		Name: "Hộ gia đình có băng rộng cố định", Pillar: "society", Target: "75", Actual: "79.5", Status: indicator.Exceeded,
		TargetSource: "Kế hoạch 2022", ActualDetail: &indicator.Actual{Estimator: "UBND tỉnh", Evidence: "Báo cáo"}}}}
	hist := projections.DTIHistory{Province: "DT", Years: []projections.DTIYear{{Year: 2022, Published: &dti.ResultRecorded{
		Framework: "922/QĐ-BTTTT", Total: 5330, Rank: 39, Of: 63, RegionRank: 9, RegionOf: 13}}}}
	wd := IndicatorWords{Sheet: "Chỉ tiêu", DTISheet: "DTI", Title: "Chỉ tiêu", Summary: "Đạt và vượt",
		Statuses: map[string]string{"exceeded": "✔✔ Vượt"}, Pillars: map[string]string{"society": "Xã hội số"}}
	var buf bytes.Buffer
	h := Heading{Lang: "vi", Today: civil.Date{Year: 2023, Month: 10, Day: 5}, Produced: time.Date(2023, 10, 5, 3, 0, 0, 0, time.UTC)}
	if err := Indicators(&buf, h, wd, rep, hist); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for cell, want := range map[string]string{"A4": "Đạt và vượt: 1 / 1", "B7": "XH-BANGRONG", "A7": "Xã hội số", "F7": "79.5", "G7": "✔✔ Vượt"} {
		if got, _ := f.GetCellValue("Chỉ tiêu", cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	for cell, want := range map[string]string{"C5": "0.5330", "D5": "39/63", "E5": "9/13"} {
		if got, _ := f.GetCellValue("DTI", cell); got != want {
			t.Errorf("DTI %s = %q, want %q", cell, got, want)
		}
	}
}
