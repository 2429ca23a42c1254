package demo

import (
	"fmt"
	"io"
)

// Print writes what was loaded, the sample tokens, how to sign in to the pages served at addr
// and a few calls to try.
func (s Summary) Print(w io.Writer, addr string) {
	fmt.Fprintf(w, "Đồng Tháp demo loaded: %d units, %d model registrations, %d projects (2022), the 2025 reorganisation.\n",
		s.Units, s.Models, s.Projects)
	fmt.Fprintln(w, "Sample tokens (Authorization: Bearer <token>):")
	for _, t := range s.Tokens {
		fmt.Fprintf(w, "  %-40s %-19s %-10s %s\n", t.Who, t.Role, t.Unit, t.Token)
	}
	fmt.Fprintf(w, "Web pages: http://%s/ — sign in with a name above and the password %q.\n", addr, Password)
	base := "http://" + addr + "/api/v1"
	fmt.Fprintln(w, "Try:")
	fmt.Fprintf(w, "  %s/reports/model-counts?group_by=unit_kind&as_of=2022-12-31\n", base)
	fmt.Fprintf(w, "  %s/reports/funding-gaps?group_by=unit\n", base)
	fmt.Fprintf(w, "  %s/reports/completion?group_by=unit&kind=project&as_of=2023-12-31\n", base)
}
