package item_test

import (
	"fmt"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
)

func Example() {
	on, _ := civil.Parse("2022-04-10")
	meta := item.Meta{On: on, Today: on, Actor: "u-focal"}
	var s item.State
	steps := []item.Command{
		&item.Propose{Meta: meta, ID: "p1", Kind: item.Project, Title: "Tổ công nghệ số cộng đồng", UnitCode: "H-LAPVO",
			Pillar: item.Society, Sector: "general", EstimatedCost: 800_000_000, StartDate: on, EndDate: on.AddDays(365),
			WorkflowVersion: 1, Stage: item.StageProposed},
		&item.RequestFunding{Meta: meta, RequestID: "r1", Source: "district_budget", Amount: 800_000_000, Year: 2022},
		&item.DecideFunding{Meta: item.Meta{On: on, Today: on, Actor: "u-fin"}, RequestID: "r1", Approve: true,
			Amount: 500_000_000, To: item.StageFunded},
	}
	for _, c := range steps {
		events, err := item.Decide(s, c)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, e := range events {
			s = item.Evolve(s, e)
		}
	}
	fmt.Println(s.Stage, s.Requested, s.Approved, s.EstimatedCost-s.Approved)
	// Output: funded 800000000 500000000 300000000
}
