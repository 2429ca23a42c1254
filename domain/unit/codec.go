package unit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The stored event type names. They never change; a new shape gets a new version, and the
// old one is upcast in Decode.
const (
	typeRegistered = "unit.registered.v1"
	typeRenamed    = "unit.renamed.v1"
	typeMerged     = "unit.merged.v1"
	typeDissolved  = "unit.dissolved.v1"
	typeSplit      = "unit.split.v1"
)

// ErrUnknownEventType: the type name is not one this package stores.
var ErrUnknownEventType = errors.New("unknown unit event type")

// Encode returns e's stored type name and its JSON data.
func Encode(e Event) (typ string, data []byte, err error) {
	switch e.(type) {
	case Registered:
		typ = typeRegistered
	case Renamed:
		typ = typeRenamed
	case Merged:
		typ = typeMerged
	case Dissolved:
		typ = typeDissolved
	case Split:
		typ = typeSplit
	default:
		return "", nil, fmt.Errorf("encode %T: %w", e, ErrUnknownEventType)
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	return typ, data, nil
}

// Decode reads a stored event: one JSON object with no unknown fields.
func Decode(typ string, data []byte) (Event, error) {
	switch typ {
	case typeRegistered:
		return decode[Registered](typ, data)
	case typeRenamed:
		return decode[Renamed](typ, data)
	case typeMerged:
		return decode[Merged](typ, data)
	case typeDissolved:
		return decode[Dissolved](typ, data)
	case typeSplit:
		return decode[Split](typ, data)
	}
	return nil, fmt.Errorf("decode %q: %w", typ, ErrUnknownEventType)
}

func decode[E Event](typ string, data []byte) (Event, error) {
	var e E
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("decode %s: want a JSON object", typ)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decode %s: data after the JSON object", typ)
	}
	return e, nil
}
