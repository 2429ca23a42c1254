package unit_test

import (
	"fmt"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/unit"
)

func Example() {
	day := func(s string) civil.Date { d, _ := civil.Parse(s); return d }
	var dir unit.Directory
	for _, e := range []unit.Event{
		unit.Registered{Code: "SO-KHDT", Name: "Sở Kế hoạch và Đầu tư", Kind: unit.Department, ParentCode: "DT", On: day("2022-01-01")},
		unit.Registered{Code: "SO-TC", Name: "Sở Tài chính", Kind: unit.Department, ParentCode: "DT", On: day("2022-01-01")},
	} {
		dir.Apply(e)
	}

	merge := unit.Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2025-03-01")}
	if err := dir.CheckMerge(merge.Code, merge.IntoCode, merge.EffectiveDate); err != nil {
		fmt.Println(err)
		return
	}
	s, _ := dir.Lookup(merge.Code)
	events, err := unit.Decide(s, merge)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range events {
		typ, data, _ := unit.Encode(e)
		fmt.Println(unit.StreamID(e.UnitCode()), typ, string(data))
		dir.Apply(e)
	}

	fmt.Println(dir.SuccessorAsOf("SO-KHDT", day("2024-12-31")))
	fmt.Println(dir.SuccessorAsOf("SO-KHDT", day("2025-03-01")))
	s, _ = dir.Lookup("SO-KHDT")
	_, err = unit.Decide(s, merge)
	fmt.Println(err)
	// Output:
	// unit-SO-KHDT unit.merged.v1 {"code":"SO-KHDT","into_code":"SO-TC","effective_date":"2025-03-01"}
	// SO-KHDT
	// SO-TC
	// unit SO-KHDT was merged into SO-TC on 2025-03-01
}
