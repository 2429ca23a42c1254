package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
)

// Token is a sample bearer token printed for a person of the demo.
type Token struct {
	Who, Role, Unit, Token string
}

// Password is the demo people's password for the web pages. It is printed with the demo: a
// demo is for showing, not for real data.
const Password = "dongthap-2022"

// Summary is what Load did.
type Summary struct {
	Units, Models, Projects int
	Tokens                  []Token
}

type loader struct {
	ctx    context.Context
	h      *workflows.Handler
	rec    *Recorder
	last   map[string]time.Time // when the last fact of each stream was entered
	ids    *identity.Store
	actors map[string]workflows.Actor // by unit code for focal points; "admin", "fin1", "fin2", "bcd"
	names  map[string]string          // the same people's names, which they sign in with
	tokens map[string]string          // the first token of people created by this run
	keyOf  map[string]string          // an item's id → the key its proposal was entered under
	err    error
}

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err) // the scenario's own dates
	}
	return d
}

func opts(key string) workflows.Options {
	return workflows.Options{IdempotencyKey: "demo:" + key, Route: "demo"}
}

func (l *loader) person(label, name string, r role.Role, unitCode string) {
	if l.err != nil {
		return
	}
	// People are made with their password and first token before anything they act on is
	// recorded: their credentials were set before the requests they take part in (DESIGN.md
	// invariant 15).
	u, tok, err := l.ids.Ensure(l.ctx, identity.System, name, string(r), unitCode, Password)
	if err != nil {
		l.err = err
		return
	}
	if tok != "" {
		l.tokens[label] = tok
	}
	l.actors[label] = workflows.Actor{UserID: u.ID, Role: r, UnitCode: unitCode, RequestID: "demo"}
	l.names[label] = u.Name
}

func (l *loader) unit(c unit.Register) {
	if l.err != nil {
		return
	}
	l.record("unit:"+c.Code, "", day("2022-01-03"), 0, 0) // the system's first day
	if !c.On.Before(day("2022-01-01")) {
		l.record("unit:"+c.Code, "", c.On, 0, 3)
	}
	if _, err := l.h.RegisterUnit(l.ctx, l.actors["admin"], c, opts("unit:"+c.Code)); err != nil {
		l.err = fmt.Errorf("unit %s: %w", c.Code, err)
	}
}

func (l *loader) propose(key string, a workflows.Actor, c item.Propose) string {
	if l.err != nil {
		return ""
	}
	lo, hi := 2, 20 // a registration is entered a few days to a few weeks after it was made
	if c.Kind == item.Project {
		lo, hi = 1, 7
	}
	l.record(key, key, c.On, lo, hi)
	res, err := l.h.Propose(l.ctx, a, c, opts(key))
	if err != nil {
		l.err = fmt.Errorf("%s %q: %w", c.Kind, c.Title, err)
		return ""
	}
	l.keyOf[res.ID] = key
	return res.ID
}

func (l *loader) act(key string, who string, k item.Kind, id, action string, c item.Command) workflows.Result {
	if l.err != nil {
		return workflows.Result{}
	}
	lo, hi := entryLag(action)
	if d, ok := late[key]; ok {
		lo, hi = d, d
	}
	l.record(key, l.streamOf(id), dateOf(c), lo, hi)
	res, err := l.h.Act(l.ctx, l.actors[who], k, id, action, c, opts(key))
	if err != nil {
		l.err = fmt.Errorf("%s %s (%s): %w", action, id, key, err)
	}
	return res
}

// streamOf names the item's stream for the recording order: the key its proposal was entered
// under.
func (l *loader) streamOf(id string) string {
	if k, ok := l.keyOf[id]; ok {
		return k
	}
	return id
}

// entryLag is how many days after its business date a fact of action was entered.
func entryLag(action string) (lo, hi int) {
	switch action {
	case workflows.ActProgress:
		return 5, 25 // the quarterly report reaches the secretariat weeks later
	case workflows.ActDisburse:
		return 7, 40 // payments are entered from the treasury's statements
	case workflows.ActImplemented, workflows.ActOwnFunding:
		return 3, 15
	case workflows.ActAdoptVersion:
		return 0, 2
	}
	return 1, 6
}

// late are the facts entered long after their business date: days from it to their entry.
// They are what makes "as known at the meeting of 05/10/2023" differ from "as of" that day.
var late = map[string]int{
	// The secretariat's review of 15/11/2022 found Trạm y tế xã số of Hồng Ngự to be the
	// same model as Tam Nông's; the marking was entered only after the meeting of 05/10/2023.
	"same-as:l24": 345,
	// Nền tảng nông nghiệp số: the provincial-budget payment of 30/06/2023 was entered from
	// the treasury's statement in October.
	"p1:disburse:1": 110,
	// HTX lên sàn thương mại điện tử: evaluated on 25/09/2023, the minutes entered after the
	// meeting.
	"own:d09:evaluate": 25,
}

// dateOf is the business date a command of the demo carries.
func dateOf(c item.Command) civil.Date {
	switch c := c.(type) {
	case *item.RequestFunding:
		return c.On
	case *item.EndorseFunding:
		return c.On
	case *item.DecideFunding:
		return c.On
	case *item.Disburse:
		return c.On
	case *item.ReportProgress:
		return c.On
	case *item.MarkImplemented:
		return c.On
	case *item.Evaluate:
		return c.On
	case *item.Suspend:
		return c.On
	case *item.Cancel:
		return c.On
	case *item.MarkSameAs:
		return c.On
	case *item.ArrangeOwnFunding:
		return c.On
	}
	return civil.Date{}
}

// adopt moves the item to the newest workflow version, which mends the one it started under.
func (l *loader) adopt(key, who string, k item.Kind, id string, on civil.Date, note string) {
	if l.err != nil {
		return
	}
	lo, hi := entryLag(workflows.ActAdoptVersion)
	l.record(key, l.streamOf(id), on, lo, hi)
	if _, err := l.h.AdoptVersion(l.ctx, l.actors[who], k, id, item.ChangeWorkflowVersion{Meta: item.Meta{On: on}, To: 2, Note: note}, opts(key)); err != nil {
		l.err = fmt.Errorf("adopt version 2 %s (%s): %w", id, key, err)
	}
}

// Load records the scenario through the recorder's command handlers, as the people of the
// demo, each fact when it would have been entered (recorded.go); ids is the server's own
// account store, which issues the sample tokens. Run twice, it records nothing new (every
// command has a fixed idempotency key) and prints fresh sample tokens.
func Load(ctx context.Context, rec *Recorder, ids *identity.Store) (Summary, error) {
	l := &loader{ctx: ctx, h: rec.v1, rec: rec, last: map[string]time.Time{}, ids: rec.people,
		actors: map[string]workflows.Actor{}, names: map[string]string{}, keyOf: map[string]string{},
		tokens: map[string]string{}}
	l.record("people", "", day("2022-01-03"), 0, 0)
	l.person("admin", "Quản trị hệ thống (dữ liệu mẫu)", role.Admin, "")

	since := day("2020-01-01")
	l.unit(unit.Register{Code: "DT", Name: "Tỉnh Đồng Tháp", Kind: unit.Province, On: since})
	l.unit(unit.Register{Code: "TG", Name: "Tỉnh Tiền Giang", Kind: unit.Province, On: since})
	for _, d := range Departments {
		l.unit(unit.Register{Code: d.code, Name: d.name, Kind: unit.Department, ParentCode: "DT", On: since})
	}
	for _, d := range Districts {
		l.unit(unit.Register{Code: d.code, Name: d.name, Kind: unit.District, ParentCode: "DT", On: since})
	}
	for _, d := range append(append([]unitDef{}, Departments...), Districts...) {
		l.person(d.code, "Cán bộ đầu mối "+d.name, role.FocalPoint, d.code)
	}
	l.person("fin1", "Nguyễn Thị Thu Hà (Sở Tài chính)", role.FinanceOfficer, "")
	l.person("fin2", "Trần Văn Phúc (Sở Tài chính)", role.FinanceOfficer, "")
	l.person("bcd", "Tổ giúp việc Ban Chỉ đạo CĐS tỉnh", role.SteeringCommittee, "")

	// 2022: 69 model registrations, then the secretariat's review finds 20 that are the same
	// model with another scope.
	ids2 := map[string]string{}
	models := append(append([]modelDef{}, departmentModels...), localityModels...)
	for _, md := range models {
		ids2[md.key] = l.propose("model:"+md.key, l.actors[md.unit], item.Propose{
			Meta: item.Meta{On: day(md.on)}, Kind: item.Model, Title: md.title, UnitCode: md.unit, Pillar: md.pillar,
			Sector: md.sector, Scope: md.scope})
	}
	for _, md := range models {
		if md.sameAs != "" {
			l.act("same-as:"+md.key, "bcd", item.Model, ids2[md.key], workflows.ActSameAs,
				&item.MarkSameAs{Meta: item.Meta{On: day("2022-11-15")}, ModelID: ids2[md.sameAs]})
		}
	}
	projects := l.projects()
	l.withoutStateFunding(ids2)
	l.indicators(ids2) // issue 15: indicators, targets, actuals, the DTI (indicators.go)

	// 2025: the reorganisation.
	l.unit(unit.Register{Code: "SO-NNMT", Name: "Sở Nông nghiệp và Môi trường", Kind: unit.Department, ParentCode: "DT", On: day("2025-03-01")})
	march := day("2025-03-01")
	for _, mg := range [][2]string{{"SO-KHDT", "SO-TC"}, {"SO-TTTT", "SO-KHCN"}, {"SO-GTVT", "SO-XD"},
		{"SO-TNMT", "SO-NNMT"}, {"SO-NNPTNT", "SO-NNMT"}} {
		l.merge(mg[0], mg[1], march)
	}
	// Sở LĐ-TB&XH is split, not merged (GLOSSARY.md): social protection to Sở Y tế, labour and
	// employment (the rest) to Sở Nội vụ; the demo has no vocational-education item for Sở GD&ĐT.
	l.split(unit.SplitUnit{Code: "SO-LDTBXH", EffectiveDate: march, RestIntoCode: "SO-NV",
		Parts: []unit.SplitPart{{IntoCode: "SO-YT", ItemIDs: []string{ids2["d19"]}}}})
	july := day("2025-07-01")
	for _, d := range Districts {
		l.merge(d.code, "DT", july) // the district level ends
	}
	l.merge("TG", "DT", july) // Đồng Tháp and Tiền Giang become the new Đồng Tháp
	if l.err != nil {
		return Summary{}, l.err
	}

	sum := Summary{Units: 2 + len(Departments) + len(Districts) + 1, Models: len(models), Projects: projects}
	l.ids = ids // a later run's sample tokens are given now, by the server's own account store
	for _, label := range []string{"admin", "SO-YT", "fin1", "fin2", "bcd"} {
		a := l.actors[label]
		tok := l.tokens[label]
		if tok == "" {
			// Loaded before: a fresh token to print (the secrets of the first are not kept).
			var err error
			if _, tok, _, err = ids.IssueToken(ctx, identity.System, a.UserID, "demo", 0); err != nil {
				return Summary{}, err
			}
		}
		sum.Tokens = append(sum.Tokens, Token{Who: l.names[label], Role: string(a.Role), Unit: a.UnitCode, Token: tok})
	}
	return sum, nil
}

func (l *loader) split(c unit.SplitUnit) {
	if l.err != nil {
		return
	}
	l.record("split:"+c.Code, "", c.EffectiveDate, 0, 4)
	if _, err := l.h.SplitUnit(l.ctx, l.actors["admin"], c, opts("split:"+c.Code)); err != nil {
		l.err = fmt.Errorf("split %s: %w", c.Code, err)
	}
}

func (l *loader) merge(code, into string, on civil.Date) {
	if l.err != nil {
		return
	}
	l.record("merge:"+code, "", on, 0, 4)
	if _, err := l.h.MergeUnit(l.ctx, l.actors["admin"], unit.Merge{Code: code, IntoCode: into, EffectiveDate: on}, opts("merge:"+code)); err != nil {
		l.err = fmt.Errorf("merge %s into %s: %w", code, into, err)
	}
}

const ty = money.VND(1_000_000_000) // one tỷ đồng

// ownMeans is a model carried out without separate state funding.
type ownMeans struct {
	key        string // the registration's key in departmentModels or localityModels
	means      item.Means
	on         string // the day its unit said so
	note       string
	progress   int
	progressOn string
	doneOn     string
	rating     item.Rating
	score      int
	evalOn     string
}

// withoutStateFunding is issue 12's point 1 in the demo: most models are carried out with a
// unit's regular budget, by an enterprise partner at no cost to the state, or by re-using an
// existing system. In February 2023 the secretariat moves every model registration to
// workflow version 2, which mends version 1 (under which such a model could never get past
// proposed); then the units say how these models are paid for, report progress, finish them,
// and the committee evaluates them.
func (l *loader) withoutStateFunding(ids map[string]string) {
	keys := make([]string, 0, len(departmentModels)+len(localityModels))
	for _, md := range append(append([]modelDef{}, departmentModels...), localityModels...) {
		keys = append(keys, md.key)
	}
	l.h = l.rec.latest // version 2 is in force
	for _, key := range keys {
		l.adopt("adopt:"+key, "bcd", item.Model, ids[key], day("2023-02-06"),
			"Áp dụng quy trình phiên bản 2: mô hình không cần cấp vốn riêng được triển khai, báo cáo tiến độ và đánh giá")
	}
	units := map[string]string{}
	for _, md := range append(append([]modelDef{}, departmentModels...), localityModels...) {
		units[md.key] = md.unit
	}
	for _, o := range []ownMeans{
		{"d07", item.MeansReuse, "2023-02-15", "Dùng Hệ thống thông tin quốc gia về đăng ký doanh nghiệp", 0, "", "2023-04-28", "effective", 88, "2023-06-20"},
		{"d02", item.MeansRegularBudget, "2023-02-20", "Kinh phí thường xuyên của Văn phòng UBND tỉnh", 60, "2023-03-31", "2023-05-15", "effective", 85, "2023-07-10"},
		{"d09", item.MeansEnterprise, "2023-03-01", "Các sàn thương mại điện tử hỗ trợ miễn phí", 50, "2023-05-31", "2023-08-30", "partly_effective", 72, "2023-09-25"},
		{"l13", item.MeansEnterprise, "2023-02-20", "Ngân hàng và doanh nghiệp viễn thông triển khai, không dùng ngân sách", 0, "", "2023-06-30", "effective", 90, "2023-08-15"},
		{"l19", item.MeansEnterprise, "2023-03-05", "Ngân hàng và doanh nghiệp viễn thông triển khai, không dùng ngân sách", 70, "2023-07-31", "2023-11-20", "effective", 87, "2024-01-15"},
		{"l35", item.MeansEnterprise, "2023-03-10", "Sàn thương mại điện tử và bưu điện hỗ trợ", 0, "", "2023-09-15", "partly_effective", 75, "2024-02-01"},
		{"d26", item.MeansReuse, "2023-02-25", "Dùng hệ thống học bạ số của Bộ Giáo dục và Đào tạo", 0, "", "2023-09-05", "effective", 80, "2024-03-10"},
		{"l01", item.MeansRegularBudget, "2023-02-10", "Kinh phí thường xuyên của huyện", 80, "2024-06-30", "", "", 0, ""},
		{"d21", item.MeansEnterprise, "2023-04-01", "Doanh nghiệp du lịch tài trợ", 40, "2023-09-30", "", "", 0, ""},
	} {
		id, unit, k := ids[o.key], units[o.key], "own:"+o.key
		l.act(k+":arrange", unit, item.Model, id, workflows.ActOwnFunding,
			&item.ArrangeOwnFunding{Meta: item.Meta{On: day(o.on)}, Means: o.means, Note: o.note})
		if o.progressOn != "" {
			l.act(k+":progress", unit, item.Model, id, workflows.ActProgress,
				&item.ReportProgress{Meta: item.Meta{On: day(o.progressOn)}, Percent: o.progress})
		}
		if o.doneOn == "" {
			continue
		}
		l.act(k+":implemented", unit, item.Model, id, workflows.ActImplemented,
			&item.MarkImplemented{Meta: item.Meta{On: day(o.doneOn)}, Note: "Đã đưa vào vận hành"})
		l.act(k+":evaluate", "bcd", item.Model, id, workflows.ActEvaluate,
			&item.Evaluate{Meta: item.Meta{On: day(o.evalOn)}, Rating: o.rating, Score: o.score, Note: "Đánh giá của Ban Chỉ đạo"})
	}
}

// projects records the DT scheme's projects in the three priority sectors: partial approvals
// from several sources, disbursements, progress, two implemented and evaluated, one overdue,
// one without a balanced funding source, one suspended, one cancelled.
func (l *loader) projects() int {
	type req struct {
		key      string
		src      item.Source
		amount   money.VND
		year     int
		on       string
		endorse  string // date of the committee's endorsement, "" when not needed
		approve  money.VND
		decideOn string
		reject   bool
	}
	type project struct {
		key, unit, title, sector string
		pillar                   item.Pillar
		est                      money.VND
		start, end, on           string
		reqs                     []req
		disburse                 []struct {
			src    item.Source
			amount money.VND
			on     string
			req    string // the request it draws on
		}
		progress   []int
		progressOn []string
		doneOn     string
		rating     item.Rating
		score      int
		suspend    string
		cancel     string
	}
	type pay = struct {
		src    item.Source
		amount money.VND
		on     string
		req    string
	}
	list := []project{
		{key: "p1", unit: "SO-NNPTNT", title: "Nền tảng nông nghiệp số Đồng Tháp", sector: "agriculture", pillar: eco, est: 45 * ty,
			start: "2022-07-01", end: "2024-12-31", on: "2022-06-15",
			reqs: []req{{"r1", "central_budget", 20 * ty, 2022, "2022-06-20", "2022-07-05", 15 * ty, "2022-07-20", false},
				{"r2", "provincial_budget", 15 * ty, 2023, "2022-12-10", "", 10 * ty, "2023-01-15", false}},
			disburse:   []pay{{"central_budget", 12 * ty, "2022-10-30", "r1"}, {"provincial_budget", 4 * ty, "2023-06-30", "r2"}},
			progress:   []int{25, 60},
			progressOn: []string{"2022-12-31", "2023-09-30"}},
		{key: "p2", unit: "SO-GDDT", title: "Hạ tầng và học liệu số cho trường phổ thông", sector: "education", pillar: soc, est: 60 * ty,
			start: "2022-08-01", end: "2024-08-31", on: "2022-07-10",
			reqs: []req{{"r1", "central_budget", 35 * ty, 2022, "2022-07-15", "2022-07-25", 35 * ty, "2022-08-10", false},
				{"r2", "provincial_budget", 10 * ty, 2023, "2023-01-05", "", 8 * ty, "2023-02-01", false},
				{"r3", "enterprise", 5 * ty, 2023, "2023-02-10", "", 5 * ty, "2023-03-01", false}},
			disburse:   []pay{{"central_budget", 30 * ty, "2023-05-30", "r1"}, {"provincial_budget", 8 * ty, "2024-03-15", "r2"}, {"enterprise", 5 * ty, "2023-06-10", "r3"}},
			progress:   []int{40, 85},
			progressOn: []string{"2023-03-31", "2024-03-31"},
			doneOn:     "2024-08-20", rating: "effective", score: 86},
		{key: "p3", unit: "SO-YT", title: "Hồ sơ sức khỏe điện tử toàn dân", sector: "health", pillar: soc, est: 28 * ty,
			start: "2022-05-01", end: "2023-12-31", on: "2022-04-20",
			reqs: []req{{"r1", "provincial_budget", 12 * ty, 2022, "2022-04-25", "", 12 * ty, "2022-05-10", false},
				{"r2", "oda", 10 * ty, 2022, "2022-05-15", "", 6 * ty, "2022-06-20", false}},
			disburse:   []pay{{"provincial_budget", 12 * ty, "2022-11-30", "r1"}, {"oda", 5 * ty, "2023-06-30", "r2"}},
			progress:   []int{50},
			progressOn: []string{"2022-12-31"},
			doneOn:     "2023-12-20", rating: "partly_effective", score: 70},
		{key: "p4", unit: "SO-YT", title: "Khám chữa bệnh từ xa tuyến huyện", sector: "health", pillar: soc, est: 18 * ty,
			start: "2023-01-01", end: "2025-12-31", on: "2022-09-05",
			reqs: []req{{"r1", "provincial_budget", 8 * ty, 2023, "2022-09-10", "", 0, "2022-10-20", true}}},
		{key: "p5", unit: "H-LAPVO", title: "Trang bị và tập huấn Tổ công nghệ số cộng đồng", sector: "general", pillar: soc, est: 2_400_000_000,
			start: "2022-06-01", end: "2022-12-31", on: "2022-05-20",
			reqs: []req{{"r1", "district_budget", 1_200_000_000, 2022, "2022-05-25", "", 1_200_000_000, "2022-06-05", false},
				{"r2", "enterprise", 600_000_000, 2022, "2022-05-25", "", 600_000_000, "2022-06-10", false}},
			disburse:   []pay{{"district_budget", 1_200_000_000, "2022-09-30", "r1"}, {"enterprise", 600_000_000, "2022-08-15", "r2"}},
			progress:   []int{70},
			progressOn: []string{"2022-10-31"},
			doneOn:     "2022-12-15", rating: "effective", score: 92},
		{key: "p6", unit: "SO-NNPTNT", title: "Cảnh báo xâm nhập mặn cho vùng trồng lúa", sector: "agriculture", pillar: eco, est: 9 * ty,
			start: "2023-01-01", end: "2026-12-31", on: "2022-10-01",
			reqs:       []req{{"r1", "oda", 9 * ty, 2023, "2022-10-05", "", 5 * ty, "2022-12-01", false}},
			disburse:   []pay{{"oda", 2 * ty, "2023-04-01", "r1"}},
			progress:   []int{30},
			progressOn: []string{"2023-06-30"}},
		{key: "p7", unit: "TP-SADEC", title: "Trường học thông minh Sa Đéc", sector: "education", pillar: soc, est: 7_500_000_000,
			start: "2022-09-01", end: "2023-12-31", on: "2022-08-20",
			reqs:       []req{{"r1", "district_budget", 4 * ty, 2022, "2022-08-25", "", 3 * ty, "2022-09-15", false}},
			progress:   []int{40},
			progressOn: []string{"2022-12-31"},
			suspend:    "2023-03-01"},
		{key: "p8", unit: "SO-GDDT", title: "Phần mềm quản lý học bạ số riêng của tỉnh", sector: "education", pillar: soc, est: 3 * ty,
			start: "2022-10-01", end: "2023-06-30", on: "2022-09-01",
			cancel: "2022-11-20"},
	}
	for _, p := range list {
		id := l.propose("project:"+p.key, l.actors[p.unit], item.Propose{Meta: item.Meta{On: day(p.on)}, Kind: item.Project,
			Title: p.title, UnitCode: p.unit, Pillar: p.pillar, Sector: p.sector, EstimatedCost: p.est,
			StartDate: day(p.start), EndDate: day(p.end)})
		k := p.key
		requests := map[string]string{} // the request's key → its id
		for _, r := range p.reqs {
			res := l.act(k+":"+r.key+":request", p.unit, item.Project, id, workflows.ActRequestFunding,
				&item.RequestFunding{Meta: item.Meta{On: day(r.on)}, Source: r.src, Amount: r.amount, Year: r.year})
			requests[r.key] = res.RequestID
			if r.endorse != "" {
				l.act(k+":"+r.key+":endorse", "bcd", item.Project, id, workflows.ActEndorse,
					&item.EndorseFunding{Meta: item.Meta{On: day(r.endorse)}, RequestID: res.RequestID, Note: "Ban Chỉ đạo thống nhất chủ trương"})
			}
			if r.reject {
				l.act(k+":"+r.key+":decide", "fin1", item.Project, id, workflows.ActReject,
					&item.DecideFunding{Meta: item.Meta{On: day(r.decideOn)}, RequestID: res.RequestID, Note: "Chưa cân đối được nguồn vốn"})
				continue
			}
			decide := &item.DecideFunding{Meta: item.Meta{On: day(r.decideOn)}, RequestID: res.RequestID, Approve: true, Amount: r.approve}
			l.act(k+":"+r.key+":decide", "fin1", item.Project, id, workflows.ActApprove, decide)
			if r.approve > 30*ty { // the definition asks a second finance officer
				second := *decide
				l.act(k+":"+r.key+":decide2", "fin2", item.Project, id, workflows.ActApprove, &second)
			}
		}
		for i, pr := range p.progress {
			l.act(fmt.Sprintf("%s:progress:%d", k, i), p.unit, item.Project, id, workflows.ActProgress,
				&item.ReportProgress{Meta: item.Meta{On: day(p.progressOn[i])}, Percent: pr})
		}
		for i, d := range p.disburse {
			l.act(fmt.Sprintf("%s:disburse:%d", k, i), "fin1", item.Project, id, workflows.ActDisburse,
				&item.Disburse{Meta: item.Meta{On: day(d.on)}, Source: d.src, Amount: d.amount, RequestID: requests[d.req]})
		}
		if p.doneOn != "" {
			l.act(k+":implemented", p.unit, item.Project, id, workflows.ActImplemented,
				&item.MarkImplemented{Meta: item.Meta{On: day(p.doneOn)}, Note: "Đã đưa vào vận hành"})
			l.act(k+":evaluate", "bcd", item.Project, id, workflows.ActEvaluate,
				&item.Evaluate{Meta: item.Meta{On: day(p.doneOn).AddDays(20)}, Rating: p.rating, Score: p.score, Note: "Đánh giá của Ban Chỉ đạo"})
		}
		if p.suspend != "" {
			l.act(k+":suspend", p.unit, item.Project, id, workflows.ActSuspend,
				&item.Suspend{Meta: item.Meta{On: day(p.suspend)}, Reason: "Chờ bố trí thêm vốn đối ứng"})
		}
		if p.cancel != "" {
			l.act(k+":cancel", "bcd", item.Project, id, workflows.ActCancel,
				&item.Cancel{Meta: item.Meta{On: day(p.cancel)}, Reason: "Trùng với hệ thống dùng chung của Bộ Giáo dục và Đào tạo"})
		}
	}
	return len(list)
}
