package item

import (
	"reflect"
	"testing"
)

func allEvents() []Event {
	on := Fact{On: day("2022-05-05")}
	return []Event{
		&Proposed{Fact: on, ID: "p1", Kind: Project, Title: "Hồ sơ sức khỏe điện tử", UnitCode: "SO-YT", Pillar: Society,
			Sector: "health", Scope: "toàn tỉnh", ModelID: "m1", EstimatedCost: 12_000_000_000, StartDate: day("2022-01-01"),
			EndDate: day("2023-01-01"), WorkflowVersion: 2, Stage: StageProposed},
		&FundingRequested{Fact: on, RequestID: "r1", Source: "oda", Amount: 5, Year: 2022},
		&FundingEndorsed{Fact: on, RequestID: "r1", Note: "đồng ý"},
		&FundingApprovalProposed{Fact: on, RequestID: "r1", Amount: 5, Officer: "u1", Note: "n"},
		&FundingApproved{Fact: on, RequestID: "r1", Source: "oda", Year: 2022, Amount: 5, Officers: []string{"u1", "u2"}, Stage: StageFunded},
		&FundingRejected{Fact: on, RequestID: "r2", Officer: "u1", Note: "thiếu hồ sơ"},
		&Disbursed{Fact: on, Source: "oda", Amount: 3},
		&ProgressReported{Fact: on, Percent: 40, Note: "đang triển khai"},
		&Implemented{Fact: on, Stage: StageImplemented},
		&Evaluated{Fact: on, Rating: "partly_effective", Score: 70, Stage: StageEvaluated},
		&Suspended{Fact: on, Reason: "chờ", From: StageFunded, Stage: StageSuspended},
		&Resumed{Fact: on, Stage: StageFunded},
		&Cancelled{Fact: on, Reason: "trùng", Stage: StageCancelled},
		&MarkedSameAs{Fact: on, ModelID: "m2"},
		&FlaggedNoProgress{Fact: on, Since: day("2022-01-01"), Days: 90},
		&BecameOverdue{Fact: on, EndDate: day("2022-05-04")},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, e := range allEvents() {
		typ, data, err := Encode(Project, e)
		if err != nil {
			t.Fatalf("encode %T: %v", e, err)
		}
		if names[typ] {
			t.Errorf("two events encode as %s", typ)
		}
		names[typ] = true
		got, err := Decode(typ, data, e.Date())
		if err != nil {
			t.Fatalf("decode %s %s: %v", typ, data, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%s round trip:\n got %#v\nwant %#v", typ, got, e)
		}
	}
	if _, err := Decode("project.funding_requested.v1", []byte(`{"request_id":"r","surprise":1}`), day("2022-01-01")); err == nil {
		t.Error("an unknown field decoded without error")
	}
	if _, err := Decode("project.teleported.v1", []byte(`{}`), day("2022-01-01")); err == nil {
		t.Error("an unknown type decoded without error")
	}
}

// Items proposed before workflow definitions had versions were stored as proposed.v1; they
// live under version 1 and started in "proposed".
func TestUpcastProposedV1(t *testing.T) {
	t.Parallel()
	v1 := `{"id":"m7","kind":"model","title":"Phố đi bộ không dùng tiền mặt","unit_code":"TP-CAOLANH","pillar":"economy","sector":"commerce","estimated_cost_vnd":0,"start_date":null,"end_date":null}`
	e, err := Decode("model.proposed.v1", []byte(v1), day("2022-05-01"))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := e.(*Proposed)
	if !ok || p.WorkflowVersion != 1 || p.Stage != StageProposed || p.Title != "Phố đi bộ không dùng tiền mặt" || p.On != day("2022-05-01") {
		t.Fatalf("upcast = %#v, want a v2 Proposed under workflow version 1 in stage proposed", e)
	}
	if s := Fold([]Event{e}); s.WorkflowVersion != 1 || s.Kind != Model {
		t.Errorf("folded state %+v", s)
	}
}

func FuzzDecode(f *testing.F) {
	for _, e := range allEvents() {
		typ, data, _ := Encode(Model, e)
		f.Add(typ, data)
	}
	f.Add("model.proposed.v1", []byte(`{"id":"x"}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e, err := Decode(typ, data, day("2022-01-01"))
		if err != nil {
			return
		}
		typ2, data2, err := Encode(Model, e)
		if err != nil {
			t.Fatalf("decoded %T does not encode: %v", e, err)
		}
		e2, err := Decode(typ2, data2, day("2022-01-01"))
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("re-encoding changed the event: %#v vs %#v (%v)", e, e2, err)
		}
		Evolve(State{}, e) // never panics
	})
}
