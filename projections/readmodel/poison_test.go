package readmodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
)

// raw appends one event as the store takes it, past the domain's checks: the test writes the
// JSON itself.
func raw(t *testing.T, s *eventstore.Store, stream string, expected int64, typ, data, on string) {
	t.Helper()
	if !json.Valid([]byte(data)) {
		t.Fatalf("%s %s: the test's JSON is not JSON: %s", stream, typ, data)
	}
	d := pjtest.Day(on).Time(time.UTC)
	if _, err := s.Append(context.Background(), stream, expected,
		[]eventstore.Event{{Type: typ, Data: []byte(data), Metadata: eventstore.Metadata{Actor: "test", OccurredOn: d}}}); err != nil {
		t.Fatalf("append %s %s: %v", stream, typ, err)
	}
}

// proposal is the JSON of a model proposed with title, written by hand (the title is put in
// as it is: JSON escapes or raw bytes).
func proposal(id, title, unit string, estimated int64) string {
	return `{"id":"` + id + `","kind":"model","title":"` + title + `","unit_code":"` + unit +
		`","pillar":"society","sector":"health","estimated_cost_vnd":` + itoa(estimated) +
		`,"start_date":"2022-02-01","end_date":"2023-06-30","workflow_version":1,"stage":"proposed"}`
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Issue 11: events the door refuses today but the store may hold — text PostgreSQL cannot
// store, numbers its columns cannot hold or its sums cannot add, event types of a later
// version — are applied live and by a rebuild without failing, to the same rows, and the
// reports count the items that hold them.
func TestPoisonEventsApplied(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pjtest.SeedUnits(t, store)

	// Text: a NUL (the JSON escape, which the store's json column keeps), a lone surrogate
	// (invalid UTF-16, which JSON decoding turns into U+FFFD), C0 and C1 controls.
	raw(t, store, "model-nul", 0, "model.proposed.v2", proposal("nul", `Khám\u0000 sức khỏe`, "SO-YT", 2_000_000_000), "2022-01-05")
	raw(t, store, "model-surrogate", 0, "model.proposed.v2", proposal("surrogate", `Tr\udc80m y tế`, `SO-YT\u0000`, 1_000_000_000), "2022-01-06")
	raw(t, store, "model-controls", 0, "model.proposed.v2",
		`{"id":"controls","kind":"model\u0000","title":"Đô\u0001thị\u0085số","unit_code":"SO-YT","pillar":"society\u001f",`+
			`"sector":"health","scope":"hai\ndòng\u0000","model_id":"x\u0000","estimated_cost_vnd":-5,`+
			`"start_date":null,"end_date":null,"workflow_version":1,"stage":"proposed\u0000"}`, "2022-01-07")
	// An item proposed twice: in one batch here, in two below. The first proposal stands.
	raw(t, store, "model-controls", 1, "model.proposed.v2", proposal("controls", "again", "SO-TC", 7), "2022-01-08")
	// Numbers: a year no int4 holds, a percent no int4 holds, a negative amount and amounts
	// whose sum no bigint holds, in one item and across two items of one group — the second
	// of each in a later batch, which PostgreSQL adds to the first.
	raw(t, store, "model-nul", 1, "model.funding_requested.v1",
		`{"request_id":"r\u0000","source":"central_budget\u0000","amount_vnd":9000000000000000000,"year":10000000000}`, "2022-02-10")
	raw(t, store, "model-nul", 2, "model.funding_requested.v1",
		`{"request_id":"r2","source":"central_budget","amount_vnd":9000000000000000000,"year":2022}`, "2022-02-11")
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Projections: readmodel.All()})
	if err != nil {
		t.Fatal(err)
	}
	follow(t, r, store)
	raw(t, store, "model-nul", 3, "model.funding_requested.v1",
		`{"request_id":"r3","source":"central_budget","amount_vnd":9000000000000000000,"year":2022}`, "2022-02-11")
	raw(t, store, "model-surrogate", 1, "model.funding_requested.v1",
		`{"request_id":"r1","source":"central_budget","amount_vnd":9000000000000000000,"year":2022}`, "2022-02-11")
	raw(t, store, "model-surrogate", 2, "model.disbursed.v1", `{"source":"oda","amount_vnd":-7}`, "2022-03-01")
	// 2022 + 2^32: the same int4 as 2022, were it wrapped.
	raw(t, store, "model-surrogate", 3, "model.funding_requested.v1",
		`{"request_id":"r2","source":"central_budget","amount_vnd":1,"year":4294969318}`, "2022-02-12")
	raw(t, store, "model-nul", 4, "model.progress_reported.v1", `{"percent":100000000000}`, "2022-04-01")
	raw(t, store, "model-controls", 2, "model.progress_reported.v1", `{"percent":-3}`, "2022-04-01")
	// An event type of a later version, on an item stream and on a unit stream.
	raw(t, store, "model-nul", 5, "model.funding_reallocated.v1", `{"from":"r2","to":"r3"}`, "2022-05-01")
	raw(t, store, "model-nul", 6, "model.proposed.v2", proposal("nul", "again", "SO-TC", 7), "2022-05-02")
	raw(t, store, "unit-SO-YT", 1, "unit.reorganised.v2", `{"code":"SO-YT"}`, "2022-05-01")
	// Units: a NUL in a name, a NUL in a code, a code registered twice, a unit merged twice.
	raw(t, store, "unit-SO-MOI", 0, "unit.registered.v1",
		`{"code":"SO-MOI","name":"Sở\u0000 mới","kind":"department","parent_code":"DT","effective_date":"2021-01-01"}`, "2021-01-01")
	raw(t, store, "unit-SO-NUL", 0, "unit.registered.v1",
		`{"code":"SO-NUL\u0000","name":"N\u0007","kind":"department\u0000","parent_code":"DT","effective_date":"2021-01-01"}`, "2021-01-01")
	raw(t, store, "unit-SO-MOI-2", 0, "unit.registered.v1",
		`{"code":"SO-MOI","name":"again","kind":"department","parent_code":"DT","effective_date":"2021-02-01"}`, "2021-02-01")
	raw(t, store, "unit-SO-MOI", 1, "unit.renamed.v1", `{"code":"SO-MOI","name":"Sở\u0000 mới hơn","effective_date":"2021-03-01"}`, "2021-03-01")
	raw(t, store, "unit-SO-MOI", 2, "unit.merged.v1", `{"code":"SO-MOI","into_code":"SO-YT\u0000","effective_date":"2025-01-01"}`, "2025-01-01")
	raw(t, store, "unit-SO-MOI", 3, "unit.merged.v1", `{"code":"SO-MOI","into_code":"SO-TC","effective_date":"2025-02-01"}`, "2025-02-01")

	models := 3
	// Raw invalid UTF-8 bytes: the store's data column is json, which PostgreSQL checks against
	// the database's encoding (UTF8) — and should they ever come through, JSON decoding and
	// then line replace them (TestClean checks line on its own).
	bad := proposal("bytes", "Tr\xffm y t\xc3", "SO-YT", 1)
	if _, err := store.Append(context.Background(), "model-bytes", 0, []eventstore.Event{{Type: "model.proposed.v2",
		Data: []byte(bad), Metadata: eventstore.Metadata{OccurredOn: pjtest.Day("2022-01-08").Time(time.UTC)}}}); err != nil {
		t.Logf("the store refuses invalid UTF-8: %v", err)
	} else {
		t.Log("the store took invalid UTF-8: the read models must clean it")
		models++
	}

	follow(t, r, store)
	live := pjtest.Tables(t, db.Pool)
	if _, err := r.RebuildAll(context.Background(), readmodel.All(), nil); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if rebuilt := pjtest.Tables(t, db.Pool); !reflect.DeepEqual(live, rebuilt) {
		for i := range min(len(live), len(rebuilt)) {
			if live[i] != rebuilt[i] {
				t.Fatalf("row %d differs:\n live    %s\n rebuilt %s", i, live[i], rebuilt[i])
			}
		}
		t.Fatalf("live has %d rows, rebuilt %d", len(live), len(rebuilt))
	}
	// And live again from the rebuild: a restart does not fail at the same event either.
	follow(t, r, store)

	ctx := context.Background()
	text := func(q string, args ...any) string {
		t.Helper()
		var s string
		if err := db.Pool.QueryRow(ctx, q, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s
	}
	for _, c := range []struct{ q, want string }{
		{`SELECT title FROM pj_items WHERE item_id = 'nul'`, "Khám\uFFFD sức khỏe"},
		{`SELECT title_folded FROM pj_items WHERE item_id = 'nul'`, "kham suc khoe"},
		{`SELECT title FROM pj_items WHERE item_id = 'surrogate'`, "Tr\uFFFDm y tế"},
		{`SELECT unit_code FROM pj_items WHERE item_id = 'surrogate'`, "SO-YT\uFFFD"},
		{`SELECT title FROM pj_items WHERE item_id = 'controls'`, "Đô thị số"},
		{`SELECT kind || '|' || pillar || '|' || scope || '|' || model_id || '|' || estimated_vnd FROM pj_items WHERE item_id = 'controls'`,
			"model|society |hai\ndòng\uFFFD|x\uFFFD|0"},
		{`SELECT string_agg(source || ' ' || year || ' ' || amount || ' ' || ref, ', ' ORDER BY version) FROM pj_item_facts
			WHERE item_id = 'nul' AND fact = 'requested'`,
			"central_budget\uFFFD 0 1000000000000000 r\uFFFD, central_budget 2022 1000000000000000 r2, " +
				"central_budget 2022 1000000000000000 r3"},
		{`SELECT string_agg(percent::text, ',' ORDER BY item_id) FROM pj_item_facts WHERE fact = 'progress'`, "0,100"},
		{`SELECT amount::text FROM pj_item_facts WHERE item_id = 'surrogate' AND fact = 'disbursed'`, "0"},
		{`SELECT progress || ' ' || requested_vnd FROM pj_item_current WHERE item_id = 'nul'`, "100 3000000000000000"},
		{`SELECT string_agg(code || '=' || name || '/' || kind, ', ' ORDER BY code) FROM pj_units WHERE code LIKE 'SO-MOI%' OR code LIKE 'SO-NUL%'`,
			"SO-MOI=Sở\uFFFD mới hơn/department, SO-NUL\uFFFD=N /department\uFFFD"},
		{`SELECT into_code FROM pj_unit_merges WHERE code = 'SO-MOI'`, "SO-YT\uFFFD"},
		{`SELECT count(*)::text FROM pj_item_facts WHERE item_id = 'nul'`, "6"}, // the later version's event skipped
		{`SELECT string_agg(item_id || ' ' || unit_code || ' ' || estimated_vnd, ', ' ORDER BY item_id) FROM pj_items`,
			"controls SO-YT 0, nul SO-YT 2000000000, surrogate SO-YT\uFFFD 1000000000"},
	} {
		if got := text(c.q); got != c.want {
			t.Errorf("%s\n got  %q\n want %q", c.q, got, c.want)
		}
	}
	if n := text(`SELECT count(*)::text FROM pj_items WHERE title ~ '[[:cntrl:]]'`); n != "0" {
		t.Errorf("%s titles hold a control character", n)
	}

	// The reports count the models, today and as of a past day known at a past moment
	// (the group deltas), and add up their money without overflow.
	reports := projections.NewReports(db.Pool, nil, nil)
	for _, q := range []projections.Query{{}, {AsOf: civil.Date{Year: 2022, Month: 6, Day: 1}, KnownAt: time.Now()}} {
		counts, err := reports.ModelCounts(ctx, "unit", q)
		if err != nil {
			t.Fatalf("model counts %+v: %v", q, err)
		}
		if counts.Total.Registrations != int64(models) {
			t.Errorf("model counts %+v: %d registrations, want %d: %+v", q, counts.Total.Registrations, models, counts.Rows)
		}
		gaps, err := reports.FundingGaps(ctx, "source", q)
		if err != nil {
			t.Fatalf("funding gaps %+v: %v", q, err)
		}
		var requested int64
		for _, row := range gaps.Rows {
			requested += row.Requested
		}
		if requested != 4_000_000_000_000_001 {
			t.Errorf("funding gaps %+v: %d requested, want 4×10^15 + 1 (each amount at the ceiling): %+v", q, requested, gaps.Rows)
		}
	}
}

// follow runs the projections until they reach the store's head, and fails the test at once
// if they stop on an error.
func follow(t *testing.T, r *projector.Runner, s *eventstore.Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.FollowAll(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("the projections stopped: %v", err)
		default:
		}
		head, err := s.LastCommitted(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		at := true
		for _, p := range r.Projections() {
			cp, err := r.Checkpoint(context.Background(), p.Name())
			if err != nil {
				t.Fatal(err)
			}
			at = at && cp.Position == head
		}
		if at {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the projections did not reach the store's head in 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("FollowAll: %v", err)
	}
}
