// Package strictjson reads a stored event's data as the domain packages require: one JSON
// object, no unknown field, nothing after it. An event that does not decode this way is a
// fault of the store's content, never guessed at.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Object decodes data, one JSON object with only v's fields, into v.
func Object(data []byte, v any) error {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errors.New("want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// Event decodes data, a stored event of type typ, into an E (as Object does) and returns it as
// I, the interface the package's events share (E must implement it); on an error, a nil I and
// an error naming typ. The codecs of the domain packages decode each of their types with it.
func Event[I any, E any](typ string, data []byte) (I, error) {
	var e E
	if err := Object(data, &e); err != nil {
		var none I
		return none, fmt.Errorf("decode %s: %w", typ, err)
	}
	return any(e).(I), nil
}
