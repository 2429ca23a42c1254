package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
	"github.com/dxledger/dxledger/workflows/definition"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var hcm, _ = time.LoadLocation("Asia/Ho_Chi_Minh")

// now is the handlers' clock in these tests: 2024-06-30 in the province.
var now = time.Date(2024, 6, 30, 10, 0, 0, 0, hcm)

type fixture struct {
	t     *testing.T
	db    *pgtest.DB
	store *eventstore.Store
	h     *Handler
	admin Actor
}

func newFixture(t *testing.T, defs ...*definition.Definition) *fixture {
	t.Helper()
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if len(defs) == 0 {
		defs = []*definition.Definition{definition.Default()}
	}
	reg, err := definition.NewRegistry(defs...)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Config{Store: store, Definitions: reg, Now: func() time.Time { return now }, Location: hcm})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, store: store, h: h, admin: Actor{UserID: "u-admin", Role: role.Admin}}
	f.unit("DT", "Tỉnh Đồng Tháp", unit.Province, "")
	f.unit("SO-YT", "Sở Y tế", unit.Department, "DT")
	f.unit("SO-GDDT", "Sở Giáo dục và Đào tạo", unit.Department, "DT")
	return f
}

func (f *fixture) unit(code, name string, kind unit.Kind, parent string) {
	f.t.Helper()
	if _, err := f.h.RegisterUnit(context.Background(), f.admin, unit.Register{Code: code, Name: name, Kind: kind,
		ParentCode: parent, On: civil.Date{Year: 2020, Month: 1, Day: 1}}, Options{}); err != nil {
		f.t.Fatalf("register %s: %v", code, err)
	}
}

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// seed writes an item's history straight into the store, as if it had happened.
func (f *fixture) seed(kind item.Kind, id string, events ...item.Event) {
	f.t.Helper()
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		typ, data, err := item.Encode(kind, e)
		if err != nil {
			f.t.Fatal(err)
		}
		out[i] = eventstore.Event{Type: typ, Data: data, Metadata: eventstore.Metadata{Actor: "seed",
			OccurredOn: e.Date().Time(time.UTC)}}
	}
	if _, err := f.store.Append(context.Background(), StreamID(kind, id), eventstore.NoStream, out); err != nil {
		f.t.Fatal(err)
	}
}

// inStage is a project of SO-YT in stage, with a pending small request "r-pending", an approved
// request of central budget money, and (for the resume action) a stage to go back to.
func inStage(id string, stage item.Stage, version int) []item.Event {
	on := func(s string) item.Fact { return item.Fact{On: day(s)} }
	evs := []item.Event{
		&item.Proposed{Fact: on("2022-01-10"), ID: id, Kind: item.Project, Title: "Hồ sơ sức khỏe điện tử", UnitCode: "SO-YT",
			Pillar: item.Society, Sector: "health", EstimatedCost: 9_000_000_000, StartDate: day("2022-02-01"),
			EndDate: day("2025-12-31"), WorkflowVersion: version, Stage: item.StageProposed},
		&item.FundingRequested{Fact: on("2022-01-15"), RequestID: "r-approved", Source: "central_budget", Amount: 2_000_000_000, Year: 2022},
		&item.FundingRequested{Fact: on("2022-01-15"), RequestID: "r-pending", Source: "provincial_budget", Amount: 1_000_000_000, Year: 2022},
		&item.FundingApproved{Fact: on("2022-01-20"), RequestID: "r-approved", Source: "central_budget", Year: 2022,
			Amount: 2_000_000_000, Officers: []string{"u-fin0"}, Stage: stage},
	}
	if stage == item.StageSuspended {
		evs = append(evs, &item.Suspended{Fact: on("2022-02-01"), Reason: "chờ", From: item.StageFunded, Stage: item.StageSuspended})
	}
	if stage == item.StageImplemented || stage == item.StageEvaluated {
		evs = append(evs, &item.Implemented{Fact: on("2022-03-01"), Stage: item.StageImplemented})
	}
	if stage == item.StageEvaluated {
		evs = append(evs, &item.Evaluated{Fact: on("2022-04-01"), Rating: "effective", Score: 90, Stage: item.StageEvaluated})
	}
	return evs
}

// commandFor is a valid command for action on an item built by inStage.
func commandFor(action string) item.Command {
	on := item.Meta{On: day("2024-06-01")}
	switch action {
	case ActRequestFunding:
		return &item.RequestFunding{Meta: on, Source: "oda", Amount: 500_000_000, Year: 2024}
	case ActEndorse:
		return &item.EndorseFunding{Meta: on, RequestID: "r-pending"}
	case ActApprove:
		return &item.DecideFunding{Meta: on, RequestID: "r-pending", Approve: true, Amount: 1_000_000_000}
	case ActReject:
		return &item.DecideFunding{Meta: on, RequestID: "r-pending"}
	case ActDisburse:
		return &item.Disburse{Meta: on, Source: "central_budget", Amount: 100_000_000}
	case ActProgress:
		return &item.ReportProgress{Meta: on, Percent: 40}
	case ActImplemented:
		return &item.MarkImplemented{Meta: on}
	case ActEvaluate:
		return &item.Evaluate{Meta: on, Rating: "effective", Score: 80}
	case ActSuspend:
		return &item.Suspend{Meta: on, Reason: "thiếu nhân lực"}
	case ActResume:
		return &item.Resume{Meta: on}
	case ActCancel:
		return &item.Cancel{Meta: on, Reason: "trùng lặp"}
	}
	return nil
}

// Every transition × every role, generated from the default definition: allowed exactly when
// the definition lists the role and the stage, refused with 403 for the role and 409 for the
// stage otherwise. A focal point of another unit is always refused.
func TestEveryTransitionEveryRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	def := definition.Default()
	actors := map[role.Role]Actor{
		role.Admin:             {UserID: "u-admin", Role: role.Admin},
		role.FocalPoint:        {UserID: "u-focal", Role: role.FocalPoint, UnitCode: "SO-YT"},
		role.FinanceOfficer:    {UserID: "u-fin", Role: role.FinanceOfficer},
		role.SteeringCommittee: {UserID: "u-bcd", Role: role.SteeringCommittee},
	}
	stranger := Actor{UserID: "u-other", Role: role.FocalPoint, UnitCode: "SO-GDDT"}
	n := 0
	for _, act := range def.Actions {
		if act.Creates || act.Name == ActSameAs {
			continue // propose and same-as are covered by their own tests
		}
		for _, st := range def.Stages {
			for _, r := range role.All {
				n++
				id := fmt.Sprintf("m%03d", n)
				f.seed(item.Project, id, inStage(id, item.Stage(st.Name), 1)...)
				_, err := f.h.Act(context.Background(), actors[r], item.Project, id, act.Name, commandFor(act.Name), Options{})
				var trans *definition.TransitionError
				switch {
				case !slices.Contains(act.Roles, r):
					if !errors.Is(err, ErrForbidden) {
						t.Errorf("%s by %s from %s: err = %v, want forbidden", act.Name, r, st.Name, err)
					}
				case !slices.Contains(act.From, st.Name):
					if !errors.As(err, &trans) {
						t.Errorf("%s by %s from %s: err = %v, want a transition error", act.Name, r, st.Name, err)
					}
				case err != nil:
					t.Errorf("%s by %s from %s: err = %v, want success", act.Name, r, st.Name, err)
				default:
					got, _ := f.h.LoadItem(context.Background(), item.Project, id)
					want := st.Name
					switch act.To {
					case "":
					case definition.Previous:
						want = string(item.StageFunded)
					default:
						want = act.To
					}
					if string(got.Stage) != want {
						t.Errorf("%s by %s from %s: stage %s, want %s", act.Name, r, st.Name, got.Stage, want)
					}
				}
				if r == role.FocalPoint && slices.Contains(act.Roles, r) && slices.Contains(act.From, st.Name) {
					n++
					other := fmt.Sprintf("m%03d", n)
					f.seed(item.Project, other, inStage(other, item.Stage(st.Name), 1)...)
					if _, err := f.h.Act(context.Background(), stranger, item.Project, other, act.Name, commandFor(act.Name), Options{}); !errors.Is(err, ErrForbidden) {
						t.Errorf("%s by another unit's focal point: err = %v, want forbidden", act.Name, err)
					}
				}
			}
		}
	}
	if n < 200 {
		t.Fatalf("only %d cases generated", n)
	}
}

func TestProposeAuthorisation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := item.Propose{Kind: item.Model, Title: "Trạm y tế số", UnitCode: "SO-YT", Pillar: item.Society, Sector: "health"}
	for _, tc := range []struct {
		a    Actor
		want error
	}{
		{Actor{UserID: "f1", Role: role.FocalPoint, UnitCode: "SO-YT"}, nil},
		{Actor{UserID: "f2", Role: role.FocalPoint, UnitCode: "SO-GDDT"}, ErrForbidden},
		{Actor{UserID: "a", Role: role.Admin}, nil},
		{Actor{UserID: "fin", Role: role.FinanceOfficer}, ErrForbidden},
		{Actor{UserID: "bcd", Role: role.SteeringCommittee}, ErrForbidden},
	} {
		_, err := f.h.Propose(context.Background(), tc.a, c, Options{})
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("propose by %s of %s: err = %v, want %v", tc.a.Role, tc.a.UnitCode, err, tc.want)
		}
	}
}

// An item keeps the workflow version it started under: a newer definition with a lower
// endorsement threshold applies to new items only.
func TestDefinitionVersioning(t *testing.T) {
	t.Parallel()
	v2 := definition.Default()
	v2.Version = 2
	v2.Guards.EndorsementRequired = &definition.Threshold{AboveVND: 500_000_000}
	f := newFixture(t, definition.Default(), v2)
	fin := Actor{UserID: "u-fin", Role: role.FinanceOfficer}
	f.seed(item.Project, "old", inStage("old", item.StageProposed, 1)...)
	if _, err := f.h.Act(context.Background(), fin, item.Project, "old", ActApprove, commandFor(ActApprove), Options{}); err != nil {
		t.Errorf("approve 1 tỷ on a version-1 item: %v (version 1 needs no endorsement below 15 tỷ)", err)
	}
	f.seed(item.Project, "new", inStage("new", item.StageProposed, 2)...)
	if _, err := f.h.Act(context.Background(), fin, item.Project, "new", ActApprove, commandFor(ActApprove), Options{}); !errors.Is(err, item.ErrNeedsEndorsement) {
		t.Errorf("approve 1 tỷ on a version-2 item: %v, want ErrNeedsEndorsement", err)
	}
	res, err := f.h.Propose(context.Background(), f.admin, item.Propose{Kind: item.Model, Title: "x", UnitCode: "SO-YT",
		Pillar: item.Society, Sector: "health"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if it, _ := f.h.LoadItem(context.Background(), item.Model, res.ID); it.WorkflowVersion != 2 {
		t.Errorf("a new item starts under version %d, want the current 2", it.WorkflowVersion)
	}
}

// After a merge the item keeps its unit (history is not rewritten); the successor's focal
// point takes over, and the directory rolls the old unit up to the successor from the
// effective date.
func TestUnitMergeKeepsHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.unit("SO-KHDT", "Sở Kế hoạch và Đầu tư", unit.Department, "DT")
	f.unit("SO-TC", "Sở Tài chính", unit.Department, "DT")
	f.seed(item.Project, "p1", inStage("p1", item.StageFunded, 1)...)
	// inStage's project belongs to SO-YT; make one of SO-KHDT.
	evs := inStage("p2", item.StageFunded, 1)
	evs[0].(*item.Proposed).UnitCode = "SO-KHDT"
	f.seed(item.Project, "p2", evs...)
	successorFocal := Actor{UserID: "u-tc", Role: role.FocalPoint, UnitCode: "SO-TC"}
	if _, err := f.h.Act(context.Background(), successorFocal, item.Project, "p2", ActProgress, commandFor(ActProgress), Options{}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("before the merge: err = %v, want forbidden", err)
	}
	if _, err := f.h.MergeUnit(context.Background(), f.admin, unit.Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2024-03-01")}, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.Act(context.Background(), successorFocal, item.Project, "p2", ActProgress, commandFor(ActProgress), Options{}); err != nil {
		t.Errorf("after the merge, the successor's focal point: %v", err)
	}
	it, _ := f.h.LoadItem(context.Background(), item.Project, "p2")
	if it.UnitCode != "SO-KHDT" {
		t.Errorf("item unit %s after the merge, want SO-KHDT kept", it.UnitCode)
	}
	d, _ := f.h.Units(context.Background())
	if got := d.SuccessorAsOf("SO-KHDT", day("2024-02-29")); got != "SO-KHDT" {
		t.Errorf("as of 2024-02-29 SO-KHDT rolls up to %s", got)
	}
	if got := d.SuccessorAsOf("SO-KHDT", day("2024-03-01")); got != "SO-TC" {
		t.Errorf("as of 2024-03-01 SO-KHDT rolls up to %s, want SO-TC", got)
	}
	if _, err := f.h.Propose(context.Background(), f.admin, item.Propose{Kind: item.Model, Title: "x", UnitCode: "SO-KHDT",
		Pillar: item.Economy, Sector: "finance"}, Options{}); err == nil {
		t.Error("a merged unit registered a new item")
	}
	// The store kept every event of the merged unit.
	recs, _ := f.store.ReadStream(context.Background(), unit.StreamID("SO-KHDT"), 0)
	if len(recs) != 2 {
		t.Errorf("SO-KHDT has %d events, want registered and merged", len(recs))
	}
}

// The deadline manager fed the same event twice records once; a tick records nothing new.
func TestDeadlinesIdempotentUnderRedelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Funded on 2022-01-20, no progress since, planned end 2023-12-31: both deadlines are due
	// on 2024-06-30.
	evs := inStage("late", item.StageFunded, 1)
	evs[0].(*item.Proposed).EndDate = day("2023-12-31")
	f.seed(item.Project, "late", evs...)
	recs, err := f.store.ReadStream(context.Background(), StreamID(item.Project, "late"), 0)
	if err != nil {
		t.Fatal(err)
	}
	reports := projections.NewReports(f.db.Pool, func() time.Time { return now }, hcm)
	d := NewDeadlines(f.h, reports)
	for round := 0; round < 2; round++ {
		for _, r := range recs {
			if err := d.Handle(wmbridge.MessageFromRecord(r)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The read model behind the ticks, brought up to date.
	if _, err := newRunner(t, f).RebuildAll(context.Background(), readmodel.All(), nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := f.store.ReadStream(context.Background(), StreamID(item.Project, "late"), int64(len(recs)))
	var types []string
	for _, r := range after {
		types = append(types, r.Type)
		if r.Metadata.Role != string(role.System) {
			t.Errorf("%s recorded by role %q, want system", r.Type, r.Metadata.Role)
		}
	}
	slices.Sort(types)
	if fmt.Sprint(types) != "[project.became_overdue.v1 project.flagged_no_progress.v1]" {
		t.Errorf("recorded %v, want one overdue and one no-progress flag", types)
	}
	// A fresh manager (another process, or a restart) fed everything again records nothing.
	d2 := NewDeadlines(f.h, reports)
	all, _ := f.store.ReadStream(context.Background(), StreamID(item.Project, "late"), 0)
	for _, r := range all {
		if err := d2.Handle(wmbridge.MessageFromRecord(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d2.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.store.ReadStream(context.Background(), StreamID(item.Project, "late"), 0); len(again) != len(all) {
		t.Errorf("a second manager added %d events", len(again)-len(all))
	}
}

// Ticks alone find what is due, through the read model: an item whose events the manager
// never saw (written before it started) is flagged on the first tick, and only once.
func TestDeadlinesTickFindsDueItems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	evs := inStage("old", item.StageFunded, 1)
	evs[0].(*item.Proposed).EndDate = day("2023-12-31")
	f.seed(item.Project, "old", evs...)
	f.seed(item.Project, "fresh", inStage("fresh", item.StageProposed, 1)...) // end 2025-12-31: not overdue on 2024-06-30
	runner := newRunner(t, f)
	reports := projections.NewReports(f.db.Pool, func() time.Time { return now }, hcm)
	d := NewDeadlines(f.h, reports)
	for tick := 0; tick < 3; tick++ {
		if _, err := runner.RebuildAll(context.Background(), readmodel.All(), nil); err != nil {
			t.Fatal(err)
		}
		if err := d.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	old, _ := f.h.LoadItem(context.Background(), item.Project, "old")
	if old.OverdueSince.IsZero() || old.FlaggedNoProgress.IsZero() || old.Version != int64(len(evs))+2 {
		t.Errorf("old item after three ticks: version %d (want %d), overdue %s, flagged %s", old.Version, len(evs)+2, old.OverdueSince, old.FlaggedNoProgress)
	}
	fresh, _ := f.h.LoadItem(context.Background(), item.Project, "fresh")
	if !fresh.OverdueSince.IsZero() {
		t.Errorf("an item not past its end date was marked overdue")
	}
}

// TestDeadlinesTickPages: the manager reads the due items a page at a time and still reaches
// every one of them (five due items, pages of two: three pages, the last one short).
func TestDeadlinesTickPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := []string{"a", "b", "c", "d", "e"}
	for _, id := range ids {
		evs := inStage(id, item.StageFunded, 1)
		evs[0].(*item.Proposed).EndDate = day("2023-12-31")
		f.seed(item.Project, id, evs...)
	}
	if _, err := newRunner(t, f).RebuildAll(context.Background(), readmodel.All(), nil); err != nil {
		t.Fatal(err)
	}
	d := NewDeadlines(f.h, projections.NewReports(f.db.Pool, func() time.Time { return now }, hcm))
	d.page = 2
	if err := d.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		it, _ := f.h.LoadItem(context.Background(), item.Project, id)
		if it.OverdueSince.IsZero() || it.FlaggedNoProgress.IsZero() {
			t.Errorf("item %s after one tick in pages of 2: overdue %s, flagged %s", id, it.OverdueSince, it.FlaggedNoProgress)
		}
	}
}

func TestConflictRetryAndIfMatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed(item.Project, "p", inStage("p", item.StageFunded, 1)...)
	focal := Actor{UserID: "u-focal", Role: role.FocalPoint, UnitCode: "SO-YT"}
	stale := int64(2)
	_, err := f.h.Act(context.Background(), focal, item.Project, "p", ActProgress, commandFor(ActProgress), Options{IfMatch: &stale})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Actual != 4 {
		t.Fatalf("stale If-Match: err = %v, want a conflict at version 4", err)
	}
	// Without If-Match, racing writers are re-decided, not refused: all of them land.
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := f.h.Act(context.Background(), focal, item.Project, "p", ActDisburse,
				&item.Disburse{Meta: item.Meta{On: day("2024-06-01")}, Source: "central_budget", Amount: money.VND(10_000_000)}, Options{})
			errs <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Errorf("racing disbursement: %v", err)
		}
	}
	it, _ := f.h.LoadItem(context.Background(), item.Project, "p")
	if it.Disbursed != 80_000_000 {
		t.Errorf("disbursed %d, want 80,000,000", it.Disbursed)
	}
}

// newRunner returns a projection runner on the fixture's store.
func newRunner(t *testing.T, f *fixture) *projector.Runner {
	t.Helper()
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: f.db.Pool, Store: f.store, Projections: readmodel.All()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDeadlinesTickPaced: a store with many items due at once is caught up a bounded number
// of flags a tick (here 4 a minute, seven items with two flags each), a tick retried at once
// appends nothing more, later ticks (however long they take) go on where the last stopped and
// finish the rest, and the count of items still to look at falls to zero.
func TestDeadlinesTickPaced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := []string{"a", "b", "c", "d", "e", "f", "g"}
	for _, id := range ids {
		evs := inStage(id, item.StageFunded, 1)
		evs[0].(*item.Proposed).EndDate = day("2023-12-31")
		f.seed(item.Project, id, evs...)
	}
	runner := newRunner(t, f)
	d := NewDeadlines(f.h, projections.NewReports(f.db.Pool, func() time.Time { return now }, hcm))
	d.page = 3
	d.setPace(4, time.Minute)
	clock, step := time.Date(2024, 6, 30, 10, 0, 0, 0, time.UTC), time.Duration(0)
	d.clock = func() time.Time { clock = clock.Add(step); return clock }
	ctx := context.Background()
	flags := func() int {
		var n int
		if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE event_type IN
			('project.became_overdue.v1', 'project.flagged_no_progress.v1')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tick := func() {
		t.Helper()
		if _, err := runner.RebuildAll(ctx, readmodel.All(), nil); err != nil {
			t.Fatal(err)
		}
		if err := d.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	if n := flags(); n != 4 {
		t.Fatalf("first tick appended %d flags, want 4 (the bound)", n)
	}
	if p := d.Pending(); p != 5 { // c (half flagged) and d..g
		t.Errorf("after the first tick %d items still due, want 5", p)
	}
	tick() // the router's retry, at once: no second helping
	if n := flags(); n != 4 {
		t.Fatalf("a tick at once after the first appended %d flags more, want none", n-4)
	}
	// From here each look at the clock is 5 s later: a tick's bucket refills while it runs, and
	// still the tick appends no more than its bound.
	step = 5 * time.Second
	var got []int
	for range 5 {
		clock = clock.Add(time.Minute)
		before := flags()
		tick()
		got = append(got, flags()-before)
	}
	if fmt.Sprint(got) != "[4 4 2 0 0]" {
		t.Errorf("flags appended by the ticks a minute apart: %v, want [4 4 2 0 0]", got)
	}
	if p := d.Pending(); p != 0 {
		t.Errorf("after the catch-up %d items still due, want 0", p)
	}
	for _, id := range ids {
		it, _ := f.h.LoadItem(ctx, item.Project, id)
		if it.OverdueSince.IsZero() || it.FlaggedNoProgress.IsZero() {
			t.Errorf("item %s after the catch-up: overdue %s, flagged %s", id, it.OverdueSince, it.FlaggedNoProgress)
		}
	}
}
