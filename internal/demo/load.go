package demo

import (
	"context"
	"fmt"

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
	ids    *identity.Store
	actors map[string]workflows.Actor // by unit code for focal points; "admin", "fin1", "fin2", "bcd"
	names  map[string]string          // the same people's names, which they sign in with
	tokens map[string]string          // the first token of people created by this run
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
	if _, err := l.h.RegisterUnit(l.ctx, l.actors["admin"], c, opts("unit:"+c.Code)); err != nil {
		l.err = fmt.Errorf("unit %s: %w", c.Code, err)
	}
}

func (l *loader) propose(key string, a workflows.Actor, c item.Propose) string {
	if l.err != nil {
		return ""
	}
	res, err := l.h.Propose(l.ctx, a, c, opts(key))
	if err != nil {
		l.err = fmt.Errorf("%s %q: %w", c.Kind, c.Title, err)
		return ""
	}
	return res.ID
}

func (l *loader) act(key string, who string, k item.Kind, id, action string, c item.Command) workflows.Result {
	if l.err != nil {
		return workflows.Result{}
	}
	res, err := l.h.Act(l.ctx, l.actors[who], k, id, action, c, opts(key))
	if err != nil {
		l.err = fmt.Errorf("%s %s (%s): %w", action, id, key, err)
	}
	return res
}

// Load records the scenario through the command handler, as the people of the demo. Run
// twice, it records nothing new (every command has a fixed idempotency key) and prints fresh
// sample tokens.
func Load(ctx context.Context, h *workflows.Handler, ids *identity.Store) (Summary, error) {
	l := &loader{ctx: ctx, h: h, ids: ids, actors: map[string]workflows.Actor{}, names: map[string]string{}, tokens: map[string]string{}}
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

	// 2025: the reorganisation.
	l.unit(unit.Register{Code: "SO-NNMT", Name: "Sở Nông nghiệp và Môi trường", Kind: unit.Department, ParentCode: "DT", On: day("2025-03-01")})
	march := day("2025-03-01")
	for _, mg := range [][2]string{{"SO-KHDT", "SO-TC"}, {"SO-TTTT", "SO-KHCN"}, {"SO-GTVT", "SO-XD"},
		{"SO-TNMT", "SO-NNMT"}, {"SO-NNPTNT", "SO-NNMT"}, {"SO-LDTBXH", "SO-NV"}} {
		l.merge(mg[0], mg[1], march)
	}
	july := day("2025-07-01")
	for _, d := range Districts {
		l.merge(d.code, "DT", july) // the district level ends
	}
	l.merge("TG", "DT", july) // Đồng Tháp and Tiền Giang become the new Đồng Tháp
	if l.err != nil {
		return Summary{}, l.err
	}

	sum := Summary{Units: 2 + len(Departments) + len(Districts) + 1, Models: len(models), Projects: projects}
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

func (l *loader) merge(code, into string, on civil.Date) {
	if l.err != nil {
		return
	}
	if _, err := l.h.MergeUnit(l.ctx, l.actors["admin"], unit.Merge{Code: code, IntoCode: into, EffectiveDate: on}, opts("merge:"+code)); err != nil {
		l.err = fmt.Errorf("merge %s into %s: %w", code, into, err)
	}
}

const ty = money.VND(1_000_000_000) // one tỷ đồng

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
	}
	list := []project{
		{key: "p1", unit: "SO-NNPTNT", title: "Nền tảng nông nghiệp số Đồng Tháp", sector: "agriculture", pillar: eco, est: 45 * ty,
			start: "2022-07-01", end: "2024-12-31", on: "2022-06-15",
			reqs: []req{{"r1", "central_budget", 20 * ty, 2022, "2022-06-20", "2022-07-05", 15 * ty, "2022-07-20", false},
				{"r2", "provincial_budget", 15 * ty, 2023, "2022-12-10", "", 10 * ty, "2023-01-15", false}},
			disburse:   []pay{{"central_budget", 12 * ty, "2022-10-30"}, {"provincial_budget", 4 * ty, "2023-06-30"}},
			progress:   []int{25, 60},
			progressOn: []string{"2022-12-31", "2023-09-30"}},
		{key: "p2", unit: "SO-GDDT", title: "Hạ tầng và học liệu số cho trường phổ thông", sector: "education", pillar: soc, est: 60 * ty,
			start: "2022-08-01", end: "2024-08-31", on: "2022-07-10",
			reqs: []req{{"r1", "central_budget", 35 * ty, 2022, "2022-07-15", "2022-07-25", 35 * ty, "2022-08-10", false},
				{"r2", "provincial_budget", 10 * ty, 2023, "2023-01-05", "", 8 * ty, "2023-02-01", false},
				{"r3", "enterprise", 5 * ty, 2023, "2023-02-10", "", 5 * ty, "2023-03-01", false}},
			disburse:   []pay{{"central_budget", 30 * ty, "2023-05-30"}, {"provincial_budget", 8 * ty, "2024-03-15"}, {"enterprise", 5 * ty, "2023-06-10"}},
			progress:   []int{40, 85},
			progressOn: []string{"2023-03-31", "2024-03-31"},
			doneOn:     "2024-08-20", rating: "effective", score: 86},
		{key: "p3", unit: "SO-YT", title: "Hồ sơ sức khỏe điện tử toàn dân", sector: "health", pillar: soc, est: 28 * ty,
			start: "2022-05-01", end: "2023-12-31", on: "2022-04-20",
			reqs: []req{{"r1", "provincial_budget", 12 * ty, 2022, "2022-04-25", "", 12 * ty, "2022-05-10", false},
				{"r2", "oda", 10 * ty, 2022, "2022-05-15", "", 6 * ty, "2022-06-20", false}},
			disburse:   []pay{{"provincial_budget", 12 * ty, "2022-11-30"}, {"oda", 5 * ty, "2023-06-30"}},
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
			disburse:   []pay{{"district_budget", 1_200_000_000, "2022-09-30"}, {"enterprise", 600_000_000, "2022-08-15"}},
			progress:   []int{70},
			progressOn: []string{"2022-10-31"},
			doneOn:     "2022-12-15", rating: "effective", score: 92},
		{key: "p6", unit: "SO-NNPTNT", title: "Cảnh báo xâm nhập mặn cho vùng trồng lúa", sector: "agriculture", pillar: eco, est: 9 * ty,
			start: "2023-01-01", end: "2026-12-31", on: "2022-10-01",
			reqs:       []req{{"r1", "oda", 9 * ty, 2023, "2022-10-05", "", 5 * ty, "2022-12-01", false}},
			disburse:   []pay{{"oda", 2 * ty, "2023-04-01"}},
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
		for _, r := range p.reqs {
			res := l.act(k+":"+r.key+":request", p.unit, item.Project, id, workflows.ActRequestFunding,
				&item.RequestFunding{Meta: item.Meta{On: day(r.on)}, Source: r.src, Amount: r.amount, Year: r.year})
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
				&item.Disburse{Meta: item.Meta{On: day(d.on)}, Source: d.src, Amount: d.amount})
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
