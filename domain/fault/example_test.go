package fault_test

import (
	"errors"
	"fmt"

	"github.com/dxledger/dxledger/domain/fault"
)

// A sentinel has a kind and a code; wrapping and joining keep them, and the fields of every
// joined error are found.
func Example() {
	errGone := fault.New(fault.NotFound, "shop.gone", "no such shop")
	err := fmt.Errorf("load shop 7: %w", errGone)
	fmt.Println(fault.KindOf(err), fault.CodeOf(err), errors.Is(err, errGone))

	name := fault.NewField("name", "shop.name", "must not be empty")
	size := fault.NewField("size", "shop.size", "must be at most 10", 10)
	for _, f := range fault.FieldsOf(errors.Join(name, size)) {
		fmt.Println(f.Name, f.Code, f.Args)
	}
	fmt.Println(fault.KindOf(errors.New("disk full")))
	// Output:
	// not_found shop.gone true
	// name shop.name []
	// size shop.size [10]
	// unknown
}
