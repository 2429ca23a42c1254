package workflows

import (
	"context"
	"errors"
	"testing"

	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/domain/unit"
)

// Since issue 13 a command id names one command on one stream (eventstore.Previous). Each
// kind of command that issues 12 and 15 brought — a unit's split and merger, an indicator's
// definition and target — retried with its Idempotency-Key answers the first result and
// appends nothing; the same key with another body is ErrIdempotencyMismatch.
func TestRetriedCommandsOfEveryKind(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.unit("SO-NV", "Sở Nội vụ", unit.Department, "DT")
	f.unit("SO-LDTBXH", "Sở Lao động - Thương binh và Xã hội", unit.Department, "DT")
	f.unit("SO-KHDT", "Sở Kế hoạch và Đầu tư", unit.Department, "DT")
	f.unit("SO-TC", "Sở Tài chính", unit.Department, "DT")
	opts := func(key string, fp string) Options {
		return Options{IdempotencyKey: key, Fingerprint: []byte(fp), Route: "test " + key}
	}
	count := func() int {
		var n int
		if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cases := []struct {
		name string
		run  func(o Options) (Result, error)
	}{
		{"register", func(o Options) (Result, error) {
			return f.h.RegisterUnit(ctx, f.admin, unit.Register{Code: "SO-NNMT", Name: "Sở Nông nghiệp và Môi trường",
				Kind: unit.Department, ParentCode: "DT", On: day("2024-03-01")}, o)
		}},
		{"merge", func(o Options) (Result, error) {
			return f.h.MergeUnit(ctx, f.admin, unit.Merge{Code: "SO-KHDT", IntoCode: "SO-TC", EffectiveDate: day("2024-03-01")}, o)
		}},
		{"split", func(o Options) (Result, error) {
			return f.h.SplitUnit(ctx, f.admin, unit.SplitUnit{Code: "SO-LDTBXH", EffectiveDate: day("2024-03-01"), RestIntoCode: "SO-NV"}, o)
		}},
		{"define", func(o Options) (Result, error) {
			return f.h.IndicatorCommand(ctx, f.admin, "CQS-01", indicator.Define{Definition: indicator.Definition{Code: "CQS-01",
				NameVI: "Tỷ lệ hồ sơ trực tuyến", NameEN: "Online applications", Measure: indicator.Percentage,
				Direction: indicator.Higher, Pillar: "government", UnitCode: "SO-NV", Frameworks: []string{"749/QĐ-TTg"}},
				EffectiveDate: day("2024-01-01")}, o)
		}},
		{"target", func(o Options) (Result, error) {
			return f.h.IndicatorCommand(ctx, f.admin, "CQS-01", indicator.SetTarget{Scope: indicator.Province, Year: 2024,
				Value: indicator.Number("80")}, o)
		}},
	}
	for _, c := range cases {
		first, err := c.run(opts(c.name, "body"))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		n := count()
		again, err := c.run(opts(c.name, "body"))
		if err != nil {
			t.Fatalf("%s retried: %v", c.name, err)
		}
		if !again.Duplicate || again.ID != first.ID || again.Version != first.Version {
			t.Errorf("%s retried: %+v, first %+v", c.name, again, first)
		}
		if _, err := c.run(opts(c.name, "another body")); !errors.Is(err, ErrIdempotencyMismatch) {
			t.Errorf("%s with the key of another body: %v, want ErrIdempotencyMismatch", c.name, err)
		}
		if m := count(); m != n {
			t.Errorf("%s: the retries appended %d events", c.name, m-n)
		}
	}
}
