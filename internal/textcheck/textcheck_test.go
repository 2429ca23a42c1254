package textcheck

import (
	"errors"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestClean(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field, in, want string
		reason          Reason
	}{
		{"title", "Chợ số", "Chợ số", 0},
		{"title", norm.NFD.String("Chợ số Đồng Tháp"), "Chợ số Đồng Tháp", 0},
		{"title", "a\x00b", "", ControlChar},
		{"title", "a\tb", "", ControlChar},
		{"title", "a\nb", "", ControlChar},
		{"title", "a\u007fb", "", ControlChar},
		{"title", "a\u009bb", "", ControlChar},
		{"title", "a\xc0\xafb", "", InvalidUTF8},
		{"note", "dòng 1\r\ndòng 2\tcột", "dòng 1\r\ndòng 2\tcột", 0},
		{"note", "a\x00b", "", ControlChar},
		{"reason", "a\x1bb", "", ControlChar},
		{"password", "a\x00\xff", "a\x00\xff", 0},
	}
	for _, c := range cases {
		got, err := Clean(c.field, c.in)
		var te *Error
		switch {
		case c.reason == 0 && err != nil:
			t.Errorf("Clean(%q, %q): %v, want %q", c.field, c.in, err, c.want)
		case c.reason == 0 && got != c.want:
			t.Errorf("Clean(%q, %q) = %q, want %q", c.field, c.in, got, c.want)
		case c.reason != 0 && (!errors.As(err, &te) || te.Reason != c.reason || te.Field != c.field):
			t.Errorf("Clean(%q, %q) = %q, %v; want reason %d naming the field", c.field, c.in, got, err, c.reason)
		}
	}
}
