package readmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
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

// NewBulk starts a rebuild of the items.
func (it Items) NewBulk(log *slog.Logger) projector.Bulk {
	return &itemsBulk{size: it.bucketSize(), log: log}
}

// itemsBulk rebuilds Items. The runner hands it the store stream by stream (LoadStreams): it
// folds each item as soon as its stream ends, writes its rows and drops its facts, and sends
// what the item adds to the group and money deltas, and the moments of its facts, to sorts
// that spill to files (spill.go) — the process holds one item at a time and buffers of fixed
// size, not the store (issue 16 point 3). Add and Load are the global order's way in (a
// rebuild beside other projections that cannot take the store in stream order): Add keeps the
// item events, Load hands them to LoadStreams in stream order.
type itemsBulk struct {
	recs []eventstore.Record // Add's
	size int64               // facts per bucket of recording time
	log  *slog.Logger
	t0   time.Time
}

// step logs how long the step that ends now took.
func (b *itemsBulk) step(name string, args ...any) {
	now := time.Now()
	b.log.Info("rebuild step", append([]any{"projection", "items", "step", name, "ms", now.Sub(b.t0).Milliseconds()}, args...)...)
	b.t0 = now
}

// Add keeps the batch's item events.
func (b *itemsBulk) Add(batch []eventstore.Record) error {
	for _, r := range batch {
		if isItemStream(r.StreamID) {
			b.recs = append(b.recs, r)
		}
	}
	return nil
}

// bulkItem is one item as a rebuild holds it while it reads the item's stream: what it was
// proposed as (info is nil until its proposal) and every fact, in stream order, then what it
// folds to today.
type bulkItem struct {
	id                          string
	info                        *itemInfo
	title, scope, model, folded string
	start                       int64 // noDay when none
	facts                       []fact
	versions                    []int64 // of facts, one to one
	now                         figures // its money its own, in order of source and year
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
		"pj_group_money", "pj_group_deltas", "pj_money_deltas", "pj_delta_buckets", "pj_group_delta_sums",
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

// Load hands the events Add kept to LoadStreams, in stream order.
func (b *itemsBulk) Load(ctx context.Context, conn *pgx.Conn) error {
	recs := b.recs
	b.recs = nil
	slices.SortStableFunc(recs, func(x, y eventstore.Record) int {
		if c := strings.Compare(x.StreamID, y.StreamID); c != 0 {
			return c
		}
		return cmpInt64(x.Version, y.Version)
	})
	return b.LoadStreams(ctx, conn, func() ([]eventstore.Record, error) {
		n := min(len(recs), 5000)
		batch := recs[:n]
		recs = recs[n:]
		return batch, nil
	})
}

// Spill budgets, in bytes: what the rebuild holds of the deltas and moments before it writes
// them to files. Variables so that tests can make them small enough to spill.
var (
	spillGroupBudget  = 48 << 20
	spillMoneyBudget  = 12 << 20
	spillMomentBudget = 12 << 20
)

// Widths of the sorted records: group deltas (rec, day, group, metrics), money deltas (rec,
// day, money group, sums), fact moments (tx_id, seq, rec).
const (
	groupRecWords  = 3 + nMetrics
	moneyRecWords  = 3 + len(moneySums{})
	momentRecWords = 3
)

// itemBatch is how many folded items go to the writers at once.
const itemBatch = 256

// LoadStreams folds every item once as its stream ends — its row of today and its group
// deltas over its whole history (the live projection's per-batch differences telescope to
// exactly these) — and writes the tables on conn (empty tables without indexes, which the
// runner builds after): the items' four tables while it reads, on connections of their own
// (one COPY each, in committed chunks, all four at once), then the buckets of recording time
// (the facts' moments in the store's order), the group and money deltas in order of
// recording, their sums and today's group tables.
func (b *itemsBulk) LoadStreams(ctx context.Context, conn *pgx.Conn, next func() ([]eventstore.Record, error)) (err error) {
	b.t0 = time.Now()
	dir, err := newSpillDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sumInto := func(dst, src []int64) {
		for j := 3; j < len(dst); j++ {
			dst[j] += src[j]
		}
	}
	deltas := newSpillSort("group", dir, groupRecWords, 3, spillGroupBudget, sumInto)
	money := newSpillSort("money", dir, moneyRecWords, 3, spillMoneyBudget, sumInto)
	moments := newSpillSort("moments", dir, momentRecWords, 2, spillMomentBudget, nil)
	groups := &groupIndex{ids: map[groupKey]gid{}}
	var monies sumIndex[moneyGroup]
	current := newCurrentChange()

	// The writers: one connection and one COPY per table, fed batches of folded items.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		feeds []chan []*bulkItem
		wg    sync.WaitGroup
		errs  = make([]error, len(itemWriters))
	)
	for i, w := range itemWriters {
		c := conn
		if i > 0 {
			if c, err = pgx.ConnectConfig(ctx, conn.Config().Copy()); err != nil {
				return err
			}
			defer c.Close(context.WithoutCancel(ctx))
		}
		feed := make(chan []*bulkItem, 4)
		feeds = append(feeds, feed)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = copyBinary(ctx, c, w.table, w.cols, func(cb *copyBuf) error {
				for {
					items, ok, err := waitFeed(cb, feed)
					if err != nil {
						return err
					}
					if !ok {
						return nil
					}
					for _, x := range items {
						if err := w.rows(cb, x); err != nil {
							return err
						}
					}
				}
			})
			if errs[i] != nil {
				cancel(errs[i])
				for range feed { // the folding goroutine may be sending
				}
			}
		}()
	}
	closed := false
	closeFeeds := func() {
		if !closed {
			for _, f := range feeds {
				close(f)
			}
			closed = true
		}
		wg.Wait()
	}
	defer closeFeeds()

	// Fold and send each item as its stream ends.
	var (
		ds      = newDeltaSet()
		cur     *bulkItem
		out     []*bulkItem
		rec     = make([]int64, groupRecWords)
		moment  [momentRecWords]int64
		nItems  int
		nFacts  int64
		nDeltas int64
	)
	send := func() error {
		for _, f := range feeds {
			select {
			case f <- out:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		out = make([]*bulkItem, 0, itemBatch)
		return nil
	}
	finish := func() error {
		x := cur
		cur = nil
		x.now, _ = fold(x.info, x.facts, always, always, nil)
		slices.SortFunc(x.now.money, func(a, b moneyEntry) int {
			if a.source != b.source {
				return strings.Compare(a.source, b.source)
			}
			return a.year - b.year
		})
		if x.info != nil {
			current.add(x.info, &x.now, 1)
			clear(ds.groups)
			clear(ds.money)
			ds.item(x.info, x.facts, 0)
			for k, m := range ds.groups {
				rec = rec[:groupRecWords]
				rec[0], rec[1], rec[2] = k.rec, k.day, int64(groups.id(k.g))
				copy(rec[3:], m[:])
				if err := deltas.add(rec); err != nil {
					return err
				}
				nDeltas++
			}
			for k, m := range ds.money {
				rec = rec[:moneyRecWords]
				rec[0], rec[1], rec[2] = k.rec, k.day, int64(monies.id(moneyGroup{k.kind, k.source, k.year}))
				copy(rec[3:], m[:])
				if err := money.add(rec); err != nil {
					return err
				}
			}
		}
		nItems++
		out = append(out, x)
		if len(out) == itemBatch {
			return b.sendOr(ctx, send)
		}
		return nil
	}
	out = make([]*bulkItem, 0, itemBatch)
	for {
		batch, err := next()
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		items, facts, err := decodeRows(batch)
		if err != nil {
			return err
		}
		// Both lists are in the batch's order, the stream order: a stream's facts follow one
		// another, and its proposals come with facts of their own (a stage).
		j, r := 0, 0
		for i := range facts {
			fr := &facts[i]
			if cur != nil && cur.id != fr.item {
				if err := finish(); err != nil {
					return err
				}
			}
			if cur == nil {
				cur = &bulkItem{id: fr.item}
			}
			for j < len(items) && items[j].id == fr.item {
				if row := &items[j]; cur.info == nil {
					// The first proposal stands, a later one is its stage fact (see load).
					info := row.info
					cur.info = &info
					cur.start, cur.title, cur.scope, cur.model, cur.folded = row.start, row.title, row.scope, row.model, row.folded
				}
				j++
			}
			cur.facts = append(cur.facts, fr.fact)
			cur.versions = append(cur.versions, fr.version)
			// The fact's position: its event's, the next item event of its version.
			for r < len(batch) && !(batch[r].Version == fr.version && isItemStream(batch[r].StreamID) &&
				itemID(batch[r].StreamID) == fr.item) {
				r++
			}
			if r == len(batch) {
				return fmt.Errorf("rebuild: the event of %s v%d is not in its batch", fr.item, fr.version)
			}
			p := batch[r].Position
			moment[0], moment[1], moment[2] = int64(p.TxID), p.Seq, fr.rec
			if err := moments.add(moment[:]); err != nil {
				return err
			}
			nFacts++
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
	}
	if cur != nil {
		if err := finish(); err != nil {
			return err
		}
	}
	if len(out) > 0 {
		if err := b.sendOr(ctx, send); err != nil {
			return err
		}
	}
	closeFeeds()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	b.step("read, fold, copy pj_items, pj_item_facts, pj_item_current*", "items", nItems, "facts", nFacts,
		"group deltas", nDeltas, "runs", len(deltas.runs))

	// The buckets: every fact counted in the store's order, as the live projection counts them.
	bk := &buckets{size: b.size}
	if err := moments.each(func(m []int64) error {
		if bk.starts == nil {
			bk.starts, bk.facts, bk.maxRec = []int64{minMoment}, []int64{0}, []int64{minMoment}
		}
		bk.count(m[2])
		return nil
	}); err != nil {
		return err
	}
	b.step("buckets", "buckets", len(bk.starts))

	// Today's group tables.
	var rows [][]any
	for k, m := range current.groups {
		if m[mItems] == 0 {
			continue
		}
		rows = append(rows, []any{k.kind, k.unit, k.pillar, k.sector, string(k.stage), m[mItems], m[mDistinct], m[mWithGap],
			m[mEstimated], m[mRequested], m[mApproved], m[mDisbursed], m[mGap], m[mProgress]})
	}
	if err := copyRows(ctx, conn, "pj_group_current", []string{"kind", "unit_code", "pillar", "sector", "stage", "items",
		"distinct_models", "with_gap", "estimated_vnd", "requested_vnd", "approved_vnd", "disbursed_vnd", "gap_vnd", "progress"},
		rows); err != nil {
		return err
	}
	rows = rows[:0]
	for k, m := range current.money {
		if *m == (moneySums{}) {
			continue
		}
		rows = append(rows, []any{k.kind, k.cancelled, k.source, int32(k.year), m[0], m[1], m[2]})
	}
	if err := copyRows(ctx, conn, "pj_group_money", []string{"kind", "cancelled", "source", "year", "requested_vnd",
		"approved_vnd", "disbursed_vnd"}, rows); err != nil {
		return err
	}
	b.step("copy pj_group_current etc.")
	return b.writeDeltas(ctx, conn, bk, groups, deltas, &monies, money)
}

// sendOr sends a batch of folded items to the writers, or returns why the rebuild stops.
func (b *itemsBulk) sendOr(ctx context.Context, send func() error) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return send()
}

// itemID is the item of an item stream.
func itemID(stream string) string { return stream[strings.IndexByte(stream, '-')+1:] }

// itemWriter writes one of the items' tables, a folded item at a time.
type itemWriter struct {
	table string
	cols  []string
	rows  func(c *copyBuf, x *bulkItem) error
}

// itemWriters are the items' four tables; the first writes on the rebuild's connection, the
// others on connections of their own.
var itemWriters = []itemWriter{
	{"pj_item_facts", []string{"item_id", "version", "fact", "occurred_on", "recorded_at", "source", "year", "amount",
		"stage", "percent", "ref"}, func(c *copyBuf, x *bulkItem) error {
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
		return nil
	}},
	{"pj_items", []string{"item_id", "kind", "title", "unit_code", "pillar", "sector", "scope", "model_id", "estimated_vnd",
		"start_date", "end_date", "proposed_on", "recorded_at", "title_folded"}, func(c *copyBuf, x *bulkItem) error {
		if x.info == nil {
			return nil
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
		return nil
	}},
	{"pj_item_current", []string{"item_id", "kind", "unit_code", "pillar", "sector", "estimated_vnd", "end_date",
		"requested_vnd", "approved_vnd", "disbursed_vnd", "stage", "progress", "same_as", "first_funded_on",
		"last_progress_on", "flagged_on", "overdue_since"}, func(c *copyBuf, x *bulkItem) error {
		if x.info == nil {
			return nil
		}
		cur := &x.now
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
		return nil
	}},
	{"pj_item_current_money", []string{"item_id", "source", "year", "requested_vnd", "approved_vnd", "disbursed_vnd"},
		func(c *copyBuf, x *bulkItem) error {
			for _, e := range x.now.money {
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
			return nil
		}},
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
// days it reads from the primary key, which INCLUDEs the figures), the money deltas, the
// buckets, the month sums of every closed bucket (the sums of all rows recorded up to its
// end) and those of the open bucket. The deltas come out of their sorts by (moment, day,
// group), each key's rows summed; the rows of one moment and day go out in the order of the
// group's columns.
func (b *itemsBulk) writeDeltas(ctx context.Context, conn *pgx.Conn, bk *buckets, groups *groupIndex, deltas *spillSort,
	monies *sumIndex[moneyGroup], money *spillSort) error {
	if bk.starts == nil {
		return nil // no facts: the live projection writes no bucket either
	}
	sums := newRebuildSums(bk, groups)
	// The groups' rank in the order of the primary key's text columns.
	rank := make([]int64, len(groups.keys))
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
		rank[g] = int64(r)
	}
	// block gathers the rows of one moment and day, to go out in rank order.
	var block [][]int64
	var pool []int64
	flush := func(emit func(r []int64) error, rankOf func(id int64) int64) error {
		slices.SortFunc(block, func(x, y []int64) int { return cmpInt64(rankOf(x[2]), rankOf(y[2])) })
		for _, r := range block {
			if err := emit(r); err != nil {
				return err
			}
		}
		block, pool = block[:0], pool[:0]
		return nil
	}
	gather := func(r []int64, emit func(r []int64) error, rankOf func(id int64) int64) error {
		if len(block) > 0 && (block[0][0] != r[0] || block[0][1] != r[1]) {
			if err := flush(emit, rankOf); err != nil {
				return err
			}
		}
		for _, v := range r[3:] {
			if v != 0 {
				n := len(pool)
				pool = append(pool, r...)
				block = append(block, pool[n:n+len(r):n+len(r)])
				return nil
			}
		}
		return nil // summed to zero: no row, as live
	}
	groupRank := func(id int64) int64 { return rank[id] }
	var nGroup int64
	// Each closed bucket's running month sums (pj_group_delta_sums) go out as soon as the
	// deltas, which come in order of recording, pass its end: on a connection of their own,
	// beside the COPY of the deltas, so that no bucket's own sums are held after it closes
	// (held to the end, they grew with the store: 164 MB of 203 at 3 M events). What
	// sums.write then finds of them is empty.
	closed := make(chan *deltaTable[monthKey, metrics], 2)
	sumsConn, err := pgx.ConnectConfig(ctx, conn.Config().Copy())
	if err != nil {
		return err
	}
	defer sumsConn.Close(context.WithoutCancel(ctx))
	sumsDone := make(chan error, 1)
	go func() {
		sumsDone <- writeClosedSums(ctx, sumsConn, sums, closed)
	}()
	nextBucket := 0 // the first bucket whose own sums have not gone out
	closeUpTo := func(n int) error {
		for ; nextBucket < min(n, sums.open); nextBucket++ {
			select {
			case closed <- sums.own[nextBucket]:
			case err := <-sumsDone:
				if err == nil {
					err = errors.New("pj_group_delta_sums: its writer ended early")
				}
				sumsDone <- err
				return err
			}
			sums.own[nextBucket] = newDeltaTable[monthKey, metrics]()
		}
		return nil
	}
	if err := copyBinary(ctx, conn, "pj_group_deltas", []string{"day", "recorded_at", "kind", "unit_code", "pillar", "sector",
		"stage", "items", "distinct_models", "with_gap", "overdue", "estimated_vnd", "requested_vnd", "approved_vnd",
		"disbursed_vnd", "gap_vnd", "progress"}, func(c *copyBuf) error {
		var m metrics
		emit := func(r []int64) error {
			copy(m[:], r[3:])
			if err := closeUpTo(bk.of(r[0])); err != nil {
				return err
			}
			sums.addGroup(gid(r[2]), int32(r[1]), r[0], &m)
			g := groups.keys[r[2]]
			if err := c.row(17); err != nil {
				return err
			}
			c.date(r[1])
			c.moment(r[0])
			c.text(g.kind)
			c.text(g.unit)
			c.text(g.pillar)
			c.text(g.sector)
			c.text(string(g.stage))
			for j := range m {
				c.int8(m[j])
			}
			nGroup++
			return nil
		}
		if err := deltas.each(func(r []int64) error { return gather(r, emit, groupRank) }); err != nil {
			return err
		}
		if err := flush(emit, groupRank); err != nil {
			return err
		}
		return closeUpTo(sums.open)
	}); err != nil {
		close(closed)
		<-sumsDone
		return err
	}
	close(closed)
	if err := <-sumsDone; err != nil {
		return err
	}
	b.step("sort, copy pj_group_deltas", "rows", nGroup)

	// The money groups' rank: kind, source, year.
	mrank := make([]int64, len(monies.keys))
	byKey = byKey[:0]
	for i := range monies.keys {
		byKey = append(byKey, i)
	}
	slices.SortFunc(byKey, func(x, y int) int {
		a, c := monies.keys[x], monies.keys[y]
		switch {
		case a.kind != c.kind:
			return strings.Compare(a.kind, c.kind)
		case a.source != c.source:
			return strings.Compare(a.source, c.source)
		}
		return a.year - c.year
	})
	for r, g := range byKey {
		mrank[g] = int64(r)
	}
	moneyRank := func(id int64) int64 { return mrank[id] }
	if err := copyBinary(ctx, conn, "pj_money_deltas", []string{"day", "recorded_at", "kind", "source", "year",
		"requested_vnd", "approved_vnd", "disbursed_vnd"}, func(c *copyBuf) error {
		var m moneySums
		emit := func(r []int64) error {
			copy(m[:], r[3:])
			g := &monies.keys[r[2]]
			sums.addMoney(bulkMoneyKey{g.kind, g.source, g.year, int32(r[1]), r[0]}, &m)
			if err := c.row(8); err != nil {
				return err
			}
			c.date(r[1])
			c.moment(r[0])
			c.text(g.kind)
			c.text(g.source)
			c.int4(g.year)
			c.int8(m[0])
			c.int8(m[1])
			c.int8(m[2])
			return nil
		}
		if err := money.each(func(r []int64) error { return gather(r, emit, moneyRank) }); err != nil {
			return err
		}
		return flush(emit, moneyRank)
	}); err != nil {
		return err
	}
	b.step("sort, copy pj_money_deltas")

	// The buckets, and their running sums (rebuildsums.go).
	if err := sums.write(ctx, conn); err != nil {
		return err
	}
	b.step("bucket sums")
	return nil
}

// waitFeed takes the next value from feed. A chunk's transaction holds an xid from its first
// row to its end, and the values come as fast as the store is read and folded: an open chunk
// ends when the next value has not come before its time is up, rather than wait open.
func waitFeed[T any](c *copyBuf, feed <-chan T) (T, bool, error) {
	if c.w == nil {
		v, ok := <-feed
		return v, ok, nil
	}
	t := time.NewTimer(max(chunkTime-time.Since(c.started), 0))
	defer t.Stop()
	select {
	case v, ok := <-feed:
		return v, ok, nil
	case <-t.C:
	}
	if err := c.end(); err != nil {
		var zero T
		return zero, false, err
	}
	v, ok := <-feed
	return v, ok, nil
}

// writeClosedSums writes pj_group_delta_sums on conn: for each closed bucket, in order, as its
// own month sums come from closed, the running total of the month sums up to its end — the rows
// rebuildSums.write writes, as the buckets close instead of at the end.
func writeClosedSums(ctx context.Context, conn *pgx.Conn, s *rebuildSums, closed <-chan *deltaTable[monthKey, metrics]) error {
	err := copyBinary(ctx, conn, "pj_group_delta_sums", append([]string{"bucket", "dim", "month", "kind", "key", "stage"},
		groupSumCols...), func(c *copyBuf) error {
		total := newDeltaTable[monthKey, metrics]()
		for n := 0; ; n++ {
			own, ok, err := waitFeed(c, closed)
			if err != nil || !ok {
				return err
			}
			if err := s.copyClosed(c, total, own, n); err != nil {
				return err
			}
		}
	})
	for range closed { // after a failure: the deltas' writer may still be sending
	}
	return err
}
