package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/dxledger/dxledger/internal/demo"
	"github.com/dxledger/dxledger/internal/pgtest"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// The units' life on the pages, in a real Chromium against the demo (issue 12 points 4, 7 and
// 8): units are listed in Vietnamese name order; the demo's Sở LĐ-TB&XH shows its split
// successors; an administrator splits a unit, choosing each item's successor; a successor's
// focal point registers history dated before the merger under the unit it belonged to.
func TestUnitPagesInABrowser(t *testing.T) {
	t.Parallel() // a long end-to-end test on its own database and server: it overlaps another's waits
	db := pgtest.New(t)
	base, token, stop := runDemo(t, db.URL)
	defer stop()
	api := client{t, base, token}
	b := newBrowser(t, base)
	b.signIn(admin, demo.Password)

	// Names in Vietnamese order: Sở Kế hoạch và Đầu tư before Sở Khoa học và Công nghệ,
	// whose code (SO-KHCN) sorts before SO-KHDT.
	b.open("/admin/units")
	codes := strings.Split(b.eval(`[...document.querySelectorAll("#units tbody tr")].map(tr => tr.dataset.unit).join("|")`).(string), "|")
	names := strings.Split(b.eval(`[...document.querySelectorAll("#units tbody tr td:nth-child(2)")].map(td => td.textContent).join("|")`).(string), "|")
	if i, j := slices.Index(codes, "SO-KHDT"), slices.Index(codes, "SO-KHCN"); i < 0 || j < 0 || i > j {
		t.Errorf("units page: SO-KHDT at %d, SO-KHCN at %d; want Sở Kế hoạch… before Sở Khoa học…", i, j)
	}
	sorted := slices.Clone(names)
	c := collate.New(language.Vietnamese)
	slices.SortStableFunc(sorted, c.CompareString)
	if !slices.Equal(names, sorted) {
		t.Errorf("units page not in Vietnamese name order:\n%q", names)
	}
	if got := b.text(`#units tr[data-unit="SO-LDTBXH"] td.successors`); !strings.Contains(got, "SO-YT, SO-NV") || !strings.Contains(got, "01/03/2025") {
		t.Errorf("Sở LĐ-TB&XH's successors: %q, want SO-YT, SO-NV from 01/03/2025", got)
	}
	b.open("/dashboard?gap_by=unit")
	rows := strings.Split(b.eval(`[...document.querySelectorAll("#gaps-table tbody th")].map(th => th.textContent).join("|")`).(string), "|")
	sorted = slices.Clone(rows)
	slices.SortStableFunc(sorted, c.CompareString)
	if len(rows) < 3 || !slices.Equal(rows, sorted) {
		t.Errorf("the dashboard's rows by unit are not in Vietnamese name order:\n%q", rows)
	}

	// The administrator splits Sở VH-TT&DL: its first item to Sở GD&ĐT, the rest to Sở Nội vụ.
	b.open("/admin/units")
	b.follow(`#units tr[data-unit="SO-VHTTDL"] a.split-link`)
	ids := strings.Split(b.eval(`[...document.querySelectorAll("#split-items tr[data-item]")].map(tr => tr.dataset.item).join("|")`).(string), "|")
	if len(ids) != 2 {
		t.Fatalf("the split page lists %d items of Sở VH-TT&DL, want its 2", len(ids))
	}
	b.fill("#split-effective_date", time.Now().Format("02/01/2006"))
	b.do("rest", chromedp.SetValue(chromedp.CSS("#split-rest_into_code"), "SO-NV"))
	b.do("part", chromedp.SetValue(chromedp.CSS(`select[name="into_`+ids[0]+`"]`), "SO-GDDT"))
	if shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
		artifact(t, "split.png", shot)
	}
	b.submit("#form-split button[type=submit]")
	if p := b.path(); p != "/admin/units" {
		t.Fatalf("after splitting: at %s\n%s", p, b.text("main"))
	}
	if got := b.text(`#units tr[data-unit="SO-VHTTDL"] td.successors`); !strings.Contains(got, "SO-GDDT, SO-NV") {
		t.Errorf("the split unit's successors: %q, want SO-GDDT, SO-NV", got)
	}
	for unitCode, want := range map[string]string{"SO-GDDT": ids[0], "SO-NV": ids[1]} {
		listed := api.do("GET", "/api/v1/models?unit_code="+unitCode, nil).must(t, 200, "list").raw
		if !strings.Contains(listed, want) {
			t.Errorf("models of %s today do not list %s", unitCode, want)
		}
	}

	// A focal point of Sở NN&MT registers a 2023 model of Sở NN&PTNT, merged into theirs
	// since 01/03/2025: the page offers the old unit, and the model is filed under it.
	const focal, focalPassword = "Đầu mối Sở NN&MT (thử)", "mật-khẩu-sở-nnmt-thử"
	b.open("/admin/users")
	b.fill("#user-name", focal)
	b.do("role", chromedp.SetValue(chromedp.CSS("#user-role"), "focal_point"))
	b.fill("#user-unit_code", "SO-NNMT")
	b.fill("#user-password", focalPassword)
	b.submit("#form-user button[type=submit]")
	b.signOut()
	b.signIn(focal, focalPassword)
	b.open("/my/new/model")
	opts := b.eval(`[...document.querySelectorAll("#new-unit_code option")].map(o => o.value).join(",")`).(string)
	for _, u := range []string{"SO-NNMT", "SO-NNPTNT", "SO-TNMT"} {
		if !strings.Contains(opts, u) {
			t.Errorf("the unit choice offers %q, want %s among them", opts, u)
		}
	}
	b.fill("#new-title", "Nhật ký nông hộ điện tử (nhập bổ sung)")
	b.do("unit", chromedp.SetValue(chromedp.CSS("#new-unit_code"), "SO-NNPTNT"))
	b.do("pillar", chromedp.SetValue(chromedp.CSS("#new-pillar"), "economy"))
	b.do("sector", chromedp.SetValue(chromedp.CSS("#new-sector"), "agriculture"))
	b.fill("#new-occurred_on", "10/01/2023")
	if shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
		artifact(t, "new-item-old-unit.png", shot)
	}
	b.submit("#form-new button[type=submit]")
	p := b.path()
	if !strings.HasPrefix(p, "/items/model/") {
		t.Fatalf("after registering: at %s\n%s", p, b.text("main"))
	}
	got := api.do("GET", "/api/v1/models/"+strings.TrimPrefix(p, "/items/model/"), nil).must(t, 200, "the model")
	if got.str("unit_code") != "SO-NNPTNT" {
		t.Errorf("the 2023 model is filed under %q, want SO-NNPTNT", got.str("unit_code"))
	}
}
