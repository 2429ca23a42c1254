package projections

import (
	"context"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/readmodel"
)

func TestSimilarity(t *testing.T) {
	t.Parallel()
	same := Similarity("Trạm y tế xã số", "TRẠM Y TẾ XÃ SỐ")
	close := Similarity("Trạm y tế xã số", "Trạm y tế số cấp xã")
	far := Similarity("Trạm y tế xã số", "Đường dây nóng 1022")
	if same != 1 || !(close > MinDuplicateScore && close < 1) || far > 0.3 {
		t.Errorf("similarities: same %.2f (want 1), close %.2f (want between %.1f and 1), far %.2f (want low)", same, close, MinDuplicateScore, far)
	}
}

func TestDuplicateCandidates(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	propose := func(id, unit, title string) {
		pjtest.AppendItem(t, store, item.Model, id, 0, &item.Proposed{Fact: item.Fact{On: pjtest.Day("2022-05-01")}, ID: id, Kind: item.Model,
			Title: title, UnitCode: unit, Pillar: item.Society, Sector: "health", WorkflowVersion: 1, Stage: item.StageProposed})
	}
	propose("m1", "H-TAMNONG", "Trạm y tế xã số")
	propose("m2", "H-TANHONG", "Trạm Y tế xã  số")
	propose("m3", "H-HONGNGU", "Tram y te xa so")
	propose("m4", "TP-CAOLANH", "Tuyến phố không dùng tiền mặt")
	propose("m5", "TP-SADEC", "Tuyến phố đi bộ không dùng tiền mặt")
	propose("m6", "SO-TTTT", "Cổng dịch vụ công e-Dongthap")
	// m3 is already marked the same as m1: that pair is no longer proposed; m2 is not marked,
	// so it stays a candidate with both.
	pjtest.AppendItem(t, store, item.Model, "m3", 1, &item.MarkedSameAs{Fact: item.Fact{On: pjtest.Day("2022-06-01")}, ModelID: "m1"})
	r := newRunner(t, db.Pool, store, readmodel.All()...)
	if _, err := r.RebuildAll(context.Background(), r.Projections(), nil); err != nil {
		t.Fatal(err)
	}
	got, err := NewReports(db.Pool, time.Now, time.UTC).DuplicateCandidates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pairs := map[string]float64{}
	for _, c := range got {
		pairs[c.ModelID+"~"+c.OtherModelID] = c.Score
	}
	for _, want := range []string{"m1~m2", "m2~m3", "m4~m5"} {
		if pairs[want] < MinDuplicateScore {
			t.Errorf("pair %s missing (got %v)", want, pairs)
		}
	}
	for _, not := range []string{"m1~m3", "m1~m6", "m4~m6"} {
		if _, ok := pairs[not]; ok {
			t.Errorf("pair %s proposed: %v", not, pairs)
		}
	}
	if len(got) > 0 && got[0].Score != 1 {
		t.Errorf("best candidate scores %.3f, want 1 (the same title once folded)", got[0].Score)
	}
}
