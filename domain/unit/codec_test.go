package unit

import (
	"errors"
	"testing"
)

// samples holds one event of every stored type.
var samples = []struct {
	typ  string
	e    Event
	json string
}{
	{"unit.registered.v1", regKHDT, `{"code":"SO-KHDT","name":"Sở Kế hoạch và Đầu tư","kind":"department","parent_code":"DT","effective_date":"2022-01-01"}`},
	{"unit.renamed.v1", Renamed{Code: "DT", Name: "Tỉnh Đồng Tháp", On: day("2025-07-01")}, `{"code":"DT","name":"Tỉnh Đồng Tháp","effective_date":"2025-07-01"}`},
	{"unit.merged.v1", mergeKHDT, `{"code":"SO-KHDT","into_code":"SO-TC","effective_date":"2025-03-01"}`},
	{"unit.dissolved.v1", dissolveKHDT, `{"code":"SO-KHDT","effective_date":"2025-03-01"}`},
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tt := range samples {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			typ, data, err := Encode(tt.e)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if typ != tt.typ || string(data) != tt.json {
				t.Errorf("Encode = %s %s, want %s %s", typ, data, tt.typ, tt.json)
			}
			got, err := Decode(typ, data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != tt.e {
				t.Errorf("Decode = %#v, want %#v", got, tt.e)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ, data string
	}{
		{"an unknown type", "unit.renamed.v9", `{"code":"DT"}`},
		{"an unknown field", "unit.merged.v1", `{"code":"SO-KHDT","into_code":"SO-TC","effective_date":"2025-03-01","note":"x"}`},
		{"data after the object", "unit.dissolved.v1", `{"code":"DT"} {}`},
		{"null", "unit.dissolved.v1", `null`},
		{"an array", "unit.dissolved.v1", `[]`},
		{"an impossible date", "unit.dissolved.v1", `{"code":"DT","effective_date":"2025-02-30"}`},
		{"a number for a string", "unit.registered.v1", `{"code":7}`},
		{"malformed JSON", "unit.registered.v1", `{"code":"DT"`},
	}
	for _, tt := range tests {
		if e, err := Decode(tt.typ, []byte(tt.data)); err == nil {
			t.Errorf("%s: Decode(%s, %s) = %#v, want an error", tt.name, tt.typ, tt.data, e)
		}
	}
	if _, err := Decode("unit.renamed.v9", []byte(`{}`)); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("Decode of an unknown type: error = %v, want ErrUnknownEventType", err)
	}
	if _, _, err := Encode(&regDT); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("Encode(*Registered): error = %v, want ErrUnknownEventType", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range samples {
		f.Add(s.typ, []byte(s.json))
	}
	f.Add("unit.registered.v1", []byte(`{"CODE":"DT","name":"\ud800","effective_date":null}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e, err := Decode(typ, data)
		if err != nil {
			return
		}
		typ2, data2, err := Encode(e)
		if err != nil {
			t.Fatalf("Encode(%#v) after Decode: %v", e, err)
		}
		if typ2 != typ {
			t.Fatalf("Encode type = %s, want %s", typ2, typ)
		}
		e2, err := Decode(typ2, data2)
		if err != nil {
			t.Fatalf("Decode(%s, %s) of an encoded event: %v", typ2, data2, err)
		}
		if e2 != e {
			t.Fatalf("round trip = %#v, want %#v", e2, e)
		}
	})
}
