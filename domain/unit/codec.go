package unit

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dxledger/dxledger/domain/internal/strictjson"
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
		return strictjson.Event[Event, Registered](typ, data)
	case typeRenamed:
		return strictjson.Event[Event, Renamed](typ, data)
	case typeMerged:
		return strictjson.Event[Event, Merged](typ, data)
	case typeDissolved:
		return strictjson.Event[Event, Dissolved](typ, data)
	case typeSplit:
		return strictjson.Event[Event, Split](typ, data)
	}
	return nil, fmt.Errorf("decode %q: %w", typ, ErrUnknownEventType)
}
