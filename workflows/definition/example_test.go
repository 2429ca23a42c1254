package definition_test

import (
	"fmt"

	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/workflows/definition"
)

func ExampleDefinition_Allowed() {
	d := definition.Default()

	to, err := d.Allowed(definition.ApproveFunding, definition.Proposed, role.FinanceOfficer)
	fmt.Println(to, err)

	_, err = d.Allowed(definition.MarkImplemented, definition.Funded, role.FinanceOfficer)
	fmt.Println(err)

	to, _ = d.Allowed(definition.Resume, definition.Suspended, role.SteeringCommittee)
	fmt.Println(to)

	fmt.Println(d.EndorsementRequired(15_000_000_000), d.EndorsementRequired(15_000_000_001))
	// Output:
	// funded <nil>
	// role "finance_officer" may not mark_implemented (allowed: focal_point)
	// previous
	// false true
}

func ExampleParse() {
	_, err := definition.Parse([]byte(`
version: 2
name: tiny
initial: proposed
stages:
  - name: proposed
actions:
  propose:
    creates: true
    roles: [mayor]
`), "tiny.yaml")
	fmt.Println(err)
	// Output:
	// tiny.yaml:10: actions.propose.roles[0]: unknown role "mayor"; want one of admin, focal_point, finance_officer, steering_committee
}
