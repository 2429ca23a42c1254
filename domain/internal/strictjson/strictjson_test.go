package strictjson

import (
	"strings"
	"testing"
)

func TestObject(t *testing.T) {
	type ev struct {
		A int `json:"a"`
	}
	for _, c := range []struct {
		data string
		ok   bool
	}{
		{`{"a":1}`, true},
		{` {"a":1} `, true},
		{`{"a":1,"b":2}`, false},  // an unknown field
		{`{"a":1}{"a":2}`, false}, // data after the object
		{`[{"a":1}]`, false},      // not an object
		{`null`, false},
		{``, false},
		{`{"a":"x"}`, false},
	} {
		var e ev
		if err := Object([]byte(c.data), &e); (err == nil) != c.ok {
			t.Errorf("Object(%q): %v, want ok=%v", c.data, err, c.ok)
		}
	}
}

type event interface{ kind() string }

type registered struct {
	Code string `json:"code"`
}

func (registered) kind() string { return "registered" }

// Event is the one decode of the domain codecs: the event as the package's interface, or a
// nil one and an error naming the stored type.
func TestEvent(t *testing.T) {
	e, err := Event[event, registered]("unit.registered.v1", []byte(`{"code":"DT"}`))
	if err != nil || e != (registered{Code: "DT"}) {
		t.Fatalf("Event: %#v, %v; want registered DT", e, err)
	}
	e, err = Event[event, registered]("unit.registered.v1", []byte(`{"code":"DT","name":"x"}`))
	if e != nil || err == nil || !strings.Contains(err.Error(), "decode unit.registered.v1: ") {
		t.Fatalf("Event with an unknown field: %#v, %v; want nil and an error naming the type", e, err)
	}
}
