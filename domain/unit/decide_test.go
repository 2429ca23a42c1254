package unit

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
)

// day parses a date the test knows to be good.
func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func fold(events []Event) State {
	var s State
	for _, e := range events {
		s = Evolve(s, e)
	}
	return s
}

var (
	regDT        = Registered{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: Province, On: day("2022-01-01")}
	regKHDT      = Registered{Code: "SO-KHDT", Name: "Sở Kế hoạch và Đầu tư", Kind: Department, ParentCode: "DT", On: day("2022-01-01")}
	mergeKHDT    = Merged{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2025-03-01")}
	dissolveKHDT = Dissolved{Code: "SO-KHDT", EffectiveDate: day("2025-03-01")}
)

func TestDecide(t *testing.T) {
	t.Parallel()
	longName := strings.Repeat("Đ", MaxNameLen)
	tests := []struct {
		name    string
		given   []Event
		when    Command
		want    []Event
		wantErr error
	}{
		{
			name: "a province registers, its name trimmed",
			when: Register{Code: "DT", Name: "  Tỉnh Đồng Tháp ", Kind: Province, On: day("2022-01-01")},
			want: []Event{regDT},
		},
		{
			name: "a department registers under the province",
			when: Register{Code: "SO-KHDT", Name: "Sở Kế hoạch và Đầu tư", Kind: Department, ParentCode: "DT", ParentKind: Province, On: day("2022-01-01")},
			want: []Event{regKHDT},
		},
		{
			name: "a district registers under the province",
			when: Register{Code: "H-CAOLANH", Name: "Huyện Cao Lãnh", Kind: District, ParentCode: "DT", ParentKind: Province, On: day("2022-01-01")},
			want: []Event{Registered{Code: "H-CAOLANH", Name: "Huyện Cao Lãnh", Kind: District, ParentCode: "DT", On: day("2022-01-01")}},
		},
		{
			name: "a commune registers under a district",
			when: Register{Code: "X-MYTHO", Name: "Xã Mỹ Thọ", Kind: Commune, ParentCode: "H-CAOLANH", ParentKind: District, On: day("2022-01-01")},
			want: []Event{Registered{Code: "X-MYTHO", Name: "Xã Mỹ Thọ", Kind: Commune, ParentCode: "H-CAOLANH", On: day("2022-01-01")}},
		},
		{
			name: "a commune registers under the province once districts are gone",
			when: Register{Code: "X-MYTHO-2", Name: "Xã Mỹ Thọ", Kind: Commune, ParentCode: "DT", ParentKind: Province, On: day("2025-07-01")},
			want: []Event{Registered{Code: "X-MYTHO-2", Name: "Xã Mỹ Thọ", Kind: Commune, ParentCode: "DT", On: day("2025-07-01")}},
		},
		{
			name: "a name of the longest length registers",
			when: Register{Code: "DT", Name: longName, Kind: Province, On: day("2022-01-01")},
			want: []Event{Registered{Code: "DT", Name: longName, Kind: Province, On: day("2022-01-01")}},
		},
		{
			name:    "a unit registers only once",
			given:   []Event{regDT},
			when:    Register{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: Province, On: day("2025-07-01")},
			wantErr: ErrAlreadyRegistered,
		},
		{
			name:    "a lower-case code",
			when:    Register{Code: "dt", Name: "Tỉnh Đồng Tháp", Kind: Province, On: day("2022-01-01")},
			wantErr: ErrInvalid,
		},
		{
			name:    "a code starting with a digit",
			when:    Register{Code: "1DT", Name: "Tỉnh Đồng Tháp", Kind: Province, On: day("2022-01-01")},
			wantErr: ErrInvalid,
		},
		{
			name:    "a code of 33 characters",
			when:    Register{Code: "D" + strings.Repeat("T", 32), Name: "Tỉnh Đồng Tháp", Kind: Province, On: day("2022-01-01")},
			wantErr: ErrInvalid,
		},
		{
			name:    "a blank name",
			when:    Register{Code: "DT", Name: " \t", Kind: Province, On: day("2022-01-01")},
			wantErr: ErrInvalid,
		},
		{
			name:    "a name one character too long",
			when:    Register{Code: "DT", Name: longName + "x", Kind: Province, On: day("2022-01-01")},
			wantErr: ErrInvalid,
		},
		{
			name:    "an unknown kind",
			when:    Register{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: "ward", On: day("2022-01-01")},
			wantErr: ErrInvalid,
		},
		{
			name:    "no date",
			when:    Register{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: Province},
			wantErr: ErrInvalid,
		},
		{
			name:    "an impossible date",
			when:    Register{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: Province, On: civil.Date{Year: 2025, Month: time.February, Day: 30}},
			wantErr: ErrInvalid,
		},
		{
			name:    "a department without a parent",
			when:    Register{Code: "SO-TC", Name: "Sở Tài chính", Kind: Department, On: day("2022-01-01")},
			wantErr: ErrInvalidParent,
		},
		{
			name:    "a district under a district",
			when:    Register{Code: "H-LAPVO", Name: "Huyện Lấp Vò", Kind: District, ParentCode: "H-CAOLANH", ParentKind: District, On: day("2022-01-01")},
			wantErr: ErrInvalidParent,
		},
		{
			name:    "a commune under a department",
			when:    Register{Code: "X-MYTHO", Name: "Xã Mỹ Thọ", Kind: Commune, ParentCode: "SO-TC", ParentKind: Department, On: day("2022-01-01")},
			wantErr: ErrInvalidParent,
		},
		{
			name:    "a province with a parent",
			when:    Register{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: Province, ParentCode: "TG", ParentKind: Province, On: day("2022-01-01")},
			wantErr: ErrInvalidParent,
		},
		{
			name:    "a unit its own parent",
			when:    Register{Code: "X-A", Name: "Xã A", Kind: Commune, ParentCode: "X-A", ParentKind: District, On: day("2022-01-01")},
			wantErr: ErrInvalidParent,
		},
		{
			name:  "a rename",
			given: []Event{regDT},
			when:  Rename{Code: "DT", NewName: " Tỉnh Đồng Tháp (mới) ", On: day("2025-07-01")},
			want:  []Event{Renamed{Code: "DT", Name: "Tỉnh Đồng Tháp (mới)", On: day("2025-07-01")}},
		},
		{
			name:  "a rename to the same name changes nothing",
			given: []Event{regDT},
			when:  Rename{Code: "DT", NewName: "Tỉnh Đồng Tháp", On: day("2025-07-01")},
		},
		{
			name:    "a rename of an unknown unit",
			when:    Rename{Code: "DT", NewName: "Tỉnh Đồng Tháp", On: day("2025-07-01")},
			wantErr: ErrNotRegistered,
		},
		{
			name:    "a rename to a blank name",
			given:   []Event{regDT},
			when:    Rename{Code: "DT", NewName: "", On: day("2025-07-01")},
			wantErr: ErrInvalid,
		},
		{
			name:    "a rename of a merged unit",
			given:   []Event{regKHDT, mergeKHDT},
			when:    Rename{Code: "SO-KHDT", NewName: "Sở Đầu tư", On: day("2025-04-01")},
			wantErr: ErrAlreadyMerged,
		},
		{
			name:    "a rename of a dissolved unit",
			given:   []Event{regKHDT, dissolveKHDT},
			when:    Rename{Code: "SO-KHDT", NewName: "Sở Đầu tư", On: day("2025-04-01")},
			wantErr: ErrDissolved,
		},
		{
			name:    "a rename before registration",
			given:   []Event{regDT},
			when:    Rename{Code: "DT", NewName: "Tỉnh Sa Đéc", On: day("2021-12-31")},
			wantErr: ErrBeforeRegistration,
		},
		{
			name:  "a merge",
			given: []Event{regKHDT},
			when:  Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2025-03-01")},
			want:  []Event{mergeKHDT},
		},
		{
			name:  "a merge on the registration day",
			given: []Event{regKHDT},
			when:  Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2022-01-01")},
			want:  []Event{Merged{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2022-01-01")}},
		},
		{
			name:    "a merge before registration",
			given:   []Event{regKHDT},
			when:    Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2021-12-31")},
			wantErr: ErrBeforeRegistration,
		},
		{
			name:    "a merge into itself",
			given:   []Event{regKHDT},
			when:    Merge{Code: "SO-KHDT", IntoCode: "SO-KHDT", EffectiveDate: day("2025-03-01")},
			wantErr: ErrCycle,
		},
		{
			name:    "a merge of a merged unit",
			given:   []Event{regKHDT, mergeKHDT},
			when:    Merge{Code: "SO-KHDT", IntoCode: "SO-NV", EffectiveDate: day("2025-07-01")},
			wantErr: ErrAlreadyMerged,
		},
		{
			name:    "a merge of a dissolved unit",
			given:   []Event{regKHDT, dissolveKHDT},
			when:    Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2025-07-01")},
			wantErr: ErrDissolved,
		},
		{
			name:    "a merge of an unknown unit",
			when:    Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2025-03-01")},
			wantErr: ErrNotRegistered,
		},
		{
			name:    "a merge into a malformed code",
			given:   []Event{regKHDT},
			when:    Merge{Code: "SO-KHDT", IntoCode: "Sở Tài chính", EffectiveDate: day("2025-03-01")},
			wantErr: ErrInvalid,
		},
		{
			name:    "a merge without a date",
			given:   []Event{regKHDT},
			when:    Merge{Code: "SO-KHDT", IntoCode: "SO-TC"},
			wantErr: ErrInvalid,
		},
		{
			name:  "a dissolution",
			given: []Event{regKHDT},
			when:  Dissolve{Code: "SO-KHDT", EffectiveDate: day("2025-03-01")},
			want:  []Event{dissolveKHDT},
		},
		{
			name:    "a dissolution of a dissolved unit",
			given:   []Event{regKHDT, dissolveKHDT},
			when:    Dissolve{Code: "SO-KHDT", EffectiveDate: day("2025-07-01")},
			wantErr: ErrDissolved,
		},
		{
			name:    "a dissolution of a merged unit",
			given:   []Event{regKHDT, mergeKHDT},
			when:    Dissolve{Code: "SO-KHDT", EffectiveDate: day("2025-07-01")},
			wantErr: ErrAlreadyMerged,
		},
		{
			name:    "a dissolution before registration",
			given:   []Event{regKHDT},
			when:    Dissolve{Code: "SO-KHDT", EffectiveDate: day("2021-06-30")},
			wantErr: ErrBeforeRegistration,
		},
		{
			name:    "no command",
			wantErr: ErrInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decide(fold(tt.given), tt.when)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decide error = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decide = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecideErrorsCarryTheFacts(t *testing.T) {
	t.Parallel()
	_, err := Decide(fold([]Event{regKHDT, mergeKHDT}), Dissolve{Code: "SO-KHDT", EffectiveDate: day("2025-07-01")})
	var merged *AlreadyMergedError
	if !errors.As(err, &merged) {
		t.Fatalf("error = %v, want an *AlreadyMergedError", err)
	}
	if got, want := *merged, (AlreadyMergedError{Code: "SO-KHDT", Into: "SO-TC", On: day("2025-03-01")}); got != want {
		t.Errorf("error facts = %+v, want %+v", got, want)
	}

	_, err = Decide(State{}, Register{Code: "dt", Name: "", Kind: Province, On: day("2022-01-01")})
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if errors.As(e, &fe) {
			fields = append(fields, fe.Field)
		}
	}
	if want := []string{"code", "name"}; !reflect.DeepEqual(fields, want) {
		t.Errorf("fields in error %q = %v, want %v", err, fields, want)
	}
}

func TestEvolve(t *testing.T) {
	t.Parallel()
	got := fold([]Event{regKHDT, Renamed{Code: "SO-KHDT", Name: "Sở KH&ĐT", On: day("2023-01-01")}, mergeKHDT})
	want := State{
		Code: "SO-KHDT", Name: "Sở KH&ĐT", Kind: Department, ParentCode: "DT", Registered: day("2022-01-01"),
		MergedInto: "SO-TC", MergedOn: day("2025-03-01"), Version: 3,
	}
	if got != want {
		t.Errorf("state = %+v, want %+v", got, want)
	}
}

func TestActiveOn(t *testing.T) {
	t.Parallel()
	merged := fold([]Event{regKHDT, mergeKHDT})
	dissolved := fold([]Event{regKHDT, dissolveKHDT})
	tests := []struct {
		s    State
		on   string
		want bool
	}{
		{merged, "2021-12-31", false},
		{merged, "2022-01-01", true},
		{merged, "2025-02-28", true},
		{merged, "2025-03-01", false},
		{dissolved, "2025-02-28", true},
		{dissolved, "2025-03-01", false},
		{State{}, "2025-01-01", false},
	}
	for _, tt := range tests {
		if got := tt.s.ActiveOn(day(tt.on)); got != tt.want {
			t.Errorf("%q ActiveOn(%s) = %v, want %v", tt.s.Code, tt.on, got, tt.want)
		}
	}
}
