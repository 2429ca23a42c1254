// Package role names the roles of API.md. Who may do what is decided by the workflow
// definition (workflows/), not here.
package role

import "fmt"

// Role is what a user acts as.
type Role string

// The roles.
const (
	Admin             Role = "admin"
	FocalPoint        Role = "focal_point"
	FinanceOfficer    Role = "finance_officer"
	SteeringCommittee Role = "steering_committee"
	// System is the role of process managers: deadlines and other facts the engine records.
	System Role = "system"
)

// All lists the roles a user can hold.
var All = []Role{Admin, FocalPoint, FinanceOfficer, SteeringCommittee}

// Parse checks that s names a role a user can hold.
func Parse(s string) (Role, error) {
	for _, r := range All {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("role %q: want one of admin, focal_point, finance_officer, steering_committee", s)
}
