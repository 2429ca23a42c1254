package unit

import (
	"errors"
	"testing"
)

// handle does what the command handler will: the cross-stream check for a merge, then
// Decide on the unit's own state, then the events applied.
func handle(t *testing.T, d *Directory, commands ...Command) {
	t.Helper()
	for _, c := range commands {
		if m, ok := c.(Merge); ok {
			if err := d.CheckMerge(m.Code, m.IntoCode, m.EffectiveDate); err != nil {
				t.Fatalf("CheckMerge(%+v): %v", m, err)
			}
		}
		s, _ := d.Lookup(c.UnitCode())
		events, err := Decide(s, c)
		if err != nil {
			t.Fatalf("Decide(%+v): %v", c, err)
		}
		for _, e := range events {
			d.Apply(e)
		}
	}
}

// dongThap2025 is Đồng Tháp from 2022 through the 2025 reorganisation (GLOSSARY.md), with
// the departments and one district the reorganisation touched, and Tiền Giang's side of
// the provincial merger.
func dongThap2025(t *testing.T) *Directory {
	t.Helper()
	var d Directory
	y2022, mar, jul := day("2022-01-01"), day("2025-03-01"), day("2025-07-01")
	dept := func(code, name, parent string) Register {
		return Register{Code: code, Name: name, Kind: Department, ParentCode: parent, ParentKind: Province, On: y2022}
	}
	handle(t, &d,
		Register{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: Province, On: y2022},
		Register{Code: "TG", Name: "Tỉnh Tiền Giang", Kind: Province, On: y2022},
		dept("SO-KHDT", "Sở Kế hoạch và Đầu tư", "DT"),
		dept("SO-TC", "Sở Tài chính", "DT"),
		dept("SO-TTTT", "Sở Thông tin và Truyền thông", "DT"),
		dept("SO-KHCN", "Sở Khoa học và Công nghệ", "DT"),
		dept("SO-GTVT", "Sở Giao thông vận tải", "DT"),
		dept("SO-XD", "Sở Xây dựng", "DT"),
		dept("SO-TNMT", "Sở Tài nguyên và Môi trường", "DT"),
		dept("SO-NNPTNT", "Sở Nông nghiệp và Phát triển nông thôn", "DT"),
		dept("SO-LDTBXH", "Sở Lao động - Thương binh và Xã hội", "DT"),
		dept("SO-NV", "Sở Nội vụ", "DT"),
		dept("TG-SO-KHDT", "Sở Kế hoạch và Đầu tư tỉnh Tiền Giang", "TG"),
		dept("TG-SO-TC", "Sở Tài chính tỉnh Tiền Giang", "TG"),
		Register{Code: "H-CAOLANH", Name: "Huyện Cao Lãnh", Kind: District, ParentCode: "DT", ParentKind: Province, On: y2022},

		Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: mar},
		Merge{Code: "SO-TTTT", IntoCode: "SO-KHCN", EffectiveDate: mar},
		Merge{Code: "SO-GTVT", IntoCode: "SO-XD", EffectiveDate: mar},
		Register{Code: "SO-NNMT", Name: "Sở Nông nghiệp và Môi trường", Kind: Department, ParentCode: "DT", ParentKind: Province, On: mar},
		Merge{Code: "SO-TNMT", IntoCode: "SO-NNMT", EffectiveDate: mar},
		Merge{Code: "SO-NNPTNT", IntoCode: "SO-NNMT", EffectiveDate: mar},
		Merge{Code: "SO-LDTBXH", IntoCode: "SO-NV", EffectiveDate: mar},
		Merge{Code: "TG-SO-KHDT", IntoCode: "TG-SO-TC", EffectiveDate: mar},

		Merge{Code: "H-CAOLANH", IntoCode: "DT", EffectiveDate: jul},
		Merge{Code: "TG", IntoCode: "DT", EffectiveDate: jul},
		Merge{Code: "TG-SO-TC", IntoCode: "SO-TC", EffectiveDate: jul},
	)
	return &d
}

func TestSuccessorAsOfDongThap2025(t *testing.T) {
	t.Parallel()
	d := dongThap2025(t)
	tests := []struct {
		code, asOf, want string
	}{
		{"SO-KHDT", "2022-12-31", "SO-KHDT"},
		{"SO-KHDT", "2025-02-28", "SO-KHDT"},
		{"SO-KHDT", "2025-03-01", "SO-TC"},
		{"SO-KHDT", "2025-08-01", "SO-TC"},
		{"SO-TC", "2025-08-01", "SO-TC"},
		{"SO-TTTT", "2025-03-01", "SO-KHCN"},
		{"SO-GTVT", "2025-03-01", "SO-XD"},
		{"SO-LDTBXH", "2025-03-01", "SO-NV"},
		{"SO-TNMT", "2025-02-28", "SO-TNMT"},
		{"SO-TNMT", "2025-03-01", "SO-NNMT"},
		{"SO-NNPTNT", "2025-02-28", "SO-NNPTNT"},
		{"SO-NNPTNT", "2025-03-01", "SO-NNMT"},
		{"H-CAOLANH", "2025-03-01", "H-CAOLANH"},
		{"H-CAOLANH", "2025-06-30", "H-CAOLANH"},
		{"H-CAOLANH", "2025-07-01", "DT"},
		{"TG", "2025-06-30", "TG"},
		{"TG", "2025-07-01", "DT"},
		{"TG-SO-KHDT", "2024-12-31", "TG-SO-KHDT"},
		{"TG-SO-KHDT", "2025-04-01", "TG-SO-TC"},
		{"TG-SO-KHDT", "2025-07-01", "SO-TC"},
		{"TG-SO-KHDT", "2025-08-01", "SO-TC"},
		{"SO-YTE", "2025-08-01", "SO-YTE"}, // not in the directory
	}
	for _, tt := range tests {
		if got := d.SuccessorAsOf(tt.code, day(tt.asOf)); got != tt.want {
			t.Errorf("SuccessorAsOf(%s, %s) = %s, want %s", tt.code, tt.asOf, got, tt.want)
		}
	}
}

func TestCheckMergeDongThap2025(t *testing.T) {
	t.Parallel()
	d := dongThap2025(t)
	tests := []struct {
		name, code, into, on string
		wantErr              error
	}{
		{"into a unit active that day", "SO-NV", "SO-TC", "2025-07-01", nil},
		{"into a unit merged later", "SO-NV", "SO-KHDT", "2025-02-28", nil},
		{"into a unit merged that day", "SO-NV", "SO-KHDT", "2025-03-01", ErrAlreadyMerged},
		{"into a unit merged before", "SO-NV", "SO-KHDT", "2025-06-01", ErrAlreadyMerged},
		{"into a unit not yet registered", "SO-TNMT", "SO-NNMT", "2025-02-28", ErrBeforeRegistration},
		{"into an unknown unit", "SO-NV", "SO-YTE", "2025-07-01", ErrNotRegistered},
		{"into itself", "SO-TC", "SO-TC", "2025-07-01", ErrCycle},
		{"into a unit it succeeds", "SO-TC", "TG-SO-KHDT", "2025-02-01", ErrCycle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := d.CheckMerge(tt.code, tt.into, day(tt.on)); !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckMerge(%s, %s, %s) = %v, want %v", tt.code, tt.into, tt.on, err, tt.wantErr)
			}
		})
	}
}

func TestDirectoryFromStates(t *testing.T) {
	t.Parallel()
	d := NewDirectory([]State{
		fold([]Event{Registered{Code: "A", Name: "A", Kind: Province, On: day("2024-01-01")}, Merged{Code: "A", IntoCode: "B", EffectiveDate: day("2025-03-01")}}),
		fold([]Event{Registered{Code: "B", Name: "B", Kind: Province, On: day("2024-01-01")}, Merged{Code: "B", IntoCode: "C", EffectiveDate: day("2025-07-01")}}),
		fold([]Event{Registered{Code: "C", Name: "C", Kind: Province, On: day("2024-01-01")}}),
		fold([]Event{Registered{Code: "D", Name: "D", Kind: Province, On: day("2024-01-01")}, Dissolved{Code: "D", EffectiveDate: day("2025-01-01")}}),
	})
	for _, tt := range []struct{ code, asOf, want string }{
		{"A", "2024-12-31", "A"},
		{"A", "2025-04-01", "B"},
		{"A", "2025-08-01", "C"},
		{"D", "2025-08-01", "D"},
	} {
		if got := d.SuccessorAsOf(tt.code, day(tt.asOf)); got != tt.want {
			t.Errorf("SuccessorAsOf(%s, %s) = %s, want %s", tt.code, tt.asOf, got, tt.want)
		}
	}

	err := d.CheckMerge("C", "D", day("2025-02-01"))
	var dissolved *DissolvedError
	if !errors.As(err, &dissolved) || *dissolved != (DissolvedError{Code: "D", On: day("2025-01-01")}) {
		t.Errorf("CheckMerge into a dissolved unit = %v, want D dissolved on 2025-01-01", err)
	}
	err = d.CheckMerge("C", "A", day("2024-06-01"))
	var cycle *CycleError
	if !errors.As(err, &cycle) || cycle.Error() != "merge would make a cycle: C → A → B → C" {
		t.Errorf("CheckMerge closing a cycle = %v, want the cycle C → A → B → C", err)
	}
	if s, ok := d.Lookup("B"); !ok || s.MergedInto != "C" {
		t.Errorf("Lookup(B) = %+v, %v, want B merged into C", s, ok)
	}
	if s, ok := d.Lookup("E"); ok {
		t.Errorf("Lookup(E) = %+v, true, want false", s)
	}
}

func TestSuccessorAsOfStopsOnACorruptCycle(t *testing.T) {
	t.Parallel()
	var d Directory
	d.Apply(Merged{Code: "A", IntoCode: "B", EffectiveDate: day("2025-01-01")})
	d.Apply(Merged{Code: "B", IntoCode: "A", EffectiveDate: day("2025-01-01")})
	if got := d.SuccessorAsOf("A", day("2025-08-01")); got != "A" && got != "B" {
		t.Errorf("SuccessorAsOf on a cycle = %s, want A or B", got)
	}
}
