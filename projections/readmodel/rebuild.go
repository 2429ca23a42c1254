package readmodel

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5"
)

// A rebuild starts from empty tables, so a projection that can hold what it folds in memory
// needs nothing from its tables while it goes: it takes every batch of the store in order and
// writes each table once at the end, with COPY, into new tables beside the live ones, in
// committed chunks; the runner builds their indexes and swaps them in with the checkpoints
// (projector.rebuildBeside). The rows are the ones the live projection ends up with — the same fold (fold.go),
// the same rows summing to zero left out — which TestRebuildEqualsLive checks row for row.

// NewBulk starts an in-memory rebuild of the items.
func (it Items) NewBulk(log *slog.Logger) projector.Bulk {
	return &itemsBulk{
		byID:   map[string]*bulkItem{},
		bk:     &buckets{starts: nil, size: it.bucketSize()},
		intern: map[string]string{},
		log:    log,
	}
}

// bulkItem is one item as a rebuild holds it: what it was proposed as (info is nil until its
// proposal) and every fact, in stream order.
type bulkItem struct {
	id                          string
	info                        *itemInfo
	title, scope, model, folded string
	start                       int64 // noDay when none
	facts                       []fact
	versions                    []int64 // of facts, one to one
}

// itemsBulk rebuilds Items in memory.
type itemsBulk struct {
	byID   map[string]*bulkItem
	order  []*bulkItem // in order of first appearance
	bk     *buckets
	nFacts int
	intern map[string]string
	log    *slog.Logger
	t0     time.Time
}

// step logs how long the step that ends now took.
func (b *itemsBulk) step(name string) {
	now := time.Now()
	b.log.Info("rebuild step", "projection", "items", "step", name, "ms", now.Sub(b.t0).Milliseconds())
	b.t0 = now
}

func (b *itemsBulk) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := b.intern[s]; ok {
		return v
	}
	b.intern[s] = s
	return s
}

func (b *itemsBulk) item(id string) *bulkItem {
	x := b.byID[id]
	if x == nil {
		x = &bulkItem{id: id}
		b.byID[id] = x
		b.order = append(b.order, x)
	}
	return x
}

// Add decodes the batch (on two goroutines when it is large, as Apply does) and keeps its
// rows; buckets of recording time count every fact in the store's order, as the live
// projection counts them.
func (b *itemsBulk) Add(batch []eventstore.Record) error {
	items, facts, err := decodeRows(batch)
	if err != nil {
		return err
	}
	if b.bk.starts == nil && len(facts) > 0 {
		b.bk.starts, b.bk.facts, b.bk.maxRec = []int64{minMoment}, []int64{0}, []int64{minMoment}
	}
	for i := range items {
		row := &items[i]
		x := b.item(row.id)
		if x.info != nil {
			continue // proposed again: the first proposal stands, the later one is its stage fact (see load)
		}
		info := row.info
		info.kind, info.unit, info.pillar, info.sector = b.str(info.kind), b.str(info.unit), b.str(info.pillar),
			b.str(info.sector)
		x.info = &info
		x.start, x.title, x.scope, x.model, x.folded = row.start, row.title, row.scope, row.model, row.folded
	}
	for i := range facts {
		f := facts[i].fact
		b.bk.count(f.rec)
		x := b.item(facts[i].item)
		f.source, f.stage, f.ref = b.str(f.source), item.Stage(b.str(string(f.stage))), b.str(f.ref)
		x.facts = append(x.facts, f)
		x.versions = append(x.versions, facts[i].version)
		b.nFacts++
	}
	return nil
}

const minMoment = -1 << 63

// Compact keys of the rebuild's sums: a group is an index into groups.
type (
	gid          = uint32
	bulkDeltaKey struct {
		g   gid
		day int32
		rec int64
	}
	bulkMoneyKey struct {
		kind, source string
		year         int
		day          int32
		rec          int64
	}
	sumKey struct {
		dim       string
		month     int64
		kind, key string
		stage     item.Stage
	}
	moneySumKey struct {
		month        int64
		kind, source string
		year         int
	}
)

// groupIndex interns group keys.
type groupIndex struct {
	ids  map[groupKey]gid
	keys []groupKey
}

func (x *groupIndex) id(k groupKey) gid {
	if id, ok := x.ids[k]; ok {
		return id
	}
	id := gid(len(x.keys))
	x.ids[k] = id
	x.keys = append(x.keys, k)
	return id
}

// deltaTable sums rows by key, values kept in a slice (no pointers for the collector to scan).
type deltaTable[K comparable, V any] struct {
	idx  map[K]int32
	keys []K
	vals []V
}

func newDeltaTable[K comparable, V any]() *deltaTable[K, V] {
	return &deltaTable[K, V]{idx: map[K]int32{}}
}

func (t *deltaTable[K, V]) at(k K) *V {
	i, ok := t.idx[k]
	if !ok {
		i = int32(len(t.keys))
		t.idx[k] = i
		t.keys = append(t.keys, k)
		var zero V
		t.vals = append(t.vals, zero)
	}
	return &t.vals[i]
}

// Tables are the items' tables, those Reset empties (items.go).
func (Items) Tables() []string {
	return []string{"pj_items", "pj_item_facts", "pj_item_current", "pj_item_current_money", "pj_group_current",
		"pj_group_money", "pj_group_open_end", "pj_group_deltas", "pj_money_deltas", "pj_delta_buckets", "pj_group_delta_sums",
		"pj_money_delta_sums", "pj_group_all_sums", "pj_money_all_sums"}
}

// Tables are the units' tables, those Reset empties (units.go).
func (Units) Tables() []string { return []string{"pj_units", "pj_unit_merges", "pj_unit_splits"} }

// Load writes the unit events, a few hundred, in one short transaction.
func (u *unitsBulk) Load(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return u.Write(ctx, tx) })
}

// NeedsIndexes is true: the units' rows are written by Apply, which upserts.
func (u *unitsBulk) NeedsIndexes() bool { return true }

// errLoadOnly: the items' rebuild writes beside the live tables, never inside a transaction.
var errLoadOnly = errors.New("the items' rebuild writes new tables beside the live ones (Load), not in a transaction")

// Write refuses: Items names its tables and its bulk loads in chunks, so the runner calls
// Load; Write is there to make it a projector.Bulk.
func (b *itemsBulk) Write(context.Context, pgx.Tx) error { return errLoadOnly }

// Load folds every item once — its row of today and its group deltas over its whole history
// (the live projection's per-batch differences telescope to exactly these) — and writes the
// tables on conn (empty tables without indexes, which the runner builds after), the large
// ones in the order of their primary keys, in committed chunks.
func (b *itemsBulk) Load(ctx context.Context, tx *pgx.Conn) error {
	b.t0 = time.Now()
	b.byID, b.intern = nil, nil // b.order holds every item from here on
	slices.SortFunc(b.order, func(x, y *bulkItem) int { return strings.Compare(x.id, y.id) })
	groups := &groupIndex{ids: map[groupKey]gid{}}
	deltas := newDeltaTable[bulkDeltaKey, metrics]()
	money := newDeltaTable[bulkMoneyKey, moneySums]()
	current := newCurrentChange()
	nows := make([]figures, len(b.order))

	// The fold runs while PostgreSQL takes the items and their facts, which need none of it.
	folded := make(chan struct{})
	defer func() { <-folded }()
	go func() {
		defer close(folded)
		ds := newDeltaSet()
		var buf []moneyEntry // every item's money of today, kept until written
		for n, x := range b.order {
			// Today's row and what it adds to today's group tables.
			nows[n], buf = fold(x.info, x.facts, always, always, buf)
			if x.info == nil {
				continue
			}
			current.add(x.info, &nows[n], 1)
			// The group deltas: the item's whole history, folded once.
			clear(ds.groups)
			clear(ds.money)
			ds.item(x.info, x.facts, 0)
			for k, m := range ds.groups {
				d := deltas.at(bulkDeltaKey{groups.id(k.g), int32(k.day), k.rec})
				for j := range m {
					d[j] += m[j]
				}
			}
			for k, m := range ds.money {
				d := money.at(bulkMoneyKey{k.kind, k.source, k.year, int32(k.day), k.rec})
				for j := range m {
					d[j] += m[j]
				}
			}
		}
	}()

	// pj_items, pj_item_facts, pj_item_current and pj_item_current_money, in item order.
	if err := copyBinary(ctx, tx, "pj_items", []string{"item_id", "kind", "title", "unit_code", "pillar", "sector", "scope",
		"model_id", "estimated_vnd", "start_date", "end_date", "proposed_on", "recorded_at", "title_folded"},
		func(c *copyBuf) error {
			for _, x := range b.order {
				if x.info == nil {
					continue
				}
				if err := c.row(14); err != nil {
					return err
				}
				c.text(x.id)
				c.text(x.info.kind)
				c.text(x.title)
				c.text(x.info.unit)
				c.text(x.info.pillar)
				c.text(x.info.sector)
				c.text(x.scope)
				c.text(x.model)
				c.int8(x.info.estimated)
				c.date(x.start)
				c.date(endDay(x.info))
				c.date(x.info.proposed)
				c.moment(x.info.recorded)
				c.text(x.folded)
			}
			return nil
		}); err != nil {
		return err
	}
	if err := copyBinary(ctx, tx, "pj_item_facts", []string{"item_id", "version", "fact", "occurred_on", "recorded_at",
		"source", "year", "amount", "stage", "percent", "ref"}, func(c *copyBuf) error {
		for _, x := range b.order {
			for i := range x.facts {
				f := &x.facts[i]
				if err := c.row(11); err != nil {
					return err
				}
				c.text(x.id)
				c.int8(x.versions[i])
				c.text(f.kind.String())
				c.date(f.day)
				c.moment(f.rec)
				c.text(f.source)
				c.int4(f.year)
				c.int8(f.amount)
				c.text(string(f.stage))
				c.int4(f.percent)
				c.text(f.ref)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	<-folded
	deltas.idx, money.idx = nil, nil // summed: the keys and values are what remains to write
	b.step("copy pj_items, pj_item_facts; fold")
	if err := copyBinary(ctx, tx, "pj_item_current", []string{"item_id", "kind", "unit_code", "pillar", "sector",
		"estimated_vnd", "end_date", "requested_vnd", "approved_vnd", "disbursed_vnd", "stage", "progress", "same_as",
		"first_funded_on", "last_progress_on", "flagged_on", "overdue_since"}, func(c *copyBuf) error {
		for n, x := range b.order {
			if x.info == nil {
				continue
			}
			cur := &nows[n]
			if err := c.row(17); err != nil {
				return err
			}
			c.text(x.id)
			c.text(x.info.kind)
			c.text(x.info.unit)
			c.text(x.info.pillar)
			c.text(x.info.sector)
			c.int8(x.info.estimated)
			c.date(endDay(x.info))
			c.int8(cur.requested)
			c.int8(cur.approved)
			c.int8(cur.disbursed)
			c.text(string(cur.stage))
			c.int4(cur.progress)
			c.text(cur.sameAs)
			c.date(cur.firstFunded)
			c.date(cur.lastProgress)
			c.date(cur.flagged)
			c.date(cur.overdue)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := copyBinary(ctx, tx, "pj_item_current_money", []string{"item_id", "source", "year", "requested_vnd",
		"approved_vnd", "disbursed_vnd"}, func(c *copyBuf) error {
		for n, x := range b.order {
			money := nows[n].money // the fold's buffer, this rebuild's own
			slices.SortFunc(money, func(a, b moneyEntry) int {
				if a.source != b.source {
					return strings.Compare(a.source, b.source)
				}
				return a.year - b.year
			})
			for _, e := range money {
				if err := c.row(6); err != nil {
					return err
				}
				c.text(x.id)
				c.text(e.source)
				c.int4(e.year)
				c.int8(e.sums[0])
				c.int8(e.sums[1])
				c.int8(e.sums[2])
			}
		}
		return nil
	}); err != nil {
		return err
	}
	nows, b.order = nil, nil // the items and their facts are written
	b.step("copy pj_item_current*")

	// Today's group tables.
	var rows [][]any
	for k, m := range current.groups {
		if m[mItems] == 0 {
			continue
		}
		rows = append(rows, []any{k.kind, k.unit, k.pillar, k.sector, string(k.stage), m[mItems], m[mDistinct], m[mWithGap],
			m[mEstimated], m[mRequested], m[mApproved], m[mDisbursed], m[mGap], m[mProgress]})
	}
	if err := copyRows(ctx, tx, "pj_group_current", []string{"kind", "unit_code", "pillar", "sector", "stage", "items",
		"distinct_models", "with_gap", "estimated_vnd", "requested_vnd", "approved_vnd", "disbursed_vnd", "gap_vnd", "progress"},
		rows); err != nil {
		return err
	}
	rows = rows[:0]
	for k, n := range current.openEnd {
		if n == 0 {
			continue
		}
		rows = append(rows, []any{k.g.kind, k.g.unit, k.g.pillar, k.g.sector, string(k.g.stage), time.Unix(k.month, 0).UTC(), n})
	}
	if err := copyRows(ctx, tx, "pj_group_open_end", []string{"kind", "unit_code", "pillar", "sector", "stage", "end_month",
		"items"}, rows); err != nil {
		return err
	}
	rows = rows[:0]
	for k, m := range current.money {
		if *m == (moneySums{}) {
			continue
		}
		rows = append(rows, []any{k.kind, k.cancelled, k.source, int32(k.year), m[0], m[1], m[2]})
	}
	if err := copyRows(ctx, tx, "pj_group_money", []string{"kind", "cancelled", "source", "year", "requested_vnd",
		"approved_vnd", "disbursed_vnd"}, rows); err != nil {
		return err
	}
	b.step("copy pj_group_current etc.")
	if err := b.writeDeltas(ctx, tx, groups, deltas, money); err != nil {
		return err
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeDeltas writes the group deltas in order of recording, as the live projection lays
// them out (a report known at K reads a range of recording moments from the heap; a range of
// days it reads from the primary key, which INCLUDEs the figures), the buckets, the month sums of every closed bucket (the sums of all rows
// recorded up to its end) and those of the open bucket.
func (b *itemsBulk) writeDeltas(ctx context.Context, tx *pgx.Conn, groups *groupIndex, deltas *deltaTable[bulkDeltaKey, metrics],
	money *deltaTable[bulkMoneyKey, moneySums]) error {
	if b.bk.starts == nil {
		return nil // no facts: the live projection writes no bucket either
	}
	sums := newRebuildSums(b.bk, groups)
	order := make([]int32, 0, len(deltas.keys))
	for i, k := range deltas.keys {
		m := &deltas.vals[i]
		if *m == (metrics{}) {
			continue
		}
		order = append(order, int32(i))
		sums.addGroup(k.g, k.day, k.rec, m)
	}
	// The groups' rank in the order of the primary key's text columns.
	rank := make([]int, len(groups.keys))
	byKey := make([]int, len(groups.keys))
	for i := range byKey {
		byKey[i] = i
	}
	slices.SortFunc(byKey, func(x, y int) int {
		a, c := groups.keys[x], groups.keys[y]
		for _, p := range [...][2]string{{a.kind, c.kind}, {a.unit, c.unit}, {a.pillar, c.pillar}, {a.sector, c.sector}, {string(a.stage), string(c.stage)}} {
			if r := strings.Compare(p[0], p[1]); r != 0 {
				return r
			}
		}
		return 0
	})
	for r, g := range byKey {
		rank[g] = r
	}
	slices.SortFunc(order, func(x, y int32) int {
		a, c := deltas.keys[x], deltas.keys[y]
		if a.rec != c.rec {
			return cmpInt64(a.rec, c.rec)
		}
		if a.day != c.day {
			return int(a.day) - int(c.day)
		}
		return rank[a.g] - rank[c.g]
	})
	b.step("sort group deltas")
	if err := copyBinary(ctx, tx, "pj_group_deltas", []string{"day", "recorded_at", "kind", "unit_code", "pillar", "sector",
		"stage", "items", "distinct_models", "with_gap", "overdue", "estimated_vnd", "requested_vnd", "approved_vnd",
		"disbursed_vnd", "gap_vnd", "progress"}, func(c *copyBuf) error {
		for _, i := range order {
			k, m := deltas.keys[i], &deltas.vals[i]
			g := groups.keys[k.g]
			if err := c.row(17); err != nil {
				return err
			}
			c.date(int64(k.day))
			c.moment(k.rec)
			c.text(g.kind)
			c.text(g.unit)
			c.text(g.pillar)
			c.text(g.sector)
			c.text(string(g.stage))
			for j := range m {
				c.int8(m[j])
			}
		}
		return nil
	}); err != nil {
		return err
	}
	b.step("copy pj_group_deltas")

	order = order[:0]
	for i, k := range money.keys {
		m := &money.vals[i]
		if *m == (moneySums{}) {
			continue
		}
		order = append(order, int32(i))
		sums.addMoney(k, m)
	}
	slices.SortFunc(order, func(x, y int32) int {
		a, c := money.keys[x], money.keys[y]
		switch {
		case a.rec != c.rec:
			return cmpInt64(a.rec, c.rec)
		case a.day != c.day:
			return int(a.day) - int(c.day)
		case a.kind != c.kind:
			return strings.Compare(a.kind, c.kind)
		case a.source != c.source:
			return strings.Compare(a.source, c.source)
		}
		return a.year - c.year
	})
	if err := copyBinary(ctx, tx, "pj_money_deltas", []string{"day", "recorded_at", "kind", "source", "year",
		"requested_vnd", "approved_vnd", "disbursed_vnd"}, func(c *copyBuf) error {
		for _, i := range order {
			k, m := money.keys[i], &money.vals[i]
			if err := c.row(8); err != nil {
				return err
			}
			c.date(int64(k.day))
			c.moment(k.rec)
			c.text(k.kind)
			c.text(k.source)
			c.int4(k.year)
			c.int8(m[0])
			c.int8(m[1])
			c.int8(m[2])
		}
		return nil
	}); err != nil {
		return err
	}
	b.step("copy pj_money_deltas")

	// The buckets, and their running sums (rebuildsums.go).
	if err := sums.write(ctx, tx); err != nil {
		return err
	}
	b.step("bucket sums")
	return nil
}
