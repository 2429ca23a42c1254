package export

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/collate"
	xlanguage "golang.org/x/text/language"
)

// kind is what a column holds, which decides its number format and width.
type kind int

const (
	text    kind = iota // the name and code columns
	money               // whole VND, int64
	count               // int64
	percent             // average progress 0–100, float64
)

// column describes one value column of a report.
type column[R any] struct {
	head  func(*words) string
	kind  kind
	value func(R) any // int64, float64, or nil for an empty cell
}

// report describes how to write the rows of one report: every sheet of it has a name column,
// a code column, then these columns.
type report[R any] struct {
	title   func(*words) string
	key     func(R) string
	columns []column[R]
	sum     func(key string, rows []R) R // the row of a parent group, from its rows
}

// line is one row of a sheet below the header.
type line[R any] struct {
	name, code string
	row        R
	bold       bool // a parent group or the total
	indent     bool // a row under a parent group
}

// The layout of every sheet: title, as-of line, produced line, header, then the rows.
const (
	titleRow    = 1
	asOfRow     = 2
	producedRow = 3
	headerRow   = 4
)

// The groupings a sheet can show, in the order of the API's group_by.
var groupings = []string{"unit", "unit_kind", "pillar", "sector", "source", "year"}

// hoChiMinh is Asia/Ho_Chi_Minh, which has been UTC+7 all year since 1975; fixed, so that a
// machine without the time-zone database still prints Vietnamese time.
var hoChiMinh = time.FixedZone("ICT", 7*60*60)

// write makes the workbook of one report, one sheet per group, and writes it to w. split
// returns a report value's rows and its total row.
func write[Rep, R any](w io.Writer, h Heading, groups []Group[Rep], rep report[R], split func(Rep) ([]R, R)) error {
	wd, err := language(h.Lang)
	if err != nil {
		return err
	}
	if err := validate(h, groups); err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	st := &styles{f: f, words: wd, ids: map[styleKey]int{}}
	asOf, produced := headingLines(wd, h)
	for i, g := range groups {
		name := wd.sheet[g.By]
		if i == 0 {
			err = f.SetSheetName(f.GetSheetName(0), name) // the new file's "Sheet1"
		} else {
			_, err = f.NewSheet(name)
		}
		if err != nil {
			return fmt.Errorf("export: sheet %q: %w", name, err)
		}
		rows, total := split(g.Report)
		s := sheet[R]{f: f, name: name, words: wd, styles: st, report: rep}
		title := rep.title(wd) + wd.titleSep + wd.titleBy[g.By]
		if err := s.write(title, asOf, produced, wd.groupHead[g.By], lines(rep, wd, rows, total, g.Labels, g.Parent)); err != nil {
			return fmt.Errorf("export: sheet %q: %w", name, err)
		}
	}
	f.SetActiveSheet(0)
	stamp := h.Produced.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: rep.title(wd), Creator: "dxledger", Language: wd.locale, Created: stamp, Modified: stamp,
	}); err != nil {
		return fmt.Errorf("export: properties: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("export: write workbook: %w", err)
	}
	return nil
}

func language(lang string) (*words, error) {
	switch lang {
	case "", "vi":
		return &vi, nil
	case "en":
		return &en, nil
	}
	return nil, fmt.Errorf("export: language %q: want vi or en", lang)
}

func validate[Rep any](h Heading, groups []Group[Rep]) error {
	var errs []error
	if h.Produced.IsZero() {
		errs = append(errs, errors.New("export: the heading needs the time the file is produced"))
	}
	if len(groups) == 0 {
		errs = append(errs, errors.New("export: no groups: a workbook needs at least one sheet"))
	}
	seen := map[string]bool{}
	for _, g := range groups {
		switch {
		case !slices.Contains(groupings, g.By):
			errs = append(errs, fmt.Errorf("export: group by %q: want one of %v", g.By, groupings))
		case seen[g.By]:
			errs = append(errs, fmt.Errorf("export: group by %q twice: one sheet per grouping", g.By))
		}
		seen[g.By] = true
	}
	return errors.Join(errs...)
}

// headingLines returns the line saying which moment the figures describe and the one saying
// when the file was made: dates as dd/mm/yyyy, times in Vietnam unless told otherwise.
func headingLines(wd *words, h Heading) (asOf, produced string) {
	loc := h.Location
	if loc == nil {
		loc = hoChiMinh
	}
	day := h.AsOf
	if day.IsZero() {
		day = h.Today
	}
	if day.IsZero() {
		day = civil.Of(h.Produced.In(loc))
	}
	const date, dateTime = "02/01/2006", "02/01/2006 15:04"
	asOf = fmt.Sprintf(wd.asOf, day.Time(time.UTC).Format(date))
	if !h.KnownAt.IsZero() {
		asOf += fmt.Sprintf(wd.knownAt, h.KnownAt.In(loc).Format(dateTime))
	}
	if h.SetAsideEvents > 0 {
		asOf += fmt.Sprintf(wd.setAside, h.SetAsideEvents)
	}
	return asOf, fmt.Sprintf(wd.produced, h.Produced.In(loc).Format(dateTime))
}

// lines orders a sheet's rows: as the report has them, or, with a Parent map, under their
// parent groups (sorted by key, rows without a parent last), each group's sums on its own
// bold row above its rows — the way Vietnamese budget tables show a block's total on the
// block's heading. The report's own total comes last: it is the projection's figure, not a
// sum of the rows (grouped by source, the rows carry no estimate; the total does).
func lines[R any](rep report[R], wd *words, rows []R, total R, labels, parent map[string]string) []line[R] {
	label := func(key string) string {
		if l, ok := labels[key]; ok && l != "" {
			return l
		}
		return key
	}
	// Rows in Vietnamese name order (units by name, not by code), under their parents.
	coll := collate.New(xlanguage.Vietnamese)
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b R) int { return coll.CompareString(label(rep.key(a)), label(rep.key(b))) })
	var out []line[R]
	if parent == nil {
		for _, r := range rows {
			out = append(out, line[R]{name: label(rep.key(r)), code: rep.key(r), row: r})
		}
	} else {
		byParent := map[string][]R{}
		for _, r := range rows {
			p := parent[rep.key(r)]
			byParent[p] = append(byParent[p], r)
		}
		keys := make([]string, 0, len(byParent))
		for p := range byParent {
			keys = append(keys, p)
		}
		slices.SortFunc(keys, func(a, b string) int {
			switch {
			case a == b:
				return 0
			case a == "": // no parent: last
				return 1
			case b == "":
				return -1
			case a < b: // the unit kinds in their own order: departments, then localities
				return -1
			}
			return 1
		})
		for _, p := range keys {
			name := wd.noParent
			if p != "" {
				name = label(p)
			}
			out = append(out, line[R]{name: name, code: p, row: rep.sum(p, byParent[p]), bold: true})
			for _, r := range byParent[p] {
				out = append(out, line[R]{name: label(rep.key(r)), code: rep.key(r), row: r, indent: true})
			}
		}
	}
	return append(out, line[R]{name: wd.total, row: total, bold: true})
}

// sheet writes one sheet of a report.
type sheet[R any] struct {
	f      *excelize.File
	name   string
	words  *words
	styles *styles
	report report[R]
}

func (s sheet[R]) write(title, asOf, produced, groupHead string, lines []line[R]) error {
	heads := []string{groupHead, s.words.code}
	kinds := []kind{text, text}
	for _, c := range s.report.columns {
		heads = append(heads, c.head(s.words))
		kinds = append(kinds, c.kind)
	}

	if err := s.text(titleRow, title, styleKey{title: true}); err != nil {
		return err
	}
	if err := s.text(asOfRow, asOf, styleKey{}); err != nil {
		return err
	}
	if err := s.text(producedRow, produced, styleKey{}); err != nil {
		return err
	}
	if err := s.row(headerRow, toAny(heads), styleKey{header: true}, nil); err != nil {
		return err
	}
	for i, l := range lines {
		values := []any{l.name, l.code}
		for _, c := range s.report.columns {
			values = append(values, c.value(l.row))
		}
		if err := s.row(headerRow+1+i, values, styleKey{bold: l.bold, indent: l.indent}, kinds); err != nil {
			return err
		}
	}

	widths := columnWidths(heads, kinds, lines)
	for i, width := range widths {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := s.f.SetColWidth(s.name, col, col, width); err != nil {
			return err
		}
	}
	if err := s.f.SetRowHeight(s.name, titleRow, 24); err != nil {
		return err
	}
	if err := s.f.SetRowHeight(s.name, headerRow, headerHeight(heads, widths)); err != nil {
		return err
	}
	firstData, err := excelize.CoordinatesToCellName(1, headerRow+1)
	if err != nil {
		return err
	}
	if err := s.f.SetPanes(s.name, &excelize.Panes{
		Freeze: true, YSplit: headerRow, TopLeftCell: firstData, ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: firstData, ActiveCell: firstData, Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	return s.printSetup()
}

// printSetup prints the sheet landscape on A4, all columns on one page wide, the header
// repeated on every page.
func (s sheet[R]) printSetup() error {
	landscape, a4, one, anyHeight, fit := "landscape", 9, 1, 0, true
	if err := s.f.SetPageLayout(s.name, &excelize.PageLayoutOptions{
		Size: &a4, Orientation: &landscape, FitToWidth: &one, FitToHeight: &anyHeight,
	}); err != nil {
		return err
	}
	if err := s.f.SetSheetProps(s.name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	return s.f.SetDefinedName(&excelize.DefinedName{
		Name:     "_xlnm.Print_Titles",
		RefersTo: fmt.Sprintf("'%s'!$%d:$%d", s.name, headerRow, headerRow),
		Scope:    s.name,
	})
}

// text writes one line of text in the first column; it overflows into the empty cells beside.
func (s sheet[R]) text(row int, value string, look styleKey) error {
	return s.row(row, []any{value}, look, nil)
}

// row writes values from column A of row, each cell styled by look and its column's kind
// (text when kinds is nil).
func (s sheet[R]) row(row int, values []any, look styleKey, kinds []kind) error {
	first, err := excelize.CoordinatesToCellName(1, row)
	if err != nil {
		return err
	}
	if err := s.f.SetSheetRow(s.name, first, &values); err != nil {
		return err
	}
	for i := range values {
		k := look
		if kinds != nil {
			k.kind = kinds[i]
		}
		k.indent = look.indent && i == 0 // only the name is indented
		id, err := s.styles.id(k)
		if err != nil {
			return err
		}
		cell, err := excelize.CoordinatesToCellName(i+1, row)
		if err != nil {
			return err
		}
		if err := s.f.SetCellStyle(s.name, cell, cell, id); err != nil {
			return err
		}
	}
	return nil
}

// columnWidths fits the name and code columns to their longest text, within bounds; number
// columns get a fixed width that holds their largest plausible value (hundreds of thousands of
// billions of đồng); long heads wrap instead of widening the column.
func columnWidths[R any](heads []string, kinds []kind, lines []line[R]) []float64 {
	widths := make([]float64, len(heads))
	for i, k := range kinds {
		switch k {
		case money:
			widths[i] = 22
		case count, percent:
			widths[i] = 14
		}
	}
	longest := func(i int, get func(line[R]) string, lo, hi float64) {
		n := utf8.RuneCountInString(heads[i])
		for _, l := range lines {
			n = max(n, utf8.RuneCountInString(get(l))+2) // +2 for an indent
		}
		widths[i] = min(max(float64(n)+2, lo), hi)
	}
	longest(0, func(l line[R]) string { return l.name }, 18, 60)
	longest(1, func(l line[R]) string { return l.code }, 8, 24)
	return widths
}

// headerHeight is the height of the header row in points, enough for its longest wrapped head.
func headerHeight(heads []string, widths []float64) float64 {
	lines := 1
	for i, h := range heads {
		perLine := max(int(widths[i])-1, 1)
		lines = max(lines, (utf8.RuneCountInString(h)+perLine-1)/perLine)
	}
	return float64(lines)*15 + 4
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// styleKey names one cell style of a workbook.
type styleKey struct {
	kind                        kind
	title, header, bold, indent bool
}

// styles creates each cell style of a workbook once.
type styles struct {
	f     *excelize.File
	words *words
	ids   map[styleKey]int
}

func (s *styles) id(k styleKey) (int, error) {
	if id, ok := s.ids[k]; ok {
		return id, nil
	}
	st := &excelize.Style{Font: &excelize.Font{Bold: k.bold || k.header || k.title}}
	switch {
	case k.title:
		st.Font.Size = 14
	case k.header:
		st.Alignment = &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}
		st.Border = []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E7E6E6"}}
	case k.indent:
		st.Alignment = &excelize.Alignment{Indent: 1}
	}
	var format string
	switch k.kind {
	case money:
		format = s.words.moneyFormat
	case count:
		format = "#,##0"
	case percent:
		format = s.words.percentFormat
	}
	if format != "" {
		st.CustomNumFmt = &format
	}
	id, err := s.f.NewStyle(st)
	if err != nil {
		return 0, fmt.Errorf("style %+v: %w", k, err)
	}
	s.ids[k] = id
	return id, nil
}
