// Package strictjson reads a stored event's data as the domain packages require: one JSON
// object, no unknown field, nothing after it. An event that does not decode this way is a
// fault of the store's content, never guessed at.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
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
