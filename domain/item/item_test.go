package item

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/money"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

var today = day("2024-06-30")

func at(on string) Meta { return Meta{On: day(on), Today: today, Actor: "u-focal"} }

func by(actor, on string) Meta { return Meta{On: day(on), Today: today, Actor: actor} }

func proposed() *Proposed {
	return &Proposed{Fact: Fact{On: day("2022-03-01")}, ID: "p1", Kind: Project, Title: "Nền tảng nông nghiệp số",
		UnitCode: "SO-NNPTNT", Pillar: Economy, Sector: "agriculture", EstimatedCost: 40_000_000_000,
		StartDate: day("2022-04-01"), EndDate: day("2023-12-31"), WorkflowVersion: 1, Stage: StageProposed}
}

func requested(id string, src Source, amount money.VND, on string) *FundingRequested {
	return &FundingRequested{Fact: Fact{On: day(on)}, RequestID: id, Source: src, Amount: amount, Year: 2022}
}

func approved(id string, src Source, amount money.VND, on string) *FundingApproved {
	return &FundingApproved{Fact: Fact{On: day(on)}, RequestID: id, Source: src, Year: 2022, Amount: amount,
		Officers: []string{"u-fin1"}, Stage: StageFunded}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	const (
		big   = 20_000_000_000 // above the endorsement threshold
		huge  = 35_000_000_000 // above the two-officer threshold
		small = 5_000_000_000
	)
	guards := func(c DecideFunding) *DecideFunding {
		c.EndorsementAbove, c.TwoOfficersAbove, c.To = 15_000_000_000, 30_000_000_000, StageFunded
		return &c
	}
	tests := []struct {
		name    string
		given   []Event
		when    Command
		want    []Event
		wantErr error
	}{
		{
			name: "propose a project",
			when: &Propose{Meta: at("2022-03-01"), ID: "p1", Kind: Project, Title: "  Nền tảng nông nghiệp số ",
				UnitCode: "SO-NNPTNT", Pillar: Economy, Sector: "agriculture", EstimatedCost: 40_000_000_000,
				StartDate: day("2022-04-01"), EndDate: day("2023-12-31"), WorkflowVersion: 1, Stage: StageProposed},
			want: []Event{proposed()},
		},
		{
			name:    "propose twice",
			given:   []Event{proposed()},
			when:    &Propose{Meta: at("2022-03-01"), ID: "p1", Kind: Project},
			wantErr: ErrAlreadyExists,
		},
		{
			name:    "act on an item never proposed",
			when:    &ReportProgress{Meta: at("2022-05-01"), Percent: 10},
			wantErr: ErrNotFound,
		},
		{
			name:    "a fact dated before the proposal",
			given:   []Event{proposed()},
			when:    &ReportProgress{Meta: at("2022-02-28"), Percent: 10},
			wantErr: ErrTooEarly,
		},
		{
			name:  "request funding",
			given: []Event{proposed()},
			when:  &RequestFunding{Meta: at("2022-03-05"), RequestID: "r1", Source: "provincial_budget", Amount: small, Year: 2022},
			want:  []Event{requested("r1", "provincial_budget", small, "2022-03-05")},
		},
		{
			name:  "approve in part",
			given: []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05")},
			when:  guards(DecideFunding{Meta: by("u-fin1", "2022-03-10"), RequestID: "r1", Approve: true, Amount: 3_000_000_000}),
			want:  []Event{approved("r1", "provincial_budget", 3_000_000_000, "2022-03-10")},
		},
		{
			name:    "approve more than requested",
			given:   []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05")},
			when:    guards(DecideFunding{Meta: by("u-fin1", "2022-03-10"), RequestID: "r1", Approve: true, Amount: small + 1}),
			wantErr: ErrTooMuch,
		},
		{
			name:    "approve before the request was made",
			given:   []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05")},
			when:    guards(DecideFunding{Meta: by("u-fin1", "2022-03-04"), RequestID: "r1", Approve: true, Amount: small}),
			wantErr: ErrTooEarly,
		},
		{
			name:    "a large request needs the committee's endorsement first",
			given:   []Event{proposed(), requested("r1", "central_budget", big, "2022-03-05")},
			when:    guards(DecideFunding{Meta: by("u-fin1", "2022-03-10"), RequestID: "r1", Approve: true, Amount: small}),
			wantErr: ErrNeedsEndorsement,
		},
		{
			name: "an endorsed large request can be approved",
			given: []Event{proposed(), requested("r1", "central_budget", big, "2022-03-05"),
				&FundingEndorsed{Fact: Fact{On: day("2022-03-06")}, RequestID: "r1"}},
			when: guards(DecideFunding{Meta: by("u-fin1", "2022-03-10"), RequestID: "r1", Approve: true, Amount: big}),
			want: []Event{approved("r1", "central_budget", big, "2022-03-10")},
		},
		{
			name: "a huge approval waits for a second officer",
			given: []Event{proposed(), requested("r1", "oda", huge, "2022-03-05"),
				&FundingEndorsed{Fact: Fact{On: day("2022-03-06")}, RequestID: "r1"}},
			when: guards(DecideFunding{Meta: by("u-fin1", "2022-03-10"), RequestID: "r1", Approve: true, Amount: huge}),
			want: []Event{&FundingApprovalProposed{Fact: Fact{On: day("2022-03-10")}, RequestID: "r1", Amount: huge, Officer: "u-fin1"}},
		},
		{
			name: "the same officer cannot approve twice",
			given: []Event{proposed(), requested("r1", "oda", huge, "2022-03-05"),
				&FundingEndorsed{Fact: Fact{On: day("2022-03-06")}, RequestID: "r1"},
				&FundingApprovalProposed{Fact: Fact{On: day("2022-03-10")}, RequestID: "r1", Amount: huge, Officer: "u-fin1"}},
			when:    guards(DecideFunding{Meta: by("u-fin1", "2022-03-11"), RequestID: "r1", Approve: true, Amount: huge}),
			wantErr: ErrSameOfficer,
		},
		{
			name: "a second officer completes the approval",
			given: []Event{proposed(), requested("r1", "oda", huge, "2022-03-05"),
				&FundingEndorsed{Fact: Fact{On: day("2022-03-06")}, RequestID: "r1"},
				&FundingApprovalProposed{Fact: Fact{On: day("2022-03-10")}, RequestID: "r1", Amount: huge, Officer: "u-fin1"}},
			when: guards(DecideFunding{Meta: by("u-fin2", "2022-03-11"), RequestID: "r1", Approve: true, Amount: huge}),
			want: []Event{&FundingApproved{Fact: Fact{On: day("2022-03-11")}, RequestID: "r1", Source: "oda", Year: 2022,
				Amount: huge, Officers: []string{"u-fin1", "u-fin2"}, Stage: StageFunded}},
		},
		{
			name:    "decide a request twice",
			given:   []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10")},
			when:    guards(DecideFunding{Meta: by("u-fin1", "2022-03-11"), RequestID: "r1", Approve: false}),
			wantErr: ErrAlreadyDecided,
		},
		{
			name:  "disburse what was approved",
			given: []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10")},
			when:  &Disburse{Meta: at("2022-04-01"), Source: "provincial_budget", Amount: small},
			want:  []Event{&Disbursed{Fact: Fact{On: day("2022-04-01")}, Source: "provincial_budget", Amount: small, RequestID: "r1", Year: 2022}},
		},
		{
			name: "a payment that names no request draws on the earliest approval first, split over requests",
			given: []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10"),
				&FundingRequested{Fact: Fact{On: day("2022-03-06")}, RequestID: "r2", Source: "provincial_budget", Amount: small, Year: 2023},
				&FundingApproved{Fact: Fact{On: day("2022-03-08")}, RequestID: "r2", Source: "provincial_budget", Year: 2023, Amount: small, Officers: []string{"u-fin1"}, Stage: StageFunded}},
			when: &Disburse{Meta: at("2022-04-01"), Source: "provincial_budget", Amount: small + 1},
			want: []Event{&Disbursed{Fact: Fact{On: day("2022-04-01")}, Source: "provincial_budget", Amount: small, RequestID: "r2", Year: 2023},
				&Disbursed{Fact: Fact{On: day("2022-04-01")}, Source: "provincial_budget", Amount: 1, RequestID: "r1", Year: 2022}},
		},
		{
			name: "a payment that names its request counts in the request's budget year",
			given: []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10"),
				&FundingRequested{Fact: Fact{On: day("2022-03-06")}, RequestID: "r2", Source: "provincial_budget", Amount: small, Year: 2023},
				&FundingApproved{Fact: Fact{On: day("2022-03-08")}, RequestID: "r2", Source: "provincial_budget", Year: 2023, Amount: small, Officers: []string{"u-fin1"}, Stage: StageFunded}},
			when: &Disburse{Meta: at("2023-04-01"), RequestID: "r1", Amount: 5},
			want: []Event{&Disbursed{Fact: Fact{On: day("2023-04-01")}, Source: "provincial_budget", Amount: 5, RequestID: "r1", Year: 2022}},
		},
		{
			name:    "a payment that names its request may not exceed what is left of it",
			given:   []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10")},
			when:    &Disburse{Meta: at("2022-04-01"), RequestID: "r1", Amount: small + 1},
			wantErr: ErrTooMuch,
		},
		{
			name: "a payment dated before the approval of the request it names (another request of the source was approved by then)",
			given: []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10"),
				&FundingRequested{Fact: Fact{On: day("2022-03-06")}, RequestID: "r2", Source: "provincial_budget", Amount: small, Year: 2023},
				&FundingApproved{Fact: Fact{On: day("2022-03-08")}, RequestID: "r2", Source: "provincial_budget", Year: 2023, Amount: small, Officers: []string{"u-fin1"}, Stage: StageFunded}},
			when:    &Disburse{Meta: at("2022-03-09"), RequestID: "r1", Amount: 1},
			wantErr: ErrTooEarly,
		},
		{
			name:    "a payment naming a request that is not approved",
			given:   []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05")},
			when:    &Disburse{Meta: at("2022-04-01"), RequestID: "r1", Amount: 1},
			wantErr: Invalid{},
		},
		{
			name:  "own funding: no separate state funding needed",
			given: []Event{proposed()},
			when:  &ArrangeOwnFunding{Meta: at("2022-04-01"), Means: MeansRegularBudget, To: StageFunded},
			want:  []Event{&OwnFundingArranged{Fact: Fact{On: day("2022-04-01")}, Means: MeansRegularBudget, Stage: StageFunded}},
		},
		{
			name:    "own funding with unknown means",
			given:   []Event{proposed()},
			when:    &ArrangeOwnFunding{Meta: at("2022-04-01"), Means: "lottery", To: StageFunded},
			wantErr: Invalid{},
		},
		{
			name:    "a workflow version change needs a newer version and a note",
			given:   []Event{proposed()},
			when:    &ChangeWorkflowVersion{Meta: at("2022-04-01"), To: 1},
			wantErr: Invalid{},
		},
		{
			name:  "a workflow version change",
			given: []Event{proposed()},
			when:  &ChangeWorkflowVersion{Meta: at("2022-04-01"), To: 2, Note: "mends"},
			want:  []Event{&WorkflowVersionChanged{Fact: Fact{On: day("2022-04-01")}, From: 1, To: 2, Note: "mends"}},
		},
		{
			name:    "disburse more than approved from that source",
			given:   []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10")},
			when:    &Disburse{Meta: at("2022-04-01"), Source: "provincial_budget", Amount: small + 1},
			wantErr: ErrTooMuch,
		},
		{
			name:    "disburse from a source nothing was approved from",
			given:   []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10")},
			when:    &Disburse{Meta: at("2022-04-01"), Source: "oda", Amount: 1},
			wantErr: ErrTooMuch,
		},
		{
			name:    "disburse before the approval",
			given:   []Event{proposed(), requested("r1", "provincial_budget", small, "2022-03-05"), approved("r1", "provincial_budget", small, "2022-03-10")},
			when:    &Disburse{Meta: at("2022-03-09"), Source: "provincial_budget", Amount: 1},
			wantErr: ErrTooEarly,
		},
		{
			name:    "a date in the future",
			given:   []Event{proposed()},
			when:    &ReportProgress{Meta: Meta{On: day("2024-07-01"), Today: today}, Percent: 10},
			wantErr: Invalid{},
		},
		{
			name:  "suspend remembers the stage, resume goes back to it",
			given: []Event{proposed(), &Suspended{Fact: Fact{On: day("2022-05-01")}, Reason: "chờ vốn", From: StageProposed, Stage: StageSuspended}},
			when:  &Resume{Meta: at("2022-06-01")},
			want:  []Event{&Resumed{Fact: Fact{On: day("2022-06-01")}, Stage: StageProposed}},
		},
		{
			name:    "mark a project the same as a model",
			given:   []Event{proposed()},
			when:    &MarkSameAs{Meta: at("2022-06-01"), ModelID: "m1"},
			wantErr: ErrNotAModel,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decide(Fold(tt.given), tt.when)
			if tt.wantErr != nil {
				var inv Invalid
				if errors.As(tt.wantErr, &inv) {
					if !errors.As(err, &inv) {
						t.Fatalf("err = %v, want field errors", err)
					}
					return
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestProposeReportsEveryBadField(t *testing.T) {
	t.Parallel()
	_, err := Decide(State{}, &Propose{Meta: at("2022-03-01"), ID: "p1", Kind: Project, Title: " ", Pillar: "digital",
		EstimatedCost: -5, StartDate: day("2023-01-01"), EndDate: day("2022-01-01"), WorkflowVersion: 1, Stage: StageProposed})
	var inv Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v, want Invalid", err)
	}
	fields := map[string]bool{}
	for _, f := range inv {
		fields[f.Field] = true
	}
	for _, want := range []string{"title", "unit_code", "sector", "pillar", "estimated_cost_vnd", "end_date"} {
		if !fields[want] {
			t.Errorf("no error for %s in %v", want, err)
		}
	}
}

func TestEvolveMoney(t *testing.T) {
	t.Parallel()
	s := Fold([]Event{proposed(),
		requested("r1", "provincial_budget", 10, "2022-03-05"),
		requested("r2", "central_budget", 20, "2022-03-05"),
		approved("r1", "provincial_budget", 7, "2022-03-10"),
		&FundingRejected{Fact: Fact{On: day("2022-03-10")}, RequestID: "r2", Officer: "u-fin1"},
		&Disbursed{Fact: Fact{On: day("2022-04-01")}, Source: "provincial_budget", Amount: 5},
	})
	if s.Requested != 30 || s.Approved != 7 || s.Disbursed != 5 || s.ApprovedBySource["provincial_budget"] != 7 ||
		s.DisbursedBySource["provincial_budget"] != 5 || s.Stage != StageFunded || s.FirstFundedOn != day("2022-03-10") {
		t.Errorf("state = %+v; want requested 30, approved 7, disbursed 5, funded since 2022-03-10", s)
	}
	if r, _ := s.Request("r2"); r.Status != RequestRejected {
		t.Errorf("r2 status %s, want rejected", r.Status)
	}
}

func TestDeadlinesAreIdempotent(t *testing.T) {
	t.Parallel()
	s := Fold([]Event{proposed(), requested("r1", "oda", 10, "2022-03-05"), approved("r1", "oda", 10, "2022-03-10")})
	first, err := Decide(s, &FlagNoProgress{Meta: at("2022-06-10"), Days: 90})
	if err != nil || len(first) != 1 {
		t.Fatalf("first flag = %v, %v; want one event", first, err)
	}
	s = Evolve(s, first[0])
	if again, err := Decide(s, &FlagNoProgress{Meta: at("2022-06-11"), Days: 90}); err != nil || len(again) != 0 {
		t.Errorf("second flag = %v, %v; want nothing", again, err)
	}
	s = Evolve(s, &ProgressReported{Fact: Fact{On: day("2022-07-01")}, Percent: 20})
	if after, _ := Decide(s, &FlagNoProgress{Meta: at("2022-10-01"), Days: 90}); len(after) != 1 {
		t.Errorf("flag after a new silence = %v, want one event", after)
	}
	over, _ := Decide(s, &MarkOverdue{Meta: at("2024-01-02")})
	if len(over) != 1 {
		t.Fatalf("overdue = %v, want one event", over)
	}
	if again, _ := Decide(Evolve(s, over[0]), &MarkOverdue{Meta: at("2024-01-03")}); len(again) != 0 {
		t.Errorf("overdue twice = %v, want nothing", again)
	}
}

// The store never takes a text no column can hold, whatever adapter the command came through.
func TestTextsRefuseControlCharacters(t *testing.T) {
	t.Parallel()
	propose := func(title, scope string) error {
		_, err := Decide(State{}, &Propose{Meta: at("2022-03-01"), ID: "m1", Kind: Model, Title: title, UnitCode: "DT",
			Pillar: Economy, Sector: "general", Scope: scope, WorkflowVersion: 1, Stage: StageProposed})
		return err
	}
	for _, c := range []struct {
		title, scope, field string
	}{
		{"Chợ\x00số", "", "title"},
		{"Chợ\nsố", "", "title"},
		{"Ch\xc0\xafợ", "", "title"},
		{"Chợ số", "a\x00b", "scope"},
		{"Chợ số", "a\x1bb", "scope"},
	} {
		var inv Invalid
		if err := propose(c.title, c.scope); !errors.As(err, &inv) || len(inv) != 1 || inv[0].Field != c.field {
			t.Errorf("title %q scope %q: %v, want one error on %s", c.title, c.scope, err, c.field)
		}
	}
	if err := propose("Chợ số", "dòng 1\r\ndòng 2\tcột"); err != nil {
		t.Errorf("a scope of several lines: %v, want accepted", err)
	}
}

// Disbursed never exceeds approved, per source, as of any day (DESIGN.md, invariant 13): a
// payment dated before the approval that would cover it is refused, naming the day it breaks.
func TestDisbursementCoveredAsOfEveryDay(t *testing.T) {
	t.Parallel()
	with := func(id string, amount money.VND, asked, decided string) []Event {
		return []Event{requested(id, "oda", amount, asked), approved(id, "oda", amount, decided)}
	}
	given := []Event{proposed()}
	given = append(given, with("r1", 2, "2022-04-05", "2022-04-10")...)
	given = append(given, with("r2", 10, "2022-07-20", "2022-08-01")...)
	s := Fold(given)
	pay := func(s State, amount money.VND, on string) (State, error) {
		evs, err := Decide(s, &Disburse{Meta: at(on), Source: "oda", Amount: amount})
		for _, e := range evs {
			s = Evolve(s, e)
		}
		return s, err
	}
	shortOn := func(err error) string {
		var de *DateError
		if errors.As(err, &de) && de.Code == "item.not_covered" {
			return de.After.String()
		}
		return fmt.Sprint("not refused as not covered: ", err)
	}
	if _, err := pay(s, 8, "2022-05-01"); shortOn(err) != "2022-05-01" {
		t.Errorf("8 spent on 01/05 with 2 approved by then: %s, want refused as not covered on 2022-05-01", shortOn(err))
	}
	s, err := pay(s, 2, "2022-05-01")
	if err != nil {
		t.Fatalf("2 spent on 01/05 with 2 approved by then: %v", err)
	}
	// 1 more dated before that payment would leave 01/05 short.
	if _, err := pay(s, 1, "2022-04-20"); shortOn(err) != "2022-05-01" {
		t.Errorf("1 more on 20/04: %s, want refused as not covered on 2022-05-01", shortOn(err))
	}
	if _, err := pay(s, 10, "2022-08-02"); err != nil {
		t.Errorf("10 spent on 02/08 with 12 approved and 2 spent by then: %v", err)
	}
}
