package readmodel

import (
	"cmp"
	"context"
	"slices"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/jackc/pgx/v5"
)

// The sums a rebuild writes beside its group and money deltas: per closed bucket of recording
// time the month sums of every row recorded up to its end (by unit, pillar and sector for the
// groups) and the sums of every day and month
// (pj_group_all_sums, pj_money_all_sums) — the same rows the live batches add up to
// (deltas.go: addAll, addAllMoney, the bucket close), summed here under dense integer keys
// instead of keys of five strings: a million deltas each add to six day and month sums and
// three bucket sums, and hashing the strings was a fifth of the rebuild's CPU (BENCHMARKS.md,
// "Rebuild at the read ceiling").

// dimGroup is a group's row in one dimension (unit, pillar or sector) of the sums tables.
type dimGroup struct {
	dim, kind, key string
	stage          item.Stage
}

// moneyGroup is a row of the money sums, less its day or month.
type moneyGroup struct {
	kind, source string
	year         int
}

// sumIndex interns keys into dense ids.
type sumIndex[K comparable] struct {
	ids  map[K]uint32
	keys []K
}

func (x *sumIndex[K]) id(k K) uint32 {
	if id, ok := x.ids[k]; ok {
		return id
	}
	if x.ids == nil {
		x.ids = map[K]uint32{}
	}
	id := uint32(len(x.keys))
	x.ids[k] = id
	x.keys = append(x.keys, k)
	return id
}

const (
	spanDay   = 0
	spanMonth = 1
)

var spanNames = [...]string{spanDay: "day", spanMonth: "month"}

// spanKey is a day's or a month's sum (month: the day number of its first day).
type spanKey struct {
	id   uint32
	span uint8
	day  int32
}

// monthKey is a month's sum in a bucket (month: the day number of its first day).
type monthKey struct {
	id    uint32
	month int32
}

// rebuildSums sums the deltas of a rebuild into the rows of the four sums tables (the open
// bucket keeps no sums of its own: migration 00041).
type rebuildSums struct {
	bk       *buckets
	open     int
	months   map[int32]int32 // a day's month's first day
	dims     sumIndex[dimGroup]
	ofGroup  [][3]uint32 // the dimension rows of each group
	groups   *groupIndex
	own      []*deltaTable[monthKey, metrics] // per closed bucket
	all      *deltaTable[spanKey, metrics]
	money    sumIndex[moneyGroup]
	ownMoney []*deltaTable[monthKey, moneySums] // per bucket, the open one too (not written)
	allMoney *deltaTable[spanKey, moneySums]
}

func newRebuildSums(bk *buckets, groups *groupIndex) *rebuildSums {
	s := &rebuildSums{bk: bk, open: len(bk.starts) - 1, months: map[int32]int32{}, groups: groups,
		all:      newDeltaTable[spanKey, metrics](),
		allMoney: newDeltaTable[spanKey, moneySums]()}
	for range bk.starts {
		s.own = append(s.own, newDeltaTable[monthKey, metrics]())
		s.ownMoney = append(s.ownMoney, newDeltaTable[monthKey, moneySums]())
	}
	s.ofGroup = make([][3]uint32, len(groups.keys))
	for g, k := range groups.keys {
		for d, x := range [...][2]string{{"unit", k.unit}, {"pillar", k.pillar}, {"sector", k.sector}} {
			s.ofGroup[g][d] = s.dims.id(dimGroup{x[0], k.kind, x[1], k.stage})
		}
	}
	return s
}

// month is the first day of day's month.
func (s *rebuildSums) month(day int32) int32 {
	m, ok := s.months[day]
	if !ok {
		m = int32(dayNum(monthOf(int64(day))))
		s.months[day] = m
	}
	return m
}

func addMetrics(dst *metrics, m *metrics) {
	for j := range m {
		dst[j] += m[j]
	}
}

func addMoney(dst *moneySums, m *moneySums) {
	for j := range m {
		dst[j] += m[j]
	}
}

// addGroup adds a group delta (not all zero) of group g, dated day and recorded at rec.
func (s *rebuildSums) addGroup(g gid, day int32, rec int64, m *metrics) {
	month := s.month(day)
	n := s.bk.of(rec)
	for _, dg := range s.ofGroup[g] {
		addMetrics(s.all.at(spanKey{dg, spanDay, day}), m)
		addMetrics(s.all.at(spanKey{dg, spanMonth, month}), m)
		if n != s.open {
			addMetrics(s.own[n].at(monthKey{dg, month}), m)
		}
	}
}

// addMoney adds a money delta (not all zero).
func (s *rebuildSums) addMoney(k bulkMoneyKey, m *moneySums) {
	mg := s.money.id(moneyGroup{k.kind, k.source, k.year})
	month := s.month(k.day)
	addMoney(s.allMoney.at(spanKey{mg, spanDay, k.day}), m)
	addMoney(s.allMoney.at(spanKey{mg, spanMonth, month}), m)
	addMoney(s.ownMoney[s.bk.of(k.rec)].at(monthKey{mg, month}), m)
}

var (
	groupSumCols = []string{"items", "distinct_models", "with_gap", "overdue", "estimated_vnd", "requested_vnd",
		"approved_vnd", "disbursed_vnd", "gap_vnd", "progress"}
	moneySumCols = []string{"requested_vnd", "approved_vnd", "disbursed_vnd"}
)

func (c *copyBuf) metrics(m *metrics) {
	for j := range m {
		c.int8(m[j])
	}
}

func (c *copyBuf) money(m *moneySums) {
	for j := range m {
		c.int8(m[j])
	}
}

// copyClosed adds bucket n's own month sums to total, the running total up to n's end, and
// copies total's rows that are not zero as bucket n's rows of pj_group_delta_sums.
func (s *rebuildSums) copyClosed(c *copyBuf, total, own *deltaTable[monthKey, metrics], n int) error {
	for i, k := range own.keys {
		addMetrics(total.at(k), &own.vals[i])
	}
	for i, k := range total.keys {
		m := &total.vals[i]
		if *m == (metrics{}) {
			continue
		}
		if err := c.row(16); err != nil {
			return err
		}
		d := &s.dims.keys[k.id]
		c.int4(n)
		c.text(d.dim)
		c.date(int64(k.month))
		c.text(d.kind)
		c.text(d.key)
		c.text(string(d.stage))
		c.metrics(m)
	}
	return nil
}

// write writes the buckets and the sums tables on conn.
func (s *rebuildSums) write(ctx context.Context, conn *pgx.Conn) error {
	bk := s.bk
	var bucketRows [][]any
	for n := range bk.starts {
		bucketRows = append(bucketRows, []any{int32(n), moment(bk.starts[n]), bk.facts[n], moment(bk.maxRec[n])})
	}
	if err := copyRows(ctx, conn, "pj_delta_buckets", []string{"bucket", "starts_at", "facts", "max_recorded_at"}, bucketRows); err != nil {
		return err
	}
	// Each closed bucket: the running total of the month sums up to its end.
	if err := copyBinary(ctx, conn, "pj_group_delta_sums", append([]string{"bucket", "dim", "month", "kind", "key", "stage"},
		groupSumCols...), func(c *copyBuf) error {
		total := newDeltaTable[monthKey, metrics]()
		for n := range s.open {
			own := s.own[n]
			if err := s.copyClosed(c, total, own, n); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	moneyCols := append([]string{"bucket", "month", "kind", "source", "year"}, moneySumCols...)
	moneyRows := func(c *copyBuf, n int, t *deltaTable[monthKey, moneySums]) error {
		for i, k := range t.keys {
			m := &t.vals[i]
			if *m == (moneySums{}) {
				continue
			}
			if err := c.row(8); err != nil {
				return err
			}
			g := &s.money.keys[k.id]
			c.int4(n)
			c.date(int64(k.month))
			c.text(g.kind)
			c.text(g.source)
			c.int4(g.year)
			c.money(m)
		}
		return nil
	}
	if err := copyBinary(ctx, conn, "pj_money_delta_sums", moneyCols, func(c *copyBuf) error {
		total := newDeltaTable[monthKey, moneySums]()
		for n := range s.open {
			own := s.ownMoney[n]
			for i, k := range own.keys {
				addMoney(total.at(k), &own.vals[i])
			}
			if err := moneyRows(c, n, total); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := copyBinary(ctx, conn, "pj_group_all_sums", append([]string{"dim", "span", "day", "kind", "key", "stage"},
		groupSumCols...), func(c *copyBuf) error {
		for _, i := range s.allInKeyOrder() {
			k := s.all.keys[i]
			m := &s.all.vals[i]
			if *m == (metrics{}) {
				continue
			}
			if err := c.row(16); err != nil {
				return err
			}
			d := &s.dims.keys[k.id]
			c.text(d.dim)
			c.text(spanNames[k.span])
			c.date(int64(k.day))
			c.text(d.kind)
			c.text(d.key)
			c.text(string(d.stage))
			c.metrics(m)
		}
		return nil
	}); err != nil {
		return err
	}
	return copyBinary(ctx, conn, "pj_money_all_sums", append([]string{"span", "day", "kind", "source", "year"},
		moneySumCols...), func(c *copyBuf) error {
		for _, i := range s.allMoneyInKeyOrder() {
			k := s.allMoney.keys[i]
			m := &s.allMoney.vals[i]
			if *m == (moneySums{}) {
				continue
			}
			if err := c.row(8); err != nil {
				return err
			}
			g := &s.money.keys[k.id]
			c.text(spanNames[k.span])
			c.date(int64(k.day))
			c.text(g.kind)
			c.text(g.source)
			c.int4(g.year)
			c.money(m)
		}
		return nil
	})
}

// allInKeyOrder is the order of the rows of pj_group_all_sums in its primary key (dim, span,
// day, kind, key, stage): written so, the month rows of one dimension that a report as of a
// day reads lie on ~100 pages at 10,000,000 events, not on 1,434 (migration 00045). Only the
// rows' places change, not the rows.
func (s *rebuildSums) allInKeyOrder() []int32 {
	order := make([]int32, len(s.all.keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &s.all.keys[a], &s.all.keys[b]
		dx, dy := &s.dims.keys[x.id], &s.dims.keys[y.id]
		return cmp.Or(cmp.Compare(dx.dim, dy.dim), cmp.Compare(x.span, y.span), cmp.Compare(x.day, y.day),
			cmp.Compare(dx.kind, dy.kind), cmp.Compare(dx.key, dy.key), cmp.Compare(dx.stage, dy.stage))
	})
	return order
}

// allMoneyInKeyOrder is allInKeyOrder for pj_money_all_sums (span, day, kind, source, year).
func (s *rebuildSums) allMoneyInKeyOrder() []int32 {
	order := make([]int32, len(s.allMoney.keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &s.allMoney.keys[a], &s.allMoney.keys[b]
		gx, gy := &s.money.keys[x.id], &s.money.keys[y.id]
		return cmp.Or(cmp.Compare(x.span, y.span), cmp.Compare(x.day, y.day), cmp.Compare(gx.kind, gy.kind),
			cmp.Compare(gx.source, gy.source), cmp.Compare(gx.year, gy.year))
	})
	return order
}
