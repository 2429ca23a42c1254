package main

import (
	"strings"
	"testing"

	"github.com/dxledger/dxledger/projections/readmodel"
)

// The read models a server keeps are the ones rebuild and projections retry offer: the usage
// and the refusal of an unknown name list every one (indicators came with issue 15).
func TestProjectionCommandsNameEveryReadModel(t *testing.T) {
	t.Parallel()
	_, err := projectionsNamed([]string{"nope"})
	if err == nil {
		t.Fatal("an unknown projection was accepted")
	}
	for _, p := range readmodel.All() {
		if !strings.Contains(err.Error(), p.Name()) {
			t.Errorf("the refusal %q does not name %s", err, p.Name())
		}
		if !strings.Contains(usage, "rebuild   [units|items|indicators ...]") || !strings.Contains(groups["projections"], p.Name()) {
			t.Errorf("the usage does not offer %s", p.Name())
		}
		if got, err := projectionsNamed([]string{p.Name()}); err != nil || len(got) != 1 || got[0].Name() != p.Name() {
			t.Errorf("%s: %v %v", p.Name(), got, err)
		}
	}
}
