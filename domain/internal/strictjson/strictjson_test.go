package strictjson

import "testing"

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
