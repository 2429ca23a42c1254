package indicator

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dxledger/dxledger/domain/internal/strictjson"
)

// The stored event type names. They never change; a new shape gets a new version.
const (
	TypeDefined  = "indicator.defined.v1"
	TypeRevised  = "indicator.revised.v1"
	TypeBaseline = "indicator.baseline_set.v1"
	TypeTarget   = "indicator.target_set.v1"
	TypeActual   = "indicator.actual_reported.v1"
)

// ErrUnknownEventType: the type name is not one this package stores.
var ErrUnknownEventType = errors.New("unknown indicator event type")

// Encode returns e's stored type name and its JSON data.
func Encode(e Event) (typ string, data []byte, err error) {
	switch e.(type) {
	case Defined:
		typ = TypeDefined
	case Revised:
		typ = TypeRevised
	case BaselineSet:
		typ = TypeBaseline
	case TargetSet:
		typ = TypeTarget
	case ActualReported:
		typ = TypeActual
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
	case TypeDefined:
		return strictjson.Event[Event, Defined](typ, data)
	case TypeRevised:
		return strictjson.Event[Event, Revised](typ, data)
	case TypeBaseline:
		return strictjson.Event[Event, BaselineSet](typ, data)
	case TypeTarget:
		return strictjson.Event[Event, TargetSet](typ, data)
	case TypeActual:
		return strictjson.Event[Event, ActualReported](typ, data)
	}
	return nil, fmt.Errorf("decode %q: %w", typ, ErrUnknownEventType)
}
