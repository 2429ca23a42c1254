package readmodel

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pjtest"
)

// BenchmarkFoldItems folds 1,000 item lives as the rebuild does: today's row and the group
// deltas over the whole history.
func BenchmarkFoldItems(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	type hist struct {
		info  *itemInfo
		facts []fact
	}
	var hs []hist
	for n := range 1000 {
		id := fmt.Sprintf("i%04d", n)
		var batch []eventstore.Record
		for v, e := range pjtest.LifeOf(rng, item.Project, id) {
			typ, data, _ := item.Encode(item.Project, e)
			batch = append(batch, eventstore.Record{StreamID: "project-" + id, Version: int64(v + 1), Type: typ, Data: data,
				Metadata: eventstore.Metadata{OccurredOn: e.Date().Time(utc), RecordedAt: e.Date().Time(utc).Add(time.Duration(v) * time.Hour)}})
		}
		items, rows, err := itemRows(batch)
		if err != nil {
			b.Fatal(err)
		}
		h := hist{info: &items[0].info}
		for _, r := range rows {
			h.facts = append(h.facts, r.fact)
		}
		hs = append(hs, h)
	}
	ds := newDeltaSet()
	var buf []moneyEntry
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		buf = buf[:0]
		for _, h := range hs {
			var f figures
			f, buf = fold(h.info, h.facts, always, always, buf)
			_ = f
			clear(ds.groups)
			clear(ds.money)
			ds.item(h.info, h.facts, 0)
		}
	}
}
