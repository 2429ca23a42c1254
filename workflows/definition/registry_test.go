package definition

import (
	"strings"
	"testing"
)

func TestRegistryKeepsEachVersion(t *testing.T) {
	t.Parallel()
	v1 := Default()
	v2, err := Parse(edits(t, string(defaultYAML),
		"version: 1\n", "version: 2\n",
		"above_vnd: 15_000_000_000", "above_vnd: 25_000_000_000",
		"above_vnd: 30_000_000_000", "above_vnd: 50_000_000_000",
		"after_days: 90", "after_days: 60",
	), "v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]*Definition{{v1, v2}, {v2, v1}, {v1, v2, Default()}} {
		r, err := NewRegistry(order...)
		if err != nil {
			t.Fatalf("NewRegistry: %v", err)
		}
		if got := r.Current().Version; got != 2 {
			t.Errorf("Current().Version = %d, want 2", got)
		}
		if got := r.Versions(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
			t.Errorf("Versions() = %v, want [1 2]", got)
		}
		old, ok := r.Get(1)
		if !ok {
			t.Fatal("Get(1) not found")
		}
		// A stream that started under version 1 keeps version 1's rules.
		const amount = 20_000_000_000
		if !old.EndorsementRequired(amount) || r.Current().EndorsementRequired(amount) {
			t.Errorf("EndorsementRequired(%d): v1 %v, v2 %v; want true, false", amount,
				old.EndorsementRequired(amount), r.Current().EndorsementRequired(amount))
		}
		const big = 40_000_000_000
		if !old.NeedsTwoOfficers(big) || r.Current().NeedsTwoOfficers(big) {
			t.Errorf("NeedsTwoOfficers(%d): v1 %v, v2 %v; want true, false", big,
				old.NeedsTwoOfficers(big), r.Current().NeedsTwoOfficers(big))
		}
		if old.Deadlines[0].AfterDays != 90 || r.Current().Deadlines[0].AfterDays != 60 {
			t.Errorf("after_days: v1 %d, v2 %d; want 90, 60", old.Deadlines[0].AfterDays, r.Current().Deadlines[0].AfterDays)
		}
		if _, ok := r.Get(3); ok {
			t.Error("Get(3) found a definition, want none")
		}
	}
}

func TestRegistryIsNotChangedByItsInputs(t *testing.T) {
	t.Parallel()
	d := Default()
	r, err := NewRegistry(d)
	if err != nil {
		t.Fatal(err)
	}
	d.Guards.EndorsementRequired.AboveVND = 1
	if got, _ := r.Get(1); got.EndorsementRequired(2) {
		t.Error("changing a definition after NewRegistry changed the registry's copy")
	}
}

func TestRegistryRefuses(t *testing.T) {
	t.Parallel()
	changedV1, err := Parse(edit(t, string(defaultYAML), "after_days: 90", "after_days: 30"), "changed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	invalid := Default()
	invalid.Version = 0
	tests := []struct {
		name string
		defs []*Definition
		want string
	}{
		{"nothing", nil, "no definitions"},
		{"nil", []*Definition{Default(), nil}, "definition 1 is nil"},
		{"invalid", []*Definition{invalid}, "version: missing or below 1"},
		{"same version, other rules", []*Definition{Default(), changedV1},
			`version 1 is given twice with different rules (default.yaml "cds_lifecycle" and changed.yaml "cds_lifecycle")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewRegistry(tt.defs...)
			if err == nil || r != nil {
				t.Fatalf("NewRegistry = %v, %v; want nil and an error containing %q", r, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRegistrySameRulesFromAnotherFile(t *testing.T) {
	t.Parallel()
	copyOfDefault, err := Parse(defaultYAML, "/etc/dxledger/workflow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRegistry(Default(), copyOfDefault)
	if err != nil {
		t.Fatalf("NewRegistry(the same rules twice) = %v, want nil", err)
	}
	if got := r.Versions(); len(got) != 1 {
		t.Errorf("Versions() = %v, want [1]", got)
	}
}
